package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-dev/wharf/internal/pgtest"
	"github.com/wharf-dev/wharf/internal/proctest"
	"github.com/wharf-dev/wharf/internal/s3access"
	"github.com/wharf-dev/wharf/internal/s3test"
)

// TestMain only stops what the benchmarks started: a plain `go test` of this
// package starts no server and builds nothing.
func TestMain(m *testing.M) {
	code := m.Run()
	s3test.Stop()
	pgtest.Stop()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// Sizes, overridable for quick runs (see docs/benchmarks.md).
var (
	largeBytes = envInt("WHARF_BENCH_LARGE_MIB", 256) << 20
	smallCount = int(envInt("WHARF_BENCH_SMALL_COUNT", 100))
	smallBytes = envInt("WHARF_BENCH_SMALL_KIB", 1024) << 10
	rssBytes   = envInt("WHARF_BENCH_RSS_MIB", 2048) << 20
)

func envInt(name string, def int64) int64 {
	if v := os.Getenv(name); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return def
}

// parallelism is how many objects the SDK baselines move at once: Wharf's
// default --job-parallelism, so that both sides get the same concurrency.
const parallelism = 8

// throughputPoll is how often the throughput benchmarks poll GetJob.
const throughputPoll = 25 * time.Millisecond

var (
	buildOnce sync.Once
	binDir    string
	wharfBin  string
	buildErr  error
)

// wharfBinary builds the real wharf binary once per run, as e2e does.
func wharfBinary(tb testing.TB) string {
	tb.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "wharf-bench-bin-")
		if buildErr != nil {
			return
		}
		wharfBin = filepath.Join(binDir, "wharf")
		cmd := exec.Command(goTool(), "build", "-buildvcs=false", "-o", wharfBin, "github.com/wharf-dev/wharf/cmd/wharf")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		buildErr = cmd.Run()
	})
	if buildErr != nil {
		tb.Fatalf("build wharf: %v", buildErr)
	}
	return wharfBin
}

func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(os.Getenv("GOROOT"), "bin", "go")
}

// Root credentials the benchmark servers start with.
const (
	rootAccount = "123456789012"
	rootKeyID   = "AKIAWHARFBENCHROOT01"
	rootSecret  = "bench-root-secret/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	region      = "us-east-1"
)

// wharf is a running `wharf serve`.
type wharf struct {
	URL     string
	DataDir string
	Client  *dataexchange.Client
	cmd     *exec.Cmd
	stderr  *proctest.Buffer
	exited  chan struct{}
}

// s3Env points a wharf process's ambient S3 configuration (the root
// account's jobs and an s3:// asset store) at srv.
func s3Env(srv *s3test.Server) []string {
	return []string{
		"AWS_ENDPOINT_URL_S3=" + srv.URL,
		"AWS_ACCESS_KEY_ID=" + srv.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + srv.SecretAccessKey,
		"AWS_REGION=" + srv.Region,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// startWharf starts `wharf serve` on SQLite in a fresh data dir, with env
// added to this process's environment (minus any WHARF_ settings), and
// waits for /readyz. It is stopped (SIGTERM) when tb ends.
func startWharf(tb testing.TB, env []string, args ...string) *wharf {
	tb.Helper()
	bin := wharfBinary(tb)
	w := &wharf{DataDir: filepath.Join(tb.TempDir(), "wharf-data")}
	port, err := proctest.FreePort()
	if err != nil {
		tb.Fatal(err)
	}
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	w.URL = "http://" + listen
	cmd := exec.Command(bin, append([]string{"serve", "--listen", listen, "--data-dir", w.DataDir,
		"--region", region, "--log-level", "warn"}, args...)...)
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "WHARF_") || strings.HasPrefix(kv, "AWS_") {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env,
		"WHARF_ROOT_ACCOUNT_ID="+rootAccount,
		"WHARF_ROOT_ACCESS_KEY_ID="+rootKeyID,
		"WHARF_ROOT_SECRET_ACCESS_KEY="+rootSecret)
	cmd.Env = append(cmd.Env, env...)
	w.stderr = &proctest.Buffer{}
	cmd.Stdout, cmd.Stderr = w.stderr, w.stderr
	// A benchmark binary that dies (a -timeout, a kill) takes its servers
	// with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	w.cmd = cmd
	w.exited = make(chan struct{})
	go func() { _ = cmd.Wait(); close(w.exited) }()
	tb.Cleanup(w.stop)

	hc := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(60 * time.Second); ; {
		select {
		case <-w.exited:
			tb.Fatalf("wharf serve exited before it was ready:\n%s", w.stderr.String())
		default:
		}
		if resp, err := hc.Get(w.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("wharf serve not ready after 60s:\n%s", w.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	w.Client = w.newClient()
	return w
}

// newClient returns a new SDK client of the server with the root's
// credentials, with its own connections.
func (w *wharf) newClient() *dataexchange.Client {
	return dataexchange.New(dataexchange.Options{
		Region:           region,
		BaseEndpoint:     aws.String(w.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(rootKeyID, rootSecret, ""),
		RetryMaxAttempts: 1,
	})
}

func (w *wharf) stop() {
	select {
	case <-w.exited:
		return
	default:
	}
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(30 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.exited
	}
}

// memory reads the server's resident set size now (VmRSS) and at its peak
// so far (VmHWM), in bytes, from /proc.
func (w *wharf) memory(tb testing.TB) (rss, peak int64) {
	tb.Helper()
	rss, peak, err := procMemory(w.cmd.Process.Pid)
	if err != nil {
		tb.Fatal(err)
	}
	return rss, peak
}

// procMemory reads VmRSS and VmHWM of process pid.
func procMemory(pid int) (rss, peak int64, err error) {
	name := fmt.Sprintf("/proc/%d/status", pid)
	data, err := os.ReadFile(name)
	if err != nil {
		return 0, 0, fmt.Errorf("read process memory: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		field, value, ok := strings.Cut(line, ":")
		if !ok || (field != "VmRSS" && field != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("parse %s %q: %w", field, value, err)
		}
		if field == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	if rss == 0 || peak == 0 {
		return 0, 0, fmt.Errorf("no VmRSS or VmHWM in %s", name)
	}
	return rss, peak, nil
}

// jobRuns reads the server's wharf_job_duration_seconds histogram for
// COMPLETED jobs of jobType: how many ended, and their run time in seconds
// summed (each from its first run to its end, as the engine measures it).
func (w *wharf) jobRuns(tb testing.TB, jobType types.Type) (count, seconds float64) {
	tb.Helper()
	resp, err := http.Get(w.URL + "/metrics")
	if err != nil {
		tb.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("GET /metrics: %v", err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		name, rest, ok := strings.Cut(line, "{")
		if !ok || !strings.Contains(rest, `type="`+string(jobType)+`"`) || !strings.Contains(rest, `state="COMPLETED"`) {
			continue
		}
		_, value, _ := strings.Cut(rest, "} ")
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			tb.Fatalf("/metrics line %q: %v", line, err)
		}
		switch name {
		case "wharf_job_duration_seconds_count":
			count = v
		case "wharf_job_duration_seconds_sum":
			seconds = v
		}
	}
	return count, seconds
}

// wharfContenders are the Wharf side of a throughput comparison: "wharf",
// the time job takes as a client sees it (CreateJob to GetJob answering
// COMPLETED), and "wharf-run", the same job's run time as the engine
// measures it (wharf_job_duration_seconds), without the wait for the job
// queue's next fetch (up to jobs.DefaultPollInterval, 200 ms) and the polls.
// job runs one job and returns its client-side time.
func (w *wharf) contenders(jobType types.Type, job func(b *testing.B) time.Duration) []contender {
	var lastRun time.Duration
	client := contender{name: "wharf", run: func(b *testing.B, round int) time.Duration {
		count, before := w.jobRuns(b, jobType)
		d := job(b)
		// The engine records the duration as the job ends; GetJob may say
		// COMPLETED a moment before /metrics has it.
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			n, after := w.jobRuns(b, jobType)
			if n > count {
				lastRun = time.Duration((after - before) * float64(time.Second))
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("/metrics did not count the %s job within 5s of its completion", jobType)
			}
		}
		return d
	}}
	run := contender{name: "wharf-run", run: func(*testing.B, int) time.Duration { return lastRun }}
	return []contender{client, run}
}

// assetDir is where the local asset store keeps a data set's asset bytes.
func (w *wharf) assetDir(dataSetID string) string {
	return filepath.Join(w.DataDir, "assets", rootAccount, dataSetID)
}

// newDataSet creates an S3_SNAPSHOT data set and returns its id.
func (w *wharf) newDataSet(tb testing.TB, name string) string {
	tb.Helper()
	out, err := w.Client.CreateDataSet(context.Background(), &dataexchange.CreateDataSetInput{
		AssetType: types.AssetTypeS3Snapshot, Name: aws.String(name), Description: aws.String("benchmark"),
	})
	if err != nil {
		tb.Fatalf("CreateDataSet: %v", err)
	}
	return aws.ToString(out.Id)
}

// newRevision creates a revision of the data set and returns its id.
func (w *wharf) newRevision(tb testing.TB, dataSetID string) string {
	tb.Helper()
	out, err := w.Client.CreateRevision(context.Background(), &dataexchange.CreateRevisionInput{DataSetId: &dataSetID})
	if err != nil {
		tb.Fatalf("CreateRevision: %v", err)
	}
	return aws.ToString(out.Id)
}

// importDetails are the details of a job importing keys of bucket.
func importDetails(dataSetID, revisionID, bucket string, keys []string) *types.RequestDetails {
	var sources []types.AssetSourceEntry
	for _, k := range keys {
		sources = append(sources, types.AssetSourceEntry{Bucket: aws.String(bucket), Key: aws.String(k)})
	}
	return &types.RequestDetails{ImportAssetsFromS3: &types.ImportAssetsFromS3RequestDetails{
		DataSetId: &dataSetID, RevisionId: &revisionID, AssetSources: sources,
	}}
}

// runJob creates, starts and polls a job every poll until it ends, and
// returns the job id and the time from CreateJob to seeing it COMPLETED.
func (w *wharf) runJob(ctx context.Context, jobType types.Type, details *types.RequestDetails, poll time.Duration) (string, time.Duration, error) {
	start := time.Now()
	created, err := w.Client.CreateJob(ctx, &dataexchange.CreateJobInput{Type: jobType, Details: details})
	if err != nil {
		return "", 0, fmt.Errorf("CreateJob: %w", err)
	}
	id := created.Id
	if _, err := w.Client.StartJob(ctx, &dataexchange.StartJobInput{JobId: id}); err != nil {
		return *id, 0, fmt.Errorf("StartJob: %w", err)
	}
	for {
		got, err := w.Client.GetJob(ctx, &dataexchange.GetJobInput{JobId: id})
		if err != nil {
			return *id, 0, fmt.Errorf("GetJob: %w", err)
		}
		switch got.State {
		case types.StateCompleted:
			return *id, time.Since(start), nil
		case types.StateError, types.StateTimedOut, types.StateCancelled:
			var msgs []string
			for _, e := range got.Errors {
				msgs = append(msgs, string(e.Code)+": "+aws.ToString(e.Message))
			}
			return *id, 0, fmt.Errorf("job %s ended %s: %s", *id, got.State, strings.Join(msgs, "; "))
		}
		select {
		case <-ctx.Done():
			return *id, 0, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// mustImport runs an import of keys into a new revision of dataSetID and
// returns the revision id and its assets by name.
func (w *wharf) mustImport(tb testing.TB, dataSetID, bucket string, keys []string) (string, map[string]string) {
	tb.Helper()
	rev := w.newRevision(tb, dataSetID)
	ctx := context.Background()
	if _, _, err := w.runJob(ctx, types.TypeImportAssetsFromS3, importDetails(dataSetID, rev, bucket, keys), throughputPoll); err != nil {
		tb.Fatal(err)
	}
	assets := map[string]string{}
	p := dataexchange.NewListRevisionAssetsPaginator(w.Client, &dataexchange.ListRevisionAssetsInput{DataSetId: &dataSetID, RevisionId: &rev})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			tb.Fatalf("ListRevisionAssets: %v", err)
		}
		for _, a := range page.Assets {
			assets[aws.ToString(a.Name)] = aws.ToString(a.Id)
		}
	}
	if len(assets) != len(keys) {
		tb.Fatalf("import made %d assets, want %d", len(assets), len(keys))
	}
	return rev, assets
}

// endpoint is an s3access endpoint on srv with its root credentials.
func endpoint(tb testing.TB, srv *s3test.Server) *s3access.Endpoint {
	tb.Helper()
	ep, err := s3access.NewEndpoint(s3access.Profile{Endpoint: srv.URL, Region: srv.Region,
		AccessKeyID: srv.AccessKeyID, SecretAccessKey: srv.SecretAccessKey, PathStyle: true})
	if err != nil {
		tb.Fatal(err)
	}
	return ep
}

// putRandom streams size pseudo-random bytes (seeded) into bucket/key, with
// a multipart upload above 16 MiB: the object is never held in memory.
func putRandom(ep *s3access.Endpoint, bucket, key string, size int64, seed uint64) error {
	var s [32]byte
	copy(s[:], strconv.FormatUint(seed, 10)+"/"+key)
	src := io.LimitReader(rand.NewChaCha8(s), size)
	_, err := s3access.PutStream(context.Background(), s3access.Location{Endpoint: ep, Bucket: bucket, Key: key},
		src, size, s3access.PutOptions{})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// emptyPrefix deletes the objects under prefix in bucket.
func emptyPrefix(tb testing.TB, c *s3.Client, bucket, prefix string) {
	tb.Helper()
	ctx := context.Background()
	p := s3.NewListObjectsV2Paginator(c, &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			tb.Fatalf("list s3://%s/%s: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: o.Key}); err != nil {
				tb.Fatalf("delete s3://%s/%s: %v", bucket, aws.ToString(o.Key), err)
			}
		}
	}
}

// awsCLI is the AWS CLI the baselines run: v2 at /usr/bin/aws if present,
// else whatever `aws` is on PATH; "" when there is none.
var awsCLI = sync.OnceValue(func() string {
	if fi, err := os.Stat("/usr/bin/aws"); err == nil && !fi.IsDir() {
		return "/usr/bin/aws"
	}
	if p, err := exec.LookPath("aws"); err == nil {
		return p
	}
	return ""
})

// runCLI runs `aws <args> --endpoint-url srv` with srv's credentials.
func runCLI(srv *s3test.Server, args ...string) error {
	cmd := exec.Command(awsCLI(), append(args, "--endpoint-url", srv.URL, "--only-show-errors")...)
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+srv.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+srv.SecretAccessKey,
		"AWS_DEFAULT_REGION="+srv.Region,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_PAGER=",
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("aws %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return nil
}

// forEachParallel runs fn(i) for i in [0, n), parallelism at once.
func forEachParallel(n int, fn func(i int) error) error {
	sem := make(chan struct{}, parallelism)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(i); err != nil {
				mu.Lock()
				first = errors.Join(first, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return first
}
