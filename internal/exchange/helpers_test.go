package exchange_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/sqlite"
)

const (
	region   = "us-east-1"
	accountA = "111111111111"
	accountB = "222222222222"
)

// fixture is a Service on a fresh SQLite database.
type fixture struct {
	t   *testing.T
	ctx context.Context
	st  store.Store
	svc *exchange.Service
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "wharf.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return &fixture{t: t, ctx: ctx, st: st, svc: exchange.New(st, region)}
}

// on returns the fixture reporting to t, for use in subtests.
func (f *fixture) on(t *testing.T) *fixture {
	g := *f
	g.t = t
	return &g
}

func ptr[T any](v T) *T { return &v }

func (f *fixture) dataSet(account string) exchange.DataSetView {
	f.t.Helper()
	d, err := f.svc.CreateDataSet(f.ctx, account, exchange.CreateDataSetInput{
		Name: ptr("weather"), Description: ptr("daily weather"), AssetType: ptr(resource.AssetTypeS3Snapshot),
	})
	if err != nil {
		f.t.Fatalf("CreateDataSet: %v", err)
	}
	return d
}

func (f *fixture) revision(account, dataSetID string) exchange.RevisionView {
	f.t.Helper()
	r, err := f.svc.CreateRevision(f.ctx, account, exchange.CreateRevisionInput{DataSetID: dataSetID, Comment: ptr("first")})
	if err != nil {
		f.t.Fatalf("CreateRevision: %v", err)
	}
	return r
}

// asset inserts an asset through the store: no operation creates assets yet.
func (f *fixture) asset(account, dataSetID, revisionID, name string) resource.Asset {
	f.t.Helper()
	now := resource.Now()
	a := resource.Asset{
		AccountID: account, DataSetID: dataSetID, RevisionID: revisionID, ID: resource.NewID(),
		Name: name, AssetType: resource.AssetTypeS3Snapshot,
		Details:   json.RawMessage(`{"S3SnapshotAsset":{"Size":123}}`),
		CreatedAt: now, UpdatedAt: now,
	}
	if err := f.st.InsertAsset(f.ctx, a); err != nil {
		f.t.Fatalf("InsertAsset: %v", err)
	}
	return a
}

// finalized returns a finalized revision holding one asset.
func (f *fixture) finalized(account, dataSetID string) (exchange.RevisionView, resource.Asset) {
	f.t.Helper()
	r := f.revision(account, dataSetID)
	a := f.asset(account, dataSetID, r.ID, "data.csv")
	if _, err := f.svc.UpdateRevision(f.ctx, account, exchange.UpdateRevisionInput{
		DataSetID: dataSetID, RevisionID: r.ID, Finalized: ptr(true),
	}); err != nil {
		f.t.Fatalf("finalize: %v", err)
	}
	return r, a
}

// wantFault fails unless err is the named exception; if messagePart is not
// empty the message must contain it.
func wantFault(t *testing.T, err error, name, messagePart string) *fault.Error {
	t.Helper()
	fe := fault.As(err)
	if fe == nil {
		t.Fatalf("got error %v, want %s", err, name)
	}
	if fe.Name != name {
		t.Fatalf("got %s (%s), want %s", fe.Name, fe.Message, name)
	}
	if messagePart != "" && !strings.Contains(fe.Message, messagePart) {
		t.Fatalf("message %q does not mention %q", fe.Message, messagePart)
	}
	return fe
}

func wantNotFound(t *testing.T, err error, kind resource.Kind, id string) {
	t.Helper()
	fe := wantFault(t, err, fault.ResourceNotFound, "")
	if fe.ResourceType != kind || fe.ResourceID != id {
		t.Fatalf("not found names %s %s, want %s %s", fe.ResourceType, fe.ResourceID, kind, id)
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func fmtAll(values ...any) string {
	b, _ := json.Marshal(values)
	return string(b)
}
