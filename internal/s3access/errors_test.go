package s3access

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// answered is an SDK error carrying the endpoint's answer.
func answered(status int, code, message string) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: "PutObject", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
			Err:      &smithy.GenericAPIError{Code: code, Message: message},
		},
	}}
}

// unansweredErr is the SDK's error for a request to a port nobody listens on.
func unansweredErr(cause error) error {
	return &smithy.OperationError{ServiceID: "S3", OperationName: "HeadObject", Err: &smithyhttp.RequestSendError{
		Err: &url.Error{Op: "Head", URL: "http://127.0.0.1:9/b/k", Err: cause},
	}}
}

func TestFailuresNameTheirCause(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, c := range []struct {
		name    string
		err     error
		reason  error
		explain string
	}{
		{"no KMS", answered(501, "NotImplemented", "Server side encryption specified but KMS is not configured"), nil,
			"NotImplemented: Server side encryption specified but KMS is not configured (HTTP 501)"},
		{"access denied", answered(403, "AccessDenied", "Access Denied."), ErrAccessDenied, "AccessDenied: Access Denied. (HTTP 403)"},
		{"bare 403", answered(403, "Forbidden", "Forbidden"), ErrAccessDenied, "Forbidden (HTTP 403)"},
		{"bare 404", answered(404, "NotFound", "Not Found"), ErrNoSuchKey, "NotFound: Not Found (HTTP 404)"},
		{"404 with a code of its own", answered(404, "kms:KeyNotFound", "key with given key ID does not exist"), nil,
			"kms:KeyNotFound: key with given key ID does not exist (HTTP 404)"},
		{"connection refused", unansweredErr(refused), ErrUnreachable, "dial tcp: connection refused"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := classify("put", "b", "k", c.err)
			var oe *ObjectError
			if !errors.As(err, &oe) || oe.Bucket != "b" || oe.Key != "k" {
				t.Fatalf("classify: %v", err)
			}
			if oe.Reason != c.reason {
				t.Errorf("reason %v, want %v", oe.Reason, c.reason)
			}
			if got := Explain(err); got != c.explain {
				t.Errorf("Explain = %q, want %q", got, c.explain)
			}
		})
	}
	// A cancelled request is not an unreachable endpoint.
	if err := classify("get", "b", "k", unansweredErr(context.Canceled)); errors.Is(err, ErrUnreachable) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	if !strings.Contains(classify("get", "b", "k", unansweredErr(refused)).Error(), "s3://b/k") {
		t.Error("the error does not name the location")
	}
}

type brokenBody struct{ err error }

func (b brokenBody) Read([]byte) (int, error) { return 0, b.err }
func (b brokenBody) Close() error             { return nil }

// A connection that breaks while an object is read is the object's
// failure, and the network's: it names the object.
func TestBrokenBodyNamesTheObject(t *testing.T) {
	reset := &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	body := objectBody{brokenBody{reset}, Location{Bucket: "b", Key: "k"}}
	_, err := body.Read(make([]byte, 1))
	var oe *ObjectError
	if !errors.As(err, &oe) || oe.Bucket != "b" || oe.Key != "k" || !errors.Is(err, ErrUnreachable) || !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read error %v", err)
	}
	if _, err := (objectBody{brokenBody{context.Canceled}, Location{Bucket: "b", Key: "k"}}).Read(nil); !errors.Is(err, context.Canceled) || errors.Is(err, ErrUnreachable) {
		t.Fatalf("cancelled read: %v", err)
	}
}
