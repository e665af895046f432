package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	smithy "github.com/aws/smithy-go"

	"github.com/troupehq/troupe/producers"
)

// Whole-call error codes that are worth another call besides the SDK's own
// throttling and transient lists.
var retryableCallCodes = map[string]bool{
	"InternalFailure":     true,
	"InternalException":   true,
	"InternalServerError": true,
	"ServiceUnavailable":  true,
}

// translate turns an SDK error into the producers package's terms: it wraps
// producers.ErrNotFound for a missing bus, producers.ErrRetryable for a call
// worth repeating, and ctx's error when ctx ended. The SDK error's text is
// kept, its types are not: no smithy type escapes the adapter.
func translate(ctx context.Context, err error, what, bus string) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w (%s)", what, ctxErr, err)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code := apiErr.ErrorCode()
		switch {
		case code == "ResourceNotFoundException":
			return fmt.Errorf("%s: %w: event bus %q does not exist in this account and region: "+
				"deploy the stack that creates it, or fix the bus name (%s: %s)",
				what, producers.ErrNotFound, bus, code, apiErr.ErrorMessage())
		case code == "AccessDeniedException" || code == "UnrecognizedClientException" ||
			code == "InvalidSignatureException" || code == "ExpiredTokenException":
			return fmt.Errorf("%s: the caller may not use this bus: check the credentials and the "+
				"events:PutEvents / events:DescribeEventBus permissions (%s: %s)", what, code, apiErr.ErrorMessage())
		case retryableCallCodes[code] || isRetryable(err):
			return fmt.Errorf("%s: %w: EventBridge throttled or failed the call; send again after a backoff (%s: %s)",
				what, producers.ErrRetryable, code, apiErr.ErrorMessage())
		default:
			return fmt.Errorf("%s: rejected, sending the same call again will not help (%s: %s)",
				what, code, apiErr.ErrorMessage())
		}
	}
	if isRetryable(err) {
		return fmt.Errorf("%s: %w: EventBridge could not be reached or did not answer; "+
			"check the endpoint and network, then send again (%s)", what, producers.ErrRetryable, err)
	}
	return fmt.Errorf("%s: %s", what, err)
}

// isRetryable asks the SDK's own rules: throttling and transient codes,
// 5xx statuses, connection errors.
func isRetryable(err error) bool {
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}
