package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"

	"github.com/wharf-dev/wharf/internal/pgtest"
	"github.com/wharf-dev/wharf/internal/proctest"
	"github.com/wharf-dev/wharf/internal/s3test"
)

// Scale-out sizes, overridable for quick runs (see docs/benchmarks.md).
var (
	scaleOutJobs = int(envInt("WHARF_BENCH_SCALEOUT_JOBS", 1000))
	// scaleOutConcurrency, when set, is passed as
	// --job-concurrency IMPORT_ASSETS_FROM_S3=N (the default limit, AWS's,
	// is 10 jobs in progress per type across all replicas).
	scaleOutConcurrency = int(envInt("WHARF_BENCH_SCALEOUT_CONCURRENCY", 0))
	// scaleOutDataSets is how many data sets the jobs' revisions are spread
	// over (round-robin): 1 by default, a publisher's many jobs into one
	// data set.
	scaleOutDataSets = int(envInt("WHARF_BENCH_SCALEOUT_DATASETS", 1))
	// scaleOutPool, when set, is each PostgreSQL replica's connection pool
	// (pool_max_conns; pgx's default is the greater of 4 and the number of
	// CPUs).
	scaleOutPool = int(envInt("WHARF_BENCH_SCALEOUT_POOL", 0))
)

// scaleOutClients is how many requests the benchmark's client has in flight
// at once, on either side: CreateJob+StartJob pairs to Wharf, CopyObject
// calls to MinIO.
const scaleOutClients = 16

// scaleOutJobsPerRevision is how many jobs import into one revision: far
// under the 10,000 assets per revision.
const scaleOutJobsPerRevision = 100

// scaleOutPoll is how often the benchmark reads the replicas' /metrics to
// see how many jobs have ended: sparse, so that the poller is not the load.
const scaleOutPoll = 100 * time.Millisecond

// BenchmarkScaleOut submits scaleOutJobs small jobs at once (each an
// IMPORT_ASSETS_FROM_S3 of one 1 KiB object, into a shared S3 asset store
// on the same MinIO, so each copy is server-side), scaleOutClients
// CreateJob+StartJob pairs in flight, spread round-robin over the
// replicas, and measures jobs/s from the first CreateJob to the moment the
// replicas' /metrics count every job ended COMPLETED. Cases: SQLite with
// one replica, and PostgreSQL (fsync on) with one and with three `wharf
// serve` replicas on the same database and asset store.
//
// The baseline, in the same round: the same number of MinIO CopyObject
// calls of the same 1 KiB objects, scaleOutClients at once. The result,
// "jobs/copyobject", is the median over rounds of Wharf's jobs/s divided
// by MinIO's copies/s. Each round also reads the CPU time used by the
// replicas, by PostgreSQL (its postmaster and all its processes), by MinIO
// and by the benchmark's own process (the client), from /proc, and reports
// it per job and per CopyObject; the jobs' mean run time (from
// wharf_job_duration_seconds); and, on PostgreSQL, what its sessions were
// doing, sampled from pg_stat_activity (samplePostgres). Run it with -v to
// see every round's details.
//
// With WHARF_BENCH_CPUPROFILE set to a directory, the replicas run with
// --pprof, and one more round after the measured ones (not counted) takes
// a CPU profile of every replica while the jobs run:
// scaleout-<case>-replica<i>.pprof.
func BenchmarkScaleOut(b *testing.B) {
	srv := s3test.Start(b)
	if srv.PID() == 0 {
		b.Skip("an external S3 server: no process to measure")
	}
	src := srv.NewBucket(b)
	keys := make([]string, scaleOutJobs)
	for i := range keys {
		keys[i] = fmt.Sprintf("small/%05d.bin", i)
	}
	ep := endpoint(b, srv)
	if err := forEachParallel(len(keys), func(i int) error {
		return putRandom(ep, src, keys[i], 1<<10, uint64(i))
	}); err != nil {
		b.Fatal(err)
	}
	copyDst := srv.NewBucket(b)
	s3c := srv.Client()
	profileDir := os.Getenv("WHARF_BENCH_CPUPROFILE")

	for _, c := range []struct {
		store    string
		replicas int
	}{{"sqlite", 1}, {"postgres", 1}, {"postgres", 3}} {
		name := fmt.Sprintf("store=%s/replicas=%d", c.store, c.replicas)
		b.Run(name, func(b *testing.B) {
			cl := startCluster(b, srv, c.store, c.replicas, profileDir != "")
			var dss []string
			for i := range scaleOutDataSets {
				dss = append(dss, cl.replicas[0].newDataSet(b, fmt.Sprintf("scale-out %d", i)))
			}

			limit := 10 // jobs.DefaultConcurrency's for imports
			if scaleOutConcurrency > 0 {
				limit = scaleOutConcurrency
			}
			var meanRuns []float64
			var jobRates, copyRates, ratios, wharfCPU, pgCPU, minioJobCPU, minioCopyCPU, clientJobCPU, clientCopyCPU []float64
			var lastElapsed time.Duration
			for round := 0; b.Loop(); round++ {
				m0 := cpuTicks(b, srv.PID())
				copyElapsed, copyClient := copyAll(b, s3c, src, copyDst, keys)
				clientCopyCPU = append(clientCopyCPU, copyClient)
				minioCopyCPU = append(minioCopyCPU, ticksSeconds(cpuTicks(b, srv.PID())-m0))

				before := cl.cpu(b)
				m0 = cpuTicks(b, srv.PID())
				r := cl.runJobs(b, dss, src, keys)
				after := cl.cpu(b)
				minioJobCPU = append(minioJobCPU, ticksSeconds(cpuTicks(b, srv.PID())-m0))
				wharfCPU = append(wharfCPU, ticksSeconds(after.wharf-before.wharf))
				pgCPU = append(pgCPU, ticksSeconds(after.postgres-before.postgres))
				clientJobCPU = append(clientJobCPU, r.clientCPU)
				lastElapsed = r.elapsed

				jobRate := float64(len(keys)) / r.elapsed.Seconds()
				copyRate := float64(len(keys)) / copyElapsed.Seconds()
				jobRates, copyRates = append(jobRates, jobRate), append(copyRates, copyRate)
				ratios = append(ratios, jobRate/copyRate)
				b.Logf("round %d: %d jobs in %.2f s (%.0f jobs/s; all submitted after %.2f s), "+
					"%d CopyObject in %.2f s (%.0f/s); CPU: wharf %.2f s, postgres %.2f s, MinIO %.2f s, client %.2f s (copies: MinIO %.2f s, client %.2f s)",
					round, len(keys), r.elapsed.Seconds(), jobRate, r.submitted.Seconds(),
					len(keys), copyElapsed.Seconds(), copyRate,
					wharfCPU[round], pgCPU[round], minioJobCPU[round], clientJobCPU[round], minioCopyCPU[round], clientCopyCPU[round])
				b.Logf("round %d: a job's run took %.1f ms on average: %d slots (the type's limit) allow %.0f jobs/s\n%s",
					round, float64(r.meanRun.Microseconds())/1000, limit, float64(limit)/r.meanRun.Seconds(), r.waits.top(12))
				meanRuns = append(meanRuns, float64(r.meanRun.Microseconds())/1000)
			}
			n := float64(len(keys))
			perJob := func(xs []float64) float64 { return median(xs) / n * 1000 }
			b.ReportMetric(median(jobRates), "jobs/s")
			b.ReportMetric(median(copyRates), "copyobject/s")
			b.ReportMetric(median(ratios), "jobs/copyobject")
			b.ReportMetric(perJob(wharfCPU), "wharf-cpu-ms/job")
			b.ReportMetric(perJob(minioJobCPU), "minio-cpu-ms/job")
			b.ReportMetric(perJob(minioCopyCPU), "minio-cpu-ms/copy")
			b.ReportMetric(median(meanRuns), "run-ms/job")
			b.ReportMetric(perJob(clientJobCPU), "client-cpu-ms/job")
			b.ReportMetric(perJob(clientCopyCPU), "client-cpu-ms/copy")
			if c.store == "postgres" {
				b.ReportMetric(perJob(pgCPU), "pg-cpu-ms/job")
			}
			b.Logf("%s, %d jobs of one 1 KiB object, %d clients: jobs/s median %.0f %s; CopyObject/s median %.0f %s; "+
				"jobs/copyobject median %.3f %s; CPU per job: wharf %.2f ms, postgres %.2f ms, MinIO %.2f ms, client %.2f ms; per CopyObject: MinIO %.2f ms, client %.2f ms",
				name, len(keys), scaleOutClients, median(jobRates), formatRates(jobRates), median(copyRates), formatRates(copyRates),
				median(ratios), formatSeconds(ratios), perJob(wharfCPU), perJob(pgCPU), perJob(minioJobCPU), perJob(clientJobCPU), perJob(minioCopyCPU), perJob(clientCopyCPU))

			if profileDir != "" {
				cl.profile(b, dss, src, keys, lastElapsed, filepath.Join(profileDir,
					fmt.Sprintf("scaleout-%s-%d", c.store, c.replicas)))
			}
		})
	}
}

// cluster is a set of `wharf serve` replicas on one database and one S3
// asset store.
type cluster struct {
	replicas []*wharf
	pprof    []string // the replicas' --pprof addresses, when profiling
	// clients[i][r] is submitter i's client of replica r: each its own
	// connection, as independent clients would have.
	clients    [][]*dataexchange.Client
	postmaster int    // PostgreSQL's postmaster pid; 0 on SQLite
	db         string // the PostgreSQL database's URL; "" on SQLite
}

// startCluster starts n replicas on store ("sqlite": only n = 1, the data
// dir's database; "postgres": a fresh database on the durable server),
// sharing an S3 asset store in a bucket of srv and one master key.
func startCluster(b *testing.B, srv *s3test.Server, store string, n int, profile bool) *cluster {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		b.Fatal(err)
	}
	env := append(s3Env(srv), "WHARF_MASTER_KEY="+base64.StdEncoding.EncodeToString(key))
	args := []string{"--asset-store", "s3://" + srv.NewBucket(b) + "/wharf/"}
	if scaleOutConcurrency > 0 {
		args = append(args, "--job-concurrency", fmt.Sprintf("%s=%d", types.TypeImportAssetsFromS3, scaleOutConcurrency))
	}
	cl := &cluster{}
	switch store {
	case "postgres":
		db := pgtest.DurableURL(b)
		cl.postmaster, cl.db = postmasterPID(b, db), db
		if scaleOutPool > 0 {
			u, err := url.Parse(db)
			if err != nil {
				b.Fatal(err)
			}
			q := u.Query()
			q.Set("pool_max_conns", strconv.Itoa(scaleOutPool))
			u.RawQuery = q.Encode()
			db = u.String()
		}
		args = append(args, "--database", db)
	case "sqlite":
		if n != 1 {
			b.Fatal("SQLite has one replica")
		}
	}
	for range n {
		a := args
		if profile {
			port, err := proctest.FreePort()
			if err != nil {
				b.Fatal(err)
			}
			addr := fmt.Sprintf("127.0.0.1:%d", port)
			cl.pprof = append(cl.pprof, addr)
			a = append(append([]string(nil), args...), "--pprof", addr)
		}
		// One at a time: the first migrates the database.
		cl.replicas = append(cl.replicas, startWharf(b, env, a...))
	}
	cl.clients = make([][]*dataexchange.Client, scaleOutClients)
	for i := range cl.clients {
		for _, w := range cl.replicas {
			cl.clients[i] = append(cl.clients[i], w.newClient())
		}
	}
	return cl
}

// jobsRun is what one batch of jobs took: from the first CreateJob to the
// moment every job was seen COMPLETED, and to the last StartJob's answer.
type jobsRun struct {
	elapsed, submitted time.Duration
	clientCPU          float64 // seconds of CPU the benchmark's process used meanwhile
	meanRun            time.Duration
	waits              pgWaits // PostgreSQL's sessions meanwhile, when on PostgreSQL
}

// revision names a revision of a data set.
type revision struct{ ds, id string }

// runJobs creates and starts one import job per key (job i on replica
// i mod n), into new revisions of the data sets dss (job i into data set
// i mod len(dss)), scaleOutJobsPerRevision jobs each, waits for all of them to complete,
// and checks, untimed, that every job is COMPLETED and every revision holds
// its assets.
func (cl *cluster) runJobs(b *testing.B, dss []string, bucket string, keys []string) jobsRun {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	// Job j goes to data set j mod d, whose jobs fill its revisions one
	// after the other: at any moment the submitters are at d data sets.
	d := len(dss)
	perDataSet := (len(keys) + d - 1) / d
	revs := make([]revision, d*((perDataSet+scaleOutJobsPerRevision-1)/scaleOutJobsPerRevision))
	for i := range revs {
		ds := dss[i%d]
		revs[i] = revision{ds, cl.replicas[0].newRevision(b, ds)}
	}
	revisionOf := func(j int) revision { return revs[j%d+d*(j/d/scaleOutJobsPerRevision)] }
	done0 := cl.ended(b)

	stopSampling := samplePostgres(b, cl.db)
	self0 := cpuTicks(b, os.Getpid())
	start := time.Now()
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for i := range scaleOutClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				j := int(next.Add(1) - 1)
				if j >= len(keys) || ctx.Err() != nil {
					return
				}
				c := cl.clients[i][j%len(cl.replicas)]
				rev := revisionOf(j)
				details := importDetails(rev.ds, rev.id, bucket, keys[j:j+1])
				err := func() error {
					created, err := c.CreateJob(ctx, &dataexchange.CreateJobInput{Type: types.TypeImportAssetsFromS3, Details: details})
					if err != nil {
						return fmt.Errorf("CreateJob: %w", err)
					}
					if _, err := c.StartJob(ctx, &dataexchange.StartJobInput{JobId: created.Id}); err != nil {
						return fmt.Errorf("StartJob: %w", err)
					}
					return nil
				}()
				if err != nil {
					mu.Lock()
					first = errors.Join(first, err)
					mu.Unlock()
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	submitted := time.Since(start)
	if first != nil {
		b.Fatal(first)
	}
	var (
		elapsed time.Duration
		ends    jobEnds
		waits   pgWaits
	)
	for {
		done := cl.ended(b)
		if bad := done.failed - done0.failed; bad > 0 {
			b.Fatalf("%d jobs did not complete: %s", bad, cl.firstFailure(b, revs))
		}
		if done.completed-done0.completed >= len(keys) {
			elapsed = time.Since(start)
			self0 = cpuTicks(b, os.Getpid()) - self0
			waits = stopSampling()
			ends = done
			break
		}
		if ctx.Err() != nil {
			b.Fatalf("%d of %d jobs completed within the time limit", done.completed-done0.completed, len(keys))
		}
		time.Sleep(scaleOutPoll)
	}
	cl.check(b, revs, len(keys))
	meanRun := time.Duration((ends.runSeconds - done0.runSeconds) / float64(ends.completed-done0.completed) * float64(time.Second))
	return jobsRun{elapsed: elapsed, submitted: submitted, clientCPU: ticksSeconds(self0), meanRun: meanRun, waits: waits}
}

// jobEnds counts the IMPORT_ASSETS_FROM_S3 jobs the replicas have ended.
type jobEnds struct {
	completed, failed int
	runSeconds        float64 // the completed jobs' run time, summed
}

// ended sums the replicas' wharf_job_duration_seconds_count of import jobs
// by final state, and the _sum of the completed ones.
func (cl *cluster) ended(b *testing.B) jobEnds {
	var e jobEnds
	for _, w := range cl.replicas {
		resp, err := http.Get(w.URL + "/metrics")
		if err != nil {
			b.Fatalf("GET /metrics: %v", err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			b.Fatalf("GET /metrics: %v", err)
		}
		for _, line := range strings.Split(string(body), "\n") {
			name, rest, ok := strings.Cut(line, "{")
			if !ok || !strings.Contains(rest, `type="`+string(types.TypeImportAssetsFromS3)+`"`) ||
				name != "wharf_job_duration_seconds_count" && name != "wharf_job_duration_seconds_sum" {
				continue
			}
			_, value, _ := strings.Cut(rest, "} ")
			v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			if err != nil {
				b.Fatalf("/metrics line %q: %v", line, err)
			}
			completed := strings.Contains(rest, `state="COMPLETED"`)
			switch {
			case name == "wharf_job_duration_seconds_sum" && completed:
				e.runSeconds += v
			case name == "wharf_job_duration_seconds_sum":
			case completed:
				e.completed += int(v)
			default:
				e.failed += int(v)
			}
		}
	}
	return e
}

// check lists the revisions' jobs and assets: every job COMPLETED, one
// asset per job.
func (cl *cluster) check(b *testing.B, revs []revision, want int) {
	ctx := context.Background()
	c := cl.replicas[len(cl.replicas)-1].Client
	jobs, assets := 0, 0
	for _, rev := range revs {
		p := dataexchange.NewListJobsPaginator(c, &dataexchange.ListJobsInput{DataSetId: &rev.ds, RevisionId: &rev.id})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				b.Fatalf("ListJobs: %v", err)
			}
			for _, j := range page.Jobs {
				if j.State != types.StateCompleted {
					b.Fatalf("job %s is %s after the metrics counted it COMPLETED", aws.ToString(j.Id), j.State)
				}
				jobs++
			}
		}
		pa := dataexchange.NewListRevisionAssetsPaginator(c, &dataexchange.ListRevisionAssetsInput{DataSetId: &rev.ds, RevisionId: &rev.id})
		for pa.HasMorePages() {
			page, err := pa.NextPage(ctx)
			if err != nil {
				b.Fatalf("ListRevisionAssets: %v", err)
			}
			assets += len(page.Assets)
		}
	}
	if jobs != want || assets != want {
		b.Fatalf("the revisions hold %d jobs and %d assets, want %d of each", jobs, assets, want)
	}
}

// firstFailure describes a job of revs that ended other than COMPLETED.
func (cl *cluster) firstFailure(b *testing.B, revs []revision) string {
	ctx := context.Background()
	for _, rev := range revs {
		p := dataexchange.NewListJobsPaginator(cl.replicas[0].Client, &dataexchange.ListJobsInput{DataSetId: &rev.ds, RevisionId: &rev.id})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return fmt.Sprintf("ListJobs: %v", err)
			}
			for _, j := range page.Jobs {
				if j.State == types.StateError || j.State == types.StateTimedOut || j.State == types.StateCancelled {
					var msgs []string
					for _, e := range j.Errors {
						msgs = append(msgs, string(e.Code)+": "+aws.ToString(e.Message))
					}
					return fmt.Sprintf("job %s %s: %s", aws.ToString(j.Id), j.State, strings.Join(msgs, "; "))
				}
			}
		}
	}
	return "no failed job listed"
}

// clusterCPU is CPU time used so far, in clock ticks.
type clusterCPU struct{ wharf, postgres int64 }

func (cl *cluster) cpu(b *testing.B) clusterCPU {
	var c clusterCPU
	for _, w := range cl.replicas {
		c.wharf += cpuTicks(b, w.cmd.Process.Pid)
	}
	if cl.postmaster != 0 {
		c.postgres = postgresTicks(b, cl.postmaster)
	}
	return c
}

func ticksSeconds(t int64) float64 { return float64(t) / clockTicks }

// copyAll copies every key of src into dst with CopyObject,
// scaleOutClients at once, and returns how long it took and the CPU time
// the benchmark's process used meanwhile.
func copyAll(b *testing.B, c *s3.Client, src, dst string, keys []string) (time.Duration, float64) {
	ctx := context.Background()
	self0 := cpuTicks(b, os.Getpid())
	var (
		next  atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	start := time.Now()
	for range scaleOutClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				j := int(next.Add(1) - 1)
				if j >= len(keys) {
					return
				}
				if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &dst, Key: aws.String(keys[j]),
					CopySource: aws.String(src + "/" + keys[j])}); err != nil {
					mu.Lock()
					first = errors.Join(first, fmt.Errorf("CopyObject %s: %w", keys[j], err))
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(start)
	self := ticksSeconds(cpuTicks(b, os.Getpid()) - self0)
	if first != nil {
		b.Fatal(first)
	}
	return d, self
}

// profile runs one more batch of jobs while taking a CPU profile of every
// replica over most of the batch (the last measured batch took elapsed),
// and writes them to prefix-replica<i>.pprof.
func (cl *cluster) profile(b *testing.B, dss []string, bucket string, keys []string, elapsed time.Duration, prefix string) {
	seconds := max(1, int(elapsed.Seconds()*0.9))
	var wg sync.WaitGroup
	errs := make([]error, len(cl.pprof))
	for i, addr := range cl.pprof {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fetchProfile(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, seconds),
				fmt.Sprintf("%s-replica%d.pprof", prefix, i))
		}()
	}
	// The profiles start at once; give their requests a moment to arrive.
	time.Sleep(50 * time.Millisecond)
	r := cl.runJobs(b, dss, bucket, keys)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		b.Fatal(err)
	}
	b.Logf("CPU profiles of %d replicas over %d s of a batch of %.2f s: %s-replica*.pprof",
		len(cl.pprof), seconds, r.elapsed.Seconds(), prefix)
}

func fetchProfile(url, file string) error {
	resp, err := http.Get(url)
	if err != nil {
		return fmt.Errorf("CPU profile: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("CPU profile: %s: %s", resp.Status, body)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// postmasterPID returns the pid of the PostgreSQL server holding db: the
// parent of a backend's.
func postmasterPID(b *testing.B, db string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		b.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	var backend int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		b.Fatalf("pg_backend_pid: %v", err)
	}
	fields, err := procStat(backend)
	if err != nil {
		b.Skipf("PostgreSQL's processes are not readable here (%v): an external server?", err)
	}
	ppid, err := strconv.Atoi(fields[1])
	if err != nil {
		b.Fatalf("parse /proc/%d/stat: %v", backend, err)
	}
	return ppid
}

// postgresTicks is the CPU time, in clock ticks, used by the PostgreSQL
// server whose postmaster is pid: the postmaster's own, its live children's
// (backends, WAL writer, checkpointer, ...), and that of the children that
// have exited (the postmaster's cutime and cstime).
func postgresTicks(b *testing.B, postmaster int) int64 {
	fields, err := procStat(postmaster)
	if err != nil {
		b.Fatal(err)
	}
	// utime, stime, cutime, cstime: fields 14-17 of the line, 12-15 here.
	total := sumFields(b, fields[11:15])
	entries, err := os.ReadDir("/proc")
	if err != nil {
		b.Fatal(err)
	}
	parent := strconv.Itoa(postmaster)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		fields, err := procStat(pid)
		if err != nil || fields[1] != parent {
			continue // gone, or not the postmaster's
		}
		total += sumFields(b, fields[11:13])
	}
	return total
}

// procStat returns the fields of /proc/<pid>/stat after the command name
// (field 2, in parentheses, which may hold spaces): [0] is the state, [1]
// the parent's pid, [11] utime.
func procStat(pid int) ([]string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	s := string(data)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+1:]), nil
}

func sumFields(tb testing.TB, fields []string) int64 {
	tb.Helper()
	var total int64
	for _, f := range fields {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			tb.Fatalf("parse /proc stat field %q: %v", f, err)
		}
		total += n
	}
	return total
}

// pgWaits is what PostgreSQL's client sessions of one database were doing,
// sampled: for each state, wait event and query, in how many samples a
// session was in it.
type pgWaits struct {
	samples int
	seen    map[string]int
}

// pgSampleInterval is how often samplePostgres looks.
const pgSampleInterval = 25 * time.Millisecond

// samplePostgres samples pg_stat_activity of db until the returned stop is
// called (nothing on SQLite, db ""): a wall-clock view of where the
// database's sessions spend their time (running, waiting for a lock, for
// the WAL to be flushed, or idle in a transaction while Wharf works).
func samplePostgres(b *testing.B, db string) (stop func() pgWaits) {
	if db == "" {
		return func() pgWaits { return pgWaits{} }
	}
	ctx, cancel := context.WithCancel(context.Background())
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		b.Fatalf("connect to PostgreSQL: %v", err)
	}
	w := pgWaits{seen: map[string]int{}}
	done := make(chan error, 1)
	go func() {
		defer conn.Close(context.Background())
		for ctx.Err() == nil {
			rows, err := conn.Query(ctx, `SELECT state, coalesce(wait_event_type, ''), coalesce(wait_event, ''),
					left(regexp_replace(query, '\s+', ' ', 'g'), 60)
				FROM pg_stat_activity
				WHERE datname = current_database() AND pid <> pg_backend_pid()
					AND backend_type = 'client backend' AND state <> 'idle'`)
			if err != nil {
				break
			}
			for rows.Next() {
				var state, typ, event, query string
				if err := rows.Scan(&state, &typ, &event, &query); err != nil {
					break
				}
				wait := "on CPU"
				if typ != "" {
					wait = typ + ":" + event
				}
				w.seen[fmt.Sprintf("%-19s %-22s %s", state, wait, query)]++
			}
			rows.Close()
			w.samples++
			select {
			case <-ctx.Done():
			case <-time.After(pgSampleInterval):
			}
		}
		done <- ctx.Err()
	}()
	return func() pgWaits {
		cancel()
		<-done
		return w
	}
}

// top lists the n most seen entries, each with the mean number of sessions
// in it (samples seen / samples taken).
func (w pgWaits) top(n int) string {
	if w.samples == 0 {
		return ""
	}
	keys := make([]string, 0, len(w.seen))
	total := 0
	for k, c := range w.seen {
		keys = append(keys, k)
		total += c
	}
	slices.SortFunc(keys, func(a, b string) int { return w.seen[b] - w.seen[a] })
	var sb strings.Builder
	fmt.Fprintf(&sb, "PostgreSQL sessions not idle, mean over %d samples: %.2f\n", w.samples, float64(total)/float64(w.samples))
	for _, k := range keys[:min(n, len(keys))] {
		fmt.Fprintf(&sb, "  %5.2f  %s\n", float64(w.seen[k])/float64(w.samples), k)
	}
	return sb.String()
}
