package s3test_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/wharf-dev/wharf/internal/s3test"
)

func TestMain(m *testing.M) { s3test.Main(m) }

func TestStartGivesARealServerWithBuckets(t *testing.T) {
	srv := s3test.Start(t)
	t.Logf("server: %s at %s", srv.Kind, srv.URL)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %q, want a loopback URL", srv.URL)
	}
	if again := s3test.Start(t); again != srv {
		t.Errorf("Start started a second server")
	}
	bucket := srv.NewBucket(t)
	srv.PutObject(t, bucket, "dir/a key", []byte("hello"))
	if got := srv.GetObject(t, bucket, "dir/a key"); string(got) != "hello" {
		t.Errorf("GetObject = %q", got)
	}
	if keys := srv.Keys(t, bucket); len(keys) != 1 || keys[0] != "dir/a key" {
		t.Errorf("Keys = %q", keys)
	}
	if ups := srv.Uploads(t, bucket); len(ups) != 0 {
		t.Errorf("Uploads = %q", ups)
	}
}

// The KMS key works under its name and as arn:aws:kms:<name>, which is how
// MinIO reports it back; a full key ARN is not accepted.
func TestKMSKey(t *testing.T) {
	srv := s3test.Start(t)
	if !srv.HasKMS() {
		t.Skipf("%s has no KMS", srv.Kind)
	}
	bucket := srv.NewBucket(t)
	c := srv.Client()
	ctx := context.Background()
	for _, keyID := range []string{srv.KMSKeyID, "arn:aws:kms:" + srv.KMSKeyID} {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{
			Bucket: &bucket, Key: aws.String("k"), Body: bytes.NewReader([]byte("secret")),
			ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String(keyID),
		})
		if err != nil {
			t.Fatalf("PutObject with KMS key %q: %v", keyID, err)
		}
		h, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("k")})
		if err != nil {
			t.Fatal(err)
		}
		if h.ServerSideEncryption != types.ServerSideEncryptionAwsKms ||
			aws.ToString(h.SSEKMSKeyId) != "arn:aws:kms:"+s3test.KMSKeyName {
			t.Errorf("key %q: encryption %q, key %q", keyID, h.ServerSideEncryption, aws.ToString(h.SSEKMSKeyId))
		}
	}
	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &bucket, Key: aws.String("k2"), Body: bytes.NewReader([]byte("secret")),
		ServerSideEncryption: types.ServerSideEncryptionAes256,
	})
	if err != nil {
		t.Fatalf("PutObject with AES256: %v", err)
	}
}

func TestStartNamedIsAnotherServer(t *testing.T) {
	a := s3test.Start(t)
	b := s3test.StartNamed(t, "other")
	if a.URL == b.URL || a.AccessKeyID == b.AccessKeyID {
		t.Fatalf("same server or credentials: %+v %+v", a, b)
	}
	bucket := b.NewBucket(t)
	b.PutObject(t, bucket, "k", []byte("v"))
	if _, err := a.Client().HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: &bucket}); err == nil {
		t.Errorf("bucket %s of the other server is visible on the first", bucket)
	}
}

// A server without KMS refuses AES256 as MinIO does when it has no KMS
// configured; the shared server takes it.
func TestStartWithoutKMSRefusesSSE(t *testing.T) {
	srv := s3test.StartWithoutKMS(t, "plain")
	if srv.HasKMS() || srv.HasSSE() {
		t.Fatalf("HasKMS %v, HasSSE %v: want false", srv.HasKMS(), srv.HasSSE())
	}
	if srv == s3test.Start(t) || srv == s3test.StartNamed(t, "plain") {
		t.Fatal("StartWithoutKMS returned a server with KMS")
	}
	bucket := srv.NewBucket(t)
	_, err := srv.Client().PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: &bucket, Key: aws.String("k"), Body: bytes.NewReader([]byte("secret")),
		ServerSideEncryption: types.ServerSideEncryptionAes256,
	})
	if err == nil || !strings.Contains(err.Error(), "NotImplemented") {
		t.Fatalf("PutObject with AES256 on a server without KMS: %v, want NotImplemented", err)
	}
	t.Logf("refusal: %v", err)
	srv.PutObject(t, bucket, "plain", []byte("unencrypted"))
}
