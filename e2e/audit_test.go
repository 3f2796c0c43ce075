package e2e

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAuditLog: every API call is recorded with its account, access key,
// operation, resource ARN and outcome, and `wharf audit` reads them back.
func TestAuditLog(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b)
		ctx := context.Background()
		other := s.createAccount(t, "")
		root := s.client(rootCreds)
		ds, err := root.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{AssetType: types.AssetTypeS3Snapshot,
			Name: aws.String("audited"), Description: aws.String("d")})
		require.NoError(t, err)
		_, err = s.client(other).GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: ds.Id})
		require.Error(t, err)
		bad := rootCreds
		bad.SecretAccessKey = "wrong"
		_, err = s.client(bad).ListDataSets(ctx, &dataexchange.ListDataSetsInput{})
		require.Error(t, err)

		type line struct {
			Time, AccountId, AccessKeyId, Operation, ResourceArn, Exception, RequestId string
			Status                                                                     int
		}
		read := func(args ...string) []line {
			t.Helper()
			out, errOut, err := s.admin(t, append([]string{"audit"}, args...)...)
			require.NoError(t, err, errOut)
			var lines []line
			for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
				if l == "" {
					continue
				}
				var v line
				require.NoError(t, json.Unmarshal([]byte(l), &v), l)
				lines = append(lines, v)
			}
			return lines
		}
		all := read()
		require.Len(t, all, 3, "%+v", all)
		// Newest first.
		assert.Equal(t, line{Time: all[0].Time, AccountId: "", AccessKeyId: rootCreds.AccessKeyID, Operation: "ListDataSets",
			Status: 403, Exception: "InvalidSignatureException", RequestId: all[0].RequestId}, all[0])
		assert.Equal(t, line{Time: all[1].Time, AccountId: other.AccountID, AccessKeyId: other.AccessKeyID, Operation: "GetDataSet",
			ResourceArn: "arn:aws:dataexchange:" + region + ":" + other.AccountID + ":data-sets/" + aws.ToString(ds.Id),
			Status:      404, Exception: "ResourceNotFoundException", RequestId: all[1].RequestId}, all[1])
		assert.Equal(t, line{Time: all[2].Time, AccountId: rootCreds.AccountID, AccessKeyId: rootCreds.AccessKeyID, Operation: "CreateDataSet",
			ResourceArn: aws.ToString(ds.Arn), Status: 201, RequestId: all[2].RequestId}, all[2])
		for _, l := range all {
			assert.NotEmpty(t, l.RequestId)
			assert.NotEmpty(t, l.Time)
		}
		assert.Equal(t, all[1:2], read("--account", other.AccountID))
		assert.Equal(t, all[2:], read("--operation", "CreateDataSet"))
		assert.Equal(t, all[:1], read("--limit", "1"))
	})
}
