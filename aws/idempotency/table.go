package idempotency

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CreateTableAPI is the part of the DynamoDB client CreateTable uses.
type CreateTableAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

var _ CreateTableAPI = (*dynamodb.Client)(nil)

// CreateTable creates a table for a Store with the default Config: partition
// key "id" (S), no sort key, on-demand billing; it waits until the table is
// ACTIVE and then turns on TTL on "expiration". It is for tests and local
// tooling: deployed tables come from the CDK stack. A table that already
// exists is an error. ctx bounds the whole wait.
func CreateTable(ctx context.Context, api CreateTableAPI, name string) error {
	var cfg Config
	cfg.TableName = name
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	if _, err := api.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(cfg.KeyAttr), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(cfg.KeyAttr), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		return tableError(ctx, err, "create", name)
	}
	// UpdateTimeToLive needs an ACTIVE table.
	for delay := 50 * time.Millisecond; ; delay = min(2*delay, 2*time.Second) {
		out, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return tableError(ctx, err, "describe", name)
		}
		if out.Table != nil && out.Table.TableStatus == types.TableStatusActive {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("idempotency: table %q did not become ACTIVE: %w", name, ctx.Err())
		case <-time.After(delay):
		}
	}
	if _, err := api.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(cfg.ExpiryAttr),
			Enabled:       aws.Bool(true),
		},
	}); err != nil {
		return tableError(ctx, err, "turn on TTL of", name)
	}
	return nil
}

func tableError(ctx context.Context, err error, op, name string) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("idempotency: %s table %q: %w (%s)", op, name, ctxErr, err)
	}
	// The text only: no smithy type escapes.
	return fmt.Errorf("idempotency: %s table %q: %s", op, name, err)
}
