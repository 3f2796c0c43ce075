package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
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

// latencyPoll is how often the latency benchmark polls GetJob, as issue 13
// measures it: it adds about half of itself (1 ms) to each job on average.
const latencyPoll = 2 * time.Millisecond

// arrivalJitter bounds the random pause before each job. The engine wakes
// its workers when a job starts, so there is no fetch interval to land in
// any more; the pause only keeps jobs from starting in step with the
// previous job's end (River's completer, the fetch cooldown of 5 ms) or
// with the baselines just measured.
const arrivalJitter = 50 * time.Millisecond

// BenchmarkSmallJobLatency measures, per iteration, one IMPORT_ASSETS_FROM_S3
// of a single 1 KiB object into the local asset store (CreateJob, StartJob,
// GetJob every 2 ms until COMPLETED), each after a random pause of up to
// 50 ms (untimed), interleaved with two baselines: an authenticated
// GetDataSet round trip to the same server, and a CopyObject of the same
// 1 KiB object on MinIO. It runs on SQLite (its default durability: WAL,
// synchronous FULL), on PostgreSQL as the other benchmarks run it (fsync
// off: pgtest.URL), and on PostgreSQL with fsync on (postgres-durable,
// as deployed), and reports p50 and p99 of each, the ratios of the
// job's p50 and p99 to each baseline's, and the median of the per-round
// ratios job/copyobject. Run it with -benchtime=200x for 200 jobs.
//
// With WHARF_BENCH_CPUPROFILE set to a directory, the server runs with
// --pprof and, after the rounds, a CPU profile of 10 s of jobs run back to
// back is written there (latency-<store>.pprof).
func BenchmarkSmallJobLatency(b *testing.B) {
	srv := s3test.Start(b)
	src := srv.NewBucket(b)
	dst := srv.NewBucket(b)
	if err := putRandom(endpoint(b, srv), src, "tiny.bin", 1<<10, 1); err != nil {
		b.Fatal(err)
	}
	c := srv.Client()
	for _, store := range []string{"sqlite", "postgres", "postgres-durable"} {
		b.Run(store, func(b *testing.B) {
			var args []string
			switch store {
			case "postgres":
				args = append(args, "--database", pgtest.URL(b))
			case "postgres-durable":
				args = append(args, "--database", pgtest.DurableURL(b))
			}
			profileDir, pprofAddr, pprof := pprofArgs(b)
			args = append(args, pprof...)
			w := startWharf(b, s3Env(srv), args...)
			ds := w.newDataSet(b, "latency")
			rev := w.newRevision(b, ds)
			details := importDetails(ds, rev, src, []string{"tiny.bin"})
			ctx := context.Background()
			// Untimed: the first job and call open the connections.
			if _, _, err := w.runJob(ctx, types.TypeImportAssetsFromS3, details, latencyPoll); err != nil {
				b.Fatal(err)
			}

			var job, getDataSet, copyObject, ratios []float64
			for i := 0; b.Loop(); i++ {
				start := time.Now()
				if _, err := w.Client.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: &ds}); err != nil {
					b.Fatalf("GetDataSet: %v", err)
				}
				getDataSet = append(getDataSet, time.Since(start).Seconds())

				start = time.Now()
				if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &dst, Key: aws.String(fmt.Sprintf("copy-%s-%d", store, i)),
					CopySource: aws.String(src + "/tiny.bin")}); err != nil {
					b.Fatalf("CopyObject: %v", err)
				}
				copyObject = append(copyObject, time.Since(start).Seconds())

				time.Sleep(time.Duration(rand.Int64N(int64(arrivalJitter))))
				_, d, err := w.runJob(ctx, types.TypeImportAssetsFromS3, details, latencyPoll)
				if err != nil {
					b.Fatal(err)
				}
				job = append(job, d.Seconds())
				ratios = append(ratios, job[i]/copyObject[i])
			}
			reportLatency(b, store, job, getDataSet, copyObject, ratios)

			if profileDir != "" {
				profileServer(b, pprofAddr, filepath.Join(profileDir, "latency-"+store+".pprof"),
					[]func(context.Context) error{func(ctx context.Context) error {
						_, _, err := w.runJob(ctx, types.TypeImportAssetsFromS3, details, latencyPoll)
						return err
					}})
			}
		})
	}
}

// reportLatency reports and logs the percentiles of the small jobs and of
// the baselines, and their ratios.
func reportLatency(b *testing.B, store string, job, getDataSet, copyObject, ratios []float64) {
	ms := func(s float64) float64 { return s * 1000 }
	var lines []string
	for _, m := range []struct {
		name string
		xs   []float64
	}{{"job", job}, {"getdataset", getDataSet}, {"copyobject", copyObject}} {
		p50, p99 := percentile(m.xs, 50), percentile(m.xs, 99)
		b.ReportMetric(ms(p50), m.name+"-p50-ms")
		b.ReportMetric(ms(p99), m.name+"-p99-ms")
		b.ReportMetric(ms(percentile(m.xs, 0.0001)), m.name+"-min-ms")
		lines = append(lines, fmt.Sprintf("%-10s p50 %8.2f ms  p99 %8.2f ms  min %8.2f ms  max %8.2f ms",
			m.name, ms(p50), ms(p99), ms(percentile(m.xs, 0.0001)), ms(percentile(m.xs, 100))))
	}
	for _, base := range []struct {
		name string
		xs   []float64
	}{{"getdataset", getDataSet}, {"copyobject", copyObject}} {
		r50 := percentile(job, 50) / percentile(base.xs, 50)
		r99 := percentile(job, 99) / percentile(base.xs, 99)
		b.ReportMetric(r50, "job/"+base.name+"-p50")
		b.ReportMetric(r99, "job/"+base.name+"-p99")
		lines = append(lines, fmt.Sprintf("job/%s: p50 ratio %.1f, p99 ratio %.1f", base.name, r50, r99))
	}
	b.ReportMetric(median(ratios), "job/copyobject-per-round")
	lines = append(lines, fmt.Sprintf("job/copyobject per round: median %.1f", median(ratios)))
	b.Logf("%s: %d jobs of one 1 KiB object (GetJob polled every %s):\n%s", store, len(job), latencyPoll, strings.Join(lines, "\n"))
}
