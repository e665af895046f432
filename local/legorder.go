package local

import (
	"context"
	"sync"

	"github.com/troupehq/troupe/local/stream"
	"github.com/troupehq/troupe/producers"
)

// The bus hands an event to its consumers as soon as its append is queued
// for commit (bus.Config.Enqueue). A consumer's reaction to an event could
// then reach the stream before the event itself, if the event's stream leg,
// sent beside its bus leg, were queued after the reaction's: the timeline
// would read an effect before its cause. So the engine's publisher sends an
// event's bus leg only once its stream leg is queued (legOrder): a cause's
// stream record is always queued, hence committed, before its effects'.

// legOrder is one Publish's ordering of its two legs.
type legOrder struct {
	once   sync.Once
	queued chan struct{} // closed once the stream leg is queued (or over)
}

type legOrderKey struct{}

// withLegOrder returns ctx for one Publish whose bus leg waits for its
// stream leg (orderedBus, orderedStream).
func withLegOrder(ctx context.Context) context.Context {
	o := &legOrder{queued: make(chan struct{})}
	ctx = context.WithValue(ctx, legOrderKey{}, o)
	return stream.WithQueued(ctx, o.release)
}

func (o *legOrder) release() { o.once.Do(func() { close(o.queued) }) }

// orderedStream is the stream as the engine's publisher sees it: when its
// call returns, queued or not (a batch the stream refused), the bus leg may
// go.
type orderedStream struct{ *stream.Stream }

func (s orderedStream) WriteBatch(ctx context.Context, recs []producers.StreamRecord) ([]producers.EntryResult, error) {
	if o, ok := ctx.Value(legOrderKey{}).(*legOrder); ok {
		defer o.release()
	}
	return s.Stream.WriteBatch(ctx, recs)
}

// orderedBus is the bus as the engine's publisher sees it: a Publish's bus
// leg waits until its stream leg is queued. A Publish of more than one
// stream batch (over 500 events) orders its first batch only.
type orderedBus struct{ producers.BusSender }

func (b orderedBus) SendBatch(ctx context.Context, entries []producers.BusEntry) ([]producers.EntryResult, error) {
	if o, ok := ctx.Value(legOrderKey{}).(*legOrder); ok {
		select {
		case <-o.queued:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return b.BusSender.SendBatch(ctx, entries)
}
