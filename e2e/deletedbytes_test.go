package e2e

import (
	"context"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/stretchr/testify/require"

	"github.com/wharf-dev/wharf/internal/s3test"
)

// TestDeletedAssetsLoseTheirBytes imports objects, deletes one asset, then
// the data set, and watches the asset store (local directory, or an S3
// bucket on MinIO) lose exactly the deleted assets' objects, on both
// metadata stores.
func TestDeletedAssetsLoseTheirBytes(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		for _, assetStore := range []string{"local", "s3"} {
			t.Run(assetStore, func(t *testing.T) {
				t.Parallel()
				ctx := context.Background()
				minio := s3test.Start(t)
				args := []string{"--test-sweep-interval", "100ms"}
				assetBucket := ""
				if assetStore == "s3" {
					assetBucket = minio.NewBucket(t)
					args = append(args, "--asset-store", "s3://"+assetBucket+"/wharf/assets")
				}
				s := startS3Server(t, b, args...)
				// held lists the asset ids whose objects the asset store holds.
				held := func() []string {
					var ids []string
					if assetBucket != "" {
						for _, k := range s.minio.Keys(t, assetBucket) {
							ids = append(ids, k[strings.LastIndex(k, "/")+1:])
						}
					} else {
						_ = filepath.WalkDir(filepath.Join(s.DataDir, "assets"), func(p string, d fs.DirEntry, err error) error {
							if err == nil && d.Type().IsRegular() {
								ids = append(ids, d.Name())
							}
							return nil
						})
					}
					slices.Sort(ids)
					return ids
				}
				// waitHeld waits until the store holds exactly want. The
				// deadline only keeps a broken sweeper from hanging the run.
				waitHeld := func(want []string) {
					t.Helper()
					slices.Sort(want)
					deadline := time.Now().Add(time.Minute)
					for got := held(); !slices.Equal(got, want); got = held() {
						if time.Now().After(deadline) {
							t.Fatalf("the asset store holds %v, want %v", got, want)
						}
						time.Sleep(50 * time.Millisecond)
					}
				}

				src := s.minio.NewBucket(t)
				objects := putObjects(t, s.minio, src, "in/", 5)
				keys := make([]string, 0, len(objects))
				for k := range objects {
					keys = append(keys, k)
				}
				dsID, revID := revision(t, s.c)
				requireCompleted(t, runJob(t, s.c, types.TypeImportAssetsFromS3, importDetails(dsID, revID, src, keys...)))
				var ids []string
				for _, id := range checkImported(t, s.c, dsID, revID, objects) {
					ids = append(ids, id)
				}
				slices.Sort(ids)
				require.Equal(t, ids, held(), "one object per imported asset")

				_, err := s.c.DeleteAsset(ctx, &dataexchange.DeleteAssetInput{DataSetId: aws.String(dsID),
					RevisionId: aws.String(revID), AssetId: aws.String(ids[0])})
				require.NoError(t, err)
				waitHeld(ids[1:])

				_, err = s.c.DeleteDataSet(ctx, &dataexchange.DeleteDataSetInput{DataSetId: aws.String(dsID)})
				require.NoError(t, err)
				waitHeld(nil)
				if assetBucket != "" {
					require.Empty(t, s.minio.Uploads(t, assetBucket))
				}
			})
		}
	})
}
