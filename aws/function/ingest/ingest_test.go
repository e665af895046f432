package ingest

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"

	"github.com/troupehq/troupe/aws/function"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/internal/awstest"
)

func TestMain(m *testing.M) { awstest.Main(m) }

// TestIngestLambdaPublishesCloudEvents invokes the ingest function as API
// Gateway does (an HTTP API payload 2.0 event) and reads the event back from
// the stream.
func TestIngestLambdaPublishesCloudEvents(t *testing.T) {
	cfg := awstest.Config(t)
	bus := awstest.Name(t, "bus")
	if _, err := eventbridge.NewFromConfig(cfg).CreateEventBus(context.Background(), &eventbridge.CreateEventBusInput{Name: aws.String(bus)}); err != nil {
		t.Fatal(err)
	}
	stream := awstest.NewStream(t, cfg, 1)
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL": awstest.Endpoint(), "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
		"AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
	} {
		t.Setenv(k, v)
	}
	h, err := newHandler(context.Background(), function.Env{Bus: bus, Stream: stream})
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile("../../../testdata/events/orders.OrderPlaced/v2/placed.json")
	if err != nil {
		t.Fatal(err)
	}
	req := awsevents.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /cloudevents", RawPath: "/cloudevents",
		Headers: map[string]string{"content-type": "application/cloudevents+json"},
		Body:    string(body),
	}
	req.RequestContext.HTTP.Method = "POST"
	req.RequestContext.HTTP.Path = "/cloudevents"
	payload, _ := json.Marshal(req)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := lambda.NewHandler(HTTPHandler(h)).Invoke(ctx, payload)
	if err != nil {
		t.Fatal(err)
	}
	var resp awsevents.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != 200 || !strings.Contains(resp.Body, `"accepted":1`) {
		t.Fatalf("response %s (%v)", out, err)
	}
	records := awstest.ReadStream(t, cfg, stream)
	if len(records) != 1 {
		t.Fatalf("the stream holds %d records", len(records))
	}
	if e, err := events.Decode(records[0].Data); err != nil || e.ID != "019593fa-5d95-744e-b7fd-bf94c690a9c1" {
		t.Fatalf("record %s: %v", records[0].Data, err)
	}

	// A bad request gets the problem document, through API Gateway too.
	req.Headers["content-type"] = "text/plain"
	payload, _ = json.Marshal(req)
	out, _ = lambda.NewHandler(HTTPHandler(h)).Invoke(ctx, payload)
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != 415 {
		t.Fatalf("wrong content type: %s", out)
	}
}

func TestIngestWithoutItsEnvironment(t *testing.T) {
	t.Parallel()
	for _, env := range []function.Env{{}, {Bus: "b"}, {Stream: "s"}} {
		_, err := newHandler(context.Background(), env)
		if err == nil || !strings.Contains(err.Error(), "TROUPE_BUS and TROUPE_STREAM") {
			t.Errorf("env %+v: error %v, want one naming TROUPE_BUS and TROUPE_STREAM", env, err)
		}
	}
}
