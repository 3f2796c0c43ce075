package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/wharf-dev/wharf/internal/apiasset"
	"github.com/wharf-dev/wharf/internal/awsjson"
	"github.com/wharf-dev/wharf/internal/fault"
)

// Request body limits. A body is read whole before its operation runs
// (its SigV4 signature covers its hash), so each is capped before it is
// read: a Content-Length over the cap is refused at once, and a chunked
// body is cut when it passes the cap.
const (
	// maxJSONBody caps the JSON operations' bodies; the largest valid one
	// (a 16,384 character description and 50 tags) is far smaller.
	maxJSONBody = 1 << 20
	// maxAPIAssetBody caps SendApiAsset's: API Gateway takes payloads of
	// up to 10 MB.
	maxAPIAssetBody = apiasset.MaxBodySize
)

// DefaultBodyReadTimeout is how long an API request's body may take to
// arrive, from the moment the operation starts reading it.
const DefaultBodyReadTimeout = 30 * time.Second

// bodyLimit is the cap on an operation's request body.
func bodyLimit(operation string) int64 {
	if operation == "SendApiAsset" {
		return maxAPIAssetBody
	}
	return maxJSONBody
}

// readBody reads the request body whole, within its operation's limit and
// the body read deadline, and puts it back in r.Body for the operation.
// The failures are the client's: RequestEntityTooLargeException (413) over
// the limit, RequestTimeoutException (400) for a body that did not arrive
// in time, SerializationException (400) for one that can't be read (a bad
// chunked encoding, fewer bytes than the Content-Length, a half-closed
// connection).
func (s *server) readBody(rec *recorder, r *http.Request, operation string) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	limit := bodyLimit(operation)
	if r.ContentLength > limit {
		return tooLarge(operation, limit)
	}
	// The deadline is on the connection. Once the body is in it is lifted
	// (net/http lifts it too when it reads the body's end), so that it
	// can't cut the server's watch for a client that goes away while the
	// operation runs. On a failure it stays: the server, which reads what
	// is left of a body after the handler, then drops the connection
	// rather than wait for the rest of a slow body. A writer without
	// deadlines (tests') has none.
	rc := http.NewResponseController(rec.ResponseWriter)
	_ = rc.SetReadDeadline(time.Now().Add(s.bodyTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(rec.ResponseWriter, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return tooLarge(operation, limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fault.New(fault.RequestTimeout, "the request body did not arrive within %s", s.bodyTimeout)
	case err != nil:
		return fault.New(fault.Serialization, "the request body could not be read: %v", err)
	}
	_ = rc.SetReadDeadline(time.Time{})
	r.Body = io.NopCloser(bytes.NewReader(body))
	return nil
}

func tooLarge(operation string, limit int64) error {
	return fault.New(fault.RequestEntityTooLarge, "the request body is over %d bytes, the limit of %s", limit, operation)
}

// decodeBody decodes the JSON request body (read by readBody) into v, as
// AWS restJson1 services read bodies (package awsjson): member names match
// exactly and unknown members are ignored; a body that is not valid UTF-8
// JSON, a top-level value that is not an object, or a member of the wrong
// type is a SerializationException; a null value in a map (Tags) is a
// ValidationException. An empty body is an empty object: clients send none
// when they set no member. Every operation with a JSON body decodes it
// here.
func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return fault.New(fault.Serialization, "the request body could not be read: %v", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	err = awsjson.Unmarshal(b, v)
	var nullErr *awsjson.NullError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &nullErr):
		return fault.Validationf("%s: a map value can't be null", nullErr.Path)
	}
	return fault.New(fault.Serialization, "the request body is not valid: %v", err)
}

// bodyReadTimeout is the configured body deadline, or the default.
func bodyReadTimeout(d time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return DefaultBodyReadTimeout
}
