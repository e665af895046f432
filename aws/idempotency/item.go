package idempotency

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/troupehq/troupe/consumers"
)

// item is rec as a DynamoDB item: the key, status and payload hash as
// strings, Expiry in epoch seconds and InProgressExpiry in epoch
// milliseconds as numbers, the result as a JSON string. An empty hash or
// result is left out.
func (s *Store) item(rec consumers.IdempotencyRecord) map[string]types.AttributeValue {
	it := map[string]types.AttributeValue{
		s.cfg.KeyAttr:              &types.AttributeValueMemberS{Value: rec.Key},
		s.cfg.StatusAttr:           &types.AttributeValueMemberS{Value: string(rec.Status)},
		s.cfg.ExpiryAttr:           number(rec.Expiry.Unix()),
		s.cfg.InProgressExpiryAttr: number(rec.InProgressExpiry.UnixMilli()),
	}
	if rec.PayloadHash != "" {
		it[s.cfg.HashAttr] = &types.AttributeValueMemberS{Value: rec.PayloadHash}
	}
	if len(rec.Result) > 0 {
		it[s.cfg.ResultAttr] = &types.AttributeValueMemberS{Value: string(rec.Result)}
	}
	return it
}

// record decodes an item written by item, by Complete, or by Powertools.
func (s *Store) record(it map[string]types.AttributeValue) (consumers.IdempotencyRecord, error) {
	var rec consumers.IdempotencyRecord
	var err error
	if rec.Key, err = s.str(it, s.cfg.KeyAttr, true); err != nil {
		return rec, err
	}
	status, err := s.str(it, s.cfg.StatusAttr, true)
	if err != nil {
		return rec, err
	}
	rec.Status = consumers.IdempotencyStatus(status)
	if rec.PayloadHash, err = s.str(it, s.cfg.HashAttr, false); err != nil {
		return rec, err
	}
	result, err := s.str(it, s.cfg.ResultAttr, false)
	if err != nil {
		return rec, err
	}
	if result != "" {
		rec.Result = json.RawMessage(result)
	}
	if sec, ok, err := s.num(it, s.cfg.ExpiryAttr); err != nil {
		return rec, err
	} else if ok {
		rec.Expiry = time.Unix(sec, 0)
	}
	if ms, ok, err := s.num(it, s.cfg.InProgressExpiryAttr); err != nil {
		return rec, err
	} else if ok {
		rec.InProgressExpiry = time.UnixMilli(ms)
	}
	return rec, nil
}

func (s *Store) str(it map[string]types.AttributeValue, attr string, required bool) (string, error) {
	av, ok := it[attr]
	if !ok {
		if required {
			return "", fmt.Errorf("stored item has no attribute %q: is the table shared with another layout?", attr)
		}
		return "", nil
	}
	v, ok := av.(*types.AttributeValueMemberS)
	if !ok {
		return "", fmt.Errorf("stored item's attribute %q is a %s, want a string (S)", attr, avType(av))
	}
	return v.Value, nil
}

// num reads a number attribute as an integer; a fraction (as written by
// tools that store seconds with decimals) is truncated.
func (s *Store) num(it map[string]types.AttributeValue, attr string) (int64, bool, error) {
	av, ok := it[attr]
	if !ok {
		return 0, false, nil
	}
	v, ok := av.(*types.AttributeValueMemberN)
	if !ok {
		return 0, false, fmt.Errorf("stored item's attribute %q is a %s, want a number (N)", attr, avType(av))
	}
	if n, err := strconv.ParseInt(v.Value, 10, 64); err == nil {
		return n, true, nil
	}
	f, err := strconv.ParseFloat(v.Value, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > math.MaxInt64/2 {
		return 0, false, fmt.Errorf("stored item's attribute %q is %q, not an epoch time", attr, v.Value)
	}
	return int64(f), true, nil
}

func avType(av types.AttributeValue) string {
	switch av.(type) {
	case *types.AttributeValueMemberS:
		return "string (S)"
	case *types.AttributeValueMemberN:
		return "number (N)"
	case *types.AttributeValueMemberB:
		return "binary (B)"
	case *types.AttributeValueMemberBOOL:
		return "boolean (BOOL)"
	case *types.AttributeValueMemberNULL:
		return "null (NULL)"
	case *types.AttributeValueMemberM:
		return "map (M)"
	case *types.AttributeValueMemberL:
		return "list (L)"
	default:
		return "set"
	}
}

func number(n int64) *types.AttributeValueMemberN {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// conditionFailed reports whether err is DynamoDB's
// ConditionalCheckFailedException, whose Item holds the old item when the
// call asked for ALL_OLD.
func conditionFailed(err error) (*types.ConditionalCheckFailedException, bool) {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ccf, true
	}
	return nil, false
}

// claimed reports whether item carries the claim token of an Acquire.
func (s *Store) claimed(item map[string]types.AttributeValue, claim string) bool {
	v, ok := item[s.cfg.ClaimAttr].(*types.AttributeValueMemberS)
	return ok && v.Value == claim
}

// completedAs reports whether item is COMPLETED with the expiry (in seconds)
// and the result a Complete would write.
func (s *Store) completedAs(item map[string]types.AttributeValue, expiry time.Time, result json.RawMessage) bool {
	rec, err := s.record(item)
	return err == nil && rec.Status == consumers.Completed &&
		rec.Expiry.Unix() == expiry.Unix() && string(rec.Result) == string(result)
}
