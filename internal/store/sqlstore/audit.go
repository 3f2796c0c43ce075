package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// The audit log (migration 0007).

const auditColumns = `id, at, account_id, access_key_id, operation, resource_arn, status, exception, request_id`

func (q *queries) InsertAuditRecord(ctx context.Context, r resource.AuditRecord) error {
	_, err := q.exec(ctx, `INSERT INTO audit_log (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, millis(r.At), r.AccountID, r.AccessKeyID, r.Operation, r.ResourceARN, r.Status, r.Exception, r.RequestID)
	return err
}

// auditRowsPerInsert is how many records one INSERT statement carries: 900
// parameters, well under SQLite's and PostgreSQL's limits.
const auditRowsPerInsert = 100

// InsertAuditRecords inserts the records in one transaction: one
// multi-row INSERT per auditRowsPerInsert records, and a single statement
// (its own transaction) when that is all there is.
func (q *queries) InsertAuditRecords(ctx context.Context, rs []resource.AuditRecord) error {
	if len(rs) == 0 {
		return nil
	}
	if len(rs) <= auditRowsPerInsert || q.tx != nil {
		return q.insertAuditRows(ctx, rs)
	}
	return q.s.inTx(ctx, func(tq *queries) error { return tq.insertAuditRows(ctx, rs) })
}

func (q *queries) insertAuditRows(ctx context.Context, rs []resource.AuditRecord) error {
	for len(rs) > 0 {
		n := min(len(rs), auditRowsPerInsert)
		var b strings.Builder
		b.WriteString(`INSERT INTO audit_log (` + auditColumns + `) VALUES `)
		args := make([]any, 0, 9*n)
		for i, r := range rs[:n] {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?)")
			args = append(args, r.ID, millis(r.At), r.AccountID, r.AccessKeyID, r.Operation, r.ResourceARN, r.Status, r.Exception, r.RequestID)
		}
		if _, err := q.exec(ctx, b.String(), args...); err != nil {
			return err
		}
		rs = rs[n:]
	}
	return nil
}

func (q *queries) ListAuditRecords(ctx context.Context, f store.AuditFilter) ([]resource.AuditRecord, error) {
	if f.Limit < 1 {
		return nil, checkPage(store.PageRequest{Limit: f.Limit})
	}
	where, args := []string{"1 = 1"}, []any{}
	if f.AccountID != "" {
		where, args = append(where, "account_id = ?"), append(args, f.AccountID)
	}
	if f.Operation != "" {
		where, args = append(where, "operation = ?"), append(args, f.Operation)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "at >= ?"), append(args, millis(f.Since))
	}
	if !f.Before.IsZero() {
		where, args = append(where, "at < ?"), append(args, millis(f.Before))
	}
	return queryAll(ctx, q, func(r scanner) (resource.AuditRecord, error) {
		var a resource.AuditRecord
		var at, status int64
		err := r.Scan(&a.ID, &at, &a.AccountID, &a.AccessKeyID, &a.Operation, &a.ResourceARN, &status, &a.Exception, &a.RequestID)
		a.At, a.Status = fromMillis(at), int(status)
		return a, err
	}, `SELECT `+auditColumns+` FROM audit_log WHERE `+strings.Join(where, " AND ")+` ORDER BY at DESC, id DESC LIMIT ?`,
		append(args, f.Limit)...)
}

func (q *queries) DeleteAuditRecordsBefore(ctx context.Context, cutoff time.Time, limit int) (int, error) {
	return q.deleteBefore(ctx, "audit_log", "at", cutoff, limit)
}

// deleteBefore deletes up to limit rows of table whose column (a time) is
// before cutoff, the earliest first, and returns how many it deleted. Callers
// go in batches, so that SQLite's one writer isn't held for long.
func (q *queries) deleteBefore(ctx context.Context, table, column string, cutoff time.Time, limit int) (int, error) {
	if limit < 1 {
		return 0, checkPage(store.PageRequest{Limit: limit})
	}
	n, err := q.exec(ctx, `DELETE FROM `+table+` WHERE id IN (
		SELECT id FROM `+table+` WHERE `+column+` < ? ORDER BY `+column+` LIMIT ?)`, millis(cutoff), limit)
	return int(n), err
}
