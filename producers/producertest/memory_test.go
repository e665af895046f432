package producertest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"sync"
	"testing"

	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/producers/producertest"
)

// memBus is the smallest BusSender there is: it proves the suite asks
// nothing of a backend beyond the port's contract.
type memBus struct {
	exists bool
	mu     sync.Mutex
	events []producertest.DeliveredEvent
	n      int
}

func (b *memBus) SendBatch(_ context.Context, entries []producers.BusEntry) ([]producers.EntryResult, error) {
	if !b.exists {
		return nil, fmt.Errorf("memory bus: %w", producers.ErrNotFound)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	res := make([]producers.EntryResult, len(entries))
	for i, e := range entries {
		if !json.Valid(e.Detail) {
			res[i] = producers.EntryResult{ErrorCode: "MalformedDetail", ErrorMessage: "Detail is malformed."}
			continue
		}
		b.n++
		id := "ev-" + strconv.Itoa(b.n)
		b.events = append(b.events, producertest.DeliveredEvent{
			ID: id, Source: e.Source, DetailType: e.DetailType, Detail: e.Detail,
			Time: e.Time, Resources: e.Resources, TraceHeader: e.TraceHeader,
		})
		res[i] = producers.EntryResult{ID: id}
	}
	return res, nil
}

func (b *memBus) Check(context.Context) error {
	if !b.exists {
		return fmt.Errorf("memory bus: %w", producers.ErrNotFound)
	}
	return nil
}

func TestSuiteOnMemoryBus(t *testing.T) {
	t.Parallel()
	f := producertest.Features{TraceHeader: true, Resources: true, RejectsMalformedDetail: true}
	producertest.RunBus(t, f, func(t *testing.T) producertest.BusUnderTest {
		b := &memBus{exists: true}
		return producertest.BusUnderTest{
			Sender:  b,
			Missing: &memBus{},
			Delivered: func(t *testing.T, want int) []producertest.DeliveredEvent {
				b.mu.Lock()
				defer b.mu.Unlock()
				return append([]producertest.DeliveredEvent(nil), b.events...)
			},
		}
	})
}

// memStream shards by a hash of the partition key and numbers records per
// shard, as Kinesis does.
type memStream struct {
	shards int
	mu     sync.Mutex
	recs   [][]producertest.StoredRecord
}

func (s *memStream) WriteBatch(_ context.Context, records []producers.StreamRecord) ([]producers.EntryResult, error) {
	if s.shards == 0 {
		return nil, fmt.Errorf("memory stream: %w", producers.ErrNotFound)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.recs == nil {
		s.recs = make([][]producertest.StoredRecord, s.shards)
	}
	res := make([]producers.EntryResult, len(records))
	for i, r := range records {
		h := fnv.New32a()
		h.Write([]byte(r.PartitionKey))
		sh := int(h.Sum32() % uint32(s.shards))
		st := producertest.StoredRecord{
			Shard: fmt.Sprintf("shardId-%012d", sh), SequenceNumber: strconv.Itoa(len(s.recs[sh]) + 1),
			PartitionKey: r.PartitionKey, Data: r.Data,
		}
		s.recs[sh] = append(s.recs[sh], st)
		res[i] = producers.EntryResult{ID: st.SequenceNumber, Shard: st.Shard}
	}
	return res, nil
}

func (s *memStream) Check(context.Context) error {
	if s.shards == 0 {
		return fmt.Errorf("memory stream: %w", producers.ErrNotFound)
	}
	return nil
}

func TestSuiteOnMemoryStream(t *testing.T) {
	t.Parallel()
	producertest.RunStream(t, producertest.Features{}, func(t *testing.T, shards int) producertest.StreamUnderTest {
		s := &memStream{shards: shards}
		return producertest.StreamUnderTest{
			Writer:  s,
			Missing: &memStream{},
			Read: func(t *testing.T) []producertest.StoredRecord {
				s.mu.Lock()
				defer s.mu.Unlock()
				var out []producertest.StoredRecord
				for _, sh := range s.recs {
					out = append(out, sh...)
				}
				return out
			},
		}
	})
}
