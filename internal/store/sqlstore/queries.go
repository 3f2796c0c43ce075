package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// queries implements store.Queries on one Conn: the database itself, or a
// transaction (then tx is set).
type queries struct {
	s    *Store
	conn Conn
	tx   Tx // nil outside a transaction
}

var _ store.Queries = (*queries)(nil)

func (q *queries) exec(ctx context.Context, query string, args ...any) (int64, error) {
	n, err := q.conn.Exec(ctx, q.s.sql(query), args...)
	return n, q.s.translate(err)
}

// execOne runs a statement that must change exactly one row (an UPDATE or
// DELETE by key), ErrNotFound if it changed none.
func (q *queries) execOne(ctx context.Context, query string, args ...any) error {
	n, err := q.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// lockClause is appended to single-row reads: inside a transaction they lock
// the row until it ends, so a check and the write that follows can't be
// interleaved with another writer's.
func (q *queries) lockClause() string {
	if q.tx == nil || q.s.dialect.LockRows == "" {
		return ""
	}
	return " " + q.s.dialect.LockRows
}

// atomically runs fn in q's transaction, or in a new one outside a
// transaction, for the calls that take more than one statement.
func (q *queries) atomically(ctx context.Context, fn func(q *queries) error) error {
	if q.tx != nil {
		return fn(q)
	}
	return q.s.inTx(ctx, fn)
}

// lockRows locks the rows query selects until the transaction ends; a no-op
// where the dialect has no row locks. Deletes use it to wait out writers that
// hold a child row, so no tag added meanwhile is left behind.
func (q *queries) lockRows(ctx context.Context, query string, args ...any) error {
	if q.s.dialect.LockRows == "" {
		return nil
	}
	rows, err := q.conn.Query(ctx, q.s.sql(query+" "+q.s.dialect.LockRows), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
	}
	return rows.Err()
}

type scanner interface{ Scan(dest ...any) error }

// queryAll runs query and scans every row with scan.
func queryAll[T any](ctx context.Context, q *queries, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.conn.Query(ctx, q.s.sql(query), args...)
	if err != nil {
		return nil, q.s.translate(err)
	}
	defer rows.Close()
	items := []T{}
	for rows.Next() {
		item, err := scan(rows)
		if err != nil {
			return nil, err
		}
		items = append(items, item)
	}
	if err := rows.Err(); err != nil {
		return nil, q.s.translate(err)
	}
	return items, nil
}

// queryOne runs a query for at most one row, ErrNotFound if there is none.
func queryOne[T any](ctx context.Context, q *queries, scan func(scanner) (T, error), query string, args ...any) (T, error) {
	items, err := queryAll(ctx, q, scan, query, args...)
	if err != nil {
		var zero T
		return zero, err
	}
	if len(items) == 0 {
		var zero T
		return zero, store.ErrNotFound
	}
	return items[0], nil
}

func millis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func checkPage(p store.PageRequest) error {
	if p.Limit < 1 {
		return fmt.Errorf("store: page limit %d, want >= 1", p.Limit)
	}
	return nil
}

// page cuts items, fetched with limit+1, down to one page and says where the
// next one starts.
func page[T any](items []T, limit int, cursor func(T) store.Cursor) store.Page[T] {
	if len(items) <= limit {
		return store.Page[T]{Items: items}
	}
	items = items[:limit]
	next := cursor(items[limit-1])
	return store.Page[T]{Items: items, Next: &next}
}

// newestFirst lists one page of the rows of table that match where, newest
// first by (created_at, id): the keyset every created-at listing pages by,
// resuming after p.After.
func newestFirst[T any](ctx context.Context, q *queries, scan func(scanner) (T, error), columns, table, where string, args []any,
	p store.PageRequest, cursor func(T) store.Cursor,
) (store.Page[T], error) {
	if err := checkPage(p); err != nil {
		return store.Page[T]{}, err
	}
	if p.After != nil {
		where, args = where+" AND (created_at, id) < (?, ?)", append(args, millis(p.After.Time), p.After.ID)
	}
	items, err := queryAll(ctx, q, scan,
		`SELECT `+columns+` FROM `+table+` WHERE `+where+` ORDER BY created_at DESC, id DESC LIMIT ?`,
		append(args, p.Limit+1)...)
	if err != nil {
		return store.Page[T]{}, err
	}
	return page(items, p.Limit, cursor), nil
}

// Accounts and access keys.

func (q *queries) InsertAccount(ctx context.Context, a resource.Account) error {
	_, err := q.exec(ctx, `INSERT INTO accounts (id, created_at) VALUES (?, ?)`, a.ID, millis(a.CreatedAt))
	return err
}

func scanAccount(r scanner) (resource.Account, error) {
	var a resource.Account
	var created int64
	if err := r.Scan(&a.ID, &created); err != nil {
		return a, err
	}
	a.CreatedAt = fromMillis(created)
	return a, nil
}

func (q *queries) GetAccount(ctx context.Context, id string) (resource.Account, error) {
	return queryOne(ctx, q, scanAccount, `SELECT id, created_at FROM accounts WHERE id = ?`+q.lockClause(), id)
}

func (q *queries) ListAccounts(ctx context.Context) ([]resource.Account, error) {
	return queryAll(ctx, q, scanAccount, `SELECT id, created_at FROM accounts ORDER BY id`)
}

func (q *queries) InsertAccessKey(ctx context.Context, k resource.AccessKey) error {
	_, err := q.exec(ctx, `INSERT INTO access_keys (id, account_id, sealed_secret, created_at) VALUES (?, ?, ?, ?)`,
		k.ID, k.AccountID, k.SealedSecret, millis(k.CreatedAt))
	return err
}

func scanAccessKey(r scanner) (resource.AccessKey, error) {
	var k resource.AccessKey
	var created int64
	if err := r.Scan(&k.ID, &k.AccountID, &k.SealedSecret, &created); err != nil {
		return k, err
	}
	k.CreatedAt = fromMillis(created)
	return k, nil
}

func (q *queries) GetAccessKey(ctx context.Context, accessKeyID string) (resource.AccessKey, error) {
	return queryOne(ctx, q, scanAccessKey,
		`SELECT id, account_id, sealed_secret, created_at FROM access_keys WHERE id = ?`+q.lockClause(), accessKeyID)
}

// Data sets.

const dataSetColumns = `account_id, id, name, description, asset_type, origin, origin_details, source_id, created_at, updated_at`

func scanDataSet(r scanner) (resource.DataSet, error) {
	var d resource.DataSet
	var originDetails sql.NullString
	var created, updated int64
	if err := r.Scan(&d.AccountID, &d.ID, &d.Name, &d.Description, &d.AssetType, &d.Origin,
		&originDetails, &d.SourceID, &created, &updated); err != nil {
		return d, err
	}
	if originDetails.Valid {
		d.OriginDetails = new(resource.OriginDetails)
		if err := json.Unmarshal([]byte(originDetails.String), d.OriginDetails); err != nil {
			return d, fmt.Errorf("store: data set %s: origin details: %w", d.ID, err)
		}
	}
	d.CreatedAt, d.UpdatedAt = fromMillis(created), fromMillis(updated)
	return d, nil
}

func (q *queries) InsertDataSet(ctx context.Context, d resource.DataSet) error {
	var originDetails sql.NullString
	if d.OriginDetails != nil {
		b, err := json.Marshal(d.OriginDetails)
		if err != nil {
			return err
		}
		originDetails = sql.NullString{String: string(b), Valid: true}
	}
	_, err := q.exec(ctx, `INSERT INTO data_sets (`+dataSetColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.AccountID, d.ID, d.Name, d.Description, d.AssetType, d.Origin,
		originDetails, d.SourceID, millis(d.CreatedAt), millis(d.UpdatedAt))
	return err
}

func (q *queries) GetDataSet(ctx context.Context, accountID, id string) (resource.DataSet, error) {
	return queryOne(ctx, q, scanDataSet,
		`SELECT `+dataSetColumns+` FROM data_sets WHERE account_id = ? AND id = ?`+q.lockClause(), accountID, id)
}

func (q *queries) UpdateDataSet(ctx context.Context, d resource.DataSet) error {
	return q.execOne(ctx, `UPDATE data_sets SET name = ?, description = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
		d.Name, d.Description, millis(d.UpdatedAt), d.AccountID, d.ID)
}

func (q *queries) DeleteDataSet(ctx context.Context, accountID, id string) error {
	return q.atomically(ctx, func(q *queries) error {
		// Lock parent before children, the order exchange's transactions
		// take them in, so the delete waits for writers instead of
		// deadlocking with them.
		for _, lock := range []string{
			`SELECT id FROM data_sets WHERE account_id = ? AND id = ?`,
			`SELECT id FROM revisions WHERE account_id = ? AND data_set_id = ?`,
			`SELECT id FROM assets WHERE account_id = ? AND data_set_id = ?`,
		} {
			if err := q.lockRows(ctx, lock, accountID, id); err != nil {
				return err
			}
		}
		if err := q.recordDeletedBytes(ctx, `account_id = ? AND data_set_id = ?`, accountID, id); err != nil {
			return err
		}
		// The subqueries are scoped by account, so another account's data
		// set id removes nothing here, and the last delete reports it.
		if _, err := q.exec(ctx, `DELETE FROM tags WHERE resource_id IN (
				SELECT id FROM assets WHERE account_id = ? AND data_set_id = ?
				UNION ALL SELECT id FROM revisions WHERE account_id = ? AND data_set_id = ?
				UNION ALL SELECT id FROM data_sets WHERE account_id = ? AND id = ?)`,
			accountID, id, accountID, id, accountID, id); err != nil {
			return err
		}
		// Revisions and assets go by ON DELETE CASCADE.
		return q.execOne(ctx, `DELETE FROM data_sets WHERE account_id = ? AND id = ?`, accountID, id)
	})
}

func (q *queries) ListDataSets(ctx context.Context, accountID string, f store.DataSetFilter, p store.PageRequest) (store.Page[resource.DataSet], error) {
	where, args := "account_id = ?", []any{accountID}
	if f.Origin != "" {
		where, args = where+" AND origin = ?", append(args, f.Origin)
	}
	return newestFirst(ctx, q, scanDataSet, dataSetColumns, "data_sets", where, args, p, func(d resource.DataSet) store.Cursor {
		return store.Cursor{Time: d.CreatedAt, ID: d.ID}
	})
}

// Revisions.

const revisionColumns = `account_id, data_set_id, id, comment, finalized, revoked, revocation_comment, revoked_at, source_id, created_at, updated_at`

func scanRevision(r scanner) (resource.Revision, error) {
	var v resource.Revision
	var revokedAt sql.NullInt64
	var created, updated int64
	if err := r.Scan(&v.AccountID, &v.DataSetID, &v.ID, &v.Comment, &v.Finalized, &v.Revoked,
		&v.RevocationComment, &revokedAt, &v.SourceID, &created, &updated); err != nil {
		return v, err
	}
	if revokedAt.Valid {
		t := fromMillis(revokedAt.Int64)
		v.RevokedAt = &t
	}
	v.CreatedAt, v.UpdatedAt = fromMillis(created), fromMillis(updated)
	return v, nil
}

func nullMillis(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: millis(*t), Valid: true}
}

func (q *queries) InsertRevision(ctx context.Context, r resource.Revision) error {
	_, err := q.exec(ctx, `INSERT INTO revisions (`+revisionColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.AccountID, r.DataSetID, r.ID, r.Comment, r.Finalized, r.Revoked, r.RevocationComment,
		nullMillis(r.RevokedAt), r.SourceID, millis(r.CreatedAt), millis(r.UpdatedAt))
	return err
}

func (q *queries) GetRevision(ctx context.Context, accountID, dataSetID, id string) (resource.Revision, error) {
	return queryOne(ctx, q, scanRevision,
		`SELECT `+revisionColumns+` FROM revisions WHERE account_id = ? AND data_set_id = ? AND id = ?`+q.lockClause(),
		accountID, dataSetID, id)
}

func (q *queries) UpdateRevision(ctx context.Context, r resource.Revision) error {
	return q.execOne(ctx, `UPDATE revisions SET comment = ?, finalized = ?, revoked = ?, revocation_comment = ?,
			revoked_at = ?, updated_at = ?
		WHERE account_id = ? AND data_set_id = ? AND id = ?`,
		r.Comment, r.Finalized, r.Revoked, r.RevocationComment, nullMillis(r.RevokedAt), millis(r.UpdatedAt),
		r.AccountID, r.DataSetID, r.ID)
}

func (q *queries) DeleteRevision(ctx context.Context, accountID, dataSetID, id string) error {
	return q.atomically(ctx, func(q *queries) error {
		for _, lock := range []string{
			`SELECT id FROM revisions WHERE account_id = ? AND data_set_id = ? AND id = ?`,
			`SELECT id FROM assets WHERE account_id = ? AND data_set_id = ? AND revision_id = ?`,
		} {
			if err := q.lockRows(ctx, lock, accountID, dataSetID, id); err != nil {
				return err
			}
		}
		if err := q.recordDeletedBytes(ctx, `account_id = ? AND data_set_id = ? AND revision_id = ?`, accountID, dataSetID, id); err != nil {
			return err
		}
		if _, err := q.exec(ctx, `DELETE FROM tags WHERE resource_id IN (
				SELECT id FROM assets WHERE account_id = ? AND data_set_id = ? AND revision_id = ?
				UNION ALL SELECT id FROM revisions WHERE account_id = ? AND data_set_id = ? AND id = ?)`,
			accountID, dataSetID, id, accountID, dataSetID, id); err != nil {
			return err
		}
		return q.execOne(ctx, `DELETE FROM revisions WHERE account_id = ? AND data_set_id = ? AND id = ?`,
			accountID, dataSetID, id)
	})
}

func (q *queries) ListRevisions(ctx context.Context, accountID, dataSetID string, p store.PageRequest) (store.Page[resource.Revision], error) {
	return newestFirst(ctx, q, scanRevision, revisionColumns, "revisions",
		"account_id = ? AND data_set_id = ?", []any{accountID, dataSetID}, p, revisionCursor)
}

func revisionCursor(r resource.Revision) store.Cursor {
	return store.Cursor{Time: r.CreatedAt, ID: r.ID}
}

func scanCount(r scanner) (int, error) {
	var n int64
	err := r.Scan(&n)
	return int(n), err
}

func (q *queries) CountRevisions(ctx context.Context, accountID, dataSetID string) (int, error) {
	return queryOne(ctx, q, scanCount, `SELECT COUNT(*) FROM revisions WHERE account_id = ? AND data_set_id = ?`,
		accountID, dataSetID)
}

// Assets.

const assetColumns = `account_id, data_set_id, revision_id, id, name, asset_type, details, source_id, created_at, updated_at`

func scanAsset(r scanner) (resource.Asset, error) {
	var a resource.Asset
	var details string
	var created, updated int64
	if err := r.Scan(&a.AccountID, &a.DataSetID, &a.RevisionID, &a.ID, &a.Name, &a.AssetType,
		&details, &a.SourceID, &created, &updated); err != nil {
		return a, err
	}
	a.Details = json.RawMessage(details)
	a.CreatedAt, a.UpdatedAt = fromMillis(created), fromMillis(updated)
	return a, nil
}

func (q *queries) InsertAsset(ctx context.Context, a resource.Asset) error {
	if !json.Valid(a.Details) {
		return errors.New("store: asset details are not valid JSON")
	}
	_, err := q.exec(ctx, `INSERT INTO assets (`+assetColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.AccountID, a.DataSetID, a.RevisionID, a.ID, a.Name, a.AssetType, string(a.Details),
		a.SourceID, millis(a.CreatedAt), millis(a.UpdatedAt))
	return err
}

func (q *queries) GetAsset(ctx context.Context, accountID, dataSetID, revisionID, id string) (resource.Asset, error) {
	return queryOne(ctx, q, scanAsset,
		`SELECT `+assetColumns+` FROM assets
		WHERE account_id = ? AND data_set_id = ? AND revision_id = ? AND id = ?`+q.lockClause(),
		accountID, dataSetID, revisionID, id)
}

func (q *queries) UpdateAsset(ctx context.Context, a resource.Asset) error {
	return q.execOne(ctx, `UPDATE assets SET name = ?, updated_at = ?
		WHERE account_id = ? AND data_set_id = ? AND revision_id = ? AND id = ?`,
		a.Name, millis(a.UpdatedAt), a.AccountID, a.DataSetID, a.RevisionID, a.ID)
}

func (q *queries) DeleteAsset(ctx context.Context, accountID, dataSetID, revisionID, id string) error {
	return q.atomically(ctx, func(q *queries) error {
		if err := q.lockRows(ctx, `SELECT id FROM assets WHERE account_id = ? AND data_set_id = ? AND revision_id = ? AND id = ?`,
			accountID, dataSetID, revisionID, id); err != nil {
			return err
		}
		if err := q.recordDeletedBytes(ctx, `account_id = ? AND data_set_id = ? AND revision_id = ? AND id = ?`,
			accountID, dataSetID, revisionID, id); err != nil {
			return err
		}
		if _, err := q.exec(ctx, `DELETE FROM tags WHERE resource_id IN (
				SELECT id FROM assets WHERE account_id = ? AND data_set_id = ? AND revision_id = ? AND id = ?)`,
			accountID, dataSetID, revisionID, id); err != nil {
			return err
		}
		return q.execOne(ctx, `DELETE FROM assets WHERE account_id = ? AND data_set_id = ? AND revision_id = ? AND id = ?`,
			accountID, dataSetID, revisionID, id)
	})
}

func (q *queries) ListAssets(ctx context.Context, accountID, dataSetID, revisionID string, p store.PageRequest) (store.Page[resource.Asset], error) {
	if err := checkPage(p); err != nil {
		return store.Page[resource.Asset]{}, err
	}
	where, args := "account_id = ? AND data_set_id = ? AND revision_id = ?", []any{accountID, dataSetID, revisionID}
	if p.After != nil {
		where, args = where+" AND (name, id) < (?, ?)", append(args, p.After.Name, p.After.ID)
	}
	items, err := queryAll(ctx, q, scanAsset,
		`SELECT `+assetColumns+` FROM assets WHERE `+where+` ORDER BY name DESC, id DESC LIMIT ?`,
		append(args, p.Limit+1)...)
	if err != nil {
		return store.Page[resource.Asset]{}, err
	}
	return page(items, p.Limit, func(a resource.Asset) store.Cursor {
		return store.Cursor{Name: a.Name, ID: a.ID}
	}), nil
}

func (q *queries) CountAssets(ctx context.Context, accountID, dataSetID, revisionID string) (int, error) {
	return queryOne(ctx, q, scanCount,
		`SELECT COUNT(*) FROM assets WHERE account_id = ? AND data_set_id = ? AND revision_id = ?`,
		accountID, dataSetID, revisionID)
}

// Tags.

// tagBatch bounds the keys per statement, well under every database's limit
// on bind parameters.
const tagBatch = 200

func (q *queries) SetTags(ctx context.Context, resourceID string, tags map[string]string) error {
	if len(tags) == 0 {
		return nil
	}
	// Sorted, so that two writers upserting overlapping keys lock them in
	// the same order and can't deadlock.
	keys := slices.Sorted(maps.Keys(tags))
	return q.atomically(ctx, func(q *queries) error {
		for batch := range slices.Chunk(keys, tagBatch) {
			values := strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", len(batch)), ", ")
			args := make([]any, 0, 3*len(batch))
			for _, k := range batch {
				args = append(args, resourceID, k, tags[k])
			}
			if _, err := q.exec(ctx, `INSERT INTO tags (resource_id, tag_key, tag_value) VALUES `+values+`
				ON CONFLICT (resource_id, tag_key) DO UPDATE SET tag_value = excluded.tag_value`, args...); err != nil {
				return err
			}
		}
		return nil
	})
}

func (q *queries) RemoveTags(ctx context.Context, resourceID string, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	return q.atomically(ctx, func(q *queries) error {
		for batch := range slices.Chunk(keys, tagBatch) {
			in := strings.TrimSuffix(strings.Repeat("?, ", len(batch)), ", ")
			args := append([]any{resourceID}, anys(batch)...)
			if _, err := q.exec(ctx, `DELETE FROM tags WHERE resource_id = ? AND tag_key IN (`+in+`)`, args...); err != nil {
				return err
			}
		}
		return nil
	})
}

func (q *queries) GetTags(ctx context.Context, resourceID string) (map[string]string, error) {
	type tag struct{ key, value string }
	tags, err := queryAll(ctx, q, func(r scanner) (tag, error) {
		var t tag
		err := r.Scan(&t.key, &t.value)
		return t, err
	}, `SELECT tag_key, tag_value FROM tags WHERE resource_id = ?`, resourceID)
	if err != nil {
		return nil, err
	}
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		m[t.key] = t.value
	}
	return m, nil
}

func anys(s []string) []any {
	a := make([]any, len(s))
	for i, v := range s {
		a[i] = v
	}
	return a
}
