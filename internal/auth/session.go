package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// Console sessions are short-lived credentials the web console signs its
// requests with, issued at sign-in like STS's GetSessionToken: the browser
// signs the sign-in with the user's long-term key (whose secret never leaves
// it) and receives an access key id (ASIA...), a secret and a session token.
// Requests signed with them carry the token in X-Amz-Security-Token and are
// verified by the same Verifier as every other request, acting as the
// session's account and nothing else.
const (
	// DefaultSessionDuration is how long a session lasts unless asked
	// otherwise, and the longest it may last unless configured otherwise.
	DefaultSessionDuration = 12 * time.Hour
	// MinSessionDuration is the shortest session one may ask for (STS's
	// minimum).
	MinSessionDuration = 15 * time.Minute
	// SessionTokenHeader carries a session's token on every request it
	// signs.
	SessionTokenHeader = "X-Amz-Security-Token"
	// SessionKeyPrefix starts every session's access key id (as AWS's
	// temporary keys), and no long-term key's.
	SessionKeyPrefix = "ASIA"
)

// IsSessionKey reports whether accessKeyID names a session rather than a
// long-term access key.
func IsSessionKey(accessKeyID string) bool { return strings.HasPrefix(accessKeyID, SessionKeyPrefix) }

// SessionLookup finds a session's account and secret by its access key id
// and token; *Sessions is one. An unknown session, a wrong token and a
// revoked session fail with UnrecognizedClientException, an expired one
// with ExpiredTokenException.
type SessionLookup interface {
	LookupSession(ctx context.Context, accessKeyID, token string) (accountID string, secret []byte, err error)
}

// WithSessions makes the Verifier accept the sessions sessions knows: a
// request whose access key id starts with SessionKeyPrefix is then verified
// with the session's secret, and only with its token. Without it, every key
// is looked up as a long-term key.
func WithSessions(sessions SessionLookup) VerifierOption {
	return func(v *Verifier) { v.sessions = sessions }
}

// lookup returns who signed the request and the secret to check its
// signature with.
func (v *Verifier) lookup(r *http.Request, a authorization) (Principal, []byte, error) {
	p := Principal{AccessKeyID: a.accessKeyID}
	var err error
	var secret []byte
	if v.sessions != nil && IsSessionKey(a.accessKeyID) {
		var token string
		token, err = sessionToken(r, a)
		if err == nil {
			p.Session = true
			p.AccountID, secret, err = v.sessions.LookupSession(r.Context(), a.accessKeyID, token)
		}
	} else {
		// A long-term key's session token, if any, is signed like any
		// header and otherwise ignored.
		p.AccountID, secret, err = v.keys.Lookup(r.Context(), a.accessKeyID)
	}
	if err != nil {
		if fault.As(err) != nil {
			return Principal{}, nil, err
		}
		return Principal{}, nil, internal(err)
	}
	return p, secret, nil
}

// sessionToken returns the request's session token, which must be signed.
func sessionToken(r *http.Request, a authorization) (string, error) {
	values := r.Header.Values(SessionTokenHeader)
	switch {
	case len(values) == 0 || values[0] == "":
		return "", unrecognizedClient()
	case len(values) > 1:
		return "", incomplete("The request must carry exactly one X-Amz-Security-Token header.")
	case !slices.Contains(a.headerNames, "x-amz-security-token"):
		return "", incomplete("X-Amz-Security-Token must be a signed header: add x-amz-security-token to SignedHeaders.")
	}
	return values[0], nil
}

// SessionStore is the part of store.Queries sessions use.
type SessionStore interface {
	InsertSession(ctx context.Context, s resource.Session) error
	GetSession(ctx context.Context, id string) (resource.Session, error)
	RevokeSession(ctx context.Context, id string, at time.Time) error
	RevokeAccountSessions(ctx context.Context, accountID string, at time.Time) (int, error)
}

var _ SessionStore = store.Queries(nil)

// SessionConfig configures Sessions. Zero values take the defaults.
type SessionConfig struct {
	// MaxDuration is the longest a session may last, and how long it
	// lasts unless asked otherwise (DefaultSessionDuration).
	MaxDuration time.Duration
	// MinDuration is the shortest a session may be asked to last
	// (MinSessionDuration); tests lower it to see sessions expire.
	MinDuration time.Duration
	// Now replaces time.Now, for tests.
	Now func() time.Time
}

// Sessions issues, verifies and revokes console sessions, stored in the
// metadata database so that every replica sees a sign-out at once.
type Sessions struct {
	store  SessionStore
	sealer *Sealer
	cfg    SessionConfig
}

// NewSessions returns Sessions over st, sealing secrets with sealer.
func NewSessions(st SessionStore, sealer *Sealer, cfg SessionConfig) (*Sessions, error) {
	if cfg.MaxDuration == 0 {
		cfg.MaxDuration = DefaultSessionDuration
	}
	if cfg.MinDuration == 0 {
		cfg.MinDuration = MinSessionDuration
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MinDuration < time.Second || cfg.MaxDuration < cfg.MinDuration {
		return nil, fmt.Errorf("auth: the session duration %s must be at least %s", cfg.MaxDuration, cfg.MinDuration)
	}
	return &Sessions{store: st, sealer: sealer, cfg: cfg}, nil
}

// MaxDuration is the longest (and the default) duration of a session.
func (s *Sessions) MaxDuration() time.Duration { return s.cfg.MaxDuration }

// SessionCredentials are a session's credentials in the clear, as handed
// out once, at sign-in. String, GoString and LogValue redact the secret and
// the token.
type SessionCredentials struct {
	AccountID       string
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
}

func (c SessionCredentials) String() string {
	return fmt.Sprintf("{AccountID:%s AccessKeyID:%s SecretAccessKey:REDACTED SessionToken:REDACTED Expiration:%s}",
		c.AccountID, c.AccessKeyID, c.Expiration.UTC().Format(time.RFC3339))
}

// GoString redacts the secret and the token from %#v too.
func (c SessionCredentials) GoString() string { return "auth.SessionCredentials" + c.String() }

// LogValue redacts the secret and the token from slog output.
func (c SessionCredentials) LogValue() slog.Value {
	return slog.GroupValue(slog.String("account_id", c.AccountID), slog.String("access_key_id", c.AccessKeyID))
}

// Create issues a session for the account p signed with. A nil
// durationSeconds asks for the longest; otherwise it must lie between the
// minimum and MaxDuration. A session can't create another: sign-in takes a
// long-term key (AccessDeniedException).
func (s *Sessions) Create(ctx context.Context, p Principal, durationSeconds *int64) (SessionCredentials, error) {
	if p.Session {
		return SessionCredentials{}, fault.AccessDeniedf(
			"Cannot create a console session with session credentials: sign in with a long-term access key.")
	}
	if p.AccountID == "" || p.AccessKeyID == "" {
		return SessionCredentials{}, errors.New("auth: Create needs an authenticated principal")
	}
	d := s.cfg.MaxDuration
	if durationSeconds != nil {
		minS, maxS := int64(s.cfg.MinDuration/time.Second), int64(s.cfg.MaxDuration/time.Second)
		if n := *durationSeconds; n < minS || n > maxS {
			return SessionCredentials{}, fault.Validationf("DurationSeconds must be between %d and %d (got %d)", minS, maxS, n)
		}
		d = time.Duration(*durationSeconds) * time.Second
	}
	for attempt := 0; ; attempt++ {
		now := s.cfg.Now().UTC().Truncate(time.Second)
		creds := SessionCredentials{
			AccountID:       p.AccountID,
			AccessKeyID:     randomSessionKeyID(),
			SecretAccessKey: randomSecret(),
			SessionToken:    randomSessionToken(),
			Expiration:      now.Add(d),
		}
		err := s.store.InsertSession(ctx, resource.Session{
			ID:           creds.AccessKeyID,
			AccountID:    p.AccountID,
			ParentKeyID:  p.AccessKeyID,
			SealedSecret: s.sealer.SealBound(sessionSecretAD(creds.AccessKeyID), []byte(creds.SecretAccessKey)),
			TokenHash:    hashToken(creds.SessionToken),
			CreatedAt:    now,
			ExpiresAt:    creds.Expiration,
		})
		if errors.Is(err, store.ErrDuplicate) && attempt < 5 {
			continue // 80 random bits collided: draw again
		}
		if err != nil {
			return SessionCredentials{}, fmt.Errorf("auth: create session: %w", err)
		}
		return creds, nil
	}
}

// Revoke ends the session p signed with, at once and on every replica.
// Only the session itself may end it (AccessDeniedException for a
// long-term key). Revoking a session twice is not an error.
func (s *Sessions) Revoke(ctx context.Context, p Principal) error {
	if !p.Session {
		return fault.AccessDeniedf("Only a console session can end itself: sign the request with the session's credentials.")
	}
	err := s.store.RevokeSession(ctx, p.AccessKeyID, s.cfg.Now())
	if err != nil && !errors.Is(err, store.ErrNotFound) { // ErrNotFound: revoked meanwhile
		return fmt.Errorf("auth: revoke session %s: %w", p.AccessKeyID, err)
	}
	return nil
}

// RevokeAccount ends every session of an account (an operator's
// `wharf sessions revoke`) and returns how many were live.
func (s *Sessions) RevokeAccount(ctx context.Context, accountID string) (int, error) {
	n, err := s.store.RevokeAccountSessions(ctx, accountID, s.cfg.Now())
	if err != nil {
		return n, fmt.Errorf("auth: revoke the sessions of account %s: %w", accountID, err)
	}
	return n, nil
}

// LookupSession returns the account and secret of a live session whose
// token is token.
func (s *Sessions) LookupSession(ctx context.Context, accessKeyID, token string) (string, []byte, error) {
	sess, err := s.store.GetSession(ctx, accessKeyID)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil, unrecognizedClient()
	}
	if err != nil {
		return "", nil, fmt.Errorf("auth: get session %s: %w", accessKeyID, err)
	}
	if subtle.ConstantTimeCompare(hashToken(token), sess.TokenHash) != 1 || sess.RevokedAt != nil {
		return "", nil, unrecognizedClient()
	}
	if !s.cfg.Now().Before(sess.ExpiresAt) {
		return "", nil, fault.New(fault.ExpiredToken, "The security token included in the request is expired")
	}
	secret, err := s.sealer.OpenBound(sessionSecretAD(sess.ID), sess.SealedSecret)
	if err != nil {
		return "", nil, fmt.Errorf("auth: session %s: %w", sess.ID, err)
	}
	return sess.AccountID, secret, nil
}

func sessionSecretAD(accessKeyID string) []byte {
	return []byte("wharf/console-session-secret/v1/" + accessKeyID)
}

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// randomSessionKeyID returns "ASIA" and 16 base32 characters (80 random
// bits), the shape of an AWS temporary access key id.
func randomSessionKeyID() string {
	var b [10]byte
	mustRandom(b[:])
	return SessionKeyPrefix + base32.StdEncoding.EncodeToString(b[:])
}

// randomSessionToken returns 256 random bits, URL-safe base64.
func randomSessionToken() string {
	var b [32]byte
	mustRandom(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
