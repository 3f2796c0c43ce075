//go:build unix

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockFile is the file in a data directory that `wharf serve` holds an
// exclusive lock on while it runs on the directory's SQLite database.
const LockFile = "wharf.lock"

// ErrLocked is LockDir's error when another process holds the lock.
var ErrLocked = errors.New("locked by another process")

// DirLock is a held lock on a data directory.
type DirLock struct{ f *os.File }

// LockDir takes the exclusive lock on dir (an flock on dir/wharf.lock, which
// it creates), without waiting: a second server on the same SQLite data
// directory fails at once with an error that wraps ErrLocked and names the
// process holding it. The kernel drops the lock when the process ends,
// however it ends, so a crash leaves no stale lock; the file stays.
//
// Only servers take it: the admin commands still open the database beside
// a running server (SQLite serialises their writes).
func LockDir(dir string) (*DirLock, error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open the lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := "another process"
			if pid := strings.TrimSpace(string(holder)); pid != "" {
				who = "process " + pid
			}
			return nil, fmt.Errorf("the data dir %s is in use by %s (a wharf serve holds %s): %w", dir, who, path, ErrLocked)
		}
		return nil, fmt.Errorf("sqlite: lock %s: %w", path, err)
	}
	// The holder's pid, for the next one's message.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &DirLock{f: f}, nil
}

// Release drops the lock.
func (l *DirLock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor drops the flock
	l.f = nil
	return err
}
