package s3access

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
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
	// ErrUnreachable: the request got no answer from the endpoint: it
	// could not be reached (connection refused, a name that does not
	// resolve, a TLS handshake that fails) or the connection broke.
	ErrUnreachable = errors.New("the endpoint could not be reached")
	// ErrUploadLeft: a failed write could not abort its multipart upload,
	// which is left at the destination (joined to the write's error).
	ErrUploadLeft = errors.New("a multipart upload was left behind")
	// ErrSuperseded: a multipart upload to an Exclusive key was aborted by
	// a newer upload to the key that completed first (see Location.Exclusive).
	ErrSuperseded = errors.New("a newer write to the key completed and aborted this upload")
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
// responses, its HTTP status) to one of the Err* reasons; a request that got
// no answer is ErrUnreachable, unless it was cancelled.
func reasonOf(err error) error {
	if unanswered(err) {
		return ErrUnreachable
	}
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
		if a, ok := AnswerOf(err); ok && !a.generic() && a.Code != "" {
			// A code of its own (KMS.NotFoundException, ...): the status
			// does not say more.
			return nil
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

// IsUnreachable reports whether err is a request that got no answer from
// its endpoint (not one whose context ended): ErrUnreachable.
func IsUnreachable(err error) bool { return errors.Is(err, ErrUnreachable) || unanswered(err) }

// unanswered reports whether err is a request that got no answer from the
// endpoint for a reason other than its context ending.
func unanswered(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var sendErr *smithyhttp.RequestSendError
	if errors.As(err, &sendErr) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF)
}

// Answer is what an endpoint answered to a request it refused.
type Answer struct {
	Code    string // the S3 error code: AccessDenied, NoSuchKey, NotImplemented, ...
	Message string // the endpoint's message, "" when it gave none
	Status  int    // the HTTP status, 0 when unknown
}

// AnswerOf returns the endpoint's answer carried by err (smithy.APIError's
// ErrorCode and ErrorMessage, and the HTTP status); ok is false when err
// holds none (the endpoint was not reached, or the failure is not S3's).
func AnswerOf(err error) (a Answer, ok bool) {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return a, false
	}
	a = Answer{Code: apiErr.ErrorCode(), Message: apiErr.ErrorMessage(), Status: httpStatus(err)}
	if a.Message == a.Code {
		a.Message = "" // bodiless responses: the SDK repeats the status text
	}
	return a, true
}

func (a Answer) String() string {
	s := a.Code
	if a.Message != "" {
		s += ": " + a.Message
	}
	if a.Status != 0 {
		s += fmt.Sprintf(" (HTTP %d)", a.Status)
	}
	return s
}

// generic reports whether the answer's code is only its HTTP status text,
// as the SDK makes it up for responses without a body (HEAD).
func (a Answer) generic() bool {
	return a.Status != 0 && a.Code == strings.ReplaceAll(http.StatusText(a.Status), " ", "")
}

// Explain says, for a job's user, why an S3 request failed: the endpoint's
// answer ("AccessDenied: Access Denied. (HTTP 403)"), or, for a request
// that got none, what the network said ("dial tcp 127.0.0.1:9: connect:
// connection refused").
func Explain(err error) string {
	if a, ok := AnswerOf(err); ok {
		return a.String()
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return opErr.Error()
	}
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err.Error()
	}
	var sendErr *smithyhttp.RequestSendError
	if errors.As(err, &sendErr) && sendErr.Err != nil {
		return sendErr.Err.Error()
	}
	var oe *ObjectError
	if errors.As(err, &oe) && oe.Cause != nil {
		return oe.Cause.Error()
	}
	return err.Error()
}
