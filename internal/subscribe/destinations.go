package subscribe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

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

func (d *dirDest) writeManifest(_ context.Context, name string, b []byte) error {
	return d.replace(name, b)
}

// replace replaces the file name in the directory through a temporary
// file, so that it is never half-written.
func (d *dirDest) replace(name string, b []byte) error {
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

// progress is the journal of the revision being exported to a directory:
// the assets whose files it has completed. Only these are trusted when an
// interrupted export of the same revision resumes; a file that is merely
// there with the right size may hold another revision's asset of that
// name (a key pattern without ${Revision.Id} or ${Revision.CreatedAt}).
// The journal holds one revision at a time: exporting another starts it
// afresh (that export may overwrite the files it lists), and it is removed
// once its revision is in the manifest.
//
// It is JSON lines: {"RevisionId": ...} first, then {"AssetId": ...,
// "Key": ...} per file completed, appended after the file is renamed into
// place. A line torn by a crash is ignored (that file is fetched again).
type progress struct {
	mu   sync.Mutex
	f    *os.File
	done map[string]string // asset id -> key, from the run interrupted
}

type progressHeader struct {
	RevisionID string `json:"RevisionId"`
}

type progressEntry struct {
	AssetID string `json:"AssetId"`
	Key     string `json:"Key"`
}

// ProgressName is the journal's file name in a directory destination.
func ProgressName(dataSetID string) string { return ".wharf-subscribe-" + dataSetID + ".progress" }

// openProgress opens the journal of revisionID: what an interrupted export
// of that revision completed, and the file to append to. A journal of
// another revision (or none) is replaced by an empty one.
func (d *dirDest) openProgress(dataSetID, revisionID string) (*progress, error) {
	path := filepath.Join(d.dir, ProgressName(dataSetID))
	p := &progress{done: map[string]string{}}
	if b, err := os.ReadFile(path); err == nil {
		lines := bytes.Split(b, []byte("\n"))
		var h progressHeader
		if json.Unmarshal(lines[0], &h) == nil && h.RevisionID == revisionID {
			for _, l := range lines[1:] {
				var e progressEntry
				if json.Unmarshal(l, &e) == nil && e.AssetID != "" {
					p.done[e.AssetID] = e.Key
				}
			}
			// Append after the last complete line: a torn one is cut off.
			f, err := os.OpenFile(path, os.O_RDWR, 0o644)
			if err != nil {
				return nil, err
			}
			end := bytes.LastIndexByte(b, '\n') + 1
			if err := f.Truncate(int64(end)); err == nil {
				_, err = f.Seek(int64(end), io.SeekStart)
			}
			if err != nil {
				f.Close()
				return nil, err
			}
			p.f = f
			return p, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	h, err := json.Marshal(progressHeader{RevisionID: revisionID})
	if err != nil {
		return nil, err
	}
	// Replaced whole, so that no line of another revision's survives.
	if err := d.replace(ProgressName(dataSetID), append(h, '\n')); err != nil {
		return nil, err
	}
	if p.f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644); err != nil {
		return nil, err
	}
	return p, nil
}

// trusted says whether the file at path is assetID's, completed by an
// interrupted export of this revision: the journal lists it with this key,
// and the file is there with the asset's size.
func (p *progress) trusted(assetID, key, path string, size int64) bool {
	if k, ok := p.done[assetID]; !ok || k != key {
		return false
	}
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Size() == size
}

// add records that assetID's file is complete at key.
func (p *progress) add(assetID, key string) error {
	b, err := json.Marshal(progressEntry{AssetID: assetID, Key: key})
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err = p.f.Write(append(b, '\n'))
	return err
}

func (p *progress) close() error { return p.f.Close() }

// removeProgress removes the journal once its revision is in the
// manifest.
func (d *dirDest) removeProgress(dataSetID string) error {
	err := os.Remove(filepath.Join(d.dir, ProgressName(dataSetID)))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
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
