package ingest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/troupehq/troupe/local/ingest"
	"github.com/troupehq/troupe/producers"
	"github.com/troupehq/troupe/schemas"
)

// Serve PutEvents in front of a bus: any AWS SDK or the AWS CLI publishes to
// it with --endpoint-url. Here a plain HTTP client sends what an SDK sends:
// one troupe envelope whose data breaks its schema, one event from a system
// that knows nothing of troupe.
func ExampleNewAWS() {
	h := ingest.NewAWS(ingest.AWSConfig{
		BusName: "troupe-dev", StreamName: "troupe-dev",
		Bus: &memBus{}, Stream: &memStream{}, Validator: schemas.Sample(),
	})
	srv := httptest.NewServer(h) // on 127.0.0.1
	defer srv.Close()

	body := `{"Entries":[
	  {"Source":"shop","DetailType":"orders.OrderCancelled","Detail":` + jsonString(badCancelled("e1")) + `},
	  {"Source":"crm","DetailType":"crm.CustomerCreated","Detail":"{\"customer\":\"c-1\"}"}]}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "AWSEvents.PutEvents")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status)
	fmt.Println(string(out))
	// Output:
	// 200 OK
	// {"FailedEntryCount":1,"Entries":[{"ErrorCode":"InvalidArgument","ErrorMessage":"Parameter Detail is not valid. Reason: Detail holds a troupe envelope (it has \"specversion\") that consumers would reject: event e1: orders.OrderCancelled v1 (schemas/orders/OrderCancelled/v1.json): /reason: must not be empty"},{"EventId":"ev-1"}]}
}

// Take CloudEvents over HTTP: a batch whose second event is not valid. The
// good event is published to both legs; the answer says which is which.
func ExampleNewCloudEvents() {
	pub, err := producers.New(producers.Config{Bus: &memBus{}, Stream: &memStream{}, Validator: schemas.Sample()})
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := httptest.NewServer(ingest.NewCloudEvents(ingest.CloudEventsConfig{Publisher: pub, Validator: schemas.Sample()}))
	defer srv.Close()

	batch := "[" + cancelled("c1") + "," + badCancelled("c2") + "]"
	resp, err := http.Post(srv.URL, ingest.ContentTypeCloudEventBatch, strings.NewReader(batch))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status)
	fmt.Println(string(out))
	// Output:
	// 207 Multi-Status
	// {"results":[{"index":0,"id":"c1","type":"orders.OrderCancelled","status":"accepted","bus":{"status":"sent","eventId":"ev-1","attempts":1},"stream":{"status":"sent","shardId":"shardId-000000000000","sequenceNumber":"1001","attempts":1}},{"index":1,"id":"c2","type":"orders.OrderCancelled","status":"rejected","error":"event c2: orders.OrderCancelled v1 (schemas/orders/OrderCancelled/v1.json): /reason: must not be empty"}],"accepted":1,"rejected":1}
}
