package resource

import "time"

// Session is a console session: short-lived credentials (an access key id
// starting with ASIA, a secret and a session token), issued to an account
// that signed in with a long-term access key, like STS's GetSessionToken.
// The secret is stored sealed and the token only as its hash.
type Session struct {
	ID           string // the session's access key id, ASIA...
	AccountID    string
	ParentKeyID  string // the long-term access key that signed the sign-in
	SealedSecret []byte
	TokenHash    []byte // SHA-256 of the session token
	CreatedAt    time.Time
	ExpiresAt    time.Time
	RevokedAt    *time.Time // nil while the session is live
}
