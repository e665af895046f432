package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/troupehq/troupe/choreography"
	"github.com/troupehq/troupe/console"
	"github.com/troupehq/troupe/domain"
	"github.com/troupehq/troupe/local"
	"github.com/troupehq/troupe/schemas"
)

// The console is mounted in front of the engine's handler, on the same
// address: GET / and /console/ are the console's, the rest (POST / for the
// AWS SDKs included) the engine's.
func Example() {
	dir, _ := os.MkdirTemp("", "troupe-example")
	defer os.RemoveAll(dir)
	top, _ := choreography.Topology()
	eng, err := local.Open(local.Config{DataDir: dir, Topology: top, Validator: schemas.Sample()})
	if err != nil {
		log.Fatal(err)
	}
	defer eng.Close()
	if err := eng.Start(context.Background()); err != nil {
		log.Fatal(err)
	}
	c, err := console.New(console.Config{Engine: eng, Topology: top, Registry: domain.Registry(), Schemas: schemas.Sample()})
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(c.Handler(eng.Handler())) // troupe dev: http.Server{Handler: ...}
	defer srv.Close()
	defer c.Close() // or Server.RegisterOnShutdown(c.Close): it ends the live streams

	resp, err := http.Get(srv.URL + "/console/api/types")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var types console.TypesResponse
	_ = json.NewDecoder(resp.Body).Decode(&types)
	for _, t := range types.Types[:2] {
		fmt.Println(t.Type, len(t.Versions), "version(s)")
	}
	// Output:
	// inventory.StockReserved 1 version(s)
	// inventory.StockUnavailable 1 version(s)
}
