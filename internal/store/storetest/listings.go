package storetest

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// pageLimits are the page sizes each listing is read with: single items,
// sizes that do and don't divide the total, and pages larger than it.
var pageLimits = []int{1, 2, 3, 5, 8, 1000}

// readAll reads a listing page by page, checking each page's shape, and
// returns every item in the order read.
func readAll[T any](t *testing.T, limit int, list func(store.PageRequest) (store.Page[T], error)) []T {
	t.Helper()
	var all []T
	var after *store.Cursor
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatalf("limit %d: the listing does not end", limit)
		}
		p, err := list(store.PageRequest{Limit: limit, After: after})
		if err != nil {
			t.Fatalf("limit %d, page %d: %v", limit, pages, err)
		}
		if len(p.Items) > limit {
			t.Fatalf("limit %d: page %d has %d items", limit, pages, len(p.Items))
		}
		if after != nil && len(p.Items) == 0 {
			t.Errorf("limit %d: page %d is empty, but the page before it gave a Next", limit, pages)
		}
		all = append(all, p.Items...)
		if p.Next == nil {
			return all
		}
		if len(p.Items) != limit {
			t.Errorf("limit %d: page %d has %d items and a Next; only the last page may be short", limit, pages, len(p.Items))
		}
		after = p.Next
	}
}

// wantIDs fails unless got's ids are want's, in order.
func wantIDs[T any](t *testing.T, what string, got, want []T, id func(T) string) {
	t.Helper()
	g, w := make([]string, len(got)), make([]string, len(want))
	for i := range got {
		g[i] = id(got[i])
	}
	for i := range want {
		w[i] = id(want[i])
	}
	if !slices.Equal(g, w) {
		t.Errorf("%s:\n got  %v\n want %v", what, g, w)
	}
}

func newestFirst[T any](created func(T) time.Time, id func(T) string) func(a, b T) int {
	return func(a, b T) int {
		if c := created(b).Compare(created(a)); c != 0 {
			return c
		}
		return cmp.Compare(id(b), id(a))
	}
}

func dataSetID(d resource.DataSet) string           { return d.ID }
func dataSetCreated(d resource.DataSet) time.Time   { return d.CreatedAt }
func revisionID(r resource.Revision) string         { return r.ID }
func revisionCreated(r resource.Revision) time.Time { return r.CreatedAt }
func assetID(a resource.Asset) string               { return a.ID }

var listingTests = []test{
	{"DataSetsNewestFirstEachOnce", func(t *testing.T, e *env) {
		account, other := newAccountID(), newAccountID()
		base := e.now()
		var all, owned, entitled []resource.DataSet
		for i := range 23 {
			// Four distinct creation times: most items tie with others.
			d := e.dataSet(account, func(d *resource.DataSet) {
				d.CreatedAt = base.Add(time.Duration(i%4) * time.Second)
				if i%3 == 0 {
					d.Origin = resource.OriginEntitled
				}
			})
			all = append(all, d)
			if d.Origin == resource.OriginOwned {
				owned = append(owned, d)
			} else {
				entitled = append(entitled, d)
			}
			// Another account's data sets at the same times stay out.
			if i%5 == 0 {
				e.dataSet(other, func(d *resource.DataSet) { d.CreatedAt = base.Add(time.Duration(i%4) * time.Second) })
			}
		}
		order := newestFirst(dataSetCreated, dataSetID)
		for _, c := range []struct {
			origin string
			want   []resource.DataSet
		}{{"", all}, {resource.OriginOwned, owned}, {resource.OriginEntitled, entitled}} {
			want := slices.SortedFunc(slices.Values(c.want), order)
			for _, limit := range pageLimits {
				got := readAll(t, limit, func(p store.PageRequest) (store.Page[resource.DataSet], error) {
					return e.s.ListDataSets(e.ctx, account, store.DataSetFilter{Origin: c.origin}, p)
				})
				wantIDs(t, "ListDataSets origin "+c.origin, got, want, dataSetID)
				if limit == 1000 && len(got) == len(want) {
					wantEqual(t, "listed data sets", got, want, nil)
				}
			}
		}

		empty, err := e.s.ListDataSets(e.ctx, newAccountID(), store.DataSetFilter{}, store.PageRequest{Limit: 10})
		if err != nil || len(empty.Items) != 0 || empty.Next != nil {
			t.Errorf("ListDataSets of an account with none = %+v, %v; want an empty last page", empty, err)
		}
		if _, err := e.s.ListDataSets(e.ctx, account, store.DataSetFilter{}, store.PageRequest{Limit: 0}); err == nil {
			t.Error("ListDataSets with limit 0: no error")
		}
	}},
	{"DataSetsCursorSurvivesDeletes", func(t *testing.T, e *env) {
		account := newAccountID()
		var sets []resource.DataSet
		for range 6 {
			sets = append(sets, e.dataSet(account))
		}
		slices.SortFunc(sets, newestFirst(dataSetCreated, dataSetID))
		first, err := e.s.ListDataSets(e.ctx, account, store.DataSetFilter{}, store.PageRequest{Limit: 2})
		if err != nil || first.Next == nil {
			t.Fatalf("first page: %+v, %v", first, err)
		}
		// The item the cursor points at, and the one after it, go away.
		e.must(e.s.DeleteDataSet(e.ctx, account, sets[1].ID))
		e.must(e.s.DeleteDataSet(e.ctx, account, sets[2].ID))
		rest := readAll(t, 2, func(p store.PageRequest) (store.Page[resource.DataSet], error) {
			if p.After == nil {
				p.After = first.Next
			}
			return e.s.ListDataSets(e.ctx, account, store.DataSetFilter{}, p)
		})
		wantIDs(t, "pages after the deletes", rest, sets[3:], dataSetID)
	}},
	{"RevisionsNewestFirstEachOnce", func(t *testing.T, e *env) {
		d := e.dataSet(newAccountID())
		sibling, foreign := e.dataSet(d.AccountID), e.dataSet(newAccountID())
		base := e.now()
		var want []resource.Revision
		for i := range 17 {
			at := func(r *resource.Revision) { r.CreatedAt = base.Add(time.Duration(i%3) * time.Millisecond) }
			want = append(want, e.revision(d, at))
			if i%4 == 0 {
				e.revision(sibling, at)
				e.revision(foreign, at)
			}
		}
		slices.SortFunc(want, newestFirst(revisionCreated, revisionID))
		for _, limit := range pageLimits {
			got := readAll(t, limit, func(p store.PageRequest) (store.Page[resource.Revision], error) {
				return e.s.ListRevisions(e.ctx, d.AccountID, d.ID, p)
			})
			wantIDs(t, "ListRevisions", got, want, revisionID)
			if limit == 1000 {
				wantEqual(t, "listed revisions", got, want, nil)
			}
		}
		got := readAll(t, 5, func(p store.PageRequest) (store.Page[resource.Revision], error) {
			return e.s.ListRevisions(e.ctx, newAccountID(), d.ID, p)
		})
		if len(got) != 0 {
			t.Errorf("ListRevisions from another account: %d items, want none", len(got))
		}
	}},
	{"AssetsByNameDescendingEachOnce", func(t *testing.T, e *env) {
		d := e.dataSet(newAccountID())
		r, sibling := e.revision(d), e.revision(d)
		// Byte order: "Z" < "a" < "a/b" < "b" < "ä".
		names := []string{"a", "b", "ä", "Z/x", "a/b"}
		var want []resource.Asset
		for i := range 19 {
			name := func(a *resource.Asset) { a.Name = names[i%len(names)] }
			want = append(want, e.asset(r, name))
			if i%3 == 0 {
				e.asset(sibling, name)
			}
		}
		slices.SortFunc(want, func(a, b resource.Asset) int {
			if c := cmp.Compare(b.Name, a.Name); c != 0 {
				return c
			}
			return cmp.Compare(b.ID, a.ID)
		})
		for _, limit := range pageLimits {
			got := readAll(t, limit, func(p store.PageRequest) (store.Page[resource.Asset], error) {
				return e.s.ListAssets(e.ctx, r.AccountID, r.DataSetID, r.ID, p)
			})
			wantIDs(t, "ListAssets", got, want, assetID)
			if limit == 1000 {
				wantEqual(t, "listed assets", got, want, nil)
			}
		}
		for what, key := range map[string][3]string{
			"another account":  {newAccountID(), r.DataSetID, r.ID},
			"another data set": {r.AccountID, e.dataSet(r.AccountID).ID, r.ID},
		} {
			p, err := e.s.ListAssets(e.ctx, key[0], key[1], key[2], store.PageRequest{Limit: 100})
			if err != nil || len(p.Items) != 0 {
				t.Errorf("ListAssets from %s = %d items, %v; want none", what, len(p.Items), err)
			}
		}
	}},
}
