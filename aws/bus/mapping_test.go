package bus

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/troupehq/troupe/producers"
)

// stubAPI records the PutEvents input and answers with out.
type stubAPI struct {
	in    *eventbridge.PutEventsInput
	out   *eventbridge.PutEventsOutput
	calls int
}

func (s *stubAPI) PutEvents(_ context.Context, in *eventbridge.PutEventsInput, _ ...func(*eventbridge.Options)) (*eventbridge.PutEventsOutput, error) {
	s.calls++
	s.in = in
	return s.out, nil
}

func (s *stubAPI) DescribeEventBus(context.Context, *eventbridge.DescribeEventBusInput, ...func(*eventbridge.Options)) (*eventbridge.DescribeEventBusOutput, error) {
	return &eventbridge.DescribeEventBusOutput{}, nil
}

func TestRequestMapping(t *testing.T) {
	t.Parallel()
	api := &stubAPI{out: &eventbridge.PutEventsOutput{Entries: []types.PutEventsResultEntry{
		{EventId: aws.String("id-0")},
		{ErrorCode: aws.String("MalformedDetail"), ErrorMessage: aws.String("Detail is malformed.")},
		{},
	}}}
	s, err := New(api, Config{BusName: " orders "})
	if err != nil {
		t.Fatal(err)
	}
	when := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	res, err := s.SendBatch(t.Context(), []producers.BusEntry{
		{Source: "s", DetailType: "d", Detail: []byte(`{"a":1}`), Time: when, Resources: []string{"r"}, TraceHeader: "Root=1"},
		{Source: "s2", DetailType: "d2", Detail: []byte(`{}`)},
		{Source: "s3", DetailType: "d3", Detail: []byte(`{}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	e0, e1 := api.in.Entries[0], api.in.Entries[1]
	if aws.ToString(e0.EventBusName) != "orders" || aws.ToString(e0.Source) != "s" || aws.ToString(e0.DetailType) != "d" ||
		aws.ToString(e0.Detail) != `{"a":1}` || !e0.Time.Equal(when) || len(e0.Resources) != 1 || aws.ToString(e0.TraceHeader) != "Root=1" {
		t.Errorf("entry 0 mapped to %+v", e0)
	}
	if e1.Time != nil || e1.Resources != nil || e1.TraceHeader != nil {
		t.Errorf("entry 1: empty fields must stay unset (AWS then uses the call's time): %+v", e1)
	}
	if res[0].ID != "id-0" || res[0].Failed() {
		t.Errorf("result 0: %+v", res[0])
	}
	if res[1].ErrorCode != "MalformedDetail" || res[1].Retryable || res[1].ErrorMessage == "" {
		t.Errorf("result 1: %+v", res[1])
	}
	if !res[2].Failed() || !res[2].Retryable {
		t.Errorf("result 2 (neither id nor error): %+v, want failed and retryable", res[2])
	}
}

func TestResultCountMismatch(t *testing.T) {
	t.Parallel()
	api := &stubAPI{out: &eventbridge.PutEventsOutput{Entries: []types.PutEventsResultEntry{{EventId: aws.String("x")}}}}
	s, _ := New(api, Config{BusName: "orders"})
	_, err := s.SendBatch(t.Context(), make([]producers.BusEntry, 2))
	if err == nil || !strings.Contains(err.Error(), "1 results for 2 entries") {
		t.Errorf("got %v, want an error about 1 result for 2 entries", err)
	}
}

func TestEmptyBatch(t *testing.T) {
	t.Parallel()
	api := &stubAPI{}
	s, _ := New(api, Config{BusName: "orders"})
	res, err := s.SendBatch(t.Context(), nil)
	if err != nil || len(res) != 0 || api.calls != 0 {
		t.Errorf("empty batch: %v, %v, %d calls; want no call", res, err, api.calls)
	}
}

func TestRetryableEntryCode(t *testing.T) {
	t.Parallel()
	for code, want := range map[string]bool{
		"ThrottlingException": true, "InternalFailure": true,
		"AccessDeniedException": false, "InvalidAccountIdException": false, "InvalidArgument": false,
		"MalformedDetail": false, "RedactionFailure": false, "NotAuthorizedForSourceException": false,
		"NotAuthorizedForDetailTypeException": false, "SomethingNew": false,
	} {
		if got := RetryableEntryCode(code); got != want {
			t.Errorf("RetryableEntryCode(%q) = %v, want %v", code, got, want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for name, ok := range map[string]bool{
		"orders":                 true,
		"default":                true,
		"partner/acme.com/x_y-z": true,
		"arn:aws:events:us-east-1:123456789012:event-bus/orders": true,
		"":          false,
		"has space": false,
		"arn:aws:events:us-east-1:123456789012:rule/orders": false,
		"arn:aws:events:event-bus/orders":                   false,
		strings.Repeat("a", 257):                            false,
	} {
		c := Config{BusName: name}
		c.SetDefaults()
		if err := c.Validate(); (err == nil) != ok {
			t.Errorf("Validate(%q) = %v, want ok=%v", name, err, ok)
		}
	}
	if _, err := New(nil, Config{BusName: "orders"}); err == nil {
		t.Error("New(nil api) did not fail")
	}
}
