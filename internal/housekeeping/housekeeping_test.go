package housekeeping_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/housekeeping"
	"github.com/wharf-dev/wharf/internal/pgtest"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/s3access"
	"github.com/wharf-dev/wharf/internal/s3test"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/postgres"
	"github.com/wharf-dev/wharf/internal/store/sqlite"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.Stop()
	s3test.Stop()
	os.Exit(code)
}

const (
	region = "us-east-1"
	owner  = "111111111111"
	other  = "222222222222"
)

func ptr[T any](v T) *T { return &v }

// database opens a store of one kind; reopen opens the same database again
// (as a restarted server does).
type database struct {
	name string
	open func(t *testing.T) (st store.Store, reopen func() store.Store)
}

var databases = []database{
	{"sqlite", func(t *testing.T) (store.Store, func() store.Store) {
		path := filepath.Join(t.TempDir(), "wharf.db")
		open := func() store.Store {
			st, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}
		return open(), open
	}},
	{"postgres", func(t *testing.T) (store.Store, func() store.Store) {
		u := pgtest.URL(t)
		open := func() store.Store {
			st, err := postgres.Open(context.Background(), u)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		}
		return open(), open
	}},
}

// assetStores open an empty asset store of each kind.
var assetStores = []struct {
	name string
	open func(t *testing.T) assetstore.Store
}{
	{"local", func(t *testing.T) assetstore.Store {
		st, err := assetstore.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return st
	}},
	{"s3", func(t *testing.T) assetstore.Store {
		srv := s3test.Start(t)
		p := s3access.Profile{Endpoint: srv.URL, Region: srv.Region, AccessKeyID: srv.AccessKeyID,
			SecretAccessKey: srv.SecretAccessKey, PathStyle: true}
		r, err := s3access.NewResolver(context.Background(), s3access.ResolverConfig{Ambient: &p})
		if err != nil {
			t.Fatal(err)
		}
		st, err := assetstore.Open(context.Background(), "s3://"+srv.NewBucket(t)+"/assets", "", r)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}},
}

type fixture struct {
	t      *testing.T
	ctx    context.Context
	st     store.Store
	svc    *exchange.Service
	assets assetstore.Store
}

// asset creates an asset with bytes in the asset store, as an import does.
func (f *fixture) asset(dataSetID, revisionID string) resource.Asset {
	f.t.Helper()
	now := resource.Now()
	a := resource.Asset{AccountID: owner, DataSetID: dataSetID, RevisionID: revisionID, ID: resource.NewID(),
		Name: "objects/" + resource.NewID() + ".csv", AssetType: resource.AssetTypeS3Snapshot,
		Details: []byte(`{"S3SnapshotAsset":{"Size":5}}`), CreatedAt: now, UpdatedAt: now}
	key := f.key(a)
	if _, err := f.assets.Put(f.ctx, key, bytes.NewReader([]byte("bytes")), 5); err != nil {
		f.t.Fatal(err)
	}
	if err := f.st.InsertAsset(f.ctx, a); err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *fixture) key(a resource.Asset) assetstore.Key {
	f.t.Helper()
	k, err := assetstore.AssetKey(a.AccountID, a.DataSetID, a.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return k
}

// wantBytes fails unless each asset's object exists (present) or not.
func (f *fixture) wantBytes(present bool, assets ...resource.Asset) {
	f.t.Helper()
	for _, a := range assets {
		_, err := f.assets.Stat(f.ctx, f.key(a))
		switch {
		case present && err != nil:
			f.t.Errorf("the bytes of asset %s: %v, want them kept", a.ID, err)
		case !present && !errors.Is(err, assetstore.ErrNotFound):
			f.t.Errorf("the bytes of asset %s: %v, want them gone", a.ID, err)
		}
	}
}

func (f *fixture) sweep(sw *housekeeping.Sweeper, want int) {
	f.t.Helper()
	n, err := sw.SweepDeletedBytes(f.ctx)
	if err != nil || n != want {
		f.t.Fatalf("SweepDeletedBytes = %d, %v; want %d", n, err, want)
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func newSweeper(t *testing.T, st store.Store, assets assetstore.Store) *housekeeping.Sweeper {
	sw, err := housekeeping.New(housekeeping.Config{Store: st, Assets: assets, BaseBackoff: time.Nanosecond, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return sw
}

// TestDeletedAssetsLoseTheirBytes deletes assets every way an API call
// can, on each database and asset store, and sweeps: exactly the deleted
// assets' objects go, an entitled data set's deletion leaves its source's
// bytes, and a delete committed before a crash is swept after the restart.
func TestDeletedAssetsLoseTheirBytes(t *testing.T) {
	t.Parallel()
	for _, db := range databases {
		for _, as := range assetStores {
			t.Run(db.name+"/"+as.name, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				st, reopen := db.open(t)
				f := &fixture{t: t, ctx: ctx, st: st, svc: exchange.New(st, region), assets: as.open(t)}
				sw := newSweeper(t, st, f.assets)

				ds, err := f.svc.CreateDataSet(ctx, owner, exchange.CreateDataSetInput{Name: ptr("d"), Description: ptr("d"),
					AssetType: ptr(resource.AssetTypeS3Snapshot)})
				if err != nil {
					t.Fatal(err)
				}
				var revisions []string
				var assets []resource.Asset // revision i holds assets 4i..4i+3
				for range 3 {
					r, err := f.svc.CreateRevision(ctx, owner, exchange.CreateRevisionInput{DataSetID: ds.ID})
					if err != nil {
						t.Fatal(err)
					}
					revisions = append(revisions, r.ID)
					for range 4 {
						assets = append(assets, f.asset(ds.ID, r.ID))
					}
				}
				// Revision 0 is finalized and shared, accepted, then unshared:
				// the entitled data set goes, its source's bytes stay.
				if _, err := f.svc.UpdateRevision(ctx, owner, exchange.UpdateRevisionInput{DataSetID: ds.ID,
					RevisionID: revisions[0], Finalized: ptr(true)}); err != nil {
					t.Fatal(err)
				}
				g, err := f.svc.CreateDataGrant(ctx, owner, exchange.CreateDataGrantInput{Name: ptr("g"),
					GrantDistributionScope: ptr(resource.GrantScopeNone), ReceiverPrincipal: ptr(other), SourceDataSetID: &ds.ID})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.svc.AcceptDataGrant(ctx, other, g.ARN); err != nil {
					t.Fatal(err)
				}
				if err := f.svc.DeleteDataGrant(ctx, owner, g.ID); err != nil {
					t.Fatal(err)
				}
				f.sweep(sw, 0)
				f.wantBytes(true, assets...)

				// DeleteAsset takes one object.
				if err := f.svc.DeleteAsset(ctx, owner, exchange.DeleteAssetInput{DataSetID: ds.ID,
					RevisionID: revisions[1], AssetID: assets[4].ID}); err != nil {
					t.Fatal(err)
				}
				f.sweep(sw, 1)
				f.wantBytes(false, assets[4])
				f.wantBytes(true, assets[:4]...)
				f.wantBytes(true, assets[5:]...)

				// DeleteRevision takes its assets'.
				if err := f.svc.DeleteRevision(ctx, owner, exchange.DeleteRevisionInput{DataSetID: ds.ID,
					RevisionID: revisions[2]}); err != nil {
					t.Fatal(err)
				}
				f.sweep(sw, 4)
				f.wantBytes(false, assets[8:]...)
				f.wantBytes(true, assets[:4]...)

				// DeleteDataSet commits, and the server dies before sweeping:
				// after the restart, the sweeper finds the records.
				if err := f.svc.DeleteDataSet(ctx, owner, exchange.DeleteDataSetInput{DataSetID: ds.ID}); err != nil {
					t.Fatal(err)
				}
				f.wantBytes(true, assets[:4]...)
				st.Close()
				f.st = reopen()
				f.sweep(newSweeper(t, f.st, f.assets), 7)
				f.wantBytes(false, assets...)
				f.sweep(newSweeper(t, f.st, f.assets), 0) // nothing left, nothing twice
			})
		}
	}
}

// flakyAssets fails the first Delete of failKey, as an unreachable bucket
// does. It is a fake in addition to the real stores above.
type flakyAssets struct {
	assetstore.Store
	failKey atomic.Value // string
}

func (s *flakyAssets) Delete(ctx context.Context, key assetstore.Key) error {
	if s.failKey.CompareAndSwap(key.String(), "") {
		return errors.New("connection refused")
	}
	return s.Store.Delete(ctx, key)
}

// TestFailedRemovalIsRetried: a removal that fails keeps its record, with
// the error, and the next sweep after the backoff removes the object; a
// removal whose object is already gone (another replica's) is done.
func TestFailedRemovalIsRetried(t *testing.T) {
	t.Parallel()
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, _ := db.open(t)
			local, err := assetstore.NewLocal(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			flaky := &flakyAssets{Store: local}
			f := &fixture{t: t, ctx: ctx, st: st, svc: exchange.New(st, region), assets: flaky}
			sw := newSweeper(t, st, flaky)
			ds, err := f.svc.CreateDataSet(ctx, owner, exchange.CreateDataSetInput{Name: ptr("d"), Description: ptr("d"),
				AssetType: ptr(resource.AssetTypeS3Snapshot)})
			if err != nil {
				t.Fatal(err)
			}
			r, err := f.svc.CreateRevision(ctx, owner, exchange.CreateRevisionInput{DataSetID: ds.ID})
			if err != nil {
				t.Fatal(err)
			}
			a, gone := f.asset(ds.ID, r.ID), f.asset(ds.ID, r.ID)
			flaky.failKey.Store(f.key(a).String())
			if err := local.Delete(ctx, f.key(gone)); err != nil { // already removed elsewhere
				t.Fatal(err)
			}
			if err := f.svc.DeleteRevision(ctx, owner, exchange.DeleteRevisionInput{DataSetID: ds.ID, RevisionID: r.ID}); err != nil {
				t.Fatal(err)
			}
			n, err := sw.SweepDeletedBytes(ctx)
			if n != 1 || err == nil || !strings.Contains(err.Error(), "connection refused") {
				t.Fatalf("first sweep = %d, %v; want 1 removed and the failure reported", n, err)
			}
			due, err := st.ListDueDeletedBytes(ctx, time.Now().Add(time.Hour), 10)
			if err != nil || len(due) != 1 || due[0].Attempts != 1 || due[0].LastError != "connection refused" {
				t.Fatalf("records after a failure: %+v, %v", due, err)
			}
			f.wantBytes(true, a)
			f.sweep(sw, 1)
			f.wantBytes(false, a, gone)
		})
	}
}

// TestPruneAudit keeps the records within the retention, and all of them
// with none.
func TestPruneAudit(t *testing.T) {
	t.Parallel()
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, _ := db.open(t)
			local, err := assetstore.NewLocal(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			for _, age := range []time.Duration{100 * 24 * time.Hour, 91 * 24 * time.Hour, 89 * 24 * time.Hour, time.Minute} {
				if err := st.InsertAuditRecord(ctx, resource.AuditRecord{ID: resource.NewID(), At: now.Add(-age),
					AccountID: owner, Operation: "GetDataSet", Status: 200}); err != nil {
					t.Fatal(err)
				}
			}
			forever, err := housekeeping.New(housekeeping.Config{Store: st, Assets: local, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			if n, err := forever.PruneAudit(ctx); n != 0 || err != nil {
				t.Fatalf("PruneAudit with no retention = %d, %v", n, err)
			}
			sw, err := housekeeping.New(housekeeping.Config{Store: st, Assets: local, AuditRetention: housekeeping.DefaultAuditRetention, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			if n, err := sw.PruneAudit(ctx); n != 2 || err != nil {
				t.Fatalf("PruneAudit = %d, %v; want 2", n, err)
			}
			left, err := st.ListAuditRecords(ctx, store.AuditFilter{Limit: 10})
			if err != nil || len(left) != 2 {
				t.Fatalf("records left: %d, %v; want 2", len(left), err)
			}
		})
	}
}

// TestPruneSessions deletes the sessions expired more than a day ago and
// keeps the others, revoked or not.
func TestPruneSessions(t *testing.T) {
	t.Parallel()
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st, _ := db.open(t)
			local, err := assetstore.NewLocal(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if err := st.InsertAccount(ctx, resource.Account{ID: owner, CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			ids := map[string]bool{} // id -> kept
			for i, expiredAgo := range []time.Duration{48 * time.Hour, 25 * time.Hour, 23 * time.Hour, time.Minute, -time.Hour} {
				id := fmt.Sprintf("ASIATEST%012d", i)
				ids[id] = expiredAgo < housekeeping.ExpiredSessionGrace
				if err := st.InsertSession(ctx, resource.Session{ID: id, AccountID: owner, ParentKeyID: "AKIA",
					SealedSecret: []byte("s"), TokenHash: []byte("h"), CreatedAt: now.Add(-expiredAgo - time.Hour),
					ExpiresAt: now.Add(-expiredAgo), RevokedAt: ptr(now.Add(-expiredAgo))}); err != nil {
					t.Fatal(err)
				}
			}
			sw, err := housekeeping.New(housekeeping.Config{Store: st, Assets: local, Logger: quiet})
			if err != nil {
				t.Fatal(err)
			}
			if n, err := sw.PruneSessions(ctx); n != 2 || err != nil {
				t.Fatalf("PruneSessions = %d, %v; want 2", n, err)
			}
			for id, kept := range ids {
				_, err := st.GetSession(ctx, id)
				if kept != (err == nil) {
					t.Errorf("session %s: kept %v, GetSession: %v", id, kept, err)
				}
			}
		})
	}
}
