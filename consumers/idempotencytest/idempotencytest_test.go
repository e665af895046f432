package idempotencytest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/consumers/idempotencytest"
)

// memStore is the smallest store that passes the suite: the port's
// semantics over a map, at DynamoDB's precision. It checks the suite itself.
type memStore struct {
	mu   sync.Mutex
	recs map[string]consumers.IdempotencyRecord
}

func (m *memStore) Acquire(ctx context.Context, rec consumers.IdempotencyRecord, now time.Time) (consumers.IdempotencyRecord, bool, error) {
	if err := ctx.Err(); err != nil {
		return consumers.IdempotencyRecord{}, false, err
	}
	if rec.Key == "" || rec.Expiry.IsZero() || rec.InProgressExpiry.IsZero() ||
		rec.Status != "" && rec.Status != consumers.InProgress || len(rec.Result) > 0 && !json.Valid(rec.Result) {
		return consumers.IdempotencyRecord{}, false, fmt.Errorf("invalid record %+v", rec)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if old, ok := m.recs[rec.Key]; ok {
		expired := old.Expiry.Unix() <= now.Unix()
		lockLost := old.Status == consumers.InProgress && old.InProgressExpiry.UnixMilli() <= now.UnixMilli()
		if !expired && !lockLost {
			return old, false, nil
		}
	}
	rec.Status = consumers.InProgress
	rec.Expiry = time.Unix(rec.Expiry.Unix(), 0)
	rec.InProgressExpiry = time.UnixMilli(rec.InProgressExpiry.UnixMilli())
	m.recs[rec.Key] = rec
	return consumers.IdempotencyRecord{}, true, nil
}

func (m *memStore) Complete(ctx context.Context, key string, expiry time.Time, result json.RawMessage) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if expiry.IsZero() || len(result) > 0 && !json.Valid(result) {
		return errors.New("invalid completion")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, ok := m.recs[key]
	if !ok || rec.Status != consumers.InProgress {
		return errors.New("not held")
	}
	rec.Status, rec.Expiry, rec.Result = consumers.Completed, time.Unix(expiry.Unix(), 0), result
	m.recs[key] = rec
	return nil
}

func (m *memStore) Release(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.recs, key)
	return nil
}

func TestSuiteOnMemStore(t *testing.T) {
	t.Parallel()
	idempotencytest.Run(t, func(*testing.T) consumers.IdempotencyStore {
		return &memStore{recs: map[string]consumers.IdempotencyRecord{}}
	})
}
