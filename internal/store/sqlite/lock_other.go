//go:build !unix

package sqlite

import "errors"

// LockFile is the file in a data directory that `wharf serve` holds an
// exclusive lock on while it runs on the directory's SQLite database.
const LockFile = "wharf.lock"

// ErrLocked is LockDir's error when another process holds the lock.
var ErrLocked = errors.New("locked by another process")

// DirLock is a held lock on a data directory.
type DirLock struct{}

// LockDir refuses: Wharf locks data directories with flock, which only
// Unix systems have.
func LockDir(dir string) (*DirLock, error) {
	return nil, errors.New("sqlite: locking the data dir " + dir + " needs a Unix system (flock)")
}

// Release drops the lock.
func (l *DirLock) Release() error { return nil }
