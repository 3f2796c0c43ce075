package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-dev/wharf/internal/s3test"
)

// objectSet is the source objects of one throughput case.
type objectSet struct {
	name   string // "large" or "small"
	prefix string // the keys' common prefix, ending in "/"
	keys   []string
	size   int64 // of each object
}

func (s objectSet) total() int64 { return int64(len(s.keys)) * s.size }

// objectSets are the two throughput cases: one large object, and many
// small ones.
func objectSets() []objectSet {
	small := objectSet{name: "small", prefix: "small/", size: smallBytes}
	for i := range smallCount {
		small.keys = append(small.keys, fmt.Sprintf("small/object-%03d.bin", i))
	}
	return []objectSet{
		{name: "large", prefix: "large/", keys: []string{"large/object.bin"}, size: largeBytes},
		small,
	}
}

// uploadSets writes the sets' objects into bucket, pseudo-random bytes.
func uploadSets(b *testing.B, srv *s3test.Server, bucket string, sets []objectSet) {
	ep := endpoint(b, srv)
	for _, set := range sets {
		err := forEachParallel(len(set.keys), func(i int) error {
			return putRandom(ep, bucket, set.keys[i], set.size, uint64(i))
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// stores are the asset stores the throughput benchmarks run Wharf with.
var stores = []string{"local", "s3"}

// startForStore starts wharf with its ambient S3 on srv and the asset store
// named: "local" (the default, under the data dir) or "s3" (a bucket of
// srv, so that copies between it and the jobs' buckets are server-side).
// It returns the server and, for "s3", the asset bucket and prefix.
func startForStore(b *testing.B, srv *s3test.Server, store string) (w *wharf, assetBucket, assetPrefix string) {
	var args []string
	if store == "s3" {
		assetBucket, assetPrefix = srv.NewBucket(b), "wharf/"
		args = []string{"--asset-store", "s3://" + assetBucket + "/" + assetPrefix}
	}
	return startWharf(b, s3Env(srv), args...), assetBucket, assetPrefix
}

// BenchmarkImport measures IMPORT_ASSETS_FROM_S3 (CreateJob, StartJob,
// GetJob until COMPLETED) of one large object and of many small ones, into
// each asset store, against moving the same bytes the same way with the AWS
// SDK (GetObject into a local file, fsynced, or a server-side CopyObject)
// and with `aws s3 cp`.
func BenchmarkImport(b *testing.B) {
	srv := s3test.Start(b)
	src := srv.NewBucket(b)
	sets := objectSets()
	uploadSets(b, srv, src, sets)
	c := srv.Client()

	for _, store := range stores {
		b.Run("store="+store, func(b *testing.B) {
			w, assetBucket, assetPrefix := startForStore(b, srv, store)
			dst := srv.NewBucket(b)
			for _, set := range sets {
				b.Run("objects="+set.name, func(b *testing.B) {
					ds := w.newDataSet(b, "import-"+set.name)
					wharfs := w.contenders(types.TypeImportAssetsFromS3, func(b *testing.B) time.Duration {
						rev := w.newRevision(b, ds)
						_, d, err := w.runJob(context.Background(), types.TypeImportAssetsFromS3,
							importDetails(ds, rev, src, set.keys), throughputPoll)
						if err != nil {
							b.Fatal(err)
						}
						if store == "local" {
							if err := os.RemoveAll(w.assetDir(ds)); err != nil {
								b.Fatal(err)
							}
						} else {
							emptyPrefix(b, c, assetBucket, assetPrefix)
						}
						return d
					})
					var baselines []contender
					if store == "local" {
						baselines = append(baselines, contender{name: "sdk", run: func(b *testing.B, round int) time.Duration {
							return sdkDownload(b, c, src, set.keys)
						}})
						if awsCLI() != "" {
							baselines = append(baselines, contender{name: "cli", run: func(b *testing.B, round int) time.Duration {
								dir := b.TempDir()
								args := []string{"s3", "cp", "s3://" + src + "/" + set.keys[0], filepath.Join(dir, "object.bin")}
								if len(set.keys) > 1 {
									args = []string{"s3", "cp", "--recursive", "s3://" + src + "/" + set.prefix, dir}
								}
								return timeCLI(b, srv, func() { os.RemoveAll(dir) }, args...)
							}})
						}
					} else {
						baselines = append(baselines, contender{name: "sdk", run: func(b *testing.B, round int) time.Duration {
							return sdkCopy(b, c, src, set.keys, dst, func(k string) string { return "sdk/" + k })
						}})
						if awsCLI() != "" {
							baselines = append(baselines, contender{name: "cli", run: func(b *testing.B, round int) time.Duration {
								args := []string{"s3", "cp", "s3://" + src + "/" + set.keys[0], "s3://" + dst + "/cli/" + set.keys[0]}
								if len(set.keys) > 1 {
									args = []string{"s3", "cp", "--recursive", "s3://" + src + "/" + set.prefix, "s3://" + dst + "/cli/" + set.prefix}
								}
								return timeCLI(b, srv, func() { emptyPrefix(b, c, dst, "cli/") }, args...)
							}})
						}
					}
					compare(b, set.total(), baselines, wharfs...)
				})
			}
		})
	}
}

// BenchmarkExport measures EXPORT_ASSETS_TO_S3 of the assets an import of
// one large object and of many small ones made, from each asset store,
// against moving the same bytes (the asset store's own files or objects)
// with the AWS SDK (PutObject from the file, or a server-side CopyObject)
// and with `aws s3 cp`.
func BenchmarkExport(b *testing.B) {
	srv := s3test.Start(b)
	src := srv.NewBucket(b)
	sets := objectSets()
	uploadSets(b, srv, src, sets)
	c := srv.Client()

	for _, store := range stores {
		b.Run("store="+store, func(b *testing.B) {
			w, assetBucket, assetPrefix := startForStore(b, srv, store)
			dst := srv.NewBucket(b)
			for _, set := range sets {
				b.Run("objects="+set.name, func(b *testing.B) {
					ds := w.newDataSet(b, "export-"+set.name)
					rev, assets := w.mustImport(b, ds, src, set.keys)
					// Where the asset store keeps each asset's bytes.
					assetKeyPrefix := assetPrefix + path.Join(rootAccount, ds) + "/"
					var names, ids []string
					for _, k := range set.keys {
						names, ids = append(names, k), append(ids, assets[k])
					}
					var dests []types.AssetDestinationEntry
					for i := range names {
						dests = append(dests, types.AssetDestinationEntry{
							AssetId: aws.String(ids[i]), Bucket: aws.String(dst), Key: aws.String("wharf/" + names[i])})
					}
					details := &types.RequestDetails{ExportAssetsToS3: &types.ExportAssetsToS3RequestDetails{
						DataSetId: &ds, RevisionId: &rev, AssetDestinations: dests}}
					wharfs := w.contenders(types.TypeExportAssetsToS3, func(b *testing.B) time.Duration {
						_, d, err := w.runJob(context.Background(), types.TypeExportAssetsToS3, details, throughputPoll)
						if err != nil {
							b.Fatal(err)
						}
						emptyPrefix(b, c, dst, "wharf/")
						return d
					})
					var baselines []contender
					if store == "local" {
						baselines = append(baselines, contender{name: "sdk", run: func(b *testing.B, round int) time.Duration {
							return sdkUpload(b, c, w.assetDir(ds), ids, dst, names)
						}})
						if awsCLI() != "" {
							baselines = append(baselines, contender{name: "cli", run: func(b *testing.B, round int) time.Duration {
								args := []string{"s3", "cp", filepath.Join(w.assetDir(ds), ids[0]), "s3://" + dst + "/cli/" + names[0]}
								if len(ids) > 1 {
									args = []string{"s3", "cp", "--recursive", w.assetDir(ds), "s3://" + dst + "/cli/" + set.prefix}
								}
								return timeCLI(b, srv, func() { emptyPrefix(b, c, dst, "cli/") }, args...)
							}})
						}
					} else {
						keys := make([]string, len(ids))
						byKey := map[string]string{}
						for i, id := range ids {
							keys[i] = assetKeyPrefix + id
							byKey[keys[i]] = names[i]
						}
						baselines = append(baselines, contender{name: "sdk", run: func(b *testing.B, round int) time.Duration {
							return sdkCopy(b, c, assetBucket, keys, dst, func(k string) string { return "sdk/" + byKey[k] })
						}})
						if awsCLI() != "" {
							baselines = append(baselines, contender{name: "cli", run: func(b *testing.B, round int) time.Duration {
								args := []string{"s3", "cp", "s3://" + assetBucket + "/" + keys[0], "s3://" + dst + "/cli/" + names[0]}
								if len(keys) > 1 {
									args = []string{"s3", "cp", "--recursive", "s3://" + assetBucket + "/" + assetKeyPrefix, "s3://" + dst + "/cli/" + set.prefix}
								}
								return timeCLI(b, srv, func() { emptyPrefix(b, c, dst, "cli/") }, args...)
							}})
						}
					}
					compare(b, set.total(), baselines, wharfs...)
				})
			}
		})
	}
}

// sdkDownload streams each key of bucket into a local file (a temporary
// file fsynced and renamed into place, as the local asset store writes),
// parallelism at once, and returns the time taken; the files are removed
// afterwards.
func sdkDownload(b *testing.B, c *s3.Client, bucket string, keys []string) time.Duration {
	dir := b.TempDir()
	ctx := context.Background()
	start := time.Now()
	err := forEachParallel(len(keys), func(i int) error {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &keys[i]})
		if err != nil {
			return err
		}
		defer out.Body.Close()
		f, err := os.CreateTemp(dir, ".part-")
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, out.Body); err != nil {
			f.Close()
			return err
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		return os.Rename(f.Name(), filepath.Join(dir, fmt.Sprintf("object-%d", i)))
	})
	d := time.Since(start)
	if err != nil {
		b.Fatalf("sdk download: %v", err)
	}
	os.RemoveAll(dir)
	return d
}

// sdkUpload PutObjects the files dir/files[i] to dstBucket/sdk/keys[i],
// parallelism at once, and returns the time taken; the objects are removed
// afterwards.
func sdkUpload(b *testing.B, c *s3.Client, dir string, files []string, dstBucket string, keys []string) time.Duration {
	ctx := context.Background()
	start := time.Now()
	err := forEachParallel(len(files), func(i int) error {
		f, err := os.Open(filepath.Join(dir, files[i]))
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: &dstBucket, Key: aws.String("sdk/" + keys[i]),
			Body: f, ContentLength: aws.Int64(fi.Size())})
		return err
	})
	d := time.Since(start)
	if err != nil {
		b.Fatalf("sdk upload: %v", err)
	}
	emptyPrefix(b, c, dstBucket, "sdk/")
	return d
}

// sdkCopy copies srcBucket/keys[i] to dstBucket/dstKey(keys[i]) with
// server-side CopyObject, parallelism at once, and returns the time taken;
// the copies are removed afterwards.
func sdkCopy(b *testing.B, c *s3.Client, srcBucket string, keys []string, dstBucket string, dstKey func(string) string) time.Duration {
	ctx := context.Background()
	start := time.Now()
	err := forEachParallel(len(keys), func(i int) error {
		_, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &dstBucket, Key: aws.String(dstKey(keys[i])),
			CopySource: aws.String(srcBucket + "/" + keys[i])})
		return err
	})
	d := time.Since(start)
	if err != nil {
		b.Fatalf("sdk copy: %v", err)
	}
	emptyPrefix(b, c, dstBucket, "sdk/")
	return d
}

// timeCLI times `aws args...` against srv, then runs cleanup (untimed).
func timeCLI(b *testing.B, srv *s3test.Server, cleanup func(), args ...string) time.Duration {
	start := time.Now()
	err := runCLI(srv, args...)
	d := time.Since(start)
	if err != nil {
		b.Fatal(err)
	}
	cleanup()
	return d
}
