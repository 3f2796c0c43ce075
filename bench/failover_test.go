package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-dev/wharf/internal/pgtest"
	"github.com/wharf-dev/wharf/internal/s3test"
)

// The failover benchmark's shape (issue 13): 12 imports, more than the
// type's limit of 10, on 3 replicas.
const (
	failoverJobs     = 12
	failoverReplicas = 3
	failoverPoll     = 25 * time.Millisecond
)

// failoverBytes is the size of each import's one object.
var failoverBytes = envInt("WHARF_BENCH_FAILOVER_MIB", 32) << 20

// Log lines of the reaper's takeovers (internal/jobs).
var takeoverLogs = []string{
	"a job's lease expired; cleaning up and queueing it again",
	"a replica died between taking a job's queue entry and its lease; queued it again",
}

// BenchmarkFailover runs 3 replicas of `wharf serve` on one PostgreSQL
// database (with fsync, pgtest.DurableURL) and one S3 asset store, and per
// round two batches of 12 IMPORT_ASSETS_FROM_S3 jobs of one object each,
// streamed through Wharf from a second MinIO (the root account's S3
// profile): the baseline batch with no failure, then the same batch with
// the replica running the most runs killed with SIGKILL as soon as the
// first job has COMPLETED (11 of 12 still IN_PROGRESS). It reports the
// seconds from the first StartJob to the last job seen COMPLETED for both,
// their per-round ratio, the time from the kill to the survivors' last
// takeover (their log lines), how many jobs ran twice (a revision with
// other than one asset, an asset store object no asset owns: 0 or the
// benchmark fails), how many runs on live replicas lost their lease (a
// replica stalled past its lease) and how many multipart uploads were left
// open. The killed replica is started again between rounds.
func BenchmarkFailover(b *testing.B) {
	ambient := s3test.Start(b)
	profiled := s3test.StartNamed(b, "bench-profiled")
	src := profiled.NewBucket(b)
	ep := endpoint(b, profiled)
	var keys []string
	for i := range failoverJobs {
		k := fmt.Sprintf("failover/%02d.bin", i)
		if err := putRandom(ep, src, k, failoverBytes, uint64(i)); err != nil {
			b.Fatal(err)
		}
		keys = append(keys, k)
	}
	assetBucket := ambient.NewBucket(b)
	const assetPrefix = "wharf/"
	dbURL := pgtest.DurableURL(b)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := append(s3Env(ambient), "WHARF_MASTER_KEY="+base64.StdEncoding.EncodeToString(key))
	args := []string{"--database", dbURL, "--asset-store", "s3://" + assetBucket + "/" + assetPrefix, "--log-level", "info"}
	start := func() *wharf { return startWharf(b, env, args...) }
	replicas := []*wharf{start()} // the first migrates the database
	for len(replicas) < failoverReplicas {
		replicas = append(replicas, start())
	}
	setS3Profile(b, profiled, env, "--database", dbURL)
	ds := replicas[0].newDataSet(b, "failover")
	// One untimed batch first: the replicas' first jobs pay for cold
	// connections and caches.
	checkFailoverRound(b, ambient, assetBucket, assetPrefix, runFailoverRound(b, replicas, ds, src, keys, -1))

	var (
		baseline, failover, ratios, excess, takeover, killedRuns []float64
		check                                                    roundCheck
		table                                                    strings.Builder
	)
	fmt.Fprintf(&table, "%-6s %12s %12s %8s %10s %10s %12s\n", "round", "baseline-s", "failover-s", "ratio", "kill-at-s", "runs-killed", "takeover-s")
	round := 0
	for b.Loop() {
		round++
		base := runFailoverRound(b, replicas, ds, src, keys, -1)
		check.add(checkFailoverRound(b, ambient, assetBucket, assetPrefix, base))
		fail := runFailoverRound(b, replicas, ds, src, keys, round)
		check.add(checkFailoverRound(b, ambient, assetBucket, assetPrefix, fail))
		baseline = append(baseline, base.total.Seconds())
		failover = append(failover, fail.total.Seconds())
		ratios = append(ratios, fail.total.Seconds()/base.total.Seconds())
		excess = append(excess, (fail.total - base.total).Seconds())
		takeover = append(takeover, fail.takeover.Seconds())
		killedRuns = append(killedRuns, float64(fail.runsKilled))
		fmt.Fprintf(&table, "%-6d %12.2f %12.2f %8.2f %10.2f %10d %12.2f\n", round, base.total.Seconds(), fail.total.Seconds(),
			fail.total.Seconds()/base.total.Seconds(), fail.killAt.Seconds(), fail.runsKilled, fail.takeover.Seconds())
		replicas[fail.victim] = start()
	}
	b.Logf("%d jobs of %d MiB on %d replicas, per round:\n%s", failoverJobs, failoverBytes>>20, failoverReplicas, table.String())
	b.ReportMetric(median(baseline), "baseline-s")
	b.ReportMetric(median(failover), "failover-s")
	b.ReportMetric(median(ratios), "failover/baseline")
	b.ReportMetric(median(excess), "excess-s")
	b.ReportMetric(median(takeover), "takeover-s")
	b.ReportMetric(median(killedRuns), "runs-killed")
	b.ReportMetric(float64(check.ranTwice), "ran-twice")
	b.ReportMetric(float64(check.lostLeases), "leases-lost")
	b.ReportMetric(float64(check.uploadsLeft), "uploads-left")
	if check.ranTwice > 0 {
		b.Errorf("%d jobs ran twice", check.ranTwice)
	}
}

// failoverRound is what one batch of jobs did.
type failoverRound struct {
	dataSet   string
	jobs      map[string]string // job id -> revision id
	total     time.Duration     // first StartJob to the last COMPLETED seen
	killAt    time.Duration     // first StartJob to the kill
	takeover  time.Duration     // the kill to the survivors' last takeover log line
	victim    int               // the killed replica, -1 for none
	survivors []*wharf
	// runsKilled is how many runs the victim had when it was killed.
	runsKilled int
	logMarks   []int // each survivor's log length at the round's start
}

// runFailoverRound runs one batch of imports, each into its own revision of
// ds, submitted through the replicas in turn. kill < 0 kills nothing;
// otherwise the replica with the most runs is killed once a job has
// COMPLETED.
func runFailoverRound(b *testing.B, replicas []*wharf, ds, src string, keys []string, kill int) failoverRound {
	b.Helper()
	ctx := context.Background()
	r := failoverRound{dataSet: ds, jobs: map[string]string{}, victim: -1}
	var ids []*string
	for i, k := range keys {
		w := replicas[i%len(replicas)]
		rev := w.newRevision(b, ds)
		out, err := w.Client.CreateJob(ctx, &dataexchange.CreateJobInput{Type: types.TypeImportAssetsFromS3,
			Details: importDetails(ds, rev, src, []string{k})})
		if err != nil {
			b.Fatalf("CreateJob: %v", err)
		}
		ids = append(ids, out.Id)
		r.jobs[*out.Id] = rev
	}
	marks := make([]int, len(replicas))
	for i, w := range replicas {
		marks[i] = len(w.stderr.String())
	}
	submitted := time.Now()
	for i, id := range ids {
		if _, err := replicas[i%len(replicas)].Client.StartJob(ctx, &dataexchange.StartJobInput{JobId: id}); err != nil {
			b.Fatalf("StartJob: %v", err)
		}
	}
	poller := replicas[0]
	var killedAt time.Time
	done := map[string]bool{}
	for len(done) < len(ids) {
		for _, id := range ids {
			if done[*id] {
				continue
			}
			got, err := poller.Client.GetJob(ctx, &dataexchange.GetJobInput{JobId: id})
			if err != nil {
				b.Fatalf("GetJob: %v", err)
			}
			switch got.State {
			case types.StateCompleted:
				done[*id] = true
				r.total = time.Since(submitted)
			case types.StateError, types.StateTimedOut, types.StateCancelled:
				b.Fatalf("job %s ended %s: %+v", *id, got.State, got.Errors)
			}
		}
		if kill >= 0 && r.victim < 0 && len(done) > 0 {
			most := -1.0
			for i, w := range replicas {
				if n := w.jobMetric(b, "wharf_job_runs_active", types.TypeImportAssetsFromS3); n > most {
					r.victim, most = i, n
				}
			}
			r.runsKilled = int(most)
			for i, w := range replicas {
				if i != r.victim {
					r.survivors = append(r.survivors, w)
					r.logMarks = append(r.logMarks, marks[i])
				}
			}
			_ = replicas[r.victim].cmd.Process.Kill() // SIGKILL
			killedAt = time.Now()
			<-replicas[r.victim].exited
			r.killAt = killedAt.Sub(submitted)
			poller = r.survivors[0]
		}
		if len(done) < len(ids) {
			time.Sleep(failoverPoll)
		}
		if time.Since(submitted) > 10*time.Minute {
			b.Fatalf("%d of %d jobs COMPLETED after 10 minutes", len(done), len(ids))
		}
	}
	if r.victim < 0 {
		r.survivors, r.logMarks = replicas, marks
		return r
	}
	// The survivors' takeovers, from their log lines' times.
	var last time.Time
	for i, w := range r.survivors {
		for _, line := range strings.Split(w.stderr.String()[r.logMarks[i]:], "\n") {
			if !containsAny(line, takeoverLogs) {
				continue
			}
			ts, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
			if at, err := time.Parse(time.RFC3339Nano, ts); err == nil && at.After(last) {
				last = at
			}
		}
	}
	if !last.IsZero() {
		r.takeover = last.Sub(killedAt)
	}
	return r
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// roundCheck is what checkFailoverRound found.
type roundCheck struct {
	// ranTwice counts revisions with other than one asset and asset store
	// objects that no asset owns: what two runs of one job would leave.
	ranTwice int
	// lostLeases counts the runs on live replicas that stopped because
	// they couldn't renew their lease in time (a stalled replica: the run
	// stops before the lease can be taken over, and the job runs again).
	lostLeases int
	// uploadsLeft counts the multipart uploads left open in the asset
	// store (a cleanup that missed one).
	uploadsLeft int
}

func (c *roundCheck) add(o roundCheck) {
	c.ranTwice += o.ranTwice
	c.lostLeases += o.lostLeases
	c.uploadsLeft += o.uploadsLeft
}

// checkFailoverRound checks the round's jobs (see roundCheck), then empties
// the asset store for the next round.
func checkFailoverRound(b *testing.B, srv *s3test.Server, bucket, prefix string, r failoverRound) roundCheck {
	b.Helper()
	ctx := context.Background()
	w := r.survivors[0]
	var c roundCheck
	owned := map[string]bool{}
	for _, rev := range r.jobs {
		p := dataexchange.NewListRevisionAssetsPaginator(w.Client, &dataexchange.ListRevisionAssetsInput{DataSetId: &r.dataSet, RevisionId: &rev})
		n := 0
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				b.Fatalf("ListRevisionAssets: %v", err)
			}
			for _, a := range page.Assets {
				owned[aws.ToString(a.Id)] = true
				n++
			}
		}
		if n != 1 {
			b.Logf("revision %s has %d assets, want 1", rev, n)
			c.ranTwice++
		}
	}
	s3c := srv.Client()
	list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	if err != nil {
		b.Fatal(err)
	}
	for _, o := range list.Contents {
		k := aws.ToString(o.Key)
		if !owned[k[strings.LastIndex(k, "/")+1:]] {
			b.Logf("asset store object %s belongs to no asset", k)
			c.ranTwice++
		}
	}
	uploads, err := s3c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: &bucket})
	if err != nil {
		b.Fatal(err)
	}
	for _, u := range uploads.Uploads {
		b.Logf("multipart upload of %s left open", aws.ToString(u.Key))
		c.uploadsLeft++
		// Aborted, so that the next round doesn't count it again.
		if _, err := s3c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &bucket, Key: u.Key, UploadId: u.UploadId}); err != nil {
			b.Fatal(err)
		}
	}
	for i, w := range r.survivors {
		for _, line := range strings.Split(w.stderr.String()[r.logMarks[i]:], "\n") {
			if strings.Contains(line, "lost its lease") || strings.Contains(line, "renew a lease") {
				b.Logf("a survivor logged: %s", line)
				if strings.Contains(line, "lost its lease") {
					c.lostLeases++
				}
			}
		}
	}
	emptyPrefix(b, s3c, bucket, prefix)
	return c
}

// jobMetric reads one of the server's per-type job metrics at /metrics
// (wharf_job_runs_active: the runs in progress in that process).
func (w *wharf) jobMetric(tb testing.TB, name string, jobType types.Type) float64 {
	tb.Helper()
	prefix := name + `{type="` + string(jobType) + `"} `
	for _, line := range strings.Split(w.metricsText(tb), "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				tb.Fatalf("/metrics line %q: %v", line, err)
			}
			return n
		}
	}
	return 0
}
