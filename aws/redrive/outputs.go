package redrive

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/troupehq/troupe/topology"
)

// CloudFormationAPI is the part of the CloudFormation client Outputs uses.
type CloudFormationAPI interface {
	DescribeStacks(ctx context.Context, in *cloudformation.DescribeStacksInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DescribeStacksOutput, error)
}

var _ CloudFormationAPI = (*cloudformation.Client)(nil)

// The stack outputs the CDK app (infra/) writes for each consumer, after
// the consumer's StackID: "<ID>DlqUrl" and "<ID>FunctionName".
const (
	OutputDLQURL       = "DlqUrl"
	OutputFunctionName = "FunctionName"
)

// Deployment is what one consumer of the topology became in a deployed
// stack.
type Deployment struct {
	// Consumer is the consumer's name in the topology.
	Consumer string
	// DLQURL is the URL of its dead-letter queue (output <ID>DlqUrl).
	DLQURL string
	// FunctionName is its Lambda function's name (output <ID>FunctionName).
	FunctionName string
}

// Outputs reads the outputs of the stack stackName with DescribeStacks and
// returns, for each consumer of topo in declaration order, its DLQ URL and
// function name. A consumer whose outputs the stack lacks is an error that
// names the stack and each missing output: the stack was deployed from
// another topology, or its deployment has not finished.
func Outputs(ctx context.Context, api CloudFormationAPI, stackName string, topo *topology.Topology) ([]Deployment, error) {
	if api == nil {
		return nil, errors.New("redrive: Outputs: api is nil: pass a *cloudformation.Client")
	}
	if topo == nil || len(topo.Consumers) == 0 {
		return nil, errors.New("redrive: Outputs: the topology declares no consumer")
	}
	what := fmt.Sprintf("cloudformation DescribeStacks %q", stackName)
	out, err := api.DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(stackName)})
	if err != nil {
		if t := translateCommon(ctx, err, what, "cloudformation:DescribeStacks"); t != nil {
			return nil, t
		}
		code, msg, _ := apiError(err)
		if code == "ValidationError" && strings.Contains(msg, "does not exist") {
			return nil, fmt.Errorf("%s: no such stack in this account and region: deploy it (cdk deploy), or "+
				"name the stack it was deployed as, and check the region (%s: %s)", what, code, msg)
		}
		return nil, fmt.Errorf("%s: rejected (%s: %s)", what, code, msg)
	}
	if len(out.Stacks) != 1 {
		return nil, fmt.Errorf("%s: %d stacks in the answer, want 1", what, len(out.Stacks))
	}
	st := out.Stacks[0]
	values := map[string]string{}
	for _, o := range st.Outputs {
		values[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	var (
		deps    []Deployment
		missing []string
	)
	for i := range topo.Consumers {
		c := &topo.Consumers[i]
		id := c.StackID()
		d := Deployment{Consumer: c.Name, DLQURL: values[id+OutputDLQURL], FunctionName: values[id+OutputFunctionName]}
		if d.DLQURL == "" {
			missing = append(missing, id+OutputDLQURL+" (consumer "+c.Name+")")
		}
		if d.FunctionName == "" {
			missing = append(missing, id+OutputFunctionName+" (consumer "+c.Name+")")
		}
		deps = append(deps, d)
	}
	if len(missing) > 0 {
		keys := make([]string, 0, len(values))
		for k := range values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return nil, fmt.Errorf("stack %s (%s) has no output %s: deploy the stack from this topology (%s), "+
			"or wait for its deployment to finish (its outputs: %s)",
			stackName, st.StackStatus, strings.Join(missing, ", "), topo.Name, list(keys))
	}
	return deps, nil
}

// OutputsFromConfig is Outputs with a CloudFormation client built from
// awsCfg and optFns.
func OutputsFromConfig(ctx context.Context, awsCfg aws.Config, stackName string, topo *topology.Topology,
	optFns ...func(*cloudformation.Options)) ([]Deployment, error) {
	return Outputs(ctx, cloudformation.NewFromConfig(awsCfg, optFns...), stackName, topo)
}

func list(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
