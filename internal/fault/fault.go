// Package fault defines the errors Wharf reports to its clients, shaped as
// AWS Data Exchange reports them: an exception name, its HTTP status, a
// message and the exception's extra members. Every layer returns these; the
// API layer only serializes them.
package fault

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/wharf-dev/wharf/internal/resource"
)

// Exception names, exactly as they appear in X-Amzn-ErrorType.
const (
	AccessDenied         = "AccessDeniedException"
	Conflict             = "ConflictException"
	InternalServer       = "InternalServerException"
	ResourceNotFound     = "ResourceNotFoundException"
	ServiceLimitExceeded = "ServiceLimitExceededException"
	Throttling           = "ThrottlingException"
	Validation           = "ValidationException"

	// Protocol failures: a body that is not JSON or can't be read, a path
	// that names no operation, a body over its operation's limit, a body
	// that did not arrive in time.
	Serialization         = "SerializationException"
	UnknownOperation      = "UnknownOperationException"
	RequestEntityTooLarge = "RequestEntityTooLargeException"
	RequestTimeout        = "RequestTimeoutException"

	// Authentication failures, which AWS reports before any operation runs.
	UnrecognizedClient         = "UnrecognizedClientException"
	InvalidSignature           = "InvalidSignatureException"
	IncompleteSignature        = "IncompleteSignatureException"
	MissingAuthenticationToken = "MissingAuthenticationTokenException"
	// ExpiredToken: a session's credentials were used after they expired.
	ExpiredToken = "ExpiredTokenException"
)

var statusOf = map[string]int{
	AccessDenied:               http.StatusForbidden,
	Conflict:                   http.StatusConflict,
	InternalServer:             http.StatusInternalServerError,
	ResourceNotFound:           http.StatusNotFound,
	ServiceLimitExceeded:       http.StatusPaymentRequired,
	Throttling:                 http.StatusTooManyRequests,
	Validation:                 http.StatusBadRequest,
	Serialization:              http.StatusBadRequest,
	UnknownOperation:           http.StatusNotFound,
	UnrecognizedClient:         http.StatusForbidden,
	InvalidSignature:           http.StatusForbidden,
	IncompleteSignature:        http.StatusForbidden,
	MissingAuthenticationToken: http.StatusForbidden,
	ExpiredToken:               http.StatusForbidden,
	RequestEntityTooLarge:      http.StatusRequestEntityTooLarge,
	// S3's RequestTimeout is a 400 too; the SDKs retry it.
	RequestTimeout: http.StatusBadRequest,
}

// Error is an AWS-shaped error. The zero values of the optional members are
// left out on the wire.
type Error struct {
	Name    string
	Message string

	ResourceID   string        // ConflictException, ResourceNotFoundException
	ResourceType resource.Kind // ConflictException, ResourceNotFoundException
	LimitName    string        // ServiceLimitExceededException
	LimitValue   float64       // ServiceLimitExceededException
}

func (e *Error) Error() string { return e.Name + ": " + e.Message }

// Status is the HTTP status AWS uses for this exception.
func (e *Error) Status() int {
	if s, ok := statusOf[e.Name]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Is reports whether err carries the named exception.
func Is(err error, name string) bool {
	e := As(err)
	return e != nil && e.Name == name
}

// NotFound reports that a resource does not exist (or is not the caller's,
// which Wharf never distinguishes, so that accounts can't probe each other).
func NotFound(kind resource.Kind, id string) *Error {
	return &Error{Name: ResourceNotFound, ResourceType: kind, ResourceID: id,
		Message: fmt.Sprintf("%s %s not found", kindNoun(kind), id)}
}

// Conflictf reports that the request conflicts with the resource's state.
func Conflictf(kind resource.Kind, id, format string, args ...any) *Error {
	return &Error{Name: Conflict, ResourceType: kind, ResourceID: id, Message: fmt.Sprintf(format, args...)}
}

// Validationf reports invalid input.
func Validationf(format string, args ...any) *Error {
	return &Error{Name: Validation, Message: fmt.Sprintf(format, args...)}
}

// AccessDeniedf reports that the caller may not do this.
func AccessDeniedf(format string, args ...any) *Error {
	return &Error{Name: AccessDenied, Message: fmt.Sprintf(format, args...)}
}

// LimitExceeded reports that a quota would be exceeded.
func LimitExceeded(limitName string, limitValue float64) *Error {
	return &Error{Name: ServiceLimitExceeded, LimitName: limitName, LimitValue: limitValue,
		Message: fmt.Sprintf("the limit %q (%g) would be exceeded", limitName, limitValue)}
}

// Internal wraps an unexpected failure. The cause is for logs only: the
// client sees a generic message.
func Internal(cause error) *Error {
	return &Error{Name: InternalServer, Message: "an internal error occurred; it has been logged"}
}

// New returns an error with the given exception name and message.
func New(name, format string, args ...any) *Error {
	return &Error{Name: name, Message: fmt.Sprintf(format, args...)}
}

func kindNoun(k resource.Kind) string {
	switch k {
	case resource.KindDataSet:
		return "data set"
	case resource.KindRevision:
		return "revision"
	case resource.KindAsset:
		return "asset"
	case resource.KindJob:
		return "job"
	case resource.KindEventAction:
		return "event action"
	case resource.KindDataGrant:
		return "data grant"
	}
	return "resource"
}
