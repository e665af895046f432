package awstest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/troupehq/troupe/aws/idempotency"
)

// X-Amz-Target values (AWS JSON 1.0) of the DynamoDB item calls.
const (
	TargetPutItem    = "DynamoDB_20120810.PutItem"
	TargetGetItem    = "DynamoDB_20120810.GetItem"
	TargetUpdateItem = "DynamoDB_20120810.UpdateItem"
	TargetDeleteItem = "DynamoDB_20120810.DeleteItem"
)

// NewTable creates a fresh idempotency table (idempotency.CreateTable: key
// "id" (S), on-demand, TTL on "expiration"), and deletes it when the test
// ends. It returns the table's name.
func NewTable(t testing.TB, cfg aws.Config) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	db := dynamodb.NewFromConfig(cfg)
	name := Name(t, "idem")
	if err := idempotency.CreateTable(ctx, db, name); err != nil {
		t.Fatalf("awstest: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		defer cancel()
		if _, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			t.Errorf("awstest: delete table %s: %v", name, err)
		}
	})
	return name
}
