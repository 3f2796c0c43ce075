package auth_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"golang.org/x/net/http/httpguts"

	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/fault"
)

// fuzzKeys knows one access key.
type fuzzKeys struct{}

const (
	fuzzKeyID  = "AKIAFUZZ"
	fuzzSecret = "fuzz-secret/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
)

func (fuzzKeys) Lookup(_ context.Context, id string) (string, []byte, error) {
	if id != fuzzKeyID {
		return "", nil, fault.New(fault.UnrecognizedClient, "The security token included in the request is invalid.")
	}
	return accountA, []byte(fuzzSecret), nil
}

func fuzzVerifier() *auth.Verifier {
	return auth.NewVerifier(fuzzKeys{}, testRegion, auth.WithClock(func() time.Time { return testNow }))
}

// FuzzAuthorizationHeader: whatever the Authorization and X-Amz-Date
// headers hold, Authenticate refuses the request with an authentication
// exception, never an internal error or a panic, unless they carry the
// signature the SDK made for this request, its key and its date (written
// in another form Authenticate takes: no space after the commas, say).
func FuzzAuthorizationHeader(f *testing.F) {
	req := httptest.NewRequest("GET", "http://wharf.test/v1/data-sets", nil)
	sdkSign(f, req, nil, auth.Credentials{AccessKeyID: fuzzKeyID, SecretAccessKey: fuzzSecret}, testRegion, auth.SigningName, testNow)
	signed, date := req.Header.Get("Authorization"), req.Header.Get("X-Amz-Date")
	_, signature, _ := strings.Cut(signed, "Signature=")
	f.Add(signed, date)
	for _, h := range []string{
		"", "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 ", "AWS4-HMAC-SHA256 Credential=", "Bearer x",
		"AWS4-HMAC-SHA256 Credential=AKIA/20260529/us-east-1/dataexchange/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("0", 64),
		"AWS4-HMAC-SHA256 Credential=AKIA/20260529/us-east-1/dataexchange/aws4_request,SignedHeaders=host;;x-amz-date,Signature=zz",
		"AWS4-HMAC-SHA256 Credential=a/b/c/d/e, Credential=a/b/c/d/e, SignedHeaders=host, Signature=x",
		"AWS4-HMAC-SHA256 Credential=/20260529/us-east-1/dataexchange/aws4_request, SignedHeaders=authorization;host, Signature=x",
		"AWS4-HMAC-SHA256 ,,,=,==,Signature",
		strings.Replace(signed, "host;", "content-length;host;", 1),
	} {
		f.Add(h, date)
	}
	f.Add(signed, "20260529T120000")
	f.Add(signed, "99999999T999999Z")
	v := fuzzVerifier()
	f.Fuzz(func(t *testing.T, authorization, amzDate string) {
		req := httptest.NewRequest("GET", "http://wharf.test/v1/data-sets", nil)
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		req.Header.Set("X-Amz-Date", amzDate)
		p, err := v.Authenticate(req)
		if authorization == signed && amzDate == date && err != nil {
			t.Fatalf("the SDK's own signature was refused: %v", err)
		}
		fe := fault.As(err)
		switch {
		case err == nil && (p.AccessKeyID != fuzzKeyID || amzDate != date || !strings.Contains(authorization, "Signature="+signature)):
			t.Fatalf("Authorization %q, X-Amz-Date %q authenticated as %+v", authorization, amzDate, p)
		case err == nil:
		case fe == nil || fe.Name == fault.InternalServer || fe.Status() != http.StatusForbidden:
			t.Fatalf("Authorization %q, X-Amz-Date %q: %v, want a 403 authentication exception", authorization, amzDate, err)
		}
	})
}

// FuzzSignedRequest: a request the SDK's signer signed, sent over the wire
// (written by Go's client, read by Go's server), authenticates as its
// signer whatever its method, path, query, body and extra header; with its
// body changed, it is refused as InvalidSignatureException.
func FuzzSignedRequest(f *testing.F) {
	f.Add("POST", "/v1/data-sets", "", []byte(testJSONBody), "Content-Type", "application/json")
	f.Add("GET", "/v1/data-sets", "maxResults=5&nextToken=a%2Fb", []byte(nil), "X-Amz-Target", "x")
	f.Add("DELETE", "/tags/"+escapedArn, "tagKeys=a&tagKeys=b%20c", []byte(nil), "User-Agent", "aws-cli/2")
	f.Add("PATCH", "/v1/data-sets/0123456789abcdef0123456789abcdef/revisions/x", "", []byte(`{"Comment":"é"}`), "X-Custom", "  two  spaces  ")
	f.Add("POST", "/v1", "", []byte("any bytes\x00\xff"), "X-Amzn-Dataexchange-Path", "/a b/%2F")
	f.Add("GET", "/v1/a%20b/c~d/e+f", "=&a=&b", []byte(nil), "Expect", "")
	v := fuzzVerifier()
	creds := aws.Credentials{AccessKeyID: fuzzKeyID, SecretAccessKey: fuzzSecret}
	f.Fuzz(func(t *testing.T, method, path, query string, body []byte, name, value string) {
		if !strings.HasPrefix(path, "/") {
			return
		}
		target := "http://wharf.test" + path
		if query != "" {
			target += "?" + query
		}
		client, err := http.NewRequest(method, target, bytes.NewReader(body))
		if err != nil || client.URL.Host != "wharf.test" || client.URL.Opaque != "" {
			return // not a request a client could send
		}
		if len(body) == 0 {
			client.Body, client.ContentLength = http.NoBody, 0
		}
		if name != "" {
			if !httpguts.ValidHeaderFieldName(name) || !httpguts.ValidHeaderFieldValue(value) {
				return // Go's transport refuses these
			}
			client.Header.Set(name, value)
		}
		sum := sha256Hex(body)
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, client, sum, auth.SigningName, testRegion, testNow); err != nil {
			t.Fatalf("sign: %v", err)
		}
		var wire bytes.Buffer
		if err := client.Write(&wire); err != nil {
			return // Go's client would not send it either
		}
		raw := wire.Bytes()
		server, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			return // Go's server would answer 400 before any handler
		}
		p, err := v.Authenticate(server)
		if err != nil {
			t.Fatalf("%s %s (header %q: %q, %d body bytes) signed by the SDK was refused: %v\n%s", method, target, name, value, len(body), err, raw)
		}
		if p.AccountID != accountA || p.AccessKeyID != creds.AccessKeyID {
			t.Fatalf("principal %+v", p)
		}
		got, _ := io.ReadAll(server.Body)
		if !bytes.Equal(got, body) {
			t.Fatalf("Authenticate left the body %q, want %q", got, body)
		}

		if len(body) > 0 {
			altered, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
			if err != nil {
				t.Fatal(err)
			}
			b := append([]byte(nil), body...)
			b[0] ^= 1
			altered.Body = io.NopCloser(bytes.NewReader(b))
			if _, err := v.Authenticate(altered); !fault.Is(err, fault.InvalidSignature) {
				t.Fatalf("%s %s with its body changed: %v, want InvalidSignatureException", method, target, err)
			}
		}
	})
}
