package notify_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/notify"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/sqlite"
)

const (
	region   = "us-east-1"
	sender   = "111111111111"
	receiver = "222222222222"
	silent   = "333333333333" // accepts, registers no webhook
)

// hook is a receiver's webhook that refuses its first failures requests.
type hook struct {
	mu       sync.Mutex
	failures int
	got      []delivery
}

type delivery struct {
	header http.Header
	body   []byte
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, delivery{r.Header.Clone(), body})
	if h.failures > 0 {
		h.failures--
		http.Error(w, "not now", http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// newSender opens a store and an exchange on it, with a data set of the
// sender's; the store is closed when the test ends.
func newSender(t *testing.T) (*sqlite.Store, *exchange.Service, exchange.DataSetView) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "wharf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := exchange.New(st, region)
	ptr := func(s string) *string { return &s }
	ds, err := svc.CreateDataSet(ctx, sender, exchange.CreateDataSetInput{Name: ptr("d"), Description: ptr("d"), AssetType: ptr(resource.AssetTypeS3Snapshot)})
	if err != nil {
		t.Fatal(err)
	}
	return st, svc, ds
}

func TestDeliveries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, svc, ds := newSender(t)
	ptr := func(s string) *string { return &s }
	var grants []exchange.DataGrantView
	for _, to := range []string{receiver, silent} {
		g, err := svc.CreateDataGrant(ctx, sender, exchange.CreateDataGrantInput{Name: ptr("g"),
			GrantDistributionScope: ptr(resource.GrantScopeNone), ReceiverPrincipal: ptr(to), SourceDataSetID: &ds.ID})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AcceptDataGrant(ctx, to, g.ARN); err != nil {
			t.Fatal(err)
		}
		grants = append(grants, g)
	}
	// A pending grant gets nothing.
	if _, err := svc.CreateDataGrant(ctx, sender, exchange.CreateDataGrantInput{Name: ptr("g"),
		GrantDistributionScope: ptr(resource.GrantScopeNone), ReceiverPrincipal: ptr("444444444444"), SourceDataSetID: &ds.ID}); err != nil {
		t.Fatal(err)
	}

	h := &hook{failures: 2}
	srv := httptest.NewServer(h)
	defer srv.Close()
	const secret = "webhook-secret"
	sealer := testSealer(t)
	if err := st.SetWebhook(ctx, notify.SealWebhook(sealer, receiver, srv.URL, secret, resource.Now())); err != nil {
		t.Fatal(err)
	}

	in := exchange.SendDataSetNotificationInput{DataSetID: ds.ID, ClientToken: ptr("token-1"), Type: ptr("DATA_UPDATE"),
		Comment: ptr("new prices"), Details: json.RawMessage(`{"DataUpdate":{"DataUpdatedAt":"2026-01-02T03:04:05Z"}}`)}
	for range 2 { // the second is a retry: nothing new
		if err := svc.SendDataSetNotification(ctx, sender, in); err != nil {
			t.Fatal(err)
		}
	}
	other := in
	other.Comment = ptr("something else")
	if fe := fault.As(svc.SendDataSetNotification(ctx, sender, other)); fe == nil || fe.Name != fault.Conflict {
		t.Fatalf("reused token with another request: %v", fe)
	}
	if fe := fault.As(svc.SendDataSetNotification(ctx, receiver, exchange.SendDataSetNotificationInput{
		DataSetID: grants[0].DataSetID, Type: ptr("DATA_DELAY")})); fe == nil || fe.Name != fault.AccessDenied {
		t.Fatalf("notification about an entitled data set: %v", fe)
	}

	d, err := notify.New(notify.Config{Store: st, Region: region, Sealer: sealer, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	n, err := st.GetNotificationByToken(ctx, sender, "token-1")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for !settled(t, st, n.ID) {
		if time.Now().After(deadline) {
			t.Fatal("deliveries did not settle")
		}
		if _, err := d.DeliverDue(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	dels, err := st.ListDeliveries(ctx, n.ID)
	if err != nil || len(dels) != 2 {
		t.Fatalf("deliveries %v, %v", dels, err)
	}
	for _, del := range dels {
		want := map[string]string{receiver: resource.DeliveryDelivered, silent: resource.DeliveryNoWebhook}[del.ReceiverAccountID]
		if del.State != want {
			t.Errorf("delivery to %s is %s, want %s", del.ReceiverAccountID, del.State, want)
		}
		if del.ReceiverAccountID == receiver && del.Attempts != 3 {
			t.Errorf("delivered after %d attempts, want 3 (two refused)", del.Attempts)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.got) != 3 {
		t.Fatalf("webhook got %d requests, want 3 (two refused, one accepted)", len(h.got))
	}
	for _, g := range h.got {
		ts, sig := g.header.Get(notify.HeaderTimestamp), g.header.Get(notify.HeaderSignature)
		if !notify.Verify(secret, ts, g.body, sig) || notify.Verify("wrong", ts, g.body, sig) {
			t.Errorf("signature %q does not verify", sig)
		}
		if g.header.Get(notify.HeaderNotification) != n.ID {
			t.Errorf("notification id header %q", g.header.Get(notify.HeaderNotification))
		}
	}
	var p map[string]any
	if err := json.Unmarshal(h.got[2].body, &p); err != nil {
		t.Fatal(err)
	}
	if p["DataSetId"] != grants[0].DataSetID || p["DataGrantId"] != grants[0].ID || p["ClientToken"] != "token-1" ||
		p["Type"] != "DATA_UPDATE" || p["Comment"] != "new prices" || p["SenderPrincipal"] != sender {
		t.Errorf("payload %s", h.got[2].body)
	}
}

// settled reports whether no delivery of the notification is pending.
func settled(t *testing.T, st store.Store, id string) bool {
	t.Helper()
	dels, err := st.ListDeliveries(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dels {
		if d.State == resource.DeliveryPending {
			return false
		}
	}
	return true
}

// TestRunIsWokenAndRetriesWhenDue runs the deliverer with an hour-long
// poll: the notification must still be delivered, after two refusals, so
// the exchange's commit woke it and each retry was looked for when due.
// Nothing is timed: without either, the test fails on its deadline.
func TestRunIsWokenAndRetriesWhenDue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, svc, ds := newSender(t)
	ptr := func(s string) *string { return &s }
	g, err := svc.CreateDataGrant(ctx, sender, exchange.CreateDataGrantInput{Name: ptr("g"),
		GrantDistributionScope: ptr(resource.GrantScopeNone), ReceiverPrincipal: ptr(receiver), SourceDataSetID: &ds.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.AcceptDataGrant(ctx, receiver, g.ARN); err != nil {
		t.Fatal(err)
	}
	h := &hook{failures: 2}
	srv := httptest.NewServer(h)
	defer srv.Close()
	sealer := testSealer(t)
	if err := st.SetWebhook(ctx, notify.SealWebhook(sealer, receiver, srv.URL, "secret", resource.Now())); err != nil {
		t.Fatal(err)
	}
	d, err := notify.New(notify.Config{Store: st, Region: region, Sealer: sealer, PollInterval: time.Hour,
		BaseBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	running := make(chan struct{})
	go func() { defer close(running); d.Run(runCtx) }()
	defer func() { stop(); <-running }()
	time.Sleep(50 * time.Millisecond) // Run's first pass finds nothing

	svc.OnNotificationsRecorded = d.Wake
	if err := svc.SendDataSetNotification(ctx, sender, exchange.SendDataSetNotificationInput{
		DataSetID: ds.ID, ClientToken: ptr("t"), Type: ptr("DATA_DELAY")}); err != nil {
		t.Fatal(err)
	}
	n, err := st.GetNotificationByToken(ctx, sender, "t")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for !settled(t, st, n.ID) {
		if time.Now().After(deadline) {
			t.Fatal("the delivery did not settle: the deliverer was not woken, or did not retry when due")
		}
		time.Sleep(5 * time.Millisecond)
	}
	dels, err := st.ListDeliveries(ctx, n.ID)
	if err != nil || len(dels) != 1 || dels[0].State != resource.DeliveryDelivered || dels[0].Attempts != 3 {
		t.Fatalf("deliveries %+v, %v; want one delivered after 3 attempts", dels, err)
	}
}
