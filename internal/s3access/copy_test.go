package s3access_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/s3access"
	"github.com/wharf-dev/wharf/internal/s3test"
)

// Keys with characters that need escaping in x-amz-copy-source.
const oddKey = "in/a dir+plus/ünï%code?&=#.csv"

func TestCopySameEndpointUsesCopyObject(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	ep := endpoint(t, srv)
	srcBucket, dstBucket := srv.NewBucket(t), srv.NewBucket(t)
	data := randomBytes(100_000)
	src := s3access.Location{Endpoint: ep, Bucket: srcBucket, Key: oddKey}
	dst := s3access.Location{Endpoint: ep, Bucket: dstBucket, Key: "out/" + oddKey}
	if _, err := ep.Client().PutObject(ctxT(t), &s3.PutObjectInput{
		Bucket: &src.Bucket, Key: &src.Key, Body: strings.NewReader(string(data)),
		ContentType: aws.String("text/csv"),
	}); err != nil {
		t.Fatal(err)
	}
	var p progressLog
	res, err := s3access.Copy(ctxT(t), src, dst, s3access.CopyOptions{Progress: p.fn})
	if err != nil {
		t.Fatal(err)
	}
	if res.Strategy != s3access.StrategyCopyObject || res.Size != int64(len(data)) {
		t.Errorf("result %+v, want CopyObject of %d bytes", res, len(data))
	}
	sameBytes(t, "copy", read(t, dst), data)
	if ct := aws.ToString(head(t, dst).ContentType); ct != "text/csv" {
		t.Errorf("content type %q, want text/csv", ct)
	}
	p.check(t, int64(len(data)))
}

func TestCopySameEndpointAboveThresholdUsesMultipartCopy(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	ep := endpoint(t, srv)
	bucket := srv.NewBucket(t)
	data := randomBytes(11 * mib) // three parts of 5 MiB, 5 MiB, 1 MiB
	src := s3access.Location{Endpoint: ep, Bucket: bucket, Key: "src/" + oddKey}
	dst := s3access.Location{Endpoint: ep, Bucket: bucket, Key: "dst/big"}
	srv.PutObject(t, bucket, src.Key, data)

	var p progressLog
	res, err := s3access.Copy(ctxT(t), src, dst, s3access.CopyOptions{
		Progress: p.fn,
		Tuning:   s3access.Tuning{MaxSingleCopySize: 8 * mib, CopyPartSize: 5 * mib, Concurrency: 3},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Strategy != s3access.StrategyMultipartCopy {
		t.Errorf("strategy %q, want %q", res.Strategy, s3access.StrategyMultipartCopy)
	}
	sameBytes(t, "multipart copy", read(t, dst), data)
	if etag := aws.ToString(head(t, dst).ETag); !strings.HasSuffix(etag, `-3"`) {
		t.Errorf("ETag %s, want a 3-part multipart ETag", etag)
	}
	p.check(t, int64(len(data)))
	if ups := srv.Uploads(t, bucket); len(ups) != 0 {
		t.Errorf("uploads left: %q", ups)
	}
}

func TestCopyAcrossEndpointsStreams(t *testing.T) {
	t.Parallel()
	srcSrv, dstSrv := s3test.Start(t), s3test.StartNamed(t, "second")
	srcEp, dstEp := endpoint(t, srcSrv), endpoint(t, dstSrv)
	if s3access.SameEndpoint(srcEp, dstEp) {
		t.Fatal("two servers have the same identity")
	}
	srcBucket, dstBucket := srcSrv.NewBucket(t), dstSrv.NewBucket(t)
	for _, size := range []int{0, 1000, 13 * mib} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			data := randomBytes(size)
			src := s3access.Location{Endpoint: srcEp, Bucket: srcBucket, Key: fmt.Sprintf("%d/%s", size, oddKey)}
			dst := s3access.Location{Endpoint: dstEp, Bucket: dstBucket, Key: fmt.Sprintf("copied/%d", size)}
			srcSrv.PutObject(t, srcBucket, src.Key, data)
			var p progressLog
			res, err := s3access.Copy(ctxT(t), src, dst, s3access.CopyOptions{
				Progress: p.fn, Tuning: s3access.Tuning{PartSize: 5 * mib, Concurrency: 2},
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Strategy != s3access.StrategyStream || res.Size != int64(size) {
				t.Errorf("result %+v", res)
			}
			sameBytes(t, "streamed copy", read(t, dst), data)
			if size > 5*mib {
				if etag := aws.ToString(head(t, dst).ETag); !strings.HasSuffix(etag, `-3"`) {
					t.Errorf("ETag %s, want a 3-part multipart ETag", etag)
				}
			}
			if size > 0 {
				p.check(t, int64(size))
			}
		})
	}
	if ups := dstSrv.Uploads(t, dstBucket); len(ups) != 0 {
		t.Errorf("uploads left: %q", ups)
	}
}

// Same server, different credentials: not the same endpoint, so the copy
// streams (the destination's credentials may not read the source).
func TestSameURLOtherCredentialsIsAnotherEndpoint(t *testing.T) {
	t.Parallel()
	a, _ := s3access.NewEndpoint(s3access.Profile{Endpoint: "http://127.0.0.1:9000/", AccessKeyID: "A", SecretAccessKey: "x"})
	a2, _ := s3access.NewEndpoint(s3access.Profile{Endpoint: "http://127.0.0.1:9000", AccessKeyID: "A", SecretAccessKey: "y"})
	b, _ := s3access.NewEndpoint(s3access.Profile{Endpoint: "http://127.0.0.1:9000", AccessKeyID: "B", SecretAccessKey: "x"})
	c, _ := s3access.NewEndpoint(s3access.Profile{Endpoint: "http://127.0.0.2:9000", AccessKeyID: "A", SecretAccessKey: "x"})
	if !s3access.SameEndpoint(a, a2) {
		t.Errorf("same URL and key id: want the same endpoint (%v, %v)", a.Identity(), a2.Identity())
	}
	if s3access.SameEndpoint(a, b) || s3access.SameEndpoint(a, c) || s3access.SameEndpoint(a, nil) {
		t.Errorf("different key id or URL: want different endpoints")
	}
}

type sseCase struct {
	name    string
	enc     s3access.Encryption
	wantSSE types.ServerSideEncryption
	wantKey string
}

func sseCases(srv *s3test.Server) []sseCase {
	cases := []sseCase{{"AES256", s3access.Encryption{Type: s3access.SSES3}, types.ServerSideEncryptionAes256, ""}}
	if srv.HasKMS() {
		arn := "arn:aws:kms:" + srv.KMSKeyID
		cases = append(cases,
			sseCase{"kms", s3access.Encryption{Type: s3access.SSEKMS, KMSKeyID: srv.KMSKeyID}, types.ServerSideEncryptionAwsKms, arn},
			sseCase{"kms-arn", s3access.Encryption{Type: s3access.SSEKMS, KMSKeyID: arn}, types.ServerSideEncryptionAwsKms, arn})
	}
	return cases
}

func checkSSE(t *testing.T, loc s3access.Location, c sseCase) {
	t.Helper()
	h := head(t, loc)
	if h.ServerSideEncryption != c.wantSSE {
		t.Errorf("%s: x-amz-server-side-encryption %q, want %q", loc, h.ServerSideEncryption, c.wantSSE)
	}
	if c.wantKey != "" && aws.ToString(h.SSEKMSKeyId) != c.wantKey {
		t.Errorf("%s: KMS key %q, want %q", loc, aws.ToString(h.SSEKMSKeyId), c.wantKey)
	}
	info, err := s3access.Head(context.Background(), loc)
	if err != nil || info.Encryption.Type != string(c.wantSSE) {
		t.Errorf("Head: %+v, %v", info, err)
	}
}

func TestEncryptionIsAppliedByEveryStrategy(t *testing.T) {
	t.Parallel()
	srv, other := s3test.Start(t), s3test.StartNamed(t, "second")
	if !srv.HasSSE() {
		t.Skipf("%s does not apply server-side encryption", srv.Kind)
	}
	ep, otherEp := endpoint(t, srv), endpoint(t, other)
	bucket, otherBucket := srv.NewBucket(t), other.NewBucket(t)
	small, big := randomBytes(4096), randomBytes(6*mib)
	srv.PutObject(t, bucket, "small", small)
	srv.PutObject(t, bucket, "big", big)
	tuning := s3access.Tuning{MaxSingleCopySize: 5 * mib, CopyPartSize: 5 * mib, PartSize: 5 * mib}

	for _, c := range sseCases(srv) {
		t.Run(c.name, func(t *testing.T) {
			opts := s3access.CopyOptions{Encryption: c.enc, Tuning: tuning}
			for _, tc := range []struct {
				srcKey   string
				dst      s3access.Location
				strategy string
			}{
				{"small", s3access.Location{Endpoint: ep, Bucket: bucket, Key: c.name + "/copy"}, s3access.StrategyCopyObject},
				{"big", s3access.Location{Endpoint: ep, Bucket: bucket, Key: c.name + "/mpcopy"}, s3access.StrategyMultipartCopy},
				{"small", s3access.Location{Endpoint: otherEp, Bucket: otherBucket, Key: c.name + "/stream"}, s3access.StrategyStream},
				{"big", s3access.Location{Endpoint: otherEp, Bucket: otherBucket, Key: c.name + "/mpstream"}, s3access.StrategyStream},
			} {
				if tc.dst.Endpoint == otherEp && !other.HasKMS() && c.enc.Type == s3access.SSEKMS {
					continue
				}
				src := s3access.Location{Endpoint: ep, Bucket: bucket, Key: tc.srcKey}
				res, err := s3access.Copy(ctxT(t), src, tc.dst, opts)
				if err != nil {
					t.Fatalf("copy to %s: %v", tc.dst, err)
				}
				if res.Strategy != tc.strategy {
					t.Errorf("copy to %s: strategy %s, want %s", tc.dst, res.Strategy, tc.strategy)
				}
				checkSSE(t, tc.dst, c)
			}
			for _, size := range []int{100, 6 * mib} {
				dst := s3access.Location{Endpoint: ep, Bucket: bucket, Key: fmt.Sprintf("%s/put-%d", c.name, size)}
				data := randomBytes(size)
				res, err := s3access.PutStream(ctxT(t), dst, strings.NewReader(string(data)), int64(size),
					s3access.PutOptions{Encryption: c.enc, Tuning: tuning})
				if err != nil {
					t.Fatal(err)
				}
				if res.Multipart != (size > 5*mib) {
					t.Errorf("put %d: multipart %v", size, res.Multipart)
				}
				checkSSE(t, dst, c)
				sameBytes(t, "put", read(t, dst), data)
			}
		})
	}
}

func TestInvalidEncryptionIsAValidationError(t *testing.T) {
	t.Parallel()
	ep, _ := s3access.NewEndpoint(s3access.Profile{Endpoint: "http://127.0.0.1:1", AccessKeyID: "A", SecretAccessKey: "x"})
	loc := s3access.Location{Endpoint: ep, Bucket: "b", Key: "k"}
	for _, enc := range []s3access.Encryption{
		{Type: "aws:kms:dsse"}, {Type: "aes256"}, {Type: s3access.SSES3, KMSKeyID: "k"}, {KMSKeyID: "k"},
	} {
		_, err := s3access.Copy(context.Background(), loc, loc, s3access.CopyOptions{Encryption: enc})
		if !fault.Is(err, fault.Validation) {
			t.Errorf("%+v: %v, want a ValidationException", enc, err)
		}
	}
}

func TestMissingBucketsAndKeysAreNamed(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	ep := endpoint(t, srv)
	bucket := srv.NewBucket(t)
	srv.PutObject(t, bucket, "exists", []byte("x"))
	noBucket := bucket + "-missing"
	ctx := ctxT(t)

	check := func(what string, err error, reason error, bucket, key string) {
		t.Helper()
		var oe *s3access.ObjectError
		if !errors.As(err, &oe) || !errors.Is(err, reason) {
			t.Errorf("%s: %v, want %v", what, err, reason)
			return
		}
		if oe.Bucket != bucket || oe.Key != key {
			t.Errorf("%s: error names s3://%s/%s, want s3://%s/%s", what, oe.Bucket, oe.Key, bucket, key)
		}
		if !strings.Contains(err.Error(), bucket) || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: message %q does not name %s and %s", what, err, bucket, key)
		}
		if !s3access.IsNotFound(err) {
			t.Errorf("%s: IsNotFound false", what)
		}
	}
	_, err := s3access.Head(ctx, s3access.Location{Endpoint: ep, Bucket: bucket, Key: "nope/key"})
	check("head missing key", err, s3access.ErrNoSuchKey, bucket, "nope/key")
	_, err = s3access.Head(ctx, s3access.Location{Endpoint: ep, Bucket: noBucket, Key: "k"})
	check("head missing bucket", err, s3access.ErrNoSuchBucket, noBucket, "k")
	_, _, err = s3access.Get(ctx, s3access.Location{Endpoint: ep, Bucket: bucket, Key: "nope"})
	check("get missing key", err, s3access.ErrNoSuchKey, bucket, "nope")
	_, _, err = s3access.Get(ctx, s3access.Location{Endpoint: ep, Bucket: noBucket, Key: "k"})
	check("get missing bucket", err, s3access.ErrNoSuchBucket, noBucket, "k")

	exists := s3access.Location{Endpoint: ep, Bucket: bucket, Key: "exists"}
	_, err = s3access.Copy(ctx, s3access.Location{Endpoint: ep, Bucket: bucket, Key: "nope"}, exists, s3access.CopyOptions{})
	check("copy from missing key", err, s3access.ErrNoSuchKey, bucket, "nope")
	_, err = s3access.Copy(ctx, s3access.Location{Endpoint: ep, Bucket: noBucket, Key: "k"}, exists, s3access.CopyOptions{})
	check("copy from missing bucket", err, s3access.ErrNoSuchBucket, noBucket, "k")
	_, err = s3access.Copy(ctx, exists, s3access.Location{Endpoint: ep, Bucket: noBucket, Key: "out"}, s3access.CopyOptions{})
	check("copy to missing bucket", err, s3access.ErrNoSuchBucket, noBucket, "out")
	other := s3test.StartNamed(t, "second")
	_, err = s3access.Copy(ctx, exists, s3access.Location{Endpoint: endpoint(t, other), Bucket: noBucket, Key: "out"}, s3access.CopyOptions{})
	check("stream to missing bucket", err, s3access.ErrNoSuchBucket, noBucket, "out")
	_, err = s3access.PutStream(ctx, s3access.Location{Endpoint: ep, Bucket: noBucket, Key: "out"}, strings.NewReader("x"), 1, s3access.PutOptions{})
	check("put to missing bucket", err, s3access.ErrNoSuchBucket, noBucket, "out")
}

func TestWrongCredentialsAreAccessDenied(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	srv.PutObject(t, bucket, "k", []byte("x"))
	bad, _ := s3access.NewEndpoint(s3access.Profile{Endpoint: srv.URL, AccessKeyID: srv.AccessKeyID,
		SecretAccessKey: "wrong-secret", PathStyle: true})
	_, err := s3access.Head(ctxT(t), s3access.Location{Endpoint: bad, Bucket: bucket, Key: "k"})
	if !errors.Is(err, s3access.ErrAccessDenied) {
		t.Errorf("head with a wrong secret: %v, want ErrAccessDenied", err)
	}
}

// Cancelling a copy mid-way aborts its multipart upload and leaves no
// destination object.
func TestCancelMidCopyLeavesNothing(t *testing.T) {
	t.Parallel()
	srv, other := s3test.Start(t), s3test.StartNamed(t, "second")
	ep, otherEp := endpoint(t, srv), endpoint(t, other)
	bucket, otherBucket := srv.NewBucket(t), other.NewBucket(t)
	data := randomBytes(21 * mib)
	srv.PutObject(t, bucket, "src", data)
	src := s3access.Location{Endpoint: ep, Bucket: bucket, Key: "src"}

	for _, tc := range []struct {
		name string
		dst  s3access.Location
		srv  *s3test.Server
	}{
		{"multipart-copy", s3access.Location{Endpoint: ep, Bucket: bucket, Key: "dst/cancelled"}, srv},
		{"stream", s3access.Location{Endpoint: otherEp, Bucket: otherBucket, Key: "dst/cancelled"}, other},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(ctxT(t))
			defer cancel()
			p := progressLog{onFirst: cancel} // cancel once the first part is in
			_, err := s3access.Copy(ctx, src, tc.dst, s3access.CopyOptions{
				Progress: p.fn,
				Tuning:   s3access.Tuning{MaxSingleCopySize: 5 * mib, CopyPartSize: 5 * mib, PartSize: 5 * mib, Concurrency: 1},
			})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Copy: %v, want context.Canceled", err)
			}
			assertAbsent(t, tc.dst)
			if ups := tc.srv.Uploads(t, tc.dst.Bucket); len(ups) != 0 {
				t.Errorf("multipart uploads left: %q", ups)
			}
		})
	}

	t.Run("put", func(t *testing.T) {
		ctx, cancel := context.WithCancel(ctxT(t))
		defer cancel()
		p := progressLog{onFirst: cancel}
		dst := s3access.Location{Endpoint: ep, Bucket: bucket, Key: "put/cancelled"}
		_, err := s3access.PutStream(ctx, dst, strings.NewReader(string(data)), int64(len(data)), s3access.PutOptions{
			Progress: p.fn, Tuning: s3access.Tuning{PartSize: 5 * mib, Concurrency: 1}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("PutStream: %v, want context.Canceled", err)
		}
		assertAbsent(t, dst)
		if ups := srv.Uploads(t, bucket); len(ups) != 0 {
			t.Errorf("multipart uploads left: %q", ups)
		}
	})
}

// A reader that fails, or holds the wrong number of bytes, fails the put
// and leaves nothing.
func TestFailedPutLeavesNothing(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	ep := endpoint(t, srv)
	bucket := srv.NewBucket(t)
	tuning := s3access.Tuning{PartSize: 5 * mib, Concurrency: 2}
	boom := errors.New("boom")
	for _, tc := range []struct {
		name string
		r    io.Reader
		size int64
		want error
	}{
		{"reader fails", io.MultiReader(strings.NewReader(strings.Repeat("x", 12*mib)), errReader{boom}), 20 * mib, boom},
		{"short", strings.NewReader(strings.Repeat("x", 12*mib)), 13 * mib, s3access.ErrSizeMismatch},
		{"long", strings.NewReader(strings.Repeat("x", 12*mib)), 11 * mib, s3access.ErrSizeMismatch},
		{"short single", strings.NewReader("abc"), 4, s3access.ErrSizeMismatch},
		{"long single", strings.NewReader("abcde"), 4, s3access.ErrSizeMismatch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := s3access.Location{Endpoint: ep, Bucket: bucket, Key: "failed/" + tc.name}
			_, err := s3access.PutStream(ctxT(t), dst, tc.r, tc.size, s3access.PutOptions{Tuning: tuning})
			if !errors.Is(err, tc.want) {
				t.Fatalf("PutStream: %v, want %v", err, tc.want)
			}
			assertAbsent(t, dst)
		})
	}
	if ups := srv.Uploads(t, bucket); len(ups) != 0 {
		t.Errorf("multipart uploads left: %q", ups)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func TestAbortUploadsUnderAPrefix(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	ep := endpoint(t, srv)
	bucket := srv.NewBucket(t)
	ctx := ctxT(t)
	for _, key := range []string{"jobs/1/a", "jobs/1/b/c", "jobs/10/a", "jobs/2/a"} {
		if _, err := ep.Client().CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s3access.AbortUploadsBefore(ctx, ep, bucket, "jobs/1/", srv0Time)
	if err != nil || n != 0 {
		t.Fatalf("AbortUploadsBefore(long ago) = %d, %v; want 0", n, err)
	}
	n, err = s3access.AbortUploads(ctx, ep, bucket, "jobs/1/")
	if err != nil || n != 2 {
		t.Fatalf("AbortUploads = %d, %v; want 2", n, err)
	}
	ups := srv.Uploads(t, bucket)
	if len(ups) != 2 || !strings.HasPrefix(ups[0], "jobs/10/a ") || !strings.HasPrefix(ups[1], "jobs/2/a ") {
		t.Errorf("uploads left: %q, want jobs/10/a and jobs/2/a", ups)
	}
	if n, err := s3access.AbortUploadsAt(ctx, s3access.Location{Endpoint: ep, Bucket: bucket, Key: "jobs/1"}); err != nil || n != 0 {
		t.Errorf("AbortUploadsAt(jobs/1) = %d, %v; want 0", n, err)
	}
	if n, err := s3access.AbortUploadsAt(ctx, s3access.Location{Endpoint: ep, Bucket: bucket, Key: "jobs/10/a"}); err != nil || n != 1 {
		t.Errorf("AbortUploadsAt(jobs/10/a) = %d, %v; want 1", n, err)
	}
	if n, err := s3access.AbortUploads(ctx, ep, bucket, ""); err != nil || n != 1 {
		t.Errorf("AbortUploads(all) = %d, %v; want 1", n, err)
	}
	if _, err := s3access.AbortUploads(ctx, ep, bucket+"-missing", ""); !errors.Is(err, s3access.ErrNoSuchBucket) {
		t.Errorf("AbortUploads on a missing bucket: %v", err)
	}
}

func TestGetRange(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	ep := endpoint(t, srv)
	bucket := srv.NewBucket(t)
	srv.PutObject(t, bucket, "k", []byte("0123456789"))
	loc := s3access.Location{Endpoint: ep, Bucket: bucket, Key: "k"}
	for _, tc := range []struct {
		off, n int64
		want   string
	}{{0, -1, "0123456789"}, {3, 4, "3456"}, {8, -1, "89"}, {8, 100, "89"}, {5, 0, ""}} {
		rc, size, err := s3access.GetRange(ctxT(t), loc, tc.off, tc.n)
		if err != nil {
			t.Fatalf("GetRange(%d, %d): %v", tc.off, tc.n, err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if string(b) != tc.want || size != 10 {
			t.Errorf("GetRange(%d, %d) = %q, size %d; want %q, 10", tc.off, tc.n, b, size, tc.want)
		}
	}
}

// The number of parts in flight never exceeds Concurrency, which bounds a
// stream's memory to PartSize × Concurrency.
func TestStreamingKeepsAtMostConcurrencyPartsInFlight(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	var inFlight, peak atomic.Int32
	ep := endpointThrough(t, srv, countingClient{inFlight: &inFlight, peak: &peak})
	bucket := srv.NewBucket(t)
	data := randomBytes(31 * mib)
	dst := s3access.Location{Endpoint: ep, Bucket: bucket, Key: "bounded"}
	_, err := s3access.PutStream(ctxT(t), dst, strings.NewReader(string(data)), int64(len(data)),
		s3access.PutOptions{Tuning: s3access.Tuning{PartSize: 5 * mib, Concurrency: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if p := peak.Load(); p < 1 || p > 2 {
		t.Errorf("peak parts in flight %d, want 1 or 2", p)
	}
	sameBytes(t, "bounded put", read(t, dst), data)
}

// TestExclusiveKeyAbortsStrayUploads: an upload to a key that nobody knows
// of (what an SDK retry of CreateMultipartUpload leaves when the first
// answer was lost) is aborted once a multipart upload to an Exclusive key
// completes, and left alone at a key that is not Exclusive (another writer's
// upload to a client's bucket).
func TestExclusiveKeyAbortsStrayUploads(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	ep := endpoint(t, srv)
	bucket := srv.NewBucket(t)
	data := randomBytes(11 * mib)
	for _, exclusive := range []bool{true, false} {
		t.Run(fmt.Sprint("exclusive=", exclusive), func(t *testing.T) {
			dst := s3access.Location{Endpoint: ep, Bucket: bucket, Key: fmt.Sprint("asset-", exclusive), Exclusive: exclusive}
			if _, err := ep.Client().CreateMultipartUpload(ctxT(t), &s3.CreateMultipartUploadInput{
				Bucket: &dst.Bucket, Key: &dst.Key}); err != nil {
				t.Fatal(err)
			}
			res, err := s3access.PutStream(ctxT(t), dst, strings.NewReader(string(data)), int64(len(data)),
				s3access.PutOptions{Tuning: s3access.Tuning{PartSize: 5 * mib, Concurrency: 2}})
			if err != nil || !res.Multipart {
				t.Fatalf("PutStream: %+v, %v; want a multipart upload", res, err)
			}
			sameBytes(t, "put", read(t, dst), data)
			var left int
			for _, u := range srv.Uploads(t, bucket) {
				if strings.Contains(u, dst.Key) {
					left++
				}
			}
			if want := map[bool]int{true: 0, false: 1}[exclusive]; left != want {
				t.Errorf("%d uploads left at %s, want %d", left, dst.Key, want)
			}
		})
	}
}

// TestExclusiveKeyFencesOnlyOlderUploads: when a multipart upload to an
// Exclusive key completes, an upload initiated after it is left alone, and
// an older writer still writing fails with ErrSuperseded, leaving nothing.
func TestExclusiveKeyFencesOnlyOlderUploads(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	ep := endpoint(t, srv)
	bucket := srv.NewBucket(t)
	dst := s3access.Location{Endpoint: ep, Bucket: bucket, Key: "fenced", Exclusive: true}
	tuning := s3access.PutOptions{Tuning: s3access.Tuning{PartSize: 5 * mib, Concurrency: 1}}
	older, newer := randomBytes(11*mib), randomBytes(11*mib)

	// The older writer sends its first part, then waits for the newer
	// writer to complete before it sends the rest.
	gate := make(chan struct{})
	olderErr := make(chan error, 1)
	go func() {
		r := io.MultiReader(bytes.NewReader(older[:6*mib]), gatedReader{gate, bytes.NewReader(older[6*mib:])})
		_, err := s3access.PutStream(ctxT(t), dst, r, int64(len(older)), tuning)
		olderErr <- err
	}()
	for len(srv.Uploads(t, bucket)) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(1100 * time.Millisecond) // servers keep Initiated to the second or the millisecond

	// The newer writer creates a third upload after its own, before it
	// completes: that one must survive.
	var third string
	r := io.MultiReader(bytes.NewReader(newer[:6*mib]), &onFirstRead{f: func() {
		time.Sleep(1100 * time.Millisecond)
		out, err := ep.Client().CreateMultipartUpload(ctxT(t), &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &dst.Key})
		if err != nil {
			t.Error(err)
			return
		}
		third = *out.UploadId
	}, r: bytes.NewReader(newer[6*mib:])})
	if _, err := s3access.PutStream(ctxT(t), dst, r, int64(len(newer)), tuning); err != nil {
		t.Fatalf("newer PutStream: %v", err)
	}
	close(gate)
	if err := <-olderErr; !errors.Is(err, s3access.ErrSuperseded) {
		t.Errorf("older PutStream = %v, want ErrSuperseded", err)
	}
	sameBytes(t, "newer put", read(t, dst), newer)
	left := srv.Uploads(t, bucket)
	if len(left) != 1 || !strings.Contains(left[0], third) {
		t.Errorf("uploads left: %q, want only the third one (%s)", left, third)
	}
}

// TestExclusiveKeyPartWithNoAnswer: a part that gets no answer (MinIO may
// refuse a part to an aborted upload before reading its body and close the
// connection: the client sees a broken pipe, not NoSuchUpload) fails the
// put with ErrSuperseded when the upload is gone, and as unreachable when it
// is not; either way nothing is left.
func TestExclusiveKeyPartWithNoAnswer(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	for _, aborted := range []bool{true, false} {
		t.Run(fmt.Sprint("aborted=", aborted), func(t *testing.T) {
			t.Parallel()
			ep := endpointThrough(t, srv, brokenPartClient{part: "2"})
			bucket := srv.NewBucket(t)
			dst := s3access.Location{Endpoint: ep, Bucket: bucket, Key: "fenced", Exclusive: true}
			data := randomBytes(11 * mib)
			gate := make(chan struct{})
			putErr := make(chan error, 1)
			go func() {
				r := io.MultiReader(bytes.NewReader(data[:6*mib]), gatedReader{gate, bytes.NewReader(data[6*mib:])})
				_, err := s3access.PutStream(ctxT(t), dst, r, int64(len(data)),
					s3access.PutOptions{Tuning: s3access.Tuning{PartSize: 5 * mib, Concurrency: 1}})
				putErr <- err
			}()
			// Part 1 is sent; part 2 waits at the gate.
			admin := endpoint(t, srv).Client()
			var id string
			for {
				if uploads := srv.Uploads(t, bucket); len(uploads) > 0 {
					id = uploads[0][strings.LastIndex(uploads[0], " ")+1:]
					parts, err := admin.ListParts(ctxT(t), &s3.ListPartsInput{Bucket: &bucket, Key: &dst.Key, UploadId: &id})
					if err != nil {
						t.Fatal(err)
					}
					if len(parts.Parts) > 0 {
						break
					}
				}
				time.Sleep(10 * time.Millisecond)
			}
			if aborted { // what a newer writer's completion does
				if _, err := admin.AbortMultipartUpload(ctxT(t), &s3.AbortMultipartUploadInput{
					Bucket: &bucket, Key: &dst.Key, UploadId: &id}); err != nil {
					t.Fatal(err)
				}
			}
			close(gate)
			err := <-putErr
			if got := errors.Is(err, s3access.ErrSuperseded); got != aborted {
				t.Errorf("PutStream = %v; ErrSuperseded %v, want %v", err, got, aborted)
			}
			if !aborted && !s3access.IsUnreachable(err) {
				t.Errorf("PutStream = %v, want unreachable", err)
			}
			if left := srv.Uploads(t, bucket); len(left) != 0 {
				t.Errorf("uploads left: %q", left)
			}
		})
	}
}

// brokenPartClient fails every send of one part number as a connection the
// server closed would, without sending it.
type brokenPartClient struct{ part string }

func (c brokenPartClient) Do(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPut && req.URL.Query().Get("partNumber") == c.part {
		return nil, &net.OpError{Op: "write", Net: "tcp", Err: syscall.EPIPE}
	}
	return http.DefaultClient.Do(req)
}

type gatedReader struct {
	gate <-chan struct{}
	r    io.Reader
}

func (g gatedReader) Read(p []byte) (int, error) {
	<-g.gate
	return g.r.Read(p)
}

type onFirstRead struct {
	once sync.Once
	f    func()
	r    io.Reader
}

func (o *onFirstRead) Read(p []byte) (int, error) {
	o.once.Do(o.f)
	return o.r.Read(p)
}
