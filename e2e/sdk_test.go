package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSDKDataSets drives the data set operations with the Go SDK.
func TestSDKDataSets(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b)
		c := s.client(s.Root)
		ctx := context.Background()
		acct := s.Root.AccountID

		// CreateDataSet, with tags.
		before := time.Now()
		created, err := c.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{
			AssetType:   types.AssetTypeS3Snapshot,
			Name:        aws.String("weather"),
			Description: aws.String("Hourly weather observations"),
			Tags:        map[string]string{"team": "data", "env": "test"},
		})
		require.NoError(t, err)
		after := time.Now()
		requestID(t, created.ResultMetadata)
		ds := dsFromCreate(created)
		checkNewDataSet(t, ds, acct, "weather", "Hourly weather observations", before, after)
		assert.Equal(t, map[string]string{"team": "data", "env": "test"}, created.Tags)

		// GetDataSet returns the same, with tags.
		got, err := c.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: aws.String(ds.Id)})
		require.NoError(t, err)
		assert.Equal(t, ds, dsFromGet(got))
		assert.Equal(t, map[string]string{"team": "data", "env": "test"}, got.Tags)

		// A data set without tags: Tags is empty, not an error.
		time.Sleep(5 * time.Millisecond) // distinct CreatedAt, for the order below
		second, err := c.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{
			AssetType: types.AssetTypeS3Snapshot, Name: aws.String("traffic"), Description: aws.String("Road traffic"),
		})
		require.NoError(t, err)
		assert.Empty(t, second.Tags)
		got2, err := c.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: second.Id})
		require.NoError(t, err)
		assert.Empty(t, got2.Tags)
		assert.NotEqual(t, ds.Id, aws.ToString(second.Id))

		// UpdateDataSet: name only, then description only.
		time.Sleep(5 * time.Millisecond)
		upd, err := c.UpdateDataSet(ctx, &dataexchange.UpdateDataSetInput{DataSetId: aws.String(ds.Id), Name: aws.String("weather-v2")})
		require.NoError(t, err)
		u := dsFromUpdate(upd)
		assert.Equal(t, "weather-v2", u.Name)
		assert.Equal(t, "Hourly weather observations", u.Description, "Description must survive a Name-only update")
		assert.Equal(t, ds.Arn, u.Arn)
		assert.Equal(t, ds.CreatedAt, u.CreatedAt, "CreatedAt must not change")
		assert.True(t, u.UpdatedAt.After(ds.UpdatedAt), "UpdatedAt %s must move past %s", u.UpdatedAt, ds.UpdatedAt)
		upd, err = c.UpdateDataSet(ctx, &dataexchange.UpdateDataSetInput{DataSetId: aws.String(ds.Id), Description: aws.String("Daily")})
		require.NoError(t, err)
		assert.Equal(t, "weather-v2", aws.ToString(upd.Name))
		assert.Equal(t, "Daily", aws.ToString(upd.Description))
		got, err = c.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: aws.String(ds.Id)})
		require.NoError(t, err)
		assert.Equal(t, dsFromUpdate(upd), dsFromGet(got))
		assert.Equal(t, map[string]string{"team": "data", "env": "test"}, got.Tags, "an update keeps the tags")

		// ListDataSets: newest first, with and without origin.
		for _, origin := range []*string{nil, aws.String("OWNED")} {
			list, err := c.ListDataSets(ctx, &dataexchange.ListDataSetsInput{Origin: origin})
			require.NoError(t, err)
			require.Len(t, list.DataSets, 2)
			assert.Equal(t, aws.ToString(second.Id), aws.ToString(list.DataSets[0].Id), "newest first")
			assert.Equal(t, dsFromGet(got), dsFromEntry(list.DataSets[1]))
			assert.Empty(t, aws.ToString(list.NextToken), "NextToken when everything fits")
		}
		entitled, err := c.ListDataSets(ctx, &dataexchange.ListDataSetsInput{Origin: aws.String("ENTITLED")})
		require.NoError(t, err)
		assert.Empty(t, entitled.DataSets, "origin=ENTITLED lists no owned data set")

		// DeleteDataSet.
		_, err = c.DeleteDataSet(ctx, &dataexchange.DeleteDataSetInput{DataSetId: second.Id})
		require.NoError(t, err)
		_, err = c.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: second.Id})
		requireNotFound(t, err, types.ResourceTypeDataSet, aws.ToString(second.Id))
		_, err = c.DeleteDataSet(ctx, &dataexchange.DeleteDataSetInput{DataSetId: second.Id})
		requireNotFound(t, err, types.ResourceTypeDataSet, aws.ToString(second.Id))
		list, err := c.ListDataSets(ctx, &dataexchange.ListDataSetsInput{})
		require.NoError(t, err)
		require.Len(t, list.DataSets, 1)
		assert.Equal(t, ds.Id, aws.ToString(list.DataSets[0].Id))
	})
}

// TestSDKRevisionsAndAssets drives the revision and asset operations,
// including the finalize / revoke rules, with the Go SDK.
func TestSDKRevisionsAndAssets(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b)
		c := s.client(s.Root)
		ctx := context.Background()
		acct := s.Root.AccountID

		dsOut, err := c.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{
			AssetType: types.AssetTypeS3Snapshot, Name: aws.String("ds"), Description: aws.String("d"),
		})
		require.NoError(t, err)
		dsID := aws.ToString(dsOut.Id)

		// CreateRevision with a comment and tags.
		before := time.Now()
		r1Out, err := c.CreateRevision(ctx, &dataexchange.CreateRevisionInput{
			DataSetId: aws.String(dsID), Comment: aws.String("first"), Tags: map[string]string{"stage": "raw"},
		})
		require.NoError(t, err)
		after := time.Now()
		requestID(t, r1Out.ResultMetadata)
		r1 := revFromCreate(r1Out)
		checkNewRevision(t, r1, acct, dsID, "first", before, after)
		assert.Equal(t, map[string]string{"stage": "raw"}, r1Out.Tags)

		got, err := c.GetRevision(ctx, &dataexchange.GetRevisionInput{DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id)})
		require.NoError(t, err)
		assert.Equal(t, r1, revFromGet(got))
		assert.Equal(t, map[string]string{"stage": "raw"}, got.Tags)

		// Two more revisions, one without a comment.
		time.Sleep(5 * time.Millisecond)
		r2Out, err := c.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: aws.String(dsID)})
		require.NoError(t, err)
		assert.Empty(t, aws.ToString(r2Out.Comment))
		assert.Empty(t, r2Out.Tags)
		time.Sleep(5 * time.Millisecond)
		r3Out, err := c.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: aws.String(dsID), Comment: aws.String("third")})
		require.NoError(t, err)
		r2, r3 := revFromCreate(r2Out), revFromCreate(r3Out)

		// ListDataSetRevisions: newest first.
		revs, err := c.ListDataSetRevisions(ctx, &dataexchange.ListDataSetRevisionsInput{DataSetId: aws.String(dsID)})
		require.NoError(t, err)
		require.Len(t, revs.Revisions, 3)
		assert.Equal(t, []revisionView{r3, r2, r1}, []revisionView{
			revFromEntry(revs.Revisions[0]), revFromEntry(revs.Revisions[1]), revFromEntry(revs.Revisions[2]),
		})
		assert.Empty(t, aws.ToString(revs.NextToken))

		// UpdateRevision: the comment.
		time.Sleep(5 * time.Millisecond)
		updOut, err := c.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{
			DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id), Comment: aws.String("first, edited"),
		})
		require.NoError(t, err)
		upd := revFromUpdate(updOut)
		assert.Equal(t, "first, edited", upd.Comment)
		assert.Equal(t, r1.CreatedAt, upd.CreatedAt)
		assert.True(t, upd.UpdatedAt.After(r1.UpdatedAt), "UpdatedAt must move")
		assert.False(t, upd.Finalized)

		// Finalizing a revision without assets is a ValidationException and
		// changes nothing.
		_, err = c.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{
			DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id), Finalized: aws.Bool(true),
		})
		requireValidation(t, err)
		got, err = c.GetRevision(ctx, &dataexchange.GetRevisionInput{DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id)})
		require.NoError(t, err)
		assert.Equal(t, upd, revFromGet(got))

		// Assets (inserted through the store, as a job would).
		inserted := s.insertAssets(t, acct, dsID, r1.Id, "b/data.csv", "a/readme.txt", "c/data.parquet")
		assets, err := c.ListRevisionAssets(ctx, &dataexchange.ListRevisionAssetsInput{DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id)})
		require.NoError(t, err)
		require.Len(t, assets.Assets, 3)
		var names []string
		for _, a := range assets.Assets {
			names = append(names, aws.ToString(a.Name))
		}
		assert.Equal(t, []string{"c/data.parquet", "b/data.csv", "a/readme.txt"}, names, "assets are sorted by name, descending")
		for i, ins := range inserted {
			ga, err := c.GetAsset(ctx, &dataexchange.GetAssetInput{DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id), AssetId: aws.String(ins.ID)})
			require.NoError(t, err)
			v := assetFromGet(ga)
			assert.Equal(t, assetView{
				Arn: assetARN(acct, dsID, r1.Id, ins.ID), Id: ins.ID, DataSetId: dsID, RevisionId: r1.Id,
				Name: ins.Name, AssetType: "S3_SNAPSHOT", Size: float64(100 * (i + 1)),
				CreatedAt: ins.CreatedAt, UpdatedAt: ins.UpdatedAt,
			}, v)
			assert.Empty(t, ga.Tags)
			for _, e := range assets.Assets {
				if aws.ToString(e.Id) == ins.ID {
					assert.Equal(t, v, assetFromEntry(e), "ListRevisionAssets entry = GetAsset")
				}
			}
		}

		// UpdateAsset renames; DeleteAsset removes.
		time.Sleep(5 * time.Millisecond)
		ua, err := c.UpdateAsset(ctx, &dataexchange.UpdateAssetInput{
			DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id), AssetId: aws.String(inserted[0].ID), Name: aws.String("b/data-renamed.csv"),
		})
		require.NoError(t, err)
		uav := assetFromUpdate(ua)
		assert.Equal(t, "b/data-renamed.csv", uav.Name)
		assert.Equal(t, assetARN(acct, dsID, r1.Id, inserted[0].ID), uav.Arn)
		assert.Equal(t, inserted[0].CreatedAt, uav.CreatedAt)
		assert.True(t, uav.UpdatedAt.After(inserted[0].UpdatedAt), "UpdatedAt must move")
		assert.Equal(t, float64(100), uav.Size)
		ga, err := c.GetAsset(ctx, &dataexchange.GetAssetInput{DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id), AssetId: aws.String(inserted[0].ID)})
		require.NoError(t, err)
		assert.Equal(t, uav, assetFromGet(ga))

		_, err = c.DeleteAsset(ctx, &dataexchange.DeleteAssetInput{DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id), AssetId: aws.String(inserted[1].ID)})
		require.NoError(t, err)
		_, err = c.GetAsset(ctx, &dataexchange.GetAssetInput{DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id), AssetId: aws.String(inserted[1].ID)})
		requireNotFound(t, err, types.ResourceTypeAsset, inserted[1].ID)
		_, err = c.DeleteAsset(ctx, &dataexchange.DeleteAssetInput{DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id), AssetId: aws.String(inserted[1].ID)})
		requireNotFound(t, err, types.ResourceTypeAsset, inserted[1].ID)

		// Finalize.
		fin, err := c.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{
			DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id), Finalized: aws.Bool(true),
		})
		require.NoError(t, err)
		assert.True(t, fin.Finalized)
		assert.Equal(t, "first, edited", aws.ToString(fin.Comment))
		finView := revFromUpdate(fin)

		// A finalized revision is read-only: comment, assets and deletion
		// are ConflictExceptions, and nothing changes.
		_, err = c.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{
			DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id), Comment: aws.String("nope"),
		})
		requireConflict(t, err, types.ResourceTypeRevision, r1.Id)
		_, err = c.DeleteRevision(ctx, &dataexchange.DeleteRevisionInput{DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id)})
		requireConflict(t, err, types.ResourceTypeRevision, r1.Id)
		_, err = c.UpdateAsset(ctx, &dataexchange.UpdateAssetInput{
			DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id), AssetId: aws.String(inserted[2].ID), Name: aws.String("nope"),
		})
		requireConflict(t, err, "", "")
		_, err = c.DeleteAsset(ctx, &dataexchange.DeleteAssetInput{DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id), AssetId: aws.String(inserted[2].ID)})
		requireConflict(t, err, "", "")
		got, err = c.GetRevision(ctx, &dataexchange.GetRevisionInput{DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id)})
		require.NoError(t, err)
		assert.Equal(t, finView, revFromGet(got), "a refused change must change nothing")
		ga, err = c.GetAsset(ctx, &dataexchange.GetAssetInput{DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id), AssetId: aws.String(inserted[2].ID)})
		require.NoError(t, err)
		assert.Equal(t, "c/data.parquet", aws.ToString(ga.Name))

		// Un-finalize, edit, finalize again.
		unfin, err := c.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{
			DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id), Finalized: aws.Bool(false),
		})
		require.NoError(t, err)
		assert.False(t, unfin.Finalized)
		_, err = c.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{
			DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id), Comment: aws.String("final"), Finalized: aws.Bool(true),
		})
		require.NoError(t, err)
		got, err = c.GetRevision(ctx, &dataexchange.GetRevisionInput{DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id)})
		require.NoError(t, err)
		assert.True(t, got.Finalized)
		assert.Equal(t, "final", aws.ToString(got.Comment))

		// RevokeRevision: needs a finalized revision and a 10..512 character
		// comment; it can't be repeated or undone.
		_, err = c.RevokeRevision(ctx, &dataexchange.RevokeRevisionInput{
			DataSetId: aws.String(dsID), RevisionId: aws.String(r2.Id), RevocationComment: aws.String("not finalized yet"),
		})
		requireConflict(t, err, types.ResourceTypeRevision, r2.Id)
		_, err = c.RevokeRevision(ctx, &dataexchange.RevokeRevisionInput{
			DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id), RevocationComment: aws.String("short"),
		})
		requireValidation(t, err)
		before = time.Now()
		rv, err := c.RevokeRevision(ctx, &dataexchange.RevokeRevisionInput{
			DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id), RevocationComment: aws.String("contains an error, see r3"),
		})
		require.NoError(t, err)
		after = time.Now()
		rvv := revFromRevoke(rv)
		assert.True(t, rvv.Revoked)
		assert.True(t, rvv.Finalized)
		assert.Equal(t, "contains an error, see r3", rvv.RevocationComment)
		require.NotNil(t, rvv.RevokedAt)
		checkTime(t, "RevokedAt", *rvv.RevokedAt, before, after)
		got, err = c.GetRevision(ctx, &dataexchange.GetRevisionInput{DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id)})
		require.NoError(t, err)
		assert.Equal(t, rvv, revFromGet(got))
		_, err = c.RevokeRevision(ctx, &dataexchange.RevokeRevisionInput{
			DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id), RevocationComment: aws.String("revoking it twice"),
		})
		requireConflict(t, err, types.ResourceTypeRevision, r1.Id)
		revs, err = c.ListDataSetRevisions(ctx, &dataexchange.ListDataSetRevisionsInput{DataSetId: aws.String(dsID)})
		require.NoError(t, err)
		require.Len(t, revs.Revisions, 3)
		assert.Equal(t, rvv, revFromEntry(revs.Revisions[2]), "the list shows the revocation")

		// A revoked revision can't be un-finalized, edited or deleted, nor
		// its assets renamed; its assets can be deleted (docs/behaviour.md).
		_, err = c.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{
			DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id), Finalized: aws.Bool(false),
		})
		requireConflict(t, err, types.ResourceTypeRevision, r1.Id)
		_, err = c.DeleteRevision(ctx, &dataexchange.DeleteRevisionInput{DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id)})
		requireConflict(t, err, types.ResourceTypeRevision, r1.Id)
		_, err = c.UpdateAsset(ctx, &dataexchange.UpdateAssetInput{
			DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id), AssetId: aws.String(inserted[0].ID), Name: aws.String("nope"),
		})
		requireConflict(t, err, "", "")
		_, err = c.DeleteAsset(ctx, &dataexchange.DeleteAssetInput{DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id), AssetId: aws.String(inserted[0].ID)})
		require.NoError(t, err, "the assets of a revoked revision can be deleted")
		got, err = c.GetRevision(ctx, &dataexchange.GetRevisionInput{DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id)})
		require.NoError(t, err)
		assert.True(t, got.Revoked)
		assert.True(t, got.Finalized)

		// DeleteRevision of a revision without assets.
		_, err = c.DeleteRevision(ctx, &dataexchange.DeleteRevisionInput{DataSetId: aws.String(dsID), RevisionId: aws.String(r2.Id)})
		require.NoError(t, err)
		_, err = c.GetRevision(ctx, &dataexchange.GetRevisionInput{DataSetId: aws.String(dsID), RevisionId: aws.String(r2.Id)})
		requireNotFound(t, err, types.ResourceTypeRevision, r2.Id)

		// DeleteDataSet cascades to its revisions and assets.
		_, err = c.DeleteDataSet(ctx, &dataexchange.DeleteDataSetInput{DataSetId: aws.String(dsID)})
		require.NoError(t, err)
		_, err = c.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: aws.String(dsID)})
		requireNotFound(t, err, types.ResourceTypeDataSet, dsID)
		_, err = c.GetRevision(ctx, &dataexchange.GetRevisionInput{DataSetId: aws.String(dsID), RevisionId: aws.String(r3.Id)})
		requireNotFoundAny(t, err)
		_, err = c.GetAsset(ctx, &dataexchange.GetAssetInput{DataSetId: aws.String(dsID), RevisionId: aws.String(r1.Id), AssetId: aws.String(inserted[2].ID)})
		requireNotFoundAny(t, err)
		_, err = c.ListDataSetRevisions(ctx, &dataexchange.ListDataSetRevisionsInput{DataSetId: aws.String(dsID)})
		requireNotFound(t, err, types.ResourceTypeDataSet, dsID)
		st := s.openStore(t)
		n, err := st.CountAssets(ctx, acct, dsID, r1.Id)
		require.NoError(t, err)
		assert.Zero(t, n, "assets of a deleted data set must be gone from the store")
	})
}

// TestSDKTags drives TagResource, UntagResource and ListTagsForResource on
// data sets and revisions.
func TestSDKTags(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b)
		c := s.client(s.Root)
		ctx := context.Background()

		dsOut, err := c.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{
			AssetType: types.AssetTypeS3Snapshot, Name: aws.String("ds"), Description: aws.String("d"),
			Tags: map[string]string{"owner": "alice"},
		})
		require.NoError(t, err)
		revOut, err := c.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: dsOut.Id, Tags: map[string]string{"stage": "raw"}})
		require.NoError(t, err)
		asset := s.insertAssets(t, s.Root.AccountID, aws.ToString(dsOut.Id), aws.ToString(revOut.Id), "tagged.csv")[0]
		assetArn := assetARN(s.Root.AccountID, aws.ToString(dsOut.Id), aws.ToString(revOut.Id), asset.ID)

		for _, tc := range []struct {
			name    string
			arn     string
			initial map[string]string
			get     func() map[string]string
		}{
			{"data set", aws.ToString(dsOut.Arn), map[string]string{"owner": "alice"}, func() map[string]string {
				o, err := c.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: dsOut.Id})
				require.NoError(t, err)
				return o.Tags
			}},
			{"revision", aws.ToString(revOut.Arn), map[string]string{"stage": "raw"}, func() map[string]string {
				o, err := c.GetRevision(ctx, &dataexchange.GetRevisionInput{DataSetId: dsOut.Id, RevisionId: revOut.Id})
				require.NoError(t, err)
				return o.Tags
			}},
			{"asset", assetArn, map[string]string{}, func() map[string]string {
				o, err := c.GetAsset(ctx, &dataexchange.GetAssetInput{DataSetId: dsOut.Id, RevisionId: revOut.Id, AssetId: aws.String(asset.ID)})
				require.NoError(t, err)
				return o.Tags
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if len(tc.initial) == 0 {
					assert.Empty(t, tc.get())
				}
				lt, err := c.ListTagsForResource(ctx, &dataexchange.ListTagsForResourceInput{ResourceArn: aws.String(tc.arn)})
				require.NoError(t, err)
				if len(tc.initial) == 0 {
					assert.Empty(t, lt.Tags)
				} else {
					assert.Equal(t, tc.initial, lt.Tags, "tags given on Create")
				}

				_, err = c.TagResource(ctx, &dataexchange.TagResourceInput{
					ResourceArn: aws.String(tc.arn), Tags: map[string]string{"a": "1", "b": "2", "with space": "x/y=z"},
				})
				require.NoError(t, err)
				want := map[string]string{"a": "1", "b": "2", "with space": "x/y=z"}
				for k, v := range tc.initial {
					want[k] = v
				}
				lt, err = c.ListTagsForResource(ctx, &dataexchange.ListTagsForResourceInput{ResourceArn: aws.String(tc.arn)})
				require.NoError(t, err)
				assert.Equal(t, want, lt.Tags)
				assert.Equal(t, want, tc.get(), "Get* shows the tags")

				// Overwrite one key.
				_, err = c.TagResource(ctx, &dataexchange.TagResourceInput{ResourceArn: aws.String(tc.arn), Tags: map[string]string{"a": "one"}})
				require.NoError(t, err)
				want["a"] = "one"
				lt, err = c.ListTagsForResource(ctx, &dataexchange.ListTagsForResourceInput{ResourceArn: aws.String(tc.arn)})
				require.NoError(t, err)
				assert.Equal(t, want, lt.Tags)

				// Untag two keys (one of them twice, and one unknown key).
				_, err = c.UntagResource(ctx, &dataexchange.UntagResourceInput{ResourceArn: aws.String(tc.arn), TagKeys: []string{"a", "with space", "no-such-key"}})
				require.NoError(t, err)
				_, err = c.UntagResource(ctx, &dataexchange.UntagResourceInput{ResourceArn: aws.String(tc.arn), TagKeys: []string{"a"}})
				require.NoError(t, err, "UntagResource is idempotent")
				delete(want, "a")
				delete(want, "with space")
				lt, err = c.ListTagsForResource(ctx, &dataexchange.ListTagsForResourceInput{ResourceArn: aws.String(tc.arn)})
				require.NoError(t, err)
				assert.Equal(t, want, lt.Tags)
				assert.Equal(t, want, tc.get())

				// Remove everything: an empty map, not an error.
				var keys []string
				for k := range want {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				_, err = c.UntagResource(ctx, &dataexchange.UntagResourceInput{ResourceArn: aws.String(tc.arn), TagKeys: keys})
				require.NoError(t, err)
				lt, err = c.ListTagsForResource(ctx, &dataexchange.ListTagsForResourceInput{ResourceArn: aws.String(tc.arn)})
				require.NoError(t, err)
				assert.Empty(t, lt.Tags)
			})
		}

		// Tagging something that does not exist fails with
		// ResourceNotFoundException (a generic error to Go clients: the tag
		// operations model no errors).
		missing := dataSetARN(s.Root.AccountID, strings.Repeat("0", 32))
		_, err = c.TagResource(ctx, &dataexchange.TagResourceInput{ResourceArn: aws.String(missing), Tags: map[string]string{"a": "b"}})
		requireCode(t, err, 404, "ResourceNotFoundException")
		_, err = c.ListTagsForResource(ctx, &dataexchange.ListTagsForResourceInput{ResourceArn: aws.String(missing)})
		requireCode(t, err, 404, "ResourceNotFoundException")
		_, err = c.UntagResource(ctx, &dataexchange.UntagResourceInput{ResourceArn: aws.String(missing), TagKeys: []string{"a"}})
		requireCode(t, err, 404, "ResourceNotFoundException")

		// A string that is not an AWS Data Exchange ARN is a ValidationException.
		_, err = c.ListTagsForResource(ctx, &dataexchange.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:s3:::bucket")})
		requireCode(t, err, 400, "ValidationException")

		// Reserved keys, over-long keys and values, and more than 50 tags
		// are refused, and change nothing.
		many := map[string]string{}
		for i := 0; i < 51; i++ {
			many[fmt.Sprintf("k%02d", i)] = "v"
		}
		for _, tags := range []map[string]string{
			{"aws:reserved": "x"},
			{"AWS:Reserved": "x"},
			{strings.Repeat("k", 129): "x"},
			{"k": strings.Repeat("v", 257)},
			many,
		} {
			_, err = c.TagResource(ctx, &dataexchange.TagResourceInput{ResourceArn: dsOut.Arn, Tags: tags})
			requireCode(t, err, 400, "ValidationException")
		}
		lt, err := c.ListTagsForResource(ctx, &dataexchange.ListTagsForResourceInput{ResourceArn: dsOut.Arn})
		require.NoError(t, err)
		assert.Empty(t, lt.Tags)

		// Deleting the data set deletes its tags and its revision's tags.
		_, err = c.DeleteDataSet(ctx, &dataexchange.DeleteDataSetInput{DataSetId: dsOut.Id})
		require.NoError(t, err)
		_, err = c.ListTagsForResource(ctx, &dataexchange.ListTagsForResourceInput{ResourceArn: dsOut.Arn})
		requireCode(t, err, 404, "ResourceNotFoundException")
		_, err = c.ListTagsForResource(ctx, &dataexchange.ListTagsForResourceInput{ResourceArn: revOut.Arn})
		requireCode(t, err, 404, "ResourceNotFoundException")
		_, err = c.ListTagsForResource(ctx, &dataexchange.ListTagsForResourceInput{ResourceArn: aws.String(assetArn)})
		requireCode(t, err, 404, "ResourceNotFoundException")
	})
}
