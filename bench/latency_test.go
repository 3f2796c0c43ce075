package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-dev/wharf/internal/s3test"
)

// latencyPoll is how often the latency benchmark polls GetJob: it adds
// about half of itself to each measured job on average.
const latencyPoll = 10 * time.Millisecond

// arrivalJitter bounds the random pause before each job: several of the job
// engine's queue fetch intervals (jobs.DefaultPollInterval, 200 ms), so
// that jobs start at random points of it.
const arrivalJitter = time.Second

// BenchmarkSmallJobLatency measures, per iteration, one IMPORT_ASSETS_FROM_S3
// of a single 1 KiB object into the local asset store (CreateJob, StartJob,
// GetJob every 10 ms until COMPLETED), each after a random pause of up to
// 1 s (untimed), interleaved with two baselines: an
// authenticated GetDataSet round trip to the same server, and a CopyObject
// of the same 1 KiB object on MinIO. It reports p50 and p99 of each and the
// ratios job/baseline. Run it with -benchtime=200x for 200 jobs.
func BenchmarkSmallJobLatency(b *testing.B) {
	srv := s3test.Start(b)
	src := srv.NewBucket(b)
	dst := srv.NewBucket(b)
	if err := putRandom(endpoint(b, srv), src, "tiny.bin", 1<<10, 1); err != nil {
		b.Fatal(err)
	}
	c := srv.Client()
	w := startWharf(b, s3Env(srv))
	ds := w.newDataSet(b, "latency")
	rev := w.newRevision(b, ds)
	details := importDetails(ds, rev, src, []string{"tiny.bin"})
	ctx := context.Background()

	var job, getDataSet, copyObject []float64
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		if _, err := w.Client.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: &ds}); err != nil {
			b.Fatalf("GetDataSet: %v", err)
		}
		getDataSet = append(getDataSet, time.Since(start).Seconds())

		start = time.Now()
		if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &dst, Key: aws.String(fmt.Sprintf("copy-%d", i)),
			CopySource: aws.String(src + "/tiny.bin")}); err != nil {
			b.Fatalf("CopyObject: %v", err)
		}
		copyObject = append(copyObject, time.Since(start).Seconds())

		// Untimed: start each job at a random point of the engine's fetch
		// cycle, as clients arriving at random times do, rather than in step
		// with the previous job's completion.
		time.Sleep(time.Duration(rand.Int64N(int64(arrivalJitter))))
		_, d, err := w.runJob(ctx, types.TypeImportAssetsFromS3, details, latencyPoll)
		if err != nil {
			b.Fatal(err)
		}
		job = append(job, d.Seconds())
	}

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
	b.Logf("%d jobs of one 1 KiB object (GetJob polled every %s):\n%s", len(job), latencyPoll, strings.Join(lines, "\n"))
}
