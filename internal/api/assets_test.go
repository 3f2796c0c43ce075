package api_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"

	"github.com/wharf-dev/wharf/internal/resource"
)

func TestAssetOperations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ds := e.dataSet(e.a)
	dsID := aws.ToString(ds.Id)
	rev := e.revision(e.a, dsID)
	revID := aws.ToString(rev.Id)
	a := e.asset(accountA, dsID, revID, "data/a.csv")
	d, r, id := ds.Id, rev.Id, aws.String(a.ID)
	if _, err := e.a.TagResource(e.ctx, &dataexchange.TagResourceInput{
		ResourceArn: aws.String(resource.AssetARN(region, accountA, dsID, revID, a.ID)), Tags: map[string]string{"k": "v"},
	}); err != nil {
		t.Fatalf("TagResource: %v", err)
	}
	got, err := e.a.GetAsset(e.ctx, &dataexchange.GetAssetInput{DataSetId: d, RevisionId: r, AssetId: id})
	if err != nil {
		t.Fatalf("GetAsset: %v", err)
	}
	if aws.ToString(got.Arn) != resource.AssetARN(region, accountA, dsID, revID, a.ID) || aws.ToString(got.Name) != "data/a.csv" ||
		got.AssetType != types.AssetTypeS3Snapshot || got.AssetDetails == nil || got.AssetDetails.S3SnapshotAsset == nil ||
		got.AssetDetails.S3SnapshotAsset.Size != 123 || got.Tags["k"] != "v" ||
		aws.ToString(got.DataSetId) != dsID || aws.ToString(got.RevisionId) != revID || !got.CreatedAt.Equal(a.CreatedAt) {
		t.Fatalf("GetAsset returned %+v", got)
	}

	renamed, err := e.a.UpdateAsset(e.ctx, &dataexchange.UpdateAssetInput{DataSetId: d, RevisionId: r, AssetId: id, Name: aws.String("b.csv")})
	if err != nil || aws.ToString(renamed.Name) != "b.csv" || !renamed.UpdatedAt.After(a.UpdatedAt) || renamed.AssetDetails == nil {
		t.Fatalf("UpdateAsset %+v %v", renamed, err)
	}
	_, err = e.a.UpdateAsset(e.ctx, &dataexchange.UpdateAssetInput{DataSetId: d, RevisionId: r, AssetId: id, Name: aws.String("")})
	wantTyped[*types.ValidationException](t, err)

	// Assets of a finalized revision are read-only.
	e.finalize(e.a, dsID, revID)
	_, err = e.a.UpdateAsset(e.ctx, &dataexchange.UpdateAssetInput{DataSetId: d, RevisionId: r, AssetId: id, Name: aws.String("c.csv")})
	conflict := wantTyped[*types.ConflictException](t, err)
	if aws.ToString(conflict.ResourceId) != revID || conflict.ResourceType != types.ResourceTypeRevision {
		t.Fatalf("conflict names %s %s", conflict.ResourceType, aws.ToString(conflict.ResourceId))
	}
	_, err = e.a.DeleteAsset(e.ctx, &dataexchange.DeleteAssetInput{DataSetId: d, RevisionId: r, AssetId: id})
	wantTyped[*types.ConflictException](t, err)

	if _, err := e.a.UpdateRevision(e.ctx, &dataexchange.UpdateRevisionInput{DataSetId: d, RevisionId: r, Finalized: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.DeleteAsset(e.ctx, &dataexchange.DeleteAssetInput{DataSetId: d, RevisionId: r, AssetId: id}); err != nil {
		t.Fatalf("DeleteAsset: %v", err)
	}
	_, err = e.a.GetAsset(e.ctx, &dataexchange.GetAssetInput{DataSetId: d, RevisionId: r, AssetId: id})
	nf := wantTyped[*types.ResourceNotFoundException](t, err)
	if aws.ToString(nf.ResourceId) != a.ID || nf.ResourceType != types.ResourceTypeAsset {
		t.Fatalf("not found names %s %s", nf.ResourceType, aws.ToString(nf.ResourceId))
	}
	_, err = e.a.DeleteAsset(e.ctx, &dataexchange.DeleteAssetInput{DataSetId: d, RevisionId: r, AssetId: id})
	wantTyped[*types.ResourceNotFoundException](t, err)
}

func TestListRevisionAssetsPaginates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ds := e.dataSet(e.a)
	dsID := aws.ToString(ds.Id)
	rev := e.revision(e.a, dsID)
	want := map[string]bool{}
	for _, name := range []string{"a", "b", "b", "c", "d", "e", "f", "g"} {
		want[e.asset(accountA, dsID, aws.ToString(rev.Id), name).ID] = true
	}
	e.asset(accountA, dsID, aws.ToString(e.revision(e.a, dsID).Id), "other")
	seen := map[string]bool{}
	var last string
	p := dataexchange.NewListRevisionAssetsPaginator(e.a, &dataexchange.ListRevisionAssetsInput{DataSetId: ds.Id, RevisionId: rev.Id, MaxResults: 3})
	for p.HasMorePages() {
		page, err := p.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.Assets {
			id := aws.ToString(a.Id)
			if !want[id] || seen[id] {
				t.Fatalf("asset %s listed twice or not in the revision", id)
			}
			seen[id] = true
			if last != "" && aws.ToString(a.Name) > last {
				t.Fatalf("not sorted by name descending: %q after %q", aws.ToString(a.Name), last)
			}
			last = aws.ToString(a.Name)
			if a.AssetDetails == nil || a.AssetDetails.S3SnapshotAsset == nil || a.Arn == nil {
				t.Fatalf("entry %+v", a)
			}
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("listed %d of %d", len(seen), len(want))
	}
	_, err := e.a.ListRevisionAssets(e.ctx, &dataexchange.ListRevisionAssetsInput{DataSetId: ds.Id, RevisionId: aws.String(resource.NewID())})
	nf := wantTyped[*types.ResourceNotFoundException](t, err)
	if nf.ResourceType != types.ResourceTypeRevision {
		t.Fatalf("not found names %s", nf.ResourceType)
	}
}
