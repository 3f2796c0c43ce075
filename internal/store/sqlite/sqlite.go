// Package sqlite is the embedded default store: one SQLite file, through
// database/sql and modernc.org/sqlite (pure Go, no cgo).
//
// The database has exactly one open connection. River's riversqlite driver
// shares DB() and runs jobs in the same transactions as the store, which one
// connection makes safe; SQLite serialises writers anyway. Transactions begin
// IMMEDIATE (the write lock is taken up front), so a read-check-write can't
// fail on a lock upgrade, and other processes on the same file (the `wharf
// keys create` admin command while the server runs) wait up to BusyTimeout
// for the lock rather than fail.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/sqlstore"
)

// BusyTimeout is how long a write waits for another connection's (or
// process's) write lock before it fails.
const BusyTimeout = 30 * time.Second

//go:embed migrations/*.sql
var migrationFiles embed.FS

// dialect is SQLite's dialect for the shared queries.
var dialect = &sqlstore.Dialect{
	Name:     "sqlite",
	Classify: classify,
}

// Store is the SQLite store.
type Store struct {
	*sqlstore.Store
	db *sql.DB
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the SQLite database at path, a file
// name, and migrates it.
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("sqlite: invalid database path %q", path)
	}
	params := url.Values{}
	params.Add("_pragma", "busy_timeout("+strconv.FormatInt(BusyTimeout.Milliseconds(), 10)+")")
	params.Add("_pragma", "journal_mode(WAL)")
	params.Add("_pragma", "foreign_keys(1)")
	params.Set("_txlock", "immediate")
	db := sql.OpenDB(connector{dsn: path + "?" + params.Encode(), driver: &msqlite.Driver{}})
	db.SetMaxOpenConns(1)
	// Keep the one connection open: a memory database would vanish with
	// it, and reopening costs the pragmas again.
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)

	handle := dbHandle{db: db}
	if err := connect(ctx, db); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	migrations, err := sqlstore.LoadMigrations(migrationFiles, "migrations")
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := sqlstore.Migrate(ctx, handle, dialect, migrations); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: migrate %s: %w", path, err)
	}
	return &Store{Store: sqlstore.New(handle, dialect), db: db}, nil
}

// connect opens the one connection, retrying while the file is busy.
// Switching a new file to WAL needs an exclusive lock, and SQLite answers
// SQLITE_BUSY for it at once, without the busy handler, when another process
// is opening the same new file: so the busy timeout is applied here by hand.
func connect(ctx context.Context, db *sql.DB) error {
	deadline := time.Now().Add(BusyTimeout)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 250*time.Millisecond) {
		err := db.PingContext(ctx)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

func isBusy(err error) bool {
	var e *msqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// DB returns the database handle, for River's riversqlite driver. It has
// one connection: don't hold a transaction on it while calling the store.
func (s *Store) DB() *sql.DB { return s.db }

// TxQueries returns the store's Queries running in tx, a transaction begun
// on DB() by someone else (the job engine); they commit or roll it back.
func (s *Store) TxQueries(tx *sql.Tx) store.Queries { return s.Store.TxQueries(txHandle{tx}) }

// Tx returns the *sql.Tx under q, the Queries an InTx callback was given;
// false outside a transaction.
func Tx(q store.Queries) (*sql.Tx, bool) {
	tx, ok := sqlstore.DriverTx(q)
	if !ok {
		return nil, false
	}
	sqlTx, ok := tx.(*sql.Tx)
	return sqlTx, ok
}

func classify(err error) sqlstore.ErrorKind {
	var e *msqlite.Error
	if !errors.As(err, &e) {
		return sqlstore.OtherError
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return sqlstore.UniqueViolation
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return sqlstore.ForeignKeyViolation
	}
	return sqlstore.OtherError
}

// dbHandle and txHandle adapt database/sql to sqlstore's Conn.

// Their statements stay prepared on the connection (stmtconn.go).
type dbHandle struct {
	db *sql.DB
}

func (h dbHandle) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return execResult(h.db.ExecContext(ctx, query, args...))
}

func (h dbHandle) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := h.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (h dbHandle) Begin(ctx context.Context) (sqlstore.Tx, error) {
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return txHandle{tx}, nil
}

func (h dbHandle) Ping(ctx context.Context) error { return h.db.PingContext(ctx) }

func (h dbHandle) Close() error { return h.db.Close() }

type txHandle struct{ tx *sql.Tx }

func (h txHandle) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	return execResult(h.tx.ExecContext(ctx, query, args...))
}

func (h txHandle) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := h.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (h txHandle) Commit(context.Context) error   { return h.tx.Commit() }
func (h txHandle) Rollback(context.Context) error { return h.tx.Rollback() }
func (h txHandle) Driver() any                    { return h.tx }

func execResult(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }
