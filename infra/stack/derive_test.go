package stack_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/troupehq/troupe/infra/stack"
	"github.com/troupehq/troupe/topology"
)

// TestAddingAConsumer: one more consumer in the declaration adds exactly its
// own resources, and nothing else changes in kind or number.
func TestAddingAConsumer(t *testing.T) {
	base := sample(t).countByType()
	cases := []struct {
		name string
		c    topology.Consumer
		adds map[string]int
	}{
		{"bus", topology.Consumer{
			Name: "fraud-check", Bus: topology.OnBus(`{"source":["orders"],"detail":{"data":{"total":[{"numeric":[">",1000]}]}}}`),
			Target: topology.TargetRetryPolicy{MaximumRetryAttempts: topology.Int(0), MaximumEventAgeInSeconds: 120},
			Async:  topology.AsyncInvokeConfig{MaximumRetryAttempts: topology.Int(0), MaximumEventAgeInSeconds: 60},
			Emits:  []topology.EventRef{{Type: "orders.OrderCancelled", Version: 1}},
		}, map[string]int{
			"AWS::Lambda::Function": 1, "AWS::SQS::Queue": 1, "AWS::SQS::QueuePolicy": 1, "AWS::Logs::LogGroup": 1,
			"AWS::IAM::Role": 1, "AWS::IAM::Policy": 1, "AWS::Events::Rule": 1, "AWS::Lambda::Permission": 1,
			"AWS::Lambda::EventInvokeConfig": 1,
			"AWS::CloudWatch::Alarm":         5, // DLQ, errors, destination failures, failed invocations, DLQ delivery
		}},
		{"stream", topology.Consumer{
			Name: "audit", Stream: topology.OnStream(`{"partitionKey":[{"prefix":"order-"}],"data":{"type":["orders.OrderPlaced"]}}`),
			Idempotency: topology.Idempotency{Disabled: true},
			Mapping: topology.EventSourceMapping{
				BatchSize: 50, MaximumBatchingWindowInSeconds: 5, ParallelizationFactor: 4, BisectBatchOnFunctionError: true,
				MaximumRetryAttempts: topology.Int(3), MaximumRecordAgeInSeconds: topology.Int(3600), StartingPosition: "LATEST",
			},
			Function: topology.Function{TimeoutSeconds: 120, MemorySize: 1024},
		}, map[string]int{
			"AWS::Lambda::Function": 1, "AWS::SQS::Queue": 1, "AWS::SQS::QueuePolicy": 1, "AWS::Logs::LogGroup": 1,
			"AWS::IAM::Role": 1, "AWS::IAM::Policy": 1, "AWS::Lambda::EventSourceMapping": 1,
			"AWS::Lambda::EventInvokeConfig": 1, // for DLQ replays
			"AWS::CloudWatch::Alarm":         4, // DLQ, errors, destination failures, iterator age
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			topo := withConsumer(t, tc.c)
			x := synth(t, topo, nil)
			got := x.countByType()
			for typ := range union(base, got) {
				if d := got[typ] - base[typ]; d != tc.adds[typ] {
					t.Errorf("%s: +%d, want +%d", typ, d, tc.adds[typ])
				}
			}
			// The new consumer's own settings, through the same checks as
			// the sample's, and its policy.
			c := &topo.Consumers[len(topo.Consumers)-1]
			checkConsumer(t, x, c, x.mustID(t, "Idempotency/Resource"), x.mustID(t, "Bus/Resource"), x.mustID(t, "Stream/Resource"))
			if _, ok := x.doc["Outputs"].(map[string]any)[pascal(c.Name)+"DlqUrl"]; !ok {
				t.Errorf("no output %sDlqUrl", pascal(c.Name))
			}
			pol := jsonOf(props(x.resources()[x.mustID(t, "Consumer"+pascal(c.Name)+"/Policy/Resource")]))
			if c.Idempotency.Disabled == strings.Contains(pol, "OwnIdempotencyKeys") {
				t.Errorf("idempotency disabled=%v, policy %s", c.Idempotency.Disabled, pol)
			}
			if (len(c.Emits) > 0) != strings.Contains(pol, "events:PutEvents") {
				t.Errorf("emits %v, policy %s", c.Emits, pol)
			}
		})
	}
}

func union(a, b map[string]int) map[string]bool {
	u := map[string]bool{}
	for k := range a {
		u[k] = true
	}
	for k := range b {
		u[k] = true
	}
	return u
}

func TestAlarmsAndDashboard(t *testing.T) {
	x := sample(t)
	want := map[string]string{} // alarm name -> metric
	for _, c := range x.s.Props.Topology.Consumers {
		want[c.Name+"-dlq-not-empty"] = "ApproximateNumberOfMessagesVisible"
		want[c.Name+"-errors"] = "Errors"
		want[c.Name+"-destination-failures"] = "DestinationDeliveryFailures"
		if c.OnBus() {
			want[c.Name+"-failed-invocations"] = "FailedInvocations"
			want[c.Name+"-dlq-delivery-failed"] = "InvocationsFailedToBeSentToDlq"
		} else {
			want[c.Name+"-iterator-age"] = "IteratorAge"
		}
	}
	want["stream-iterator-age"] = "GetRecords.IteratorAgeMilliseconds"
	got := map[string]map[string]any{}
	for _, id := range x.ofType("AWS::CloudWatch::Alarm") {
		p := props(x.resources()[id])
		got[strings.TrimPrefix(p["AlarmName"].(string), "troupe-orders-dev-")] = p
	}
	if len(got) != len(want) {
		t.Errorf("%d alarms, want %d: %v", len(got), len(want), keys(anyMap(got)))
	}
	for name, m := range want {
		p, ok := got[name]
		if !ok {
			t.Errorf("no alarm %s", name)
			continue
		}
		equal(t, name+" metric", p["MetricName"], m)
		equal(t, name+" comparison", p["ComparisonOperator"], "GreaterThanThreshold")
		equal(t, name+" missing data", p["TreatMissingData"], "notBreaching")
		if strings.HasSuffix(name, "iterator-age") {
			equal(t, name+" threshold", p["Threshold"], 60000)
		} else {
			equal(t, name+" threshold", p["Threshold"], 0)
		}
	}
	// The rule alarms name the custom bus and the rule (AWS/Events
	// publishes per-rule metrics of a custom bus under both dimensions).
	equal(t, "rule alarm dimensions", got["payments-failed-invocations"]["Dimensions"], []any{
		map[string]any{"Name": "EventBusName", "Value": ref(x.mustID(t, "Bus/Resource"))},
		map[string]any{"Name": "RuleName", "Value": "payments"},
	})
	x.tpl.ResourceCountIs(jsii.String("AWS::CloudWatch::Dashboard"), jsii.Number(1))
}

func anyMap[V any](m map[string]V) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestOptions: the stack's settings beyond the defaults.
func TestOptions(t *testing.T) {
	x := synth(t, nil, func(p *stack.Props) {
		p.Stage = "prod"
		p.ArchiveRetentionDays = -1
		p.PutEventsAccounts = []string{"111111111111", "222222222222"}
		p.StreamMode = stack.Provisioned
		p.ShardCount = 2
		p.StreamRetentionHours = 168
		p.StreamCustomerKey = true
		p.AlarmTopicArn = "arn:aws:sns:eu-west-1:123456789012:oncall"
		p.RemovalPolicy = awscdk.RemovalPolicy_DESTROY
		p.Ingest = true
	})
	busID := x.mustID(t, "Bus/Resource")
	equal(t, "bus name", props(x.resources()[busID])["Name"], "troupe-orders-prod")
	_, archive := x.byPath(t, "Archive")
	equal(t, "archive retention: indefinitely", props(archive)["RetentionDays"], 0)
	x.tpl.HasResourceProperties(jsii.String("AWS::Events::EventBusPolicy"), map[string]any{
		"EventBusName": ref(busID),
		"Statement": map[string]any{
			"Sid": "cdk-PutEventsFromOtherAccounts", "Effect": "Allow", "Action": "events:PutEvents",
			"Resource": getAtt(busID, "Arn"),
			"Principal": map[string]any{"AWS": []any{
				map[string]any{"Fn::Join": []any{"", []any{"arn:", ref("AWS::Partition"), ":iam::111111111111:root"}}},
				map[string]any{"Fn::Join": []any{"", []any{"arn:", ref("AWS::Partition"), ":iam::222222222222:root"}}},
			}},
		},
	})
	streamID, st := x.byPath(t, "Stream/Resource")
	keyID := x.mustID(t, "StreamKey/Resource")
	p := props(st)
	equal(t, "shards", p["ShardCount"], 2)
	equal(t, "mode", p["StreamModeDetails"], map[string]any{"StreamMode": "PROVISIONED"})
	equal(t, "retention", p["RetentionPeriodHours"], 168)
	equal(t, "customer key", p["StreamEncryption"], map[string]any{"EncryptionType": "KMS", "KeyId": getAtt(keyID, "Arn")})
	equal(t, "key rotation", props(x.resources()[keyID])["EnableKeyRotation"], true)
	equal(t, "removal", st["DeletionPolicy"], "Delete")
	// With a customer key, readers may decrypt and writers encrypt with it.
	tl := jsonOf(props(x.resources()[x.mustID(t, "ConsumerTimeline/Policy/Resource")]))
	pay := jsonOf(props(x.resources()[x.mustID(t, "ConsumerPayments/Policy/Resource")]))
	if !strings.Contains(tl, `"Sid":"DecryptStream"`) || !strings.Contains(pay, `"Sid":"EncryptStream"`) || strings.Contains(pay, "DecryptStream") {
		t.Errorf("KMS statements: timeline %s; payments %s", tl, pay)
	}
	for _, id := range x.ofType("AWS::CloudWatch::Alarm") {
		equal(t, id+" actions", props(x.resources()[id])["AlarmActions"], strs("arn:aws:sns:eu-west-1:123456789012:oncall"))
	}

	// Ingest: an HTTP API, IAM-authorized, in front of a function that may
	// only put on the bus and the stream.
	_, fn := x.byPath(t, "Ingest/Function/Resource")
	equal(t, "ingest env", props(fn)["Environment"], map[string]any{"Variables": map[string]any{
		stack.EnvBus: ref(busID), stack.EnvStream: ref(streamID),
	}})
	x.tpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Api"), map[string]any{"ProtocolType": "HTTP"})
	x.tpl.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Route"), map[string]any{
		"RouteKey": "POST " + stack.IngestPath, "AuthorizationType": "AWS_IAM",
	})
	for _, id := range x.ofType("AWS::ApiGatewayV2::Route") {
		equal(t, "every route is IAM-authorized", props(x.resources()[id])["AuthorizationType"], "AWS_IAM")
	}
	ip := props(x.resources()[x.mustID(t, "Ingest/Policy/Resource")])
	var sids []string
	for _, s := range ip["PolicyDocument"].(map[string]any)["Statement"].([]any) {
		sids = append(sids, s.(map[string]any)["Sid"].(string))
	}
	equal(t, "ingest statements", sids, strs("Logs", "PutOnBus", "PutOnStream", "EncryptStream"))
	if _, ok := x.doc["Outputs"].(map[string]any)["IngestUrl"]; !ok {
		t.Error("no IngestUrl output")
	}
	lint(t, x, "options")
}

// TestCfnLint: cfn-lint finds nothing in the sample's template. W3005 is
// ignored: CDK's Function adds a DependsOn on its role beside the GetAtt.
func TestCfnLint(t *testing.T) { lint(t, sample(t), "sample") }

func lint(t *testing.T, x synthesized, name string) {
	t.Helper()
	bin, err := exec.LookPath("cfn-lint")
	if err != nil {
		if os.Getenv("TROUPE_REQUIRE_CFN_LINT") != "" {
			t.Fatal("cfn-lint is not installed and TROUPE_REQUIRE_CFN_LINT is set")
		}
		t.Skip("cfn-lint not installed")
	}
	out, err := exec.Command(bin, "--ignore-checks", "W3005", "--", x.writeTemplate(t, name)).CombinedOutput()
	if err != nil {
		t.Errorf("cfn-lint on the %s template: %v\n%s", name, err, out)
	}
}

func TestPropsErrors(t *testing.T) {
	app := awscdk.NewApp(nil)
	topo := sampleTopology(t)
	for _, tc := range []struct {
		name  string
		props stack.Props
		want  string
	}{
		{"no topology", stack.Props{}, "no topology"},
		{"bad stage", stack.Props{Topology: topo, Stage: "Prod"}, `stage "Prod"`},
		{"bad account", stack.Props{Topology: topo, PutEventsAccounts: []string{"12"}}, "12-digit"},
		{"shards on demand", stack.Props{Topology: topo, ShardCount: 2}, "Provisioned"},
		{"stream retention", stack.Props{Topology: topo, StreamRetentionHours: 2}, "24-8760"},
		{"missing artifact", stack.Props{Topology: topo, Code: stack.FromDist(filepath.Join(t.TempDir(), "none"))}, "make lambdas"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := stack.New(app, "s-"+strings.ReplaceAll(tc.name, " ", "-"), tc.props)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one that says %q", err, tc.want)
			}
		})
	}
	// Two consumer names that collapse into one construct id.
	clash := withConsumer(t, topology.Consumer{Name: "audit2", Bus: topology.OnBusTypes("x.Y")})
	clash.Consumers = append(clash.Consumers, topology.Consumer{Name: "audit-2", Bus: topology.OnBusTypes("x.Y"), Handler: clash.Consumers[0].Handler})
	if err := clash.Validate(); err != nil {
		t.Fatal(err)
	}
	_, err := stack.New(app, "clash", stack.Props{Topology: clash, Code: stack.Placeholder(placeholders)})
	if err == nil || !strings.Contains(err.Error(), "both become") {
		t.Errorf("error %v, want the clash of audit2 and audit-2", err)
	}
}
