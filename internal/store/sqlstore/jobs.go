package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// Data set counting lives here with the other additions of the jobs schema.

func (q *queries) CountDataSets(ctx context.Context, accountID string, f store.DataSetFilter) (int, error) {
	where, args := "account_id = ?", []any{accountID}
	if f.Origin != "" {
		where, args = where+" AND origin = ?", append(args, f.Origin)
	}
	return queryOne(ctx, q, scanCount, `SELECT COUNT(*) FROM data_sets WHERE `+where, args...)
}

// Jobs.

const jobColumns = `account_id, id, type, state, data_set_id, revision_id, details, errors, asset_configuration,
	bytes_done, bytes_total, lease_id, lease_expires_at, started_at, attempts, dispatch, created_at, updated_at`

func scanJob(r scanner) (resource.Job, error) {
	var j resource.Job
	var details string
	var jobErrors, assetConfiguration, leaseID sql.NullString
	var leaseExpiresAt, startedAt sql.NullInt64
	var attempts, created, updated int64
	if err := r.Scan(&j.AccountID, &j.ID, &j.Type, &j.State, &j.DataSetID, &j.RevisionID, &details,
		&jobErrors, &assetConfiguration, &j.BytesDone, &j.BytesTotal, &leaseID, &leaseExpiresAt,
		&startedAt, &attempts, &j.Dispatch, &created, &updated); err != nil {
		return j, err
	}
	j.Details = json.RawMessage(details)
	if jobErrors.Valid {
		j.Errors = json.RawMessage(jobErrors.String)
	}
	if assetConfiguration.Valid {
		j.AssetConfiguration = json.RawMessage(assetConfiguration.String)
	}
	j.LeaseID = leaseID.String
	j.LeaseExpiresAt = timeOrNil(leaseExpiresAt)
	j.StartedAt = timeOrNil(startedAt)
	j.Attempts = int(attempts)
	j.CreatedAt, j.UpdatedAt = fromMillis(created), fromMillis(updated)
	return j, nil
}

func timeOrNil(ms sql.NullInt64) *time.Time {
	if !ms.Valid {
		return nil
	}
	t := fromMillis(ms.Int64)
	return &t
}

// nullJSON stores an empty JSON member as NULL.
func nullJSON(what string, b json.RawMessage) (sql.NullString, error) {
	if len(b) == 0 {
		return sql.NullString{}, nil
	}
	if !json.Valid(b) {
		return sql.NullString{}, errors.New("store: job " + what + " are not valid JSON")
	}
	return sql.NullString{String: string(b), Valid: true}, nil
}

func nullString(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

// jobValues checks j's JSON members and returns them ready to write.
func jobValues(j resource.Job) (details string, jobErrors, assetConfiguration sql.NullString, err error) {
	if !json.Valid(j.Details) {
		return "", jobErrors, assetConfiguration, errors.New("store: job details are not valid JSON")
	}
	if jobErrors, err = nullJSON("errors", j.Errors); err != nil {
		return "", jobErrors, assetConfiguration, err
	}
	if assetConfiguration, err = nullJSON("asset configuration", j.AssetConfiguration); err != nil {
		return "", jobErrors, assetConfiguration, err
	}
	return string(j.Details), jobErrors, assetConfiguration, nil
}

func (q *queries) InsertJob(ctx context.Context, j resource.Job) error {
	details, jobErrors, assetConfiguration, err := jobValues(j)
	if err != nil {
		return err
	}
	_, err = q.exec(ctx, `INSERT INTO jobs (`+jobColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		j.AccountID, j.ID, j.Type, j.State, j.DataSetID, j.RevisionID, details, jobErrors, assetConfiguration,
		j.BytesDone, j.BytesTotal, nullString(j.LeaseID), nullMillis(j.LeaseExpiresAt), nullMillis(j.StartedAt),
		j.Attempts, j.Dispatch, millis(j.CreatedAt), millis(j.UpdatedAt))
	return err
}

func (q *queries) GetJob(ctx context.Context, accountID, id string) (resource.Job, error) {
	return queryOne(ctx, q, scanJob,
		`SELECT `+jobColumns+` FROM jobs WHERE account_id = ? AND id = ?`+q.lockClause(), accountID, id)
}

func (q *queries) UpdateJob(ctx context.Context, j resource.Job) error {
	details, jobErrors, _, err := jobValues(j)
	if err != nil {
		return err
	}
	return q.execOne(ctx, `UPDATE jobs SET state = ?, data_set_id = ?, revision_id = ?, details = ?, errors = ?,
			bytes_done = ?, bytes_total = ?, lease_id = ?, lease_expires_at = ?, started_at = ?, attempts = ?,
			dispatch = ?, updated_at = ?
		WHERE account_id = ? AND id = ?`,
		j.State, j.DataSetID, j.RevisionID, details, jobErrors, j.BytesDone, j.BytesTotal,
		nullString(j.LeaseID), nullMillis(j.LeaseExpiresAt), nullMillis(j.StartedAt), j.Attempts, j.Dispatch,
		millis(j.UpdatedAt), j.AccountID, j.ID)
}

func (q *queries) ListJobs(ctx context.Context, accountID string, f store.JobFilter, p store.PageRequest) (store.Page[resource.Job], error) {
	where, args := []string{"account_id = ?"}, []any{accountID}
	if f.DataSetID != "" {
		where, args = append(where, "data_set_id = ?"), append(args, f.DataSetID)
	}
	if f.RevisionID != "" {
		where, args = append(where, "revision_id = ?"), append(args, f.RevisionID)
	}
	if f.State != "" {
		where, args = append(where, "state = ?"), append(args, f.State)
	}
	if f.Type != "" {
		where, args = append(where, "type = ?"), append(args, f.Type)
	}
	if !f.CreatedAfter.IsZero() {
		where, args = append(where, "created_at > ?"), append(args, millis(f.CreatedAfter))
	}
	return newestFirst(ctx, q, scanJob, jobColumns, "jobs", strings.Join(where, " AND "), args, p, func(j resource.Job) store.Cursor {
		return store.Cursor{Time: j.CreatedAt, ID: j.ID}
	})
}

func (q *queries) CountLeasedJobs(ctx context.Context, jobType string) (int, error) {
	if q.tx != nil && q.s.dialect.LockRows != "" {
		// The type's row exists once any transaction inserted it; the
		// insert itself waits for a concurrent one inserting the same key.
		if _, err := q.exec(ctx, `INSERT INTO job_type_locks (type) VALUES (?) ON CONFLICT (type) DO NOTHING`, jobType); err != nil {
			return 0, err
		}
		if err := q.lockRows(ctx, `SELECT type FROM job_type_locks WHERE type = ?`, jobType); err != nil {
			return 0, q.s.translate(err)
		}
	}
	return queryOne(ctx, q, scanCount,
		`SELECT COUNT(*) FROM jobs WHERE type = ? AND lease_id IS NOT NULL`, jobType)
}

func (q *queries) ListExpiredJobLeases(ctx context.Context, now time.Time, limit int) ([]resource.Job, error) {
	return queryAll(ctx, q, scanJob,
		`SELECT `+jobColumns+` FROM jobs
		WHERE lease_id IS NOT NULL AND state = ? AND lease_expires_at <= ?
		ORDER BY lease_expires_at, id LIMIT ?`,
		resource.JobStateInProgress, millis(now), limit)
}

func (q *queries) DeleteJobsCreatedBefore(ctx context.Context, before time.Time, limit int) ([]resource.Job, error) {
	return queryAll(ctx, q, scanJob,
		`DELETE FROM jobs WHERE id IN (
			SELECT id FROM jobs WHERE created_at < ? AND state <> ? ORDER BY created_at, id LIMIT ?)
		RETURNING `+jobColumns,
		millis(before), resource.JobStateInProgress, limit)
}

func (q *queries) CountJobsByTypeAndState(ctx context.Context) ([]store.JobCount, error) {
	return queryAll(ctx, q, func(r scanner) (store.JobCount, error) {
		var c store.JobCount
		var n int64
		err := r.Scan(&c.Type, &c.State, &n)
		c.Count = int(n)
		return c, err
	}, `SELECT type, state, COUNT(*) FROM jobs GROUP BY type, state ORDER BY type, state`)
}
