package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSDKErrors checks that errors reach the Go SDK as its typed errors,
// with the members AWS sends, and that a refused request changes nothing.
func TestSDKErrors(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b)
		c := s.client(s.Root)
		ctx := context.Background()
		acct := s.Root.AccountID

		ds, err := c.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{
			AssetType: types.AssetTypeS3Snapshot, Name: aws.String("ds"), Description: aws.String("d"),
		})
		require.NoError(t, err)
		dsID := aws.ToString(ds.Id)
		rev, err := c.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: ds.Id})
		require.NoError(t, err)
		revID := aws.ToString(rev.Id)
		missing := strings.Repeat("f", 32)

		t.Run("ResourceNotFoundException", func(t *testing.T) {
			_, err := c.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: aws.String(missing)})
			requireNotFound(t, err, types.ResourceTypeDataSet, missing)
			_, err = c.UpdateDataSet(ctx, &dataexchange.UpdateDataSetInput{DataSetId: aws.String(missing), Name: aws.String("x")})
			requireNotFound(t, err, types.ResourceTypeDataSet, missing)
			_, err = c.DeleteDataSet(ctx, &dataexchange.DeleteDataSetInput{DataSetId: aws.String(missing)})
			requireNotFound(t, err, types.ResourceTypeDataSet, missing)
			_, err = c.ListDataSetRevisions(ctx, &dataexchange.ListDataSetRevisionsInput{DataSetId: aws.String(missing)})
			requireNotFound(t, err, types.ResourceTypeDataSet, missing)
			_, err = c.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: aws.String(missing)})
			requireNotFound(t, err, types.ResourceTypeDataSet, missing)

			_, err = c.GetRevision(ctx, &dataexchange.GetRevisionInput{DataSetId: ds.Id, RevisionId: aws.String(missing)})
			requireNotFound(t, err, types.ResourceTypeRevision, missing)
			_, err = c.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{DataSetId: ds.Id, RevisionId: aws.String(missing), Comment: aws.String("x")})
			requireNotFound(t, err, types.ResourceTypeRevision, missing)
			_, err = c.DeleteRevision(ctx, &dataexchange.DeleteRevisionInput{DataSetId: ds.Id, RevisionId: aws.String(missing)})
			requireNotFound(t, err, types.ResourceTypeRevision, missing)
			_, err = c.RevokeRevision(ctx, &dataexchange.RevokeRevisionInput{DataSetId: ds.Id, RevisionId: aws.String(missing), RevocationComment: aws.String("long enough comment")})
			requireNotFound(t, err, types.ResourceTypeRevision, missing)
			_, err = c.ListRevisionAssets(ctx, &dataexchange.ListRevisionAssetsInput{DataSetId: ds.Id, RevisionId: aws.String(missing)})
			requireNotFound(t, err, types.ResourceTypeRevision, missing)
			// A revision that exists, asked for under another data set.
			_, err = c.GetRevision(ctx, &dataexchange.GetRevisionInput{DataSetId: aws.String(missing), RevisionId: rev.Id})
			requireNotFoundAny(t, err)

			_, err = c.GetAsset(ctx, &dataexchange.GetAssetInput{DataSetId: ds.Id, RevisionId: rev.Id, AssetId: aws.String(missing)})
			requireNotFound(t, err, types.ResourceTypeAsset, missing)
			_, err = c.UpdateAsset(ctx, &dataexchange.UpdateAssetInput{DataSetId: ds.Id, RevisionId: rev.Id, AssetId: aws.String(missing), Name: aws.String("x")})
			requireNotFound(t, err, types.ResourceTypeAsset, missing)
			_, err = c.DeleteAsset(ctx, &dataexchange.DeleteAssetInput{DataSetId: ds.Id, RevisionId: rev.Id, AssetId: aws.String(missing)})
			requireNotFound(t, err, types.ResourceTypeAsset, missing)
		})

		t.Run("ValidationException", func(t *testing.T) {
			for _, tc := range []struct {
				name string
				in   dataexchange.CreateDataSetInput
			}{
				{"unknown asset type", dataexchange.CreateDataSetInput{AssetType: "NOT_A_TYPE", Name: aws.String("n"), Description: aws.String("d")}},
				{"name too long", dataexchange.CreateDataSetInput{AssetType: types.AssetTypeS3Snapshot, Name: aws.String(strings.Repeat("n", 257)), Description: aws.String("d")}},
				{"description too long", dataexchange.CreateDataSetInput{AssetType: types.AssetTypeS3Snapshot, Name: aws.String("n"), Description: aws.String(strings.Repeat("d", 20000))}},
			} {
				_, err := c.CreateDataSet(ctx, &tc.in)
				requireValidation(t, err)
			}
			_, err := c.UpdateDataSet(ctx, &dataexchange.UpdateDataSetInput{DataSetId: ds.Id, Name: aws.String(strings.Repeat("n", 257))})
			requireValidation(t, err)
			_, err = c.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: ds.Id, Comment: aws.String(strings.Repeat("c", 16385))})
			requireValidation(t, err)
			_, err = c.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{DataSetId: ds.Id, RevisionId: rev.Id, Comment: aws.String(strings.Repeat("c", 16385))})
			requireValidation(t, err)
			_, err = c.RevokeRevision(ctx, &dataexchange.RevokeRevisionInput{DataSetId: ds.Id, RevisionId: rev.Id, RevocationComment: aws.String(strings.Repeat("r", 513))})
			requireValidation(t, err)
			// Finalizing a revision without assets.
			_, err = c.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{DataSetId: ds.Id, RevisionId: rev.Id, Finalized: aws.Bool(true)})
			requireValidation(t, err)
			// maxResults outside 1..200, and a forged NextToken.
			for _, n := range []int32{201, -1} {
				_, err = c.ListDataSets(ctx, &dataexchange.ListDataSetsInput{MaxResults: n})
				requireValidation(t, err)
				_, err = c.ListDataSetRevisions(ctx, &dataexchange.ListDataSetRevisionsInput{DataSetId: ds.Id, MaxResults: n})
				requireValidation(t, err)
				_, err = c.ListRevisionAssets(ctx, &dataexchange.ListRevisionAssetsInput{DataSetId: ds.Id, RevisionId: rev.Id, MaxResults: n})
				requireValidation(t, err)
			}
			// A malformed id is a ValidationException, not a missing resource.
			_, err = c.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: aws.String("not-an-id")})
			requireValidation(t, err)
			_, err = c.GetRevision(ctx, &dataexchange.GetRevisionInput{DataSetId: ds.Id, RevisionId: aws.String("x")})
			requireValidation(t, err)
			_, err = c.ListDataSets(ctx, &dataexchange.ListDataSetsInput{NextToken: aws.String("not-a-token")})
			requireValidation(t, err)
			_, err = c.ListDataSets(ctx, &dataexchange.ListDataSetsInput{Origin: aws.String("STOLEN")})
			requireValidation(t, err)

			// None of that created or changed anything.
			list, err := c.ListDataSets(ctx, &dataexchange.ListDataSetsInput{})
			require.NoError(t, err)
			require.Len(t, list.DataSets, 1)
			assert.Equal(t, dsFromCreate(ds), dsFromEntry(list.DataSets[0]))
			got, err := c.GetRevision(ctx, &dataexchange.GetRevisionInput{DataSetId: ds.Id, RevisionId: rev.Id})
			require.NoError(t, err)
			assert.Equal(t, revFromCreate(rev), revFromGet(got))
		})

		t.Run("ConflictException", func(t *testing.T) {
			assets := s.insertAssets(t, acct, dsID, revID, "only.csv")
			_, err := c.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{DataSetId: ds.Id, RevisionId: rev.Id, Finalized: aws.Bool(true)})
			require.NoError(t, err)
			_, err = c.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{DataSetId: ds.Id, RevisionId: rev.Id, Comment: aws.String("x")})
			requireConflict(t, err, types.ResourceTypeRevision, revID)
			_, err = c.DeleteRevision(ctx, &dataexchange.DeleteRevisionInput{DataSetId: ds.Id, RevisionId: rev.Id})
			requireConflict(t, err, types.ResourceTypeRevision, revID)
			_, err = c.UpdateAsset(ctx, &dataexchange.UpdateAssetInput{DataSetId: ds.Id, RevisionId: rev.Id, AssetId: aws.String(assets[0].ID), Name: aws.String("x")})
			requireConflict(t, err, "", "")
			_, err = c.DeleteAsset(ctx, &dataexchange.DeleteAssetInput{DataSetId: ds.Id, RevisionId: rev.Id, AssetId: aws.String(assets[0].ID)})
			requireConflict(t, err, "", "")
		})
	})
}

// TestUnknownOperation checks that a signed request naming no operation is
// UnknownOperationException (404), and an unsigned one is refused first.
func TestUnknownOperation(t *testing.T) {
	s := startServer(t, backends[0])
	for _, p := range []string{"/v1/no-such-thing", "/v2/data-sets"} {
		resp := s.signed(t, s.Root, "GET", p, "", time.Now(), nil)
		checkRawError(t, resp, http.StatusNotFound, "UnknownOperationException")
		resp = s.raw(t, "GET", p, "", nil)
		checkRawError(t, resp, http.StatusForbidden, "MissingAuthenticationTokenException")
	}
}
