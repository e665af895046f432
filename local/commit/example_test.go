package commit_test

import (
	"fmt"
	"os"
	"path/filepath"

	"go.etcd.io/bbolt"

	"github.com/troupehq/troupe/local/commit"
)

// Writers hand their transaction functions to one Group; whoever is
// waiting shares the next commit.
func Example() {
	dir, _ := os.MkdirTemp("", "commit")
	defer os.RemoveAll(dir)
	db, err := bbolt.Open(filepath.Join(dir, "state.db"), 0o600, nil)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	g := commit.New(db)
	defer g.Close()

	err = g.Do(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists([]byte("orders"))
		if err != nil {
			return err
		}
		return b.Put([]byte("o-1"), []byte("placed"))
	})
	fmt.Println(err, g.Stats().Jobs)
	// Output: <nil> 1
}
