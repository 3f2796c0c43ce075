package assetstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-dev/wharf/internal/s3access"
)

// S3 is a Store in a bucket, under a prefix: the object under key a/b/c is
// s3://bucket/prefix/a/b/c.
type S3 struct {
	ep     *s3access.Endpoint
	bucket string
	prefix string // "" or ending in "/"
	// Tuning sizes Put's uploads and the copies Import and Export make.
	Tuning s3access.Tuning
}

// NewS3 opens the store in bucket under prefix on ep. The bucket must exist.
func NewS3(ctx context.Context, ep *s3access.Endpoint, bucket, prefix string) (*S3, error) {
	if ep == nil || bucket == "" {
		return nil, errors.New("assetstore: an S3 store needs an endpoint and a bucket")
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	s := &S3{ep: ep, bucket: bucket, prefix: prefix}
	_, err := ep.Client().HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket})
	if err != nil {
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound {
			return nil, fmt.Errorf("assetstore: %s: the bucket %q does not exist on %s", s, bucket, ep.Identity().URL)
		}
		return nil, fmt.Errorf("assetstore: %s: %w", s, err)
	}
	return s, nil
}

func (s *S3) String() string { return "s3://" + s.bucket + "/" + strings.TrimSuffix(s.prefix, "/") }

// Endpoint is the endpoint the store is on.
func (s *S3) Endpoint() *s3access.Endpoint { return s.ep }

// Bucket is the store's bucket.
func (s *S3) Bucket() string { return s.bucket }

// Prefix is the store's key prefix: empty, or ending in "/".
func (s *S3) Prefix() string { return s.prefix }

// Location is where the object under key lives, for server-side copies
// between the store and other buckets of its endpoint (see Import and
// Export). It panics on an invalid key.
func (s *S3) Location(key Key) s3access.Location {
	if err := key.check(); err != nil {
		panic(err)
	}
	return s3access.Location{Endpoint: s.ep, Bucket: s.bucket, Key: s.prefix + key.path, Exclusive: true}
}

// Contains reports whether loc is inside the store (same endpoint URL,
// whatever the credentials; same bucket; under the prefix), where no job
// may read or write directly.
func (s *S3) Contains(loc s3access.Location) bool {
	return loc.Endpoint != nil && loc.Endpoint.URL() == s.ep.URL() && loc.Bucket == s.bucket &&
		strings.HasPrefix(loc.Key, s.prefix)
}

func (s *S3) loc(key Key) (s3access.Location, error) {
	if err := key.check(); err != nil {
		return s3access.Location{}, err
	}
	return s.Location(key), nil
}

// Put implements Store with one PutObject, or a multipart upload that is
// completed only when every part is written.
func (s *S3) Put(ctx context.Context, key Key, r io.Reader, size int64) (Info, error) {
	loc, err := s.loc(key)
	if err != nil {
		return Info{}, err
	}
	if _, err := s3access.PutStream(ctx, loc, r, size, s3access.PutOptions{Tuning: s.Tuning}); err != nil {
		return Info{}, fmt.Errorf("assetstore: put %s: %w", key, err)
	}
	return s.Stat(ctx, key)
}

// Open implements Store.
func (s *S3) Open(ctx context.Context, key Key, rng *Range) (io.ReadCloser, Info, error) {
	loc, err := s.loc(key)
	if err != nil {
		return nil, Info{}, err
	}
	if rng == nil {
		rc, size, err := s3access.Get(ctx, loc)
		if err != nil {
			return nil, Info{}, s.err(key, err)
		}
		return rc, Info{Size: size}, nil
	}
	// The range is checked against the size first: S3 answers a range past
	// the end with 416, an empty object's range with the whole object.
	info, err := s.Stat(ctx, key)
	if err != nil {
		return nil, Info{}, err
	}
	offset, length, err := rng.resolve(info.Size)
	if err != nil {
		return nil, Info{}, err
	}
	rc, _, err := s3access.GetRange(ctx, loc, offset, length)
	if err != nil {
		return nil, Info{}, s.err(key, err)
	}
	return rc, info, nil
}

// Stat implements Store.
func (s *S3) Stat(ctx context.Context, key Key) (Info, error) {
	loc, err := s.loc(key)
	if err != nil {
		return Info{}, err
	}
	oi, err := s3access.Head(ctx, loc)
	if err != nil {
		return Info{}, s.err(key, err)
	}
	return Info{Size: oi.Size, ModTime: oi.LastModified}, nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, key Key) error {
	loc, err := s.loc(key)
	if err != nil {
		return err
	}
	_, err = s.ep.Client().DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(loc.Bucket), Key: aws.String(loc.Key)})
	if err != nil {
		return fmt.Errorf("assetstore: delete %s: %w", key, err)
	}
	return nil
}

// Sweep implements Store: it aborts the multipart uploads under the prefix
// initiated more than olderThan ago.
func (s *S3) Sweep(ctx context.Context, olderThan time.Duration) (int, error) {
	return s3access.AbortUploadsBefore(ctx, s.ep, s.bucket, s.prefix, time.Now().Add(-olderThan))
}

func (s *S3) err(key Key, err error) error {
	if errors.Is(err, s3access.ErrNoSuchKey) {
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return fmt.Errorf("assetstore: %s: %w", key, err)
}
