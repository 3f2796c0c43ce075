package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"

	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/jobtypes"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/s3access"
	"github.com/wharf-dev/wharf/internal/s3test"
)

// rssPoll is how often BenchmarkPeakRSS polls GetJob: rarely, so that the
// polling costs the server next to nothing.
const rssPoll = 250 * time.Millisecond

// memorySample is one import's memory figures, in bytes.
type memorySample struct {
	Size int64 // of the object imported
	Idle int64 // VmRSS before the import
	Peak int64 // VmHWM after it
	// Go heap figures, from the helper process only (runtime/metrics,
	// sampled every 20 ms during the copy): the most the heap's objects
	// took, live and garbage (HeapMax), the most the last collection found
	// live (LiveMax), and the collections run during the copy.
	HeapMax, LiveMax, GCs int64
}

// BenchmarkPeakRSS measures the peak resident set size (VmHWM) of a fresh
// `wharf serve` importing one object of WHARF_BENCH_RSS_MIB (2048) MiB,
// and of one a quarter of that size, against the server's idle RSS and
// jobtypes.DefaultBufferBudget, with:
//
//   - store=local: the default local asset store (GetObject streamed into
//     a file);
//   - store=s3: an S3 asset store on the same MinIO (server-side copy);
//   - store=s3-other-endpoint: an S3 asset store on a second MinIO, so that
//     the bytes stream through Wharf (GetObject into a multipart upload).
//     `wharf serve` can't be configured that way yet (the asset store and
//     the root account's jobs both use the ambient S3 configuration, and
//     no other account has S3 credentials), so this case runs the code the
//     import job runs for each object, assetstore.Import, in a fresh helper
//     process (this test binary re-executed) and measures that process.
//
// The copies stream, so peak RSS must not keep growing with the object's
// size. It may grow up to a bound: the garbage a streamed copy makes piles
// up until the heap reaches the garbage collector's goal, about twice the
// live part buffers (docs/benchmarks.md has the measurements).
func BenchmarkPeakRSS(b *testing.B) {
	srv := s3test.Start(b)
	src := srv.NewBucket(b)
	ep := endpoint(b, srv)
	sizes := []int64{rssBytes / 4, rssBytes}
	key := func(size int64) string { return fmt.Sprintf("rss-%dMiB.bin", size>>20) }
	for i, size := range sizes {
		if err := putRandom(ep, src, key(size), size, uint64(i)); err != nil {
			b.Fatal(err)
		}
	}

	for _, store := range stores {
		b.Run("store="+store, func(b *testing.B) {
			var samples []memorySample
			for b.Loop() {
				for _, size := range sizes {
					w, assetBucket, assetPrefix := startForStore(b, srv, store)
					ds := w.newDataSet(b, "rss")
					idle, _ := w.memory(b)
					rev := w.newRevision(b, ds)
					if _, _, err := w.runJob(context.Background(), types.TypeImportAssetsFromS3,
						importDetails(ds, rev, src, []string{key(size)}), rssPoll); err != nil {
						b.Fatal(err)
					}
					_, peak := w.memory(b)
					w.stop()
					samples = append(samples, memorySample{Size: size, Idle: idle, Peak: peak})
					if store == "local" {
						os.RemoveAll(w.assetDir(ds))
					} else {
						emptyPrefix(b, srv.Client(), assetBucket, assetPrefix)
					}
				}
			}
			reportMemory(b, samples, "wharf serve")
		})
	}

	b.Run("store=s3-other-endpoint", func(b *testing.B) {
		other := s3test.StartNamed(b, "bench-assets")
		assetBucket := other.NewBucket(b)
		var samples []memorySample
		for b.Loop() {
			for _, size := range sizes {
				s, err := runStreamHelper(streamJob{
					Source:      profileOf(srv),
					Assets:      profileOf(other),
					Bucket:      src,
					Key:         key(size),
					AssetBucket: assetBucket,
				})
				if err != nil {
					b.Fatal(err)
				}
				samples = append(samples, s)
				emptyPrefix(b, other.Client(), assetBucket, "")
			}
		}
		reportMemory(b, samples, "assetstore.Import in a helper process")
	})
}

// reportMemory reports the largest object's median peak and idle RSS, and
// how much more the peak is for it than for the smallest object.
func reportMemory(b *testing.B, samples []memorySample, what string) {
	const mib = 1 << 20
	bySize := map[int64][]memorySample{}
	var sizes []int64
	for _, s := range samples {
		if _, ok := bySize[s.Size]; !ok {
			sizes = append(sizes, s.Size)
		}
		bySize[s.Size] = append(bySize[s.Size], s)
	}
	medianOf := func(size int64, f func(memorySample) int64) float64 {
		var xs []float64
		for _, s := range bySize[size] {
			xs = append(xs, float64(f(s)))
		}
		return median(xs)
	}
	var lines []string
	for _, size := range sizes {
		idle, peak := medianOf(size, func(s memorySample) int64 { return s.Idle }), medianOf(size, func(s memorySample) int64 { return s.Peak })
		line := fmt.Sprintf("object %5d MiB: idle RSS %6.1f MiB, peak RSS %6.1f MiB, peak-idle %6.1f MiB",
			size/mib, idle/mib, peak/mib, (peak-idle)/mib)
		if heapMax := medianOf(size, func(s memorySample) int64 { return s.HeapMax }); heapMax > 0 {
			line += fmt.Sprintf("; Go heap: at most %.1f MiB of objects, %.1f MiB live after a GC, %.0f GCs",
				heapMax/mib, medianOf(size, func(s memorySample) int64 { return s.LiveMax })/mib,
				medianOf(size, func(s memorySample) int64 { return s.GCs }))
		}
		lines = append(lines, line)
	}
	smallest, largest := sizes[0], sizes[len(sizes)-1]
	idle := medianOf(largest, func(s memorySample) int64 { return s.Idle })
	peak := medianOf(largest, func(s memorySample) int64 { return s.Peak })
	growth := peak - medianOf(smallest, func(s memorySample) int64 { return s.Peak })
	b.ReportMetric(idle/mib, "idle-MiB")
	b.ReportMetric(peak/mib, "peak-MiB")
	b.ReportMetric((peak-idle)/mib, "peak-idle-MiB")
	b.ReportMetric(growth/mib, "growth-MiB")
	lines = append(lines, fmt.Sprintf("peak growth from %d MiB to %d MiB objects: %.1f MiB; DefaultBufferBudget %d MiB",
		smallest/mib, largest/mib, growth/mib, jobtypes.DefaultBufferBudget/mib))
	b.Logf("%s, %s:\n%s", b.Name(), what, strings.Join(lines, "\n"))
}

// envStreamHelper, set to a streamJob in JSON, makes this test binary the
// helper process of store=s3-other-endpoint.
const envStreamHelper = "WHARF_BENCH_STREAM_HELPER"

// streamJob is what the helper process copies.
type streamJob struct {
	Source, Assets s3access.Profile
	Bucket, Key    string // the source object, on Source
	AssetBucket    string // the asset store's bucket, on Assets
}

func profileOf(srv *s3test.Server) s3access.Profile {
	return s3access.Profile{Endpoint: srv.URL, Region: srv.Region, AccessKeyID: srv.AccessKeyID,
		SecretAccessKey: srv.SecretAccessKey, PathStyle: true}
}

// runStreamHelper re-executes this test binary as the helper process and
// returns what it measured.
func runStreamHelper(job streamJob) (memorySample, error) {
	spec, err := json.Marshal(job)
	if err != nil {
		return memorySample{}, err
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envStreamHelper+"="+string(spec))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return memorySample{}, fmt.Errorf("stream helper: %v\n%s", err, stderr.String())
	}
	var s memorySample
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		return memorySample{}, fmt.Errorf("stream helper printed %q: %v", stdout.String(), err)
	}
	return s, nil
}

// streamHelper is the helper process: it imports the object named in
// envStreamHelper into an S3 asset store on the other endpoint, as an
// import job does (assetstore.Import, default tuning), and prints its idle
// and peak RSS as a memorySample. It returns the exit code.
func streamHelper() int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "stream helper:", err)
		return 1
	}
	var job streamJob
	if err := json.Unmarshal([]byte(os.Getenv(envStreamHelper)), &job); err != nil {
		return fail(err)
	}
	ctx := context.Background()
	srcEP, err := s3access.NewEndpoint(job.Source)
	if err != nil {
		return fail(err)
	}
	assetEP, err := s3access.NewEndpoint(job.Assets)
	if err != nil {
		return fail(err)
	}
	st, err := assetstore.NewS3(ctx, assetEP, job.AssetBucket, "wharf")
	if err != nil {
		return fail(err)
	}
	key, err := assetstore.AssetKey(rootAccount, resource.NewID(), resource.NewID())
	if err != nil {
		return fail(err)
	}
	idle, _, err := procMemory(0)
	if err != nil {
		return fail(err)
	}
	heap := watchHeap()
	src := s3access.Location{Endpoint: srcEP, Bucket: job.Bucket, Key: job.Key}
	info, err := assetstore.Import(ctx, st, src, key, nil)
	if err != nil {
		return fail(err)
	}
	_, peak, err := procMemory(0)
	if err != nil {
		return fail(err)
	}
	sample := heap()
	sample.Size, sample.Idle, sample.Peak = info.Size, idle, peak
	out, _ := json.Marshal(sample)
	fmt.Println(string(out))
	return 0
}

// watchHeap samples the Go heap every 20 ms until the returned function is
// called, which returns the maxima (HeapMax, LiveMax) and the collections
// run meanwhile (GCs).
func watchHeap() func() memorySample {
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/gc/heap/live:bytes"},
		{Name: "/gc/cycles/total:gc-cycles"},
	}
	read := func() (objects, live, cycles int64) {
		metrics.Read(samples)
		return int64(samples[0].Value.Uint64()), int64(samples[1].Value.Uint64()), int64(samples[2].Value.Uint64())
	}
	_, _, startCycles := read()
	var s memorySample
	record := func() {
		objects, live, cycles := read()
		s.HeapMax, s.LiveMax, s.GCs = max(s.HeapMax, objects), max(s.LiveMax, live), cycles-startCycles
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(20 * time.Millisecond)
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
		return s
	}
}
