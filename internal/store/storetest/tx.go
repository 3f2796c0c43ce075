package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

var errAbort = errors.New("storetest: abort the transaction")

var txTests = []test{
	{"Commit", func(t *testing.T, e *env) {
		d := e.newDataSet(newAccountID())
		var r resource.Revision
		err := e.s.InTx(e.ctx, func(q store.Queries) error {
			if err := q.InsertDataSet(e.ctx, d); err != nil {
				return err
			}
			// The transaction reads its own writes.
			if _, err := q.GetDataSet(e.ctx, d.AccountID, d.ID); err != nil {
				return fmt.Errorf("read own write: %w", err)
			}
			r = e.newRevision(d)
			if err := q.InsertRevision(e.ctx, r); err != nil {
				return err
			}
			return q.SetTags(e.ctx, r.ID, map[string]string{"k": "v"})
		})
		e.must(err)
		got, err := e.s.GetRevision(e.ctx, r.AccountID, r.DataSetID, r.ID)
		wantEqual(t, "committed revision", got, r, err)
		tags, err := e.s.GetTags(e.ctx, r.ID)
		wantEqual(t, "committed tags", tags, map[string]string{"k": "v"}, err)
	}},
	{"RollbackOnError", func(t *testing.T, e *env) {
		kept := e.tree(newAccountID())
		d := e.newDataSet(newAccountID())
		err := e.s.InTx(e.ctx, func(q store.Queries) error {
			if err := q.InsertDataSet(e.ctx, d); err != nil {
				return err
			}
			if err := q.SetTags(e.ctx, d.ID, map[string]string{"k": "v"}); err != nil {
				return err
			}
			renamed := kept.dataSet
			renamed.Name = "renamed"
			if err := q.UpdateDataSet(e.ctx, renamed); err != nil {
				return err
			}
			if err := q.DeleteRevision(e.ctx, kept.dataSet.AccountID, kept.dataSet.ID, kept.revisions[0].ID); err != nil {
				return err
			}
			return fmt.Errorf("wrapped: %w", errAbort)
		})
		if !errors.Is(err, errAbort) {
			t.Fatalf("InTx returned %v, want fn's error", err)
		}
		_, err = e.s.GetDataSet(e.ctx, d.AccountID, d.ID)
		wantErr(t, "data set inserted by a rolled-back transaction", err, store.ErrNotFound)
		e.wantNoTags(d.ID)
		e.wantIntact(kept)
	}},
	{"RollbackOnPanic", func(t *testing.T, e *env) {
		d := e.newDataSet(newAccountID())
		func() {
			defer func() {
				if recover() == nil {
					t.Error("InTx swallowed fn's panic")
				}
			}()
			_ = e.s.InTx(e.ctx, func(q store.Queries) error {
				if err := q.InsertDataSet(e.ctx, d); err != nil {
					return err
				}
				panic("storetest: boom")
			})
		}()
		_, err := e.s.GetDataSet(e.ctx, d.AccountID, d.ID)
		wantErr(t, "data set inserted before the panic", err, store.ErrNotFound)
		// The store still works: the connection went back clean.
		e.dataSet(d.AccountID)
		e.must(e.s.InTx(e.ctx, func(q store.Queries) error { return q.InsertDataSet(e.ctx, d) }))
	}},
	{"StoreErrorsInside", func(t *testing.T, e *env) {
		d := e.dataSet(newAccountID())
		err := e.s.InTx(e.ctx, func(q store.Queries) error {
			_, err := q.GetDataSet(e.ctx, newAccountID(), d.ID)
			wantErr(t, "GetDataSet from another account in a transaction", err, store.ErrNotFound)
			return q.InsertDataSet(e.ctx, d)
		})
		wantErr(t, "InTx inserting a duplicate", err, store.ErrDuplicate)
	}},
	{"PingAndReuseAfterManyTransactions", func(t *testing.T, e *env) {
		d := e.dataSet(newAccountID())
		for i := range 50 {
			err := e.s.InTx(e.ctx, func(q store.Queries) error {
				if _, err := q.GetDataSet(e.ctx, d.AccountID, d.ID); err != nil {
					return err
				}
				if i%2 == 0 {
					return errAbort
				}
				return nil
			})
			if err != nil && !errors.Is(err, errAbort) {
				t.Fatal(err)
			}
		}
		e.must(e.s.Ping(e.ctx))
	}},
}

// writers is how many goroutines the concurrency tests run at once.
const writers = 20

// concurrently runs fn(i) for i in [0, writers) at once and fails on any
// error.
func concurrently(t *testing.T, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, writers)
	start := make(chan struct{})
	for i := range writers {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}

var concurrencyTests = []test{
	{"ReadModifyWriteLosesNoUpdate", func(t *testing.T, e *env) {
		r := e.revision(e.dataSet(newAccountID()), func(r *resource.Revision) { r.Comment = "" })
		concurrently(t, func(i int) error {
			return e.s.InTx(e.ctx, func(q store.Queries) error {
				got, err := q.GetRevision(e.ctx, r.AccountID, r.DataSetID, r.ID)
				if err != nil {
					return err
				}
				got.Comment += fmt.Sprintf("[%d]", i)
				return q.UpdateRevision(e.ctx, got)
			})
		})
		got, err := e.s.GetRevision(e.ctx, r.AccountID, r.DataSetID, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		for i := range writers {
			if !strings.Contains(got.Comment, fmt.Sprintf("[%d]", i)) {
				t.Errorf("update %d lost: comment is %q", i, got.Comment)
			}
		}
	}},
	{"CheckThenInsertHoldsTheLimit", func(t *testing.T, e *env) {
		// Exchange's quota check: lock the parent, count, insert if room.
		const limit = 5
		r := e.revision(e.dataSet(newAccountID()))
		concurrently(t, func(int) error {
			return e.s.InTx(e.ctx, func(q store.Queries) error {
				if _, err := q.GetRevision(e.ctx, r.AccountID, r.DataSetID, r.ID); err != nil {
					return err
				}
				n, err := q.CountAssets(e.ctx, r.AccountID, r.DataSetID, r.ID)
				if err != nil || n >= limit {
					return err
				}
				a := resource.Asset{AccountID: r.AccountID, DataSetID: r.DataSetID, RevisionID: r.ID,
					ID: resource.NewID(), Name: "a", AssetType: resource.AssetTypeS3Snapshot,
					Details: []byte(`{"S3SnapshotAsset":{"Size":1}}`), CreatedAt: r.CreatedAt, UpdatedAt: r.CreatedAt}
				return q.InsertAsset(e.ctx, a)
			})
		})
		if n, err := e.s.CountAssets(e.ctx, r.AccountID, r.DataSetID, r.ID); err != nil || n != limit {
			t.Errorf("CountAssets = %d, %v; want exactly %d", n, err, limit)
		}
	}},
	{"ReceiverLockHoldsThePendingGrantQuota", func(t *testing.T, e *env) {
		// Exchange's pending-grants-per-consumer check: senders of different
		// accounts, so nothing but the receiver's lock row is shared.
		const limit = 5
		receiver := newAccountID() // not an account of this store
		grants := make([]resource.DataGrant, writers)
		for i := range grants {
			grants[i] = e.newDataGrant(newAccountID(), receiver, resource.NewID())
		}
		pending := store.DataGrantFilter{ReceiverAccountID: receiver, AcceptanceStates: []string{resource.GrantPendingAcceptance}}
		concurrently(t, func(i int) error {
			return e.s.InTx(e.ctx, func(q store.Queries) error {
				if err := q.LockDataGrantReceiver(e.ctx, receiver); err != nil {
					return err
				}
				n, err := q.CountDataGrants(e.ctx, pending)
				if err != nil || n >= limit {
					return err
				}
				return q.InsertDataGrant(e.ctx, grants[i])
			})
		})
		if n, err := e.s.CountDataGrants(e.ctx, pending); err != nil || n != limit {
			t.Errorf("pending grants = %d, %v; want exactly %d", n, err, limit)
		}
	}},
	{"TagWritersLoseNoTag", func(t *testing.T, e *env) {
		id := e.dataSet(newAccountID()).ID
		concurrently(t, func(i int) error {
			// Half inside transactions, half not; every writer also
			// overwrites one shared key.
			tags := map[string]string{fmt.Sprintf("writer-%02d", i): "x", "shared": fmt.Sprint(i)}
			if i%2 == 0 {
				return e.s.SetTags(e.ctx, id, tags)
			}
			return e.s.InTx(e.ctx, func(q store.Queries) error { return q.SetTags(e.ctx, id, tags) })
		})
		got, err := e.s.GetTags(e.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != writers+1 {
			t.Errorf("got %d tags, want %d: %v", len(got), writers+1, got)
		}
		for i := range writers {
			if _, ok := got[fmt.Sprintf("writer-%02d", i)]; !ok {
				t.Errorf("writer %d's tag lost", i)
			}
		}
	}},
	{"DeleteRacingWritersLeavesNoOrphans", func(t *testing.T, e *env) {
		// Writers tag assets of a revision while it is deleted: afterwards
		// no tag of any of its assets may remain.
		d := e.dataSet(newAccountID())
		r := e.revision(d)
		var assets []resource.Asset
		for range writers {
			assets = append(assets, e.asset(r))
		}
		concurrently(t, func(i int) error {
			if i == writers/2 {
				return e.s.DeleteRevision(e.ctx, r.AccountID, r.DataSetID, r.ID)
			}
			a := assets[i]
			err := e.s.InTx(e.ctx, func(q store.Queries) error {
				if _, err := q.GetAsset(e.ctx, a.AccountID, a.DataSetID, a.RevisionID, a.ID); err != nil {
					return err
				}
				return q.SetTags(e.ctx, a.ID, map[string]string{"k": "v"})
			})
			if errors.Is(err, store.ErrNotFound) {
				return nil // the delete came first
			}
			return err
		})
		for _, a := range assets {
			e.wantNoTags(a.ID)
		}
	}},
}
