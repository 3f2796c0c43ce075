package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-dev/wharf/internal/s3test"
)

// publishCount and publishBytes size BenchmarkPublish (10,000 × 4 KiB).
var (
	publishCount = int(envInt("WHARF_BENCH_PUBLISH_COUNT", 10000))
	publishBytes = envInt("WHARF_BENCH_PUBLISH_KIB", 4) << 10
)

// BenchmarkPublish publishes publishCount objects of publishBytes from
// MinIO into a new data set (one revision, finalized), each round twice,
// interleaved: with `wharf publish --new-revision --finalize`, and with the
// AWS Publisher Coordinator's strategy written with the Go SDK (list the
// objects, chunks of 100 objects per IMPORT_ASSETS_FROM_S3 job, 10 jobs at
// once, GetJob polled every second, then finalize). It reports the median
// ratio publish/coordinator and each one's assets/s.
func BenchmarkPublish(b *testing.B) {
	srv := s3test.Start(b)
	bucket := srv.NewBucket(b)
	putMany(b, srv.Client(), bucket, publishCount, publishBytes)
	w := startWharf(b, s3Env(srv))
	env := publishEnv(b, w, srv)
	ctx := context.Background()

	times := map[string][]float64{}
	record := func(name string, d time.Duration) time.Duration {
		times[name] = append(times[name], d.Seconds())
		return d
	}
	coordinator := contender{name: "coordinator", run: func(b *testing.B, round int) time.Duration {
		ds := w.newDataSet(b, fmt.Sprintf("coordinator-%d", round))
		start := time.Now()
		if err := coordinate(ctx, w.Client, srv.Client(), ds, bucket); err != nil {
			b.Fatal(err)
		}
		return record("coordinator", time.Since(start))
	}}
	publish := contender{name: "publish", run: func(b *testing.B, round int) time.Duration {
		ds := w.newDataSet(b, fmt.Sprintf("publish-%d", round))
		cmd := exec.Command(wharfBinary(b), "publish", "--data-set", ds, "--new-revision", "--finalize",
			"--s3-profile", "minio", "--output", "json", "--endpoint-url", w.URL, "s3://"+bucket+"/")
		cmd.Env = env
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		start := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("wharf publish: %v\n%s", err, out.String())
		}
		d := time.Since(start)
		if !strings.Contains(out.String(), fmt.Sprintf(`"AssetsImported": %d`, publishCount)) {
			b.Fatalf("wharf publish imported other than %d assets:\n%s", publishCount, out.String())
		}
		return record("publish", d)
	}}
	compare(b, int64(publishCount)*publishBytes, []contender{coordinator}, publish)
	for _, name := range []string{"coordinator", "publish"} {
		rates := make([]float64, len(times[name]))
		for i, s := range times[name] {
			rates[i] = float64(publishCount) / s
		}
		b.ReportMetric(median(rates), name+"-assets/s")
	}
}

// putMany puts n objects of size bytes (distinct contents), 8 at once.
func putMany(b *testing.B, c *s3.Client, bucket string, n int, size int64) {
	b.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			body := bytes.Repeat([]byte{byte(i)}, int(size))
			copy(body, fmt.Sprint(i))
			var err error
			for range 5 { // a loaded machine drops a request now and then
				_, err = c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket),
					Key: aws.String(fmt.Sprintf("obj/%05d", i)), Body: bytes.NewReader(body), ContentLength: aws.Int64(size)})
				if err == nil {
					break
				}
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
}

// publishEnv is the environment of a `wharf publish` against w, listing
// srv through the shared-config profile "minio".
func publishEnv(b *testing.B, w *wharf, srv *s3test.Server) []string {
	dir := b.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	write("config", "[profile minio]\nregion = "+srv.Region+"\nservices = minio\n\n[services minio]\ns3 =\n  endpoint_url = "+srv.URL+"\n")
	write("credentials", "[minio]\naws_access_key_id = "+srv.AccessKeyID+"\naws_secret_access_key = "+srv.SecretAccessKey+"\n")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "WHARF_") && !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return append(env,
		"AWS_ENDPOINT_URL_DATAEXCHANGE="+w.URL, "AWS_ACCESS_KEY_ID="+rootKeyID, "AWS_SECRET_ACCESS_KEY="+rootSecret,
		"AWS_REGION="+region, "AWS_CONFIG_FILE="+filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "credentials"), "AWS_EC2_METADATA_DISABLED=true")
}

// coordinate is the Publisher Coordinator's strategy with the Go SDK: a new
// revision, the bucket's objects listed, chunks of 100 per import job, 10
// jobs at once, each polled every second, then the revision finalized.
func coordinate(ctx context.Context, dx *dataexchange.Client, s3c *s3.Client, dataSetID, bucket string) error {
	rev, err := dx.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: aws.String(dataSetID)})
	if err != nil {
		return err
	}
	var keys []string
	p := s3.NewListObjectsV2Paginator(s3c, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	chunks := make(chan []string)
	errs := make(chan error, 10)
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for chunk := range chunks {
				if _, _, err := (&wharf{Client: dx}).runJob(ctx, types.TypeImportAssetsFromS3,
					importDetails(dataSetID, aws.ToString(rev.Id), bucket, chunk), time.Second); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for len(keys) > 0 {
		n := min(100, len(keys))
		chunks <- keys[:n]
		keys = keys[n:]
	}
	close(chunks)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	_, err = dx.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{DataSetId: aws.String(dataSetID), RevisionId: rev.Id, Finalized: aws.Bool(true)})
	return err
}
