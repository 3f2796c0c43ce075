package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/wharf-dev/wharf/internal/resource"
)

// Console sessions.

const sessionColumns = `id, account_id, parent_key_id, sealed_secret, token_hash, created_at, expires_at, revoked_at`

func (q *queries) InsertSession(ctx context.Context, s resource.Session) error {
	_, err := q.exec(ctx, `INSERT INTO console_sessions (`+sessionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.AccountID, s.ParentKeyID, s.SealedSecret, s.TokenHash, millis(s.CreatedAt), millis(s.ExpiresAt),
		nullMillis(s.RevokedAt))
	return err
}

func scanSession(r scanner) (resource.Session, error) {
	var s resource.Session
	var created, expires int64
	var revoked sql.NullInt64
	if err := r.Scan(&s.ID, &s.AccountID, &s.ParentKeyID, &s.SealedSecret, &s.TokenHash, &created, &expires, &revoked); err != nil {
		return s, err
	}
	s.CreatedAt, s.ExpiresAt, s.RevokedAt = fromMillis(created), fromMillis(expires), timeOrNil(revoked)
	return s, nil
}

func (q *queries) GetSession(ctx context.Context, id string) (resource.Session, error) {
	return queryOne(ctx, q, scanSession,
		`SELECT `+sessionColumns+` FROM console_sessions WHERE id = ?`+q.lockClause(), id)
}

func (q *queries) RevokeSession(ctx context.Context, id string, at time.Time) error {
	return q.execOne(ctx, `UPDATE console_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`,
		millis(at), id)
}

func (q *queries) RevokeAccountSessions(ctx context.Context, accountID string, at time.Time) (int, error) {
	n, err := q.exec(ctx, `UPDATE console_sessions SET revoked_at = ? WHERE account_id = ? AND revoked_at IS NULL`,
		millis(at), accountID)
	return int(n), err
}

func (q *queries) DeleteSessionsExpiredBefore(ctx context.Context, before time.Time, limit int) (int, error) {
	return q.deleteBefore(ctx, "console_sessions", "expires_at", before, limit)
}
