package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wharf-dev/wharf/internal/s3test"
)

// clientEnv is the environment of a `wharf publish`/`subscribe` process:
// Wharf's endpoint and an account's keys in the standard variables, and,
// when minio is set, a shared-config profile "minio" with MinIO's
// endpoint and keys for the commands' own S3 calls (--s3-profile minio).
func clientEnv(t *testing.T, s *server, c creds, minio *s3test.Server) []string {
	t.Helper()
	var env []string
	for _, kv := range baseEnv() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	dir := t.TempDir()
	config, credentials := "", ""
	if minio != nil {
		config = "[profile minio]\nregion = " + minio.Region + "\nservices = minio\n\n[services minio]\ns3 =\n  endpoint_url = " + minio.URL + "\n"
		credentials = "[minio]\naws_access_key_id = " + minio.AccessKeyID + "\naws_secret_access_key = " + minio.SecretAccessKey + "\n"
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "credentials"), []byte(credentials), 0o600))
	return append(env,
		"AWS_ENDPOINT_URL_DATAEXCHANGE="+s.URL,
		"AWS_ACCESS_KEY_ID="+c.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+c.SecretAccessKey,
		"AWS_REGION="+s.Region,
		"AWS_CONFIG_FILE="+filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
	)
}

// wharfRun runs the wharf binary with env and returns its outputs.
func wharfRun(t *testing.T, env []string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, wharfBin, args...)
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// publishSummary is `wharf publish --output json`'s.
type publishSummary struct {
	DataSetId string
	Revisions []struct {
		Id             string
		Created        bool
		Finalized      bool
		AssetsImported int
		AssetsSkipped  int
	}
	AssetsImported int
	AssetsSkipped  int
	BytesImported  int64
	Jobs           int
	CancelledJobs  []string
	Failures       []struct {
		Assets []string
		JobId  string
		Error  string
	}
}

func publishJSON(t *testing.T, env []string, args ...string) publishSummary {
	t.Helper()
	stdout, stderr, err := wharfRun(t, env, append([]string{"publish", "--output", "json"}, args...)...)
	require.NoError(t, err, "wharf publish %v\nstdout:\n%s\nstderr:\n%s", args, stdout, stderr)
	var sum publishSummary
	require.NoError(t, json.Unmarshal([]byte(stdout), &sum), stdout)
	return sum
}

// publishJSONFailing runs a `wharf publish --output json` that must exit 1
// with its summary on stdout, and returns the summary and stderr.
func publishJSONFailing(t *testing.T, env []string, args ...string) (publishSummary, string) {
	t.Helper()
	stdout, stderr, err := wharfRun(t, env, append([]string{"publish", "--output", "json"}, args...)...)
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "wharf publish %v succeeded\nstdout:\n%s\nstderr:\n%s", args, stdout, stderr)
	require.Equal(t, 1, exit.ExitCode(), stderr)
	var sum publishSummary
	require.NoError(t, json.Unmarshal([]byte(stdout), &sum), "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	return sum, stderr
}

func newDataSet(t *testing.T, c *dataexchange.Client, name string) string {
	t.Helper()
	ds, err := c.CreateDataSet(context.Background(), &dataexchange.CreateDataSetInput{
		AssetType: types.AssetTypeS3Snapshot, Name: aws.String(name), Description: aws.String("publish e2e"),
	})
	require.NoError(t, err)
	return aws.ToString(ds.Id)
}

func newRevision(t *testing.T, c *dataexchange.Client, dataSetID string) string {
	t.Helper()
	rev, err := c.CreateRevision(context.Background(), &dataexchange.CreateRevisionInput{DataSetId: aws.String(dataSetID)})
	require.NoError(t, err)
	return aws.ToString(rev.Id)
}

// putSizedObjects puts n objects prefix0000.. of size bytes each (distinct
// contents) and returns their keys.
func putSizedObjects(t *testing.T, minio *s3test.Server, bucket, prefix string, n, size int) []string {
	t.Helper()
	keys := make([]string, n)
	for i := range n {
		keys[i] = fmt.Sprintf("%s%04d.bin", prefix, i)
		body := bytes.Repeat([]byte{byte('a' + i%26)}, size)
		copy(body, keys[i])
		minio.PutObject(t, bucket, keys[i], body)
	}
	return keys
}

func assetNames(assets []types.AssetEntry) []string {
	names := make([]string, len(assets))
	for i, a := range assets {
		names[i] = aws.ToString(a.Name)
	}
	sort.Strings(names)
	return names
}

func listAllJobs(t *testing.T, c *dataexchange.Client, dataSetID, revisionID string) []types.JobEntry {
	t.Helper()
	var out []types.JobEntry
	p := dataexchange.NewListJobsPaginator(c, &dataexchange.ListJobsInput{DataSetId: aws.String(dataSetID), RevisionId: aws.String(revisionID)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		require.NoError(t, err)
		out = append(out, page.Jobs...)
	}
	return out
}

// TestPublishS3 publishes 250 objects of a MinIO prefix into one revision
// with `wharf publish`: a run killed midway (kill -9, with a WAITING job
// an earlier crash left too) is run again and the revision holds exactly
// the 250 objects, finalized; a third run adds nothing and creates no job.
func TestPublishS3(t *testing.T) {
	t.Parallel()
	s := startS3Server(t, backends[0])
	bucket := s.minio.NewBucket(t)
	keys := putSizedObjects(t, s.minio, bucket, "data/", 250, 256)
	s.minio.PutObject(t, bucket, "other/ignored.bin", []byte("not under the prefix"))
	env := clientEnv(t, s.server, s.Root, s.minio)
	ds := newDataSet(t, s.c, "publish-s3")
	rev := newRevision(t, s.c, ds)
	ctx := context.Background()

	// A run killed once its first job has completed: one job at a time, so
	// that the kill comes before the last.
	cmd := exec.Command(wharfBin, "publish", "--data-set", ds, "--revision", rev, "--jobs", "1",
		"--s3-profile", "minio", "s3://"+bucket+"/data/")
	cmd.Env = env
	var killedOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &killedOut, &killedOut
	require.NoError(t, cmd.Start())
	deadline := time.Now().Add(time.Minute)
	for {
		out, err := s.c.ListRevisionAssets(ctx, &dataexchange.ListRevisionAssetsInput{DataSetId: aws.String(ds), RevisionId: aws.String(rev)})
		require.NoError(t, err)
		if len(out.Assets) > 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the first run imported nothing within a minute:\n%s", killedOut.String())
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	partial := listAssets(t, s.c, ds, rev)
	require.Less(t, len(partial), 250, "the first run finished before it was killed")
	t.Logf("the killed run left %d assets", len(partial))
	// And what a run killed between CreateJob and StartJob leaves.
	leftover := createJob(t, s.c, types.TypeImportAssetsFromS3, importDetails(ds, rev, bucket, keys[len(keys)-1]))
	// Another client's imports into the same revision, waiting for their
	// bytes or their start: not the publish's to cancel.
	othersS3 := createJob(t, s.c, types.TypeImportAssetsFromS3, importDetails(ds, rev, bucket, "other/ignored.bin"))
	othersUpload := createJob(t, s.c, types.TypeImportAssetFromSignedUrl, types.RequestDetails{
		ImportAssetFromSignedUrl: &types.ImportAssetFromSignedUrlRequestDetails{
			DataSetId: aws.String(ds), RevisionId: aws.String(rev),
			AssetName: aws.String("uploaded-by-someone.csv"), Md5Hash: aws.String("1B2M2Y8AsgTpgAmY7PhCfg=="),
		}})

	sum := publishJSON(t, env, "--data-set", ds, "--revision", rev, "--finalize", "--s3-profile", "minio", "s3://"+bucket+"/data/")
	assert.Equal(t, 250, sum.AssetsImported+sum.AssetsSkipped)
	assert.Empty(t, sum.Failures)
	assert.Contains(t, sum.CancelledJobs, leftover)
	require.Len(t, sum.Revisions, 1)
	assert.True(t, sum.Revisions[0].Finalized)

	assets := listAssets(t, s.c, ds, rev)
	require.Len(t, assets, 250)
	assert.Equal(t, keys, assetNames(assets), "one asset per object, named after its key")
	for _, a := range assets {
		assert.EqualValues(t, 256, a.AssetDetails.S3SnapshotAsset.Size)
	}
	got, err := s.c.GetRevision(ctx, &dataexchange.GetRevisionInput{DataSetId: aws.String(ds), RevisionId: aws.String(rev)})
	require.NoError(t, err)
	assert.True(t, got.Finalized)
	j, err := s.c.GetJob(ctx, &dataexchange.GetJobInput{JobId: aws.String(leftover)})
	require.NoError(t, err)
	assert.Equal(t, types.StateCancelled, j.State, "the WAITING job the crash left")
	for _, id := range []string{othersS3, othersUpload} {
		j, err := s.c.GetJob(ctx, &dataexchange.GetJobInput{JobId: aws.String(id)})
		require.NoError(t, err)
		assert.Equal(t, types.StateWaiting, j.State, "another client's job %s", id)
		_, err = s.c.CancelJob(ctx, &dataexchange.CancelJobInput{JobId: aws.String(id)})
		require.NoError(t, err)
	}
	for _, j := range listAllJobs(t, s.c, ds, rev) {
		assert.NotEqual(t, types.StateWaiting, j.State, "job %s left WAITING", aws.ToString(j.Id))
		if j.Type == types.TypeImportAssetsFromS3 && j.State == types.StateCompleted {
			assert.LessOrEqual(t, len(j.Details.ImportAssetsFromS3.AssetSources), 100)
		}
	}

	jobsBefore := len(listAllJobs(t, s.c, ds, rev))
	sum = publishJSON(t, env, "--data-set", ds, "--revision", rev, "--finalize", "--s3-profile", "minio", "s3://"+bucket+"/data/")
	assert.Equal(t, 0, sum.AssetsImported)
	assert.Equal(t, 250, sum.AssetsSkipped)
	assert.Equal(t, 0, sum.Jobs)
	assert.Len(t, listAssets(t, s.c, ds, rev), 250)
	assert.Equal(t, jobsBefore, len(listAllJobs(t, s.c, ds, rev)), "the third run created jobs")

	// Without --output json: a line per job (not a terminal), a summary.
	rev2 := newRevision(t, s.c, ds)
	stdout, stderr, err := wharfRun(t, env, "publish", "--data-set", ds, "--revision", rev2, "--s3-profile", "minio", "s3://"+bucket+"/data/00")
	require.NoError(t, err, stderr)
	assert.Contains(t, stderr, "IMPORT_ASSETS_FROM_S3 COMPLETED: 100 assets")
	assert.Contains(t, stdout, "100 assets imported")

	// A missing bucket fails the listing, before any job (a job that
	// fails is TestPublishSpill's).
	jobsBefore = len(listAllJobs(t, s.c, ds, rev2))
	_, stderr, err = wharfRun(t, env, "publish", "--data-set", ds, "--revision", rev2, "--s3-profile", "minio", "s3://no-such-bucket-here/")
	assert.Error(t, err)
	assert.Contains(t, stderr, "no-such-bucket-here")
	assert.Equal(t, jobsBefore, len(listAllJobs(t, s.c, ds, rev2)))
}

// TestPublishSpill publishes more objects than the (lowered) per-revision
// limit: with --new-revision they spread over revisions of at most the
// limit, each finalized, in order; with --revision the publish is refused
// before anything is imported. A job that fails (the server's quota is
// lower than the one planned with) exits 1 and lists the failure with its
// job and error; with a revision whose job fails, --finalize finalizes
// neither it nor the ones after it, and a second run completes and
// finalizes them in order.
func TestPublishSpill(t *testing.T) {
	t.Parallel()
	s := startS3Server(t, backends[0], "--test-assets-per-revision", "40")
	bucket := s.minio.NewBucket(t)
	keys := putSizedObjects(t, s.minio, bucket, "p/", 100, 16)
	env := clientEnv(t, s.server, s.Root, s.minio)
	ds := newDataSet(t, s.c, "publish-spill")

	rev := newRevision(t, s.c, ds)
	stdout, stderr, err := wharfRun(t, env, "publish", "--data-set", ds, "--revision", rev, "--assets-per-revision", "40",
		"--s3-profile", "minio", "s3://"+bucket+"/p/")
	require.Error(t, err, stdout)
	assert.Contains(t, stderr, "holds 0 assets and 100 more would make 100, over the limit of 40")
	assert.Empty(t, listAssets(t, s.c, ds, rev))
	assert.Empty(t, listAllJobs(t, s.c, ds, rev))

	sum := publishJSON(t, env, "--data-set", ds, "--new-revision", "--comment", "spilled", "--finalize", "--assets-per-revision", "40",
		"--s3-profile", "minio", "s3://"+bucket+"/p/")
	require.Len(t, sum.Revisions, 3)
	assert.Equal(t, 100, sum.AssetsImported)
	var all []types.AssetEntry
	var finalizedAt []time.Time
	for i, r := range sum.Revisions {
		want := []int{40, 40, 20}[i]
		assets := listAssets(t, s.c, ds, r.Id)
		assert.Len(t, assets, want, "revision %d", i+1)
		all = append(all, assets...)
		got, err := s.c.GetRevision(context.Background(), &dataexchange.GetRevisionInput{DataSetId: aws.String(ds), RevisionId: aws.String(r.Id)})
		require.NoError(t, err)
		assert.True(t, got.Finalized, "revision %d", i+1)
		assert.Equal(t, "spilled", aws.ToString(got.Comment))
		finalizedAt = append(finalizedAt, aws.ToTime(got.UpdatedAt))
	}
	assert.Equal(t, keys, assetNames(all))
	assert.True(t, sort.SliceIsSorted(finalizedAt, func(i, j int) bool { return finalizedAt[i].Before(finalizedAt[j]) }),
		"revisions finalized out of order: %v", finalizedAt)

	// The same publish again finds its revisions and adds nothing.
	again := publishJSON(t, env, "--data-set", ds, "--new-revision", "--finalize", "--assets-per-revision", "40",
		"--s3-profile", "minio", "s3://"+bucket+"/p/")
	assert.Equal(t, 0, again.AssetsImported)
	assert.Equal(t, 100, again.AssetsSkipped)
	require.Len(t, again.Revisions, 3)
	for i := range again.Revisions {
		assert.Equal(t, sum.Revisions[i].Id, again.Revisions[i].Id)
	}

	// A job that fails: planned with 10,000 assets per revision (the
	// default), 50 objects go into one IMPORT_ASSETS_FROM_S3 job, which
	// the server's quota of 40 makes end in ERROR. Exit status 1, and the
	// failure listed with its job and the job's error.
	putSizedObjects(t, s.minio, bucket, "fifty/", 50, 16)
	ds2 := newDataSet(t, s.c, "publish-job-failure")
	rev = newRevision(t, s.c, ds2)
	stdout, stderr, err = wharfRun(t, env, "publish", "--data-set", ds2, "--revision", rev, "--finalize", "--s3-profile", "minio", "s3://"+bucket+"/fifty/")
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Equal(t, 1, exit.ExitCode())
	jobs := listAllJobs(t, s.c, ds2, rev)
	require.Len(t, jobs, 1)
	failedJob := aws.ToString(jobs[0].Id)
	assert.Equal(t, types.StateError, jobs[0].State)
	require.NotEmpty(t, jobs[0].Errors)
	jobMessage := aws.ToString(jobs[0].Errors[0].Message)
	assert.Contains(t, jobMessage, `more would exceed the limit "Assets per revision" (40)`)
	assert.Contains(t, stderr, "failed: [fifty/0000.bin ")
	assert.Contains(t, stderr, "(job "+failedJob+"): job "+failedJob+" ended ERROR")
	assert.Contains(t, stderr, "SERVICE_QUOTA_EXCEEDED_EXCEPTION: "+jobMessage)
	assert.Contains(t, stderr, "job "+failedJob+" IMPORT_ASSETS_FROM_S3 ERROR: 50 assets")
	assert.Contains(t, stdout, "0 assets imported (0 bytes) in 1 jobs, 0 skipped, 50 failed")
	assert.Contains(t, stdout, "revision "+rev+" (open)", "a revision with a failed job is not finalized")
	assert.Empty(t, listAssets(t, s.c, ds2, rev))

	// --finalize stops at the first revision with a failed job: planned
	// with 45 assets per revision, the 100 objects make parts of 45, 45
	// and 10; the server's quota of 40 fails the first two, and the third,
	// whose job completes, is not finalized either (it would be a
	// finalized revision after a missing one).
	ds3 := newDataSet(t, s.c, "publish-finalize-order")
	failed, stderr := publishJSONFailing(t, env, "--data-set", ds3, "--new-revision", "--finalize", "--assets-per-revision", "45",
		"--s3-profile", "minio", "s3://"+bucket+"/p/")
	require.Len(t, failed.Revisions, 3)
	assert.Equal(t, 10, failed.AssetsImported)
	require.Len(t, failed.Failures, 2, stderr)
	for _, f := range failed.Failures {
		assert.NotEmpty(t, f.JobId)
		assert.Contains(t, f.Error, "SERVICE_QUOTA_EXCEEDED_EXCEPTION")
	}
	for i, r := range failed.Revisions {
		assert.False(t, r.Finalized, "revision %d", i+1)
		got, err := s.c.GetRevision(context.Background(), &dataexchange.GetRevisionInput{DataSetId: aws.String(ds3), RevisionId: aws.String(r.Id)})
		require.NoError(t, err)
		assert.False(t, got.Finalized, "revision %d was finalized after a revision with a failed job", i+1)
	}
	// Run again within the quota: the same three revisions are completed
	// and finalized, in order.
	fixed := publishJSON(t, env, "--data-set", ds3, "--new-revision", "--finalize", "--assets-per-revision", "40",
		"--s3-profile", "minio", "s3://"+bucket+"/p/")
	assert.Equal(t, 90, fixed.AssetsImported)
	assert.Equal(t, 10, fixed.AssetsSkipped)
	require.Len(t, fixed.Revisions, 3)
	all = nil
	finalizedAt = nil
	for i, r := range fixed.Revisions {
		assert.Equal(t, failed.Revisions[i].Id, r.Id)
		assert.True(t, r.Finalized, "revision %d", i+1)
		all = append(all, listAssets(t, s.c, ds3, r.Id)...)
		got, err := s.c.GetRevision(context.Background(), &dataexchange.GetRevisionInput{DataSetId: aws.String(ds3), RevisionId: aws.String(r.Id)})
		require.NoError(t, err)
		finalizedAt = append(finalizedAt, aws.ToTime(got.UpdatedAt))
	}
	assert.Equal(t, keys, assetNames(all))
	assert.True(t, sort.SliceIsSorted(finalizedAt, func(i, j int) bool { return finalizedAt[i].Before(finalizedAt[j]) }),
		"revisions finalized out of order: %v", finalizedAt)
}

// writeTree writes files (path -> contents) under dir.
func writeTree(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, body, 0o644))
	}
}

// TestPublishDirectory publishes a directory of 30 files, 5 of them in a
// subdirectory, through signed-URL uploads: each an asset named after its
// path relative to the directory; a single file is named after its base
// name.
func TestPublishDirectory(t *testing.T) {
	t.Parallel()
	s := startServer(t, backends[0])
	c := s.client(s.Root)
	env := clientEnv(t, s, s.Root, nil)
	dir := t.TempDir()
	files := map[string][]byte{}
	for i := range 25 {
		files[fmt.Sprintf("top-%02d.csv", i)] = bytes.Repeat([]byte(fmt.Sprintf("row %d\n", i)), i+1)
	}
	for i := range 5 {
		files[fmt.Sprintf("sub/deep-%d.json", i)] = []byte(fmt.Sprintf(`{"i":%d}`, i))
	}
	writeTree(t, dir, files)
	ds := newDataSet(t, c, "publish-dir")

	sum := publishJSON(t, env, "--data-set", ds, "--new-revision", "--finalize", "--jobs", "4", dir)
	require.Len(t, sum.Revisions, 1)
	assert.Equal(t, 30, sum.AssetsImported)
	assert.True(t, sum.Revisions[0].Finalized)
	assets := listAssets(t, c, ds, sum.Revisions[0].Id)
	var want []string
	for name := range files {
		want = append(want, name)
	}
	sort.Strings(want)
	assert.Equal(t, want, assetNames(assets))
	for _, a := range assets {
		assert.EqualValues(t, len(files[aws.ToString(a.Name)]), a.AssetDetails.S3SnapshotAsset.Size, aws.ToString(a.Name))
	}

	// Again: the revision this run created is found, nothing is added.
	again := publishJSON(t, env, "--data-set", ds, "--new-revision", "--finalize", dir)
	assert.Equal(t, 0, again.AssetsImported)
	assert.Equal(t, 30, again.AssetsSkipped)

	// One file alone: its base name.
	rev := newRevision(t, c, ds)
	one := publishJSON(t, env, "--data-set", ds, "--revision", rev, filepath.Join(dir, "sub", "deep-3.json"))
	assert.Equal(t, 1, one.AssetsImported)
	assert.Equal(t, []string{"deep-3.json"}, assetNames(listAssets(t, c, ds, rev)))

	// Another file of that name and another size: a failure without a
	// job, listed without one, and the revision is not finalized.
	other := filepath.Join(t.TempDir(), "deep-3.json")
	require.NoError(t, os.WriteFile(other, []byte(`{"i":3,"changed":true}`), 0o644))
	stdout, stderr, err := wharfRun(t, env, "publish", "--data-set", ds, "--revision", rev, "--finalize", other)
	require.Error(t, err, stdout)
	assert.Contains(t, stderr, "failed: [deep-3.json]: revision "+rev+` already holds an asset "deep-3.json" of 7 bytes`)
	assert.NotContains(t, stderr, "(job")
	assert.Contains(t, stdout, "revision "+rev+" (open)")
}

// TestPublishProgressOnATerminal runs `wharf publish` on a terminal (util-
// linux's script gives it one): it draws one progress bar, with assets,
// bytes and jobs running, instead of a line per finished job, and still
// ends with its summary.
func TestPublishProgressOnATerminal(t *testing.T) {
	t.Parallel()
	scriptBin, err := exec.LookPath("script")
	if err != nil {
		t.Skip("no script (util-linux) to give wharf publish a terminal")
	}
	s := startServer(t, backends[0])
	c := s.client(s.Root)
	env := clientEnv(t, s, s.Root, nil)
	dir := t.TempDir()
	files := map[string][]byte{}
	for i := range 4 {
		files[fmt.Sprintf("part-%d.csv", i)] = bytes.Repeat([]byte("row\n"), 1000*(i+1))
	}
	writeTree(t, dir, files)
	ds := newDataSet(t, c, "publish-terminal")

	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	command := strings.Join([]string{quote(wharfBin), "publish", "--data-set", ds, "--new-revision", "--finalize", quote(dir)}, " ")
	cmd := exec.Command(scriptBin, "--quiet", "--return", "--command", command, "/dev/null")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "wharf publish on a terminal:\n%s", out)
	text := string(out)
	assert.Contains(t, text, "assets 4/4, jobs running 0", "the bar's last description")
	assert.Regexp(t, `100% \|█+\|`, text, "the bar, full once every byte is in")
	assert.NotContains(t, text, "publishing 4 assets", "the line-per-job output, not a terminal's")
	assert.NotContains(t, text, "IMPORT_ASSET_FROM_SIGNED_URL COMPLETED", "a line per finished job on a terminal")
	assert.Contains(t, text, "4 assets imported", "the summary")
	revs, err := c.ListDataSetRevisions(context.Background(), &dataexchange.ListDataSetRevisionsInput{DataSetId: aws.String(ds)})
	require.NoError(t, err)
	require.Len(t, revs.Revisions, 1)
	assert.Len(t, listAssets(t, c, ds, aws.ToString(revs.Revisions[0].Id)), 4)
}
