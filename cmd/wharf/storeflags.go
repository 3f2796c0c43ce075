package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/postgres"
	"github.com/wharf-dev/wharf/internal/store/sqlite"
)

// storeFlags select the metadata store. They are shared by `serve` and the
// admin commands so that both always open the same place.
type storeFlags struct {
	dataDir  string
	database string
}

func (f *storeFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dataDir, "data-dir", "./wharf-data", "directory for the SQLite database, the master key and the default asset store (assets/)")
	cmd.Flags().StringVar(&f.database, "database", "", "PostgreSQL URL (postgres://...); empty means SQLite under --data-dir")
}

// validate checks the flags, touching nothing.
func (f *storeFlags) validate() error {
	switch {
	case f.dataDir == "":
		return errors.New("--data-dir must not be empty")
	case f.database == "", strings.HasPrefix(f.database, "postgres://"), strings.HasPrefix(f.database, "postgresql://"):
		return nil
	}
	return fmt.Errorf("--database must be a postgres:// URL (or empty for SQLite), got %q", redactURL(f.database))
}

// lock creates the data dir and, with SQLite, takes its exclusive lock, so
// that a second server on the same database is refused at once. With
// PostgreSQL, replicas may share a data dir (for master.key): no lock.
func (f *storeFlags) lock() (*sqlite.DirLock, error) {
	if err := os.MkdirAll(f.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if f.database != "" {
		return nil, nil
	}
	l, err := sqlite.LockDir(f.dataDir)
	if errors.Is(err, sqlite.ErrLocked) {
		return nil, fmt.Errorf("%w; one server per SQLite data dir (several replicas need --database postgres://...)", err)
	}
	return l, err
}

// create opens the selected store, creating the data dir, the database's
// schema (migrating it) and the master key as needed: `serve` and
// `migrate` only.
func (f *storeFlags) create(ctx context.Context) (store.Store, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(f.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if _, err := auth.LoadMasterKey(f.dataDir); err != nil {
		return nil, err
	}
	if f.database == "" {
		return sqlite.Open(ctx, filepath.Join(f.dataDir, "wharf.db"))
	}
	return postgres.Open(ctx, f.database)
}

// openExisting opens the selected store for an admin command, which never
// creates one: a data dir without a database (or a PostgreSQL database
// that was never migrated) is a wrong --data-dir or --database, refused
// before anything is written.
func (f *storeFlags) openExisting(ctx context.Context) (store.Store, error) {
	if err := f.validate(); err != nil {
		return nil, err
	}
	noData := fmt.Errorf("no Wharf data in %s: pass --data-dir or --database", f.dataDirName())
	if f.database == "" {
		fi, err := os.Stat(filepath.Join(f.dataDir, "wharf.db"))
		if errors.Is(err, fs.ErrNotExist) || (err == nil && fi.Size() == 0) {
			return nil, noData
		}
		if err != nil {
			return nil, err
		}
		return sqlite.Open(ctx, filepath.Join(f.dataDir, "wharf.db"))
	}
	ok, err := postgres.Initialized(ctx, f.database)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("no Wharf data in the database %s (never migrated): pass --data-dir or --database, or run `wharf migrate` first", redactURL(f.database))
	}
	return postgres.Open(ctx, f.database)
}

// dataDirName is --data-dir as the user would type it: ./wharf-data rather
// than wharf-data.
func (f *storeFlags) dataDirName() string {
	if filepath.IsAbs(f.dataDir) || strings.HasPrefix(f.dataDir, ".") {
		return f.dataDir
	}
	return "./" + f.dataDir
}

// withStore opens the selected store, runs fn with it and closes it.
func (f *storeFlags) withStore(cmd *cobra.Command, fn func(store.Store) error) error {
	st, err := f.openExisting(cmd.Context())
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

// withSealedTx is withStore running fn in one transaction, with the sealer
// of the data dir's master key, so that what fn writes (an account and its
// first key, a profile and its sealed secret) is stored together or not at all.
func (f *storeFlags) withSealedTx(cmd *cobra.Command, fn func(store.Queries, *auth.Sealer) error) error {
	return f.withStore(cmd, func(st store.Store) error {
		sealer, err := newSealer(f)
		if err != nil {
			return err
		}
		return st.InTx(cmd.Context(), func(q store.Queries) error { return fn(q, sealer) })
	})
}

// newSealer is the sealer of the master key the store's secrets are sealed
// with, which must exist: WHARF_MASTER_KEY, else <data-dir>/master.key
// (create made it). An admin command that made a new one would seal
// secrets no server can open.
func newSealer(f *storeFlags) (*auth.Sealer, error) {
	if os.Getenv(auth.EnvMasterKey) == "" {
		if _, err := os.Stat(filepath.Join(f.dataDir, auth.MasterKeyFile)); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no master key: %s is not set and %s has no %s; give this command the server's WHARF_MASTER_KEY or --data-dir",
				auth.EnvMasterKey, f.dataDirName(), auth.MasterKeyFile)
		}
	}
	masterKey, err := auth.LoadMasterKey(f.dataDir)
	if err != nil {
		return nil, err
	}
	return auth.NewSealer(masterKey)
}

// describe names the store for logs, without its password.
func (f *storeFlags) describe() string {
	if f.database == "" {
		return "sqlite:" + filepath.Join(f.dataDir, "wharf.db")
	}
	return redactURL(f.database)
}

func redactURL(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return u
	}
	userinfo := u[scheme+3 : at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		userinfo = userinfo[:i] + ":xxxxx"
	}
	return u[:scheme+3] + userinfo + u[at:]
}
