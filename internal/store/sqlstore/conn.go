package sqlstore

import (
	"context"
	"strconv"
	"strings"
)

// Conn is the part of a database handle (a pool or a transaction) that the
// queries use. Each driver package adapts its own handle to it.
type Conn interface {
	// Exec runs a statement and reports how many rows it changed. With no
	// args, the statement may hold several SQL statements (migrations).
	Exec(ctx context.Context, query string, args ...any) (rowsAffected int64, err error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
}

// Rows is a query's result set.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// DB is a database: a Conn that can also begin transactions.
type DB interface {
	Conn
	Begin(ctx context.Context) (Tx, error)
	Ping(ctx context.Context) error
	Close() error
}

// Tx is a transaction begun by DB.Begin.
type Tx interface {
	Conn
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
	// Driver returns the driver's own transaction (*sql.Tx, pgx.Tx), so that
	// other libraries can write in the same transaction.
	Driver() any
}

// ErrorKind classifies a driver error.
type ErrorKind int

const (
	OtherError ErrorKind = iota
	// UniqueViolation: an insert hit an existing primary or unique key.
	UniqueViolation
	// ForeignKeyViolation: an insert named a parent row that does not exist.
	ForeignKeyViolation
)

// Dialect is everything that differs between the SQL databases Wharf
// supports, as far as the shared queries are concerned. The queries are
// written with ? placeholders and use only syntax both databases accept:
// row-value comparisons for keyset pagination, and INSERT ... ON CONFLICT
// (...) DO UPDATE for upserts (SQLite >= 3.24 and PostgreSQL share it), so
// there is no upsert hook here.
type Dialect struct {
	// Name names the database in error messages.
	Name string
	// NumberedPlaceholders: bind parameters are $1, $2, ... instead of ?.
	NumberedPlaceholders bool
	// LockRows is appended to a SELECT inside a transaction to lock the rows
	// it reads until the transaction ends ("FOR UPDATE"); empty where
	// transactions are serialised anyway (SQLite).
	LockRows string
	// MigrationLock is run first in the migration transaction to keep two
	// processes from migrating at once; empty where beginning the
	// transaction already does that (SQLite's BEGIN IMMEDIATE).
	MigrationLock string
	// Classify tells unique and foreign-key violations from other errors.
	Classify func(error) ErrorKind
}

// rebind rewrites ? placeholders into the dialect's form. Queries never hold
// a literal question mark, so a plain scan is enough.
func (d *Dialect) rebind(query string) string {
	if !d.NumberedPlaceholders || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}
