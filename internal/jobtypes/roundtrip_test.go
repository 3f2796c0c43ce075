package jobtypes_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/resource"
)

// objectKey is the key of the i-th test object: varied shapes, some needing
// escaping.
func objectKey(i int) string {
	switch i % 4 {
	case 0:
		return fmt.Sprintf("data/2026/part-%03d.csv", i)
	case 1:
		return fmt.Sprintf("dir with spaces/ünïcödé-%03d.txt", i)
	case 2:
		return fmt.Sprintf("odd+chars=%03d&x?y#z.bin", i)
	}
	return fmt.Sprintf("flat-%03d", i)
}

// objectSize is the size of the i-th test object: one empty, one spanning
// several parts, the others small.
func objectSize(i int) int {
	switch i {
	case 7:
		return 0
	case 42:
		return 12*mib + 12345
	}
	return 1 + (i*7919)%20000
}

// TestImportThenExport imports 100 objects and exports them back three ways,
// on both store drivers and both asset stores.
func TestImportThenExport(t *testing.T) {
	t.Parallel()
	for _, driver := range []string{sqliteDB, postgresDB} {
		for _, assets := range []string{localAssets, s3Assets} {
			t.Run(driver+"/"+assets, func(t *testing.T) {
				t.Parallel()
				testImportThenExport(t, options{driver: driver, assets: assets})
			})
		}
	}
}

func testImportThenExport(t *testing.T, o options) {
	e := newEnv(t, o)
	srv := e.srv
	source := srv.NewBucket(t)
	const n = 100
	want := map[string][]byte{}
	var sources []src
	var total int64
	for i := range n {
		key, data := objectKey(i), pattern(i, objectSize(i))
		srv.PutObject(t, source, key, data)
		want[key] = data
		sources = append(sources, src{source, key})
		total += int64(len(data))
	}

	job := e.importJob(resource.JobStateCompleted, sources...)
	checkProgress(t, job, total)
	assets := e.revisionAssets(e.revision)
	if len(assets) != n {
		t.Fatalf("%d assets, want %d", len(assets), n)
	}
	index := map[string]int{}
	for i, s := range sources {
		index[s.Key] = i
	}
	for _, a := range assets {
		i, ok := index[a.Name]
		if !ok {
			t.Fatalf("asset %s is named %q, not after a source key", a.ID, a.Name)
		}
		if a.ID != jobs.AssetID(job.ID, i) {
			t.Errorf("asset %q has id %s, want AssetID(job, %d)", a.Name, a.ID, i)
		}
		if a.AssetType != resource.AssetTypeS3Snapshot {
			t.Errorf("asset %q is %s", a.Name, a.AssetType)
		}
		var d struct{ S3SnapshotAsset struct{ Size *float64 } }
		if err := json.Unmarshal(a.Details, &d); err != nil || d.S3SnapshotAsset.Size == nil {
			t.Fatalf("asset %q details %s", a.Name, a.Details)
		}
		if got := int(*d.S3SnapshotAsset.Size); got != len(want[a.Name]) {
			t.Errorf("asset %q: Size %d, want %d", a.Name, got, len(want[a.Name]))
		}
		sameBytes(t, "stored bytes of "+a.Name, e.storedBytes(a), want[a.Name])
	}
	if t.Failed() {
		return
	}

	kmsKey := "arn:aws:kms:" + srv.KMSKeyID
	for _, c := range []struct {
		name   string
		enc    *encryption
		prefix string // "" for default keys
	}{
		{"AES256/default-keys", &encryption{Type: "AES256"}, ""},
		{"aws:kms/explicit-keys", &encryption{Type: "aws:kms", KmsKeyArn: kmsKey}, "exported/kms/"},
		{"no-encryption/default-keys", nil, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.enc != nil && (!srv.HasSSE() || c.enc.Type == "aws:kms" && !srv.HasKMS()) {
				t.Skipf("%s has no server-side encryption", srv.Kind)
			}
			bucket := srv.NewBucket(t)
			var dsts []dst
			for _, a := range assets {
				d := dst{AssetId: a.ID, Bucket: bucket}
				if c.prefix != "" {
					d.Key = c.prefix + a.Name
				}
				dsts = append(dsts, d)
			}
			job := e.exportJob(resource.JobStateCompleted, c.enc, dsts...)
			checkProgress(t, job, total)
			keys := srv.Keys(t, bucket)
			if len(keys) != n {
				t.Fatalf("%d objects in the destination, want %d: %v", len(keys), n, keys)
			}
			for _, a := range assets {
				key := c.prefix + a.Name
				sameBytes(t, "exported "+key, srv.GetObject(t, bucket, key), want[a.Name])
				h := headObject(t, srv, bucket, key)
				switch {
				case c.enc == nil:
				case c.enc.Type == "AES256":
					if h.ServerSideEncryption != "AES256" {
						t.Errorf("%s: ServerSideEncryption %q, want AES256", key, h.ServerSideEncryption)
					}
				default:
					if h.ServerSideEncryption != "aws:kms" || !strings.Contains(aws.ToString(h.SSEKMSKeyId), srv.KMSKeyID) {
						t.Errorf("%s: ServerSideEncryption %q with key %q, want aws:kms with %s",
							key, h.ServerSideEncryption, aws.ToString(h.SSEKMSKeyId), kmsKey)
					}
				}
			}
			if ups := srv.Uploads(t, bucket); len(ups) > 0 {
				t.Errorf("uploads left in the destination: %v", ups)
			}
		})
	}
}

// checkProgress checks a finished job's progress: all of it done.
func checkProgress(t *testing.T, job resource.Job, total int64) {
	t.Helper()
	if job.BytesDone != total || job.BytesTotal != total {
		t.Errorf("progress %d/%d, want %d/%d", job.BytesDone, job.BytesTotal, total, total)
	}
}
