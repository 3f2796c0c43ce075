package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"

	"github.com/wharf-dev/wharf/internal/jobtypes"
	"github.com/wharf-dev/wharf/internal/s3test"
)

// rssPoll is how often BenchmarkPeakRSS polls GetJob: rarely, so that the
// polling costs the server next to nothing.
const rssPoll = 250 * time.Millisecond

// heapPoll is how often BenchmarkPeakRSS samples the server's Go heap
// figures at /metrics during a job.
const heapPoll = 100 * time.Millisecond

// memorySample is one import job's memory figures, in bytes.
type memorySample struct {
	Case string // e.g. "1 × 2048 MiB"
	Size int64  // of the job's objects together
	Idle int64  // VmRSS before the job
	Peak int64  // VmHWM after it
	// From the server's /metrics, sampled every heapPoll during the job:
	// the most the heap's objects took, live and garbage
	// (go_memstats_heap_alloc_bytes), the highest heap goal the collector
	// set (go_memstats_next_gc_bytes: twice what the last collection found
	// live, with the default GOGC), and the collections run.
	HeapMax, GoalMax, GCs int64
}

// rssCase is one job of BenchmarkPeakRSS: count objects of size each.
type rssCase struct {
	count int
	size  int64
}

func (c rssCase) name() string { return fmt.Sprintf("%d × %d MiB", c.count, c.size>>20) }

func (c rssCase) keys() []string {
	var keys []string
	for i := range c.count {
		keys = append(keys, fmt.Sprintf("rss-%dMiB-%d.bin", c.size>>20, i))
	}
	return keys
}

// BenchmarkPeakRSS measures the peak resident set size (VmHWM) of a fresh
// `wharf serve` for each import job below, against the server's idle RSS
// and jobtypes.DefaultBufferBudget, with:
//
//   - store=local: the default local asset store (GetObject streamed into
//     a file);
//   - store=s3: an S3 asset store on the same MinIO as the source
//     (server-side copy);
//   - store=s3-streamed: an S3 asset store on the ambient MinIO, and the
//     source on a second MinIO that the root account's S3 profile points
//     at, so that the bytes stream through Wharf (GetObject into a
//     multipart upload).
//
// The jobs import one object of WHARF_BENCH_RSS_MIB (2048) MiB, one of a
// quarter of that and, for store=s3-streamed, four of a quarter at once
// (the default job parallelism lets them all start; the buffer budget lets
// only two hold their part buffers at a time).
//
// The copies stream, so peak RSS must not keep growing with the object's
// size. It may grow up to a bound: the garbage a streamed copy makes piles
// up until the heap reaches the garbage collector's goal, about twice the
// live part buffers (docs/benchmarks.md has the measurements). The server's
// environment inherits GOGC and GOMEMLIMIT from the benchmark's.
func BenchmarkPeakRSS(b *testing.B) {
	quarter := rssCase{count: 1, size: rssBytes / 4}
	whole := rssCase{count: 1, size: rssBytes}
	fourAtOnce := rssCase{count: 4, size: rssBytes / 4}

	// ambient is the server's own S3 (AWS_ENDPOINT_URL_S3, ...): the
	// source of store=local and store=s3, and every case's S3 asset store.
	ambient := s3test.Start(b)
	ambientSrc := ambient.NewBucket(b)
	// profiled is what the root account's S3 profile points at in
	// store=s3-streamed: the source there.
	profiled := s3test.StartNamed(b, "bench-profiled")
	profiledSrc := profiled.NewBucket(b)
	upload := func(srv *s3test.Server, bucket string, cases ...rssCase) {
		ep := endpoint(b, srv)
		done := map[string]bool{}
		for _, c := range cases {
			for i, key := range c.keys() {
				if done[key] {
					continue
				}
				done[key] = true
				if err := putRandom(ep, bucket, key, c.size, uint64(i)); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	upload(ambient, ambientSrc, quarter, whole)
	upload(profiled, profiledSrc, quarter, whole, fourAtOnce)

	type setup struct {
		store  string
		src    *s3test.Server
		bucket string
		cases  []rssCase
	}
	for _, s := range []setup{
		{"local", ambient, ambientSrc, []rssCase{quarter, whole}},
		{"s3", ambient, ambientSrc, []rssCase{quarter, whole}},
		{"s3-streamed", profiled, profiledSrc, []rssCase{quarter, whole, fourAtOnce}},
	} {
		b.Run("store="+s.store, func(b *testing.B) {
			var samples []memorySample
			for b.Loop() {
				for _, c := range s.cases {
					var args []string
					var assetBucket string
					const assetPrefix = "wharf/"
					if s.store != "local" {
						assetBucket = ambient.NewBucket(b)
						args = []string{"--asset-store", "s3://" + assetBucket + "/" + assetPrefix}
					}
					w := startWharf(b, s3Env(ambient), args...)
					if s.store == "s3-streamed" {
						w.setRootS3Profile(b, s.src)
					}
					ds := w.newDataSet(b, "rss")
					rev := w.newRevision(b, ds)
					idle, _ := w.memory(b)
					heap := w.watchHeap(b)
					_, _, err := w.runJob(context.Background(), types.TypeImportAssetsFromS3,
						importDetails(ds, rev, s.bucket, c.keys()), rssPoll)
					sample := heap()
					if err != nil {
						b.Fatal(err)
					}
					_, peak := w.memory(b)
					w.stop()
					sample.Case, sample.Size, sample.Idle, sample.Peak = c.name(), int64(c.count)*c.size, idle, peak
					samples = append(samples, sample)
					if s.store == "local" {
						os.RemoveAll(w.assetDir(ds))
					} else {
						emptyPrefix(b, ambient.Client(), assetBucket, assetPrefix)
					}
				}
			}
			reportMemory(b, samples, whole.name())
		})
	}
}

// setRootS3Profile registers an S3 profile for the root account pointing at
// srv, with `wharf accounts s3 set` on the server's data dir: the root's
// jobs then reach srv, while the asset store keeps the ambient S3.
func (w *wharf) setRootS3Profile(tb testing.TB, srv *s3test.Server) {
	tb.Helper()
	setS3Profile(tb, srv, nil, "--data-dir", w.DataDir)
}

// setS3Profile runs `wharf accounts s3 set` for the root account with srv,
// on the store that storeFlags name, with env added (a WHARF_MASTER_KEY).
func setS3Profile(tb testing.TB, srv *s3test.Server, env []string, storeFlags ...string) {
	tb.Helper()
	cmd := exec.Command(wharfBinary(tb), append([]string{"accounts", "s3", "set", "--account", rootAccount,
		"--endpoint", srv.URL, "--path-style", "--region", srv.Region,
		"--access-key-id", srv.AccessKeyID}, storeFlags...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WHARF_") && !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(append(cmd.Env, env...), "WHARF_S3_SECRET_ACCESS_KEY="+srv.SecretAccessKey)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		tb.Fatalf("wharf accounts s3 set: %v\n%s", err, out.String())
	}
}

// watchHeap samples the server's Go heap figures at /metrics every
// heapPoll until the returned function is called, which returns their
// maxima (HeapMax, GoalMax) and the collections run meanwhile (GCs).
func (w *wharf) watchHeap(tb testing.TB) func() memorySample {
	tb.Helper()
	hc := &http.Client{Timeout: 5 * time.Second}
	read := func() (alloc, goal, gcs int64, err error) {
		resp, err := hc.Get(w.URL + "/metrics")
		if err != nil {
			return 0, 0, 0, err
		}
		defer resp.Body.Close()
		found := 0
		for sc := bufio.NewScanner(resp.Body); sc.Scan(); {
			name, value, ok := strings.Cut(sc.Text(), " ")
			if !ok {
				continue
			}
			var dst *int64
			switch name {
			case "go_memstats_heap_alloc_bytes":
				dst = &alloc
			case "go_memstats_next_gc_bytes":
				dst = &goal
			case "go_gc_duration_seconds_count":
				dst = &gcs
			default:
				continue
			}
			v, err := strconv.ParseFloat(value, 64)
			if err != nil {
				return 0, 0, 0, fmt.Errorf("/metrics %s %q: %w", name, value, err)
			}
			*dst = int64(v)
			found++
		}
		if found != 3 {
			return 0, 0, 0, fmt.Errorf("/metrics: %d of go_memstats_heap_alloc_bytes, go_memstats_next_gc_bytes, go_gc_duration_seconds_count", found)
		}
		return alloc, goal, gcs, nil
	}
	_, _, startGCs, err := read()
	if err != nil {
		tb.Fatal(err)
	}
	var (
		mu      sync.Mutex
		s       memorySample
		lastErr error
	)
	record := func() {
		alloc, goal, gcs, err := read()
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			lastErr = err
			return
		}
		s.HeapMax, s.GoalMax, s.GCs = max(s.HeapMax, alloc), max(s.GoalMax, goal), gcs-startGCs
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(heapPoll)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				record()
			}
		}
	}()
	return func() memorySample {
		close(stop)
		<-done
		record()
		if lastErr != nil {
			tb.Fatal(lastErr)
		}
		return s
	}
}

// reportMemory logs every case's median figures, and reports the median
// idle and peak RSS of the case named main (one largest object), and how
// much more its peak is than the first case's (one smaller object).
func reportMemory(b *testing.B, samples []memorySample, main string) {
	const mib = 1 << 20
	byCase := map[string][]memorySample{}
	var cases []string
	for _, s := range samples {
		if _, ok := byCase[s.Case]; !ok {
			cases = append(cases, s.Case)
		}
		byCase[s.Case] = append(byCase[s.Case], s)
	}
	medianOf := func(c string, f func(memorySample) int64) float64 {
		var xs []float64
		for _, s := range byCase[c] {
			xs = append(xs, float64(f(s)))
		}
		return median(xs)
	}
	var lines []string
	for _, c := range cases {
		idle, peak := medianOf(c, func(s memorySample) int64 { return s.Idle }), medianOf(c, func(s memorySample) int64 { return s.Peak })
		lines = append(lines, fmt.Sprintf("%-14s idle RSS %6.1f MiB, peak RSS %6.1f MiB, peak-idle %6.1f MiB; Go heap: at most %.1f MiB of objects, goal at most %.1f MiB, %.0f GCs",
			c+":", idle/mib, peak/mib, (peak-idle)/mib,
			medianOf(c, func(s memorySample) int64 { return s.HeapMax })/mib,
			medianOf(c, func(s memorySample) int64 { return s.GoalMax })/mib,
			medianOf(c, func(s memorySample) int64 { return s.GCs })))
	}
	idle := medianOf(main, func(s memorySample) int64 { return s.Idle })
	peak := medianOf(main, func(s memorySample) int64 { return s.Peak })
	growth := peak - medianOf(cases[0], func(s memorySample) int64 { return s.Peak })
	b.ReportMetric(idle/mib, "idle-MiB")
	b.ReportMetric(peak/mib, "peak-MiB")
	b.ReportMetric((peak-idle)/mib, "peak-idle-MiB")
	b.ReportMetric(growth/mib, "growth-MiB")
	lines = append(lines, fmt.Sprintf("peak growth from %s to %s: %.1f MiB; DefaultBufferBudget %d MiB",
		cases[0], main, growth/mib, jobtypes.DefaultBufferBudget/mib))
	b.Logf("%s:\n%s", b.Name(), strings.Join(lines, "\n"))
}
