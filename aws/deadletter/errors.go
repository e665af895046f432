package deadletter

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	smithy "github.com/aws/smithy-go"

	"github.com/troupehq/troupe/consumers"
)

// translate turns an SDK error into text a user can act on, wrapping
// consumers.ErrTooLarge when SQS refused the message as too long and ctx's
// error when ctx ended. The SDK error's text is kept, its types are not: no
// smithy type escapes the adapter.
func translate(ctx context.Context, err error, what string, cfg Config, size int) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w (%s)", what, ctxErr, err)
	}
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return fmt.Errorf("%s: SQS could not be reached or did not answer: check the endpoint, the network "+
			"and the region, then send again (%s)", what, err)
	}
	code, msg := apiErr.ErrorCode(), apiErr.ErrorMessage()
	switch {
	case code == "QueueDoesNotExist" || code == "AWS.SimpleQueueService.NonExistentQueue":
		return fmt.Errorf("%s: the queue does not exist in this account and region: deploy the stack "+
			"that creates it, or fix Config.QueueURL (%s: %s)", what, code, msg)
	case code == "InvalidParameterValue" && strings.Contains(msg, "shorter than"),
		code == "MessageTooLong":
		return fmt.Errorf("%s: %w: SQS refused %d bytes as too long: the queue's MaximumMessageSize is "+
			"below Config.MaxMessageBytes (%d): raise it (up to 1,048,576) or set MaxMessageBytes to it (%s: %s)",
			what, consumers.ErrTooLarge, size, cfg.MaxMessageBytes, code, msg)
	case code == "AccessDenied" || code == "AccessDeniedException" || code == "InvalidClientTokenId" ||
		code == "UnrecognizedClientException" || code == "SignatureDoesNotMatch" ||
		code == "InvalidSecurity" || code == "ExpiredToken" || code == "ExpiredTokenException":
		return fmt.Errorf("%s: the caller may not send to this queue: check the credentials and the "+
			"sqs:SendMessage permission (%s: %s)", what, code, msg)
	case strings.HasPrefix(code, "Kms") || strings.HasPrefix(code, "KMS."):
		return fmt.Errorf("%s: the queue is encrypted and its KMS key refused: check the key exists, is "+
			"enabled, and allows kms:GenerateDataKey and kms:Decrypt to the caller (%s: %s)", what, code, msg)
	case code == "RequestThrottled" || code == "ThrottlingException" || isRetryable(err):
		return fmt.Errorf("%s: SQS throttled or failed the call; send again after a backoff (%s: %s)", what, code, msg)
	default:
		return fmt.Errorf("%s: rejected, sending the same message again will not help (%s: %s)", what, code, msg)
	}
}

// isRetryable asks the SDK's own rules: throttling and transient codes,
// 5xx statuses, connection errors.
func isRetryable(err error) bool {
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}
