package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wharf-dev/wharf/internal/s3test"
)

// s3Server is a wharf server whose root account's jobs (and, with an
// s3:// asset store, the asset store) use the test MinIO.
type s3Server struct {
	*server
	minio *s3test.Server
	c     *dataexchange.Client // root's
}

func startS3Server(t *testing.T, b backend, args ...string) s3Server {
	t.Helper()
	minio, env := s3Env(t)
	s := startServer(t, b, serverOptions{Env: env, Args: args})
	return s3Server{server: s, minio: minio, c: s.client(s.Root)}
}

// revision creates a data set and a revision in it with c.
func revision(t *testing.T, c *dataexchange.Client) (dataSetID, revisionID string) {
	t.Helper()
	ctx := context.Background()
	ds, err := c.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{
		AssetType: types.AssetTypeS3Snapshot, Name: aws.String("s3 jobs"), Description: aws.String("e2e"),
	})
	require.NoError(t, err)
	rev, err := c.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: ds.Id})
	require.NoError(t, err)
	return *ds.Id, *rev.Id
}

func importDetails(dataSetID, revisionID, bucket string, keys ...string) types.RequestDetails {
	sources := make([]types.AssetSourceEntry, len(keys))
	for i, k := range keys {
		sources[i] = types.AssetSourceEntry{Bucket: aws.String(bucket), Key: aws.String(k)}
	}
	return types.RequestDetails{ImportAssetsFromS3: &types.ImportAssetsFromS3RequestDetails{
		AssetSources: sources, DataSetId: aws.String(dataSetID), RevisionId: aws.String(revisionID),
	}}
}

// createJob creates a job, which must succeed and be WAITING.
func createJob(t *testing.T, c *dataexchange.Client, typ types.Type, details types.RequestDetails) string {
	t.Helper()
	out, err := c.CreateJob(context.Background(), &dataexchange.CreateJobInput{Type: typ, Details: &details})
	require.NoError(t, err, "CreateJob %s", typ)
	require.Equal(t, types.StateWaiting, out.State)
	return aws.ToString(out.Id)
}

// runJob creates and starts a job and waits for it to end.
func runJob(t *testing.T, c *dataexchange.Client, typ types.Type, details types.RequestDetails) *dataexchange.GetJobOutput {
	t.Helper()
	id := createJob(t, c, typ, details)
	_, err := c.StartJob(context.Background(), &dataexchange.StartJobInput{JobId: aws.String(id)})
	require.NoError(t, err, "StartJob")
	return waitJob(t, c, id)
}

// waitJob polls GetJob until the job has ended. The deadline only keeps a
// broken server from hanging the run; it asserts nothing about speed.
func waitJob(t *testing.T, c *dataexchange.Client, id string) *dataexchange.GetJobOutput {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		out, err := c.GetJob(context.Background(), &dataexchange.GetJobInput{JobId: aws.String(id)})
		require.NoError(t, err, "GetJob %s", id)
		switch out.State {
		case types.StateWaiting, types.StateInProgress:
		default:
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s after 3 minutes", id, out.State)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitCompleted waits for the job to end and fails the test unless it
// ended COMPLETED.
func waitCompleted(t *testing.T, c *dataexchange.Client, id string) *dataexchange.GetJobOutput {
	t.Helper()
	job := waitJob(t, c, id)
	requireCompleted(t, job)
	return job
}

func requireCompleted(t *testing.T, job *dataexchange.GetJobOutput) {
	t.Helper()
	require.Equal(t, types.StateCompleted, job.State, "job %s ended %s with errors %s", aws.ToString(job.Id), job.State, jobErrors(job.Errors))
	assert.Empty(t, job.Errors)
}

func jobErrors(errs []types.JobError) string {
	b, _ := json.Marshal(errs)
	return string(b)
}

// listAssets lists a revision's assets, every page.
func listAssets(t *testing.T, c *dataexchange.Client, dataSetID, revisionID string) []types.AssetEntry {
	t.Helper()
	var all []types.AssetEntry
	p := dataexchange.NewListRevisionAssetsPaginator(c, &dataexchange.ListRevisionAssetsInput{
		DataSetId: aws.String(dataSetID), RevisionId: aws.String(revisionID), MaxResults: 25,
	})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		require.NoError(t, err)
		all = append(all, page.Assets...)
	}
	return all
}

// putObjects writes n objects of distinct sizes under prefix and returns
// their contents by key.
func putObjects(t *testing.T, minio *s3test.Server, bucket, prefix string, n int) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	objects := make(map[string][]byte, n)
	for i := 0; i < n; i++ {
		data := make([]byte, 100+i*37)
		for j := range data {
			data[j] = byte(rand.IntN(256))
		}
		objects[fmt.Sprintf("%sobject-%03d.bin", prefix, i)] = data
	}
	// In parallel: 100 sequential PUTs are most of the test otherwise.
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	client := minio.Client()
	for key, data := range objects {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(key), Body: bytes.NewReader(data)})
			errs <- err
		}()
	}
	for range objects {
		require.NoError(t, <-errs)
	}
	return objects
}

// checkImported asserts that the revision holds exactly one S3_SNAPSHOT
// asset per object, named after its key, with its size.
func checkImported(t *testing.T, c *dataexchange.Client, dataSetID, revisionID string, objects map[string][]byte) map[string]string {
	t.Helper()
	assets := listAssets(t, c, dataSetID, revisionID)
	require.Len(t, assets, len(objects))
	idByName := map[string]string{}
	for _, a := range assets {
		name := aws.ToString(a.Name)
		data, ok := objects[name]
		if !assert.True(t, ok, "asset %q is named after no source key", name) {
			continue
		}
		assert.Equal(t, types.AssetTypeS3Snapshot, a.AssetType)
		require.NotNil(t, a.AssetDetails)
		require.NotNil(t, a.AssetDetails.S3SnapshotAsset, "asset %q: no S3SnapshotAsset", name)
		assert.Equal(t, float64(len(data)), a.AssetDetails.S3SnapshotAsset.Size, "asset %q: size", name)
		assert.Equal(t, revisionID, aws.ToString(a.RevisionId))
		_, dup := idByName[name]
		assert.False(t, dup, "two assets named %q", name)
		idByName[name] = aws.ToString(a.Id)
	}
	return idByName
}

// TestS3ImportExport imports 100 objects from MinIO and exports them back
// with each server-side encryption, on both metadata stores and both asset
// stores.
func TestS3ImportExport(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		for _, assetStore := range []string{"local", "s3"} {
			t.Run(assetStore, func(t *testing.T) {
				t.Parallel()
				minio := s3test.Start(t)
				var args []string
				assetBucket := ""
				if assetStore == "s3" {
					assetBucket = minio.NewBucket(t)
					args = append(args, "--asset-store", "s3://"+assetBucket+"/wharf/assets")
				}
				s := startS3Server(t, b, args...)
				roundTrip(t, s, assetBucket)
			})
		}
	})
}

func roundTrip(t *testing.T, s s3Server, assetBucket string) {
	ctx := context.Background()
	src := s.minio.NewBucket(t)
	dst := s.minio.NewBucket(t)
	objects := putObjects(t, s.minio, src, "in/", 100)
	keys := make([]string, 0, len(objects))
	for k := range objects {
		keys = append(keys, k)
	}
	dsID, revID := revision(t, s.c)

	job := runJob(t, s.c, types.TypeImportAssetsFromS3, importDetails(dsID, revID, src, keys...))
	requireCompleted(t, job)
	require.NotNil(t, job.Details.ImportAssetsFromS3)
	assert.Len(t, job.Details.ImportAssetsFromS3.AssetSources, 100)
	idByName := checkImported(t, s.c, dsID, revID, objects)

	if assetBucket != "" {
		held := s.minio.Keys(t, assetBucket)
		assert.Len(t, held, 100, "the asset store holds one object per asset")
		for _, k := range held {
			assert.True(t, strings.HasPrefix(k, "wharf/assets/"), "asset store key %q outside its prefix", k)
		}
		assert.Empty(t, s.minio.Uploads(t, assetBucket))
	}

	encryptions := []struct {
		name    string
		prefix  string
		enc     *types.ExportServerSideEncryption
		wantSSE string
	}{
		{"AES256", "aes/", &types.ExportServerSideEncryption{Type: types.ServerSideEncryptionTypesAes256}, "AES256"},
		{"aws:kms", "kms/", &types.ExportServerSideEncryption{
			Type: types.ServerSideEncryptionTypesAwsKms, KmsKeyArn: aws.String("arn:aws:kms:" + s.minio.KMSKeyID)}, "aws:kms"},
	}
	for _, e := range encryptions {
		if e.wantSSE == "aws:kms" && !s.minio.HasKMS() {
			t.Logf("%s has no KMS: skipping the aws:kms export", s.minio.Kind)
			continue
		}
		var dests []types.AssetDestinationEntry
		for name, id := range idByName {
			dests = append(dests, types.AssetDestinationEntry{
				AssetId: aws.String(id), Bucket: aws.String(dst), Key: aws.String(e.prefix + name),
			})
		}
		job := runJob(t, s.c, types.TypeExportAssetsToS3, types.RequestDetails{ExportAssetsToS3: &types.ExportAssetsToS3RequestDetails{
			AssetDestinations: dests, DataSetId: aws.String(dsID), RevisionId: aws.String(revID), Encryption: e.enc,
		}})
		requireCompleted(t, job)
		require.NotNil(t, job.Details.ExportAssetsToS3)
		require.NotNil(t, job.Details.ExportAssetsToS3.Encryption)
		assert.Equal(t, e.enc.Type, job.Details.ExportAssetsToS3.Encryption.Type)

		for name, want := range objects {
			key := e.prefix + name
			got := s.minio.GetObject(t, dst, key)
			assert.True(t, bytes.Equal(want, got), "%s: exported bytes differ from the source", key)
			h, err := s.minio.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(dst), Key: aws.String(key)})
			require.NoError(t, err)
			assert.Equal(t, e.wantSSE, string(h.ServerSideEncryption), "%s: x-amz-server-side-encryption", key)
			if e.wantSSE == "aws:kms" {
				assert.Contains(t, aws.ToString(h.SSEKMSKeyId), s.minio.KMSKeyID, "%s: KMS key", key)
			}
		}
	}
	assert.Len(t, s.minio.Keys(t, dst), len(objects)*len(encryptions))
	assert.Empty(t, s.minio.Uploads(t, dst))
}

// TestS3JobRules checks the refusals and failures of S3 jobs.
func TestS3JobRules(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := startS3Server(t, b)
		ctx := context.Background()
		src := s.minio.NewBucket(t)
		s.minio.PutObject(t, src, "present.csv", []byte("a,b\n1,2\n"))
		dsID, revID := revision(t, s.c)

		t.Run("aws:kms without KmsKeyArn", func(t *testing.T) {
			_, err := s.c.CreateJob(ctx, &dataexchange.CreateJobInput{Type: types.TypeExportAssetsToS3, Details: &types.RequestDetails{
				ExportAssetsToS3: &types.ExportAssetsToS3RequestDetails{
					AssetDestinations: []types.AssetDestinationEntry{{AssetId: aws.String("0123456789abcdef0123456789abcdef"), Bucket: aws.String(src)}},
					DataSetId:         aws.String(dsID), RevisionId: aws.String(revID),
					Encryption: &types.ExportServerSideEncryption{Type: types.ServerSideEncryptionTypesAwsKms},
				},
			}})
			requireValidation(t, err)
			assert.Contains(t, err.Error(), "KmsKeyArn")
		})

		t.Run("101 sources", func(t *testing.T) {
			keys := make([]string, 101)
			for i := range keys {
				keys[i] = fmt.Sprintf("k%d", i)
			}
			details := importDetails(dsID, revID, src, keys...)
			_, err := s.c.CreateJob(ctx, &dataexchange.CreateJobInput{Type: types.TypeImportAssetsFromS3, Details: &details})
			checkWireError(t, err, http.StatusPaymentRequired, "ServiceLimitExceededException")
			// CreateJob models no ServiceLimitExceededException, so the SDK
			// shows it as a generic error: read the limit from the body.
			body, err := json.Marshal(map[string]any{"Type": "IMPORT_ASSETS_FROM_S3", "Details": details})
			require.NoError(t, err)
			resp := s.signed(t, s.Root, http.MethodPost, "/v1/jobs", string(body), time.Now(), nil)
			checkRawError(t, resp, http.StatusPaymentRequired, "ServiceLimitExceededException")
			var shape struct {
				LimitName  string
				LimitValue float64
			}
			require.NoError(t, json.Unmarshal([]byte(resp.Body), &shape))
			assert.Equal(t, "Assets per import job from Amazon S3", shape.LimitName)
			assert.Equal(t, 100.0, shape.LimitValue)
			jobs, err := s.c.ListJobs(ctx, &dataexchange.ListJobsInput{RevisionId: aws.String(revID)})
			require.NoError(t, err)
			for _, j := range jobs.Jobs {
				assert.Less(t, len(j.Details.ImportAssetsFromS3.AssetSources), 101, "a refused job was stored")
			}
		})

		t.Run("cancel a WAITING job", func(t *testing.T) {
			id := createJob(t, s.c, types.TypeImportAssetsFromS3, importDetails(dsID, revID, src, "present.csv"))
			_, err := s.c.CancelJob(ctx, &dataexchange.CancelJobInput{JobId: aws.String(id)})
			require.NoError(t, err)
			got, err := s.c.GetJob(ctx, &dataexchange.GetJobInput{JobId: aws.String(id)})
			require.NoError(t, err)
			assert.Equal(t, types.StateCancelled, got.State)
			_, err = s.c.CancelJob(ctx, &dataexchange.CancelJobInput{JobId: aws.String(id)})
			requireConflict(t, err, types.ResourceTypeJob, id)
			_, err = s.c.StartJob(ctx, &dataexchange.StartJobInput{JobId: aws.String(id)})
			requireConflict(t, err, types.ResourceTypeJob, id)
		})

		t.Run("finished jobs can't be cancelled or restarted", func(t *testing.T) {
			_, rev := revisionIn(t, s.c, dsID)
			job := runJob(t, s.c, types.TypeImportAssetsFromS3, importDetails(dsID, rev, src, "present.csv"))
			requireCompleted(t, job)
			id := aws.ToString(job.Id)
			_, err := s.c.CancelJob(ctx, &dataexchange.CancelJobInput{JobId: aws.String(id)})
			requireConflict(t, err, types.ResourceTypeJob, id)
			_, err = s.c.StartJob(ctx, &dataexchange.StartJobInput{JobId: aws.String(id)})
			requireConflict(t, err, types.ResourceTypeJob, id)
			got, err := s.c.GetJob(ctx, &dataexchange.GetJobInput{JobId: aws.String(id)})
			require.NoError(t, err)
			assert.Equal(t, types.StateCompleted, got.State)
			assert.Len(t, listAssets(t, s.c, dsID, rev), 1, "a refused restart made assets")
		})

		t.Run("a missing key ends in ERROR naming it", func(t *testing.T) {
			_, rev := revisionIn(t, s.c, dsID)
			job := runJob(t, s.c, types.TypeImportAssetsFromS3, importDetails(dsID, rev, src, "present.csv", "missing/key.csv"))
			require.Equal(t, types.StateError, job.State)
			require.Len(t, job.Errors, 1, "errors: %s", jobErrors(job.Errors))
			je := job.Errors[0]
			assert.Equal(t, types.CodeResourceNotFoundException, je.Code)
			assert.Contains(t, aws.ToString(je.Message), "missing/key.csv")
			require.NotNil(t, je.Details)
			assert.Equal(t, []types.AssetSourceEntry{{Bucket: aws.String(src), Key: aws.String("missing/key.csv")}},
				je.Details.ImportAssetsFromS3JobErrorDetails)
			assert.Empty(t, listAssets(t, s.c, dsID, rev), "a failed import must leave no asset")
			// Only the asset of the completed import above has bytes.
			assert.Len(t, localStoreFiles(t, s.server), 1, "files in the local asset store")
		})
	})
}

// localStoreFiles lists the files of the server's default local asset
// store, as paths relative to it (account/data set/asset id).
func localStoreFiles(t *testing.T, s *server) []string {
	t.Helper()
	root := filepath.Join(s.DataDir, "assets")
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(root, path)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	require.NoError(t, err)
	return files
}

// revisionIn creates another revision in a data set.
func revisionIn(t *testing.T, c *dataexchange.Client, dataSetID string) (string, string) {
	t.Helper()
	rev, err := c.CreateRevision(context.Background(), &dataexchange.CreateRevisionInput{DataSetId: aws.String(dataSetID)})
	require.NoError(t, err)
	return dataSetID, aws.ToString(rev.Id)
}

// TestAWSCLIS3Import runs the seed's flow with each installed AWS CLI:
// create-job, start-job, get-job until COMPLETED, list-revision-assets.
func TestAWSCLIS3Import(t *testing.T) {
	clis := findCLIs(t)
	if len(clis) == 0 {
		if os.Getenv("WHARF_TEST_REQUIRE_AWSCLI") == "1" {
			t.Fatal("no AWS CLI installed and WHARF_TEST_REQUIRE_AWSCLI=1")
		}
		t.Skip("no AWS CLI installed; set WHARF_TEST_REQUIRE_AWSCLI=1 to fail instead")
	}
	eachBackend(t, func(t *testing.T, b backend) {
		s := startS3Server(t, b)
		src := s.minio.NewBucket(t)
		s.minio.PutObject(t, src, "MyKey", []byte("seed flow bytes\n"))
		for _, cli := range clis {
			t.Run(cli.name(), func(t *testing.T) {
				t.Parallel()
				c := s.Root
				ds := cli.ok(t, s.server, c, "create-data-set", "--asset-type", "S3_SNAPSHOT", "--name", "seed", "--description", "seed flow")
				dsID := str(ds, "Id")
				rev := cli.ok(t, s.server, c, "create-revision", "--data-set-id", dsID)
				revID := str(rev, "Id")
				details := fmt.Sprintf(`{"ImportAssetsFromS3":{"AssetSources":[{"Bucket":%q,"Key":"MyKey"}],"DataSetId":%q,"RevisionId":%q}}`,
					src, dsID, revID)
				job := cli.ok(t, s.server, c, "create-job", "--type", "IMPORT_ASSETS_FROM_S3", "--details", details)
				jobID := str(job, "Id")
				assert.Equal(t, "WAITING", str(job, "State"))
				assert.Equal(t, "arn:aws:dataexchange:"+s.Region+":"+c.AccountID+":jobs/"+jobID, str(job, "Arn"))
				cli.ok(t, s.server, c, "start-job", "--job-id", jobID)
				deadline := time.Now().Add(2 * time.Minute)
				var got map[string]any
				for {
					got = cli.ok(t, s.server, c, "get-job", "--job-id", jobID)
					if st := str(got, "State"); st != "WAITING" && st != "IN_PROGRESS" {
						break
					}
					require.True(t, time.Now().Before(deadline), "job still %s", str(got, "State"))
					time.Sleep(200 * time.Millisecond)
				}
				require.Equal(t, "COMPLETED", str(got, "State"), "get-job: %v", got)
				assets := list(cli.ok(t, s.server, c, "list-revision-assets", "--data-set-id", dsID, "--revision-id", revID), "Assets")
				require.Len(t, assets, 1)
				assert.Equal(t, "MyKey", str(assets[0], "Name"))
				assert.Equal(t, "S3_SNAPSHOT", str(assets[0], "AssetType"))
				details2, _ := assets[0]["AssetDetails"].(map[string]any)
				snap, _ := details2["S3SnapshotAsset"].(map[string]any)
				assert.EqualValues(t, len("seed flow bytes\n"), snap["Size"])
			})
		}
	})
}

// TestS3FailuresNamed runs jobs that fail because of S3 or the network,
// through the real binary and real MinIO servers: each ends in ERROR with a
// message naming the cause (S3's code and message, or the endpoint that
// could not be reached) and the bucket and key, under the code docs/jobs.md
// gives; and none of them makes the server log an ERROR or count a failed
// clean-up (they left nothing to clean up).
func TestS3FailuresNamed(t *testing.T) {
	t.Parallel()
	s := startS3Server(t, backends[0])
	plain := s3test.StartWithoutKMS(t, "e2e-without-kms")
	tenant := s.createAccount(t, "")
	tc := s.client(tenant)
	setProfile := func(endpoint, accessKey, secret string) {
		t.Helper()
		_, errOut, err := s.adminWith(t, nil, secret+"\n", "accounts", "s3", "set",
			"--account", tenant.AccountID, "--endpoint", endpoint, "--path-style", "--access-key-id", accessKey)
		require.NoError(t, err, errOut)
	}
	requireFailure := func(job *dataexchange.GetJobOutput, code types.Code, parts ...string) {
		t.Helper()
		require.Equal(t, types.StateError, job.State)
		require.Len(t, job.Errors, 1, jobErrors(job.Errors))
		assert.Equal(t, code, job.Errors[0].Code, jobErrors(job.Errors))
		for _, p := range parts {
			assert.Contains(t, aws.ToString(job.Errors[0].Message), p)
		}
	}

	// An asset of the tenant's to export, imported from the KMS-less server.
	setProfile(plain.URL, plain.AccessKeyID, plain.SecretAccessKey)
	src := plain.NewBucket(t)
	plain.PutObject(t, src, "in/data.csv", []byte("a,b\n1,2\n"))
	dsID, revID := revision(t, tc)
	requireCompleted(t, runJob(t, tc, types.TypeImportAssetsFromS3, importDetails(dsID, revID, src, "in/data.csv")))
	assets := listAssets(t, tc, dsID, revID)
	require.Len(t, assets, 1)
	assetID := aws.ToString(assets[0].Id)
	export := func(bucket, key string, enc *types.ExportServerSideEncryption) *dataexchange.GetJobOutput {
		t.Helper()
		return runJob(t, tc, types.TypeExportAssetsToS3, types.RequestDetails{ExportAssetsToS3: &types.ExportAssetsToS3RequestDetails{
			AssetDestinations: []types.AssetDestinationEntry{{AssetId: aws.String(assetID), Bucket: aws.String(bucket), Key: aws.String(key)}},
			DataSetId:         aws.String(dsID), RevisionId: aws.String(revID), Encryption: enc,
		}})
	}

	// AES256 on a server without KMS: S3's NotImplemented, named.
	dst := plain.NewBucket(t)
	requireFailure(export(dst, "out/data.csv", &types.ExportServerSideEncryption{Type: types.ServerSideEncryptionTypesAes256}),
		types.CodeValidationException, "s3://"+dst+"/out/data.csv", "NotImplemented", "KMS is not configured")
	assert.Empty(t, plain.Keys(t, dst))

	// S3 refuses the credentials: its code, for the import and the export.
	setProfile(plain.URL, plain.AccessKeyID, "not-the-secret")
	_, rev2 := revisionIn(t, tc, dsID)
	requireFailure(runJob(t, tc, types.TypeImportAssetsFromS3, importDetails(dsID, rev2, src, "in/data.csv")),
		types.CodeAccessDeniedException, "S3 refused to read s3://"+src+"/in/data.csv", "SignatureDoesNotMatch")
	requireFailure(export(dst, "out/data.csv", nil),
		types.CodeAccessDeniedException, "S3 refused to write s3://"+dst+"/out/data.csv", "SignatureDoesNotMatch")

	// An endpoint that refuses connections: named, with the location.
	closed := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	setProfile(closed, plain.AccessKeyID, plain.SecretAccessKey)
	requireFailure(runJob(t, tc, types.TypeImportAssetsFromS3, importDetails(dsID, rev2, src, "in/data.csv")),
		types.CodeValidationException, "the S3 endpoint "+closed+" could not be reached", "s3://"+src+"/in/data.csv", "connection refused")
	requireFailure(export(dst, "out/data.csv", nil),
		types.CodeValidationException, "the S3 endpoint "+closed+" could not be reached", "s3://"+dst+"/out/data.csv", "connection refused")

	// No false alarms: no failed clean-up counted, no ERROR logged.
	resp, err := http.Get(s.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	var metrics bytes.Buffer
	_, err = metrics.ReadFrom(resp.Body)
	require.NoError(t, err)
	for _, line := range strings.Split(metrics.String(), "\n") {
		if strings.HasPrefix(line, "wharf_job_cleanup_failures_total{") {
			assert.True(t, strings.HasSuffix(line, " 0"), "a clean-up failure was counted: %s", line)
		}
	}
	for _, line := range strings.Split(s.stderr.String(), "\n") {
		assert.NotContains(t, line, "level=ERROR", "the server logged an ERROR")
	}
}
