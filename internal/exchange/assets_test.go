package exchange_test

import (
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
)

func TestAssetRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.dataSet(accountA)
	open := f.revision(accountA, d.ID)
	a := f.asset(accountA, d.ID, open.ID, "a.csv")
	assetIn := exchange.GetAssetInput{DataSetID: d.ID, RevisionID: open.ID, AssetID: a.ID}

	got, err := f.svc.GetAsset(f.ctx, accountA, assetIn)
	mustOK(t, err)
	if string(got.Details) != `{"S3SnapshotAsset":{"Size":123}}` || got.Name != "a.csv" || got.Tags == nil {
		t.Fatalf("get %+v", got)
	}
	if want := resource.AssetARN(region, accountA, d.ID, open.ID, a.ID); got.ARN != want {
		t.Fatalf("ARN %s, want %s", got.ARN, want)
	}

	rename := func(revisionID, assetID string, name *string) (exchange.AssetView, error) {
		return f.svc.UpdateAsset(f.ctx, accountA, exchange.UpdateAssetInput{DataSetID: d.ID, RevisionID: revisionID, AssetID: assetID, Name: name})
	}
	for _, name := range []*string{nil, ptr(""), ptr(strings.Repeat("n", 1025))} {
		_, err := rename(open.ID, a.ID, name)
		wantFault(t, err, fault.Validation, "Name")
	}
	renamed, err := rename(open.ID, a.ID, ptr(strings.Repeat("n", 1024)))
	mustOK(t, err)
	if renamed.Name != strings.Repeat("n", 1024) || !renamed.UpdatedAt.After(a.UpdatedAt) || renamed.Tags != nil {
		t.Fatalf("renamed %+v", renamed)
	}
	missing := resource.NewID()
	_, err = rename(open.ID, missing, ptr("x"))
	wantNotFound(t, err, resource.KindAsset, missing)

	// A finalized revision's assets are read-only.
	final, fa := f.finalized(accountA, d.ID)
	_, err = rename(final.ID, fa.ID, ptr("x"))
	fe := wantFault(t, err, fault.Conflict, "finalized")
	if fe.ResourceType != resource.KindRevision || fe.ResourceID != final.ID {
		t.Fatalf("conflict names %s %s", fe.ResourceType, fe.ResourceID)
	}
	err = f.svc.DeleteAsset(f.ctx, accountA, exchange.DeleteAssetInput{DataSetID: d.ID, RevisionID: final.ID, AssetID: fa.ID})
	wantFault(t, err, fault.Conflict, "finalized")
	if stored, _ := f.st.GetAsset(f.ctx, accountA, d.ID, final.ID, fa.ID); stored.Name != "data.csv" {
		t.Fatalf("refused changes changed the asset: %+v", stored)
	}

	// Revoking withdraws the data: the assets may then be deleted, not renamed.
	_, err = f.svc.RevokeRevision(f.ctx, accountA, exchange.RevokeRevisionInput{DataSetID: d.ID, RevisionID: final.ID, RevocationComment: ptr("withdrawn for good")})
	mustOK(t, err)
	_, err = rename(final.ID, fa.ID, ptr("x"))
	wantFault(t, err, fault.Conflict, "")
	mustOK(t, f.svc.DeleteAsset(f.ctx, accountA, exchange.DeleteAssetInput{DataSetID: d.ID, RevisionID: final.ID, AssetID: fa.ID}))

	mustOK(t, f.svc.TagResource(f.ctx, accountA, exchange.TagResourceInput{ResourceARN: got.ARN, Tags: map[string]string{"k": "v"}}))
	mustOK(t, f.svc.DeleteAsset(f.ctx, accountA, exchange.DeleteAssetInput{DataSetID: d.ID, RevisionID: open.ID, AssetID: a.ID}))
	_, err = f.svc.GetAsset(f.ctx, accountA, assetIn)
	wantNotFound(t, err, resource.KindAsset, a.ID)
	if tags, _ := f.st.GetTags(f.ctx, a.ID); len(tags) != 0 {
		t.Fatalf("tags survived: %v", tags)
	}
	err = f.svc.DeleteAsset(f.ctx, accountA, exchange.DeleteAssetInput{DataSetID: d.ID, RevisionID: open.ID, AssetID: a.ID})
	wantNotFound(t, err, resource.KindAsset, a.ID)
}

// TestNotFoundNamesTheMissingResource: the innermost missing resource of a
// path is the one reported.
func TestNotFoundNamesTheMissingResource(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.dataSet(accountA)
	r := f.revision(accountA, d.ID)
	a := f.asset(accountA, d.ID, r.ID, "a")
	noDS, noRev, noAsset := resource.NewID(), resource.NewID(), resource.NewID()
	tests := []struct {
		name          string
		ds, rev, asst string
		kind          resource.Kind
		id            string
	}{
		{"data set", noDS, r.ID, a.ID, resource.KindDataSet, noDS},
		{"revision", d.ID, noRev, a.ID, resource.KindRevision, noRev},
		{"asset", d.ID, r.ID, noAsset, resource.KindAsset, noAsset},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := f.svc.GetAsset(f.ctx, accountA, exchange.GetAssetInput{DataSetID: tc.ds, RevisionID: tc.rev, AssetID: tc.asst})
			wantNotFound(t, err, tc.kind, tc.id)
			if tc.kind != resource.KindAsset {
				_, err = f.svc.ListRevisionAssets(f.ctx, accountA, exchange.ListRevisionAssetsInput{DataSetID: tc.ds, RevisionID: tc.rev})
				wantNotFound(t, err, tc.kind, tc.id)
				_, err = f.svc.GetRevision(f.ctx, accountA, exchange.GetRevisionInput{DataSetID: tc.ds, RevisionID: tc.rev})
				wantNotFound(t, err, tc.kind, tc.id)
			}
		})
	}
}

func TestListRevisionAssets(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.dataSet(accountA)
	r := f.revision(accountA, d.ID)
	names := []string{"b", "a", "c", "a", "e", "d", "f"}
	want := map[string]bool{}
	for _, n := range names {
		want[f.asset(accountA, d.ID, r.ID, n).ID] = true
	}
	other := f.revision(accountA, d.ID)
	f.asset(accountA, d.ID, other.ID, "z")

	in := exchange.ListRevisionAssetsInput{DataSetID: d.ID, RevisionID: r.ID, PageInput: exchange.PageInput{MaxResults: ptr(3)}}
	var listed []exchange.AssetView
	for {
		page, err := f.svc.ListRevisionAssets(f.ctx, accountA, in)
		mustOK(t, err)
		listed = append(listed, page.Items...)
		if page.NextToken == "" {
			break
		}
		in.NextToken = page.NextToken
	}
	if len(listed) != len(names) {
		t.Fatalf("listed %d assets, want %d", len(listed), len(names))
	}
	for i, a := range listed {
		if !want[a.ID] {
			t.Fatalf("asset %s listed twice or not in the revision", a.ID)
		}
		delete(want, a.ID)
		if i > 0 && a.Name > listed[i-1].Name {
			t.Fatalf("not sorted by name descending: %q after %q", a.Name, listed[i-1].Name)
		}
		if a.Tags != nil || string(a.Details) == "" {
			t.Fatalf("entry %+v", a)
		}
	}
}
