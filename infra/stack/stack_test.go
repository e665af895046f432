package stack_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/troupehq/troupe/infra/stack"
	"github.com/troupehq/troupe/topology"
)

func TestBusAndArchive(t *testing.T) {
	x := sample(t)
	busID, bus := x.byPath(t, "Bus/Resource")
	equal(t, "bus name", props(bus)["Name"], "troupe-orders-dev")
	x.tpl.ResourceCountIs(jsii.String("AWS::Events::EventBus"), jsii.Number(1))
	x.tpl.HasResourceProperties(jsii.String("AWS::Events::Archive"), map[string]any{
		"SourceArn":     getAtt(busID, "Arn"),
		"RetentionDays": 7,
		"EventPattern":  assertions.Match_Absent(), // every event, also other accounts'
	})
	x.tpl.ResourceCountIs(jsii.String("AWS::Events::EventBusPolicy"), jsii.Number(0))
}

func TestStream(t *testing.T) {
	x := sample(t)
	_, st := x.byPath(t, "Stream/Resource")
	p := props(st)
	equal(t, "name", p["Name"], "troupe-orders-dev")
	equal(t, "mode", p["StreamModeDetails"], map[string]any{"StreamMode": "ON_DEMAND"})
	equal(t, "encryption", p["StreamEncryption"], map[string]any{"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"})
	equal(t, "retention", p["RetentionPeriodHours"], 24)
	if _, ok := p["ShardCount"]; ok {
		t.Error("an on-demand stream has no ShardCount")
	}
	equal(t, "deletion policy", st["DeletionPolicy"], "Retain")
}

func TestIdempotencyTable(t *testing.T) {
	x := sample(t)
	x.tpl.ResourceCountIs(jsii.String("AWS::DynamoDB::Table"), jsii.Number(1))
	_, tbl := x.byPath(t, "Idempotency/Resource")
	p := props(tbl)
	equal(t, "key schema", p["KeySchema"], []any{map[string]any{"AttributeName": "id", "KeyType": "HASH"}})
	equal(t, "attributes", p["AttributeDefinitions"], []any{map[string]any{"AttributeName": "id", "AttributeType": "S"}})
	equal(t, "billing", p["BillingMode"], "PAY_PER_REQUEST")
	equal(t, "ttl", p["TimeToLiveSpecification"], map[string]any{"AttributeName": "expiration", "Enabled": true})
	equal(t, "pitr", p["PointInTimeRecoverySpecification"], map[string]any{"PointInTimeRecoveryEnabled": true})
	equal(t, "encryption", p["SSESpecification"], map[string]any{"SSEEnabled": true})
	equal(t, "deletion policy", tbl["DeletionPolicy"], "Retain")
}

// TestConsumers checks, for every consumer of the declaration, its function,
// log group, DLQ and subscription against the declared settings.
func TestConsumers(t *testing.T) {
	x := sample(t)
	topo := x.s.Props.Topology
	_, tableID := x.byPathID(t, "Idempotency/Resource")
	busID, _ := x.byPath(t, "Bus/Resource")
	streamID, _ := x.byPath(t, "Stream/Resource")
	for i := range topo.Consumers {
		c := &topo.Consumers[i]
		t.Run(c.Name, func(t *testing.T) {
			checkConsumer(t, x, c, tableID, busID, streamID)
		})
	}
	// One function, DLQ, role, policy and async config per consumer; a rule
	// per bus consumer, a mapping per stream consumer.
	bus, stream := 0, 0
	for _, c := range topo.Consumers {
		if c.OnBus() {
			bus++
		} else {
			stream++
		}
	}
	n := x.countByType()
	for typ, want := range map[string]int{
		"AWS::Lambda::Function": len(topo.Consumers), "AWS::SQS::Queue": len(topo.Consumers),
		"AWS::IAM::Role": len(topo.Consumers), "AWS::IAM::Policy": len(topo.Consumers),
		"AWS::Logs::LogGroup": len(topo.Consumers), "AWS::Events::Rule": bus,
		"AWS::Lambda::EventInvokeConfig": len(topo.Consumers), "AWS::Lambda::Permission": bus,
		"AWS::Lambda::EventSourceMapping": stream,
	} {
		if n[typ] != want {
			t.Errorf("%s: %d, want %d", typ, n[typ], want)
		}
	}
}

func (x synthesized) byPathID(t *testing.T, path string) (map[string]any, string) {
	id, r := x.byPath(t, path)
	return r, id
}

func checkConsumer(t *testing.T, x synthesized, c *topology.Consumer, tableID, busID, streamID string) {
	p := "Consumer" + pascal(c.Name) + "/"
	fnID, fn := x.byPath(t, p+"Function/Resource")
	dlqID, dlq := x.byPath(t, p+"DLQ/Resource")
	logsID, logs := x.byPath(t, p+"Logs/Resource")
	roleID, _ := x.byPath(t, p+"Role/Resource")

	f := props(fn)
	equal(t, "runtime", f["Runtime"], "provided.al2023")
	equal(t, "architectures", f["Architectures"], strs("arm64"))
	equal(t, "handler", f["Handler"], "bootstrap")
	equal(t, "timeout", f["Timeout"], num(c.Function.TimeoutSeconds))
	equal(t, "memory", f["MemorySize"], num(c.Function.MemorySize))
	equal(t, "role", f["Role"], getAtt(roleID, "Arn"))
	equal(t, "logging", f["LoggingConfig"], map[string]any{"LogGroup": ref(logsID)})
	env := map[string]any{stack.EnvDLQURL: ref(dlqID)}
	if !c.Idempotency.Disabled {
		env[stack.EnvIdempotencyTable] = ref(tableID)
	}
	if len(c.Emits) > 0 {
		env[stack.EnvBus] = ref(busID)
		env[stack.EnvStream] = ref(streamID)
	}
	equal(t, "environment", f["Environment"], map[string]any{"Variables": env})
	equal(t, "log retention", props(logs)["RetentionInDays"], 14)

	q := props(dlq)
	equal(t, "dlq retention", q["MessageRetentionPeriod"], 14*24*3600)
	equal(t, "dlq max message size", q["MaximumMessageSize"], 1048576)
	equal(t, "dlq encryption", q["SqsManagedSseEnabled"], true)
	_, qp := x.byPath(t, p+"DLQ/Policy/Resource")
	stmts := props(qp)["PolicyDocument"].(map[string]any)["Statement"].([]any)
	equal(t, "dlq denies plain http", stmts[0].(map[string]any)["Condition"], map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}})

	if c.OnBus() {
		ruleID, rule := x.byPath(t, p+"Rule")
		r := props(rule)
		equal(t, "rule name", r["Name"], c.Name)
		equal(t, "rule bus", r["EventBusName"], ref(busID))
		jsonEqual(t, "rule pattern", jsonOf(r["EventPattern"]), c.Bus.Pattern)
		equal(t, "rule targets", r["Targets"], []any{map[string]any{
			"Id": "Function", "Arn": getAtt(fnID, "Arn"),
			"RetryPolicy": map[string]any{
				"MaximumRetryAttempts":     *c.Target.MaximumRetryAttempts,
				"MaximumEventAgeInSeconds": c.Target.MaximumEventAgeInSeconds,
			},
			"DeadLetterConfig": map[string]any{"Arn": getAtt(dlqID, "Arn")},
		}})
		_, inv := x.byPath(t, p+"AsyncInvoke")
		equal(t, "async invoke config", props(inv), map[string]any{
			"FunctionName": ref(fnID), "Qualifier": "$LATEST",
			"MaximumRetryAttempts":     *c.Async.MaximumRetryAttempts,
			"MaximumEventAgeInSeconds": c.Async.MaximumEventAgeInSeconds,
			"DestinationConfig":        map[string]any{"OnFailure": map[string]any{"Destination": getAtt(dlqID, "Arn")}},
		})
		_, perm := x.byPath(t, p+"Function/InvokeByRule")
		equal(t, "invoke permission", props(perm), map[string]any{
			"Action": "lambda:InvokeFunction", "FunctionName": getAtt(fnID, "Arn"),
			"Principal": "events.amazonaws.com", "SourceArn": getAtt(ruleID, "Arn"),
		})
		equal(t, "dlq accepts the rule's dead letters", stmts[1], map[string]any{
			"Sid": "DeadLettersOfRule", "Effect": "Allow", "Action": "sqs:SendMessage",
			"Principal": map[string]any{"Service": "events.amazonaws.com"},
			"Resource":  getAtt(dlqID, "Arn"),
			"Condition": map[string]any{"ArnEquals": map[string]any{"aws:SourceArn": getAtt(ruleID, "Arn")}},
		})
		return
	}
	m := c.Mapping
	_, mapping := x.byPath(t, p+"Mapping")
	want := map[string]any{
		"FunctionName":                   ref(fnID),
		"EventSourceArn":                 getAtt(streamID, "Arn"),
		"StartingPosition":               m.StartingPosition,
		"BatchSize":                      m.BatchSize,
		"MaximumBatchingWindowInSeconds": m.MaximumBatchingWindowInSeconds,
		"ParallelizationFactor":          m.ParallelizationFactor,
		"BisectBatchOnFunctionError":     m.BisectBatchOnFunctionError,
		"MaximumRetryAttempts":           *m.MaximumRetryAttempts,
		"MaximumRecordAgeInSeconds":      *m.MaximumRecordAgeInSeconds,
		"FunctionResponseTypes":          strs("ReportBatchItemFailures"),
		"DestinationConfig":              map[string]any{"OnFailure": map[string]any{"Destination": getAtt(dlqID, "Arn")}},
		"Tags":                           props(mapping)["Tags"],
	}
	if c.Stream.Filter != "" {
		want["FilterCriteria"] = map[string]any{"Filters": []any{map[string]any{"Pattern": c.Stream.Filter}}}
	}
	equal(t, "mapping", props(mapping), want)
	equal(t, "mapping waits for its permissions", mapping["DependsOn"], strs(x.mustID(t, p+"Policy/Resource")))
}

func (x synthesized) mustID(t *testing.T, path string) string {
	id, _ := x.byPath(t, path)
	return id
}

// TestPolicies checks each consumer's whole policy: what it may do and on
// which resource, statement by statement.
func TestPolicies(t *testing.T) {
	x := sample(t)
	tableID := x.mustID(t, "Idempotency/Resource")
	busID := x.mustID(t, "Bus/Resource")
	streamID := x.mustID(t, "Stream/Resource")
	for _, c := range x.s.Props.Topology.Consumers {
		t.Run(c.Name, func(t *testing.T) {
			p := "Consumer" + pascal(c.Name) + "/"
			want := []any{
				stmt("Logs", strs("logs:CreateLogStream", "logs:PutLogEvents"), getAtt(x.mustID(t, p+"Logs/Resource"), "Arn"), nil),
				stmt("DeadLetters", "sqs:SendMessage", getAtt(x.mustID(t, p+"DLQ/Resource"), "Arn"), nil),
			}
			if !c.Idempotency.Disabled {
				want = append(want, stmt("OwnIdempotencyKeys",
					strs("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"), getAtt(tableID, "Arn"),
					map[string]any{"ForAllValues:StringLike": map[string]any{"dynamodb:LeadingKeys": strs(c.Name + "#*")}}))
			}
			if !c.OnBus() {
				want = append(want, stmt("ReadStream", strs("kinesis:DescribeStream", "kinesis:DescribeStreamSummary",
					"kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards", "kinesis:SubscribeToShard"),
					getAtt(streamID, "Arn"), nil))
			}
			if len(c.Emits) > 0 {
				want = append(want,
					stmt("PutOnBus", strs("events:PutEvents", "events:DescribeEventBus"), getAtt(busID, "Arn"), nil),
					stmt("PutOnStream", strs("kinesis:PutRecords", "kinesis:DescribeStreamSummary"), getAtt(streamID, "Arn"), nil))
			}
			_, pol := x.byPath(t, p+"Policy/Resource")
			pp := props(pol)
			equal(t, "statements", pp["PolicyDocument"].(map[string]any)["Statement"], want)
			equal(t, "attached to", pp["Roles"], []any{ref(x.mustID(t, p+"Role/Resource"))})
		})
	}
}

func stmt(sid string, actions, resource any, cond map[string]any) any {
	s := map[string]any{"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource}
	if cond != nil {
		s["Condition"] = cond
	}
	return s
}

// TestNoWildcards: no role carries a managed policy, and no statement of any
// IAM policy names "*" as its resource or action.
func TestNoWildcards(t *testing.T) {
	x := synth(t, nil, func(p *stack.Props) { p.Ingest = true; p.StreamCustomerKey = true })
	for _, id := range x.ofType("AWS::IAM::Role") {
		if mp, ok := props(x.resources()[id])["ManagedPolicyArns"]; ok {
			t.Errorf("role %s has managed policies %v", id, mp)
		}
	}
	for _, id := range x.ofType("AWS::IAM::Policy") {
		for _, s := range props(x.resources()[id])["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := s.(map[string]any)
			if strings.Contains(jsonOf(st["Action"]), "*") {
				t.Errorf("policy %s statement %v: wildcard action %s", id, st["Sid"], jsonOf(st["Action"]))
			}
			if strings.Contains(jsonOf(st["Resource"]), `"*"`) {
				t.Errorf("policy %s statement %v: wildcard resource %s", id, st["Sid"], jsonOf(st["Resource"]))
			}
		}
	}
}

func TestOutputs(t *testing.T) {
	x := sample(t)
	outs := x.doc["Outputs"].(map[string]any)
	value := func(name string) any {
		o, ok := outs[name].(map[string]any)
		if !ok {
			t.Fatalf("no output %s (outputs: %v)", name, keys(outs))
		}
		return o["Value"]
	}
	equal(t, "BusName", value("BusName"), ref(x.mustID(t, "Bus/Resource")))
	equal(t, "StreamName", value("StreamName"), ref(x.mustID(t, "Stream/Resource")))
	equal(t, "IdempotencyTableName", value("IdempotencyTableName"), ref(x.mustID(t, "Idempotency/Resource")))
	for _, c := range x.s.Props.Topology.Consumers {
		p := pascal(c.Name)
		equal(t, c.Name+" DLQ URL", value(p+"DlqUrl"), ref(x.mustID(t, "Consumer"+p+"/DLQ/Resource")))
		equal(t, c.Name+" function", value(p+"FunctionName"), ref(x.mustID(t, "Consumer"+p+"/Function/Resource")))
	}
}

func keys(m map[string]any) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}
