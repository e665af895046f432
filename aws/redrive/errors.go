package redrive

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	smithy "github.com/aws/smithy-go"
)

// ErrNotRedeliverable marks a dead letter that no redelivery can help: its
// payload never decoded, it names no consumer of the topology, or its shape
// does not fit the consumer. The message stays in its queue.
var ErrNotRedeliverable = errors.New("redrive: the message cannot be redelivered")

// ErrPastRetention marks a Kinesis failure record whose records the stream
// no longer holds: they are past its retention period, or their shard was
// deleted. Nothing is invoked, and the message stays in its queue (it still
// says which batch was lost).
var ErrPastRetention = errors.New("redrive: the records are past the stream's retention")

// accessCodes are the error codes of a caller without credentials or
// permission, across the services used here.
var accessCodes = map[string]bool{
	"AccessDenied": true, "AccessDeniedException": true, "InvalidClientTokenId": true,
	"UnrecognizedClientException": true, "SignatureDoesNotMatch": true, "InvalidSignatureException": true,
	"InvalidSecurity": true, "ExpiredToken": true, "ExpiredTokenException": true,
	"KMSAccessDeniedException": true, "KMSDisabledException": true, "KMSNotFoundException": true,
}

// apiError returns the code and message of an AWS error, if err is one.
func apiError(err error) (code, msg string, ok bool) {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return "", "", false
	}
	return apiErr.ErrorCode(), apiErr.ErrorMessage(), true
}

// translateCommon handles what every service shares: an ended ctx, no
// answer, no permission, throttling. It returns nil for the rest. The SDK
// error's text is kept, its types are not: no smithy type escapes.
func translateCommon(ctx context.Context, err error, what, permission string) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w (%s)", what, ctxErr, err)
	}
	code, msg, ok := apiError(err)
	switch {
	case !ok:
		return fmt.Errorf("%s: AWS could not be reached or did not answer: check the endpoint, the network "+
			"and the region, then try again (%s)", what, err)
	case accessCodes[code]:
		return fmt.Errorf("%s: the caller may not do this: check the credentials, the region and the %s "+
			"permission (%s: %s)", what, permission, code, msg)
	case strings.Contains(code, "Throttl") || code == "TooManyRequestsException" || code == "RequestThrottled" ||
		code == "ProvisionedThroughputExceededException" || code == "LimitExceededException" || isRetryable(err):
		return fmt.Errorf("%s: AWS throttled or failed the call: try again later, or more slowly (%s: %s)", what, code, msg)
	}
	return nil
}

func translateSQS(ctx context.Context, err error, what, permission string) error {
	if t := translateCommon(ctx, err, what, permission); t != nil {
		return t
	}
	code, msg, _ := apiError(err)
	switch code {
	case "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue":
		return fmt.Errorf("%s: the queue does not exist in this account and region: check the stack's "+
			"<Consumer>DlqUrl output, the region and the credentials (%s: %s)", what, code, msg)
	}
	return fmt.Errorf("%s: rejected (%s: %s)", what, code, msg)
}

// isRetryable asks the SDK's own rules: throttling and transient codes,
// 5xx statuses, connection errors.
func isRetryable(err error) bool {
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}
