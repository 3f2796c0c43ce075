package assetstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wharf-dev/wharf/internal/s3access"
)

// AssetKey is the key of an asset's bytes: <accountID>/<dataSetID>/<assetID>,
// where accountID and dataSetID are those of the data set that owns the
// bytes. Every job type that writes or reads asset bytes uses it, so that
// they find each other's objects.
func AssetKey(accountID, dataSetID, assetID string) (Key, error) {
	return NewKey(accountID, dataSetID, assetID)
}

// Discard removes the object under key and whatever interrupted writes to
// key left behind (the local store's temporary files for the key; the S3
// store's incomplete multipart uploads to it), for a job cleaning up after
// its runs. It must not run while a Put to key is in progress. Nothing to
// remove is not an error.
func Discard(ctx context.Context, st Store, key Key) error {
	if err := key.check(); err != nil {
		return err
	}
	switch s := st.(type) {
	case *S3:
		if _, err := s3access.AbortUploadsAt(ctx, s.Location(key)); err != nil {
			return fmt.Errorf("assetstore: abort the uploads to %s: %w", key, err)
		}
	case *Local:
		final, err := s.path(key)
		if err != nil {
			return err
		}
		temps, err := filepath.Glob(filepath.Join(filepath.Dir(final), tempPrefix+filepath.Base(final)+"-*"))
		if err != nil {
			return err
		}
		for _, p := range temps {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("assetstore: %w", err)
			}
		}
	}
	return st.Delete(ctx, key)
}
