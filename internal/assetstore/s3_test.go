package assetstore_test

import (
	"bytes"
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/s3access"
	"github.com/wharf-dev/wharf/internal/s3test"
)

func profile(srv *s3test.Server) s3access.Profile {
	return s3access.Profile{Endpoint: srv.URL, Region: srv.Region, AccessKeyID: srv.AccessKeyID,
		SecretAccessKey: srv.SecretAccessKey, PathStyle: true}
}

func endpoint(t testing.TB, p s3access.Profile) *s3access.Endpoint {
	t.Helper()
	ep, err := s3access.NewEndpoint(p)
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

// newS3Store opens an S3 store on srv through Open and a Resolver whose
// ambient configuration is srv's root credentials, as `wharf serve
// --asset-store s3://bucket/prefix` does.
func newS3Store(t *testing.T, srv *s3test.Server, bucket, prefix string) *assetstore.S3 {
	t.Helper()
	p := profile(srv)
	r, err := s3access.NewResolver(context.Background(), s3access.ResolverConfig{Ambient: &p})
	if err != nil {
		t.Fatal(err)
	}
	st, err := assetstore.Open(ctxT(t), "s3://"+bucket+"/"+prefix, "", r)
	if err != nil {
		t.Fatal(err)
	}
	s := st.(*assetstore.S3)
	// Small parts, so that a few MiB take the multipart path.
	s.Tuning = s3access.Tuning{PartSize: 5 * mib, CopyPartSize: 5 * mib, MaxSingleCopySize: 5 * mib, Concurrency: 2}
	return s
}

func TestS3StoreOnMinIO(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	st := newS3Store(t, srv, bucket, "wharf/assets")
	testStore(t, st, 11*mib)
	t.Cleanup(func() {
		for _, k := range srv.Keys(t, bucket) {
			if !strings.HasPrefix(k, "wharf/assets/"+account+"/") {
				t.Errorf("object %q outside the store's prefix", k)
			}
		}
		if ups := srv.Uploads(t, bucket); len(ups) != 0 {
			t.Errorf("multipart uploads left: %q", ups)
		}
	})
}

// gofakes3 is an in-process fake: quick, but only a complement to MinIO.
func TestS3StoreOnFake(t *testing.T) {
	t.Parallel()
	fake := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(fake.Close)
	ep := endpoint(t, s3access.Profile{Endpoint: fake.URL, AccessKeyID: "fake", SecretAccessKey: "fake", PathStyle: true})
	if _, err := ep.Client().CreateBucket(ctxT(t), &s3.CreateBucketInput{Bucket: aws.String("assets")}); err != nil {
		t.Fatal(err)
	}
	st, err := assetstore.NewS3(ctxT(t), ep, "assets", "/p/")
	if err != nil {
		t.Fatal(err)
	}
	st.Tuning = s3access.Tuning{PartSize: 64 * 1024}
	if st.Prefix() != "p/" || st.String() != "s3://assets/p" {
		t.Errorf("prefix %q, string %q", st.Prefix(), st)
	}
	testStore(t, st, 200*1024)
}

func TestOpenS3Spec(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	p := profile(srv)
	r, err := s3access.NewResolver(context.Background(), s3access.ResolverConfig{Ambient: &p})
	if err != nil {
		t.Fatal(err)
	}
	for spec, wantPrefix := range map[string]string{
		"s3://" + bucket:                "",
		"s3://" + bucket + "/":          "",
		"s3://" + bucket + "/a/b":       "a/b/",
		"s3://" + bucket + "/a/b/":      "a/b/",
		"s3://" + bucket + "//nested//": "nested/",
	} {
		st, err := assetstore.Open(ctxT(t), spec, "", r)
		if err != nil {
			t.Fatalf("Open(%q): %v", spec, err)
		}
		s := st.(*assetstore.S3)
		if s.Bucket() != bucket || s.Prefix() != wantPrefix {
			t.Errorf("Open(%q): bucket %q prefix %q, want prefix %q", spec, s.Bucket(), s.Prefix(), wantPrefix)
		}
	}
	if _, err := assetstore.Open(ctxT(t), "s3://"+bucket+"-missing/x", "", r); err == nil ||
		!strings.Contains(err.Error(), "does not exist") {
		t.Errorf("a missing bucket: %v", err)
	}
}

// An interrupted multipart Put leaves an upload (never an object); Sweep
// aborts the stale ones under the store's prefix, and only those.
func TestS3SweepAbortsStaleUploads(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	st := newS3Store(t, srv, bucket, "store")
	c := srv.Client()
	key := newKey(t)
	loc := st.Location(key)
	// A crashed process's upload, and someone else's outside the prefix.
	for _, k := range []string{loc.Key, "elsewhere/" + key.String()} {
		if _, err := c.CreateMultipartUpload(ctxT(t), &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	assertNotFound(t, st, key)
	if n, err := st.Sweep(ctxT(t), time.Hour); err != nil || n != 0 {
		t.Errorf("Sweep(1h) = %d, %v; want 0 (the upload is recent)", n, err)
	}
	// Initiated times have a second's resolution: wait past it.
	time.Sleep(1100 * time.Millisecond)
	if n, err := st.Sweep(ctxT(t), 0); err != nil || n != 1 {
		t.Errorf("Sweep(0) = %d, %v; want 1", n, err)
	}
	ups := srv.Uploads(t, bucket)
	if len(ups) != 1 || !strings.HasPrefix(ups[0], "elsewhere/") {
		t.Errorf("uploads left: %q, want only the one outside the prefix", ups)
	}
	if _, err := s3access.AbortUploads(ctxT(t), st.Endpoint(), bucket, ""); err != nil {
		t.Fatal(err)
	}
}

func TestS3StoreContains(t *testing.T) {
	t.Parallel()
	fake := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(fake.Close)
	ep := endpoint(t, s3access.Profile{Endpoint: fake.URL, AccessKeyID: "A", SecretAccessKey: "s", PathStyle: true})
	sameURLOtherKey := endpoint(t, s3access.Profile{Endpoint: fake.URL, AccessKeyID: "B", SecretAccessKey: "s"})
	otherURL := endpoint(t, s3access.Profile{Endpoint: "http://127.0.0.2:1", AccessKeyID: "A", SecretAccessKey: "s"})
	if _, err := ep.Client().CreateBucket(ctxT(t), &s3.CreateBucketInput{Bucket: aws.String("bucket")}); err != nil {
		t.Fatal(err)
	}
	st, err := assetstore.NewS3(ctxT(t), ep, "bucket", "pre")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		loc  s3access.Location
		want bool
	}{
		{s3access.Location{Endpoint: ep, Bucket: "bucket", Key: "pre/x"}, true},
		{s3access.Location{Endpoint: sameURLOtherKey, Bucket: "bucket", Key: "pre/123456789012/x"}, true},
		{s3access.Location{Endpoint: ep, Bucket: "bucket", Key: "prefix/x"}, false},
		{s3access.Location{Endpoint: ep, Bucket: "bucket", Key: "other/x"}, false},
		{s3access.Location{Endpoint: ep, Bucket: "other", Key: "pre/x"}, false},
		{s3access.Location{Endpoint: otherURL, Bucket: "bucket", Key: "pre/x"}, false},
	} {
		if got := st.Contains(tc.loc); got != tc.want {
			t.Errorf("Contains(%s on %v) = %v", tc.loc, tc.loc.Endpoint.Identity(), got)
		}
	}
}

// Import and Export, for both kinds of store: bytes, encryption, strategy.
func TestImportExport(t *testing.T) {
	t.Parallel()
	srv, other := s3test.Start(t), s3test.StartNamed(t, "second")
	storeBucket, userBucket, otherBucket := srv.NewBucket(t), srv.NewBucket(t), other.NewBucket(t)
	s3Store := newS3Store(t, srv, storeBucket, "assets")
	local := newLocal(t)
	userEp := s3Store.Endpoint() // the root account: same credentials as the store
	otherEp := endpoint(t, profile(other))

	small, big := randomBytes(3000), randomBytes(12*mib)
	srv.PutObject(t, userBucket, "in/small.csv", small)
	srv.PutObject(t, userBucket, "in/big.bin", big)
	other.PutObject(t, otherBucket, "in/big.bin", big)

	var enc s3access.Encryption
	if srv.HasSSE() {
		enc = s3access.Encryption{Type: s3access.SSES3}
	}
	if srv.HasKMS() {
		enc = s3access.Encryption{Type: s3access.SSEKMS, KMSKeyID: srv.KMSKeyID}
	}

	for _, tc := range []struct {
		name         string
		st           assetstore.Store
		src          s3access.Location
		data         []byte
		dst          s3access.Location
		wantStrategy string
	}{
		{"s3 store, same endpoint, small", s3Store, s3access.Location{Endpoint: userEp, Bucket: userBucket, Key: "in/small.csv"}, small,
			s3access.Location{Endpoint: userEp, Bucket: userBucket, Key: "out/small.csv"}, s3access.StrategyCopyObject},
		{"s3 store, same endpoint, big", s3Store, s3access.Location{Endpoint: userEp, Bucket: userBucket, Key: "in/big.bin"}, big,
			s3access.Location{Endpoint: userEp, Bucket: userBucket, Key: "out/big.bin"}, s3access.StrategyMultipartCopy},
		{"s3 store, other endpoint", s3Store, s3access.Location{Endpoint: otherEp, Bucket: otherBucket, Key: "in/big.bin"}, big,
			s3access.Location{Endpoint: otherEp, Bucket: otherBucket, Key: "out/from-s3-store"}, s3access.StrategyStream},
		{"local store", local, s3access.Location{Endpoint: otherEp, Bucket: otherBucket, Key: "in/big.bin"}, big,
			s3access.Location{Endpoint: otherEp, Bucket: otherBucket, Key: "out/from-local-store"}, s3access.StrategyStream},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := newKey(t)
			var last int64
			info, err := assetstore.Import(ctxT(t), tc.st, tc.src, key, func(done int64) { last = done })
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			if info.Size != int64(len(tc.data)) || last != info.Size {
				t.Errorf("Import: info %+v, progress ended at %d", info, last)
			}
			if got, _ := readAll(t, tc.st, key, nil); !bytes.Equal(got, tc.data) {
				t.Fatalf("imported bytes differ")
			}
			res, err := assetstore.Export(ctxT(t), tc.st, key, tc.dst, s3access.CopyOptions{Encryption: enc})
			if err != nil {
				t.Fatalf("Export: %v", err)
			}
			if res.Strategy != tc.wantStrategy || res.Size != int64(len(tc.data)) {
				t.Errorf("Export: %+v, want strategy %s", res, tc.wantStrategy)
			}
			h, err := tc.dst.Endpoint.Client().HeadObject(ctxT(t), &s3.HeadObjectInput{Bucket: &tc.dst.Bucket, Key: &tc.dst.Key})
			if err != nil {
				t.Fatal(err)
			}
			if string(h.ServerSideEncryption) != enc.Type {
				t.Errorf("exported object's encryption %q, want %q", h.ServerSideEncryption, enc.Type)
			}
			if aws.ToInt64(h.ContentLength) != int64(len(tc.data)) {
				t.Errorf("exported %d bytes", aws.ToInt64(h.ContentLength))
			}
		})
	}

	t.Run("missing source and asset", func(t *testing.T) {
		_, err := assetstore.Import(ctxT(t), local, s3access.Location{Endpoint: otherEp, Bucket: otherBucket, Key: "no/such"}, newKey(t), nil)
		if !errors.Is(err, s3access.ErrNoSuchKey) || !strings.Contains(err.Error(), "no/such") {
			t.Errorf("Import of a missing key: %v", err)
		}
		for _, st := range []assetstore.Store{local, s3Store} {
			_, err := assetstore.Export(ctxT(t), st, newKey(t), s3access.Location{Endpoint: otherEp, Bucket: otherBucket, Key: "x"}, s3access.CopyOptions{})
			if !errors.Is(err, assetstore.ErrNotFound) {
				t.Errorf("Export of a missing asset from %s: %v", st, err)
			}
		}
	})

	// A size limit refuses the source from its size alone: nothing is
	// written, and the copy's progress never starts.
	t.Run("over the size limit", func(t *testing.T) {
		for _, st := range []assetstore.Store{local, s3Store} {
			key := newKey(t)
			var sized, progressed int64 = -1, -1
			_, err := assetstore.ImportWith(ctxT(t), st, s3access.Location{Endpoint: userEp, Bucket: userBucket, Key: "in/small.csv"}, key,
				assetstore.ImportOptions{MaxSize: int64(len(small)) - 1, Sized: func(n int64) { sized = n }, Progress: func(n int64) { progressed = n }})
			var tl *assetstore.TooLargeError
			if !errors.As(err, &tl) || tl.Size != int64(len(small)) {
				t.Errorf("%s: ImportWith over the limit: %v, want a TooLargeError of %d bytes", st, err, len(small))
			}
			if sized != -1 || progressed != -1 {
				t.Errorf("%s: sized %d, progress %d: want neither called", st, sized, progressed)
			}
			if _, err := st.Stat(ctxT(t), key); !errors.Is(err, assetstore.ErrNotFound) {
				t.Errorf("%s: the refused asset: Stat %v, want ErrNotFound", st, err)
			}
			info, err := assetstore.ImportWith(ctxT(t), st, s3access.Location{Endpoint: userEp, Bucket: userBucket, Key: "in/small.csv"}, key,
				assetstore.ImportOptions{MaxSize: int64(len(small)), Sized: func(n int64) { sized = n }})
			if err != nil || info.Size != int64(len(small)) || sized != int64(len(small)) {
				t.Errorf("%s: ImportWith at the limit: %+v, %v, sized %d", st, info, err, sized)
			}
		}
	})

	// No job may read or write the store's own objects through S3.
	t.Run("the store is off limits", func(t *testing.T) {
		key := newKey(t)
		put(t, s3Store, key, []byte("someone else's asset"))
		inside := s3Store.Location(key)
		_, err := assetstore.Import(ctxT(t), s3Store, inside, newKey(t), nil)
		if !fault.Is(err, fault.AccessDenied) {
			t.Errorf("Import from inside the store: %v, want AccessDenied", err)
		}
		_, err = assetstore.Export(ctxT(t), s3Store, key, s3access.Location{Endpoint: userEp, Bucket: storeBucket, Key: "assets/" + account + "/x"}, s3access.CopyOptions{})
		if !fault.Is(err, fault.AccessDenied) {
			t.Errorf("Export into the store: %v, want AccessDenied", err)
		}
	})
}
