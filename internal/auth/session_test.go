package auth_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/store/sqlite"
)

var (
	sessionKeyPattern   = regexp.MustCompile(`^ASIA[A-Z2-7]{16}$`)
	sessionTokenPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)
)

// clock is a settable time shared by the verifier and the sessions.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// sessionFixture is a keyring and sessions on a real SQLite store, and a
// server that authenticates with both and echoes who signed.
type sessionFixture struct {
	clock    *clock
	sessions *auth.Sessions
	store    *sqlite.Store
	a, b     auth.Credentials
	srv      *httptest.Server
}

func newSessionFixture(t *testing.T, withSessions bool) *sessionFixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "wharf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	k := auth.NewKeyring(st, testSealer())
	_, a, err := k.CreateAccount(ctx, accountA)
	if err != nil {
		t.Fatal(err)
	}
	_, b, err := k.CreateAccount(ctx, accountB)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Now().UTC().Truncate(time.Second)}
	sessions, err := auth.NewSessions(st, testSealer(), auth.SessionConfig{Now: c.now})
	if err != nil {
		t.Fatal(err)
	}
	opts := []auth.VerifierOption{auth.WithClock(c.now)}
	if withSessions {
		opts = append(opts, auth.WithSessions(sessions))
	}
	srv := httptest.NewServer(authEchoHandler(auth.NewVerifier(k, testRegion, opts...)))
	t.Cleanup(srv.Close)
	return &sessionFixture{clock: c, sessions: sessions, store: st, a: a, b: b, srv: srv}
}

func (f *sessionFixture) create(t *testing.T, c auth.Credentials) auth.SessionCredentials {
	t.Helper()
	s, err := f.sessions.Create(context.Background(), auth.Principal{AccountID: c.AccountID, AccessKeyID: c.AccessKeyID}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signed is a GET of the fixture's server signed with the SDK's signer,
// with the token (if any) in X-Amz-Security-Token, as the SDKs send it.
func (f *sessionFixture) signed(t *testing.T, id, secret, token string) *http.Request {
	t.Helper()
	req := newRequest(t, http.MethodGet, f.srv.URL+"/v1/data-sets", nil)
	creds := aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: token}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, emptySHA256, auth.SigningName, testRegion, f.clock.now()); err != nil {
		t.Fatal(err)
	}
	return req
}

func wantRefused(t *testing.T, what string, res result, exception, message string) {
	t.Helper()
	if res.status != http.StatusForbidden || res.errType != exception || (message != "" && res.message != message) {
		t.Errorf("%s: got %d %s %q, want 403 %s %q", what, res.status, res.errType, res.message, exception, message)
	}
}

const (
	invalidToken = "The security token included in the request is invalid."
	expiredToken = "The security token included in the request is expired"
)

func TestSessionSignsAsItsAccount(t *testing.T) {
	t.Parallel()
	f := newSessionFixture(t, true)
	s := f.create(t, f.a)
	if s.AccountID != accountA || !sessionKeyPattern.MatchString(s.AccessKeyID) ||
		!secretPattern.MatchString(s.SecretAccessKey) || !sessionTokenPattern.MatchString(s.SessionToken) {
		t.Fatalf("session credentials of an odd shape: %s (secret %d chars, token %q)", s, len(s.SecretAccessKey), s.SessionToken)
	}
	if want := f.clock.now().Add(auth.DefaultSessionDuration); !s.Expiration.Equal(want) {
		t.Errorf("Expiration = %s, want %s (12 h)", s.Expiration, want)
	}
	res := send(t, f.signed(t, s.AccessKeyID, s.SecretAccessKey, s.SessionToken))
	if res.status != http.StatusOK || res.echo.AccountId != accountA || res.echo.AccessKeyId != s.AccessKeyID {
		t.Fatalf("a session's request: %d %s %q, echo %+v", res.status, res.errType, res.message, res.echo)
	}
	// Another account's session acts as that account.
	sb := f.create(t, f.b)
	if res := send(t, f.signed(t, sb.AccessKeyID, sb.SecretAccessKey, sb.SessionToken)); res.echo.AccountId != accountB {
		t.Errorf("account B's session signed as %q", res.echo.AccountId)
	}
	// Long-term keys work as before, with or without a token (ignored).
	if res := send(t, f.signed(t, f.a.AccessKeyID, f.a.SecretAccessKey, "")); res.echo.AccountId != accountA {
		t.Errorf("long-term key: %d %s %q", res.status, res.errType, res.message)
	}
	if res := send(t, f.signed(t, f.a.AccessKeyID, f.a.SecretAccessKey, "stray-token")); res.echo.AccountId != accountA {
		t.Errorf("long-term key with a stray token: %d %s %q", res.status, res.errType, res.message)
	}
}

func TestSessionRefusals(t *testing.T) {
	t.Parallel()
	f := newSessionFixture(t, true)
	s := f.create(t, f.a)
	other := f.create(t, f.a)

	wantRefused(t, "no token", send(t, f.signed(t, s.AccessKeyID, s.SecretAccessKey, "")), fault.UnrecognizedClient, invalidToken)
	wantRefused(t, "a wrong token", send(t, f.signed(t, s.AccessKeyID, s.SecretAccessKey, s.SessionToken+"x")),
		fault.UnrecognizedClient, invalidToken)
	wantRefused(t, "another session's token", send(t, f.signed(t, s.AccessKeyID, s.SecretAccessKey, other.SessionToken)),
		fault.UnrecognizedClient, invalidToken)
	wantRefused(t, "an unknown session", send(t, f.signed(t, "ASIAUNKNOWNUNKNOWN00", s.SecretAccessKey, s.SessionToken)),
		fault.UnrecognizedClient, invalidToken)
	wantRefused(t, "a wrong secret", send(t, f.signed(t, s.AccessKeyID, other.SecretAccessKey, s.SessionToken)),
		fault.InvalidSignature, "")
	// The secret of another session with the right token: still the signature.
	wantRefused(t, "the long-term secret", send(t, f.signed(t, s.AccessKeyID, f.a.SecretAccessKey, s.SessionToken)),
		fault.InvalidSignature, "")

	// A token that is present but not signed.
	req := f.signed(t, s.AccessKeyID, s.SecretAccessKey, "")
	req.Header.Set(auth.SessionTokenHeader, s.SessionToken)
	wantRefused(t, "an unsigned token", send(t, req), fault.IncompleteSignature, "")
	// Two tokens.
	req = f.signed(t, s.AccessKeyID, s.SecretAccessKey, s.SessionToken)
	req.Header.Add(auth.SessionTokenHeader, s.SessionToken)
	wantRefused(t, "two tokens", send(t, req), fault.IncompleteSignature, "")

	// The refusals left the session working.
	if res := send(t, f.signed(t, s.AccessKeyID, s.SecretAccessKey, s.SessionToken)); res.status != http.StatusOK {
		t.Errorf("the session after the refusals: %d %s %q", res.status, res.errType, res.message)
	}
}

func TestSessionRevoke(t *testing.T) {
	t.Parallel()
	f := newSessionFixture(t, true)
	ctx := context.Background()
	s, keep := f.create(t, f.a), f.create(t, f.a)
	p := auth.Principal{AccountID: accountA, AccessKeyID: s.AccessKeyID, Session: true}

	err := f.sessions.Revoke(ctx, auth.Principal{AccountID: accountA, AccessKeyID: f.a.AccessKeyID})
	if !fault.Is(err, fault.AccessDenied) {
		t.Errorf("Revoke with a long-term key: %v, want AccessDeniedException", err)
	}
	if err := f.sessions.Revoke(ctx, p); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, "a revoked session", send(t, f.signed(t, s.AccessKeyID, s.SecretAccessKey, s.SessionToken)),
		fault.UnrecognizedClient, invalidToken)
	if err := f.sessions.Revoke(ctx, p); err != nil {
		t.Errorf("Revoke twice: %v", err)
	}
	// Another session of the same account lives on.
	if res := send(t, f.signed(t, keep.AccessKeyID, keep.SecretAccessKey, keep.SessionToken)); res.status != http.StatusOK {
		t.Errorf("the account's other session: %d %s %q", res.status, res.errType, res.message)
	}
	// A second Sessions on the same database (another replica) sees it too.
	replica, err := auth.NewSessions(f.store, testSealer(), auth.SessionConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := replica.LookupSession(ctx, s.AccessKeyID, s.SessionToken); !fault.Is(err, fault.UnrecognizedClient) {
		t.Errorf("another replica's lookup of the revoked session: %v", err)
	}
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	f := newSessionFixture(t, true)
	ctx := context.Background()
	short := int64(900)
	s, err := f.sessions.Create(ctx, auth.Principal{AccountID: accountA, AccessKeyID: f.a.AccessKeyID}, &short)
	if err != nil {
		t.Fatal(err)
	}
	if want := f.clock.now().Add(15 * time.Minute); !s.Expiration.Equal(want) {
		t.Errorf("Expiration = %s, want %s", s.Expiration, want)
	}
	f.clock.add(15*time.Minute - time.Second)
	if res := send(t, f.signed(t, s.AccessKeyID, s.SecretAccessKey, s.SessionToken)); res.status != http.StatusOK {
		t.Errorf("a second before the expiry: %d %s %q", res.status, res.errType, res.message)
	}
	f.clock.add(time.Second)
	wantRefused(t, "at the expiry", send(t, f.signed(t, s.AccessKeyID, s.SecretAccessKey, s.SessionToken)),
		fault.ExpiredToken, expiredToken)
	// An expired session with a wrong token is invalid, not expired.
	wantRefused(t, "expired, wrong token", send(t, f.signed(t, s.AccessKeyID, s.SecretAccessKey, "nope")),
		fault.UnrecognizedClient, invalidToken)
}

func TestSessionCreateRules(t *testing.T) {
	t.Parallel()
	f := newSessionFixture(t, true)
	ctx := context.Background()
	long := auth.Principal{AccountID: accountA, AccessKeyID: f.a.AccessKeyID}
	for _, n := range []int64{0, 899, -1, 43201, 1 << 40} {
		_, err := f.sessions.Create(ctx, long, &n)
		if fe := fault.As(err); fe == nil || fe.Name != fault.Validation || !strings.Contains(fe.Message, "between 900 and 43200") {
			t.Errorf("DurationSeconds %d: %v, want a ValidationException naming 900 and 43200", n, err)
		}
	}
	n := int64(43200)
	if _, err := f.sessions.Create(ctx, long, &n); err != nil {
		t.Errorf("DurationSeconds 43200: %v", err)
	}
	s := f.create(t, f.a)
	_, err := f.sessions.Create(ctx, auth.Principal{AccountID: accountA, AccessKeyID: s.AccessKeyID, Session: true}, nil)
	if !fault.Is(err, fault.AccessDenied) {
		t.Errorf("Create with a session: %v, want AccessDeniedException", err)
	}

	// The row holds neither the secret nor the token in the clear.
	row, err := f.store.GetSession(ctx, s.AccessKeyID)
	if err != nil {
		t.Fatal(err)
	}
	if row.ParentKeyID != f.a.AccessKeyID || row.AccountID != accountA {
		t.Errorf("row: parent %q account %q", row.ParentKeyID, row.AccountID)
	}
	for _, b := range [][]byte{row.SealedSecret, row.TokenHash} {
		if bytes.Contains(b, []byte(s.SecretAccessKey)) || bytes.Contains(b, []byte(s.SessionToken)) {
			t.Error("the session row holds the secret or the token in the clear")
		}
	}

	// Durations the server may be configured with.
	if _, err := auth.NewSessions(f.store, testSealer(), auth.SessionConfig{MaxDuration: 10 * time.Minute}); err == nil {
		t.Error("NewSessions with a 10 min duration (below the 15 min minimum): no error")
	}
	two := int64(2)
	quick, err := auth.NewSessions(f.store, testSealer(), auth.SessionConfig{MaxDuration: time.Hour, MinDuration: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := quick.Create(ctx, long, &two); err != nil {
		t.Errorf("a 2 s session with a 1 s minimum: %v", err)
	}
	if _, err := quick.Create(ctx, long, new(int64(3601))); !fault.Is(err, fault.Validation) {
		t.Errorf("above the configured 1 h: %v", err)
	}
}

func TestSessionCredentialsRedacted(t *testing.T) {
	t.Parallel()
	c := auth.SessionCredentials{AccountID: accountA, AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "s3cr3t-value", SessionToken: "t0k3n-value"}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "creds", c)
	for _, out := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c), logged.String()} {
		if strings.Contains(out, "s3cr3t") || strings.Contains(out, "t0k3n") {
			t.Errorf("printed credentials leak a secret: %s", out)
		}
	}
}

func TestSessionKeysWithoutSessions(t *testing.T) {
	t.Parallel()
	f := newSessionFixture(t, false)
	s := f.create(t, f.a)
	// A verifier that takes no sessions looks ASIA keys up as long-term
	// keys, and knows none.
	wantRefused(t, "a session without WithSessions", send(t, f.signed(t, s.AccessKeyID, s.SecretAccessKey, s.SessionToken)),
		fault.UnrecognizedClient, invalidToken)
}

func TestRootKeyMayNotLookLikeASession(t *testing.T) {
	t.Parallel()
	k, _ := newTestKeyring()
	_, err := k.EnsureRoot(context.Background(), auth.RootConfig{AccessKeyID: "ASIAROOTKEY", SecretAccessKey: "a-long-secret"})
	if err == nil || !strings.Contains(err.Error(), "ASIA") {
		t.Errorf("EnsureRoot with an ASIA key: %v, want an error naming ASIA", err)
	}
}
