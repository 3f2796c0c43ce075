package sqlstore

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// Event actions.

const eventActionColumns = `account_id, id, data_set_id, action, created_at, updated_at`

func scanEventAction(r scanner) (resource.EventAction, error) {
	var ea resource.EventAction
	var action string
	var created, updated int64
	if err := r.Scan(&ea.AccountID, &ea.ID, &ea.DataSetID, &action, &created, &updated); err != nil {
		return ea, err
	}
	ea.Action = json.RawMessage(action)
	ea.CreatedAt, ea.UpdatedAt = fromMillis(created), fromMillis(updated)
	return ea, nil
}

var errInvalidAction = errors.New("store: event action's Action is not valid JSON")

func (q *queries) InsertEventAction(ctx context.Context, ea resource.EventAction) error {
	if !json.Valid(ea.Action) {
		return errInvalidAction
	}
	_, err := q.exec(ctx, `INSERT INTO event_actions (`+eventActionColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		ea.AccountID, ea.ID, ea.DataSetID, string(ea.Action), millis(ea.CreatedAt), millis(ea.UpdatedAt))
	return err
}

func (q *queries) GetEventAction(ctx context.Context, accountID, id string) (resource.EventAction, error) {
	return queryOne(ctx, q, scanEventAction,
		`SELECT `+eventActionColumns+` FROM event_actions WHERE account_id = ? AND id = ?`+q.lockClause(), accountID, id)
}

func (q *queries) UpdateEventAction(ctx context.Context, ea resource.EventAction) error {
	if !json.Valid(ea.Action) {
		return errInvalidAction
	}
	return q.execOne(ctx, `UPDATE event_actions SET action = ?, updated_at = ? WHERE account_id = ? AND id = ?`,
		string(ea.Action), millis(ea.UpdatedAt), ea.AccountID, ea.ID)
}

func (q *queries) DeleteEventAction(ctx context.Context, accountID, id string) error {
	return q.atomically(ctx, func(q *queries) error {
		// Lock the row first, so a concurrent TagResource (which locks it
		// too) can't leave tags behind.
		if err := q.lockRows(ctx, `SELECT id FROM event_actions WHERE account_id = ? AND id = ?`, accountID, id); err != nil {
			return err
		}
		if _, err := q.exec(ctx, `DELETE FROM tags WHERE resource_id IN (
				SELECT id FROM event_actions WHERE account_id = ? AND id = ?)`, accountID, id); err != nil {
			return err
		}
		return q.execOne(ctx, `DELETE FROM event_actions WHERE account_id = ? AND id = ?`, accountID, id)
	})
}

func (q *queries) ListEventActions(ctx context.Context, accountID, dataSetID string, p store.PageRequest) (store.Page[resource.EventAction], error) {
	where, args := eventActionWhere(accountID, dataSetID)
	return newestFirst(ctx, q, scanEventAction, eventActionColumns, "event_actions", where, args, p, func(ea resource.EventAction) store.Cursor {
		return store.Cursor{Time: ea.CreatedAt, ID: ea.ID}
	})
}

func (q *queries) CountEventActions(ctx context.Context, accountID, dataSetID string) (int, error) {
	where, args := eventActionWhere(accountID, dataSetID)
	return queryOne(ctx, q, scanCount, `SELECT COUNT(*) FROM event_actions WHERE `+where, args...)
}

// eventActionWhere selects an account's event actions, only one data set's
// if dataSetID is set.
func eventActionWhere(accountID, dataSetID string) (string, []any) {
	where, args := "account_id = ?", []any{accountID}
	if dataSetID != "" {
		where, args = where+" AND data_set_id = ?", append(args, dataSetID)
	}
	return where, args
}
