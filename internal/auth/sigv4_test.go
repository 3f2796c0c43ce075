package auth_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/fault"
)

const (
	testRegion   = "us-east-1"
	accountA     = "111111111111"
	accountB     = "222222222222"
	testArn      = "arn:aws:dataexchange:us-east-1:111111111111:data-sets/0123456789abcdef0123456789abcdef"
	emptySHA256  = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	testJSONBody = `{"AssetType":"S3_SNAPSHOT","Description":"d","Name":"n"}`
)

// escapedArn is testArn as SDKs put it in a path: ':' and '/' escaped.
var escapedArn = strings.NewReplacer(":", "%3A", "/", "%2F").Replace(testArn)

var testNow = time.Date(2026, 5, 29, 12, 0, 0, 0, time.UTC)

// fixture is a keyring with two accounts and a server whose handler
// authenticates every request and echoes who signed it and the body it read.
type fixture struct {
	keyring *auth.Keyring
	a, b    auth.Credentials
	srv     *httptest.Server
}

type echo struct {
	AccountId   string
	AccessKeyId string
	Body        string
	Path        string
}

func newFixture(t *testing.T, now time.Time) *fixture {
	t.Helper()
	ctx := context.Background()
	k, _ := newTestKeyring()
	_, a, err := k.CreateAccount(ctx, accountA)
	if err != nil {
		t.Fatal(err)
	}
	_, b, err := k.CreateAccount(ctx, accountB)
	if err != nil {
		t.Fatal(err)
	}
	var opts []auth.VerifierOption
	if !now.IsZero() {
		opts = append(opts, auth.WithClock(func() time.Time { return now }))
	}
	srv := httptest.NewServer(authEchoHandler(auth.NewVerifier(k, testRegion, opts...)))
	t.Cleanup(srv.Close)
	return &fixture{keyring: k, a: a, b: b, srv: srv}
}

// authEchoHandler authenticates and, on success, answers with an echo (a
// JSON object the dataexchange clients accept for any operation).
func authEchoHandler(v *auth.Verifier) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := v.Authenticate(r)
		if err != nil {
			writeError(w, err)
			return
		}
		r = r.WithContext(auth.WithPrincipal(r.Context(), p))
		p, ok := auth.PrincipalFrom(r.Context())
		if !ok {
			http.Error(w, "no principal in context", http.StatusInternalServerError)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(echo{AccountId: p.AccountID, AccessKeyId: p.AccessKeyID, Body: string(body), Path: r.URL.EscapedPath()})
	})
}

// writeError answers as AWS does: X-Amzn-ErrorType, the exception's status
// and {"Message": ...}.
func writeError(w http.ResponseWriter, err error) {
	fe := fault.As(err)
	if fe == nil {
		fe = fault.Internal(err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", fe.Name)
	w.WriteHeader(fe.Status())
	json.NewEncoder(w).Encode(map[string]string{"Message": fe.Message})
}

type result struct {
	status  int
	errType string
	message string
	echo    echo
}

func send(t *testing.T, req *http.Request) result {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	res := result{status: resp.StatusCode, errType: resp.Header.Get("X-Amzn-ErrorType")}
	if res.errType != "" {
		var m struct{ Message string }
		json.Unmarshal(body, &m)
		res.message = m.Message
		return res
	}
	if err := json.Unmarshal(body, &res.echo); err != nil {
		t.Fatalf("status %d, body %q: %v", resp.StatusCode, body, err)
	}
	return res
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func newRequest(t *testing.T, method, target string, body []byte) *http.Request {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, target, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// sdkSign signs req with the SDK's signer, as the Go SDK does.
func sdkSign(t testing.TB, req *http.Request, body []byte, c auth.Credentials, region, service string, at time.Time) {
	t.Helper()
	creds := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, sha256Hex(body), service, region, at); err != nil {
		t.Fatal(err)
	}
}

// refSign signs req over exactly the named headers, following the SigV4
// specification independently of the SDK's signer (non-S3 rules: the
// escaped path is escaped again).
func refSign(req *http.Request, body []byte, c auth.Credentials, at time.Time, signed []string) {
	amzDate := at.UTC().Format("20060102T150405Z")
	req.Header.Set("X-Amz-Date", amzDate)
	signed = append([]string(nil), signed...)
	sort.Strings(signed)
	var headers strings.Builder
	for _, name := range signed {
		var value string
		switch name {
		case "host":
			value = req.URL.Host
		case "content-length":
			value = strconv.FormatInt(req.ContentLength, 10)
		default:
			var values []string
			for _, v := range req.Header.Values(name) {
				values = append(values, strings.Join(strings.Fields(v), " "))
			}
			value = strings.Join(values, ",")
		}
		headers.WriteString(name + ":" + value + "\n")
	}
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range req.URL.Query() {
		for _, v := range vs {
			pairs = append(pairs, pair{uriEncode(k, false), uriEncode(v, false)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var query []string
	for _, p := range pairs {
		query = append(query, p.k+"="+p.v)
	}
	canonical := strings.Join([]string{
		req.Method, uriEncode(req.URL.EscapedPath(), true), strings.Join(query, "&"),
		headers.String(), strings.Join(signed, ";"), sha256Hex(body),
	}, "\n")
	scope := at.UTC().Format("20060102") + "/" + testRegion + "/dataexchange/aws4_request"
	stringToSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + sha256Hex([]byte(canonical))
	key := []byte("AWS4" + c.SecretAccessKey)
	for _, part := range []string{at.UTC().Format("20060102"), testRegion, "dataexchange", "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	req.Header.Set("Authorization", fmt.Sprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		c.AccessKeyID, scope, strings.Join(signed, ";"), hex.EncodeToString(hmacSHA256(key, stringToSign))))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// uriEncode percent-encodes every byte outside A-Z a-z 0-9 - _ . ~ (and '/'
// if keepSlash), as SigV4 requires.
func uriEncode(s string, keepSlash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || (keepSlash && c == '/') {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func TestAuthenticateAccepts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testNow)
	sign := func(t *testing.T, req *http.Request, body []byte) {
		sdkSign(t, req, body, f.a, testRegion, auth.SigningName, testNow)
	}
	tests := []struct {
		name        string
		build       func(t *testing.T) (*http.Request, []byte)
		wantAccount string
		wantPath    string
	}{
		{name: "GET with an escaped ARN and repeated query parameters", wantPath: "/tags/" + escapedArn,
			build: func(t *testing.T) (*http.Request, []byte) {
				req := newRequest(t, "GET", f.srv.URL+"/tags/"+escapedArn+"?tagKeys=b%20c&tagKeys=a&tagKeys=x%2Fy", nil)
				sign(t, req, nil)
				return req, nil
			}},
		{name: "GET with a pagination token holding + and =",
			build: func(t *testing.T) (*http.Request, []byte) {
				req := newRequest(t, "GET", f.srv.URL+"/v1/data-sets?maxResults=5&nextToken=ab%2Bcd%2F%3D%3D&origin=OWNED", nil)
				sign(t, req, nil)
				return req, nil
			}},
		{name: "POST with a JSON body",
			build: func(t *testing.T) (*http.Request, []byte) {
				body := []byte(testJSONBody)
				req := newRequest(t, "POST", f.srv.URL+"/v1/data-sets", body)
				sign(t, req, body)
				return req, body
			}},
		{name: "POST tags to an escaped ARN", wantPath: "/tags/" + escapedArn,
			build: func(t *testing.T) (*http.Request, []byte) {
				body := []byte(`{"tags":{"k":"v"}}`)
				req := newRequest(t, "POST", f.srv.URL+"/tags/"+escapedArn, body)
				sign(t, req, body)
				return req, body
			}},
		{name: "PATCH without a body",
			build: func(t *testing.T) (*http.Request, []byte) {
				req := newRequest(t, "PATCH", f.srv.URL+"/v1/jobs/0123456789abcdef0123456789abcdef", nil)
				sign(t, req, nil)
				return req, nil
			}},
		{name: "DELETE with tag keys",
			build: func(t *testing.T) (*http.Request, []byte) {
				req := newRequest(t, "DELETE", f.srv.URL+"/tags/"+escapedArn+"?tagKeys=a&tagKeys=b", nil)
				sign(t, req, nil)
				return req, nil
			}},
		{name: "the key of another account authenticates as that account", wantAccount: accountB,
			build: func(t *testing.T) (*http.Request, []byte) {
				req := newRequest(t, "GET", f.srv.URL+"/v1/data-sets", nil)
				sdkSign(t, req, nil, f.b, testRegion, auth.SigningName, testNow)
				return req, nil
			}},
		{name: "unsigned headers added after signing",
			build: func(t *testing.T) (*http.Request, []byte) {
				req := newRequest(t, "GET", f.srv.URL+"/v1/data-sets", nil)
				sign(t, req, nil)
				req.Header.Set("X-Forwarded-For", "10.0.0.1")
				req.Header.Set("User-Agent", "changed/1.0")
				return req, nil
			}},
		{name: "signed 14 minutes ago",
			build: func(t *testing.T) (*http.Request, []byte) {
				req := newRequest(t, "GET", f.srv.URL+"/v1/data-sets", nil)
				sdkSign(t, req, nil, f.a, testRegion, auth.SigningName, testNow.Add(-14*time.Minute))
				return req, nil
			}},
		{name: "signed 14 minutes ahead",
			build: func(t *testing.T) (*http.Request, []byte) {
				req := newRequest(t, "GET", f.srv.URL+"/v1/data-sets", nil)
				sdkSign(t, req, nil, f.a, testRegion, auth.SigningName, testNow.Add(14*time.Minute))
				return req, nil
			}},
		{name: "signed X-Amz-Content-Sha256",
			build: func(t *testing.T) (*http.Request, []byte) {
				body := []byte(testJSONBody)
				req := newRequest(t, "POST", f.srv.URL+"/v1/data-sets", body)
				req.Header.Set("X-Amz-Content-Sha256", sha256Hex(body))
				sign(t, req, body)
				return req, body
			}},
		{name: "chunked body of unknown length",
			build: func(t *testing.T) (*http.Request, []byte) {
				body := []byte(testJSONBody)
				req := newRequest(t, "POST", f.srv.URL+"/v1/data-sets", nil)
				req.Body = io.NopCloser(bytes.NewReader(body))
				req.ContentLength = -1
				sign(t, req, body)
				return req, body
			}},
		{name: "independent signer over user-agent and a repeated header",
			build: func(t *testing.T) (*http.Request, []byte) {
				body := []byte(testJSONBody)
				req := newRequest(t, "POST", f.srv.URL+"/tags/"+escapedArn+"?z=1&a-b=2&a=3", body)
				req.Header.Set("User-Agent", "some-client/1.0  (x)")
				req.Header.Add("X-Custom", "one")
				req.Header.Add("X-Custom", " two ")
				refSign(req, body, f.a, testNow, []string{"host", "x-amz-date", "content-type", "user-agent", "x-custom", "content-length"})
				return req, body
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, body := tt.build(t)
			res := send(t, req)
			if res.errType != "" {
				t.Fatalf("%d %s: %s", res.status, res.errType, res.message)
			}
			wantAccount, wantKey := accountA, f.a.AccessKeyID
			if tt.wantAccount == accountB {
				wantAccount, wantKey = accountB, f.b.AccessKeyID
			}
			if res.echo.AccountId != wantAccount || res.echo.AccessKeyId != wantKey {
				t.Errorf("principal = %s/%s, want %s/%s", res.echo.AccountId, res.echo.AccessKeyId, wantAccount, wantKey)
			}
			if res.echo.Body != string(body) {
				t.Errorf("handler read body %q, want %q", res.echo.Body, body)
			}
			if tt.wantPath != "" && res.echo.Path != tt.wantPath {
				t.Errorf("path = %q, want %q", res.echo.Path, tt.wantPath)
			}
		})
	}
}

func TestAuthenticateRejects(t *testing.T) {
	t.Parallel()
	f := newFixture(t, testNow)
	get := func(t *testing.T) *http.Request { return newRequest(t, "GET", f.srv.URL+"/v1/data-sets", nil) }
	signedGet := func(t *testing.T) *http.Request {
		req := get(t)
		sdkSign(t, req, nil, f.a, testRegion, auth.SigningName, testNow)
		return req
	}
	editAuth := func(old, new string) func(t *testing.T) *http.Request {
		return func(t *testing.T) *http.Request {
			req := signedGet(t)
			a := req.Header.Get("Authorization")
			if !strings.Contains(a, old) {
				t.Fatalf("%q not in %q", old, a)
			}
			req.Header.Set("Authorization", strings.Replace(a, old, new, 1))
			return req
		}
	}
	signedPost := func(t *testing.T, body []byte) *http.Request {
		req := newRequest(t, "POST", f.srv.URL+"/v1/data-sets", body)
		sdkSign(t, req, body, f.a, testRegion, auth.SigningName, testNow)
		return req
	}
	wrongSecret := f.a
	wrongSecret.SecretAccessKey = f.b.SecretAccessKey
	unknownKey := f.a
	unknownKey.AccessKeyID = "AKIAAAAAAAAAAAAAAAAA"

	const (
		missing    = fault.MissingAuthenticationToken
		incomplete = fault.IncompleteSignature
		invalid    = fault.InvalidSignature
		unknown    = fault.UnrecognizedClient
	)
	tests := []struct {
		name       string
		build      func(t *testing.T) *http.Request
		wantType   string
		wantStatus int    // 403 unless set
		wantMsg    string // a substring of the message
	}{
		{"no Authorization header", get, missing, 0, "Missing Authentication Token"},
		{"presigned query", func(t *testing.T) *http.Request {
			return newRequest(t, "GET", f.srv.URL+"/v1/data-sets?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00", nil)
		}, incomplete, 0, "presigned"},
		{"not SigV4", func(t *testing.T) *http.Request {
			req := get(t)
			req.Header.Set("Authorization", "Bearer abc")
			return req
		}, incomplete, 0, "AWS4-HMAC-SHA256"},
		{"no Signature", func(t *testing.T) *http.Request {
			req := signedGet(t)
			a := req.Header.Get("Authorization")
			req.Header.Set("Authorization", a[:strings.Index(a, ", Signature=")])
			return req
		}, incomplete, 0, "requires 'Signature' parameter"},
		{"pair without equal sign", editAuth("SignedHeaders=", "SignedHeaders"), incomplete, 0, "missing equal-sign"},
		{"two Authorization headers", func(t *testing.T) *http.Request {
			req := signedGet(t)
			req.Header.Add("Authorization", req.Header.Get("Authorization"))
			return req
		}, incomplete, 0, "exactly one"},
		{"short credential", editAuth("/aws4_request", ""), incomplete, 0, "Credential must have the form"},
		{"wrong service", func(t *testing.T) *http.Request {
			req := get(t)
			sdkSign(t, req, nil, f.a, testRegion, "s3", testNow)
			return req
		}, incomplete, 0, "correct service: 'dataexchange', not 's3'"},
		{"wrong region", func(t *testing.T) *http.Request {
			req := get(t)
			sdkSign(t, req, nil, f.a, "eu-west-1", auth.SigningName, testNow)
			return req
		}, incomplete, 0, "not 'eu-west-1'. This server's region is 'us-east-1'"},
		{"wrong terminator", editAuth("/aws4_request", "/aws4_reques"), incomplete, 0, "terminator"},
		{"host not signed", func(t *testing.T) *http.Request {
			req := get(t)
			refSign(req, nil, f.a, testNow, []string{"x-amz-date"})
			return req
		}, incomplete, 0, "'host'"},
		{"x-amz-date not signed", func(t *testing.T) *http.Request {
			req := get(t)
			refSign(req, nil, f.a, testNow, []string{"host"})
			return req
		}, incomplete, 0, "'x-amz-date'"},
		{"missing X-Amz-Date", func(t *testing.T) *http.Request {
			req := signedGet(t)
			req.Header.Del("X-Amz-Date")
			return req
		}, incomplete, 0, "X-Amz-Date"},
		{"malformed X-Amz-Date", func(t *testing.T) *http.Request {
			req := signedGet(t)
			req.Header.Set("X-Amz-Date", "2026-05-29T12:00:00Z")
			return req
		}, incomplete, 0, "X-Amz-Date"},
		{"scope date differs from X-Amz-Date", func(t *testing.T) *http.Request {
			req := signedGet(t)
			req.Header.Set("X-Amz-Date", "20260530T000500Z")
			return req
		}, incomplete, 0, "'20260529' != '20260530'"},
		{"signature not hex", editAuth("Signature=", "Signature=zz"), incomplete, 0, "hexadecimal"},
		{"unknown access key", func(t *testing.T) *http.Request {
			req := get(t)
			sdkSign(t, req, nil, unknownKey, testRegion, auth.SigningName, testNow)
			return req
		}, unknown, 0, "The security token included in the request is invalid."},
		{"wrong secret", func(t *testing.T) *http.Request {
			req := get(t)
			sdkSign(t, req, nil, wrongSecret, testRegion, auth.SigningName, testNow)
			return req
		}, invalid, 0, "The request signature we calculated does not match the signature you provided."},
		{"expired", func(t *testing.T) *http.Request {
			req := get(t)
			sdkSign(t, req, nil, f.a, testRegion, auth.SigningName, testNow.Add(-16*time.Minute))
			return req
		}, invalid, 0, "Signature expired: 20260529T114400Z is now earlier than 20260529T114500Z (20260529T120000Z - 15 min.)"},
		{"from the future", func(t *testing.T) *http.Request {
			req := get(t)
			sdkSign(t, req, nil, f.a, testRegion, auth.SigningName, testNow.Add(16*time.Minute))
			return req
		}, invalid, 0, "Signature not yet current: 20260529T121600Z is still later than 20260529T121500Z (20260529T120000Z + 15 min.)"},
		{"tampered body", func(t *testing.T) *http.Request {
			req := signedPost(t, []byte(`{"Name":"a"}`))
			req.Body = io.NopCloser(strings.NewReader(`{"Name":"b"}`))
			return req
		}, invalid, 0, "does not match"},
		{"tampered path", func(t *testing.T) *http.Request {
			req := signedGet(t)
			req.URL.Path = "/v1/jobs"
			return req
		}, invalid, 0, "does not match"},
		{"ARN sent with a literal slash instead of %2F", func(t *testing.T) *http.Request {
			req := newRequest(t, "GET", f.srv.URL+"/tags/"+escapedArn, nil)
			sdkSign(t, req, nil, f.a, testRegion, auth.SigningName, testNow)
			req.URL, _ = url.Parse(f.srv.URL + "/tags/" + strings.Replace(escapedArn, "%2F", "/", 1))
			return req
		}, invalid, 0, "does not match"},
		{"tampered query", func(t *testing.T) *http.Request {
			req := newRequest(t, "DELETE", f.srv.URL+"/tags/"+escapedArn+"?tagKeys=a", nil)
			sdkSign(t, req, nil, f.a, testRegion, auth.SigningName, testNow)
			req.URL.RawQuery = "tagKeys=a&tagKeys=b"
			return req
		}, invalid, 0, "does not match"},
		{"tampered signed header", func(t *testing.T) *http.Request {
			req := signedPost(t, []byte(testJSONBody))
			req.Header.Set("Content-Type", "text/plain")
			return req
		}, invalid, 0, "does not match"},
		{"tampered method", func(t *testing.T) *http.Request {
			req := signedGet(t)
			req.Method = "DELETE"
			return req
		}, invalid, 0, "does not match"},
		{"content-length signed on an empty body", func(t *testing.T) *http.Request {
			req := newRequest(t, "POST", f.srv.URL+"/v1/data-sets", nil)
			req.Body, req.ContentLength = http.NoBody, 0
			refSign(req, nil, f.a, testNow, []string{"host", "x-amz-date", "content-length"})
			return req
		}, invalid, 0, "could verify only the signed headers"},
		{"X-Amz-Content-Sha256 of another body", func(t *testing.T) *http.Request {
			body := []byte(testJSONBody)
			req := newRequest(t, "POST", f.srv.URL+"/v1/data-sets", body)
			req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
			sdkSign(t, req, body, f.a, testRegion, auth.SigningName, testNow)
			return req
		}, invalid, 0, "x-amz-content-sha256"},
		{"unsigned payload", func(t *testing.T) *http.Request {
			req := get(t)
			req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
			sdkSign(t, req, nil, f.a, testRegion, auth.SigningName, testNow)
			return req
		}, incomplete, 0, "unsigned"},
		{"body over the limit", func(t *testing.T) *http.Request {
			return signedPost(t, bytes.Repeat([]byte{' '}, auth.MaxBodyBytes+1))
		}, auth.RequestEntityTooLarge, http.StatusRequestEntityTooLarge, "limited"},
		{"chunked body over the limit", func(t *testing.T) *http.Request {
			body := bytes.Repeat([]byte{' '}, auth.MaxBodyBytes+1)
			req := newRequest(t, "POST", f.srv.URL+"/v1/data-sets", nil)
			req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), -1
			sdkSign(t, req, body, f.a, testRegion, auth.SigningName, testNow)
			return req
		}, auth.RequestEntityTooLarge, http.StatusRequestEntityTooLarge, "limited"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := send(t, tt.build(t))
			wantStatus := tt.wantStatus
			if wantStatus == 0 {
				wantStatus = http.StatusForbidden
			}
			if res.errType != tt.wantType || res.status != wantStatus {
				t.Fatalf("got %d %q (%s), want %d %q", res.status, res.errType, res.message, wantStatus, tt.wantType)
			}
			if !strings.Contains(res.message, tt.wantMsg) {
				t.Errorf("message %q does not contain %q", res.message, tt.wantMsg)
			}
		})
	}
}

// The server answers within the body limit and doesn't leave the handler a
// consumed body: checked directly, without HTTP in between.
func TestAuthenticateRestoresBody(t *testing.T) {
	t.Parallel()
	k, _ := newTestKeyring()
	_, c, err := k.CreateAccount(context.Background(), accountA)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(testJSONBody)
	req := httptest.NewRequest("POST", "http://wharf.test/v1/data-sets", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	sdkSign(t, req, body, c, testRegion, auth.SigningName, testNow)
	v := auth.NewVerifier(k, testRegion, auth.WithClock(func() time.Time { return testNow }))
	p, err := v.Authenticate(req)
	if err != nil {
		t.Fatal(err)
	}
	if p != (auth.Principal{AccountID: accountA, AccessKeyID: c.AccessKeyID}) {
		t.Fatalf("principal = %+v", p)
	}
	got, _ := io.ReadAll(req.Body)
	if !bytes.Equal(got, body) {
		t.Fatalf("body after Authenticate = %q", got)
	}
}

// failingReader yields its bytes, then err.
type failingReader struct {
	b   []byte
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.b) == 0 {
		return 0, f.err
	}
	n := copy(p, f.b)
	f.b = f.b[n:]
	return n, nil
}

// A body that can't be read whole is the client's fault (400), and one a
// MaxBytesReader cuts is too large (413): neither is an internal error.
func TestAuthenticateBodyReadFailures(t *testing.T) {
	t.Parallel()
	k, _ := newTestKeyring()
	_, c, err := k.CreateAccount(context.Background(), accountA)
	if err != nil {
		t.Fatal(err)
	}
	v := auth.NewVerifier(k, testRegion, auth.WithClock(func() time.Time { return testNow }))
	body := []byte(testJSONBody)
	for _, tc := range []struct {
		name   string
		body   func() io.ReadCloser
		want   string
		status int
	}{
		{"cut short", func() io.ReadCloser {
			return io.NopCloser(&failingReader{b: body[:5], err: io.ErrUnexpectedEOF})
		}, fault.Serialization, http.StatusBadRequest},
		{"past its read deadline", func() io.ReadCloser {
			return io.NopCloser(&failingReader{b: body[:5], err: os.ErrDeadlineExceeded})
		}, fault.Serialization, http.StatusBadRequest},
		{"over a MaxBytesReader's limit", func() io.ReadCloser {
			return http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(bytes.NewReader(body)), 5)
		}, auth.RequestEntityTooLarge, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "http://wharf.test/v1/data-sets", bytes.NewReader(body))
			sdkSign(t, req, body, c, testRegion, auth.SigningName, testNow)
			req.Body = tc.body()
			_, err := v.Authenticate(req)
			fe := fault.As(err)
			if fe == nil || fe.Name != tc.want || fe.Status() != tc.status {
				t.Fatalf("err = %v, want %s (%d)", err, tc.want, tc.status)
			}
		})
	}
}

// brokenLookup fails as an unreachable store would.
type brokenLookup struct{}

func (brokenLookup) Lookup(context.Context, string) (string, []byte, error) {
	return "", nil, fmt.Errorf("dial tcp: connection refused")
}

func TestAuthenticateStoreFailureIsInternal(t *testing.T) {
	t.Parallel()
	req := httptest.NewRequest("GET", "http://wharf.test/v1/data-sets", nil)
	sdkSign(t, req, nil, auth.Credentials{AccessKeyID: "AKIAX", SecretAccessKey: "s"}, testRegion, auth.SigningName, testNow)
	_, err := auth.NewVerifier(brokenLookup{}, testRegion, auth.WithClock(func() time.Time { return testNow })).Authenticate(req)
	if !fault.Is(err, fault.InternalServer) {
		t.Fatalf("err = %v, want InternalServerException", err)
	}
	if !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("the cause is missing from the error text: %v", err)
	}
	if strings.Contains(fault.As(err).Message, "connection refused") {
		t.Errorf("the cause leaks into the client message: %q", fault.As(err).Message)
	}
}

func TestPrincipalFromEmptyContext(t *testing.T) {
	t.Parallel()
	if _, ok := auth.PrincipalFrom(context.Background()); ok {
		t.Fatal("found a principal in an empty context")
	}
}
