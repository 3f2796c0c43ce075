package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wharf-dev/wharf/internal/crashpoint"
	"github.com/wharf-dev/wharf/internal/pgtest"
)

// crashpointBinary builds, once per run, the wharf binary with crash points
// (internal/crashpoint): WHARF_CRASHPOINT=<name>[@N] then kills it there.
var crashpointBinary = sync.OnceValues(func() (string, error) {
	out := filepath.Join(filepath.Dir(wharfBin), "wharf-crashpoints")
	return out, buildWharf(out, "-tags", "wharf_crashpoints")
})

// waitCrashed waits for the server to die by the crash point armed in its
// environment, and checks that it died there, by SIGKILL.
func (s *server) waitCrashed(t *testing.T, point string, within time.Duration) {
	t.Helper()
	select {
	case <-s.exited:
	case <-time.After(within):
		t.Fatalf("the replica armed with crash point %s is still alive after %v (it never reached it)", point, within)
	}
	s.stopOnce.Do(func() {}) // dead: nothing for cleanup to stop
	var exit *exec.ExitError
	require.True(t, errors.As(s.err, &exit), "the replica exited: %v", s.err)
	ws, ok := exit.Sys().(syscall.WaitStatus)
	require.True(t, ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL, "the replica ended %v, want SIGKILL", s.err)
	require.Contains(t, s.stderr.String(), "crashpoint: "+point+" reached")
}

// jobMetric reads one of the server's per-type job metrics at /metrics
// (wharf_job_runs_active: the runs in progress in that process;
// wharf_job_bytes_transferred_total: the bytes its runs moved).
func (s *server) jobMetric(t *testing.T, name string, jobType types.Type) float64 {
	t.Helper()
	resp, err := http.Get(s.URL + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	prefix := name + `{type="` + string(jobType) + `"} `
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			require.NoError(t, err, "/metrics line %q", line)
			return n
		}
	}
	return 0
}

// Log lines of the reaper's two takeovers (internal/jobs).
const (
	logOrphanRequeued = "a replica died between taking a job's queue entry and its lease; queued it again"
	logLeaseReaped    = "a job's lease expired; cleaning up and queueing it again"
)

// TestFailover runs three replicas on one PostgreSQL database sharing one S3
// asset store, and 12 imports (more than the type's limit of 10, so that
// entries wait and are fetched again) that each stream an object through
// Wharf into a multipart upload, slowly. One replica dies by its crash
// point just after River handed it a queue entry and before it took the
// job's lease (the window of issue 13: the job stayed IN_PROGRESS with no
// lease for the reaper to see); then a second replica is killed with
// SIGKILL in the middle of its runs. The last replica takes every job
// over: all 12 end COMPLETED, each with exactly its one asset, the asset
// bucket holds exactly those objects and no multipart upload (no job ran
// twice), and the survivor's log names both kinds of takeover.
func TestFailover(t *testing.T) {
	dbURL := pgtest.URL(t)
	minio, env := s3Env(t)
	bin, err := crashpointBinary()
	require.NoError(t, err, "build wharf with crash points")

	const (
		jobCount = 12
		// 20 MiB: two parts of the streamed multipart upload (16 MiB
		// parts), read at 4 MiB/s: every run lasts seconds, so that runs
		// are under way at both deaths.
		size = 20 << 20
		rate = 4 << 20
	)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env = append(env, "WHARF_MASTER_KEY="+base64.StdEncoding.EncodeToString(key))
	proxy := startSlowProxy(t, minio.URL, rate)
	assetBucket := minio.NewBucket(t)
	args := []string{"--asset-store", "s3://" + assetBucket + "/store"}
	replica := func(extraEnv ...string) *server {
		return startServer(t, backends[1], serverOptions{Database: &dbURL, Bin: bin, Args: args,
			Env: append(append([]string{}, env...), extraEnv...)})
	}
	const point = "jobs.work.before-claim"
	c := replica() // the survivor, started first: it migrates the database
	a := replica(crashpoint.Env + "=" + point)
	b := replica()
	api := c.client(c.Root)
	// The root account's jobs read their sources through the slow proxy:
	// no server-side copy, every byte streams through the replica.
	_, errOut, err := c.adminWith(t, append(env, "WHARF_S3_SECRET_ACCESS_KEY="+minio.SecretAccessKey), "",
		"accounts", "s3", "set", "--account", c.Root.AccountID, "--endpoint", proxy.URL, "--path-style",
		"--access-key-id", minio.AccessKeyID)
	require.NoError(t, err, errOut)

	src := minio.NewBucket(t)
	data := make([]byte, size)
	_, _ = mrand.NewChaCha8([32]byte{13}).Read(data)
	ctx := context.Background()
	ds, err := api.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{
		AssetType: types.AssetTypeS3Snapshot, Name: aws.String("failover"), Description: aws.String("e2e"),
	})
	require.NoError(t, err)
	type importJob struct{ id, revision, key string }
	var jobs []importJob
	for i := range jobCount {
		k := fmt.Sprintf("large/%02d.bin", i)
		minio.PutObject(t, src, k, data)
		rev, err := api.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: ds.Id})
		require.NoError(t, err)
		id := createJob(t, api, types.TypeImportAssetsFromS3, importDetails(*ds.Id, *rev.Id, src, k))
		jobs = append(jobs, importJob{id: id, revision: *rev.Id, key: k})
	}
	submitted := time.Now()
	for _, j := range jobs {
		_, err := api.StartJob(ctx, &dataexchange.StartJobInput{JobId: aws.String(j.id)})
		require.NoError(t, err)
	}

	// A dies at the first queue entry River hands it (a first fetch, or a
	// waiting entry fetched again), before it takes the job's lease.
	a.waitCrashed(t, point, 2*time.Minute)
	t.Logf("%v after submission: replica A died at crash point %s", time.Since(submitted).Round(time.Millisecond), point)
	// Then B, by SIGKILL from outside, while its runs are under way.
	imports := types.TypeImportAssetsFromS3
	for deadline := time.Now().Add(2 * time.Minute); b.jobMetric(t, "wharf_job_runs_active", imports) == 0; {
		require.True(t, time.Now().Before(deadline), "replica B ran nothing for 2 minutes")
		time.Sleep(20 * time.Millisecond)
	}
	running := b.jobMetric(t, "wharf_job_runs_active", imports)
	b.kill(t)
	t.Logf("%v after submission: replica B killed with %v runs under way (%d multipart uploads open in the asset store)",
		time.Since(submitted).Round(time.Millisecond), running, len(minio.Uploads(t, assetBucket)))

	for _, j := range jobs {
		requireCompleted(t, waitJob(t, api, j.id))
	}
	t.Logf("%v after submission: all %d jobs COMPLETED", time.Since(submitted).Round(time.Millisecond), jobCount)
	var assetIDs []string
	for _, j := range jobs {
		assets := listAssets(t, api, *ds.Id, j.revision)
		require.Len(t, assets, 1, "revision %s: exactly the one asset of job %s", j.revision, j.id)
		assert.Equal(t, j.key, aws.ToString(assets[0].Name))
		assert.Equal(t, float64(size), assets[0].AssetDetails.S3SnapshotAsset.Size)
		assetIDs = append(assetIDs, aws.ToString(assets[0].Id))
	}
	keys := minio.Keys(t, assetBucket)
	var objectIDs []string
	for _, k := range keys {
		assert.True(t, strings.HasPrefix(k, "store/"), "asset object key %q", k)
		objectIDs = append(objectIDs, k[strings.LastIndex(k, "/")+1:])
	}
	assert.ElementsMatch(t, assetIDs, objectIDs, "the asset store holds exactly the assets' objects: %v", keys)
	for _, k := range keys {
		assert.True(t, bytes.Equal(data, minio.GetObject(t, assetBucket, k)), "object %s: bytes differ from the source", k)
	}
	assert.Empty(t, minio.Uploads(t, assetBucket), "no multipart upload left behind")

	survivors := b.stderr.String() + c.stderr.String()
	assert.Contains(t, survivors, logOrphanRequeued, "a survivor queued the entry A died with again")
	assert.Contains(t, c.stderr.String(), logLeaseReaped, "C took B's leases over")
	if n := strings.Count(survivors, "lost its lease"); n > 0 {
		// A replica stalled past its lease (a loaded machine): its run
		// stopped itself before the takeover, as it must; not a failure.
		t.Logf("%d runs on live replicas lost their lease and stopped", n)
	}
	if t.Failed() {
		t.Logf("replica A:\n%s\nreplica B:\n%s\nreplica C:\n%s", tail(a.stderr.String(), 40), tail(b.stderr.String(), 40), tail(c.stderr.String(), 80))
	}
}

// crashAt runs `wharf serve` on the store of dataDir (SQLite) with crash
// point armed and waits for it to die there: the points past a restart are
// reached while the server starts (its reaper's first pass), so it is not
// waited for to be ready.
func crashAt(t *testing.T, bin, dataDir, point string, env, args []string) {
	t.Helper()
	listen := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(bin, append([]string{"serve", "--listen", listen, "--data-dir", dataDir, "--region", region}, args...)...)
	cmd.Env = append(append(baseEnv(),
		"WHARF_ROOT_ACCOUNT_ID="+rootCreds.AccountID,
		"WHARF_ROOT_ACCESS_KEY_ID="+rootCreds.AccessKeyID,
		"WHARF_ROOT_SECRET_ACCESS_KEY="+rootCreds.SecretAccessKey,
		crashpoint.Env+"="+point), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var err error
	select {
	case err = <-exited:
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		<-exited
		t.Fatalf("wharf serve armed with %s did not reach it in 2 minutes:\n%s", point, tail(stderr.String(), 40))
	}
	var exit *exec.ExitError
	require.True(t, errors.As(err, &exit), "wharf serve armed with %s exited: %v\n%s", point, err, tail(stderr.String(), 40))
	ws, ok := exit.Sys().(syscall.WaitStatus)
	require.True(t, ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL, "wharf serve ended %v, want SIGKILL\n%s", err, tail(stderr.String(), 40))
	require.Contains(t, stderr.String(), "crashpoint: "+point+" reached")
}

// TestCrashPoints kills a server at each of the engine's crash points in
// turn (internal/jobs marks them), on SQLite and the local asset store,
// restarting it on the same store after each death; the last start has no
// crash point armed. Every job then ends COMPLETED with exactly its one
// asset and the store holds exactly the assets' files, and the last
// server's log names the takeovers the deaths called for.
func TestCrashPoints(t *testing.T) {
	bin, err := crashpointBinary()
	require.NoError(t, err, "build wharf with crash points")
	minio, env := s3Env(t)
	src := minio.NewBucket(t)
	minio.PutObject(t, src, "small.txt", []byte("crash points\n"))
	lease := []string{"--test-job-lease", "1s"}
	// One slot, and a lease long enough to outlast a restart: the second
	// job's entry waits (snoozes) while the first job is leased by a dead
	// run.
	oneSlot := []string{"--job-concurrency", "IMPORT_ASSETS_FROM_S3=1", "--test-job-lease", "5s"}
	// A step is one start of the server: armed with point, and, if start
	// names jobs, ready to start them (else it dies while it starts).
	type step struct {
		point string
		start []int
	}
	for _, c := range []struct {
		name  string
		jobs  int
		args  []string
		steps []step
		logs  []string // the last server's takeovers
	}{
		{"before-claim", 1, lease, []step{{"jobs.work.before-claim", []int{0}}}, []string{logOrphanRequeued}},
		{"claimed", 1, lease, []step{{"jobs.work.claimed", []int{0}}}, []string{logLeaseReaped}},
		{"snoozed", 2, oneSlot, []step{{"jobs.work.claimed", []int{0}}, {"jobs.work.snoozed", []int{1}}},
			[]string{logLeaseReaped, logOrphanRequeued}},
		{"reap-taken", 1, lease, []step{{"jobs.work.claimed", []int{0}}, {"jobs.reap.taken", nil}}, []string{logLeaseReaped}},
		{"done", 1, lease, []step{{"jobs.work.done", []int{0}}}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			type importJob struct{ id, dataSet, revision string }
			var (
				jobs    []importJob
				dataDir string
				sqlite  string
			)
			for _, st := range c.steps {
				if st.start == nil {
					crashAt(t, bin, dataDir, st.point, env, c.args)
					continue
				}
				o := serverOptions{Bin: bin, Args: c.args, Env: append(append([]string{}, env...), crashpoint.Env+"="+st.point)}
				if dataDir != "" {
					o.DataDir, o.Database = dataDir, &sqlite
				}
				s := startServer(t, backends[0], o)
				dataDir = s.DataDir
				api := s.client(s.Root)
				for len(jobs) < c.jobs {
					ds, rev := revision(t, api)
					jobs = append(jobs, importJob{createJob(t, api, types.TypeImportAssetsFromS3, importDetails(ds, rev, src, "small.txt")), ds, rev})
				}
				for _, i := range st.start {
					// The server may die before it answers: its crash point
					// is reached once the job's start has committed.
					_, _ = api.StartJob(context.Background(), &dataexchange.StartJobInput{JobId: aws.String(jobs[i].id)})
				}
				s.waitCrashed(t, st.point, 2*time.Minute)
			}

			last := startServer(t, backends[0], serverOptions{DataDir: dataDir, Database: &sqlite, Env: env, Args: c.args})
			api := last.client(last.Root)
			var files []string
			for _, j := range jobs {
				requireCompleted(t, waitJob(t, api, j.id))
				assets := listAssets(t, api, j.dataSet, j.revision)
				require.Len(t, assets, 1, "job %s: exactly one asset", j.id)
				files = append(files, last.Root.AccountID+"/"+j.dataSet+"/"+aws.ToString(assets[0].Id))
			}
			assert.ElementsMatch(t, files, localStoreFiles(t, last), "the local store holds the assets' files and nothing else")
			for _, l := range c.logs {
				assert.Contains(t, last.stderr.String(), l)
			}
		})
	}
}
