package sqlstore

import (
	"context"
	"encoding/json"
	"time"

	"github.com/wharf-dev/wharf/internal/resource"
)

// Notifications and webhooks (migration 0007).

const notificationColumns = `account_id, id, data_set_id, client_token, type, request, created_at`

func scanNotification(r scanner) (resource.Notification, error) {
	var n resource.Notification
	var request string
	var created int64
	if err := r.Scan(&n.AccountID, &n.ID, &n.DataSetID, &n.ClientToken, &n.Type, &request, &created); err != nil {
		return n, err
	}
	n.Request, n.CreatedAt = json.RawMessage(request), fromMillis(created)
	return n, nil
}

const deliveryColumns = `notification_id, receiver_account_id, data_grant_id, data_set_id, state, attempts,
	next_attempt_at, last_error, updated_at`

func scanDelivery(r scanner) (resource.NotificationDelivery, error) {
	var d resource.NotificationDelivery
	var attempts, next, updated int64
	if err := r.Scan(&d.NotificationID, &d.ReceiverAccountID, &d.DataGrantID, &d.DataSetID, &d.State, &attempts,
		&next, &d.LastError, &updated); err != nil {
		return d, err
	}
	d.Attempts, d.NextAttemptAt, d.UpdatedAt = int(attempts), fromMillis(next), fromMillis(updated)
	return d, nil
}

func (q *queries) InsertNotification(ctx context.Context, n resource.Notification, deliveries []resource.NotificationDelivery) error {
	return q.atomically(ctx, func(q *queries) error {
		if _, err := q.exec(ctx, `INSERT INTO notifications (`+notificationColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			n.AccountID, n.ID, n.DataSetID, n.ClientToken, n.Type, string(n.Request), millis(n.CreatedAt)); err != nil {
			return err
		}
		for _, d := range deliveries {
			if _, err := q.exec(ctx, `INSERT INTO notification_deliveries (`+deliveryColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				n.ID, d.ReceiverAccountID, d.DataGrantID, d.DataSetID, d.State, d.Attempts,
				millis(d.NextAttemptAt), d.LastError, millis(d.UpdatedAt)); err != nil {
				return err
			}
		}
		return nil
	})
}

func (q *queries) GetNotificationByToken(ctx context.Context, accountID, clientToken string) (resource.Notification, error) {
	return queryOne(ctx, q, scanNotification, `SELECT `+notificationColumns+` FROM notifications
		WHERE account_id = ? AND client_token = ?`+q.lockClause(), accountID, clientToken)
}

func (q *queries) GetNotification(ctx context.Context, id string) (resource.Notification, error) {
	return queryOne(ctx, q, scanNotification, `SELECT `+notificationColumns+` FROM notifications WHERE id = ?`, id)
}

func (q *queries) ListDueDeliveries(ctx context.Context, now time.Time, limit int) ([]resource.NotificationDelivery, error) {
	return queryAll(ctx, q, scanDelivery, `SELECT `+deliveryColumns+` FROM notification_deliveries
		WHERE state = ? AND next_attempt_at <= ? ORDER BY next_attempt_at, notification_id, receiver_account_id LIMIT ?`,
		resource.DeliveryPending, millis(now), limit)
}

func (q *queries) ListDeliveries(ctx context.Context, notificationID string) ([]resource.NotificationDelivery, error) {
	return queryAll(ctx, q, scanDelivery, `SELECT `+deliveryColumns+` FROM notification_deliveries
		WHERE notification_id = ? ORDER BY receiver_account_id`, notificationID)
}

func (q *queries) ClaimDelivery(ctx context.Context, d resource.NotificationDelivery, until time.Time) (bool, error) {
	n, err := q.exec(ctx, `UPDATE notification_deliveries SET next_attempt_at = ?
		WHERE notification_id = ? AND receiver_account_id = ? AND state = ? AND next_attempt_at = ?`,
		millis(until), d.NotificationID, d.ReceiverAccountID, resource.DeliveryPending, millis(d.NextAttemptAt))
	return n == 1, err
}

func (q *queries) UpdateDelivery(ctx context.Context, d resource.NotificationDelivery) error {
	return q.execOne(ctx, `UPDATE notification_deliveries SET state = ?, attempts = ?, next_attempt_at = ?,
			last_error = ?, updated_at = ?
		WHERE notification_id = ? AND receiver_account_id = ?`,
		d.State, d.Attempts, millis(d.NextAttemptAt), d.LastError, millis(d.UpdatedAt), d.NotificationID, d.ReceiverAccountID)
}

func (q *queries) SetWebhook(ctx context.Context, w resource.Webhook) error {
	_, err := q.exec(ctx, `INSERT INTO account_webhooks (account_id, url, sealed_secret, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET url = excluded.url, sealed_secret = excluded.sealed_secret, updated_at = excluded.updated_at`,
		w.AccountID, w.URL, w.SealedSecret, millis(w.UpdatedAt))
	return err
}

func (q *queries) GetWebhook(ctx context.Context, accountID string) (resource.Webhook, error) {
	return queryOne(ctx, q, func(r scanner) (resource.Webhook, error) {
		var w resource.Webhook
		var updated int64
		err := r.Scan(&w.AccountID, &w.URL, &w.SealedSecret, &updated)
		w.UpdatedAt = fromMillis(updated)
		return w, err
	}, `SELECT account_id, url, sealed_secret, updated_at FROM account_webhooks WHERE account_id = ?`, accountID)
}
