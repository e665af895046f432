package redrive_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/troupehq/troupe/aws/redrive"
	"github.com/troupehq/troupe/events"
	"github.com/troupehq/troupe/internal/awstest"
	"github.com/troupehq/troupe/topology"
)

func TestMain(m *testing.M) { awstest.Main(m) }

const timeout = 60 * time.Second

func ctxT(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// reads is a handler for the test topology: its events are never run here.
type reads struct{}

func (reads) Handle(context.Context, events.Envelope) error { return nil }
func (reads) Accepts() []topology.EventRef {
	return []topology.EventRef{{Type: "orders.OrderPlaced", Version: 2}}
}

// shop is the test topology, named as the samples name their consumers:
// billing reads the bus; inventory the stream; shipping the stream, only
// orders.OrderPlaced.
func shop(t testing.TB) *topology.Topology {
	t.Helper()
	top := &topology.Topology{Name: "shop", Consumers: []topology.Consumer{
		{Name: "billing", Bus: topology.OnBusTypes("orders.OrderPlaced"), Handler: reads{}},
		{Name: "inventory", Stream: topology.OnStream(""), Handler: reads{}},
		{Name: "shipping", Stream: topology.OnStreamTypes("orders.OrderPlaced"), Handler: reads{}},
	}}
	if err := top.Validate(); err != nil {
		t.Fatal(err)
	}
	return top
}

// sample reads a DLQ message sample of aws/deadletter/testdata.
func sample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "deadletter", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// golden reads a decoded message of dlq/testdata/golden.
func golden(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "dlq", "testdata", "golden", name))
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// send puts one message in the queue.
func send(t *testing.T, cfg aws.Config, queueURL, body string, attrs map[string]string) {
	t.Helper()
	in := &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(body)}
	for k, v := range attrs {
		if in.MessageAttributes == nil {
			in.MessageAttributes = map[string]sqstypes.MessageAttributeValue{}
		}
		in.MessageAttributes[k] = sqstypes.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	if _, err := sqs.NewFromConfig(cfg).SendMessage(ctxT(t), in); err != nil {
		t.Fatalf("send to %s: %v", queueURL, err)
	}
}

// newQueue returns an SQSQueue over queueURL for a test: a short poll, so
// that the end of the queue is seen at once (moto answers every receive
// from the whole queue).
func newQueue(t testing.TB, cfg aws.Config, queueURL string, mod ...func(*redrive.QueueConfig)) *redrive.SQSQueue {
	t.Helper()
	qc := redrive.QueueConfig{QueueURL: queueURL, Consumer: "test", NoWait: true}
	for _, f := range mod {
		f(&qc)
	}
	q, err := redrive.NewSQSQueueFromConfig(cfg, qc)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// The Lambda emulation. moto runs a function in Docker unless its config
// says "use_docker": false; then an Invoke of any function answers as
// Lambda would (202 for InvocationType Event) and runs nothing, which is
// all a redelivery needs: the request is what the tests check.
var (
	motoLambdaOnce sync.Once
	motoLambdaErr  error
	roleOnce       sync.Once
	roleARN        string
	roleErr        error
)

func useMotoLambda(t testing.TB) {
	t.Helper()
	motoLambdaOnce.Do(func() {
		resp, err := http.Post(awstest.Endpoint()+"/moto-api/config", "application/json",
			strings.NewReader(`{"lambda": {"use_docker": false}}`))
		if err != nil {
			motoLambdaErr = err
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode/100 != 2 || !strings.Contains(string(b), `"use_docker": false`) {
			motoLambdaErr = fmt.Errorf("POST /moto-api/config: %s: %s", resp.Status, b)
		}
	})
	if motoLambdaErr != nil {
		t.Fatalf("moto: run Lambda without Docker: %v", motoLambdaErr)
	}
}

// role returns the ARN of an IAM role Lambda may assume: moto's
// CreateFunction checks that the role exists. It is made once, by a
// CloudFormation stack (the module has no IAM client).
func role(t *testing.T, cfg aws.Config) string {
	t.Helper()
	roleOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		cf := cloudformation.NewFromConfig(cfg)
		name := awstest.Name(t, "redrive-role")
		tmpl := `{"Resources": {"Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument":
			{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
			"Action": "sts:AssumeRole"}]}}}}, "Outputs": {"RoleArn": {"Value": {"Fn::GetAtt": ["Role", "Arn"]}}}}`
		if _, roleErr = cf.CreateStack(ctx, &cloudformation.CreateStackInput{StackName: aws.String(name), TemplateBody: aws.String(tmpl)}); roleErr != nil {
			return
		}
		out, err := cf.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(name)})
		if roleErr = err; err != nil {
			return
		}
		for _, o := range out.Stacks[0].Outputs {
			if aws.ToString(o.OutputKey) == "RoleArn" {
				roleARN = aws.ToString(o.OutputValue)
			}
		}
		if roleARN == "" {
			roleErr = fmt.Errorf("stack %s has no RoleArn output", name)
		}
	})
	if roleErr != nil {
		t.Fatalf("moto: create the functions' IAM role: %v", roleErr)
	}
	return roleARN
}

// codeZip is a function's code: a bootstrap that fails every invocation
// (moto never runs it).
func codeZip(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	z := zip.NewWriter(&buf)
	w, err := z.CreateHeader(&zip.FileHeader{Name: "bootstrap", Method: zip.Deflate})
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "#!/bin/sh\necho 'redrive test function: never run' >&2\nexit 1\n")
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// newFunction creates a Lambda function in moto and deletes it when the
// test ends. It returns its name.
func newFunction(t *testing.T, cfg aws.Config, prefix string) string {
	t.Helper()
	useMotoLambda(t)
	lc := lambda.NewFromConfig(cfg)
	name := awstest.Name(t, prefix)
	_, err := lc.CreateFunction(ctxT(t), &lambda.CreateFunctionInput{
		FunctionName:  aws.String(name),
		Role:          aws.String(role(t, cfg)),
		Runtime:       lambdatypes.RuntimeProvidedal2023,
		Handler:       aws.String("bootstrap"),
		Architectures: []lambdatypes.Architecture{lambdatypes.ArchitectureArm64},
		Code:          &lambdatypes.FunctionCode{ZipFile: codeZip(t)},
	})
	if err != nil {
		t.Fatalf("create function %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := lc.DeleteFunction(context.Background(), &lambda.DeleteFunctionInput{FunctionName: aws.String(name)}); err != nil {
			t.Errorf("delete function %s: %v", name, err)
		}
	})
	return name
}

// invocation is one Invoke request as it reached moto, and moto's answer.
type invocation struct {
	Function string
	Type     string // X-Amz-Invocation-Type
	Payload  []byte
	Status   int
}

// recorder is an http.RoundTripper in front of the emulator that records
// every Lambda Invoke request and its answer.
type recorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	got  []invocation
}

func newRecorder() *recorder { return &recorder{next: awstest.Transport} }

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	// POST /2015-03-31/functions/{FunctionName}/invocations
	path := req.URL.EscapedPath()
	if req.Method != http.MethodPost || !strings.HasSuffix(path, "/invocations") || !strings.Contains(path, "/functions/") {
		return r.next.RoundTrip(req)
	}
	seg := strings.TrimSuffix(path[strings.Index(path, "/functions/")+len("/functions/"):], "/invocations")
	fn, _ := url.PathUnescape(seg)
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := r.next.RoundTrip(req)
	inv := invocation{Function: fn, Type: req.Header.Get("X-Amz-Invocation-Type"), Payload: body}
	if resp != nil {
		inv.Status = resp.StatusCode
	}
	r.mu.Lock()
	r.got = append(r.got, inv)
	r.mu.Unlock()
	return resp, err
}

func (r *recorder) invocations() []invocation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]invocation(nil), r.got...)
}

// redeliverer returns a LambdaRedeliverer whose Lambda calls go through
// rt (the recorder), for topo and deployments.
func redeliverer(t *testing.T, cfg aws.Config, rt http.RoundTripper, topo *topology.Topology, deps []redrive.Deployment,
	mod ...func(*redrive.LambdaConfig)) *redrive.LambdaRedeliverer {
	t.Helper()
	lc := redrive.LambdaConfig{Topology: topo, Deployments: deps, Region: cfg.Region, Account: "123456789012"}
	for _, f := range mod {
		f(&lc)
	}
	lambdaClient := lambda.NewFromConfig(cfg, func(o *lambda.Options) { o.HTTPClient = &http.Client{Transport: rt} })
	r, err := redrive.NewLambdaRedeliverer(lambdaClient, kinesis.NewFromConfig(cfg), lc)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// jsonEqual reports whether two JSON texts hold the same value.
func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		t.Fatalf("not JSON: %v: %s", err, a)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		t.Fatalf("not JSON: %v: %s", err, b)
	}
	ja, _ := json.Marshal(va)
	jb, _ := json.Marshal(vb)
	return bytes.Equal(ja, jb)
}
