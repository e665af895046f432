package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/troupehq/troupe/dlq"
	"github.com/troupehq/troupe/local"
)

// consumerStatus returns one consumer's status in troupe dev.
func (d *devProcess) consumerStatus(t *testing.T, name string) local.ConsumerStatus {
	t.Helper()
	st, err := d.status()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range st.Consumers {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no consumer %s in %+v", name, st.Consumers)
	return local.ConsumerStatus{}
}

// waitStatus polls until cond holds for the consumer's status.
func (d *devProcess) waitStatus(t *testing.T, name, what string, cond func(local.ConsumerStatus) bool) local.ConsumerStatus {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c := d.consumerStatus(t, name)
		if cond(c) {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("consumer %s: waited 20s for %s: %+v", name, what, c)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDLQOnDev drives `troupe dlq` against a running troupe dev as a user
// would: a poison event in inventory's DLQ is listed and shown; a dry run
// touches nothing; a replay of the unchanged event fails, says why and
// keeps it; export --drain moves it to a file; the event fixed in the file
// is replayed to inventory alone, which handles it; replaying the file again
// has no second effect. A poison stream record goes the same way to the
// stream consumer.
func TestDLQOnDev(t *testing.T) {
	t.Parallel()
	d := startDev(t, freeAddr(t), t.TempDir())
	dev := []string{"--local", "--dev-addr", d.addr}
	cli := func(args ...string) run { t.Helper(); return troupe(t, nil, append(args, dev...)...) }

	awsCLI(t, d.addr, "events", "put-events", "--entries",
		`[{"Source":"legacy.billing","DetailType":"payments.PaymentAuthorized","Detail":"{\"orderId\":\"o-poison\"}"}]`)
	d.waitStatus(t, "inventory", "a dead letter", func(c local.ConsumerStatus) bool { return c.DLQ == 1 })

	r := cli("dlq", "ls")
	if r.code != 0 || !regexpLine(r.stdout, `inventory\s+1\s+\S+s\s+local:inventory`) || !regexpLine(r.stdout, `payments\s+0\s+-`) {
		t.Fatalf("dlq ls: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	r = cli("dlq", "show", "--output", "json")
	var row showRow
	if err := json.Unmarshal([]byte(r.stdout), &row); r.code != 0 || err != nil {
		t.Fatalf("dlq show --output json: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if row.Consumer != "inventory" || row.Type != "payments.PaymentAuthorized" || row.Shape != dlq.ShapeTroupe ||
		!strings.Contains(row.Error, "paymentId") || row.Attempts < 1 || row.LastFailure.IsZero() {
		t.Errorf("dlq show: %+v", row)
	}
	if r := cli("dlq", "show", "--consumer", "payments"); r.code != 0 || strings.Contains(r.stdout, "o-poison") {
		t.Errorf("dlq show --consumer payments: exit %d\n%s", r.code, r.stdout)
	}
	if r := cli("dlq", "show", "--consumer", "nobody"); r.code == 0 || !strings.Contains(r.stderr, "inventory") {
		t.Errorf("dlq show --consumer nobody: exit %d, want an error listing the consumers\n%s", r.code, r.stderr)
	}

	before := d.consumerStatus(t, "inventory")
	if r := cli("dlq", "replay", "--dry-run"); r.code != 0 || !strings.Contains(r.stdout, "would-replay") {
		t.Fatalf("dlq replay --dry-run: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = cli("dlq", "replay", "--output", "json")
	var res resultLine
	if err := json.Unmarshal([]byte(r.stdout), &res); r.code != 1 || err != nil || res.Action != dlq.Failed || !strings.Contains(res.Error, "paymentId") || res.Deleted {
		t.Fatalf("replay of the invalid event: exit %d (want 1), %+v\n%s%s", r.code, res, r.stdout, r.stderr)
	}
	if c := d.consumerStatus(t, "inventory"); c.DLQ != 1 || c.Handled != before.Handled {
		t.Fatalf("after the dry run and the failed replay: %+v, want the message kept and nothing handled", c)
	}

	file := filepath.Join(t.TempDir(), "dead.jsonl")
	if r := cli("dlq", "export", file, "--drain"); r.code != 0 || !strings.Contains(r.stdout, "exported 1 messages") {
		t.Fatalf("dlq export --drain: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	d.waitStatus(t, "inventory", "an empty DLQ", func(c local.ConsumerStatus) bool { return c.DLQ == 0 })
	if r := cli("dlq", "export", file); r.code == 0 {
		t.Error("export over an existing file succeeded")
	}

	// Fix the event in the file, as a user would in an editor.
	fixed := editExport(t, file, func(l *dlq.Line) {
		l.Event.Data = json.RawMessage(`{"orderId":"o-poison","paymentId":"pay_1","amount":{"amountCents":100,"currency":"EUR"}}`)
	})
	payments := d.consumerStatus(t, "payments")
	r = cli("dlq", "replay", "--from-file", fixed)
	if r.code != 0 || !strings.Contains(r.stdout, "replayed") {
		t.Fatalf("replay --from-file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	c := d.waitStatus(t, "inventory", "the fixed event handled", func(c local.ConsumerStatus) bool { return c.Handled == before.Handled+1 })
	if c.DLQ != 0 {
		t.Errorf("inventory dead-lettered the fixed event again: %+v", c)
	}

	// Again: idempotency keeps it single.
	if r := cli("dlq", "replay", "--from-file", fixed); r.code != 0 {
		t.Fatalf("second replay --from-file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	d.waitStatus(t, "inventory", "the second replay skipped as a duplicate", func(c local.ConsumerStatus) bool { return c.Duplicates >= before.Duplicates+1 })
	if c := d.consumerStatus(t, "inventory"); c.Handled != before.Handled+1 {
		t.Errorf("the second replay ran the handler again: %+v", c)
	}
	if p := d.consumerStatus(t, "payments"); p.Delivered != payments.Delivered {
		t.Errorf("payments got the replays meant for inventory: delivered %d, was %d", p.Delivered, payments.Delivered)
	}

	// A stream record that is no event lands in the stream consumer's DLQ;
	// it cannot be replayed as it is, and fixed in a file it can.
	awsCLI(t, d.addr, "kinesis", "put-record", "--stream-name", d.streamName(t), "--partition-key", "o-7",
		"--data", "not an event") // AWS CLI v1 sends a blob argument as it is
	if c := d.waitStatus(t, "timeline", "a dead letter", func(c local.ConsumerStatus) bool { return c.DLQ == 1 }); c.DeadLettered != 1 || c.Delivered < 1 {
		t.Errorf("timeline's status counts no delivery or no dead letter: %+v", c)
	}
	if r := cli("dlq", "replay", "--consumer", "timeline"); r.code != 1 || !strings.Contains(r.stdout, "holds no event") {
		t.Fatalf("replay of a raw record: exit %d (want 1)\n%s%s", r.code, r.stdout, r.stderr)
	}
	file2 := filepath.Join(t.TempDir(), "raw.jsonl")
	if r := cli("dlq", "export", file2, "--consumer", "timeline"); r.code != 0 {
		t.Fatalf("export: %s%s", r.stdout, r.stderr)
	}
	sample, err := os.ReadFile(filepath.Join("..", "..", sampleOrder))
	if err != nil {
		t.Fatal(err)
	}
	fixed2 := editExport(t, file2, func(l *dlq.Line) {
		if err := json.Unmarshal(sample, &l.Event); err != nil {
			t.Fatal(err)
		}
	})
	timeline := d.consumerStatus(t, "timeline")
	if r := cli("dlq", "replay", "--from-file", fixed2); r.code != 0 {
		t.Fatalf("replay of the fixed record: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if c := d.waitStatus(t, "timeline", "the fixed record handled", func(c local.ConsumerStatus) bool {
		return c.Handled+c.Duplicates > timeline.Handled+timeline.Duplicates
	}); c.Delivered <= timeline.Delivered {
		t.Errorf("timeline's status: delivered %d, was %d before the replay", c.Delivered, timeline.Delivered)
	}
	if r := cli("dlq", "purge", "--consumer", "timeline"); r.code == 0 {
		t.Error("purge without --yes and without a terminal went ahead")
	}
	if r := cli("dlq", "purge", "--consumer", "timeline", "--yes"); r.code != 0 || !strings.Contains(r.stderr, "purged 1 of 1") {
		t.Fatalf("purge --yes: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	d.waitStatus(t, "timeline", "an empty DLQ", func(c local.ConsumerStatus) bool { return c.DLQ == 0 })
}

// editExport rewrites each line of an export file with edit, into a new
// file.
func editExport(t *testing.T, path string, edit func(*dlq.Line)) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, raw := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		var l dlq.Line
		if err := json.Unmarshal(raw, &l); err != nil {
			t.Fatalf("export line %s: %v", raw, err)
		}
		edit(&l)
		if err := json.NewEncoder(&out).Encode(l); err != nil {
			t.Fatal(err)
		}
	}
	fixed := path + ".fixed"
	if err := os.WriteFile(fixed, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return fixed
}

func (d *devProcess) streamName(t *testing.T) string {
	t.Helper()
	st, err := d.status()
	if err != nil {
		t.Fatal(err)
	}
	return st.Stream
}

// regexpLine reports whether a line of out matches expr.
func regexpLine(out, expr string) bool {
	re := regexp.MustCompile(expr)
	for _, l := range strings.Split(out, "\n") {
		if re.MatchString(l) {
			return true
		}
	}
	return false
}
