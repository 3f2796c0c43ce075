package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wharf-dev/wharf/internal/assetstore"
)

// TestDataGrants shares a data set between accounts of the real binary,
// driven with the Go SDK: a sender grants, the root account (which has S3
// credentials) accepts, reads and exports; everything else it tries is
// refused and changes nothing; a third account sees nothing; deleting the
// grant refuses the next export.
func TestDataGrants(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		minio, env := s3Env(t)
		s := startServer(t, b, serverOptions{Env: env})
		ctx := context.Background()
		senderCreds := s.createAccount(t, "")
		thirdCreds := s.createAccount(t, "")
		sender, receiver, third := s.client(senderCreds), s.client(rootCreds), s.client(thirdCreds)

		// The sender's data set: a finalized revision with one asset, and
		// an open one.
		ds, err := sender.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{
			AssetType: types.AssetTypeS3Snapshot, Name: aws.String("prices"), Description: aws.String("daily prices")})
		require.NoError(t, err)
		final, err := sender.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: ds.Id})
		require.NoError(t, err)
		open, err := sender.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: ds.Id})
		require.NoError(t, err)
		assets := s.insertAssets(t, senderCreds.AccountID, aws.ToString(ds.Id), aws.ToString(final.Id), "prices.csv")
		s.insertAssets(t, senderCreds.AccountID, aws.ToString(ds.Id), aws.ToString(open.Id), "draft.csv")
		data := bytes.Repeat([]byte("42,"), 100/3+1)[:100] // insertAssets records 100 bytes
		local, err := assetstore.NewLocal(filepath.Join(s.DataDir, assetstore.DefaultDir))
		require.NoError(t, err)
		key, err := assetstore.AssetKey(senderCreds.AccountID, aws.ToString(ds.Id), assets[0].ID)
		require.NoError(t, err)
		_, err = local.Put(ctx, key, bytes.NewReader(data), int64(len(data)))
		require.NoError(t, err)
		_, err = sender.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{DataSetId: ds.Id, RevisionId: final.Id, Finalized: aws.Bool(true)})
		require.NoError(t, err)

		g, err := sender.CreateDataGrant(ctx, &dataexchange.CreateDataGrantInput{
			Name: aws.String("to root"), GrantDistributionScope: types.GrantDistributionScopeNone,
			ReceiverPrincipal: aws.String(rootCreds.AccountID), SourceDataSetId: ds.Id,
			EndsAt: aws.Time(time.Now().Add(24 * time.Hour))})
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("arn:aws:dataexchange:%s:%s:data-grants/%s", region, senderCreds.AccountID, aws.ToString(g.Id)), aws.ToString(g.Arn))

		pending, err := receiver.ListReceivedDataGrants(ctx, &dataexchange.ListReceivedDataGrantsInput{
			AcceptanceState: []types.AcceptanceStateFilterValue{types.AcceptanceStateFilterValuePendingReceiverAcceptance}})
		require.NoError(t, err)
		require.Len(t, pending.DataGrantSummaries, 1)
		// The ARN travels percent-encoded in the path, and SigV4 is checked over it.
		_, err = receiver.AcceptDataGrant(ctx, &dataexchange.AcceptDataGrantInput{DataGrantArn: g.Arn})
		require.NoError(t, err)

		entitledID := g.DataSetId
		eds, err := receiver.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: entitledID})
		require.NoError(t, err)
		assert.Equal(t, types.OriginEntitled, eds.Origin)
		assert.Equal(t, aws.ToString(g.Id), aws.ToString(eds.OriginDetails.DataGrantId))
		sets, err := receiver.ListDataSets(ctx, &dataexchange.ListDataSetsInput{Origin: aws.String("ENTITLED")})
		require.NoError(t, err)
		require.Len(t, sets.DataSets, 1)
		revs, err := receiver.ListDataSetRevisions(ctx, &dataexchange.ListDataSetRevisionsInput{DataSetId: entitledID})
		require.NoError(t, err)
		require.Len(t, revs.Revisions, 1, "only the finalized revision is shared")
		listed, err := receiver.ListRevisionAssets(ctx, &dataexchange.ListRevisionAssetsInput{DataSetId: entitledID, RevisionId: final.Id})
		require.NoError(t, err)
		require.Len(t, listed.Assets, 1)

		bucket := minio.NewBucket(t)
		exportJob := func(key string) (*dataexchange.CreateJobOutput, error) {
			return receiver.CreateJob(ctx, &dataexchange.CreateJobInput{Type: types.TypeExportAssetsToS3,
				Details: &types.RequestDetails{ExportAssetsToS3: &types.ExportAssetsToS3RequestDetails{
					DataSetId: entitledID, RevisionId: final.Id,
					AssetDestinations: []types.AssetDestinationEntry{{AssetId: aws.String(assets[0].ID), Bucket: aws.String(bucket), Key: aws.String(key)}}}}})
		}
		job, err := exportJob("first.csv")
		require.NoError(t, err)
		_, err = receiver.StartJob(ctx, &dataexchange.StartJobInput{JobId: job.Id})
		require.NoError(t, err)
		waitGrantedJob(t, receiver, aws.ToString(job.Id), types.StateCompleted)
		assert.Equal(t, data, minio.GetObject(t, bucket, "first.csv"))

		// Everything else the receiver tries is refused and changes nothing.
		before := [2]rootState{snapshot(t, receiver), snapshot(t, sender)}
		refusals := map[string]error{}
		_, refusals["UpdateDataSet"] = receiver.UpdateDataSet(ctx, &dataexchange.UpdateDataSetInput{DataSetId: entitledID, Name: aws.String("mine")})
		_, refusals["DeleteDataSet"] = receiver.DeleteDataSet(ctx, &dataexchange.DeleteDataSetInput{DataSetId: entitledID})
		_, refusals["CreateRevision"] = receiver.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: entitledID})
		_, refusals["UpdateRevision"] = receiver.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{DataSetId: entitledID, RevisionId: final.Id, Finalized: aws.Bool(false)})
		_, refusals["DeleteRevision"] = receiver.DeleteRevision(ctx, &dataexchange.DeleteRevisionInput{DataSetId: entitledID, RevisionId: final.Id})
		_, refusals["RevokeRevision"] = receiver.RevokeRevision(ctx, &dataexchange.RevokeRevisionInput{DataSetId: entitledID, RevisionId: final.Id, RevocationComment: aws.String("not mine to revoke")})
		_, refusals["UpdateAsset"] = receiver.UpdateAsset(ctx, &dataexchange.UpdateAssetInput{DataSetId: entitledID, RevisionId: final.Id, AssetId: aws.String(assets[0].ID), Name: aws.String("x")})
		_, refusals["DeleteAsset"] = receiver.DeleteAsset(ctx, &dataexchange.DeleteAssetInput{DataSetId: entitledID, RevisionId: final.Id, AssetId: aws.String(assets[0].ID)})
		_, refusals["TagResource"] = receiver.TagResource(ctx, &dataexchange.TagResourceInput{ResourceArn: eds.Arn, Tags: map[string]string{"k": "v"}})
		_, refusals["UntagResource"] = receiver.UntagResource(ctx, &dataexchange.UntagResourceInput{ResourceArn: eds.Arn, TagKeys: []string{"k"}})
		_, refusals["CreateJob import"] = receiver.CreateJob(ctx, &dataexchange.CreateJobInput{Type: types.TypeImportAssetsFromS3,
			Details: &types.RequestDetails{ImportAssetsFromS3: &types.ImportAssetsFromS3RequestDetails{DataSetId: entitledID, RevisionId: final.Id,
				AssetSources: []types.AssetSourceEntry{{Bucket: aws.String(bucket), Key: aws.String("first.csv")}}}}})
		for op, err := range refusals {
			assert.Equal(t, "AccessDeniedException", grantErrorCode(err), "%s: %v", op, err)
		}
		assert.Equal(t, before, [2]rootState{snapshot(t, receiver), snapshot(t, sender)}, "refused requests changed something")

		// A third account sees nothing of it.
		_, err = third.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: entitledID})
		assert.Equal(t, "ResourceNotFoundException", grantErrorCode(err))
		_, err = third.GetReceivedDataGrant(ctx, &dataexchange.GetReceivedDataGrantInput{DataGrantArn: g.Arn})
		assert.Equal(t, "ResourceNotFoundException", grantErrorCode(err))
		_, err = third.GetDataGrant(ctx, &dataexchange.GetDataGrantInput{DataGrantId: g.Id})
		assert.Equal(t, "ResourceNotFoundException", grantErrorCode(err))
		none, err := third.ListReceivedDataGrants(ctx, &dataexchange.ListReceivedDataGrantsInput{})
		require.NoError(t, err)
		assert.Empty(t, none.DataGrantSummaries)

		// Deleting the grant refuses the next export, and one created before.
		waiting, err := exportJob("second.csv")
		require.NoError(t, err)
		_, err = sender.DeleteDataGrant(ctx, &dataexchange.DeleteDataGrantInput{DataGrantId: g.Arn})
		require.NoError(t, err)
		_, err = receiver.StartJob(ctx, &dataexchange.StartJobInput{JobId: waiting.Id})
		assert.Equal(t, "ResourceNotFoundException", grantErrorCode(err))
		_, err = exportJob("third.csv")
		assert.Equal(t, "ResourceNotFoundException", grantErrorCode(err))
		assert.Equal(t, []string{"first.csv"}, minio.Keys(t, bucket))
	})
}

// grantErrorCode is the AWS error code of err, or "" when it is none.
func grantErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

// waitGrantedJob polls GetJob until the job ends, which must be in want.
func waitGrantedJob(t *testing.T, c *dataexchange.Client, id string, want types.State) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		j, err := c.GetJob(context.Background(), &dataexchange.GetJobInput{JobId: aws.String(id)})
		require.NoError(t, err)
		switch j.State {
		case types.StateWaiting, types.StateInProgress:
		default:
			require.Equal(t, want, j.State, "job %s ended with errors %+v", id, j.Errors)
			return
		}
		require.True(t, time.Now().Before(deadline), "job %s is still %s", id, j.State)
		time.Sleep(50 * time.Millisecond)
	}
}
