package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wharf-dev/wharf/internal/proctest"
	"github.com/wharf-dev/wharf/internal/subscribe"
)

type subscribeSummary struct {
	DataSetId   string
	Destination string
	Exported    []struct {
		Id         string
		Assets     int
		Bytes      int64
		Superseded int
		JobIds     []string
	}
	AlreadyThere int
	Failures     []struct{ RevisionId, Asset, Error string }
	FailedPasses int
}

func subscribeJSON(t *testing.T, env []string, args ...string) subscribeSummary {
	t.Helper()
	stdout, stderr, err := wharfRun(t, env, append([]string{"subscribe", "--output", "json"}, args...)...)
	require.NoError(t, err, "wharf subscribe %v\nstdout:\n%s\nstderr:\n%s", args, stdout, stderr)
	var sum subscribeSummary
	require.NoError(t, json.Unmarshal([]byte(stdout), &sum), stdout)
	return sum
}

// createdAtKey is ${Revision.CreatedAt} of a revision.
func createdAtKey(t *testing.T, c *dataexchange.Client, dataSetID, revisionID string) string {
	t.Helper()
	rev, err := c.GetRevision(context.Background(), &dataexchange.GetRevisionInput{DataSetId: aws.String(dataSetID), RevisionId: aws.String(revisionID)})
	require.NoError(t, err)
	return aws.ToTime(rev.CreatedAt).UTC().Format("2006-01-02T15:04:05.000Z")
}

// requireTree checks that dir/prefix holds exactly files, byte for byte.
func requireTree(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	got := map[string][]byte{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		got[filepath.ToSlash(rel)] = b
		return err
	}))
	require.Equal(t, len(files), len(got), "files in %s", dir)
	for name, want := range files {
		require.Contains(t, got, name)
		assert.True(t, bytes.Equal(want, got[name]), "%s differs", name)
	}
}

func jobCount(t *testing.T, c *dataexchange.Client, dataSetID string) int {
	t.Helper()
	n := 0
	p := dataexchange.NewListJobsPaginator(c, &dataexchange.ListJobsInput{DataSetId: aws.String(dataSetID)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		require.NoError(t, err)
		n += len(page.Jobs)
	}
	return n
}

// TestSubscribe publishes revisions with `wharf publish` and brings them
// to a directory (byte-identical files under ${Revision.CreatedAt}/) and to
// a bucket (EXPORT_REVISIONS_TO_S3) with `wharf subscribe`; a second run
// creates no job; --watch picks up a revision published after it started;
// a revoked revision is not exported; an entitled account subscribes to its
// entitled data set.
func TestSubscribe(t *testing.T) {
	t.Parallel()
	s := startS3Server(t, backends[0])
	env := clientEnv(t, s.server, s.Root, s.minio)
	ds := newDataSet(t, s.c, "subscribe")
	src1 := t.TempDir()
	files1 := map[string][]byte{"a.csv": []byte("x,y\n1,2\n"), "nested/b.bin": bytes.Repeat([]byte{0, 1, 2, 255}, 5000), "empty.txt": {}}
	writeTree(t, src1, files1)
	rev1 := publishJSON(t, env, "--data-set", ds, "--new-revision", "--finalize", src1).Revisions[0].Id
	// An open revision is not exported.
	newRevision(t, s.c, ds)
	key1 := createdAtKey(t, s.c, ds, rev1)

	// To a directory.
	dir := t.TempDir()
	sum := subscribeJSON(t, env, "--data-set", ds, "--to", dir)
	require.Len(t, sum.Exported, 1)
	assert.Equal(t, rev1, sum.Exported[0].Id)
	assert.Equal(t, 3, sum.Exported[0].Assets)
	want := map[string][]byte{subscribe.ManifestName(ds): nil}
	for name, b := range files1 {
		want[key1+"/"+name] = b
	}
	manifest, err := os.ReadFile(filepath.Join(dir, subscribe.ManifestName(ds)))
	require.NoError(t, err)
	want[subscribe.ManifestName(ds)] = manifest
	requireTree(t, dir, want)
	assert.Contains(t, string(manifest), rev1)

	jobs := jobCount(t, s.c, ds)
	sum = subscribeJSON(t, env, "--data-set", ds, "--to", dir)
	assert.Empty(t, sum.Exported)
	assert.Equal(t, 1, sum.AlreadyThere)
	assert.Equal(t, jobs, jobCount(t, s.c, ds), "the second subscribe created jobs")

	// To a bucket, under a prefix, with a key pattern of our own.
	bucket := s.minio.NewBucket(t)
	sum = subscribeJSON(t, env, "--data-set", ds, "--to", "s3://"+bucket+"/exports", "--s3-profile", "minio",
		"--key-pattern", "${Revision.Id}/${Asset.Name}")
	require.Len(t, sum.Exported, 1)
	require.Len(t, sum.Exported[0].JobIds, 1)
	for name, b := range files1 {
		assert.Equal(t, b, s.minio.GetObject(t, bucket, "exports/"+rev1+"/"+name), name)
	}
	assert.Contains(t, string(s.minio.GetObject(t, bucket, "exports/"+subscribe.ManifestName(ds))), rev1)
	jobs = jobCount(t, s.c, ds)
	sum = subscribeJSON(t, env, "--data-set", ds, "--to", "s3://"+bucket+"/exports", "--s3-profile", "minio",
		"--key-pattern", "${Revision.Id}/${Asset.Name}")
	assert.Empty(t, sum.Exported)
	assert.Equal(t, jobs, jobCount(t, s.c, ds), "the second subscribe created jobs")

	// --watch: running, then a revision is published.
	watchDir := t.TempDir()
	w := startWatch(t, env, "--data-set", ds, "--to", watchDir, "--watch", "--poll-interval", "200ms")
	fileExists := func(path string) func() bool {
		return func() bool { _, err := os.Stat(path); return err == nil }
	}
	w.waitFor(filepath.Join(watchDir, key1, "a.csv"), fileExists(filepath.Join(watchDir, key1, "a.csv")))
	src2 := t.TempDir()
	writeTree(t, src2, map[string][]byte{"later.txt": []byte("published after the watch began")})
	rev2 := publishJSON(t, env, "--data-set", ds, "--new-revision", "--finalize", src2).Revisions[0].Id
	key2 := createdAtKey(t, s.c, ds, rev2)
	w.waitFor(filepath.Join(watchDir, key2, "later.txt"), fileExists(filepath.Join(watchDir, key2, "later.txt")))
	b, err := os.ReadFile(filepath.Join(watchDir, key2, "later.txt"))
	require.NoError(t, err)
	assert.Equal(t, "published after the watch began", string(b))
	assert.NoError(t, w.interrupt(), "subscribe --watch after SIGINT:\n%s", w.stderr.String())

	// A revoked revision is not exported.
	_, err = s.c.RevokeRevision(context.Background(), &dataexchange.RevokeRevisionInput{DataSetId: aws.String(ds), RevisionId: aws.String(rev1),
		RevocationComment: aws.String("withdrawn for the test")})
	require.NoError(t, err)
	sum = subscribeJSON(t, env, "--data-set", ds, "--to", t.TempDir())
	require.Len(t, sum.Exported, 1)
	assert.Equal(t, rev2, sum.Exported[0].Id)

	// An entitled account subscribes to its entitled data set.
	other := s.createAccount(t, "")
	oc := s.client(other)
	g, err := s.c.CreateDataGrant(context.Background(), &dataexchange.CreateDataGrantInput{Name: aws.String("subscribe"),
		GrantDistributionScope: types.GrantDistributionScopeNone, ReceiverPrincipal: aws.String(other.AccountID), SourceDataSetId: aws.String(ds)})
	require.NoError(t, err)
	_, err = oc.AcceptDataGrant(context.Background(), &dataexchange.AcceptDataGrantInput{DataGrantArn: g.Arn})
	require.NoError(t, err)
	entitledDir := t.TempDir()
	sum = subscribeJSON(t, clientEnv(t, s.server, other, nil), "--data-set", aws.ToString(g.DataSetId), "--to", entitledDir)
	require.Len(t, sum.Exported, 1, "the entitled data set shows one non-revoked revision")
	b, err = os.ReadFile(filepath.Join(entitledDir, key2, "later.txt"))
	require.NoError(t, err)
	assert.Equal(t, "published after the watch began", string(b))

	// A data set that is not the caller's is an error naming it.
	_, stderr, err := wharfRun(t, env, "subscribe", "--data-set", fmt.Sprintf("%032x", 7), "--to", t.TempDir())
	assert.Error(t, err)
	assert.Contains(t, stderr, "ResourceNotFoundException")
}

// TestSubscribeSameName subscribes a directory with a key pattern that
// holds no revision (${Asset.Name}) to two revisions whose asset of one
// name has one size and other bytes: the file ends with the newer
// revision's bytes (a file of the right size is no proof that it is this
// revision's asset), and no progress journal is left behind.
func TestSubscribeSameName(t *testing.T) {
	t.Parallel()
	s := startServer(t, backends[0])
	c := s.client(s.Root)
	env := clientEnv(t, s, s.Root, nil)
	ds := newDataSet(t, c, "subscribe-same-name")
	older, newer := bytes.Repeat([]byte("old!"), 1000), bytes.Repeat([]byte("new!"), 1000)
	src := t.TempDir()
	writeTree(t, src, map[string][]byte{"same.bin": older})
	publishJSON(t, env, "--data-set", ds, "--new-revision", "--finalize", src)

	dir := t.TempDir()
	sum := subscribeJSON(t, env, "--data-set", ds, "--to", dir, "--key-pattern", "${Asset.Name}")
	require.Len(t, sum.Exported, 1)
	b, err := os.ReadFile(filepath.Join(dir, "same.bin"))
	require.NoError(t, err)
	require.Equal(t, older, b)

	src2 := t.TempDir()
	writeTree(t, src2, map[string][]byte{"same.bin": newer})
	rev2 := publishJSON(t, env, "--data-set", ds, "--new-revision", "--finalize", src2).Revisions[0].Id
	sum = subscribeJSON(t, env, "--data-set", ds, "--to", dir, "--key-pattern", "${Asset.Name}")
	require.Len(t, sum.Exported, 1)
	assert.Equal(t, rev2, sum.Exported[0].Id)
	assert.Len(t, sum.Exported[0].JobIds, 1, "the newer revision's asset was not downloaded")
	manifest, err := os.ReadFile(filepath.Join(dir, subscribe.ManifestName(ds)))
	require.NoError(t, err)
	requireTree(t, dir, map[string][]byte{"same.bin": newer, subscribe.ManifestName(ds): manifest})
}

// TestSubscribeLateRevision: with a key pattern that holds no revision
// (${Asset.Name}), a revision finalized after a newer one was exported
// never overwrites the newer revision's asset of the same name, to a
// directory or to a bucket (EXPORT_ASSETS_TO_S3 of the other assets then);
// its other assets are exported, and the manifest says which were left out.
func TestSubscribeLateRevision(t *testing.T) {
	t.Parallel()
	s := startS3Server(t, backends[0])
	env := clientEnv(t, s.server, s.Root, s.minio)
	ds := newDataSet(t, s.c, "subscribe-late")
	older, newer := bytes.Repeat([]byte("old!"), 1000), bytes.Repeat([]byte("new!"), 1000)
	src1, src2 := t.TempDir(), t.TempDir()
	writeTree(t, src1, map[string][]byte{"same.bin": older, "only-old.csv": []byte("a,b\n")})
	writeTree(t, src2, map[string][]byte{"same.bin": newer})
	rev1 := publishJSON(t, env, "--data-set", ds, "--new-revision", src1).Revisions[0].Id // left open
	rev2 := publishJSON(t, env, "--data-set", ds, "--new-revision", "--finalize", src2).Revisions[0].Id

	dir, bucket := t.TempDir(), s.minio.NewBucket(t)
	to := map[string][]string{
		"dir":    {"--to", dir},
		"bucket": {"--to", "s3://" + bucket + "/x", "--s3-profile", "minio"},
	}
	for _, args := range to {
		sum := subscribeJSON(t, env, append([]string{"--data-set", ds, "--key-pattern", "${Asset.Name}"}, args...)...)
		require.Len(t, sum.Exported, 1)
		require.Equal(t, rev2, sum.Exported[0].Id)
	}
	_, err := s.c.UpdateRevision(context.Background(), &dataexchange.UpdateRevisionInput{
		DataSetId: aws.String(ds), RevisionId: aws.String(rev1), Finalized: aws.Bool(true)})
	require.NoError(t, err)

	for name, args := range to {
		stdout, stderr, err := wharfRun(t, env, append([]string{"subscribe", "--output", "json", "--data-set", ds, "--key-pattern", "${Asset.Name}"}, args...)...)
		require.NoError(t, err, "%s: %s", stdout, stderr)
		assert.Contains(t, stderr, "1 left out, a newer revision's asset holds their keys", name)
		var sum subscribeSummary
		require.NoError(t, json.Unmarshal([]byte(stdout), &sum))
		require.Len(t, sum.Exported, 1, name)
		assert.Equal(t, rev1, sum.Exported[0].Id, name)
		assert.Equal(t, 1, sum.Exported[0].Assets, name)
		assert.Equal(t, 1, sum.Exported[0].Superseded, name)
		require.Len(t, sum.Exported[0].JobIds, 1, name)
		job, err := s.c.GetJob(context.Background(), &dataexchange.GetJobInput{JobId: aws.String(sum.Exported[0].JobIds[0])})
		require.NoError(t, err)
		want := map[string]types.Type{"dir": types.TypeExportAssetToSignedUrl, "bucket": types.TypeExportAssetsToS3}[name]
		assert.Equal(t, want, job.Type, name)
	}

	manifest, err := os.ReadFile(filepath.Join(dir, subscribe.ManifestName(ds)))
	require.NoError(t, err)
	assert.Contains(t, string(manifest), `"SupersededBy": "`+rev2+`"`)
	requireTree(t, dir, map[string][]byte{"same.bin": newer, "only-old.csv": []byte("a,b\n"), subscribe.ManifestName(ds): manifest})
	assert.Equal(t, newer, s.minio.GetObject(t, bucket, "x/same.bin"))
	assert.Equal(t, []byte("a,b\n"), s.minio.GetObject(t, bucket, "x/only-old.csv"))
	assert.Contains(t, string(s.minio.GetObject(t, bucket, "x/"+subscribe.ManifestName(ds))), `"SupersededBy": "`+rev2+`"`)
}

// TestSubscribeWatchRestart: `wharf subscribe --watch` outlives a server
// restart. While the server is down its passes fail, each logged on
// stderr; once the server is back (same store, same port) a revision
// published then is still picked up; Ctrl-C then exits 1, the failed
// passes counted in the summary.
func TestSubscribeWatchRestart(t *testing.T) {
	t.Parallel()
	b := backends[0]
	s := startServer(t, b)
	env := clientEnv(t, s, s.Root, nil)
	ds := newDataSet(t, s.client(s.Root), "subscribe-watch-restart")
	src1 := t.TempDir()
	writeTree(t, src1, map[string][]byte{"first.txt": []byte("before the restart")})
	publishJSON(t, env, "--data-set", ds, "--new-revision", "--finalize", src1)

	dir := t.TempDir()
	w := startWatch(t, env, "--data-set", ds, "--to", dir, "--key-pattern", "${Asset.Name}",
		"--watch", "--poll-interval", "200ms", "--output", "json")
	waitFor := w.waitFor
	fileIs := func(name, body string) func() bool {
		return func() bool {
			b, err := os.ReadFile(filepath.Join(dir, name))
			return err == nil && string(b) == body
		}
	}
	waitFor("first.txt exported", fileIs("first.txt", "before the restart"))

	s.stop()
	waitFor("a failed pass logged", func() bool { return strings.Contains(w.stderr.String(), "watch: this pass failed") })
	s = s.startAgain(t, b, serverOptions{})
	src2 := t.TempDir()
	writeTree(t, src2, map[string][]byte{"second.txt": []byte("after the restart")})
	publishJSON(t, env, "--data-set", ds, "--new-revision", "--finalize", src2)
	waitFor("second.txt exported", fileIs("second.txt", "after the restart"))

	err := w.interrupt()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit, "subscribe --watch after failed passes and SIGINT:\n%s", w.stderr.String())
	assert.Equal(t, 1, exit.ExitCode())
	var sum subscribeSummary
	require.NoError(t, json.Unmarshal([]byte(w.stdout.String()), &sum), w.stdout.String())
	assert.Len(t, sum.Exported, 2)
	assert.Empty(t, sum.Failures)
	assert.Positive(t, sum.FailedPasses)
	assert.Contains(t, w.stderr.String(), "failed pass(es) of the watch")
}

// watchProc is a running `wharf subscribe --watch`.
type watchProc struct {
	t              *testing.T
	cmd            *exec.Cmd
	stdout, stderr proctest.Buffer
	exited         chan error
	stopped        bool
}

// startWatch starts `wharf subscribe` with args; it is killed when the test
// ends unless interrupt stopped it.
func startWatch(t *testing.T, env []string, args ...string) *watchProc {
	t.Helper()
	w := &watchProc{t: t, exited: make(chan error, 1)}
	w.cmd = exec.Command(wharfBin, append([]string{"subscribe"}, args...)...)
	w.cmd.Env = env
	w.cmd.Stdout, w.cmd.Stderr = &w.stdout, &w.stderr
	require.NoError(t, w.cmd.Start())
	go func() { w.exited <- w.cmd.Wait() }()
	t.Cleanup(func() {
		if !w.stopped {
			_ = w.cmd.Process.Kill()
			<-w.exited
		}
	})
	return w
}

// waitFor waits up to a minute for ok, failing the test if the watch exits
// first.
func (w *watchProc) waitFor(what string, ok func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !ok() {
		select {
		case err := <-w.exited:
			w.stopped = true
			w.t.Fatalf("subscribe --watch exited: %v\nstderr:\n%s", err, w.stderr.String())
		default:
		}
		require.True(w.t, time.Now().Before(deadline), "%s: not within a minute:\n%s", what, w.stderr.String())
		time.Sleep(50 * time.Millisecond)
	}
}

// interrupt sends SIGINT (Ctrl-C) and returns how the watch exited.
func (w *watchProc) interrupt() error {
	w.t.Helper()
	require.NoError(w.t, w.cmd.Process.Signal(syscall.SIGINT))
	select {
	case err := <-w.exited:
		w.stopped = true
		return err
	case <-time.After(30 * time.Second):
		w.t.Fatal("subscribe --watch did not stop on SIGINT")
		return nil
	}
}
