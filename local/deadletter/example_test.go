package deadletter_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/local/deadletter"
)

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "troupe-example")
	defer os.RemoveAll(dir)
	db, err := bbolt.Open(filepath.Join(dir, "troupe.db"), 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	dlq, err := deadletter.New(db, "deadletters")
	if err != nil {
		log.Fatal(err)
	}

	// The runtime parks what a consumer failed...
	for _, consumer := range []string{"billing", "billing", "shipping"} {
		err := dlq.Send(ctx, consumers.DeadLetter{Raw: []byte("not json"), Consumer: consumer,
			Reason: "decode", Error: "invalid character 'o'", Origin: consumers.Origin{Source: "stream"}})
		if err != nil {
			log.Fatal(err)
		}
	}
	// ...and `troupe dlq` lists, reads, replays and deletes.
	depths, _ := dlq.Consumers(ctx)
	for _, d := range depths {
		fmt.Printf("%s: %d\n", d.Consumer, d.Count)
	}
	msgs, _ := dlq.List(ctx, "billing", 0, 10)
	for _, m := range msgs {
		fmt.Printf("#%d %s: %q\n", m.ID, m.DeadLetter.Reason, m.DeadLetter.Raw)
		// (replay m.DeadLetter to its consumer here; then:)
		if err := dlq.Delete(ctx, "billing", m.ID); err != nil {
			log.Fatal(err)
		}
	}
	n, _ := dlq.Len(ctx, "billing")
	fmt.Println("billing left:", n)
	// Output:
	// billing: 2
	// shipping: 1
	// #1 decode: "not json"
	// #2 decode: "not json"
	// billing left: 0
}
