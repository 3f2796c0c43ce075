package assetstore_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/s3test"
)

func TestAssetKey(t *testing.T) {
	ds, asset := resource.NewID(), resource.NewID()
	k, err := assetstore.AssetKey(account, ds, asset)
	if err != nil || k.String() != account+"/"+ds+"/"+asset {
		t.Fatalf("AssetKey = %q, %v", k, err)
	}
	if _, err := assetstore.AssetKey(account, ds, "my file.csv"); err == nil {
		t.Fatal("AssetKey took an asset name")
	}
}

// Discard removes the object under a key and what interrupted writes to it
// left, and nothing else; twice is fine.
func TestDiscard(t *testing.T) {
	t.Parallel()
	t.Run("local", func(t *testing.T) {
		t.Parallel()
		st, err := assetstore.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		key, keep := newKey(t), newKey(t)
		put(t, st, key, []byte("gone"))
		put(t, st, keep, []byte("kept"))
		p := filepath.Join(st.Dir(), filepath.FromSlash(key.String()))
		temp := filepath.Join(filepath.Dir(p), ".tmp-"+filepath.Base(p)+"-00112233aabbccdd")
		if err := os.WriteFile(temp, []byte("half"), 0o640); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := assetstore.Discard(ctxT(t), st, key); err != nil {
				t.Fatal(err)
			}
			assertNotFound(t, st, key)
			if _, err := os.Stat(temp); !os.IsNotExist(err) {
				t.Fatalf("temporary file: %v", err)
			}
			if b, _ := readAll(t, st, keep, nil); string(b) != "kept" {
				t.Fatal("another key's object changed")
			}
		}
	})
	t.Run("s3", func(t *testing.T) {
		t.Parallel()
		srv := s3test.Start(t)
		bucket := srv.NewBucket(t)
		st := newS3Store(t, srv, bucket, "prefix")
		key, keep := newKey(t), newKey(t)
		put(t, st, key, []byte("gone"))
		put(t, st, keep, []byte("kept"))
		for _, k := range []assetstore.Key{key, keep} {
			loc := st.Location(k)
			if _, err := srv.Client().CreateMultipartUpload(context.Background(),
				&s3.CreateMultipartUploadInput{Bucket: &loc.Bucket, Key: &loc.Key}); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 {
			if err := assetstore.Discard(ctxT(t), st, key); err != nil {
				t.Fatal(err)
			}
			assertNotFound(t, st, key)
			ups := srv.Uploads(t, bucket)
			if len(ups) != 1 {
				t.Fatalf("uploads %v, want only the other key's", ups)
			}
			if b, _ := readAll(t, st, keep, nil); string(b) != "kept" {
				t.Fatal("another key's object changed")
			}
		}
	})
}
