package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

func assetKey(a resource.Asset) string { return a.AccountID + "/" + a.DataSetID + "/" + a.ID }

// dueKeys lists the keys of every deleted-bytes record due by far future.
func (e *env) dueKeys() []string {
	e.t.Helper()
	due, err := e.s.ListDueDeletedBytes(e.ctx, time.Now().Add(24*time.Hour), 1000)
	e.must(err)
	var keys []string
	for _, d := range due {
		keys = append(keys, d.Key)
	}
	slices.Sort(keys)
	return keys
}

func keysOf(assets ...resource.Asset) []string {
	var keys []string
	for _, a := range assets {
		keys = append(keys, assetKey(a))
	}
	slices.Sort(keys)
	return keys
}

var deletedBytesTests = []test{
	{"DeleteAssetRecordsItsKey", func(t *testing.T, e *env) {
		tr := e.tree(newAccountID())
		e.must(e.s.DeleteAsset(e.ctx, tr.dataSet.AccountID, tr.dataSet.ID, tr.revisions[0].ID, tr.assets[1].ID))
		wantEqual(t, "keys after DeleteAsset", e.dueKeys(), keysOf(tr.assets[1]), nil)
	}},
	{"DeleteRevisionRecordsItsAssets", func(t *testing.T, e *env) {
		tr := e.tree(newAccountID())
		e.must(e.s.DeleteRevision(e.ctx, tr.dataSet.AccountID, tr.dataSet.ID, tr.revisions[1].ID))
		wantEqual(t, "keys after DeleteRevision", e.dueKeys(), keysOf(tr.assets[2:]...), nil)
	}},
	{"DeleteDataSetRecordsEveryAsset", func(t *testing.T, e *env) {
		tr := e.tree(newAccountID())
		other := e.tree(newAccountID())
		e.must(e.s.DeleteDataSet(e.ctx, tr.dataSet.AccountID, tr.dataSet.ID))
		wantEqual(t, "keys after DeleteDataSet", e.dueKeys(), keysOf(tr.assets...), nil)
		e.wantIntact(other)
	}},
	{"FailedDeleteRecordsNothing", func(t *testing.T, e *env) {
		tr := e.tree(newAccountID())
		// Another account's ids delete nothing, and record nothing.
		err := e.s.DeleteDataSet(e.ctx, newAccountID(), tr.dataSet.ID)
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("DeleteDataSet of another account: %v, want ErrNotFound", err)
		}
		// A rolled-back delete records nothing either.
		boom := errors.New("boom")
		err = e.s.InTx(e.ctx, func(q store.Queries) error {
			e.must(q.DeleteDataSet(e.ctx, tr.dataSet.AccountID, tr.dataSet.ID))
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx: %v", err)
		}
		wantEqual(t, "keys", e.dueKeys(), []string(nil), nil)
		e.wantIntact(tr)
	}},
	{"RetryAndForget", func(t *testing.T, e *env) {
		tr := e.tree(newAccountID())
		e.must(e.s.DeleteRevision(e.ctx, tr.dataSet.AccountID, tr.dataSet.ID, tr.revisions[0].ID))
		now := time.Now()
		due, err := e.s.ListDueDeletedBytes(e.ctx, now, 10)
		e.must(err)
		if len(due) != 2 || due[0].Attempts != 0 || due[0].DeletedAt.After(now) {
			t.Fatalf("due: %+v", due)
		}
		later := now.Add(time.Hour).Truncate(time.Millisecond)
		e.must(e.s.RetryDeletedBytes(e.ctx, due[0].Key, later, "access denied"))
		got, err := e.s.ListDueDeletedBytes(e.ctx, now, 10)
		wantEqual(t, "due now after a retry", len(got), 1, err)
		got, err = e.s.ListDueDeletedBytes(e.ctx, later, 10)
		e.must(err)
		i := slices.IndexFunc(got, func(d store.DeletedBytes) bool { return d.Key == due[0].Key })
		if i < 0 || got[i].Attempts != 1 || got[i].LastError != "access denied" || !got[i].NextAttemptAt.Equal(later) {
			t.Fatalf("retried record: %+v", got)
		}
		e.must(e.s.ForgetDeletedBytes(e.ctx, due[0].Key))
		e.must(e.s.ForgetDeletedBytes(e.ctx, due[0].Key)) // twice is fine
		wantEqual(t, "keys after forgetting one", e.dueKeys(), []string{due[1].Key}, nil)
		if err := e.s.RetryDeletedBytes(e.ctx, due[0].Key, later, "x"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RetryDeletedBytes of a forgotten key: %v, want ErrNotFound", err)
		}
		if _, err := e.s.ListDueDeletedBytes(e.ctx, now, 0); err == nil {
			t.Error("a zero limit was accepted")
		}
	}},
}
