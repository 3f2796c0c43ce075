package storetest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

var accountTests = []test{
	{"InsertGetList", func(t *testing.T, e *env) {
		got, err := e.s.ListAccounts(e.ctx)
		if err != nil || len(got) != 0 {
			t.Fatalf("empty store: ListAccounts = %v, %v; want none", got, err)
		}
		want := []resource.Account{
			{ID: "300000000000", CreatedAt: e.now()},
			{ID: "100000000000", CreatedAt: e.now()},
			{ID: "200000000000", CreatedAt: e.now()},
		}
		for _, a := range want {
			e.must(e.s.InsertAccount(e.ctx, a))
		}
		for _, a := range want {
			got, err := e.s.GetAccount(e.ctx, a.ID)
			wantEqual(t, "GetAccount", got, a, err)
		}
		all, err := e.s.ListAccounts(e.ctx)
		wantEqual(t, "ListAccounts (by id)", all, []resource.Account{want[1], want[2], want[0]}, err)
	}},
	{"Errors", func(t *testing.T, e *env) {
		a := e.account()
		_, err := e.s.GetAccount(e.ctx, newAccountID())
		wantErr(t, "GetAccount of a missing account", err, store.ErrNotFound)
		err = e.s.InsertAccount(e.ctx, resource.Account{ID: a.ID, CreatedAt: e.now()})
		wantErr(t, "InsertAccount twice", err, store.ErrDuplicate)
		got, err := e.s.GetAccount(e.ctx, a.ID)
		wantEqual(t, "account after the duplicate insert", got, a, err)
	}},
	{"AccessKeys", func(t *testing.T, e *env) {
		a := e.account()
		k := resource.AccessKey{
			ID:           "AKIA" + strings.ToUpper(resource.NewID()[:16]),
			AccountID:    a.ID,
			SealedSecret: []byte{0, 1, 2, 0xff, 0xfe, 'x', 0},
			CreatedAt:    e.now(),
		}
		e.must(e.s.InsertAccessKey(e.ctx, k))
		got, err := e.s.GetAccessKey(e.ctx, k.ID)
		wantEqual(t, "GetAccessKey", got, k, err)

		_, err = e.s.GetAccessKey(e.ctx, "AKIANOTTHERE")
		wantErr(t, "GetAccessKey of a missing key", err, store.ErrNotFound)
		dup := k
		dup.SealedSecret = []byte("other")
		wantErr(t, "InsertAccessKey twice", e.s.InsertAccessKey(e.ctx, dup), store.ErrDuplicate)
		got, err = e.s.GetAccessKey(e.ctx, k.ID)
		wantEqual(t, "key after the duplicate insert", got, k, err)

		orphan := resource.AccessKey{ID: "AKIAORPHAN", AccountID: newAccountID(), SealedSecret: []byte("s"), CreatedAt: e.now()}
		wantErr(t, "InsertAccessKey for a missing account", e.s.InsertAccessKey(e.ctx, orphan), store.ErrNotFound)
	}},
}

var dataSetTests = []test{
	{"RoundTrip", func(t *testing.T, e *env) {
		account := newAccountID()
		cases := []resource.DataSet{
			e.newDataSet(account),
			func() resource.DataSet {
				d := e.newDataSet(account)
				d.Origin = resource.OriginEntitled
				d.OriginDetails = &resource.OriginDetails{ProductID: "prod-abc"}
				d.SourceID = resource.NewID()
				return d
			}(),
			func() resource.DataSet {
				d := e.newDataSet(account)
				d.Origin = resource.OriginEntitled
				d.OriginDetails = &resource.OriginDetails{DataGrantID: resource.NewID()}
				d.Name = "Ünïcødé ✓ 'quotes' \"double\" ; DROP TABLE data_sets; --"
				d.Description = strings.Repeat("long description ", 1000)
				d.AssetType = resource.AssetTypeAPIGatewayAPI
				return d
			}(),
			func() resource.DataSet {
				d := e.newDataSet(account)
				d.OriginDetails = &resource.OriginDetails{} // present but empty stays present
				d.Description = ""
				d.UpdatedAt = d.CreatedAt.Add(time.Hour)
				return d
			}(),
		}
		for _, d := range cases {
			e.must(e.s.InsertDataSet(e.ctx, d))
			got, err := e.s.GetDataSet(e.ctx, d.AccountID, d.ID)
			wantEqual(t, "GetDataSet", got, d, err)
		}
	}},
	{"TimestampsComeBackUTC", func(t *testing.T, e *env) {
		d := e.newDataSet(newAccountID())
		d.CreatedAt = time.Date(2023, 12, 31, 23, 59, 59, 999_000_000, time.FixedZone("east", 5*3600))
		d.UpdatedAt = time.UnixMilli(-1).UTC() // before 1970 too
		e.must(e.s.InsertDataSet(e.ctx, d))
		got, err := e.s.GetDataSet(e.ctx, d.AccountID, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.CreatedAt.Location() != time.UTC || !got.CreatedAt.Equal(d.CreatedAt) || !got.UpdatedAt.Equal(d.UpdatedAt) {
			t.Errorf("times: got %v, %v; want %v, %v in UTC", got.CreatedAt, got.UpdatedAt, d.CreatedAt, d.UpdatedAt)
		}
	}},
	{"Duplicate", func(t *testing.T, e *env) {
		d := e.dataSet(newAccountID())
		again := e.newDataSet(d.AccountID)
		again.ID = d.ID
		wantErr(t, "same id, same account", e.s.InsertDataSet(e.ctx, again), store.ErrDuplicate)
		again.AccountID = newAccountID()
		wantErr(t, "same id, another account", e.s.InsertDataSet(e.ctx, again), store.ErrDuplicate)
		got, err := e.s.GetDataSet(e.ctx, d.AccountID, d.ID)
		wantEqual(t, "original after duplicates", got, d, err)
	}},
	{"ScopedToAccount", func(t *testing.T, e *env) {
		d := e.dataSet(newAccountID())
		_, err := e.s.GetDataSet(e.ctx, newAccountID(), d.ID)
		wantErr(t, "GetDataSet from another account", err, store.ErrNotFound)
		_, err = e.s.GetDataSet(e.ctx, d.AccountID, resource.NewID())
		wantErr(t, "GetDataSet of a missing id", err, store.ErrNotFound)
	}},
	{"Update", func(t *testing.T, e *env) {
		d := e.dataSet(newAccountID(), func(d *resource.DataSet) {
			d.OriginDetails = &resource.OriginDetails{ProductID: "p"}
			d.SourceID = "src"
		})
		other := e.dataSet(newAccountID())

		change := d
		change.Name, change.Description, change.UpdatedAt = "renamed", "described", e.now()
		// Only Name, Description and UpdatedAt are written.
		change.AssetType, change.Origin, change.OriginDetails = resource.AssetTypeS3DataAccess, resource.OriginEntitled, nil
		change.SourceID, change.CreatedAt = "other-source", e.now()
		e.must(e.s.UpdateDataSet(e.ctx, change))
		want := d
		want.Name, want.Description, want.UpdatedAt = change.Name, change.Description, change.UpdatedAt
		got, err := e.s.GetDataSet(e.ctx, d.AccountID, d.ID)
		wantEqual(t, "after UpdateDataSet", got, want, err)

		foreign := other
		foreign.AccountID, foreign.Name = d.AccountID, "hijacked"
		wantErr(t, "UpdateDataSet of another account's data set", e.s.UpdateDataSet(e.ctx, foreign), store.ErrNotFound)
		got, err = e.s.GetDataSet(e.ctx, other.AccountID, other.ID)
		wantEqual(t, "the other account's data set", got, other, err)
		missing := e.newDataSet(d.AccountID)
		wantErr(t, "UpdateDataSet of a missing data set", e.s.UpdateDataSet(e.ctx, missing), store.ErrNotFound)
	}},
	{"Delete", func(t *testing.T, e *env) {
		account := newAccountID()
		doomed, sibling, foreign := e.tree(account), e.tree(account), e.tree(newAccountID())

		wantErr(t, "DeleteDataSet from another account",
			e.s.DeleteDataSet(e.ctx, account, foreign.dataSet.ID), store.ErrNotFound)
		e.wantIntact(foreign)

		e.must(e.s.DeleteDataSet(e.ctx, account, doomed.dataSet.ID))
		_, err := e.s.GetDataSet(e.ctx, account, doomed.dataSet.ID)
		wantErr(t, "GetDataSet after delete", err, store.ErrNotFound)
		for _, r := range doomed.revisions {
			_, err := e.s.GetRevision(e.ctx, account, r.DataSetID, r.ID)
			wantErr(t, "GetRevision after its data set's delete", err, store.ErrNotFound)
		}
		for _, a := range doomed.assets {
			_, err := e.s.GetAsset(e.ctx, account, a.DataSetID, a.RevisionID, a.ID)
			wantErr(t, "GetAsset after its data set's delete", err, store.ErrNotFound)
		}
		e.wantNoTags(doomed.ids()...)
		if n, err := e.s.CountRevisions(e.ctx, account, doomed.dataSet.ID); err != nil || n != 0 {
			t.Errorf("CountRevisions after delete = %d, %v; want 0", n, err)
		}
		wantErr(t, "DeleteDataSet twice", e.s.DeleteDataSet(e.ctx, account, doomed.dataSet.ID), store.ErrNotFound)

		e.wantIntact(sibling)
		e.wantIntact(foreign)
	}},
}

var dataSetCountTests = []test{
	{"Count", func(t *testing.T, e *env) {
		account := newAccountID()
		for i := range 5 {
			e.dataSet(account, func(d *resource.DataSet) {
				if i%2 == 0 {
					d.Origin = resource.OriginEntitled
				}
			})
		}
		e.dataSet(newAccountID())
		for _, c := range []struct {
			account, origin string
			want            int
		}{
			{account, "", 5},
			{account, resource.OriginEntitled, 3},
			{account, resource.OriginOwned, 2},
			{newAccountID(), "", 0},
		} {
			n, err := e.s.CountDataSets(e.ctx, c.account, store.DataSetFilter{Origin: c.origin})
			wantEqual(t, "CountDataSets origin "+c.origin, n, c.want, err)
		}
	}},
}

var revisionTests = []test{
	{"RoundTrip", func(t *testing.T, e *env) {
		d := e.dataSet(newAccountID())
		revokedAt := e.now()
		cases := []resource.Revision{
			e.newRevision(d),
			func() resource.Revision {
				r := e.newRevision(d)
				r.Comment, r.Finalized, r.SourceID = "", true, resource.NewID()
				return r
			}(),
			func() resource.Revision {
				r := e.newRevision(d)
				r.Finalized, r.Revoked, r.RevocationComment, r.RevokedAt = true, true, "revoked for a reason", &revokedAt
				return r
			}(),
		}
		for _, r := range cases {
			e.must(e.s.InsertRevision(e.ctx, r))
			got, err := e.s.GetRevision(e.ctx, r.AccountID, r.DataSetID, r.ID)
			wantEqual(t, "GetRevision", got, r, err)
		}
	}},
	{"InsertNeedsItsDataSetInTheSameAccount", func(t *testing.T, e *env) {
		d := e.dataSet(newAccountID())
		r := e.newRevision(d)
		r.DataSetID = resource.NewID()
		wantErr(t, "InsertRevision into a missing data set", e.s.InsertRevision(e.ctx, r), store.ErrNotFound)
		r = e.newRevision(d)
		r.AccountID = newAccountID()
		wantErr(t, "InsertRevision into another account's data set", e.s.InsertRevision(e.ctx, r), store.ErrNotFound)
		if n, err := e.s.CountRevisions(e.ctx, d.AccountID, d.ID); err != nil || n != 0 {
			t.Errorf("CountRevisions = %d, %v; want 0", n, err)
		}
	}},
	{"Duplicate", func(t *testing.T, e *env) {
		d := e.dataSet(newAccountID())
		r := e.revision(d)
		again := e.newRevision(e.dataSet(d.AccountID))
		again.ID = r.ID
		wantErr(t, "InsertRevision with an existing id", e.s.InsertRevision(e.ctx, again), store.ErrDuplicate)
	}},
	{"ScopedToAccountAndDataSet", func(t *testing.T, e *env) {
		d := e.dataSet(newAccountID())
		r := e.revision(d)
		otherSet := e.dataSet(d.AccountID)
		_, err := e.s.GetRevision(e.ctx, newAccountID(), d.ID, r.ID)
		wantErr(t, "GetRevision from another account", err, store.ErrNotFound)
		_, err = e.s.GetRevision(e.ctx, d.AccountID, otherSet.ID, r.ID)
		wantErr(t, "GetRevision under another data set", err, store.ErrNotFound)
		_, err = e.s.GetRevision(e.ctx, d.AccountID, d.ID, resource.NewID())
		wantErr(t, "GetRevision of a missing id", err, store.ErrNotFound)
	}},
	{"Update", func(t *testing.T, e *env) {
		d := e.dataSet(newAccountID())
		r := e.revision(d, func(r *resource.Revision) { r.SourceID = "src" })
		revokedAt := e.now()

		change := r
		change.Comment, change.Finalized, change.Revoked = "changed", true, true
		change.RevocationComment, change.RevokedAt, change.UpdatedAt = "no longer valid", &revokedAt, e.now()
		change.SourceID, change.CreatedAt = "ignored", e.now() // not written
		e.must(e.s.UpdateRevision(e.ctx, change))
		want := change
		want.SourceID, want.CreatedAt = r.SourceID, r.CreatedAt
		got, err := e.s.GetRevision(e.ctx, r.AccountID, r.DataSetID, r.ID)
		wantEqual(t, "after UpdateRevision", got, want, err)

		// Back to unset, RevokedAt included.
		e.must(e.s.UpdateRevision(e.ctx, r))
		got, err = e.s.GetRevision(e.ctx, r.AccountID, r.DataSetID, r.ID)
		wantEqual(t, "after undoing the update", got, r, err)

		foreign := r
		foreign.AccountID, foreign.Comment = newAccountID(), "hijacked"
		wantErr(t, "UpdateRevision from another account", e.s.UpdateRevision(e.ctx, foreign), store.ErrNotFound)
		foreign = r
		foreign.DataSetID, foreign.Comment = e.dataSet(r.AccountID).ID, "hijacked"
		wantErr(t, "UpdateRevision under another data set", e.s.UpdateRevision(e.ctx, foreign), store.ErrNotFound)
		got, err = e.s.GetRevision(e.ctx, r.AccountID, r.DataSetID, r.ID)
		wantEqual(t, "after refused updates", got, r, err)
	}},
	{"Delete", func(t *testing.T, e *env) {
		account := newAccountID()
		tr, foreign := e.tree(account), e.tree(newAccountID())
		doomed, kept := tr.revisions[0], tr.revisions[1]

		wantErr(t, "DeleteRevision from another account",
			e.s.DeleteRevision(e.ctx, account, foreign.dataSet.ID, foreign.revisions[0].ID), store.ErrNotFound)
		wantErr(t, "DeleteRevision under another data set",
			e.s.DeleteRevision(e.ctx, account, e.dataSet(account).ID, doomed.ID), store.ErrNotFound)
		e.wantIntact(foreign)
		e.wantIntact(tr)

		e.must(e.s.DeleteRevision(e.ctx, account, doomed.DataSetID, doomed.ID))
		_, err := e.s.GetRevision(e.ctx, account, doomed.DataSetID, doomed.ID)
		wantErr(t, "GetRevision after delete", err, store.ErrNotFound)
		for _, a := range tr.assets[:2] {
			_, err := e.s.GetAsset(e.ctx, account, a.DataSetID, a.RevisionID, a.ID)
			wantErr(t, "GetAsset after its revision's delete", err, store.ErrNotFound)
		}
		e.wantNoTags(doomed.ID, tr.assets[0].ID, tr.assets[1].ID)
		wantErr(t, "DeleteRevision twice", e.s.DeleteRevision(e.ctx, account, doomed.DataSetID, doomed.ID), store.ErrNotFound)

		rest := tr
		rest.revisions, rest.assets = []resource.Revision{kept}, tr.assets[2:]
		e.wantIntact(rest) // the data set, the other revision, their tags
		e.wantIntact(foreign)
	}},
	{"Count", func(t *testing.T, e *env) {
		d, other := e.dataSet(newAccountID()), e.dataSet(newAccountID())
		for range 3 {
			e.revision(d)
		}
		e.revision(other)
		for _, c := range []struct {
			account, dataSet string
			want             int
		}{
			{d.AccountID, d.ID, 3},
			{other.AccountID, other.ID, 1},
			{d.AccountID, other.ID, 0},
			{d.AccountID, resource.NewID(), 0},
		} {
			if n, err := e.s.CountRevisions(e.ctx, c.account, c.dataSet); err != nil || n != c.want {
				t.Errorf("CountRevisions(%s, %s) = %d, %v; want %d", c.account, c.dataSet, n, err, c.want)
			}
		}
	}},
}

var assetTests = []test{
	{"RoundTrip", func(t *testing.T, e *env) {
		r := e.revision(e.dataSet(newAccountID()))
		cases := []resource.Asset{
			e.newAsset(r),
			func() resource.Asset {
				a := e.newAsset(r)
				// Whitespace, key order and number spelling come back as stored.
				a.Details = json.RawMessage("{ \"S3SnapshotAsset\" :\n\t{\"Size\": 9.4230e3, \"b\":1, \"a\":2} }")
				a.Name = "dir/ünïcødé name.parquet"
				a.SourceID = resource.NewID()
				return a
			}(),
			func() resource.Asset {
				a := e.newAsset(r)
				a.AssetType = resource.AssetTypeAPIGatewayAPI
				a.Details = json.RawMessage(`{"ApiGatewayApiAsset":{"ApiId":"abc","ApiSpecificationDownloadUrlExpiresAt":"2024-01-01T00:00:00.000Z"}}`)
				return a
			}(),
		}
		for _, a := range cases {
			e.must(e.s.InsertAsset(e.ctx, a))
			got, err := e.s.GetAsset(e.ctx, a.AccountID, a.DataSetID, a.RevisionID, a.ID)
			wantEqual(t, "GetAsset", got, a, err)
			if string(got.Details) != string(a.Details) {
				t.Errorf("details: got %q, want %q", got.Details, a.Details)
			}
		}
	}},
	{"InsertNeedsItsRevisionInTheSameAccountAndDataSet", func(t *testing.T, e *env) {
		r := e.revision(e.dataSet(newAccountID()))
		for what, edit := range map[string]func(*resource.Asset){
			"missing revision":            func(a *resource.Asset) { a.RevisionID = resource.NewID() },
			"revision under another set":  func(a *resource.Asset) { a.DataSetID = e.dataSet(r.AccountID).ID },
			"revision of another account": func(a *resource.Asset) { a.AccountID = newAccountID() },
		} {
			a := e.newAsset(r)
			edit(&a)
			wantErr(t, "InsertAsset into a "+what, e.s.InsertAsset(e.ctx, a), store.ErrNotFound)
		}
		if n, err := e.s.CountAssets(e.ctx, r.AccountID, r.DataSetID, r.ID); err != nil || n != 0 {
			t.Errorf("CountAssets = %d, %v; want 0", n, err)
		}
	}},
	{"Duplicate", func(t *testing.T, e *env) {
		r := e.revision(e.dataSet(newAccountID()))
		a := e.asset(r)
		again := e.newAsset(e.revision(e.dataSet(r.AccountID)))
		again.ID = a.ID
		wantErr(t, "InsertAsset with an existing id", e.s.InsertAsset(e.ctx, again), store.ErrDuplicate)
		// Two assets may share a name.
		e.asset(r, func(b *resource.Asset) { b.Name = a.Name })
	}},
	{"ScopedToAccountDataSetAndRevision", func(t *testing.T, e *env) {
		r := e.revision(e.dataSet(newAccountID()))
		a := e.asset(r)
		otherRevision := e.revision(e.dataSet(r.AccountID))
		for what, key := range map[string][4]string{
			"another account":    {newAccountID(), a.DataSetID, a.RevisionID, a.ID},
			"another data set":   {a.AccountID, otherRevision.DataSetID, a.RevisionID, a.ID},
			"another revision":   {a.AccountID, a.DataSetID, otherRevision.ID, a.ID},
			"both other parents": {a.AccountID, otherRevision.DataSetID, otherRevision.ID, a.ID},
			"a missing id":       {a.AccountID, a.DataSetID, a.RevisionID, resource.NewID()},
		} {
			_, err := e.s.GetAsset(e.ctx, key[0], key[1], key[2], key[3])
			wantErr(t, "GetAsset from "+what, err, store.ErrNotFound)
			wantErr(t, "DeleteAsset from "+what, e.s.DeleteAsset(e.ctx, key[0], key[1], key[2], key[3]), store.ErrNotFound)
		}
		got, err := e.s.GetAsset(e.ctx, a.AccountID, a.DataSetID, a.RevisionID, a.ID)
		wantEqual(t, "asset after refused deletes", got, a, err)
	}},
	{"Update", func(t *testing.T, e *env) {
		r := e.revision(e.dataSet(newAccountID()))
		a := e.asset(r, func(a *resource.Asset) { a.SourceID = "src" })
		change := a
		change.Name, change.UpdatedAt = "renamed.csv", e.now()
		change.AssetType, change.Details, change.SourceID, change.CreatedAt = "X", json.RawMessage(`{}`), "x", e.now()
		e.must(e.s.UpdateAsset(e.ctx, change))
		want := a
		want.Name, want.UpdatedAt = change.Name, change.UpdatedAt
		got, err := e.s.GetAsset(e.ctx, a.AccountID, a.DataSetID, a.RevisionID, a.ID)
		wantEqual(t, "after UpdateAsset", got, want, err)

		foreign := want
		foreign.AccountID, foreign.Name = newAccountID(), "hijacked"
		wantErr(t, "UpdateAsset from another account", e.s.UpdateAsset(e.ctx, foreign), store.ErrNotFound)
		foreign = want
		foreign.RevisionID, foreign.Name = e.revision(e.dataSet(a.AccountID)).ID, "hijacked"
		wantErr(t, "UpdateAsset under another revision", e.s.UpdateAsset(e.ctx, foreign), store.ErrNotFound)
		got, err = e.s.GetAsset(e.ctx, a.AccountID, a.DataSetID, a.RevisionID, a.ID)
		wantEqual(t, "after refused updates", got, want, err)
	}},
	{"Delete", func(t *testing.T, e *env) {
		tr := e.tree(newAccountID())
		doomed := tr.assets[0]
		e.must(e.s.DeleteAsset(e.ctx, doomed.AccountID, doomed.DataSetID, doomed.RevisionID, doomed.ID))
		_, err := e.s.GetAsset(e.ctx, doomed.AccountID, doomed.DataSetID, doomed.RevisionID, doomed.ID)
		wantErr(t, "GetAsset after delete", err, store.ErrNotFound)
		e.wantNoTags(doomed.ID)
		wantErr(t, "DeleteAsset twice",
			e.s.DeleteAsset(e.ctx, doomed.AccountID, doomed.DataSetID, doomed.RevisionID, doomed.ID), store.ErrNotFound)
		rest := tr
		rest.assets = tr.assets[1:]
		e.wantIntact(rest)
	}},
	{"Count", func(t *testing.T, e *env) {
		d := e.dataSet(newAccountID())
		r1, r2 := e.revision(d), e.revision(d)
		for range 3 {
			e.asset(r1)
		}
		e.asset(r2)
		for _, c := range []struct {
			account, dataSet, revision string
			want                       int
		}{
			{d.AccountID, d.ID, r1.ID, 3},
			{d.AccountID, d.ID, r2.ID, 1},
			{newAccountID(), d.ID, r1.ID, 0},
			{d.AccountID, resource.NewID(), r1.ID, 0},
		} {
			if n, err := e.s.CountAssets(e.ctx, c.account, c.dataSet, c.revision); err != nil || n != c.want {
				t.Errorf("CountAssets(%s, %s, %s) = %d, %v; want %d", c.account, c.dataSet, c.revision, n, err, c.want)
			}
		}
	}},
}
