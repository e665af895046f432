package dlq

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/troupehq/troupe/events"
)

// Line is one message of an export file (JSON Lines): the message as its
// queue held it (Body, Attributes), and what troupe read from it. To fix an
// event before replaying it, edit Event: a replay from the file sends the
// edited Event, and keeps what the Body says of the consumer and the origin.
type Line struct {
	Queue      string            `json:"queue"`
	ID         string            `json:"id"`
	SentAt     time.Time         `json:"sentAt,omitzero"`
	Shape      Shape             `json:"shape"`
	Consumer   string            `json:"consumer,omitempty"`
	Error      string            `json:"error,omitempty"`
	Event      *events.Envelope  `json:"event,omitempty"`
	Body       string            `json:"body"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// LineOf is the export line of a readable entry.
func LineOf(e Entry) Line {
	return Line{
		Queue: e.Queue, ID: e.ID, SentAt: e.SentAt, Shape: e.Message.Shape, Consumer: e.Message.Consumer,
		Error: e.Message.Error, Event: e.Message.Event, Body: e.Body, Attributes: e.Attributes,
	}
}

// Entry reads the line back: the Body decoded, with Event (perhaps edited)
// in place of the Body's envelope.
func (l Line) Entry() Entry {
	e := Entry{Queue: l.Queue, ID: l.ID, SentAt: l.SentAt, Body: l.Body, Attributes: l.Attributes}
	e.Message, e.Err = Decode(l.Body, l.Attributes)
	if e.Err == nil && l.Event != nil {
		e.Message.Event = l.Event
		e.Message.Raw = nil
	}
	return e
}

// ReadLines reads an export file. A line that is not a Line is an error
// naming its number: nothing is replayed from a file that cannot be read
// whole.
func ReadLines(r io.Reader) ([]Entry, error) {
	var out []Entry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var l Line
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return nil, fmt.Errorf("line %d: %w (each line is one JSON object as `troupe dlq export` writes it)", n, err)
		}
		out = append(out, l.Entry())
	}
	return out, sc.Err()
}

// ExportConfig says what to export.
type ExportConfig struct {
	Queue  Queue
	Select Selector
	Limit  int
	// Write takes the selected messages' lines; it must have them on disk
	// (synced) when it returns nil, since Drain deletes them next.
	Write func([]Line) error
	// Drain deletes the exported messages from the queue once Write
	// returned nil.
	Drain bool
	// OnResult is told each unreadable message (left in the queue).
	OnResult func(Result)
}

// Export writes the selected messages to Write, then, with Drain, deletes
// them. Unreadable messages are reported and stay in the queue.
func Export(ctx context.Context, cfg ExportConfig) (Summary, error) {
	var sum Summary
	p := newPass(cfg.Queue, DefaultBatch)
	var picked []Entry
	var lines []Line
	err := func() error {
		for cfg.Limit == 0 || len(picked) < cfg.Limit {
			got, err := p.next(ctx)
			if err != nil || len(got) == 0 {
				return err
			}
			for _, e := range got {
				sum.Seen++
				sel := selects(cfg.Select, &e)
				switch {
				case e.Err != nil:
					sum.Unreadable++
					if cfg.OnResult != nil {
						cfg.OnResult(Result{Entry: e, Action: Unreadable, Err: e.Err})
					}
				case sel && (cfg.Limit == 0 || len(picked) < cfg.Limit):
					picked = append(picked, e)
					lines = append(lines, LineOf(e))
				}
			}
		}
		return nil
	}()
	if err == nil {
		sum.Selected = len(picked)
		err = cfg.Write(lines)
	}
	if err == nil && cfg.Drain && len(picked) > 0 {
		failed := deleteAcked(ctx, p, picked)
		sum.Deleted = len(picked) - len(failed)
		sum.Failed = len(failed)
		for id, ferr := range failed {
			err = errors.Join(err, fmt.Errorf("message %s exported but not deleted: %w", id, ferr))
		}
	}
	return sum, errors.Join(err, p.release(ctx))
}

// PurgeConfig says what to purge.
type PurgeConfig struct {
	Queue    Queue
	Select   Selector
	Limit    int
	DryRun   bool
	OnResult func(Result)
}

// Purge deletes the selected messages for good (a dry run only reports
// them). Unreadable messages are reported and kept: purge them with the
// queue's own tools once you have looked at them.
func Purge(ctx context.Context, cfg PurgeConfig) (Summary, error) {
	var sum Summary
	report := cfg.OnResult
	if report == nil {
		report = func(Result) {}
	}
	p := newPass(cfg.Queue, DefaultBatch)
	err := func() error {
		for cfg.Limit == 0 || sum.Selected < cfg.Limit {
			got, err := p.next(ctx)
			if err != nil || len(got) == 0 {
				return err
			}
			var del []Entry
			for _, e := range got {
				sum.Seen++
				sel := selects(cfg.Select, &e)
				switch {
				case e.Err != nil:
					sum.Unreadable++
					report(Result{Entry: e, Action: Unreadable, Err: e.Err})
				case !sel || (cfg.Limit > 0 && sum.Selected >= cfg.Limit):
				case cfg.DryRun:
					sum.Selected++
					report(Result{Entry: e, Action: WouldPurge})
				default:
					sum.Selected++
					del = append(del, e)
				}
			}
			failed := deleteAcked(ctx, p, del)
			for _, e := range del {
				if ferr := failed[e.ID]; ferr != nil {
					sum.Failed++
					report(Result{Entry: e, Action: Failed, Err: ferr})
					continue
				}
				sum.Purged++
				sum.Deleted++
				report(Result{Entry: e, Action: Purged, Deleted: true})
			}
		}
		return nil
	}()
	return sum, errors.Join(err, p.release(ctx))
}
