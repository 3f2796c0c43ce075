package s3access

import (
	"errors"
	"fmt"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// The reasons an S3 operation on a location can fail that a job reports to
// its user. Test for them with errors.Is; the error itself is an
// *ObjectError naming the bucket and key.
var (
	// ErrNoSuchBucket: the bucket does not exist on the endpoint.
	ErrNoSuchBucket = errors.New("the bucket does not exist")
	// ErrNoSuchKey: the bucket exists but the key does not.
	ErrNoSuchKey = errors.New("the key does not exist")
	// ErrAccessDenied: the endpoint refused the account's credentials.
	ErrAccessDenied = errors.New("access denied")
	// ErrSourceChanged: the source object was replaced while it was being
	// copied (its ETag no longer matches the one read first).
	ErrSourceChanged = errors.New("the source object changed during the copy")
	// ErrSizeMismatch: a stream held more or fewer bytes than its declared size.
	ErrSizeMismatch = errors.New("the data is not the declared size")
)

// ObjectError is the error of an operation on one S3 location. Reason is one
// of the Err* values above, or nil for other failures; Cause is what the
// endpoint (or the network) said. errors.Is matches both.
type ObjectError struct {
	Op     string // "head", "get", "put", "copy", ...
	Bucket string
	Key    string // empty for bucket-level failures
	Reason error
	Cause  error
}

func (e *ObjectError) Error() string {
	where := "s3://" + e.Bucket
	if e.Key != "" {
		where += "/" + e.Key
	}
	switch {
	case errors.Is(e.Reason, ErrNoSuchBucket):
		return fmt.Sprintf("s3 %s %s: bucket %q does not exist", e.Op, where, e.Bucket)
	case errors.Is(e.Reason, ErrNoSuchKey) && e.Key != "":
		return fmt.Sprintf("s3 %s %s: key %q does not exist in bucket %q", e.Op, where, e.Key, e.Bucket)
	case e.Reason != nil && e.Cause != nil:
		return fmt.Sprintf("s3 %s %s: %v: %v", e.Op, where, e.Reason, e.Cause)
	case e.Reason != nil:
		return fmt.Sprintf("s3 %s %s: %v", e.Op, where, e.Reason)
	default:
		return fmt.Sprintf("s3 %s %s: %v", e.Op, where, e.Cause)
	}
}

// Unwrap lets errors.Is and errors.As see both the reason and the cause.
func (e *ObjectError) Unwrap() []error {
	var errs []error
	if e.Reason != nil {
		errs = append(errs, e.Reason)
	}
	if e.Cause != nil {
		errs = append(errs, e.Cause)
	}
	return errs
}

// IsNotFound reports whether err says a bucket or a key does not exist.
func IsNotFound(err error) bool {
	return errors.Is(err, ErrNoSuchBucket) || errors.Is(err, ErrNoSuchKey)
}

func objectError(op string, bucket, key string, reason, cause error) *ObjectError {
	return &ObjectError{Op: op, Bucket: bucket, Key: key, Reason: reason, Cause: cause}
}

// classify wraps an SDK error into an *ObjectError with the reason the
// endpoint gave, if it is one of ours. A cancellation stays visible:
// errors.Is(err, context.Canceled) sees through the wrapper.
func classify(op, bucket, key string, err error) error {
	if err == nil {
		return nil
	}
	var oe *ObjectError
	if errors.As(err, &oe) {
		return err
	}
	return objectError(op, bucket, key, reasonOf(err), err)
}

// reasonOf maps the endpoint's error code (or, for bodiless HEAD
// responses, its HTTP status) to one of the Err* reasons.
func reasonOf(err error) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NoSuchBucket":
			return ErrNoSuchBucket
		case "NoSuchKey":
			return ErrNoSuchKey
		case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "AllAccessDisabled",
			"InvalidToken", "ExpiredToken", "AccountProblem":
			return ErrAccessDenied
		case "PreconditionFailed":
			return ErrSourceChanged
		}
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		switch respErr.HTTPStatusCode() {
		case http.StatusNotFound:
			return ErrNoSuchKey // refined by callers that can tell a missing bucket
		case http.StatusForbidden:
			return ErrAccessDenied
		case http.StatusPreconditionFailed:
			return ErrSourceChanged
		}
	}
	return nil
}

func httpStatus(err error) int {
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		return respErr.HTTPStatusCode()
	}
	return 0
}

// hasCode reports whether err carries the endpoint's error code.
func hasCode(err error, code string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == code
}
