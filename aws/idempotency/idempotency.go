// Package idempotency is the DynamoDB adapter of consumers.IdempotencyStore:
// the record layout and conditional writes of Powertools for AWS Lambda
// (Python, TypeScript), so a table can be shared with, or inspected by, the
// same tools.
//
// Each operation is one DynamoDB call:
//   - Acquire is a conditional PutItem that asks for the old item on
//     failure (ReturnValuesOnConditionCheckFailure ALL_OLD), so a duplicate
//     is detected and described without a second read;
//   - Complete is an UpdateItem conditioned on the record still being
//     INPROGRESS;
//   - Release is a DeleteItem.
//
// Every call is safe to repeat after a lost answer, as the SDK's retryer does
// after a timeout, a dropped connection or a response that fails its CRC32
// check: an Acquire whose first attempt was written finds its own claim token
// in the way and reports the key acquired; a Complete finds the record
// already completed as it would have written it; a Release deletes nothing.
//
// Expiry is checked in the condition (against the caller's now), not left to
// the table's TTL, which deletes expired items only eventually (typically
// within a few days).
package idempotency

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/troupehq/troupe/consumers"
)

// API is the part of the DynamoDB client the Store uses.
type API interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

var _ API = (*dynamodb.Client)(nil)

// Config configures a Store. Only TableName is required; the attribute names
// default to those of Powertools for AWS Lambda.
type Config struct {
	// TableName is the table's name or ARN. Its partition key is KeyAttr, of
	// type S, with no sort key; its TTL attribute should be ExpiryAttr (see
	// CreateTable).
	TableName string
	// KeyAttr holds the record's key, "<consumer>#<key>". Default "id".
	KeyAttr string
	// StatusAttr holds INPROGRESS or COMPLETED. Default "status".
	StatusAttr string
	// ExpiryAttr holds the record's Expiry in epoch seconds (a number): the
	// table's TTL attribute. Default "expiration".
	ExpiryAttr string
	// InProgressExpiryAttr holds the INPROGRESS lock's expiry in epoch
	// milliseconds (a number). Default "in_progress_expiration".
	InProgressExpiryAttr string
	// HashAttr holds the payload hash (a string). Default "validation".
	HashAttr string
	// ResultAttr holds the completed run's result as a JSON string. Default
	// "data".
	ResultAttr string
	// ClaimAttr holds a random token per Acquire (a string), by which a
	// retried Acquire recognises its own write. Powertools ignores it.
	// Default "claim".
	ClaimAttr string
}

// SetDefaults fills in the attribute names left empty and trims TableName.
func (c *Config) SetDefaults() {
	c.TableName = strings.TrimSpace(c.TableName)
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.KeyAttr, "id")
	def(&c.StatusAttr, "status")
	def(&c.ExpiryAttr, "expiration")
	def(&c.InProgressExpiryAttr, "in_progress_expiration")
	def(&c.HashAttr, "validation")
	def(&c.ResultAttr, "data")
	def(&c.ClaimAttr, "claim")
}

// tableNameRE is DynamoDB's rule for a table name's characters; its length,
// 3-255, is checked apart (validTableName), since a {3,255} repetition makes
// a large regexp, slow to compile at every start.
var tableNameRE = regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`)

func validTableName(name string) bool {
	return len(name) >= 3 && len(name) <= 255 && tableNameRE.MatchString(name)
}

// Validate reports what is wrong with the configuration. Call SetDefaults
// first: an empty attribute name is an error.
func (c Config) Validate() error {
	switch {
	case c.TableName == "":
		return errors.New("idempotency: Config.TableName is required: the DynamoDB table's name or ARN")
	case strings.HasPrefix(c.TableName, "arn:"):
		i := strings.Index(c.TableName, ":table/")
		if i < 0 || strings.Count(c.TableName[:i], ":") != 4 || !validTableName(c.TableName[i+len(":table/"):]) {
			return fmt.Errorf("idempotency: Config.TableName %q is not a DynamoDB table ARN "+
				"(want arn:PARTITION:dynamodb:REGION:ACCOUNT:table/NAME)", c.TableName)
		}
	case !validTableName(c.TableName):
		return fmt.Errorf("idempotency: Config.TableName %q is not a valid DynamoDB table name "+
			"(3-255 of letters, digits, '_', '-', '.')", c.TableName)
	}
	attrs := []struct{ field, name string }{
		{"KeyAttr", c.KeyAttr}, {"StatusAttr", c.StatusAttr}, {"ExpiryAttr", c.ExpiryAttr},
		{"InProgressExpiryAttr", c.InProgressExpiryAttr}, {"HashAttr", c.HashAttr}, {"ResultAttr", c.ResultAttr},
		{"ClaimAttr", c.ClaimAttr},
	}
	seen := map[string]string{}
	for _, a := range attrs {
		if a.name == "" {
			return fmt.Errorf("idempotency: Config.%s is empty: call SetDefaults, or name the attribute", a.field)
		}
		if prev, ok := seen[a.name]; ok {
			return fmt.Errorf("idempotency: Config.%s and Config.%s both name attribute %q: each needs its own",
				prev, a.field, a.name)
		}
		seen[a.name] = a.field
	}
	return nil
}

// Store keeps idempotency records in one DynamoDB table. It implements
// consumers.IdempotencyStore and is safe for concurrent use (by many
// goroutines and processes: every method is one atomic DynamoDB call).
type Store struct {
	api API
	cfg Config

	// Read-only after New: the SDK only reads them.
	acquireNames  map[string]string
	completeNames map[string]string
}

var _ consumers.IdempotencyStore = (*Store)(nil)

// Expressions. Names go through ExpressionAttributeNames since "status" and
// "data" are DynamoDB reserved words.
const (
	// acquireCondition is Powertools' condition, with <= where it has <: the
	// port says a record is expired when Expiry <= now, and a lock may be
	// taken over when InProgressExpiry <= now.
	acquireCondition = "attribute_not_exists(#id) OR #expiry <= :now OR " +
		"(#status = :inprogress AND attribute_exists(#in_progress_expiry) AND #in_progress_expiry <= :now_in_millis)"
	completeCondition = "attribute_exists(#id) AND #status = :inprogress"
)

// New returns a Store on the table in cfg, calling DynamoDB through api.
func New(api API, cfg Config) (*Store, error) {
	if api == nil {
		return nil, errors.New("idempotency: New: api is nil: pass a *dynamodb.Client")
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Store{
		api: api,
		cfg: cfg,
		acquireNames: map[string]string{
			"#id":                 cfg.KeyAttr,
			"#expiry":             cfg.ExpiryAttr,
			"#status":             cfg.StatusAttr,
			"#in_progress_expiry": cfg.InProgressExpiryAttr,
		},
		completeNames: map[string]string{
			"#id":     cfg.KeyAttr,
			"#status": cfg.StatusAttr,
			"#expiry": cfg.ExpiryAttr,
			"#data":   cfg.ResultAttr,
		},
	}, nil
}

// NewFromConfig returns a Store that calls DynamoDB with a client built from
// awsCfg and optFns (e.g. to set BaseEndpoint, HTTPClient or Retryer).
//
// The client keeps the SDK's own retryer, which repeats a call that throttles
// or fails with a 5xx a few times before the Store returns its error.
func NewFromConfig(awsCfg aws.Config, cfg Config, optFns ...func(*dynamodb.Options)) (*Store, error) {
	return New(dynamodb.NewFromConfig(awsCfg, optFns...), cfg)
}

// TableName returns the table the Store keeps its records in.
func (s *Store) TableName() string { return s.cfg.TableName }

// Acquire implements consumers.IdempotencyStore with one conditional PutItem.
// rec.Status must be empty or INPROGRESS (it is written as INPROGRESS);
// rec.Expiry and rec.InProgressExpiry must be set. Expiry is kept in whole
// seconds and InProgressExpiry in milliseconds (both truncated), and compared
// with now at that precision.
//
// When the condition fails, DynamoDB returns the record in the way with the
// error, and Acquire returns it with acquired false: no second read. If that
// record carries this call's claim token, the SDK repeated a PutItem whose
// first attempt was written but whose answer was lost: the key is acquired.
func (s *Store) Acquire(ctx context.Context, rec consumers.IdempotencyRecord, now time.Time) (consumers.IdempotencyRecord, bool, error) {
	if err := rec.CheckAcquire(); err != nil {
		return consumers.IdempotencyRecord{}, false, err
	}
	rec.Status = consumers.InProgress
	claim := rand.Text()
	item := s.item(rec)
	item[s.cfg.ClaimAttr] = &types.AttributeValueMemberS{Value: claim}
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                s.table(),
		Item:                     item,
		ConditionExpression:      aws.String(acquireCondition),
		ExpressionAttributeNames: s.acquireNames,
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now":           number(now.Unix()),
			":now_in_millis": number(now.UnixMilli()),
			":inprogress":    &types.AttributeValueMemberS{Value: string(consumers.InProgress)},
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return consumers.IdempotencyRecord{}, true, nil
	}
	if ccf, ok := conditionFailed(err); ok {
		if ccf.Item == nil {
			return consumers.IdempotencyRecord{}, false, fmt.Errorf("idempotency: acquire %q in table %q: the condition failed "+
				"but DynamoDB returned no item (ReturnValuesOnConditionCheckFailure ALL_OLD unsupported?): "+
				"the record in the way is unknown", rec.Key, s.cfg.TableName)
		}
		if s.claimed(ccf.Item, claim) {
			return consumers.IdempotencyRecord{}, true, nil
		}
		existing, derr := s.record(ccf.Item)
		if derr != nil {
			return consumers.IdempotencyRecord{}, false, fmt.Errorf("idempotency: acquire %q in table %q: %w", rec.Key, s.cfg.TableName, derr)
		}
		return existing, false, nil
	}
	return consumers.IdempotencyRecord{}, false, s.translate(ctx, err, "acquire", rec.Key)
}

// Complete implements consumers.IdempotencyStore with one UpdateItem that
// sets the status, the expiry and the result (or removes a previous result
// when result is empty), on condition that the record is still INPROGRESS.
// Completing a key that is absent (never acquired, released, or removed by
// the TTL) or already COMPLETED is an error that says which.
//
// A record already COMPLETED with this expiry and result is taken for this
// call's own write, answered after a retry, and Complete returns nil: the
// table holds what the caller asked for either way.
//
// The condition cannot tell the caller's lock from one taken over by another
// run after the caller's InProgressExpiry: both are INPROGRESS.
func (s *Store) Complete(ctx context.Context, key string, expiry time.Time, result json.RawMessage) error {
	if err := consumers.CheckComplete(key, expiry, result); err != nil {
		return err
	}
	values := map[string]types.AttributeValue{
		":completed":  &types.AttributeValueMemberS{Value: string(consumers.Completed)},
		":inprogress": &types.AttributeValueMemberS{Value: string(consumers.InProgress)},
		":expiry":     number(expiry.Unix()),
	}
	update := "SET #status = :completed, #expiry = :expiry"
	if len(result) > 0 {
		update += ", #data = :data"
		values[":data"] = &types.AttributeValueMemberS{Value: string(result)}
	} else {
		update += " REMOVE #data"
	}
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                           s.table(),
		Key:                                 s.key(key),
		UpdateExpression:                    aws.String(update),
		ConditionExpression:                 aws.String(completeCondition),
		ExpressionAttributeNames:            s.completeNames,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err == nil {
		return nil
	}
	if ccf, ok := conditionFailed(err); ok {
		if len(ccf.Item) == 0 {
			return fmt.Errorf("idempotency: complete %q in table %q: no record: the key was never acquired, "+
				"was released, or expired and was removed; the caller does not hold it", key, s.cfg.TableName)
		}
		if s.completedAs(ccf.Item, expiry, result) {
			return nil
		}
		status := "unknown"
		if v, ok := ccf.Item[s.cfg.StatusAttr].(*types.AttributeValueMemberS); ok {
			status = v.Value
		}
		return fmt.Errorf("idempotency: complete %q in table %q: the record is %s, not %s: the caller does not hold it",
			key, s.cfg.TableName, status, consumers.InProgress)
	}
	return s.translate(ctx, err, "complete", key)
}

// Release implements consumers.IdempotencyStore with one DeleteItem. It is
// unconditional, as in Powertools: releasing an absent key is not an error,
// so a Release repeated after a lost answer is harmless.
func (s *Store) Release(ctx context.Context, key string) error {
	if key == "" {
		return errors.New("idempotency: release: the key is empty")
	}
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: s.table(), Key: s.key(key)})
	if err != nil {
		return s.translate(ctx, err, "release", key)
	}
	return nil
}

func (s *Store) table() *string { return aws.String(s.cfg.TableName) }

func (s *Store) key(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{s.cfg.KeyAttr: &types.AttributeValueMemberS{Value: key}}
}
