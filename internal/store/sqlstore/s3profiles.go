package sqlstore

import (
	"context"

	"github.com/wharf-dev/wharf/internal/store"
)

// S3 profiles.

func (q *queries) PutS3Profile(ctx context.Context, p store.S3Profile) error {
	_, err := q.exec(ctx, `INSERT INTO s3_profiles
		(account_id, endpoint, region, path_style, access_key_id, sealed_secret, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET
			endpoint = excluded.endpoint, region = excluded.region, path_style = excluded.path_style,
			access_key_id = excluded.access_key_id, sealed_secret = excluded.sealed_secret,
			updated_at = excluded.updated_at`,
		p.AccountID, p.Endpoint, p.Region, p.PathStyle, p.AccessKeyID, p.SealedSecret, millis(p.UpdatedAt))
	return err
}

func scanS3Profile(r scanner) (store.S3Profile, error) {
	var p store.S3Profile
	var updated int64
	if err := r.Scan(&p.AccountID, &p.Endpoint, &p.Region, &p.PathStyle, &p.AccessKeyID, &p.SealedSecret, &updated); err != nil {
		return p, err
	}
	p.UpdatedAt = fromMillis(updated)
	return p, nil
}

func (q *queries) GetS3Profile(ctx context.Context, accountID string) (store.S3Profile, error) {
	return queryOne(ctx, q, scanS3Profile, `SELECT account_id, endpoint, region, path_style, access_key_id,
		sealed_secret, updated_at FROM s3_profiles WHERE account_id = ?`+q.lockClause(), accountID)
}

func (q *queries) DeleteS3Profile(ctx context.Context, accountID string) error {
	return q.execOne(ctx, `DELETE FROM s3_profiles WHERE account_id = ?`, accountID)
}
