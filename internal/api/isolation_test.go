package api_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/aws/smithy-go"

	"github.com/wharf-dev/wharf/internal/resource"
)

// TestAccountIsolation: account B can't see, change or tag account A's
// resources; it is told they don't exist, and nothing of A's changes.
func TestAccountIsolation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ds := e.dataSet(e.a)
	dsID := aws.ToString(ds.Id)
	open := e.revision(e.a, dsID)
	a := e.asset(accountA, dsID, aws.ToString(open.Id), "a")
	final := e.revision(e.a, dsID)
	e.asset(accountA, dsID, aws.ToString(final.Id), "f")
	e.finalize(e.a, dsID, aws.ToString(final.Id))
	if _, err := e.a.TagResource(e.ctx, &dataexchange.TagResourceInput{ResourceArn: ds.Arn, Tags: map[string]string{"owner": "a"}}); err != nil {
		t.Fatal(err)
	}
	assetARN := resource.AssetARN(region, accountA, dsID, aws.ToString(open.Id), a.ID)
	assetID := aws.String(a.ID)

	// ResultMetadata has no exported fields, so the JSON holds exactly
	// what the server returned about A's resources.
	snapshot := func() string {
		t.Helper()
		d, err1 := e.a.GetDataSet(e.ctx, &dataexchange.GetDataSetInput{DataSetId: ds.Id})
		r1, err2 := e.a.GetRevision(e.ctx, &dataexchange.GetRevisionInput{DataSetId: ds.Id, RevisionId: open.Id})
		r2, err3 := e.a.GetRevision(e.ctx, &dataexchange.GetRevisionInput{DataSetId: ds.Id, RevisionId: final.Id})
		as, err4 := e.a.GetAsset(e.ctx, &dataexchange.GetAssetInput{DataSetId: ds.Id, RevisionId: open.Id, AssetId: assetID})
		for _, err := range []error{err1, err2, err3, err4} {
			if err != nil {
				t.Fatalf("A reads its own resources: %v", err)
			}
		}
		b, _ := json.Marshal([]any{d, r1, r2, as})
		return string(b)
	}
	before := snapshot()

	notFound := func(name string, err error, kind types.ResourceType, id string) {
		t.Helper()
		nf := wantTyped[*types.ResourceNotFoundException](t, err)
		if nf.ResourceType != kind || aws.ToString(nf.ResourceId) != id {
			t.Errorf("%s: not found names %s %s, want %s %s", name, nf.ResourceType, aws.ToString(nf.ResourceId), kind, id)
		}
	}
	// Tag operations model no errors: the SDK's error is generic.
	generic := func(name string, err error) {
		t.Helper()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "ResourceNotFoundException" {
			t.Errorf("%s: got %v, want ResourceNotFoundException", name, err)
		}
	}
	b, ctx := e.b, e.ctx
	var err error
	_, err = b.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: ds.Id})
	notFound("GetDataSet", err, types.ResourceTypeDataSet, dsID)
	_, err = b.UpdateDataSet(ctx, &dataexchange.UpdateDataSetInput{DataSetId: ds.Id, Name: aws.String("mine")})
	notFound("UpdateDataSet", err, types.ResourceTypeDataSet, dsID)
	_, err = b.DeleteDataSet(ctx, &dataexchange.DeleteDataSetInput{DataSetId: ds.Id})
	notFound("DeleteDataSet", err, types.ResourceTypeDataSet, dsID)
	_, err = b.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: ds.Id})
	notFound("CreateRevision", err, types.ResourceTypeDataSet, dsID)
	_, err = b.ListDataSetRevisions(ctx, &dataexchange.ListDataSetRevisionsInput{DataSetId: ds.Id})
	notFound("ListDataSetRevisions", err, types.ResourceTypeDataSet, dsID)
	_, err = b.GetRevision(ctx, &dataexchange.GetRevisionInput{DataSetId: ds.Id, RevisionId: open.Id})
	notFound("GetRevision", err, types.ResourceTypeDataSet, dsID)
	_, err = b.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{DataSetId: ds.Id, RevisionId: final.Id, Finalized: aws.Bool(false)})
	notFound("UpdateRevision", err, types.ResourceTypeDataSet, dsID)
	_, err = b.RevokeRevision(ctx, &dataexchange.RevokeRevisionInput{DataSetId: ds.Id, RevisionId: final.Id, RevocationComment: aws.String("revoked by B")})
	notFound("RevokeRevision", err, types.ResourceTypeDataSet, dsID)
	_, err = b.DeleteRevision(ctx, &dataexchange.DeleteRevisionInput{DataSetId: ds.Id, RevisionId: open.Id})
	notFound("DeleteRevision", err, types.ResourceTypeDataSet, dsID)
	_, err = b.ListRevisionAssets(ctx, &dataexchange.ListRevisionAssetsInput{DataSetId: ds.Id, RevisionId: open.Id})
	notFound("ListRevisionAssets", err, types.ResourceTypeDataSet, dsID)
	_, err = b.GetAsset(ctx, &dataexchange.GetAssetInput{DataSetId: ds.Id, RevisionId: open.Id, AssetId: assetID})
	notFound("GetAsset", err, types.ResourceTypeDataSet, dsID)
	_, err = b.UpdateAsset(ctx, &dataexchange.UpdateAssetInput{DataSetId: ds.Id, RevisionId: open.Id, AssetId: assetID, Name: aws.String("x")})
	notFound("UpdateAsset", err, types.ResourceTypeDataSet, dsID)
	_, err = b.DeleteAsset(ctx, &dataexchange.DeleteAssetInput{DataSetId: ds.Id, RevisionId: open.Id, AssetId: assetID})
	notFound("DeleteAsset", err, types.ResourceTypeDataSet, dsID)
	for _, arn := range []string{aws.ToString(ds.Arn), aws.ToString(open.Arn), assetARN, resource.DataSetARN(region, accountB, dsID)} {
		_, err = b.TagResource(ctx, &dataexchange.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"owner": "b"}})
		generic("TagResource", err)
		_, err = b.UntagResource(ctx, &dataexchange.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"owner"}})
		generic("UntagResource", err)
		_, err = b.ListTagsForResource(ctx, &dataexchange.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		generic("ListTagsForResource", err)
	}
	list, err := b.ListDataSets(ctx, &dataexchange.ListDataSetsInput{})
	if err != nil || len(list.DataSets) != 0 {
		t.Fatalf("B lists %v %v", list, err)
	}
	if after := snapshot(); after != before {
		t.Fatalf("B changed A's resources:\nbefore %s\nafter  %s", before, after)
	}
}
