package idempotency_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	smithy "github.com/aws/smithy-go"

	"github.com/troupehq/troupe/aws/idempotency"
	"github.com/troupehq/troupe/consumers"
	"github.com/troupehq/troupe/consumers/idempotencytest"
	"github.com/troupehq/troupe/internal/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// counter is an http.RoundTripper that counts DynamoDB calls by X-Amz-Target.
type counter struct {
	next http.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

func newCounter() *counter { return &counter{next: http.DefaultTransport, n: map[string]int{}} }

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n[req.Header.Get("X-Amz-Target")]++
	c.mu.Unlock()
	return c.next.RoundTrip(req)
}

// take returns the counts since the last take and resets them.
func (c *counter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

func total(n map[string]int) int {
	t := 0
	for _, v := range n {
		t += v
	}
	return t
}

// newStore returns a Store on table whose client sends through rt (the
// default transport when nil).
func newStore(t testing.TB, cfg aws.Config, table string, rt http.RoundTripper, optFns ...func(*dynamodb.Options)) *idempotency.Store {
	t.Helper()
	if rt != nil {
		optFns = append([]func(*dynamodb.Options){func(o *dynamodb.Options) { o.HTTPClient = &http.Client{Transport: rt} }}, optFns...)
	}
	s, err := idempotency.NewFromConfig(cfg, idempotency.Config{TableName: table}, optFns...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// serial is an http.RoundTripper that sends one request at a time. moto
// (5.2.1) is not atomic where DynamoDB is: its threaded server checks a
// ConditionExpression and then writes the item with no lock held between the
// two (moto/dynamodb/models/table.py put_item), so two concurrent conditional
// PutItems of one key can both succeed (seen about once in 40 runs of
// AcquireConcurrent). DynamoDB serialises writes to one item; serial stands
// in for that, so the suite tests the adapter's condition, not moto's races.
type serial struct {
	mu   sync.Mutex
	next http.RoundTripper
}

func (s *serial) RoundTrip(req *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// moto answers after the write, so the write is done when the headers
	// are back.
	return s.next.RoundTrip(req)
}

func TestConformance(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	table := awstest.NewTable(t, cfg)
	store := newStore(t, cfg, table, &serial{next: http.DefaultTransport})
	idempotencytest.Run(t, func(*testing.T) consumers.IdempotencyStore { return store })
}

func rec(key string, now time.Time) consumers.IdempotencyRecord {
	return consumers.IdempotencyRecord{
		Key: key, PayloadHash: "h1", Status: consumers.InProgress,
		Expiry: now.Add(time.Hour), InProgressExpiry: now.Add(30 * time.Second),
	}
}

// TestCallsPerOperation: every operation is one DynamoDB call; a duplicate
// is answered by the failed PutItem alone, with no GetItem.
func TestCallsPerOperation(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	table := awstest.NewTable(t, cfg)
	cnt := newCounter()
	s := newStore(t, cfg, table, cnt)
	ctx := t.Context()
	now := time.Now()
	key := "calls#" + awstest.Name(t, "k")

	check := func(op, target string) {
		t.Helper()
		n := cnt.take()
		if n[target] != 1 || total(n) != 1 {
			t.Errorf("%s: calls %v, want exactly one %s", op, n, target)
		}
	}
	if _, ok, err := s.Acquire(ctx, rec(key, now), now); err != nil || !ok {
		t.Fatalf("Acquire new: %v %v", ok, err)
	}
	check("Acquire of a new key", awstest.TargetPutItem)

	existing, ok, err := s.Acquire(ctx, rec(key, now), now)
	if err != nil || ok || existing.Status != consumers.InProgress {
		t.Fatalf("Acquire duplicate: %+v %v %v", existing, ok, err)
	}
	check("Acquire of a held key", awstest.TargetPutItem)

	if err := s.Complete(ctx, key, now.Add(time.Hour), json.RawMessage(`{}`)); err != nil {
		t.Fatal(err)
	}
	check("Complete", awstest.TargetUpdateItem)

	if _, ok, err := s.Acquire(ctx, rec(key, now), now); err != nil || ok {
		t.Fatalf("Acquire completed: %v %v", ok, err)
	}
	check("Acquire of a completed key", awstest.TargetPutItem)

	// The old item comes back with the failed condition (ALL_OLD), so the
	// error can say why, with no second read.
	if err := s.Complete(ctx, key, now.Add(time.Hour), nil); err == nil || !strings.Contains(err.Error(), "the record is COMPLETED") {
		t.Fatalf("second Complete: %v, want an error saying the record is COMPLETED", err)
	}
	check("Complete of a completed key", awstest.TargetUpdateItem)
	if err := s.Complete(ctx, key+"-never", now.Add(time.Hour), nil); err == nil || !strings.Contains(err.Error(), "no record") {
		t.Fatalf("Complete of a key never acquired: %v, want an error saying there is no record", err)
	}
	check("Complete of an absent key", awstest.TargetUpdateItem)

	if err := s.Release(ctx, key); err != nil {
		t.Fatal(err)
	}
	check("Release", awstest.TargetDeleteItem)
}

// TestItemAttributes: the item as stored has Powertools' layout: the TTL
// attribute is a number of epoch seconds, the lock's expiry epoch
// milliseconds, the result a JSON string.
func TestItemAttributes(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	table := awstest.NewTable(t, cfg)
	s := newStore(t, cfg, table, nil)
	db := dynamodb.NewFromConfig(cfg)
	ctx := t.Context()
	key := "attrs#" + awstest.Name(t, "k")
	now := time.Unix(1_900_000_000, 250_000_000)

	get := func() map[string]types.AttributeValue {
		t.Helper()
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: aws.String(table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: key}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item
	}
	want := func(item map[string]types.AttributeValue, attr string, v types.AttributeValue) {
		t.Helper()
		got, ok := item[attr]
		switch {
		case !ok:
			t.Errorf("item has no %q: %v", attr, item)
		case v == nil:
		case !equalAV(got, v):
			t.Errorf("item[%q] = %#v, want %#v", attr, got, v)
		}
	}

	r := rec(key, now)
	r.PayloadHash = "sha256:abc"
	if _, ok, err := s.Acquire(ctx, r, now); err != nil || !ok {
		t.Fatalf("Acquire: %v %v", ok, err)
	}
	item := get()
	want(item, "id", &types.AttributeValueMemberS{Value: key})
	want(item, "status", &types.AttributeValueMemberS{Value: "INPROGRESS"})
	want(item, "expiration", &types.AttributeValueMemberN{Value: "1900003600"})
	want(item, "in_progress_expiration", &types.AttributeValueMemberN{Value: "1900000030250"})
	want(item, "validation", &types.AttributeValueMemberS{Value: "sha256:abc"})
	want(item, "claim", nil)
	if _, ok := item["data"]; ok || len(item) != 6 {
		t.Errorf("INPROGRESS item %v: want exactly id, status, expiration, in_progress_expiration, validation, claim", item)
	}

	if err := s.Complete(ctx, key, now.Add(2*time.Hour), json.RawMessage(`{"ok":true}`)); err != nil {
		t.Fatal(err)
	}
	item = get()
	want(item, "status", &types.AttributeValueMemberS{Value: "COMPLETED"})
	want(item, "expiration", &types.AttributeValueMemberN{Value: "1900007200"})
	want(item, "data", &types.AttributeValueMemberS{Value: `{"ok":true}`})
	want(item, "validation", &types.AttributeValueMemberS{Value: "sha256:abc"})
}

func equalAV(a, b types.AttributeValue) bool {
	switch a := a.(type) {
	case *types.AttributeValueMemberS:
		b, ok := b.(*types.AttributeValueMemberS)
		return ok && a.Value == b.Value
	case *types.AttributeValueMemberN:
		b, ok := b.(*types.AttributeValueMemberN)
		return ok && a.Value == b.Value
	}
	return false
}

// TestLostAnswers: a PutItem or UpdateItem that DynamoDB carried out but
// whose answer was lost is repeated by the SDK's retryer; the repeat's
// condition fails on the call's own write, and the Store still reports what
// happened: the key acquired, the record completed.
func TestLostAnswers(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	table := awstest.NewTable(t, cfg)
	inj := awstest.NewFaultInjector(nil)
	s := newStore(t, cfg, table, inj)
	ctx := t.Context()
	now := time.Now()
	key := "lost#" + awstest.Name(t, "k")
	lost := awstest.CallFault{Status: 500, Code: "InternalFailure", Message: "answer lost", AfterForward: true}

	inj.FailNextCall(awstest.TargetPutItem, lost)
	if _, ok, err := s.Acquire(ctx, rec(key, now), now); err != nil || !ok {
		t.Fatalf("Acquire whose first answer was lost: acquired %v, err %v; want acquired", ok, err)
	}
	if n := inj.Calls(awstest.TargetPutItem); n != 2 {
		t.Fatalf("PutItem calls: %d, want 2 (the lost one and the retry)", n)
	}
	// Another run's Acquire is still refused: the claim is this call's alone.
	if _, ok, err := s.Acquire(ctx, rec(key, now), now); err != nil || ok {
		t.Fatalf("a second Acquire of the held key: acquired %v, err %v; want refused", ok, err)
	}

	inj.FailNextCall(awstest.TargetUpdateItem, lost)
	if err := s.Complete(ctx, key, now.Add(time.Hour), json.RawMessage(`{"n":1}`)); err != nil {
		t.Fatalf("Complete whose first answer was lost: %v", err)
	}
	if n := inj.Calls(awstest.TargetUpdateItem); n != 2 {
		t.Fatalf("UpdateItem calls: %d, want 2", n)
	}
	// A Complete that would write something else is still an error.
	if err := s.Complete(ctx, key, now.Add(time.Hour), json.RawMessage(`{"n":2}`)); err == nil {
		t.Fatal("Complete of a completed record with another result: no error")
	}
}

// TestCustomAttributes: a Config with other attribute names writes and reads
// them, on a table keyed by the custom key attribute.
func TestCustomAttributes(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	db := dynamodb.NewFromConfig(cfg)
	table := awstest.Name(t, "custom")
	ctx := t.Context()
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)}); err != nil {
			t.Error(err)
		}
	})
	db = dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.HTTPClient = &http.Client{Transport: &serial{next: http.DefaultTransport}} // see serial
	})
	s, err := idempotency.New(db, idempotency.Config{
		TableName: table, KeyAttr: "pk", StatusAttr: "st", ExpiryAttr: "ttl", InProgressExpiryAttr: "lock_ms",
		HashAttr: "hash", ResultAttr: "res", ClaimAttr: "token",
	})
	if err != nil {
		t.Fatal(err)
	}
	idempotencytest.Run(t, func(*testing.T) consumers.IdempotencyStore { return s })
}

// TestOutage: an endpoint that does not answer gives an error that says the
// store is unavailable, within ctx's deadline, not a hang.
func TestOutage(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	s := newStore(t, cfg, "outage-table", nil, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String("http://127.0.0.1:1") })
	now := time.Now()

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	start := time.Now()
	_, ok, err := s.Acquire(ctx, rec("outage#1", now), now)
	if err == nil || ok {
		t.Fatalf("Acquire with DynamoDB down: acquired %v, err %v", ok, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Acquire took %v with a 2s deadline", d)
	}
	checkNoSmithy(t, err)

	// Without a deadline and without the SDK's retries: the refused
	// connection itself is the answer.
	s = newStore(t, cfg, "outage-table", nil, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String("http://127.0.0.1:1")
		o.Retryer = aws.NopRetryer{}
	})
	for op, call := range map[string]func() error{
		"Acquire":  func() error { _, _, err := s.Acquire(t.Context(), rec("outage#2", now), now); return err },
		"Complete": func() error { return s.Complete(t.Context(), "outage#2", now, nil) },
		"Release":  func() error { return s.Release(t.Context(), "outage#2") },
	} {
		err := call()
		if err == nil || !strings.Contains(err.Error(), "unavailable") {
			t.Errorf("%s with DynamoDB down: %v, want an error saying the store is unavailable", op, err)
		}
		checkNoSmithy(t, err)
	}
}

// TestThrottled: throttling and 5xx answers are reported as the store being
// unavailable, a missing table as such; no smithy type escapes.
func TestThrottled(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	table := awstest.NewTable(t, cfg)
	inj := awstest.NewFaultInjector(nil)
	// The injected answers carry no X-Amz-Crc32.
	s := newStore(t, cfg, table, inj, func(o *dynamodb.Options) {
		o.Retryer = aws.NopRetryer{}
		o.DisableValidateResponseChecksum = true
	})
	now := time.Now()
	faults := []awstest.CallFault{
		{Status: 400, Code: "ProvisionedThroughputExceededException", Message: "slow down"},
		{Status: 400, Code: "ThrottlingException", Message: "Rate exceeded"},
		{Status: 500, Code: "InternalServerError", Message: "boom"},
		{Status: 503, Code: "ServiceUnavailable", Message: "later"},
	}
	for _, f := range faults {
		inj.FailNextCall(awstest.TargetPutItem, f)
		_, ok, err := s.Acquire(t.Context(), rec("throttled#"+f.Code, now), now)
		if err == nil || ok || !strings.Contains(err.Error(), "unavailable") || !strings.Contains(err.Error(), f.Code) {
			t.Errorf("%s: acquired %v, err %v; want an error saying the store is unavailable", f.Code, ok, err)
		}
		checkNoSmithy(t, err)
	}
	inj.FailNextCall(awstest.TargetUpdateItem, faults[0])
	if err := s.Complete(t.Context(), "throttled#x", now, nil); err == nil || !strings.Contains(err.Error(), "unavailable") {
		t.Errorf("Complete throttled: %v", err)
	}

	missing := newStore(t, cfg, awstest.Name(t, "missing"), nil)
	_, _, err := missing.Acquire(t.Context(), rec("missing#1", now), now)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Acquire on a missing table: %v, want an error saying the table does not exist", err)
	}
	checkNoSmithy(t, err)
}

func checkNoSmithy(t *testing.T, err error) {
	t.Helper()
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		t.Errorf("a smithy.APIError escapes the adapter: %v", err)
	}
	var opErr *smithy.OperationError
	if errors.As(err, &opErr) {
		t.Errorf("a smithy.OperationError escapes the adapter: %v", err)
	}
}

func TestConfig(t *testing.T) {
	t.Parallel()
	var c idempotency.Config
	c.TableName = " tbl "
	c.SetDefaults()
	want := idempotency.Config{TableName: "tbl", KeyAttr: "id", StatusAttr: "status", ExpiryAttr: "expiration",
		InProgressExpiryAttr: "in_progress_expiration", HashAttr: "validation", ResultAttr: "data", ClaimAttr: "claim"}
	if c != want {
		t.Errorf("SetDefaults: %+v, want %+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate defaults: %v", err)
	}
	for _, bad := range []idempotency.Config{
		{TableName: ""},
		{TableName: "ab"},
		{TableName: "has space"},
		{TableName: "arn:aws:dynamodb:us-east-1:123456789012:stream/x"},
		{TableName: "tbl", HashAttr: "data"},
		{TableName: "tbl", ClaimAttr: "id"},
	} {
		bad.SetDefaults()
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v): no error", bad)
		}
	}
	ok := idempotency.Config{TableName: "arn:aws:dynamodb:us-east-1:123456789012:table/idem"}
	ok.SetDefaults()
	if err := ok.Validate(); err != nil {
		t.Errorf("Validate(ARN): %v", err)
	}
	if _, err := idempotency.New(nil, ok); err == nil {
		t.Error("New(nil api): no error")
	}
}
