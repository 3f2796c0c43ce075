package auth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/wharf-dev/wharf/internal/fault"
)

const (
	// SigningName is the service name in the SigV4 credential scope.
	SigningName = "dataexchange"
	// MaxBodyBytes caps request bodies: Authenticate buffers the body to
	// hash it. It is the largest body an operation takes (SendApiAsset's
	// 10 MB); package api caps each operation's body before this.
	MaxBodyBytes = 10 << 20
	// MaxClockSkew is how far X-Amz-Date may be from the server's clock.
	MaxClockSkew = 15 * time.Minute

	// RequestEntityTooLarge is the exception for bodies over MaxBodyBytes (413).
	RequestEntityTooLarge = fault.RequestEntityTooLarge

	algorithm      = "AWS4-HMAC-SHA256"
	amzDateLayout  = "20060102T150405Z"
	scopeTerminal  = "aws4_request"
	invalidSigText = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// Principal is who signed a request.
type Principal struct {
	AccountID   string
	AccessKeyID string
	// Session is true when a console session's credentials signed the
	// request (AccessKeyID is then the session's, ASIA...).
	Session bool
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal WithPrincipal stored in ctx.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// SecretLookup finds an access key's account and secret. *Keyring is one.
// An unknown key must fail with a *fault.Error (UnrecognizedClientException).
type SecretLookup interface {
	Lookup(ctx context.Context, accessKeyID string) (accountID string, secret []byte, err error)
}

// Verifier checks SigV4 signatures on requests addressed to one region.
type Verifier struct {
	keys     SecretLookup
	sessions SessionLookup // nil: no sessions (session.go)
	region   string
	now      func() time.Time
	signer   *v4.Signer
}

// VerifierOption configures a Verifier.
type VerifierOption func(*Verifier)

// WithClock replaces time.Now, for tests.
func WithClock(now func() time.Time) VerifierOption {
	return func(v *Verifier) { v.now = now }
}

// NewVerifier returns a Verifier that accepts requests signed for region and
// the dataexchange service with keys known to keys.
func NewVerifier(keys SecretLookup, region string, opts ...VerifierOption) *Verifier {
	v := &Verifier{keys: keys, region: region, now: time.Now, signer: v4.NewSigner()}
	for _, opt := range opts {
		opt(v)
	}
	return v
}

// Authenticate verifies the request's header-based SigV4 signature
// (Authorization: AWS4-HMAC-SHA256 ..., as AWS SDKs and CLIs send it) and
// returns who signed it. It reads the body to hash it and puts it back, so
// the handler can read it again. Query-string (presigned) authentication is
// not accepted. A console session's requests (session.go) must carry its
// token in a signed X-Amz-Security-Token header; a long-term key's token,
// if any, is covered by the signature like any signed header but otherwise
// ignored.
//
// Authentication failures are *fault.Error values named as AWS names them;
// so are bodies that can't be read (SerializationException) or are too
// large (RequestEntityTooLargeException). Any other error (the store is
// unreachable) is an internal failure: errors.As finds an InternalServerException in it,
// and its text carries the cause for the log.
func (v *Verifier) Authenticate(r *http.Request) (Principal, error) {
	auth, err := v.parse(r)
	if err != nil {
		return Principal{}, err
	}
	if err := v.checkTime(auth.date); err != nil {
		return Principal{}, err
	}
	principal, secret, err := v.lookup(r, auth)
	if err != nil {
		return Principal{}, err
	}
	payloadHash, err := hashBody(r)
	if err != nil {
		return Principal{}, err
	}
	if h, ok := r.Header[textproto.CanonicalMIMEHeaderKey("X-Amz-Content-Sha256")]; ok {
		if err := checkContentSHA256(h, payloadHash); err != nil {
			return Principal{}, err
		}
	}

	signedHeaders, signature, err := v.sign(r, auth, secret, payloadHash)
	if err != nil {
		return Principal{}, internal(err)
	}
	if signedHeaders != auth.signedHeaders {
		// Only possible for headers the signer treats specially
		// (content-length without a positive length, for one).
		return Principal{}, fault.New(fault.InvalidSignature,
			"%s (Wharf could verify only the signed headers %q, not %q.)", invalidSigText, signedHeaders, auth.signedHeaders)
	}
	if subtle.ConstantTimeCompare([]byte(signature), []byte(auth.signature)) != 1 {
		return Principal{}, fault.New(fault.InvalidSignature, "%s", invalidSigText)
	}
	return principal, nil
}

// authorization is a parsed Authorization header.
type authorization struct {
	accessKeyID   string
	scopeDate     string
	signedHeaders string // as sent: lower-case names joined by ';'
	headerNames   []string
	signature     string
	date          time.Time // from X-Amz-Date
}

var (
	scopeDatePattern = regexp.MustCompile(`^\d{8}$`)
	signaturePattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

func incomplete(format string, args ...any) *fault.Error {
	return fault.New(fault.IncompleteSignature, format, args...)
}

func (v *Verifier) parse(r *http.Request) (authorization, error) {
	var a authorization
	values := r.Header.Values("Authorization")
	if len(values) == 0 {
		q := r.URL.Query()
		if q.Has("X-Amz-Signature") || q.Has("X-Amz-Credential") || q.Has("X-Amz-Algorithm") {
			return a, incomplete("Query-string (presigned) authentication is not supported by this service; " +
				"sign the request with an Authorization header.")
		}
		return a, fault.New(fault.MissingAuthenticationToken, "Missing Authentication Token")
	}
	if len(values) > 1 {
		return a, incomplete("The request must carry exactly one Authorization header.")
	}
	params, ok := strings.CutPrefix(values[0], algorithm+" ")
	if !ok {
		return a, incomplete("Authorization header must use the %s algorithm (Signature Version 4).", algorithm)
	}

	var credential, signedHeaders, signature string
	seen := map[string]bool{}
	for part := range strings.SplitSeq(params, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		key, value, ok := strings.Cut(part, "=")
		if !ok {
			return a, incomplete("'%s' not a valid key=value pair (missing equal-sign) in Authorization header.", part)
		}
		if seen[key] {
			return a, incomplete("Authorization header has more than one '%s' parameter.", key)
		}
		seen[key] = true
		switch key {
		case "Credential":
			credential = value
		case "SignedHeaders":
			signedHeaders = value
		case "Signature":
			signature = value
		}
	}
	var missing []string
	for _, p := range []struct{ name, value string }{
		{"Credential", credential}, {"Signature", signature}, {"SignedHeaders", signedHeaders},
	} {
		if p.value == "" {
			missing = append(missing, fmt.Sprintf("Authorization header requires '%s' parameter.", p.name))
		}
	}
	if len(missing) > 0 {
		return a, incomplete("%s", strings.Join(missing, " "))
	}

	scope := strings.Split(credential, "/")
	if len(scope) != 5 || scope[0] == "" {
		return a, incomplete("Credential must have the form <access key id>/<date>/<region>/%s/%s, got '%s'.",
			SigningName, scopeTerminal, credential)
	}
	a.accessKeyID, a.scopeDate = scope[0], scope[1]
	switch region, service, terminal := scope[2], scope[3], scope[4]; {
	case !scopeDatePattern.MatchString(a.scopeDate):
		return a, incomplete("Credential scope date '%s' is not of the form YYYYMMDD.", a.scopeDate)
	case region != v.region:
		return a, incomplete("Credential should be scoped to a valid region, not '%s'. This server's region is '%s'.",
			region, v.region)
	case service != SigningName:
		return a, incomplete("Credential should be scoped to correct service: '%s', not '%s'.", SigningName, service)
	case terminal != scopeTerminal:
		return a, incomplete("Credential should be scoped with a valid terminator: '%s', not '%s'.", scopeTerminal, terminal)
	}

	a.signedHeaders = signedHeaders
	a.headerNames = strings.Split(signedHeaders, ";")
	hasHost, hasDate := false, false
	for _, name := range a.headerNames {
		switch name {
		case "host":
			hasHost = true
		case "x-amz-date":
			hasDate = true
		case "authorization", "":
			return a, incomplete("SignedHeaders '%s' is not a valid list of header names.", signedHeaders)
		}
	}
	if !hasHost {
		return a, incomplete("SignedHeaders must include 'host'.")
	}

	if !signaturePattern.MatchString(signature) {
		return a, incomplete("Signature must be 64 lower-case hexadecimal characters.")
	}
	a.signature = signature

	amzDate := r.Header.Get("X-Amz-Date")
	if amzDate == "" {
		return a, incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header; " +
			"this service requires 'X-Amz-Date'.")
	}
	t, err := time.Parse(amzDateLayout, amzDate)
	if err != nil {
		return a, incomplete("X-Amz-Date '%s' is not of the form YYYYMMDD'T'HHMMSS'Z'.", amzDate)
	}
	a.date = t
	if !hasDate {
		return a, incomplete("SignedHeaders must include 'x-amz-date'.")
	}
	if d := t.Format("20060102"); d != a.scopeDate {
		return a, incomplete("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "+
			"'%s' != '%s', from 'X-Amz-Date'.", a.scopeDate, d)
	}
	return a, nil
}

func (v *Verifier) checkTime(signed time.Time) error {
	now := v.now().UTC()
	if earliest := now.Add(-MaxClockSkew); signed.Before(earliest) {
		return fault.New(fault.InvalidSignature, "Signature expired: %s is now earlier than %s (%s - 15 min.)",
			signed.Format(amzDateLayout), earliest.Format(amzDateLayout), now.Format(amzDateLayout))
	}
	if latest := now.Add(MaxClockSkew); signed.After(latest) {
		return fault.New(fault.InvalidSignature, "Signature not yet current: %s is still later than %s (%s + 15 min.)",
			signed.Format(amzDateLayout), latest.Format(amzDateLayout), now.Format(amzDateLayout))
	}
	return nil
}

// hashBody reads the body (at most MaxBodyBytes), puts it back for the
// handler, and returns its hex SHA-256. A body that can't be read (cut
// short, a bad chunked encoding, past its read deadline) is the client's
// fault: a SerializationException (400), not an internal error.
func hashBody(r *http.Request) (string, error) {
	if r.ContentLength > MaxBodyBytes {
		return "", tooLarge()
	}
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return "", tooLarge()
		}
		if err != nil {
			return "", fault.New(fault.Serialization, "the request body could not be read: %v", err)
		}
		if len(body) > MaxBodyBytes {
			return "", tooLarge()
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:]), nil
}

func tooLarge() *fault.Error {
	return fault.New(RequestEntityTooLarge, "Request bodies are limited to %d bytes.", MaxBodyBytes)
}

// checkContentSHA256 holds a client that sends X-Amz-Content-Sha256 to it:
// the header must be the body's hash. Unsigned and streaming payloads are
// refused, since the signature would then not cover the body.
func checkContentSHA256(values []string, payloadHash string) error {
	if len(values) != 1 || !signaturePattern.MatchString(values[0]) {
		return incomplete("X-Amz-Content-Sha256 must be the lower-case hex SHA-256 of the request body; " +
			"unsigned and streaming payloads are not accepted by this service.")
	}
	if values[0] != payloadHash {
		return fault.New(fault.InvalidSignature, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	return nil
}

// sign recomputes the signature with the SDK's signer over a copy of the
// request carrying exactly the headers the client signed, and returns the
// signed header list and signature the signer produced.
func (v *Verifier) sign(r *http.Request, a authorization, secret []byte, payloadHash string) (signedHeaders, signature string, err error) {
	req := &http.Request{
		Method: r.Method,
		// Opaque holds the path exactly as the client sent it; the signer
		// escapes it once more, as non-S3 services require.
		URL:    &url.URL{Opaque: "//" + r.Host + requestPath(r), RawQuery: r.URL.RawQuery},
		Host:   r.Host, // Go's server moved the Host header here
		Header: make(http.Header, len(a.headerNames)),
	}
	for _, name := range a.headerNames {
		switch name {
		case "host", "x-amz-date":
			// The signer adds these from req.Host and the signing time.
		case "content-length":
			// The signer signs content-length from ContentLength (Go's
			// server moved the header there), and only when it is positive.
			req.ContentLength = r.ContentLength
		default:
			// Lower-case keys, because the signer skips a few canonical
			// header names (User-Agent, Expect, ...) that clients other than
			// the Go SDK may sign; what the client signed is what counts.
			values := r.Header.Values(name)
			if len(values) == 0 {
				values = []string{""}
			}
			req.Header[name] = values
		}
	}
	creds := aws.Credentials{AccessKeyID: a.accessKeyID, SecretAccessKey: string(secret)}
	if err := v.signer.SignHTTP(r.Context(), creds, req, payloadHash, SigningName, v.region, a.date); err != nil {
		return "", "", fmt.Errorf("auth: sign: %w", err)
	}
	for part := range strings.SplitSeq(strings.TrimPrefix(req.Header.Get("Authorization"), algorithm+" "), ",") {
		key, value, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch key {
		case "SignedHeaders":
			signedHeaders = value
		case "Signature":
			signature = value
		}
	}
	if signature == "" {
		return "", "", errors.New("auth: the signer produced no signature")
	}
	return signedHeaders, signature, nil
}

// requestPath is the escaped path as it appeared on the request line. The
// client signed that form; r.URL.Path has %2F and %3A decoded.
func requestPath(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		p, _, _ := strings.Cut(r.RequestURI, "?")
		return p
	}
	return r.URL.EscapedPath()
}

// internal marks err as an internal failure: errors.As finds an
// InternalServerException (whose message hides the cause from clients) and
// Error() includes the cause for logs.
func internal(err error) error {
	return errors.Join(fault.Internal(err), err)
}
