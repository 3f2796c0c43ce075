package assetstore

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/wharf-dev/wharf/internal/s3access"
)

// Move makes the object under from the object under to, replacing what to
// held, without the bytes passing through Wharf: a rename in the local store
// (atomic, and durable once the directories are synced), a server-side copy
// followed by a delete of from in an S3 store (to appears whole or not at
// all; if the delete fails, from stays and a second Move copies again). A
// missing from is ErrNotFound.
func Move(ctx context.Context, st Store, from, to Key) error {
	if err := from.check(); err != nil {
		return err
	}
	if err := to.check(); err != nil {
		return err
	}
	switch s := st.(type) {
	case *Local:
		src, _ := s.path(from)
		dst, _ := s.path(to)
		if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
			return fmt.Errorf("assetstore: %w", err)
		}
		if err := os.Rename(src, dst); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("%w: %s", ErrNotFound, from)
			}
			return fmt.Errorf("assetstore: move %s to %s: %w", from, to, err)
		}
		if err := syncDir(filepath.Dir(dst)); err != nil {
			return fmt.Errorf("assetstore: sync %s: %w", filepath.Dir(dst), err)
		}
		return syncDir(filepath.Dir(src))
	case *S3:
		_, err := s3access.Copy(ctx, s.Location(from), s.Location(to), s3access.CopyOptions{Tuning: s.Tuning})
		if errors.Is(err, s3access.ErrNoSuchKey) {
			return fmt.Errorf("%w: %s", ErrNotFound, from)
		}
		if err != nil {
			return fmt.Errorf("assetstore: copy %s to %s: %w", from, to, err)
		}
		return s.Delete(ctx, from)
	}
	return fmt.Errorf("assetstore: Move does not support %T", st)
}
