package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-dev/wharf/internal/client"
)

// item is one object or file to publish as one asset.
type item struct {
	Name string
	Size int64
	// Path is the local file, or empty for an S3 object.
	Path string
	// Bucket and Key name the S3 object.
	Bucket, Key string
	// version distinguishes contents for the run's fingerprint: the ETag
	// of an object, the modification time of a file.
	version string
}

func (it item) s3() bool { return it.Path == "" }

// S3Lister lists a bucket's objects (an *s3.Client is one).
type S3Lister interface {
	s3.ListObjectsV2APIClient
}

// enumerate lists every source's items, sorted by name; two items with one
// name are an error.
func enumerate(ctx context.Context, lister S3Lister, sources []string) ([]item, error) {
	var items []item
	for _, src := range sources {
		var (
			got []item
			err error
		)
		if strings.HasPrefix(src, "s3://") {
			got, err = listS3(ctx, lister, src)
		} else {
			got, err = listLocal(src)
		}
		if err != nil {
			return nil, err
		}
		items = append(items, got...)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	for i := 1; i < len(items); i++ {
		if items[i].Name == items[i-1].Name {
			return nil, fmt.Errorf("two sources give an asset the name %q (%s and %s): asset names must differ",
				items[i].Name, items[i-1].origin(), items[i].origin())
		}
	}
	return items, nil
}

func (it item) origin() string {
	if it.s3() {
		return "s3://" + it.Bucket + "/" + it.Key
	}
	return it.Path
}

// listS3 lists the objects under s3://bucket/prefix, page by page. Keys
// ending in "/" (the folder markers consoles create) are not objects of
// the data product and are left out.
func listS3(ctx context.Context, lister S3Lister, src string) ([]item, error) {
	bucket, prefix, ok := client.ParseS3URL(src)
	if !ok {
		return nil, fmt.Errorf("%q is not s3://bucket[/prefix]", src)
	}
	if lister == nil {
		return nil, fmt.Errorf("%s: no S3 client to list it with", src)
	}
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	var items []item
	p := s3.NewListObjectsV2Paginator(lister, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", src, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if strings.HasSuffix(key, "/") {
				continue
			}
			items = append(items, item{Name: key, Size: aws.ToInt64(o.Size), Bucket: bucket, Key: key, version: aws.ToString(o.ETag)})
		}
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%s holds no objects", src)
	}
	return items, nil
}

// listLocal lists a file (named after its base name) or a directory's
// files, recursively (named after their path relative to it, with "/").
func listLocal(src string) ([]item, error) {
	fi, err := os.Stat(src)
	if err != nil {
		return nil, err
	}
	if fi.Mode().IsRegular() {
		return []item{localItem(filepath.Base(src), src, fi)}, nil
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is neither a regular file nor a directory", src)
	}
	var items []item
	err = filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		fi, err := os.Stat(path) // follows symbolic links to files
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return nil
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		items = append(items, localItem(filepath.ToSlash(rel), path, fi))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%s holds no files", src)
	}
	return items, nil
}

func localItem(name, path string, fi os.FileInfo) item {
	return item{Name: name, Size: fi.Size(), Path: path, version: fmt.Sprint(fi.ModTime().UnixNano())}
}

// fingerprint identifies what a publish with --new-revision publishes: the
// data set and every item's name, size and version. A run with the same
// fingerprint finds the revisions an earlier run created (by their tag) and
// completes them instead of starting new ones.
func fingerprint(dataSetID string, items []item) string {
	h := sha256.New()
	fmt.Fprintf(h, "wharf-publish/v1\n%s\n", dataSetID)
	for _, it := range items {
		fmt.Fprintf(h, "%q %d %q\n", it.Name, it.Size, it.version)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}
