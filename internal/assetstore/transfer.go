package assetstore

import (
	"context"
	"fmt"
	"io"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/s3access"
)

// Import copies the object at src (a job's source, on the account's
// endpoint) into st under key, with the same atomic overwrite as Put, and
// returns what it wrote. progress, if not nil, gets the bytes copied so far.
//
// With an S3 store on the same endpoint and credentials as src, the copy is
// server-side; otherwise the bytes stream through Wharf with bounded
// memory. A source inside the store itself is refused (AccessDenied), so
// that no job can read other assets' bytes. A missing source bucket or key
// is the *s3access.ObjectError naming it.
func Import(ctx context.Context, st Store, src s3access.Location, key Key, progress func(done int64)) (Info, error) {
	return ImportWith(ctx, st, src, key, ImportOptions{Progress: progress})
}

// ImportOptions tunes ImportWith.
type ImportOptions struct {
	// MaxSize, when positive, refuses a source larger than it, with a
	// *TooLargeError, before any byte is written.
	MaxSize int64
	// Sized, if not nil, gets the source's size once it is known, before
	// any byte is copied.
	Sized func(size int64)
	// Progress, if not nil, gets the bytes copied so far.
	Progress func(done int64)
}

// TooLargeError is a source over ImportOptions.MaxSize.
type TooLargeError struct{ Size, MaxSize int64 }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the object is %d bytes, over the limit of %d", e.Size, e.MaxSize)
}

// ImportWith is Import with options. Streaming into a local store, it reads
// the source's size from its GetObject and needs no HeadObject first: a
// small import is one S3 round trip.
func ImportWith(ctx context.Context, st Store, src s3access.Location, key Key, opts ImportOptions) (Info, error) {
	if err := key.check(); err != nil {
		return Info{}, err
	}
	if err := guard(st, src); err != nil {
		return Info{}, err
	}
	sized := func(size int64) error {
		if opts.MaxSize > 0 && size > opts.MaxSize {
			return &TooLargeError{Size: size, MaxSize: opts.MaxSize}
		}
		if opts.Sized != nil {
			opts.Sized(size)
		}
		return nil
	}
	if s, ok := st.(*S3); ok {
		if opts.MaxSize > 0 || opts.Sized != nil {
			info, err := s3access.Head(ctx, src)
			if err != nil {
				return Info{}, err
			}
			if err := sized(info.Size); err != nil {
				return Info{}, err
			}
		}
		copyOpts := s3access.CopyOptions{Progress: opts.Progress, Tuning: s.Tuning}
		if _, err := s3access.Copy(ctx, src, s.Location(key), copyOpts); err != nil {
			return Info{}, err
		}
		return st.Stat(ctx, key)
	}
	body, size, err := s3access.Get(ctx, src)
	if err != nil {
		return Info{}, err
	}
	defer body.Close()
	if err := sized(size); err != nil {
		return Info{}, err
	}
	var r io.Reader = body
	if opts.Progress != nil {
		r = &countingReader{r: body, fn: opts.Progress}
	}
	return st.Put(ctx, key, r, size)
}

// Export copies the object under key in st to dst (a job's destination, on
// the account's endpoint), applying opts.Encryption, and returns the copy's
// result. With an S3 store on the same endpoint and credentials as dst, the
// copy is server-side; otherwise it streams. A destination inside the store
// is refused (AccessDenied). A missing object under key is ErrNotFound; a
// missing destination bucket is the *s3access.ObjectError naming it.
func Export(ctx context.Context, st Store, key Key, dst s3access.Location, opts s3access.CopyOptions) (s3access.CopyResult, error) {
	if err := key.check(); err != nil {
		return s3access.CopyResult{}, err
	}
	if err := guard(st, dst); err != nil {
		return s3access.CopyResult{}, err
	}
	if s, ok := st.(*S3); ok {
		if _, err := s.Stat(ctx, key); err != nil {
			return s3access.CopyResult{}, err
		}
		if opts.Tuning == (s3access.Tuning{}) {
			opts.Tuning = s.Tuning
		}
		return s3access.Copy(ctx, s.Location(key), dst, opts)
	}
	body, info, err := st.Open(ctx, key, nil)
	if err != nil {
		return s3access.CopyResult{}, err
	}
	defer body.Close()
	res, err := s3access.PutStream(ctx, dst, body, info.Size, s3access.PutOptions{
		Encryption: opts.Encryption, Progress: opts.Progress, Tuning: opts.Tuning,
	})
	if err != nil {
		return s3access.CopyResult{}, err
	}
	return s3access.CopyResult{Size: res.Size, ETag: res.ETag, Strategy: s3access.StrategyStream}, nil
}

func guard(st Store, loc s3access.Location) error {
	if s, ok := st.(*S3); ok && s.Contains(loc) {
		return fault.AccessDeniedf("%s is inside Wharf's asset store", loc)
	}
	return nil
}

type countingReader struct {
	r    io.Reader
	done int64
	fn   func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.done += int64(n)
		c.fn(c.done)
	}
	return n, err
}

var (
	_ Store = (*Local)(nil)
	_ Store = (*S3)(nil)
)
