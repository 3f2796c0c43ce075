// Package notify delivers data set notifications (SendDataSetNotification)
// and revision events (package exchange records them; Payload shapes them
// as AWS's EventBridge events)
// to the webhooks of their receivers: each delivery is a row of the store
// (written with the notification, so it survives restarts), which any
// replica's Deliverer claims when it is due, POSTs, and marks DELIVERED,
// or retries with exponential backoff until MaxAttempts, then FAILED. A
// receiver with no webhook gets NO_WEBHOOK and nothing is retried.
//
// A notification is recorded once per sender's ClientToken, so each
// receiver gets it once; a delivery whose response was lost is retried
// and may arrive twice, with the same X-Wharf-Notification-Id for the
// receiver to drop the repeat. See docs/notifications.md for the payload
// and the signature.
package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// Headers of a delivery.
const (
	HeaderSignature    = "X-Wharf-Signature"
	HeaderTimestamp    = "X-Wharf-Timestamp"
	HeaderNotification = "X-Wharf-Notification-Id"
	HeaderAttempt      = "X-Wharf-Delivery-Attempt"
)

// Config configures a Deliverer. Zero durations and counts take the
// defaults in brackets.
type Config struct {
	Store  store.Store
	Region string
	// Sealer opens the webhooks' secrets (see SealWebhook).
	Sealer *auth.Sealer
	// Client sends the POSTs [a client with a 10 s timeout].
	Client *http.Client
	// PollInterval is how often due deliveries are looked for without
	// being told of any [10 s]: only a fallback, for notifications recorded
	// by another replica that died before its own deliverer sent them.
	// Wake announces new ones, and a failed attempt's retry is looked for
	// when it is due.
	PollInterval time.Duration
	// BaseBackoff is the wait after a first failed attempt, doubling after
	// each next one up to MaxBackoff [1 s, 10 min].
	BaseBackoff, MaxBackoff time.Duration
	// MaxAttempts is how many attempts a delivery gets [12].
	MaxAttempts int
	// ClaimFor is how long a claimed delivery is left to its deliverer
	// before another may take it (the deliverer died) [1 min].
	ClaimFor time.Duration
	Logger   *slog.Logger
}

// Deliverer delivers due notifications.
type Deliverer struct {
	cfg  Config
	wake chan struct{}
	// retryAt is when the soonest retry of this deliverer's failed
	// attempts is due (zero: none). Run and DeliverDue use it: don't call
	// DeliverDue while Run runs.
	retryAt time.Time
}

// New returns a Deliverer.
func New(cfg Config) (*Deliverer, error) {
	if cfg.Store == nil {
		return nil, errors.New("notify: Config.Store is required")
	}
	if cfg.Sealer == nil {
		return nil, errors.New("notify: Config.Sealer is required")
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.PollInterval, 10*time.Second)
	def(&cfg.BaseBackoff, time.Second)
	def(&cfg.MaxBackoff, 10*time.Minute)
	def(&cfg.ClaimFor, time.Minute)
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 12
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Deliverer{cfg: cfg, wake: make(chan struct{}, 1)}, nil
}

// Wake makes Run look for due deliveries now: call it when a transaction
// that recorded notifications has committed.
func (d *Deliverer) Wake() {
	select {
	case d.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// Run delivers due notifications until ctx ends: at once, whenever Wake is
// called, when a failed attempt's retry is due, and every PollInterval.
func (d *Deliverer) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-d.wake:
		}
		n, err := d.DeliverDue(ctx)
		if err != nil && ctx.Err() == nil {
			d.cfg.Logger.Warn("notify: deliver notifications", "error", err)
		}
		wait := d.cfg.PollInterval
		switch {
		case n == dueBatch && err == nil:
			wait = 0 // more may be due
		case !d.retryAt.IsZero():
			wait = min(wait, max(time.Until(d.retryAt), 0))
		}
		timer.Reset(wait)
	}
}

// dueBatch bounds the deliveries one DeliverDue attempts.
const dueBatch = 100

// DeliverDue makes one attempt at each delivery due now (up to dueBatch)
// and reports how many it attempted.
func (d *Deliverer) DeliverDue(ctx context.Context) (int, error) {
	if !d.retryAt.IsZero() && !time.Now().Before(d.retryAt) {
		d.retryAt = time.Time{} // due now: this pass sees it
	}
	due, err := d.cfg.Store.ListDueDeliveries(ctx, resource.Now(), dueBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, del := range due {
		won, err := d.cfg.Store.ClaimDelivery(ctx, del, resource.Now().Add(d.cfg.ClaimFor))
		if err != nil {
			return n, err
		}
		if !won {
			continue // another deliverer has it
		}
		n++
		if err := d.attempt(ctx, del); err != nil {
			return n, err
		}
	}
	return n, nil
}

// attempt delivers del once and records the outcome.
func (d *Deliverer) attempt(ctx context.Context, del resource.NotificationDelivery) error {
	now := resource.Now()
	del.UpdatedAt = now
	hook, err := d.cfg.Store.GetWebhook(ctx, del.ReceiverAccountID)
	if errors.Is(err, store.ErrNotFound) {
		del.State, del.LastError = resource.DeliveryNoWebhook, "the receiving account has registered no webhook"
		return d.cfg.Store.UpdateDelivery(ctx, del)
	}
	if err != nil {
		return err
	}
	n, err := d.cfg.Store.GetNotification(ctx, del.NotificationID)
	if err != nil {
		return err
	}
	body, err := Payload(d.cfg.Region, n, del)
	if err != nil {
		return err
	}
	del.Attempts++
	sendErr := error(nil)
	secret, err := OpenWebhookSecret(d.cfg.Sealer, hook)
	if err != nil {
		sendErr = err
	} else {
		sendErr = d.post(ctx, hook.URL, secret, n, del, body)
	}
	switch {
	case sendErr == nil:
		del.State, del.LastError = resource.DeliveryDelivered, ""
	case del.Attempts >= d.cfg.MaxAttempts:
		del.State, del.LastError = resource.DeliveryFailed, sendErr.Error()
	default:
		del.LastError = sendErr.Error()
		del.NextAttemptAt = now.Add(d.backoff(del.Attempts))
		if d.retryAt.IsZero() || del.NextAttemptAt.Before(d.retryAt) {
			d.retryAt = del.NextAttemptAt
		}
	}
	if sendErr != nil {
		d.cfg.Logger.Info("notify: a delivery failed", "notification", n.ID, "receiver", del.ReceiverAccountID,
			"attempt", del.Attempts, "state", del.State, "error", sendErr)
	}
	return d.cfg.Store.UpdateDelivery(context.WithoutCancel(ctx), del)
}

// backoff is the wait after the attempts-th failed attempt.
func (d *Deliverer) backoff(attempts int) time.Duration {
	wait := d.cfg.BaseBackoff
	for i := 1; i < attempts && wait < d.cfg.MaxBackoff; i++ {
		wait *= 2
	}
	return min(wait, d.cfg.MaxBackoff)
}

func (d *Deliverer) post(ctx context.Context, url, secret string, n resource.Notification, del resource.NotificationDelivery, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "wharf-notify")
	req.Header.Set(HeaderNotification, n.ID)
	req.Header.Set(HeaderAttempt, strconv.Itoa(del.Attempts))
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(secret, ts, body))
	resp, err := d.cfg.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the webhook answered %s", resp.Status)
	}
	return nil
}

// Sign is the X-Wharf-Signature of a delivery: "v1=" and the hex
// HMAC-SHA256, keyed with the webhook's secret, of the X-Wharf-Timestamp
// value, a dot, and the body.
func Sign(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte("."))
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports whether signature is Sign(secret, timestamp, body), in
// constant time: what a receiver does.
func Verify(secret, timestamp string, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, timestamp, body)), []byte(signature))
}

// payload is the JSON body of a delivery.
type payload struct {
	NotificationId    string
	ClientToken       string
	Type              string
	Comment           *string         `json:",omitempty"`
	Details           json.RawMessage `json:",omitempty"`
	Scope             json.RawMessage `json:",omitempty"`
	SenderPrincipal   string
	ReceiverPrincipal string
	DataGrantId       string
	DataGrantArn      string
	DataSetId         string
	DataSetArn        string
	CreatedAt         string
}

// Payload is the body delivered to del's receiver about n.
func Payload(region string, n resource.Notification, del resource.NotificationDelivery) ([]byte, error) {
	if slices.Contains(resource.EventTypes, n.Type) {
		return eventPayload(region, n, del)
	}
	var req struct {
		Comment *string
		Details json.RawMessage
		Scope   json.RawMessage
	}
	if err := json.Unmarshal(n.Request, &req); err != nil {
		return nil, fmt.Errorf("notify: notification %s: %w", n.ID, err)
	}
	return json.Marshal(payload{
		NotificationId: n.ID, ClientToken: n.ClientToken, Type: n.Type,
		Comment: req.Comment, Details: req.Details, Scope: req.Scope,
		SenderPrincipal: n.AccountID, ReceiverPrincipal: del.ReceiverAccountID,
		DataGrantId: del.DataGrantID, DataGrantArn: resource.DataGrantARN(region, n.AccountID, del.DataGrantID),
		DataSetId: del.DataSetID, DataSetArn: resource.DataSetARN(region, "", del.DataSetID),
		CreatedAt: n.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z"),
	})
}

// webhookSecretAD binds a sealed webhook secret to its account, so that a
// sealed value copied onto another account's row (or into another kind of
// row) does not open.
func webhookSecretAD(accountID string) []byte {
	return []byte("wharf/webhook-secret/v1/" + accountID)
}

// SealWebhook returns the webhook of accountID at url with secret sealed
// by sealer, for the store: the database never holds the secret itself.
func SealWebhook(sealer *auth.Sealer, accountID, url, secret string, now time.Time) resource.Webhook {
	return resource.Webhook{AccountID: accountID, URL: url, UpdatedAt: now,
		SealedSecret: sealer.SealBound(webhookSecretAD(accountID), []byte(secret))}
}

// OpenWebhookSecret opens hook's sealed secret. A webhook set before
// secrets were sealed has none: it must be set again.
func OpenWebhookSecret(sealer *auth.Sealer, hook resource.Webhook) (string, error) {
	if len(hook.SealedSecret) == 0 {
		return "", fmt.Errorf("the webhook of account %s has no sealed secret: set it again with wharf accounts webhook set", hook.AccountID)
	}
	secret, err := sealer.OpenBound(webhookSecretAD(hook.AccountID), hook.SealedSecret)
	if err != nil {
		return "", fmt.Errorf("the webhook secret of account %s: %w", hook.AccountID, err)
	}
	return string(secret), nil
}

// eventPayload is an event in the shape AWS's EventBridge events have
// (version, id, detail-type, source aws.dataexchange, account, time,
// region, resources, detail), as the receiver sees it: its own account,
// and its entitled data set's id in resources and detail.DataSets.
func eventPayload(region string, n resource.Notification, del resource.NotificationDelivery) ([]byte, error) {
	var detail map[string]any
	if err := json.Unmarshal(n.Request, &detail); err != nil {
		return nil, fmt.Errorf("notify: event %s: %w", n.ID, err)
	}
	if sets, ok := detail["DataSets"].([]any); ok {
		for _, s := range sets {
			if m, ok := s.(map[string]any); ok {
				m["Id"] = del.DataSetID
			}
		}
	}
	resources := []string{del.DataSetID}
	if n.Type == resource.EventDataGrantRevoked {
		resources = []string{resource.DataSetARN(region, "", del.DataSetID)}
	}
	return json.Marshal(map[string]any{
		"version":     "0",
		"id":          n.ID,
		"detail-type": n.Type,
		"source":      "aws.dataexchange",
		"account":     del.ReceiverAccountID,
		"time":        n.CreatedAt.UTC().Format(time.RFC3339),
		"region":      region,
		"resources":   resources,
		"detail":      detail,
	})
}
