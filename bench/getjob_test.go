package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-dev/wharf/internal/pgtest"
	"github.com/wharf-dev/wharf/internal/proctest"
	"github.com/wharf-dev/wharf/internal/s3test"
)

// apiClients is how many signed clients call at once in the hot-path
// benchmark.
const apiClients = 32

// apiRequests is how many calls each client makes per round.
var apiRequests = int(envInt("WHARF_BENCH_API_REQUESTS", 100))

// BenchmarkGetJob measures the hot path of every API call: GetJob of one
// (completed) job by 32 concurrent SigV4 clients, each its own AWS SDK
// client with its own connection, against the same kind of signed metadata
// read on a mature Go server, MinIO's HeadObject, by 32 clients in the same
// run. Each round makes apiRequests calls per client on each side (MinIO
// first, then Wharf); the result, "getjob/headobject", is the median over
// rounds of Wharf's calls per second divided by MinIO's in the same round:
// above 1 means Wharf served more. Each store (SQLite, and PostgreSQL
// with its default durability, fsync on) gets its own server.
//
// With WHARF_BENCH_CPUPROFILE set to a directory, the server runs with
// --pprof and, after the rounds, a CPU profile of 10 s under the same load
// is written there (getjob-<store>.pprof), for `go tool pprof`.
func BenchmarkGetJob(b *testing.B) {
	srv := s3test.Start(b)
	bucket := srv.NewBucket(b)
	srv.PutObject(b, bucket, "tiny.bin", []byte("a small object, the subject of HeadObject and of the job"))
	for _, store := range []string{"sqlite", "postgres"} {
		b.Run("store="+store, func(b *testing.B) {
			var args []string
			if store == "postgres" {
				args = append(args, "--database", pgtest.DurableURL(b))
			}
			profileDir, pprofAddr, pprof := pprofArgs(b)
			args = append(args, pprof...)
			w := startWharf(b, s3Env(srv), args...)
			ds := w.newDataSet(b, "hot path")
			rev := w.newRevision(b, ds)
			jobCtx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			jobID, _, err := w.runJob(jobCtx, types.TypeImportAssetsFromS3,
				importDetails(ds, rev, bucket, []string{"tiny.bin"}), throughputPoll)
			if err != nil {
				b.Fatal(err)
			}

			getJob := make([]func(context.Context) error, apiClients)
			headObject := make([]func(context.Context) error, apiClients)
			for i := range apiClients {
				dx := w.newClient()
				getJob[i] = func(ctx context.Context) error {
					_, err := dx.GetJob(ctx, &dataexchange.GetJobInput{JobId: &jobID})
					return err
				}
				s3c := s3.New(s3.Options{
					Region:           srv.Region,
					BaseEndpoint:     aws.String(srv.URL),
					UsePathStyle:     true,
					Credentials:      credentials.NewStaticCredentialsProvider(srv.AccessKeyID, srv.SecretAccessKey, ""),
					RetryMaxAttempts: 1,
				})
				headObject[i] = func(ctx context.Context) error {
					_, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("tiny.bin")})
					return err
				}
			}
			// Untimed: every client opens its connection.
			for _, calls := range [][]func(context.Context) error{headObject, getJob} {
				if _, err := callsPerSecond(calls, 2); err != nil {
					b.Fatal(err)
				}
			}

			var wharfRates, minioRates, ratios []float64
			for b.Loop() {
				minio, err := callsPerSecond(headObject, apiRequests)
				if err != nil {
					b.Fatalf("HeadObject: %v", err)
				}
				wharf, err := callsPerSecond(getJob, apiRequests)
				if err != nil {
					b.Fatalf("GetJob: %v", err)
				}
				minioRates, wharfRates = append(minioRates, minio), append(wharfRates, wharf)
				ratios = append(ratios, wharf/minio)
			}
			b.ReportMetric(median(wharfRates), "getjob-req/s")
			b.ReportMetric(median(minioRates), "headobject-req/s")
			b.ReportMetric(median(ratios), "getjob/headobject")
			b.Logf("%d clients, %d calls each per round:\nGetJob     median %7.0f req/s  rounds %s\n"+
				"HeadObject median %7.0f req/s  rounds %s\ngetjob/headobject: median %.2f, per round %s",
				apiClients, apiRequests, median(wharfRates), formatRates(wharfRates),
				median(minioRates), formatRates(minioRates), median(ratios), formatSeconds(ratios))

			if profileDir != "" {
				profileServer(b, pprofAddr, filepath.Join(profileDir, "getjob-"+store+".pprof"), getJob)
			}
		})
	}
}

// callsPerSecond runs n calls on each of clients at once and returns how
// many calls per second they made together.
func callsPerSecond(clients []func(context.Context) error, n int) (float64, error) {
	// A stuck server fails the round rather than hanging the benchmark.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	start := time.Now()
	for _, call := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				if err := call(ctx); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return float64(n*len(clients)) / time.Since(start).Seconds(), first
}

// pprofArgs returns WHARF_BENCH_CPUPROFILE (the directory for CPU
// profiles) and, when it is set, a free address for the server's --pprof
// and the arguments that serve it there.
func pprofArgs(b *testing.B) (dir, addr string, args []string) {
	dir = os.Getenv("WHARF_BENCH_CPUPROFILE")
	if dir == "" {
		return "", "", nil
	}
	port, err := proctest.FreePort()
	if err != nil {
		b.Fatal(err)
	}
	addr = fmt.Sprintf("127.0.0.1:%d", port)
	return dir, addr, []string{"--pprof", addr}
}

// profileServer writes a 10 s CPU profile of the server at pprofAddr while
// each of calls runs in a loop.
func profileServer(b *testing.B, pprofAddr, file string, calls []func(context.Context) error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for _, call := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				_ = call(ctx)
			}
		}()
	}
	defer wg.Wait() // after cancel, deferred below
	defer cancel()
	if err := fetchProfile("http://"+pprofAddr+"/debug/pprof/profile?seconds=10", file); err != nil {
		b.Fatal(err)
	}
	b.Logf("CPU profile of the server under load: %s", file)
}

func formatRates(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.0f", x)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
