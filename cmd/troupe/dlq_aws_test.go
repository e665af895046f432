package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwschemas "github.com/aws/aws-sdk-go-v2/service/cloudwatch/schemas"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go/transport/http/protocol/awsquery"

	"github.com/troupehq/troupe/choreography"
	"github.com/troupehq/troupe/dlq"
	"github.com/troupehq/troupe/internal/awstest"
)

// TestDLQOnAWS drives `troupe dlq` against moto as against a deployed stack:
// the queues and functions come from the stack's outputs; a payments DLQ
// holds a troupe dead letter, an EventBridge target DLQ message, a Lambda
// destination record and a message in no shape. ls, show, a dry run, a
// replay (the readable ones invoked and deleted, the unreadable one kept)
// and a purge, each as a process.
func TestDLQOnAWS(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	motoLambdaWithoutDocker(t)
	stack, queues := deployedStack(t, cfg)
	pay := queues["payments"]
	for _, m := range []struct{ file, body string }{
		{file: "deadletter-v1-bus.json"},
		{file: "foreign/eventbridge-target-dlq.json"},
		{file: "foreign/lambda-destination.json"},
		{body: "this is no dead letter"},
	} {
		body := m.body
		if m.file != "" {
			b, err := os.ReadFile(filepath.Join("..", "..", "aws", "deadletter", "testdata", m.file))
			if err != nil {
				t.Fatal(err)
			}
			// The samples come from a consumer named billing: make them
			// payments' messages, as they would be in its DLQ.
			body = strings.ReplaceAll(string(b), `"billing"`, `"payments"`)
			body = strings.ReplaceAll(body, "function:billing:", "function:troupe-payments:")
		}
		_, err := sqs.NewFromConfig(cfg).SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl: aws.String(pay), MessageBody: aws.String(body),
			MessageAttributes: map[string]types.MessageAttributeValue{
				"troupe-test": {DataType: aws.String("String"), StringValue: aws.String(m.file)},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	where := []string{"--stack", stack, "--endpoint-url", awstest.Endpoint()}
	cli := func(args ...string) run { t.Helper(); return troupe(t, nil, append(args, where...)...) }

	r := cli("dlq", "ls")
	if r.code != 0 || !regexpLine(r.stdout, `^payments\s+4\s+\?\s+`+pay) || !regexpLine(r.stdout, `^shipping\s+0\s+-`) {
		t.Fatalf("dlq ls: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// The age of the oldest message comes from CloudWatch, where SQS
	// publishes it (moto does not: the test puts the datapoint).
	_, err := cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.Protocol = awsquery.New(cwschemas.GraniteServiceVersion20100801) }).
		PutMetricData(context.Background(), &cloudwatch.PutMetricDataInput{
			Namespace: aws.String("AWS/SQS"),
			MetricData: []cwtypes.MetricDatum{{
				MetricName: aws.String("ApproximateAgeOfOldestMessage"), Value: aws.Float64(420), Timestamp: aws.Time(time.Now().Add(-time.Minute)),
				Dimensions: []cwtypes.Dimension{{Name: aws.String("QueueName"), Value: aws.String(path.Base(pay))}},
			}},
		})
	if err != nil {
		t.Fatal(err)
	}
	if r := cli("dlq", "ls"); r.code != 0 || !regexpLine(r.stdout, `^payments\s+4\s+7m0s\s+`+pay) {
		t.Fatalf("dlq ls with the age in CloudWatch: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	r = cli("dlq", "show", "--consumer", "payments", "--output", "json")
	shapes := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var row showRow
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatalf("show: %v: %s", err, line)
		}
		if row.Unreadable != "" {
			shapes["unreadable"]++
			continue
		}
		shapes[string(row.Shape)]++
	}
	want := map[string]int{"troupe": 1, "eventbridge-target": 1, "lambda-destination": 1, "unreadable": 1}
	if fmt.Sprint(shapes) != fmt.Sprint(want) {
		t.Fatalf("show read %v, want %v\n%s%s", shapes, want, r.stdout, r.stderr)
	}

	// Right after show, the messages are visible again: a dry run sees all.
	r = cli("dlq", "replay", "--dry-run", "--consumer", "payments")
	if r.code != 1 || strings.Count(r.stdout, "would-replay") != 3 || !strings.Contains(r.stdout, "unreadable") {
		t.Fatalf("replay --dry-run: exit %d (want 1: one message cannot be read)\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := queueDepth(t, cfg, pay); n != 4 {
		t.Fatalf("after the dry run the queue holds %d messages, want 4", n)
	}

	r = cli("dlq", "replay", "--consumer", "payments", "--output", "json", "--rate", "50")
	var replayed, deleted int
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var res resultLine
		if err := json.Unmarshal([]byte(line), &res); err != nil {
			t.Fatalf("replay log: %v: %s", err, line)
		}
		if res.Action == dlq.Replayed {
			replayed++
		}
		if res.Deleted {
			deleted++
		}
	}
	if r.code != 1 || replayed != 3 || deleted != 3 {
		t.Fatalf("replay: exit %d, %d replayed, %d deleted; want exit 1, 3 and 3\n%s%s", r.code, replayed, deleted, r.stdout, r.stderr)
	}
	if n := queueDepth(t, cfg, pay); n != 1 {
		t.Fatalf("after the replay the queue holds %d messages, want the unreadable one", n)
	}

	if r := cli("dlq", "purge", "--consumer", "payments", "--yes"); r.code != 1 || !strings.Contains(r.stderr, "purged 0 of 1") {
		t.Errorf("purge of an unreadable message: exit %d (want 1, the message kept)\n%s%s", r.code, r.stdout, r.stderr)
	}
	if n := queueDepth(t, cfg, pay); n != 1 {
		t.Errorf("purge deleted a message it could not read: %d left", n)
	}

	// One queue by URL, without a stack.
	r = troupe(t, nil, "dlq", "ls", "--queue", pay, "--consumer", "payments", "--endpoint-url", awstest.Endpoint())
	if r.code != 0 || !regexpLine(r.stdout, `^payments\s+1\s+`) {
		t.Errorf("dlq ls --queue: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = troupe(t, nil, "dlq", "replay", "--queue", pay, "--consumer", "payments", "--endpoint-url", awstest.Endpoint())
	if r.code == 0 || !strings.Contains(r.stderr, "--function") {
		t.Errorf("replay --queue without --function: exit %d\n%s", r.code, r.stderr)
	}
}

// deployedStack makes what a deployed stack's outputs name for the sample
// choreography: a DLQ per consumer, and a stack whose outputs give each
// consumer's DLQ URL and function name as the CDK app writes them.
func deployedStack(t *testing.T, cfg aws.Config) (string, map[string]string) {
	t.Helper()
	topo, err := choreography.Topology()
	if err != nil {
		t.Fatal(err)
	}
	queues := map[string]string{}
	outputs := map[string]any{}
	for i := range topo.Consumers {
		c := &topo.Consumers[i]
		queues[c.Name] = awstest.NewQueue(t, cfg)
		outputs[c.StackID()+"DlqUrl"] = map[string]string{"Value": queues[c.Name]}
		outputs[c.StackID()+"FunctionName"] = map[string]string{"Value": "troupe-" + c.Name}
	}
	tmpl, _ := json.Marshal(map[string]any{
		"Resources": map[string]any{"Marker": map[string]any{"Type": "AWS::SQS::Queue"}},
		"Outputs":   outputs,
	})
	name := awstest.Name(t, "stack")
	_, err = cloudformation.NewFromConfig(cfg).CreateStack(context.Background(), &cloudformation.CreateStackInput{
		StackName: aws.String(name), TemplateBody: aws.String(string(tmpl)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return name, queues
}

func queueDepth(t *testing.T, cfg aws.Config, queue string) int {
	t.Helper()
	out, err := sqs.NewFromConfig(cfg).GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(queue), AttributeNames: []types.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"},
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, v := range out.Attributes {
		var k int
		fmt.Sscan(v, &k)
		n += k
	}
	return n
}

// motoLambdaWithoutDocker sets moto's Lambda to answer Invoke without
// running the function (no Docker here): an asynchronous invoke gets its
// 202, which is what a redelivery waits for.
func motoLambdaWithoutDocker(t *testing.T) {
	t.Helper()
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post(awstest.Endpoint()+"/moto-api/config", "application/json", strings.NewReader(`{"lambda": {"use_docker": false}}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		t.Fatalf("moto config: %s: %s", resp.Status, b)
	}
}

// TestDLQReplayKilledOnAWS: a replay killed (SIGKILL) in the middle loses
// nothing; once the visibility timeout gives back what it held, the next
// replay finishes the job.
func TestDLQReplayKilledOnAWS(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	motoLambdaWithoutDocker(t)
	stack, queues := deployedStack(t, cfg)
	pay := queues["payments"]
	const n = 30
	sample, err := os.ReadFile(filepath.Join("..", "..", "aws", "deadletter", "testdata", "foreign", "eventbridge-target-dlq.json"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		body := strings.Replace(string(sample), "0190a000-0000-7000-8000-000000000001", fmt.Sprintf("0190a000-0000-7000-8000-%012d", i), 1)
		_, err := sqs.NewFromConfig(cfg).SendMessage(context.Background(), &sqs.SendMessageInput{
			QueueUrl: aws.String(pay), MessageBody: aws.String(body),
			MessageAttributes: map[string]types.MessageAttributeValue{
				"TARGET_ARN": {DataType: aws.String("String"), StringValue: aws.String("arn:aws:lambda:us-east-1:123456789012:function:troupe-payments")},
				"ERROR_CODE": {DataType: aws.String("String"), StringValue: aws.String("SDK_CLIENT_ERROR")},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"dlq", "replay", "--stack", stack, "--endpoint-url", awstest.Endpoint(), "--consumer", "payments",
		"--rate", "10", "--visibility-timeout", "5s", "--output", "json"}

	// The first run, killed after about a second: some 10 messages replayed.
	cmd := exec.Command(troupeBin, args...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null")
	var out syncBuffer
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(out.String(), `"replayed"`) < 5 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	first := strings.Count(out.String(), `"replayed"`)
	if first < 5 || first >= n {
		t.Fatalf("the first run replayed %d of %d before the kill: want it stopped midway\n%s", first, n, out.String())
	}
	if left := queueDepth(t, cfg, pay); left < n-first-10 || left > n {
		t.Fatalf("after the kill %d messages are left of %d, %d replayed", left, n, first)
	}

	// What the killed run held comes back after its visibility timeout.
	time.Sleep(6 * time.Second)
	r := troupe(t, nil, args...)
	second := strings.Count(r.stdout, `"replayed"`)
	if r.code != 0 || first+second < n {
		t.Fatalf("second run: exit %d, replayed %d (first %d): together they must cover all %d\n%s%s", r.code, second, first, n, r.stdout, r.stderr)
	}
	if left := queueDepth(t, cfg, pay); left != 0 {
		t.Errorf("%d messages left after the second run", left)
	}
}
