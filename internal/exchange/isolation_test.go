package exchange_test

import (
	"testing"

	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/resource"
)

// TestAccountIsolation: account B can neither see nor change account A's
// resources, and is told they don't exist.
func TestAccountIsolation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.dataSet(accountA)
	open := f.revision(accountA, d.ID)
	a := f.asset(accountA, d.ID, open.ID, "a")
	final, _ := f.finalized(accountA, d.ID)
	mustOK(t, f.svc.TagResource(f.ctx, accountA, exchange.TagResourceInput{ResourceARN: d.ARN, Tags: map[string]string{"owner": "a"}}))
	assetARN := resource.AssetARN(region, accountA, d.ID, open.ID, a.ID)

	snapshot := func() string {
		ds, err := f.svc.GetDataSet(f.ctx, accountA, exchange.GetDataSetInput{DataSetID: d.ID})
		mustOK(t, err)
		r1, err := f.svc.GetRevision(f.ctx, accountA, exchange.GetRevisionInput{DataSetID: d.ID, RevisionID: open.ID})
		mustOK(t, err)
		r2, err := f.svc.GetRevision(f.ctx, accountA, exchange.GetRevisionInput{DataSetID: d.ID, RevisionID: final.ID})
		mustOK(t, err)
		as, err := f.svc.GetAsset(f.ctx, accountA, exchange.GetAssetInput{DataSetID: d.ID, RevisionID: open.ID, AssetID: a.ID})
		mustOK(t, err)
		return fmtAll(ds, r1, r2, as)
	}
	before := snapshot()

	tests := []struct {
		name string
		call func() error
		kind resource.Kind
		id   string
	}{
		{"GetDataSet", func() error {
			_, err := f.svc.GetDataSet(f.ctx, accountB, exchange.GetDataSetInput{DataSetID: d.ID})
			return err
		}, resource.KindDataSet, d.ID},
		{"UpdateDataSet", func() error {
			_, err := f.svc.UpdateDataSet(f.ctx, accountB, exchange.UpdateDataSetInput{DataSetID: d.ID, Name: ptr("stolen")})
			return err
		}, resource.KindDataSet, d.ID},
		{"DeleteDataSet", func() error {
			return f.svc.DeleteDataSet(f.ctx, accountB, exchange.DeleteDataSetInput{DataSetID: d.ID})
		}, resource.KindDataSet, d.ID},
		{"CreateRevision", func() error {
			_, err := f.svc.CreateRevision(f.ctx, accountB, exchange.CreateRevisionInput{DataSetID: d.ID})
			return err
		}, resource.KindDataSet, d.ID},
		{"ListDataSetRevisions", func() error {
			_, err := f.svc.ListDataSetRevisions(f.ctx, accountB, exchange.ListDataSetRevisionsInput{DataSetID: d.ID})
			return err
		}, resource.KindDataSet, d.ID},
		{"GetRevision", func() error {
			_, err := f.svc.GetRevision(f.ctx, accountB, exchange.GetRevisionInput{DataSetID: d.ID, RevisionID: open.ID})
			return err
		}, resource.KindDataSet, d.ID},
		{"UpdateRevision", func() error {
			_, err := f.svc.UpdateRevision(f.ctx, accountB, exchange.UpdateRevisionInput{DataSetID: d.ID, RevisionID: final.ID, Finalized: ptr(false)})
			return err
		}, resource.KindDataSet, d.ID},
		{"RevokeRevision", func() error {
			_, err := f.svc.RevokeRevision(f.ctx, accountB, exchange.RevokeRevisionInput{DataSetID: d.ID, RevisionID: final.ID, RevocationComment: ptr("ten chars!")})
			return err
		}, resource.KindDataSet, d.ID},
		{"DeleteRevision", func() error {
			return f.svc.DeleteRevision(f.ctx, accountB, exchange.DeleteRevisionInput{DataSetID: d.ID, RevisionID: open.ID})
		}, resource.KindDataSet, d.ID},
		{"ListRevisionAssets", func() error {
			_, err := f.svc.ListRevisionAssets(f.ctx, accountB, exchange.ListRevisionAssetsInput{DataSetID: d.ID, RevisionID: open.ID})
			return err
		}, resource.KindDataSet, d.ID},
		{"GetAsset", func() error {
			_, err := f.svc.GetAsset(f.ctx, accountB, exchange.GetAssetInput{DataSetID: d.ID, RevisionID: open.ID, AssetID: a.ID})
			return err
		}, resource.KindDataSet, d.ID},
		{"UpdateAsset", func() error {
			_, err := f.svc.UpdateAsset(f.ctx, accountB, exchange.UpdateAssetInput{DataSetID: d.ID, RevisionID: open.ID, AssetID: a.ID, Name: ptr("x")})
			return err
		}, resource.KindDataSet, d.ID},
		{"DeleteAsset", func() error {
			return f.svc.DeleteAsset(f.ctx, accountB, exchange.DeleteAssetInput{DataSetID: d.ID, RevisionID: open.ID, AssetID: a.ID})
		}, resource.KindDataSet, d.ID},
		{"TagResource data set", func() error {
			return f.svc.TagResource(f.ctx, accountB, exchange.TagResourceInput{ResourceARN: d.ARN, Tags: map[string]string{"owner": "b"}})
		}, resource.KindDataSet, d.ID},
		{"TagResource asset", func() error {
			return f.svc.TagResource(f.ctx, accountB, exchange.TagResourceInput{ResourceARN: assetARN, Tags: map[string]string{"owner": "b"}})
		}, resource.KindAsset, a.ID},
		// B rewrites the ARN's account to its own: still nothing there.
		{"TagResource own-account ARN", func() error {
			return f.svc.TagResource(f.ctx, accountB, exchange.TagResourceInput{ResourceARN: resource.DataSetARN(region, accountB, d.ID), Tags: map[string]string{"owner": "b"}})
		}, resource.KindDataSet, d.ID},
		{"UntagResource", func() error {
			return f.svc.UntagResource(f.ctx, accountB, exchange.UntagResourceInput{ResourceARN: d.ARN, TagKeys: []string{"owner"}})
		}, resource.KindDataSet, d.ID},
		{"ListTagsForResource", func() error {
			_, err := f.svc.ListTagsForResource(f.ctx, accountB, exchange.ListTagsForResourceInput{ResourceARN: open.ARN})
			return err
		}, resource.KindRevision, open.ID},
	}
	t.Run("cases", func(t *testing.T) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				wantNotFound(t, tc.call(), tc.kind, tc.id)
			})
		}
	})
	if after := snapshot(); after != before {
		t.Fatalf("account B changed account A's resources:\n%s\n%s", before, after)
	}
	page, err := f.svc.ListDataSets(f.ctx, accountB, exchange.ListDataSetsInput{})
	mustOK(t, err)
	if len(page.Items) != 0 {
		t.Fatalf("account B lists %d data sets", len(page.Items))
	}
}
