package redrive_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/troupehq/troupe/aws/redrive"
	"github.com/troupehq/troupe/internal/awstest"
	"github.com/troupehq/troupe/topology"
)

// stackTemplate is a CloudFormation template with, for each consumer, the
// resources and outputs the CDK app (infra/stack) gives it: a queue, a role
// and a function under "Consumer<ID>", and the outputs <ID>DlqUrl (the
// queue's Ref: its URL) and <ID>FunctionName (the function's Ref: its
// name).
func stackTemplate(t *testing.T, consumers []topology.Consumer) string {
	t.Helper()
	res, outs := map[string]any{}, map[string]any{}
	for i := range consumers {
		id := consumers[i].StackID()
		p := "Consumer" + id
		res[p+"DLQ"] = map[string]any{"Type": "AWS::SQS::Queue", "Properties": map[string]any{"MessageRetentionPeriod": 1209600}}
		res[p+"Role"] = map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{"AssumeRolePolicyDocument": map[string]any{
			"Version": "2012-10-17", "Statement": []any{map[string]any{"Effect": "Allow",
				"Principal": map[string]any{"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}},
		}}}
		res[p+"Function"] = map[string]any{"Type": "AWS::Lambda::Function", "Properties": map[string]any{
			"Runtime": "provided.al2023", "Handler": "bootstrap", "Code": map[string]any{"ZipFile": "exit 1"},
			"Role": map[string]any{"Fn::GetAtt": []any{p + "Role", "Arn"}},
		}}
		outs[id+"DlqUrl"] = map[string]any{"Value": map[string]any{"Ref": p + "DLQ"}}
		outs[id+"FunctionName"] = map[string]any{"Value": map[string]any{"Ref": p + "Function"}}
	}
	outs["StreamArn"] = map[string]any{"Value": "arn:aws:kinesis:us-east-1:123456789012:stream/orders"}
	b, err := json.Marshal(map[string]any{"Resources": res, "Outputs": outs})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func createStack(t *testing.T, cf *cloudformation.Client, template string) string {
	t.Helper()
	name := awstest.Name(t, "troupe")
	if _, err := cf.CreateStack(ctxT(t), &cloudformation.CreateStackInput{
		StackName: aws.String(name), TemplateBody: aws.String(template),
	}); err != nil {
		t.Fatalf("create stack %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := cf.DeleteStack(context.Background(), &cloudformation.DeleteStackInput{StackName: aws.String(name)}); err != nil {
			t.Errorf("delete stack %s: %v", name, err)
		}
	})
	return name
}

func TestOutputs(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	useMotoLambda(t)
	cf := cloudformation.NewFromConfig(cfg)
	topo := shop(t)
	name := createStack(t, cf, stackTemplate(t, topo.Consumers))

	deps, err := redrive.Outputs(ctxT(t), cf, name, topo)
	if err != nil {
		t.Fatal(err)
	}
	if len(deps) != len(topo.Consumers) {
		t.Fatalf("%d deployments, want %d", len(deps), len(topo.Consumers))
	}
	for i, d := range deps {
		c := topo.Consumers[i]
		if d.Consumer != c.Name || !strings.Contains(d.DLQURL, "/"+name+"-Consumer"+c.StackID()+"DLQ") ||
			!strings.Contains(d.FunctionName, name+"-Consumer"+c.StackID()+"Function") {
			t.Errorf("deployment %d: %+v, want consumer %s with its stack's queue and function", i, d, c.Name)
		}
	}

	// What the CLI does with them: read a consumer's DLQ, redeliver to its
	// function.
	billing := deps[0]
	body := sample(t, "foreign/eventbridge-target-dlq.json")
	send(t, cfg, billing.DLQURL, body, nil)
	q := newQueue(t, cfg, billing.DLQURL)
	e := receiveOne(t, q, nil)
	rec := newRecorder()
	if err := redeliverer(t, cfg, rec, topo, deps).Redeliver(ctxT(t), e); err != nil {
		t.Fatal(err)
	}
	if inv := oneInvocation(t, rec, billing.FunctionName); string(inv.Payload) != body {
		t.Errorf("payload %s, want the body", inv.Payload)
	}
	deleteAndCheckEmpty(t, q, e)
}

func TestOutputsMissing(t *testing.T) {
	t.Parallel()
	cfg := awstest.Config(t)
	cf := cloudformation.NewFromConfig(cfg)
	topo := shop(t)
	// A stack deployed from a topology without shipping.
	name := createStack(t, cf, stackTemplate(t, topo.Consumers[:2]))
	_, err := redrive.Outputs(ctxT(t), cf, name, topo)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"stack " + name, "ShippingDlqUrl (consumer shipping)", "ShippingFunctionName (consumer shipping)", "BillingDlqUrl"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "no output BillingDlqUrl") || strings.Contains(err.Error(), "InventoryDlqUrl (consumer") {
		t.Errorf("error %q names outputs that are there as missing", err)
	}

	_, err = redrive.Outputs(ctxT(t), cf, awstest.Name(t, "nosuchstack"), topo)
	if err == nil || !strings.Contains(err.Error(), "no such stack") {
		t.Errorf("error %v, want one saying there is no such stack", err)
	}
}
