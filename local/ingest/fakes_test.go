package ingest_test

import (
	"context"
	"fmt"
	"hash/fnv"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/local/ingest"
	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/schemas"
)

// memBus is an in-memory producers.BusSender: it keeps what it takes. fail,
// when set, rejects an entry with the code it returns.
type memBus struct {
	mu      sync.Mutex
	entries []producers.BusEntry
	calls   int
	fail    func(producers.BusEntry) string
	callErr error
}

func (b *memBus) SendBatch(_ context.Context, entries []producers.BusEntry) ([]producers.EntryResult, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	if b.callErr != nil {
		return nil, b.callErr
	}
	res := make([]producers.EntryResult, len(entries))
	for i, e := range entries {
		if b.fail != nil {
			if code := b.fail(e); code != "" {
				res[i] = producers.EntryResult{ErrorCode: code, ErrorMessage: "injected " + code, Retryable: code == "ThrottlingException"}
				continue
			}
		}
		b.entries = append(b.entries, e)
		res[i] = producers.EntryResult{ID: fmt.Sprintf("ev-%d", len(b.entries))}
	}
	return res, nil
}

func (b *memBus) Check(context.Context) error { return nil }

func (b *memBus) got() []producers.BusEntry {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]producers.BusEntry(nil), b.entries...)
}

// memStream is an in-memory producers.StreamWriter of a few shards, placing
// records by a hash of their partition key and numbering them per shard.
type memStream struct {
	shards int
	mu     sync.Mutex
	recs   []producers.StreamRecord
	seq    map[int]int
	fail   func(producers.StreamRecord) string
}

func (s *memStream) WriteBatch(_ context.Context, records []producers.StreamRecord) ([]producers.EntryResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seq == nil {
		s.seq = map[int]int{}
	}
	n := max(s.shards, 1)
	res := make([]producers.EntryResult, len(records))
	for i, r := range records {
		if s.fail != nil {
			if code := s.fail(r); code != "" {
				res[i] = producers.EntryResult{ErrorCode: code, ErrorMessage: "injected " + code, Retryable: true}
				continue
			}
		}
		h := fnv.New32a()
		h.Write([]byte(r.PartitionKey))
		sh := int(h.Sum32() % uint32(n))
		s.seq[sh]++
		s.recs = append(s.recs, r)
		res[i] = producers.EntryResult{ID: strconv.Itoa(1000 + s.seq[sh]), Shard: fmt.Sprintf("shardId-%012d", sh)}
	}
	return res, nil
}

func (s *memStream) Check(context.Context) error { return nil }

func (s *memStream) got() []producers.StreamRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]producers.StreamRecord(nil), s.recs...)
}

const (
	testBus     = "troupe-dev"
	testStream  = "troupe-dev-stream"
	testAccount = "123456789012"
	testRegion  = "us-east-1"
)

type awsRig struct {
	url    string
	bus    *memBus
	stream *memStream
}

// newAWSRig starts the AWS endpoint on 127.0.0.1 over fresh fakes.
func newAWSRig(t *testing.T, tweak ...func(*ingest.AWSConfig)) *awsRig {
	t.Helper()
	rig := &awsRig{bus: &memBus{}, stream: &memStream{shards: 2}}
	cfg := ingest.AWSConfig{
		BusName: testBus, StreamName: testStream, Account: testAccount, Region: testRegion,
		Bus: rig.bus, Stream: rig.stream, Validator: schemas.Sample(),
		Shards: func() []ingest.ShardInfo {
			return []ingest.ShardInfo{
				{ID: "shardId-000000000000", StartingHashKey: "0", EndingHashKey: "170141183460469231731687303715884105727", StartingSequenceNumber: "1000"},
				{ID: "shardId-000000000001", StartingHashKey: "170141183460469231731687303715884105728", EndingHashKey: "340282366920938463463374607431768211455", StartingSequenceNumber: "1000"},
			}
		},
	}
	for _, f := range tweak {
		f(&cfg)
	}
	srv := httptest.NewServer(ingest.NewAWS(cfg)) // httptest listens on 127.0.0.1
	t.Cleanup(srv.Close)
	rig.url = srv.URL
	return rig
}

// cancelled is a valid orders.OrderCancelled v1 envelope.
func cancelled(id string) string {
	return envelope(id, "orders.OrderCancelled", `{"orderId":"ord-`+id+`","reason":"out of stock"}`)
}

// badCancelled is an orders.OrderCancelled v1 envelope whose data breaks the
// schema at /reason.
func badCancelled(id string) string {
	return envelope(id, "orders.OrderCancelled", `{"orderId":"ord-`+id+`","reason":""}`)
}

func mustDecode(t *testing.T, raw string) events.Envelope {
	t.Helper()
	e, err := events.Decode([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func envelope(id, typ, data string) string {
	return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"test.ingest","type":%q,"time":"2025-03-14T09:26:53Z",`+
		`"subject":"ord-%s","datacontenttype":"application/json","dataversion":1,"data":%s}`, id, typ, id, data)
}
