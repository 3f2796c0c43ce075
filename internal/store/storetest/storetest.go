// Package storetest is the conformance suite every store driver passes: it
// pins down what package store promises (account scoping, cascades,
// ErrNotFound and ErrDuplicate, listing order and keyset pagination, tag
// semantics, transactions and row locks under concurrent writers) against a
// real database. A driver's test calls Run with a function that opens a
// fresh, empty store.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// Opener returns a fresh, empty, migrated store for t and closes it when t
// ends.
type Opener func(t *testing.T) store.Store

// Run runs the whole suite. Subtests run in parallel, each on its own store.
func Run(t *testing.T, open Opener) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Accounts", accountTests},
		{"DataSets", dataSetTests},
		{"DataSetCounts", dataSetCountTests},
		{"Revisions", revisionTests},
		{"Assets", assetTests},
		{"Tags", tagTests},
		{"Listings", listingTests},
		{"Transactions", txTests},
		{"Concurrency", concurrencyTests},
		{"Jobs", jobTests},
		{"JobConcurrency", jobConcurrencyTests},
		{"DataGrants", dataGrantTests},
		{"Notifications", notificationTests},
		{"Audit", auditTests},
		{"DeletedBytes", deletedBytesTests},
		{"EventActions", eventActionTests},
		{"S3Profiles", s3ProfileTests},
		{"Sessions", sessionTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, tt := range g.tests {
				t.Run(tt.name, func(t *testing.T) {
					t.Parallel()
					tt.run(t, newEnv(t, open))
				})
			}
		})
	}
}

type test struct {
	name string
	run  func(t *testing.T, e *env)
}

// env is one test's store with helpers to fill it. Its helpers are for the
// test's own goroutine.
type env struct {
	t     *testing.T
	ctx   context.Context
	s     store.Store
	clock time.Time
}

func newEnv(t *testing.T, open Opener) *env {
	return &env{
		t:     t,
		ctx:   t.Context(),
		s:     open(t),
		clock: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC),
	}
}

// now returns a later millisecond each call, so fixtures are ordered by
// creation unless a test says otherwise.
func (e *env) now() time.Time {
	e.clock = e.clock.Add(1001 * time.Millisecond)
	return e.clock
}

func newAccountID() string { return fmt.Sprintf("%012d", rand.Int64N(1e12)) }

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) account() resource.Account {
	e.t.Helper()
	a := resource.Account{ID: newAccountID(), CreatedAt: e.now()}
	e.must(e.s.InsertAccount(e.ctx, a))
	return a
}

func (e *env) newDataSet(accountID string) resource.DataSet {
	now := e.now()
	return resource.DataSet{
		AccountID:   accountID,
		ID:          resource.NewID(),
		Name:        "data set " + now.Format(time.StampMilli),
		Description: "a data set",
		AssetType:   resource.AssetTypeS3Snapshot,
		Origin:      resource.OriginOwned,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
}

// dataSet inserts a data set of accountID, edited by edit first.
func (e *env) dataSet(accountID string, edit ...func(*resource.DataSet)) resource.DataSet {
	e.t.Helper()
	d := e.newDataSet(accountID)
	for _, f := range edit {
		f(&d)
	}
	e.must(e.s.InsertDataSet(e.ctx, d))
	return d
}

func (e *env) newRevision(d resource.DataSet) resource.Revision {
	now := e.now()
	return resource.Revision{
		AccountID: d.AccountID,
		DataSetID: d.ID,
		ID:        resource.NewID(),
		Comment:   "revision " + now.Format(time.StampMilli),
		CreatedAt: now,
		UpdatedAt: now,
	}
}

func (e *env) revision(d resource.DataSet, edit ...func(*resource.Revision)) resource.Revision {
	e.t.Helper()
	r := e.newRevision(d)
	for _, f := range edit {
		f(&r)
	}
	e.must(e.s.InsertRevision(e.ctx, r))
	return r
}

func (e *env) newAsset(r resource.Revision) resource.Asset {
	now := e.now()
	return resource.Asset{
		AccountID:  r.AccountID,
		DataSetID:  r.DataSetID,
		RevisionID: r.ID,
		ID:         resource.NewID(),
		Name:       fmt.Sprintf("objects/%d.csv", now.UnixMilli()),
		AssetType:  resource.AssetTypeS3Snapshot,
		Details:    []byte(`{"S3SnapshotAsset":{"Size":42}}`),
		CreatedAt:  now,
		UpdatedAt:  now,
	}
}

func (e *env) asset(r resource.Revision, edit ...func(*resource.Asset)) resource.Asset {
	e.t.Helper()
	a := e.newAsset(r)
	for _, f := range edit {
		f(&a)
	}
	e.must(e.s.InsertAsset(e.ctx, a))
	return a
}

func (e *env) tag(resourceID string) map[string]string {
	e.t.Helper()
	tags := map[string]string{"owner": "team-" + resourceID[:6], "env": "test"}
	e.must(e.s.SetTags(e.ctx, resourceID, tags))
	return tags
}

// tree is a data set with two revisions of two assets each, all tagged.
type tree struct {
	dataSet   resource.DataSet
	revisions []resource.Revision
	assets    []resource.Asset // revision i has assets 2i and 2i+1
}

func (e *env) tree(accountID string) tree {
	e.t.Helper()
	tr := tree{dataSet: e.dataSet(accountID)}
	e.tag(tr.dataSet.ID)
	for range 2 {
		r := e.revision(tr.dataSet)
		e.tag(r.ID)
		tr.revisions = append(tr.revisions, r)
		for range 2 {
			a := e.asset(r)
			e.tag(a.ID)
			tr.assets = append(tr.assets, a)
		}
	}
	return tr
}

// ids lists the tree's resource ids.
func (tr tree) ids() []string {
	ids := []string{tr.dataSet.ID}
	for _, r := range tr.revisions {
		ids = append(ids, r.ID)
	}
	for _, a := range tr.assets {
		ids = append(ids, a.ID)
	}
	return ids
}

// wantIntact checks that every row and tag of tr is still there as it was.
func (e *env) wantIntact(tr tree) {
	e.t.Helper()
	got, err := e.s.GetDataSet(e.ctx, tr.dataSet.AccountID, tr.dataSet.ID)
	wantEqual(e.t, "data set", got, tr.dataSet, err)
	for _, r := range tr.revisions {
		got, err := e.s.GetRevision(e.ctx, r.AccountID, r.DataSetID, r.ID)
		wantEqual(e.t, "revision", got, r, err)
	}
	for _, a := range tr.assets {
		got, err := e.s.GetAsset(e.ctx, a.AccountID, a.DataSetID, a.RevisionID, a.ID)
		wantEqual(e.t, "asset", got, a, err)
	}
	for _, id := range tr.ids() {
		tags, err := e.s.GetTags(e.ctx, id)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(tags) != 2 {
			e.t.Errorf("tags of %s: got %v, want the 2 set", id, tags)
		}
	}
}

// wantNoTags checks that each of ids has no tags left.
func (e *env) wantNoTags(ids ...string) {
	e.t.Helper()
	for _, id := range ids {
		tags, err := e.s.GetTags(e.ctx, id)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(tags) != 0 {
			e.t.Errorf("tags of %s: got %v, want none", id, tags)
		}
	}
}

// wantEqual fails unless err is nil and got equals want.
func wantEqual[T any](t *testing.T, what string, got, want T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

// wantErr fails unless err is target (by errors.Is).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", what, err, target)
	}
}
