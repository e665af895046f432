package idempotency

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	smithy "github.com/aws/smithy-go"
)

// Whole-call error codes that mean DynamoDB could not answer now, besides
// the SDK's own throttling and transient lists (which hold
// ProvisionedThroughputExceededException, ThrottlingException and
// RequestLimitExceeded).
var unavailableCodes = map[string]bool{
	"InternalServerError":                    true,
	"InternalFailure":                        true,
	"ServiceUnavailable":                     true,
	"RequestLimitExceeded":                   true,
	"TransactionConflict":                    true,
	"ReplicatedWriteConflict":                true,
	"LimitExceededException":                 true,
	"ThrottlingException":                    true,
	"ProvisionedThroughputExceededException": true,
}

var accessCodes = map[string]bool{
	"AccessDeniedException":       true,
	"UnrecognizedClientException": true,
	"InvalidSignatureException":   true,
	"ExpiredTokenException":       true,
	"MissingAuthenticationToken":  true,
}

// translate turns an SDK error into a message that says what to do. Every
// error it returns means the store could not answer; the caller must not
// treat the event as handled. ctx's error is wrapped when ctx ended; the SDK
// error's text is kept, its types are not: no smithy type escapes the
// adapter.
func (s *Store) translate(ctx context.Context, err error, op, key string) error {
	what := fmt.Sprintf("idempotency: %s %q in DynamoDB table %q", op, key, s.cfg.TableName)
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w (%s)", what, ctxErr, err)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code, msg := apiErr.ErrorCode(), apiErr.ErrorMessage()
		switch {
		case code == "ResourceNotFoundException":
			return fmt.Errorf("%s: the table does not exist in this account and region: deploy the stack that "+
				"creates it (or create it with idempotency.CreateTable), or fix the table name (%s: %s)", what, code, msg)
		case accessCodes[code]:
			return fmt.Errorf("%s: the caller may not use this table: check the credentials and the "+
				"dynamodb:PutItem, dynamodb:UpdateItem and dynamodb:DeleteItem permissions (%s: %s)", what, code, msg)
		case unavailableCodes[code] || isRetryable(err):
			return fmt.Errorf("%s: the idempotency store is unavailable: DynamoDB throttled or failed the call; "+
				"the event was not handled, retry it after a backoff (%s: %s)", what, code, msg)
		case code == "ValidationException":
			return fmt.Errorf("%s: DynamoDB rejected the call: check that the table's partition key is %q of type S, "+
				"with no sort key (%s: %s)", what, s.cfg.KeyAttr, code, msg)
		default:
			return fmt.Errorf("%s: DynamoDB rejected the call (%s: %s)", what, code, msg)
		}
	}
	if isRetryable(err) {
		return fmt.Errorf("%s: the idempotency store is unavailable: DynamoDB could not be reached or did not answer; "+
			"check the endpoint and network (%s)", what, err)
	}
	return fmt.Errorf("%s: %s", what, err)
}

// isRetryable asks the SDK's own rules: throttling and transient codes,
// 5xx statuses, connection errors.
func isRetryable(err error) bool {
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}
