// Package postgres is the store for replicas sharing one PostgreSQL
// database, on a pgx connection pool (pgx natively, not database/sql, so
// that River's riverpgxv5 driver can share Pool() and its pgx.Tx).
//
// Inside InTx, single-row reads take SELECT ... FOR UPDATE, so exchange's
// read-check-write sequences hold the row until they commit. Transactions
// run at READ COMMITTED, PostgreSQL's default.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLockKey names the advisory lock that serialises migrations across
// replicas starting at once: "wharf_mg" as a big-endian int64.
const migrationLockKey = 0x77686172665f6d67

// dialect is PostgreSQL's dialect for the shared queries.
var dialect = &sqlstore.Dialect{
	Name:                 "postgres",
	NumberedPlaceholders: true,
	LockRows:             "FOR UPDATE",
	MigrationLock:        fmt.Sprintf("SELECT pg_advisory_xact_lock(%d)", int64(migrationLockKey)),
	Classify:             classify,
}

// Store is the PostgreSQL store.
type Store struct {
	*sqlstore.Store
	pool      *pgxpool.Pool
	queuePool *pgxpool.Pool
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (postgres://user:pass@host/db?...,
// or any form pgxpool.ParseConfig accepts) and migrates it.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	migrations, err := sqlstore.LoadMigrations(migrationFiles, "migrations")
	if err != nil {
		pool.Close()
		return nil, err
	}
	handle := poolHandle{pool}
	if err := sqlstore.Migrate(ctx, handle, dialect, migrations); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	qcfg := cfg.Copy()
	qcfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	queuePool, err := pgxpool.NewWithConfig(ctx, qcfg)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return &Store{Store: sqlstore.New(handle, dialect), pool: pool, queuePool: queuePool}, nil
}

// Close closes both pools.
func (s *Store) Close() error {
	s.queuePool.Close()
	return s.Store.Close()
}

// Initialized reports whether the database at url holds Wharf's schema (a
// `wharf migrate` or `wharf serve` ran on it), changing nothing: the admin
// commands refuse a database that was never migrated rather than migrate it.
func Initialized(ctx context.Context, url string) (bool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return false, fmt.Errorf("postgres: %w", err)
	}
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return false, fmt.Errorf("postgres: %w", err)
	}
	defer pool.Close()
	var ok bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&ok); err != nil {
		return false, fmt.Errorf("postgres: connect: %w", err)
	}
	return ok, nil
}

// Pool returns the store's connection pool, whose transactions River's
// inserts and completions join (riverpgxv5 takes its pgx.Tx).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// QueuePool returns the pool River's client runs its own statements on:
// its fetches, snoozes, batch completions, leadership and LISTEN. Its
// sessions commit with synchronous_commit off, so that a fetch on a small
// job's path does not wait for the WAL's flush (a flushed commit is 2-3 ms
// on an ordinary disk). That loses nothing Wharf needs: the database can
// only lose the last of those commits in its own crash, a lost fetch or
// completion leaves the entry to be fetched or reaped again, and every
// state a job has is written in the store's transactions on Pool(), flushed
// as always (and a flushed commit flushes the WAL before it, these too).
func (s *Store) QueuePool() *pgxpool.Pool { return s.queuePool }

// TxQueries returns the store's Queries running in tx, a transaction begun
// on Pool() by someone else (the job engine); they commit or roll it back.
func (s *Store) TxQueries(tx pgx.Tx) store.Queries { return s.Store.TxQueries(txHandle{tx}) }

// Tx returns the pgx.Tx under q, the Queries an InTx callback was given;
// false outside a transaction.
func Tx(q store.Queries) (pgx.Tx, bool) {
	tx, ok := sqlstore.DriverTx(q)
	if !ok {
		return nil, false
	}
	pgxTx, ok := tx.(pgx.Tx)
	return pgxTx, ok
}

func classify(err error) sqlstore.ErrorKind {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return sqlstore.OtherError
	}
	switch e.Code {
	case "23505": // unique_violation
		return sqlstore.UniqueViolation
	case "23503": // foreign_key_violation
		return sqlstore.ForeignKeyViolation
	}
	return sqlstore.OtherError
}

// poolHandle and txHandle adapt pgx to sqlstore's Conn.

type poolHandle struct{ pool *pgxpool.Pool }

func (h poolHandle) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := h.pool.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

func (h poolHandle) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := h.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (h poolHandle) Begin(ctx context.Context) (sqlstore.Tx, error) {
	tx, err := h.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return txHandle{tx}, nil
}

func (h poolHandle) Ping(ctx context.Context) error { return h.pool.Ping(ctx) }

func (h poolHandle) Close() error {
	h.pool.Close()
	return nil
}

type txHandle struct{ tx pgx.Tx }

func (h txHandle) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := h.tx.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

func (h txHandle) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := h.tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return rows, nil
}

func (h txHandle) Commit(ctx context.Context) error   { return h.tx.Commit(ctx) }
func (h txHandle) Rollback(ctx context.Context) error { return h.tx.Rollback(ctx) }
func (h txHandle) Driver() any                        { return h.tx }
