package sqlstore

import (
	"context"
	"database/sql"
	"strings"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// Data grants (migration 0007).

const dataGrantColumns = `account_id, id, receiver_account_id, name, description, source_data_set_id, data_set_id,
	distribution_scope, acceptance_state, accepted_at, ends_at, created_at, updated_at`

func scanDataGrant(r scanner) (resource.DataGrant, error) {
	var g resource.DataGrant
	var acceptedAt, endsAt sql.NullInt64
	var created, updated int64
	if err := r.Scan(&g.AccountID, &g.ID, &g.ReceiverAccountID, &g.Name, &g.Description, &g.SourceDataSetID,
		&g.DataSetID, &g.GrantDistributionScope, &g.AcceptanceState, &acceptedAt, &endsAt, &created, &updated); err != nil {
		return g, err
	}
	g.AcceptedAt, g.EndsAt = timeOrNil(acceptedAt), timeOrNil(endsAt)
	g.CreatedAt, g.UpdatedAt = fromMillis(created), fromMillis(updated)
	return g, nil
}

func (q *queries) InsertDataGrant(ctx context.Context, g resource.DataGrant) error {
	_, err := q.exec(ctx, `INSERT INTO data_grants (`+dataGrantColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		g.AccountID, g.ID, g.ReceiverAccountID, g.Name, g.Description, g.SourceDataSetID, g.DataSetID,
		g.GrantDistributionScope, g.AcceptanceState, nullMillis(g.AcceptedAt), nullMillis(g.EndsAt),
		millis(g.CreatedAt), millis(g.UpdatedAt))
	return err
}

func (q *queries) GetDataGrant(ctx context.Context, accountID, id string) (resource.DataGrant, error) {
	return queryOne(ctx, q, scanDataGrant,
		`SELECT `+dataGrantColumns+` FROM data_grants WHERE account_id = ? AND id = ?`+q.lockClause(), accountID, id)
}

func (q *queries) GetReceivedDataGrant(ctx context.Context, receiverAccountID, id string) (resource.DataGrant, error) {
	return queryOne(ctx, q, scanDataGrant,
		`SELECT `+dataGrantColumns+` FROM data_grants WHERE receiver_account_id = ? AND id = ?`+q.lockClause(),
		receiverAccountID, id)
}

func (q *queries) UpdateDataGrant(ctx context.Context, g resource.DataGrant) error {
	return q.execOne(ctx, `UPDATE data_grants SET acceptance_state = ?, accepted_at = ?, updated_at = ?
		WHERE account_id = ? AND id = ?`,
		g.AcceptanceState, nullMillis(g.AcceptedAt), millis(g.UpdatedAt), g.AccountID, g.ID)
}

func (q *queries) DeleteDataGrant(ctx context.Context, accountID, id string) error {
	return q.atomically(ctx, func(q *queries) error {
		if err := q.lockRows(ctx, `SELECT id FROM data_grants WHERE account_id = ? AND id = ?`, accountID, id); err != nil {
			return err
		}
		if _, err := q.exec(ctx, `DELETE FROM tags WHERE resource_id IN (
				SELECT id FROM data_grants WHERE account_id = ? AND id = ?)`, accountID, id); err != nil {
			return err
		}
		return q.execOne(ctx, `DELETE FROM data_grants WHERE account_id = ? AND id = ?`, accountID, id)
	})
}

// grantWhere turns a filter into a WHERE clause and its arguments.
func grantWhere(f store.DataGrantFilter) (string, []any) {
	where, args := []string{"1 = 1"}, []any{}
	if f.SenderAccountID != "" {
		where, args = append(where, "account_id = ?"), append(args, f.SenderAccountID)
	}
	if f.ReceiverAccountID != "" {
		where, args = append(where, "receiver_account_id = ?"), append(args, f.ReceiverAccountID)
	}
	if f.SourceDataSetID != "" {
		where, args = append(where, "source_data_set_id = ?"), append(args, f.SourceDataSetID)
	}
	if len(f.AcceptanceStates) > 0 {
		in := strings.TrimSuffix(strings.Repeat("?, ", len(f.AcceptanceStates)), ", ")
		where, args = append(where, "acceptance_state IN ("+in+")"), append(args, anys(f.AcceptanceStates)...)
	}
	if !f.ActiveAt.IsZero() {
		where, args = append(where, "(ends_at IS NULL OR ends_at > ?)"), append(args, millis(f.ActiveAt))
	}
	return strings.Join(where, " AND "), args
}

func (q *queries) listDataGrants(ctx context.Context, f store.DataGrantFilter, p store.PageRequest) (store.Page[resource.DataGrant], error) {
	where, args := grantWhere(f)
	return newestFirst(ctx, q, scanDataGrant, dataGrantColumns, "data_grants", where, args, p, func(g resource.DataGrant) store.Cursor {
		return store.Cursor{Time: g.CreatedAt, ID: g.ID}
	})
}

func (q *queries) ListDataGrants(ctx context.Context, accountID string, p store.PageRequest) (store.Page[resource.DataGrant], error) {
	return q.listDataGrants(ctx, store.DataGrantFilter{SenderAccountID: accountID}, p)
}

func (q *queries) ListReceivedDataGrants(ctx context.Context, receiverAccountID string, f store.DataGrantFilter, p store.PageRequest) (store.Page[resource.DataGrant], error) {
	f.ReceiverAccountID = receiverAccountID
	return q.listDataGrants(ctx, f, p)
}

func (q *queries) CountDataGrants(ctx context.Context, f store.DataGrantFilter) (int, error) {
	where, args := grantWhere(f)
	return queryOne(ctx, q, scanCount, `SELECT COUNT(*) FROM data_grants WHERE `+where, args...)
}

func (q *queries) ListFinalizedRevisions(ctx context.Context, accountID, dataSetID string, p store.PageRequest) (store.Page[resource.Revision], error) {
	return newestFirst(ctx, q, scanRevision, revisionColumns, "revisions",
		"account_id = ? AND data_set_id = ? AND finalized = ?", []any{accountID, dataSetID, true}, p, revisionCursor)
}

func (q *queries) LockDataGrantReceiver(ctx context.Context, receiverAccountID string) error {
	// An upsert locks the row it inserts or updates until the transaction
	// ends, in both dialects (SQLite's one writer serializes anyway), and a
	// concurrent upsert of the same key waits for it.
	_, err := q.exec(ctx, `INSERT INTO data_grant_receivers (receiver_account_id) VALUES (?)
		ON CONFLICT (receiver_account_id) DO UPDATE SET receiver_account_id = excluded.receiver_account_id`, receiverAccountID)
	return err
}
