package idempotency_test

import (
	"context"
	"encoding/json"
	"log"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/troupehq/troupe/aws/idempotency"
	"github.com/troupehq/troupe/consumers"
)

func ExampleNewFromConfig() {
	ctx := context.Background()
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		log.Fatal(err)
	}
	// Powertools' attribute names unless set: id, status, expiration (the
	// table's TTL), in_progress_expiration, validation, data.
	store, err := idempotency.NewFromConfig(awsCfg, idempotency.Config{TableName: "troupe-idempotency"})
	if err != nil {
		log.Fatal(err)
	}
	now := time.Now()
	existing, acquired, err := store.Acquire(ctx, consumers.IdempotencyRecord{
		Key:              "billing#0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
		PayloadHash:      "sha256:…",
		Expiry:           now.Add(time.Hour),
		InProgressExpiry: now.Add(30 * time.Second), // the Lambda's deadline
	}, now)
	switch {
	case err != nil:
		log.Fatal(err) // the store could not answer: do not treat the event as handled
	case !acquired:
		log.Printf("duplicate: %s since %v", existing.Status, existing.Expiry.Add(-time.Hour))
		return
	}
	// ... handle the event, then:
	if err := store.Complete(ctx, "billing#0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", now.Add(time.Hour), json.RawMessage(`{"invoice":"i-1"}`)); err != nil {
		log.Fatal(err)
	}
}
