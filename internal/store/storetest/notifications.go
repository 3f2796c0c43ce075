package storetest

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

func (e *env) notification(sender string, receivers ...string) (resource.Notification, []resource.NotificationDelivery) {
	e.t.Helper()
	now := e.now()
	n := resource.Notification{AccountID: sender, ID: resource.NewID(), DataSetID: resource.NewID(),
		ClientToken: "token-" + resource.NewID(), Type: "DATA_UPDATE",
		Request: json.RawMessage(`{"Comment":"new data","Type":"DATA_UPDATE"}`), CreatedAt: now}
	var ds []resource.NotificationDelivery
	for _, r := range receivers {
		ds = append(ds, resource.NotificationDelivery{NotificationID: n.ID, ReceiverAccountID: r,
			DataGrantID: resource.NewID(), DataSetID: resource.NewID(), State: resource.DeliveryPending,
			NextAttemptAt: now, UpdatedAt: now, LastError: ""})
	}
	e.must(e.s.InsertNotification(e.ctx, n, ds))
	return n, ds
}

var notificationTests = []test{
	{"RoundTripAndToken", func(t *testing.T, e *env) {
		sender := newAccountID()
		n, ds := e.notification(sender, newAccountID(), newAccountID())
		got, err := e.s.GetNotificationByToken(e.ctx, sender, n.ClientToken)
		wantEqual(t, "GetNotificationByToken", got, n, err)
		got, err = e.s.GetNotification(e.ctx, n.ID)
		wantEqual(t, "GetNotification", got, n, err)
		_, err = e.s.GetNotificationByToken(e.ctx, newAccountID(), n.ClientToken)
		wantErr(t, "another account's token", err, store.ErrNotFound)

		dup := n
		dup.ID = resource.NewID()
		wantErr(t, "the same token twice", e.s.InsertNotification(e.ctx, dup, nil), store.ErrDuplicate)
		listed, err := e.s.ListDeliveries(e.ctx, n.ID)
		if err != nil || len(listed) != 2 {
			t.Fatalf("ListDeliveries = %v, %v; want 2", listed, err)
		}
		for _, d := range listed {
			want := ds[0]
			if d.ReceiverAccountID == ds[1].ReceiverAccountID {
				want = ds[1]
			}
			wantEqual(t, "delivery", d, want, nil)
		}
		got2, err := e.s.ListDeliveries(e.ctx, dup.ID)
		wantEqual(t, "deliveries of the refused duplicate", len(got2), 0, err)
	}},
	{"DueClaimUpdate", func(t *testing.T, e *env) {
		_, ds := e.notification(newAccountID(), newAccountID())
		d := ds[0]
		due, err := e.s.ListDueDeliveries(e.ctx, d.NextAttemptAt.Add(-time.Millisecond), 10)
		wantEqual(t, "due before its time", len(due), 0, err)
		due, err = e.s.ListDueDeliveries(e.ctx, d.NextAttemptAt, 10)
		if err != nil || len(due) != 1 {
			t.Fatalf("due at its time: %v, %v", due, err)
		}
		until := d.NextAttemptAt.Add(time.Minute)
		won, err := e.s.ClaimDelivery(e.ctx, d, until)
		wantEqual(t, "first claim", won, true, err)
		won, err = e.s.ClaimDelivery(e.ctx, d, until)
		wantEqual(t, "second claim of the same sighting", won, false, err)
		d.State, d.Attempts, d.LastError, d.UpdatedAt, d.NextAttemptAt = resource.DeliveryDelivered, 1, "", e.now(), until
		e.must(e.s.UpdateDelivery(e.ctx, d))
		due, err = e.s.ListDueDeliveries(e.ctx, until.Add(time.Hour), 10)
		wantEqual(t, "due after delivery", len(due), 0, err)
		won, err = e.s.ClaimDelivery(e.ctx, d, until)
		wantEqual(t, "claim of a delivered one", won, false, err)
	}},
	{"Webhooks", func(t *testing.T, e *env) {
		a := newAccountID()
		_, err := e.s.GetWebhook(e.ctx, a)
		wantErr(t, "no webhook", err, store.ErrNotFound)
		w := resource.Webhook{AccountID: a, URL: "https://example.com/hook", SealedSecret: []byte{1, 0, 0xff, 's'}, UpdatedAt: e.now()}
		e.must(e.s.SetWebhook(e.ctx, w))
		w.URL, w.SealedSecret, w.UpdatedAt = "https://example.com/other", []byte{1, 2, 3}, e.now()
		e.must(e.s.SetWebhook(e.ctx, w))
		got, err := e.s.GetWebhook(e.ctx, a)
		wantEqual(t, "replaced webhook", got, w, err)
	}},
}
