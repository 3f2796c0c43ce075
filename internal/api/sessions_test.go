package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"

	"github.com/wharf-dev/wharf/internal/api"
	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/console"
	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/sqlite"
)

// sessionEnv is the API with real SigV4 verification, console sessions and
// a console, over SQLite, with two accounts' long-term keys.
type sessionEnv struct {
	t    *testing.T
	ctx  context.Context
	st   store.Store
	srv  *httptest.Server
	a, b auth.Credentials
}

func newSessionEnv(t *testing.T, withConsole bool) *sessionEnv {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "wharf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := bytes.Repeat([]byte{7}, auth.MasterKeySize)
	sealer, err := auth.NewSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	k := auth.NewKeyring(st, sealer)
	_, a, err := k.CreateAccount(ctx, accountA)
	if err != nil {
		t.Fatal(err)
	}
	_, b, err := k.CreateAccount(ctx, accountB)
	if err != nil {
		t.Fatal(err)
	}
	cfg := api.Config{
		Service:       exchange.New(st, region),
		Authenticator: auth.NewVerifier(k, region),
		Logger:        slog.New(slog.NewTextHandler(t.Output(), nil)),
		Region:        region,
		Audit:         st,
	}
	if withConsole {
		sessions, err := auth.NewSessions(st, sealer, auth.SessionConfig{})
		if err != nil {
			t.Fatal(err)
		}
		pages, err := console.New(console.Config{Region: region, SessionDuration: sessions.MaxDuration(),
			Files: fstest.MapFS{"index.html": {Data: []byte("<!doctype html><title>console</title>")}}})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Authenticator = auth.NewVerifier(k, region, auth.WithSessions(sessions))
		cfg.Sessions, cfg.Console = sessions, pages
	}
	srv := httptest.NewServer(api.New(cfg))
	t.Cleanup(srv.Close)
	return &sessionEnv{t: t, ctx: ctx, st: st, srv: srv, a: a, b: b}
}

type response struct {
	status    int
	header    http.Header
	exception string
	body      []byte
}

// do sends a request signed with creds by the SDK's signer (unsigned when
// creds is nil).
func (e *sessionEnv) do(method, path string, creds *aws.Credentials, body string) response {
	e.t.Helper()
	req := jsonRequest(e.t, e.ctx, method, e.srv.URL+path, body)
	if creds != nil {
		sum := sha256.Sum256([]byte(body))
		if err := v4.NewSigner().SignHTTP(e.ctx, *creds, req, hex.EncodeToString(sum[:]), auth.SigningName, region, time.Now()); err != nil {
			e.t.Fatal(err)
		}
	}
	client := e.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, b := roundTrip(e.t, client, req)
	return response{status: resp.StatusCode, header: resp.Header, exception: resp.Header.Get("X-Amzn-ErrorType"), body: b}
}

func longTerm(c auth.Credentials) *aws.Credentials {
	return &aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey}
}

type sessionOut struct {
	AccountId   string
	Credentials struct{ AccessKeyId, SecretAccessKey, SessionToken, Expiration string }
}

func (s sessionOut) creds() *aws.Credentials {
	return &aws.Credentials{AccessKeyID: s.Credentials.AccessKeyId, SecretAccessKey: s.Credentials.SecretAccessKey,
		SessionToken: s.Credentials.SessionToken}
}

func (e *sessionEnv) signIn(c auth.Credentials, body string) sessionOut {
	e.t.Helper()
	res := e.do(http.MethodPost, "/console/api/session", longTerm(c), body)
	if res.status != http.StatusOK {
		e.t.Fatalf("sign-in: %d %s %s", res.status, res.exception, res.body)
	}
	if cc := res.header.Get("Cache-Control"); cc != "no-store" {
		e.t.Errorf("sign-in Cache-Control = %q, want no-store", cc)
	}
	var out sessionOut
	if err := json.Unmarshal(res.body, &out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

func (e *sessionEnv) sdk(c *aws.Credentials) *dataexchange.Client {
	return dataexchange.New(dataexchange.Options{
		Region: region, BaseEndpoint: aws.String(e.srv.URL), Retryer: aws.NopRetryer{}, HTTPClient: e.srv.Client(),
		Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken),
	})
}

func wantException(t *testing.T, what string, res response, status int, exception string) {
	t.Helper()
	if res.status != status || res.exception != exception {
		t.Errorf("%s: %d %s %s, want %d %s", what, res.status, res.exception, res.body, status, exception)
	}
}

func TestConsoleSessionLifecycle(t *testing.T) {
	t.Parallel()
	e := newSessionEnv(t, true)
	before := time.Now().Truncate(time.Second)
	s := e.signIn(e.a, "")
	exp, err := time.Parse(time.RFC3339, s.Credentials.Expiration)
	if err != nil || !strings.HasSuffix(s.Credentials.Expiration, "Z") {
		t.Fatalf("Expiration %q: %v", s.Credentials.Expiration, err)
	}
	if d := exp.Sub(before); d < 12*time.Hour || d > 12*time.Hour+5*time.Second {
		t.Errorf("the default session lasts %s, want 12h", d)
	}
	if s.AccountId != accountA || !strings.HasPrefix(s.Credentials.AccessKeyId, "ASIA") || s.Credentials.SessionToken == "" {
		t.Fatalf("sign-in returned %+v", s)
	}
	// A shorter session, asked for.
	short := e.signIn(e.a, `{"DurationSeconds": 900}`)
	if exp, _ := time.Parse(time.RFC3339, short.Credentials.Expiration); exp.Sub(before) > 15*time.Minute+5*time.Second {
		t.Errorf("DurationSeconds 900 gave a session until %s", exp)
	}

	// The session acts as account A through the SDK, and sees only A's.
	dsA, err := e.sdk(s.creds()).CreateDataSet(e.ctx, &dataexchange.CreateDataSetInput{
		Name: aws.String("a's"), Description: aws.String("d"), AssetType: "S3_SNAPSHOT"})
	if err != nil {
		t.Fatalf("CreateDataSet with the session: %v", err)
	}
	dsB, err := e.sdk(longTerm(e.b)).CreateDataSet(e.ctx, &dataexchange.CreateDataSetInput{
		Name: aws.String("b's"), Description: aws.String("d"), AssetType: "S3_SNAPSHOT"})
	if err != nil {
		t.Fatal(err)
	}
	list, err := e.sdk(s.creds()).ListDataSets(e.ctx, &dataexchange.ListDataSetsInput{})
	if err != nil || len(list.DataSets) != 1 || aws.ToString(list.DataSets[0].Id) != aws.ToString(dsA.Id) {
		t.Fatalf("ListDataSets with the session: %+v, %v", list, err)
	}
	_, err = e.sdk(s.creds()).GetDataSet(e.ctx, &dataexchange.GetDataSetInput{DataSetId: dsB.Id})
	wantAPIError(t, err, "ResourceNotFoundException")

	// A session can't make a session; a long-term key can't sign out.
	wantException(t, "sign-in with a session", e.do(http.MethodPost, "/console/api/session", s.creds(), "{}"),
		http.StatusForbidden, "AccessDeniedException")
	wantException(t, "sign-out with a long-term key", e.do(http.MethodDelete, "/console/api/session", longTerm(e.a), ""),
		http.StatusForbidden, "AccessDeniedException")

	// Sign-out: 204, then the session is refused and the other lives on.
	if res := e.do(http.MethodDelete, "/console/api/session", s.creds(), ""); res.status != http.StatusNoContent || len(res.body) != 0 {
		t.Fatalf("sign-out: %d %s %s", res.status, res.exception, res.body)
	}
	_, err = e.sdk(s.creds()).ListDataSets(e.ctx, &dataexchange.ListDataSetsInput{})
	if ae := wantAPIError(t, err, "UnrecognizedClientException"); ae.ErrorMessage() != "The security token included in the request is invalid." {
		t.Errorf("after sign-out: %q", ae.ErrorMessage())
	}
	wantException(t, "sign-out twice", e.do(http.MethodDelete, "/console/api/session", s.creds(), ""),
		http.StatusForbidden, "UnrecognizedClientException")
	if _, err := e.sdk(short.creds()).ListDataSets(e.ctx, &dataexchange.ListDataSetsInput{}); err != nil {
		t.Errorf("the other session after the sign-out: %v", err)
	}

	// The audit log names the operations, the account and the keys.
	records, err := e.st.ListAuditRecords(e.ctx, store.AuditFilter{AccountID: accountA, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	ops := map[string]string{}
	for _, r := range records {
		if r.Status < 300 {
			ops[r.Operation] = r.AccessKeyID
		}
	}
	if ops["CreateConsoleSession"] != e.a.AccessKeyID || ops["DeleteConsoleSession"] != s.Credentials.AccessKeyId ||
		ops["CreateDataSet"] != s.Credentials.AccessKeyId {
		t.Errorf("audited operations and keys: %v", ops)
	}
}

func TestConsoleSessionRefusals(t *testing.T) {
	t.Parallel()
	e := newSessionEnv(t, true)
	wrong := longTerm(e.a)
	wrong.SecretAccessKey = "not-the-secret-not-the-secret-not-the-sec"
	res := e.do(http.MethodPost, "/console/api/session", wrong, "{}")
	wantException(t, "sign-in with a wrong secret", res, http.StatusForbidden, "InvalidSignatureException")
	if !strings.Contains(string(res.body), "The request signature we calculated does not match") {
		t.Errorf("wrong secret's message: %s", res.body)
	}
	wantException(t, "unsigned sign-in", e.do(http.MethodPost, "/console/api/session", nil, "{}"),
		http.StatusForbidden, "MissingAuthenticationTokenException")
	for _, body := range []string{`{"DurationSeconds": 899}`, `{"DurationSeconds": 43201}`, `{"DurationSeconds": 0}`} {
		wantException(t, "sign-in with "+body, e.do(http.MethodPost, "/console/api/session", longTerm(e.a), body),
			http.StatusBadRequest, "ValidationException")
	}
	for _, body := range []string{`{"DurationSeconds": "900"}`, `not json`} {
		wantException(t, "sign-in with "+body, e.do(http.MethodPost, "/console/api/session", longTerm(e.a), body),
			http.StatusBadRequest, "SerializationException")
	}
	// Refused sign-ins created no session.
	records, err := e.st.ListAuditRecords(e.ctx, store.AuditFilter{Operation: "CreateConsoleSession", Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		if r.Status < 300 {
			t.Errorf("a refused sign-in was audited as %d", r.Status)
		}
	}
	// Other methods and paths under /console/api/ are API errors, not pages.
	wantException(t, "GET session", e.do(http.MethodGet, "/console/api/session", longTerm(e.a), ""),
		http.StatusNotFound, "UnknownOperationException")
	wantException(t, "an unknown console API path", e.do(http.MethodPost, "/console/api/other", longTerm(e.a), "{}"),
		http.StatusNotFound, "UnknownOperationException")
}

func TestConsoleRoutes(t *testing.T) {
	t.Parallel()
	e := newSessionEnv(t, true)
	res := e.do(http.MethodGet, "/console", nil, "")
	if res.status != http.StatusMovedPermanently || res.header.Get("Location") != "/console/" {
		t.Errorf("GET /console: %d Location %q", res.status, res.header.Get("Location"))
	}
	for _, p := range []string{"/console/", "/console/data-sets/abc", "/console/index.html"} {
		res := e.do(http.MethodGet, p, nil, "")
		if res.status != http.StatusOK || !strings.Contains(string(res.body), "<title>console</title>") {
			t.Errorf("GET %s: %d %s", p, res.status, res.body)
		}
	}
	res = e.do(http.MethodGet, "/console/config.json", nil, "")
	var cfg struct {
		Region                 string
		SessionDurationSeconds int
	}
	if err := json.Unmarshal(res.body, &cfg); err != nil || cfg.Region != region || cfg.SessionDurationSeconds != 43200 {
		t.Errorf("config.json: %s (%v)", res.body, err)
	}

	// Without the console, none of it is there.
	off := newSessionEnv(t, false)
	for _, p := range []string{"/console/", "/console/config.json", "/console/api/session"} {
		wantException(t, "GET "+p+" without the console", off.do(http.MethodGet, p, longTerm(off.a), ""),
			http.StatusNotFound, "UnknownOperationException")
	}
	wantException(t, "sign-in without the console", off.do(http.MethodPost, "/console/api/session", longTerm(off.a), "{}"),
		http.StatusNotFound, "UnknownOperationException")
}
