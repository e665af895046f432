package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// IngestName names the ingest function's code: dist/lambdas/ingest/bootstrap.
const IngestName = "ingest"

// IngestPath is the route other systems POST CloudEvents to, as on `troupe
// dev` (local.PathCloudEvents).
const IngestPath = "/cloudevents"

// Ingest is the HTTP API for systems that cannot use an AWS SDK: IAM
// (SigV4) authorization in front of a function that validates events and
// publishes them on both legs.
type Ingest struct {
	Scope    constructs.Construct
	API      awsapigatewayv2.HttpApi
	Function awslambda.Function
	Role     awsiam.Role
	Policy   awsiam.Policy
	LogGroup awslogs.LogGroup
}

func (s *Stack) addIngest(code awslambda.Code) {
	scope := constructs.NewConstruct(s.Stack, jsii.String("Ingest"))
	in := &Ingest{Scope: scope}
	in.LogGroup = awslogs.NewLogGroup(scope, jsii.String("Logs"), &awslogs.LogGroupProps{
		Retention: s.Props.LogRetention, RemovalPolicy: s.Props.RemovalPolicy,
	})
	in.Role = awsiam.NewRole(scope, jsii.String("Role"), &awsiam.RoleProps{
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		Description: jsii.String("runs troupe's ingest function"),
	})
	st := append([]awsiam.PolicyStatement{statement("Logs", logActions, []*string{in.LogGroup.LogGroupArn()}, nil)}, s.emitStatements()...)
	in.Policy = awsiam.NewPolicy(scope, jsii.String("Policy"), &awsiam.PolicyProps{Roles: &[]awsiam.IRole{in.Role}, Statements: &st})
	in.Function = awslambda.NewFunction(scope, jsii.String("Function"), &awslambda.FunctionProps{
		Description:  jsii.String("troupe ingest: CloudEvents over HTTP onto the bus and the stream"),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         code,
		Role:         in.Role,
		Timeout:      awscdk.Duration_Seconds(jsii.Number(10)),
		MemorySize:   jsii.Number(256),
		Environment:  &map[string]*string{EnvBus: s.Bus.EventBusName(), EnvStream: s.Stream.StreamName()},
		LogGroup:     in.LogGroup,
	})
	in.Function.Node().AddDependency(in.Policy)
	in.API = awsapigatewayv2.NewHttpApi(scope, jsii.String("Api"), &awsapigatewayv2.HttpApiProps{
		ApiName:           jsii.String(s.Name() + "-ingest"),
		Description:       jsii.String("troupe " + s.Name() + ": publish CloudEvents (SigV4-signed requests only)"),
		DefaultAuthorizer: awsapigatewayv2authorizers.NewHttpIamAuthorizer(),
	})
	in.API.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
		Path:        jsii.String(IngestPath),
		Methods:     &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_POST},
		Integration: awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("Function"), in.Function, nil),
	})
	s.Ingest = in
	s.alarm(scope, "ErrorsAlarm", "ingest-errors", "the ingest function returned errors",
		metric("AWS/Lambda", "Errors", "Sum", fiveMinutes(), map[string]*string{"FunctionName": in.Function.FunctionName()}), 0)
	awscdk.NewCfnOutput(s.Stack, jsii.String("IngestUrl"), &awscdk.CfnOutputProps{
		Value:       jsii.String(*in.API.ApiEndpoint() + IngestPath),
		Description: jsii.String("POST CloudEvents here, signed with SigV4 (service execute-api) by a principal allowed execute-api:Invoke"),
	})
}
