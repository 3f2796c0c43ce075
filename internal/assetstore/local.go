package assetstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// errNotDir: a key's parent is a file (another key's object).
var errNotDir = syscall.ENOTDIR

// tempPrefix starts the names of the local store's temporary files. Keys
// are made of letters and digits, so no key ever names one.
const tempPrefix = ".tmp-"

// Local is a Store in a directory: the object under key a/b/c is the file
// <dir>/a/b/c.
type Local struct {
	dir string
}

// NewLocal opens (creating it if needed) the local store in dir.
func NewLocal(dir string) (*Local, error) {
	if dir == "" {
		return nil, errors.New("assetstore: empty directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("assetstore: %w", err)
	}
	return &Local{dir: abs}, nil
}

// Dir is the store's directory.
func (l *Local) Dir() string { return l.dir }

func (l *Local) String() string { return "file://" + l.dir }

func (l *Local) path(key Key) (string, error) {
	if err := key.check(); err != nil {
		return "", err
	}
	return filepath.Join(l.dir, filepath.FromSlash(key.path)), nil
}

// Put implements Store: a temporary file in the key's directory, fsynced,
// renamed over the key, and the directory fsynced.
func (l *Local) Put(ctx context.Context, key Key, r io.Reader, size int64) (Info, error) {
	final, err := l.path(key)
	if err != nil {
		return Info{}, err
	}
	if size < 0 {
		return Info{}, fmt.Errorf("assetstore: negative size %d", size)
	}
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return Info{}, fmt.Errorf("assetstore: %w", err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmpName := filepath.Join(dir, tempPrefix+filepath.Base(final)+"-"+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmpName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return Info{}, fmt.Errorf("assetstore: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			f.Close()
			os.Remove(tmpName)
		}
	}()

	n, err := io.Copy(f, io.LimitReader(ctxReader{ctx, r}, size))
	if err != nil {
		return Info{}, fmt.Errorf("assetstore: write %s: %w", key, err)
	}
	if n < size {
		return Info{}, fmt.Errorf("%w: %s: got %d of %d bytes", ErrSizeMismatch, key, n, size)
	}
	if extra, err := r.Read(make([]byte, 1)); extra > 0 {
		return Info{}, fmt.Errorf("%w: %s: more than %d bytes", ErrSizeMismatch, key, size)
	} else if err != nil && !errors.Is(err, io.EOF) {
		return Info{}, fmt.Errorf("assetstore: write %s: %w", key, err)
	}
	if err := f.Sync(); err != nil {
		return Info{}, fmt.Errorf("assetstore: sync %s: %w", key, err)
	}
	if err := f.Close(); err != nil {
		return Info{}, fmt.Errorf("assetstore: close %s: %w", key, err)
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	if err := os.Rename(tmpName, final); err != nil {
		return Info{}, fmt.Errorf("assetstore: %w", err)
	}
	committed = true
	if err := syncDir(dir); err != nil {
		return Info{}, fmt.Errorf("assetstore: sync %s: %w", dir, err)
	}
	fi, err := os.Stat(final)
	if err != nil {
		return Info{}, fmt.Errorf("assetstore: %w", err)
	}
	return Info{Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Open implements Store.
func (l *Local) Open(_ context.Context, key Key, rng *Range) (io.ReadCloser, Info, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, Info{}, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, Info{}, l.notFound(key, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Info{}, fmt.Errorf("assetstore: %w", err)
	}
	if fi.IsDir() {
		f.Close()
		return nil, Info{}, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	info := Info{Size: fi.Size(), ModTime: fi.ModTime()}
	offset, length, err := rng.resolve(info.Size)
	if err != nil {
		f.Close()
		return nil, Info{}, err
	}
	return &section{Reader: io.NewSectionReader(f, offset, length), f: f}, info, nil
}

type section struct {
	io.Reader
	f *os.File
}

func (s *section) Close() error { return s.f.Close() }

// Stat implements Store.
func (l *Local) Stat(_ context.Context, key Key) (Info, error) {
	p, err := l.path(key)
	if err != nil {
		return Info{}, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return Info{}, l.notFound(key, err)
	}
	if fi.IsDir() {
		return Info{}, fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return Info{Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// Delete implements Store.
func (l *Local) Delete(_ context.Context, key Key) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("assetstore: %w", err)
	}
	return nil
}

// Sweep implements Store: it removes temporary files not written to for
// olderThan.
func (l *Local) Sweep(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := time.Now().Add(-olderThan)
	removed := 0
	err := filepath.WalkDir(l.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || !strings.HasPrefix(d.Name(), tempPrefix) {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		if fi.ModTime().Before(cutoff) {
			if err := os.Remove(p); err == nil {
				removed++
			}
		}
		return nil
	})
	return removed, err
}

func (l *Local) notFound(key Key, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir) {
		return fmt.Errorf("%w: %s", ErrNotFound, key)
	}
	return fmt.Errorf("assetstore: %w", err)
}
