package stream

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
// throttling and transient lists (which hold
// ProvisionedThroughputExceededException and LimitExceededException).
var retryableCallCodes = map[string]bool{
	"InternalFailure":        true,
	"InternalException":      true,
	"InternalServerError":    true,
	"ServiceUnavailable":     true,
	"KMSThrottlingException": true,
}

// kmsCodes are whole-call errors about the stream's encryption key that
// repeat until someone fixes the key.
var kmsCodes = map[string]bool{
	"KMSAccessDeniedException": true,
	"KMSDisabledException":     true,
	"KMSNotFoundException":     true,
	"KMSInvalidStateException": true,
	"KMSOptInRequired":         true,
}

// translate turns an SDK error into the producers package's terms: it wraps
// producers.ErrNotFound for a missing stream, producers.ErrRetryable for a
// call worth repeating, and ctx's error when ctx ended. The SDK error's text
// is kept, its types are not: no smithy type escapes the adapter.
func translate(ctx context.Context, err error, what, stream string) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w (%s)", what, ctxErr, err)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code := apiErr.ErrorCode()
		switch {
		case code == "ResourceNotFoundException":
			return fmt.Errorf("%s: %w: kinesis stream %q does not exist in this account and region: "+
				"deploy the stack that creates it, or fix the stream name (%s: %s)",
				what, producers.ErrNotFound, stream, code, apiErr.ErrorMessage())
		case kmsCodes[code]:
			return fmt.Errorf("%s: the stream's KMS key cannot be used: check that the key exists, is enabled, "+
				"and that the caller may use it (%s: %s)", what, code, apiErr.ErrorMessage())
		case code == "AccessDeniedException" || code == "UnrecognizedClientException" ||
			code == "InvalidSignatureException" || code == "ExpiredTokenException":
			return fmt.Errorf("%s: the caller may not use this stream: check the credentials and the "+
				"kinesis:PutRecords / kinesis:DescribeStreamSummary permissions (%s: %s)", what, code, apiErr.ErrorMessage())
		case retryableCallCodes[code] || isRetryable(err):
			return fmt.Errorf("%s: %w: Kinesis throttled or failed the call; write again after a backoff (%s: %s)",
				what, producers.ErrRetryable, code, apiErr.ErrorMessage())
		default:
			return fmt.Errorf("%s: rejected, writing the same call again will not help (%s: %s)",
				what, code, apiErr.ErrorMessage())
		}
	}
	if isRetryable(err) {
		return fmt.Errorf("%s: %w: Kinesis could not be reached or did not answer; "+
			"check the endpoint and network, then write again (%s)", what, producers.ErrRetryable, err)
	}
	return fmt.Errorf("%s: %s", what, err)
}

// isRetryable asks the SDK's own rules: throttling and transient codes,
// 5xx statuses, connection errors.
func isRetryable(err error) bool {
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}
