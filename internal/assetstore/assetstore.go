// Package assetstore keeps the bytes of assets: in a local directory (the
// default, <data-dir>/assets) or in an S3-compatible bucket under a prefix
// (--asset-store s3://bucket/prefix).
//
// # Keys
//
// A Key is built only by Wharf, from ids: an account id (12 digits)
// followed by one to three resource ids (30 to 40 letters and digits), e.g.
// <accountID>/<dataSetID>/<assetID>. Keys can't be made from anything else
// (Key's zero value is refused, and NewKey and ParseKey validate every
// segment), so no user input, asset name or "..", ever reaches a path or an
// object key.
//
// # Writes, crashes and re-runs: atomic idempotent overwrite
//
// Put makes an object visible under its key only once all of it is written
// and durable, replacing whatever the key held before; a Put that fails, is
// cancelled or dies with its process leaves the key as it was. The local
// store writes a temporary file in the key's directory, fsyncs it, renames it
// over the key and fsyncs the directory; the S3 store writes with one
// PutObject or a multipart upload completed only at the end.
//
// So a job that may be re-run after a crash picks each asset's key (its
// asset id) before writing and records it with the job; the re-run writes
// the same keys again, overwriting the objects a previous attempt may have
// written, and never duplicates them. What an interrupted Put leaves behind
// is invisible (a temporary file whose name is not a key, or an incomplete
// multipart upload) and Sweep removes it.
package assetstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/s3access"
)

// Errors.
var (
	// ErrNotFound: no object under the key.
	ErrNotFound = errors.New("assetstore: no such object")
	// ErrInvalidKey: the key is not made of Wharf ids.
	ErrInvalidKey = errors.New("assetstore: invalid key")
	// ErrInvalidRange: a range starts past the end of the object.
	ErrInvalidRange = errors.New("assetstore: range not satisfiable")
	// ErrSizeMismatch: Put's reader held more or fewer bytes than its size.
	ErrSizeMismatch = s3access.ErrSizeMismatch
	// ErrSuperseded: a Put lost to a newer Put of the same key that
	// completed while it was still writing (a key has one writer at a time:
	// the run holding its job's lease; a newer writer fences an older one).
	ErrSuperseded = s3access.ErrSuperseded
)

// Store keeps asset bytes under Keys. Implementations are safe for
// concurrent use.
type Store interface {
	// Put writes exactly size bytes from r under key, atomically replacing
	// any previous object (see the package documentation).
	Put(ctx context.Context, key Key, r io.Reader, size int64) (Info, error)
	// Open reads the object under key: all of it when rng is nil, else the
	// range. Info describes the whole object. The caller closes the reader.
	Open(ctx context.Context, key Key, rng *Range) (io.ReadCloser, Info, error)
	// Stat describes the object under key.
	Stat(ctx context.Context, key Key) (Info, error)
	// Delete removes the object under key; a missing object is not an error.
	Delete(ctx context.Context, key Key) error
	// Sweep removes what interrupted Puts left behind more than olderThan
	// ago (temporary files, incomplete multipart uploads) and returns how
	// many it removed. Puts in progress, in this process or another
	// replica, look the same: olderThan must exceed the longest a Put may
	// run (the job timeout).
	Sweep(ctx context.Context, olderThan time.Duration) (int, error)
	// String describes the store for logs: file:///dir or s3://bucket/prefix.
	String() string
}

// Info describes an object.
type Info struct {
	Size    int64
	ModTime time.Time
}

// Range is a byte range of an object.
type Range struct {
	Offset int64
	Length int64 // < 0: to the end of the object
}

// resolve checks r against an object of size bytes and returns the offset
// and length to read.
func (r *Range) resolve(size int64) (offset, length int64, err error) {
	if r == nil {
		return 0, size, nil
	}
	if r.Offset < 0 || (r.Offset >= size && !(r.Offset == 0 && size == 0)) {
		return 0, 0, fmt.Errorf("%w: offset %d of an object of %d bytes", ErrInvalidRange, r.Offset, size)
	}
	length = size - r.Offset
	if r.Length >= 0 && r.Length < length {
		length = r.Length
	}
	return r.Offset, length, nil
}

// Key names an object in a store. Only NewKey and ParseKey make valid keys.
type Key struct{ path string }

// MaxKeyIDs is the most resource ids a key holds after the account id.
const MaxKeyIDs = 3

// NewKey builds the key <accountID>/<id>/... from an account id and one to
// MaxKeyIDs resource ids, e.g. NewKey(account, dataSetID, assetID).
func NewKey(accountID string, ids ...string) (Key, error) {
	if !resource.ValidAccountID(accountID) {
		return Key{}, fmt.Errorf("%w: account id %q is not 12 digits", ErrInvalidKey, accountID)
	}
	if len(ids) == 0 || len(ids) > MaxKeyIDs {
		return Key{}, fmt.Errorf("%w: want 1 to %d ids after the account id, got %d", ErrInvalidKey, MaxKeyIDs, len(ids))
	}
	for _, id := range ids {
		if !resource.ValidID(id) {
			return Key{}, fmt.Errorf("%w: %q is not a resource id", ErrInvalidKey, id)
		}
	}
	return Key{path: accountID + "/" + strings.Join(ids, "/")}, nil
}

// ParseKey validates a key's string form, such as one read back from the
// database.
func ParseKey(s string) (Key, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 {
		return Key{}, fmt.Errorf("%w: %q", ErrInvalidKey, s)
	}
	return NewKey(parts[0], parts[1:]...)
}

// String is the key's string form, <accountID>/<id>/...
func (k Key) String() string { return k.path }

// IsZero reports whether k is the zero Key, which no store accepts.
func (k Key) IsZero() bool { return k.path == "" }

func (k Key) check() error {
	if k.path == "" {
		return fmt.Errorf("%w: the zero key", ErrInvalidKey)
	}
	return nil
}

// AmbientSource gives the deployment's own S3 endpoint; *s3access.Resolver
// is one.
type AmbientSource interface {
	Ambient(ctx context.Context) (*s3access.Endpoint, error)
}

// DefaultDir is the local store's directory under the data directory.
const DefaultDir = "assets"

// Open opens the store spec names:
//
//   - "" or "file://": the directory <dataDir>/assets;
//   - "file:///abs/dir" or "file://rel/dir": that directory;
//   - "s3://bucket" or "s3://bucket/prefix": that bucket on the ambient S3
//     endpoint, which s3 must give (and the bucket must exist).
func Open(ctx context.Context, spec, dataDir string, s3 AmbientSource) (Store, error) {
	if err := CheckSpec(spec); err != nil {
		return nil, err
	}
	switch {
	case spec == "" || spec == "file://":
		if dataDir == "" {
			return nil, errors.New("assetstore: no data directory for the default asset store")
		}
		return NewLocal(filepath.Join(dataDir, DefaultDir))
	case strings.HasPrefix(spec, "file://"):
		return NewLocal(strings.TrimPrefix(spec, "file://"))
	case strings.HasPrefix(spec, "s3://"):
		u, _ := url.Parse(spec) // CheckSpec parsed it
		if s3 == nil {
			return nil, fmt.Errorf("assetstore: %s needs an S3 configuration", spec)
		}
		ep, err := s3.Ambient(ctx)
		if err != nil {
			return nil, fmt.Errorf("assetstore: %s: %w", spec, err)
		}
		return NewS3(ctx, ep, u.Host, u.Path)
	}
	return nil, fmt.Errorf("assetstore: unknown asset store %q: want file://dir or s3://bucket/prefix", spec)
}

// CheckSpec checks the form of an asset store's spec (what Open takes),
// touching nothing: empty, file://dir, or s3://bucket[/prefix].
func CheckSpec(spec string) error {
	switch {
	case spec == "" || strings.HasPrefix(spec, "file://"):
		return nil
	case strings.HasPrefix(spec, "s3://"):
		u, err := url.Parse(spec)
		if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return fmt.Errorf("assetstore: %q is not s3://bucket or s3://bucket/prefix", spec)
		}
		return nil
	}
	return fmt.Errorf("assetstore: unknown asset store %q: want file://dir or s3://bucket/prefix", spec)
}
