package sqlstore

import (
	"context"
	"time"

	"github.com/wharf-dev/wharf/internal/store"
)

// Deleted asset bytes (migration 0008).

// recordDeletedBytes records, for the sweeper, the asset-store key
// (assetstore.AssetKey: <account>/<data set>/<asset>) of every asset that
// matches where, which the caller is about to delete in the same
// transaction. Entitled data sets hold no assets, so deleting one records
// nothing and leaves its source's bytes alone.
func (q *queries) recordDeletedBytes(ctx context.Context, where string, args ...any) error {
	now := millis(time.Now())
	_, err := q.exec(ctx, `INSERT INTO deleted_asset_bytes (key, deleted_at, next_attempt_at)
		SELECT account_id || '/' || data_set_id || '/' || id, ?, ? FROM assets WHERE `+where+`
		ON CONFLICT (key) DO NOTHING`, append([]any{now, now}, args...)...)
	return err
}

func (q *queries) ListDueDeletedBytes(ctx context.Context, now time.Time, limit int) ([]store.DeletedBytes, error) {
	if limit < 1 {
		return nil, checkPage(store.PageRequest{Limit: limit})
	}
	return queryAll(ctx, q, func(r scanner) (store.DeletedBytes, error) {
		var d store.DeletedBytes
		var deleted, next, attempts int64
		err := r.Scan(&d.Key, &deleted, &attempts, &next, &d.LastError)
		d.DeletedAt, d.Attempts, d.NextAttemptAt = fromMillis(deleted), int(attempts), fromMillis(next)
		return d, err
	}, `SELECT key, deleted_at, attempts, next_attempt_at, last_error FROM deleted_asset_bytes
		WHERE next_attempt_at <= ? ORDER BY next_attempt_at, key LIMIT ?`, millis(now), limit)
}

func (q *queries) ForgetDeletedBytes(ctx context.Context, key string) error {
	_, err := q.exec(ctx, `DELETE FROM deleted_asset_bytes WHERE key = ?`, key)
	return err
}

func (q *queries) RetryDeletedBytes(ctx context.Context, key string, next time.Time, lastError string) error {
	return q.execOne(ctx, `UPDATE deleted_asset_bytes SET attempts = attempts + 1, next_attempt_at = ?, last_error = ?
		WHERE key = ?`, millis(next), lastError, key)
}
