package stream_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/local/stream"
	"github.com/troupehq/troupe/producers"
)

// A producer writes, a consumer reads one shard from its checkpoint, waits
// for more, and checkpoints what it has processed.
func Example() {
	dir, _ := os.MkdirTemp("", "troupe")
	defer os.RemoveAll(dir)
	db, err := bbolt.Open(filepath.Join(dir, "troupe.db"), 0o600, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	s, err := stream.Open(db, "orders", stream.Config{Shards: 2})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// The Publisher sees a producers.StreamWriter.
	var w producers.StreamWriter = s
	res, err := w.WriteBatch(ctx, []producers.StreamRecord{
		{PartitionKey: "order-1", Data: []byte(`{"n":1}`)},
		{PartitionKey: "order-1", Data: []byte(`{"n":2}`)},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res[0].Shard, res[0].ID, res[1].ID)

	// One reader per shard, per consumer.
	shard := res[0].Shard
	after, _ := s.Checkpoint("billing", shard) // "": from TRIM_HORIZON
	if err := s.Wait(ctx, shard, after); err != nil {
		log.Fatal(err)
	}
	got, err := s.Read(ctx, shard, after, 100)
	if err != nil {
		log.Fatal(err)
	}
	if got.Trimmed {
		log.Printf("records after %s passed retention unread", after)
	}
	for _, r := range got.Records {
		fmt.Println(r.PartitionKey, string(r.Data))
		if err := s.SetCheckpoint("billing", shard, r.SequenceNumber); err != nil {
			log.Fatal(err)
		}
	}
	cp, _ := s.Checkpoint("billing", shard)
	fmt.Println("checkpoint", cp)
	// Output:
	// shardId-000000000000 00000000000000000001 00000000000000000002
	// order-1 {"n":1}
	// order-1 {"n":2}
	// checkpoint 00000000000000000002
}
