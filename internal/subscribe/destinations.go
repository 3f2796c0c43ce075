package subscribe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// ObjectStore reads and writes objects (an *s3.Client is one).
type ObjectStore interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, opts ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, opts ...func(*s3.Options)) (*s3.PutObjectOutput, error)
}

// dirDest is a local directory.
type dirDest struct{ dir string }

func (d *dirDest) describe() string { return d.dir }

// path is where an asset whose key is key goes; a key that would leave
// the directory is refused.
func (d *dirDest) path(key string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(key))
	if key == "" || filepath.IsAbs(clean) || clean == "." || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("the key %q does not name a file inside %s", key, d.dir)
	}
	return filepath.Join(d.dir, clean), nil
}

func (d *dirDest) readManifest(_ context.Context, name string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(d.dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// writeManifest replaces the manifest through a temporary file, so that it
// is never half-written.
func (d *dirDest) writeManifest(_ context.Context, name string, b []byte) error {
	tmp, err := os.CreateTemp(d.dir, "."+name+".part-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(d.dir, name))
}

// bucketDest is s3://bucket/prefix (prefix empty or ending in "/").
type bucketDest struct {
	s3     ObjectStore
	bucket string
	prefix string
}

func (d *bucketDest) describe() string { return "s3://" + d.bucket + "/" + d.prefix }

func (d *bucketDest) readManifest(ctx context.Context, name string) ([]byte, error) {
	out, err := d.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(d.bucket), Key: aws.String(d.prefix + name)})
	var missing *types.NoSuchKey
	if errors.As(err, &missing) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

func (d *bucketDest) writeManifest(ctx context.Context, name string, b []byte) error {
	_, err := d.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(d.bucket), Key: aws.String(d.prefix + name), Body: bytes.NewReader(b),
		ContentLength: aws.Int64(int64(len(b))), ContentType: aws.String("application/json"),
	})
	return err
}
