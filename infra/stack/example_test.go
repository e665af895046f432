package stack_test

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/troupehq/troupe/choreography"
	"github.com/troupehq/troupe/infra/stack"
)

// A CDK app of a few lines deploys a whole choreography: here the sample's,
// in a user's module its own topology. Each consumer's code comes from
// dist/lambdas/<name>/bootstrap (`make lambdas`).
func Example() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	t, err := choreography.Topology()
	if err != nil {
		panic(err)
	}
	if _, err := stack.New(app, "troupe-orders-prod", stack.Props{
		Topology:             t,
		Stage:                "prod",
		ArchiveRetentionDays: 30,
		StreamMode:           stack.Provisioned,
		ShardCount:           2,
		PutEventsAccounts:    []string{"111111111111"},
	}); err != nil {
		fmt.Println(err)
		return
	}
	app.Synth(nil)
}
