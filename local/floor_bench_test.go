package local_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/google/uuid"
	"go.etcd.io/bbolt"

	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/internal/benchload"
	"github.com/troupehq/troupe/schemas"
)

// BenchmarkChainFloor is the peer that bounds BenchmarkEndToEnd from below:
// the JSON and schema work that one published order's happy-path chain
// needs in any design that checks every event against its schema and hands
// handlers typed data, done once each, on one goroutine, with no storage,
// no HTTP, no scheduling and no trace:
//
//   - ingest: decode the PutEvents entry and its Detail (the envelope), and
//     validate the OrderPlaced;
//   - payments, inventory, shipping: decode the trigger's data into the
//     handler's type, and make, encode and validate the event it emits
//     (PaymentAuthorized, StockReserved, ShipmentScheduled).
//
// The timeline reads each record's data as raw JSON, so it adds no decode
// here. Each op is one chain; the payloads are distinct (three times the
// validator's cache of valid payloads), as they are in BenchmarkEndToEnd.
// ceiling-events/s is GOMAXPROCS divided by the time per chain: the most
// chains per second this work alone would allow on this machine.
//
//	go test -run '^$' -bench ChainFloor -benchmem ./local/
func BenchmarkChainFloor(b *testing.B) {
	const distinct = 3 * 4096
	entries, _ := benchload.PlacedEntries(b, distinct, "")
	bodies := make([][]byte, len(entries))
	for i, e := range entries {
		body, err := json.Marshal(map[string][]ebtypes.PutEventsRequestEntry{"Entries": {e}})
		if err != nil {
			b.Fatal(err)
		}
		bodies[i] = body
	}
	set := schemas.Sample()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := chainWork(set, bodies[i%len(bodies)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	perChain := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(runtime.GOMAXPROCS(0))/perChain, "ceiling-events/s")
}

// putEventsRequest is the part of a PutEvents request body the ingest reads.
type putEventsRequest struct {
	Entries []struct {
		Source, DetailType, Detail, EventBusName string
	}
}

// chainWork does one chain's codec and schema work (see BenchmarkChainFloor).
func chainWork(set *schemas.Set, body []byte) error {
	var req putEventsRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return err
	}
	placed, err := events.Decode([]byte(req.Entries[0].Detail))
	if err != nil {
		return err
	}
	if err := set.Validate(placed); err != nil {
		return err
	}
	order, err := domain.OrderPlacedDef.Decode(placed)
	if err != nil {
		return err
	}
	authorized, err := emitFloor(set, placed, domain.PaymentAuthorizedDef, domain.PaymentAuthorized{
		OrderID: order.OrderID, PaymentID: "pay_" + order.OrderID, Amount: order.Total,
	})
	if err != nil {
		return err
	}
	payment, err := domain.PaymentAuthorizedDef.Decode(authorized)
	if err != nil {
		return err
	}
	reserved, err := emitFloor(set, authorized, domain.StockReservedDef, domain.StockReserved{
		OrderID: payment.OrderID, ReservationID: "res_" + payment.OrderID,
		Items: []domain.Item{{SKU: "SKU-" + payment.OrderID, Quantity: 1}},
	})
	if err != nil {
		return err
	}
	reservation, err := domain.StockReservedDef.Decode(reserved)
	if err != nil {
		return err
	}
	_, err = emitFloor(set, reserved, domain.ShipmentScheduledDef, domain.ShipmentScheduled{
		OrderID: reservation.OrderID, ShipmentID: "shp_" + reservation.OrderID, Carrier: "UPS",
		ScheduledFor: reserved.Time,
	})
	return err
}

// emitFloor makes the follow-up event of trigger, encodes it for the log,
// and validates it.
func emitFloor[T any](set *schemas.Set, trigger events.Envelope, def events.Def[T], data T) (events.Envelope, error) {
	e, err := def.New(data, events.CausedBy(trigger), events.WithSubject(trigger.Subject))
	if err != nil {
		return e, err
	}
	if _, err := events.Encode(e); err != nil {
		return e, err
	}
	return e, set.Validate(e)
}

// BenchmarkChainFloorStorage is the storage half of the floor: the bbolt
// writes one chain needs at the least, with every commit synced as troupe
// dev syncs its acknowledgements, and many chains per commit (100, about
// what troupe dev's commits carry under load, and 1,000): the four events
// appended to the bus log and three of them to the stream (sequential keys,
// their encoded size), and six idempotency records (keyed by consumer and
// UUIDv7 event id, as troupe dev keys them). No reads, no progress, no trace. cpu-us/chain, added to
// BenchmarkChainFloor's time per chain, bounds the CPU a chain costs;
// writer-ceiling-events/s is the most chains per second bbolt's one writer
// could store this way.
//
//	go test -run '^$' -bench ChainFloorStorage ./local/
func BenchmarkChainFloorStorage(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("chains-per-commit=%d", n), func(b *testing.B) { storeChains(b, n) })
	}
}

func storeChains(b *testing.B, chainsPerCommit int) {
	db, err := bbolt.Open(filepath.Join(b.TempDir(), "floor.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	event := bytes.Repeat([]byte("e"), 600)
	record := bytes.Repeat([]byte("r"), 150)
	put := func(bk *bbolt.Bucket, key, v []byte) {
		if err := bk.Put(key, v); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	cpu0 := cpuTime(b)
	for n := 0; n < b.N; n += chainsPerCommit {
		err := db.Update(func(tx *bbolt.Tx) error {
			busLog, _ := tx.CreateBucketIfNotExists([]byte("bus"))
			stream, _ := tx.CreateBucketIfNotExists([]byte("stream"))
			idem, _ := tx.CreateBucketIfNotExists([]byte("idempotency"))
			for range min(chainsPerCommit, b.N-n) {
				for range 4 {
					seq, _ := busLog.NextSequence()
					put(busLog, seqKey(seq), event)
				}
				for range 3 {
					seq, _ := stream.NextSequence()
					put(stream, seqKey(seq), event)
				}
				id := uuid.Must(uuid.NewV7()).String() // event ids are UUIDv7: keys in time order
				for _, consumer := range []string{"payments", "inventory", "shipping", "timeline#1", "timeline#2", "timeline#3"} {
					put(idem, []byte(consumer+"#"+id), record)
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime(b)-cpu0)/float64(b.N)/1e3, "cpu-us/chain")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "writer-ceiling-events/s")
}

func seqKey(seq uint64) []byte {
	return binary.BigEndian.AppendUint64(nil, seq)
}
