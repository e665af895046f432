package local

import (
	"encoding/json"
	"net/http"

	"github.com/troupehq/troupe/local/ingest"
)

// Paths of the engine's HTTP endpoints. The AWS-compatible endpoint is the
// root: SDKs and the AWS CLI post to "/" with an X-Amz-Target header.
const (
	PathCloudEvents = "/cloudevents"
	PathStatus      = "/status"
	PathTrace       = "/trace/"
)

// Handler serves the engine's endpoints on one address: AWS-compatible
// PutEvents / PutRecord / PutRecords (and the describe calls SDKs check with)
// at "/", CloudEvents over HTTP at /cloudevents, and the status at /status.
func (e *Engine) Handler() http.Handler {
	aws := ingest.NewAWS(ingest.AWSConfig{
		BusName: e.bus.Name(), StreamName: e.stream.Name(),
		Bus: e.busLeg, Stream: e.streamLeg, Validator: e.cfg.Validator,
		Shards: func() []ingest.ShardInfo {
			var out []ingest.ShardInfo
			for _, s := range e.stream.Shards() {
				out = append(out, ingest.ShardInfo{ID: s.ID, StartingHashKey: s.StartingHashKey, EndingHashKey: s.EndingHashKey})
			}
			return out
		},
	})
	mux := http.NewServeMux()
	mux.Handle(PathCloudEvents, ingest.NewCloudEvents(ingest.CloudEventsConfig{Publisher: e.pub, Validator: e.cfg.Validator}))
	mux.HandleFunc("GET "+PathStatus, func(w http.ResponseWriter, r *http.Request) {
		st, err := e.Status(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(st)
	})
	mux.HandleFunc("GET "+PathTrace+"{id}", func(w http.ResponseWriter, r *http.Request) {
		tr, err := e.Trace(r.Context(), r.PathValue("id"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(tr)
	})
	e.dlqRoutes(mux)
	mux.Handle("/", aws)
	return mux
}
