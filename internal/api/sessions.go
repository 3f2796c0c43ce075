package api

import (
	"context"
	"net/http"
	"time"

	"github.com/wharf-dev/wharf/internal/auth"
)

// The console's session operations (a Wharf extension, docs/console.md):
// POST /console/api/session, signed with a long-term key, issues session
// credentials; DELETE, signed with the session, ends it. Both go through
// operation like every API call, so they are authenticated and audited
// the same way.
const sessionPath = "/console/api/session"

// Sessions issues and revokes console sessions; *auth.Sessions is one.
type Sessions interface {
	Create(ctx context.Context, p auth.Principal, durationSeconds *int64) (auth.SessionCredentials, error)
	Revoke(ctx context.Context, p auth.Principal) error
}

type createSessionRequest struct {
	DurationSeconds *int64 `json:"DurationSeconds"`
}

type sessionCredentialsShape struct {
	AccessKeyId     string `json:"AccessKeyId"`
	SecretAccessKey string `json:"SecretAccessKey"`
	SessionToken    string `json:"SessionToken"`
	Expiration      string `json:"Expiration"`
}

type createSessionResponse struct {
	AccountId   string                  `json:"AccountId"`
	Credentials sessionCredentialsShape `json:"Credentials"`
}

func (s *server) createConsoleSession(r *http.Request, _ string) (int, any, error) {
	var req createSessionRequest
	if err := decodeBody(r, &req); err != nil {
		return 0, nil, err
	}
	p, _ := auth.PrincipalFrom(r.Context())
	c, err := s.sessions.Create(r.Context(), p, req.DurationSeconds)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, createSessionResponse{
		AccountId: c.AccountID,
		Credentials: sessionCredentialsShape{
			AccessKeyId:     c.AccessKeyID,
			SecretAccessKey: c.SecretAccessKey,
			SessionToken:    c.SessionToken,
			Expiration:      c.Expiration.UTC().Format(time.RFC3339),
		},
	}, nil
}

func (s *server) deleteConsoleSession(r *http.Request, _ string) (int, any, error) {
	p, _ := auth.PrincipalFrom(r.Context())
	if err := s.sessions.Revoke(r.Context(), p); err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
