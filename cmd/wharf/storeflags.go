package main

import (
	"context"
	"fmt"
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
	cmd.Flags().StringVar(&f.dataDir, "data-dir", "./wharf-data", "directory for the SQLite database, the master key and (later) asset bytes")
	cmd.Flags().StringVar(&f.database, "database", "", "PostgreSQL URL (postgres://...); empty means SQLite under --data-dir")
}

// open opens (and migrates) the selected store.
func (f *storeFlags) open(ctx context.Context) (store.Store, error) {
	if err := os.MkdirAll(f.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	switch {
	case f.database == "":
		return sqlite.Open(ctx, filepath.Join(f.dataDir, "wharf.db"))
	case strings.HasPrefix(f.database, "postgres://"), strings.HasPrefix(f.database, "postgresql://"):
		return postgres.Open(ctx, f.database)
	default:
		return nil, fmt.Errorf("--database must be a postgres:// URL (or empty for SQLite), got %q", redactURL(f.database))
	}
}

// withStore opens the selected store, runs fn with it and closes it.
func (f *storeFlags) withStore(cmd *cobra.Command, fn func(store.Store) error) error {
	st, err := f.open(cmd.Context())
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

func newSealer(f *storeFlags) (*auth.Sealer, error) {
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
