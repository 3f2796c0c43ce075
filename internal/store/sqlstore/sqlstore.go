// Package sqlstore implements store.Store once, in SQL, for every database
// Wharf supports. The driver packages (store/sqlite, store/postgres) adapt
// their database handle to Conn/DB/Tx, describe their Dialect, and embed
// their migrations; every query lives here.
//
// Conventions of the schema the queries expect:
//   - timestamps are BIGINT unix milliseconds, returned as UTC time.Time;
//   - Asset.Details and DataSet.OriginDetails are JSON text, the former
//     returned byte-exact;
//   - revisions reference their data set and assets their revision through
//     foreign keys that include the account id, with ON DELETE CASCADE, so
//     a child can never sit under another account's parent;
//   - tags are keyed by resource id alone (no foreign key), and the deletes
//     here remove them explicitly.
//
// Beyond what package store documents, inserting a row whose parent (data
// set, revision, or an access key's account) does not exist in that account
// returns store.ErrNotFound.
package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/wharf-dev/wharf/internal/store"
)

// Store is a store.Store on a SQL database.
type Store struct {
	*queries // the queries outside a transaction

	db      DB
	dialect *Dialect
	rebinds sync.Map // query with ? placeholders -> query in the dialect's form
}

var _ store.Store = (*Store)(nil)

// New returns a Store on db, which must already be migrated (see Migrate).
func New(db DB, d *Dialect) *Store {
	s := &Store{db: db, dialect: d}
	s.queries = &queries{s: s, conn: db}
	return s
}

// InTx runs fn in one transaction. Inside it, single-row Get* calls lock the
// row they read (where the dialect has row locks). fn's error is returned
// as it is, after rolling back; a panic in fn rolls back and goes on.
func (s *Store) InTx(ctx context.Context, fn func(q store.Queries) error) error {
	return s.inTx(ctx, func(q *queries) error { return fn(q) })
}

func (s *Store) inTx(ctx context.Context, fn func(q *queries) error) error {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: begin transaction: %w", err)
	}
	committed := false
	defer func() {
		// Runs on error and on panic alike. Roll back even if ctx is done:
		// the connection must go back clean (SQLite has only one).
		if !committed {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := fn(&queries{s: s, conn: tx, tx: tx}); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("store: commit: %w", s.translate(err))
	}
	committed = true
	return nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.Ping(ctx) }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// TxQueries returns the Queries that run in tx, a transaction begun outside
// the store (by the job engine, say) on the same database. The caller
// commits or rolls back tx; Get* calls lock rows as they do inside InTx.
func (s *Store) TxQueries(tx Tx) store.Queries {
	return &queries{s: s, conn: tx, tx: tx}
}

// DriverTx returns the driver's own transaction under q: a *sql.Tx for
// store/sqlite, a pgx.Tx for store/postgres. It reports false if q is not
// the Queries of an InTx callback (or of TxQueries). The job engine uses it
// to write its queue entries in the transaction that changes a job's state,
// so both commit or neither does.
func DriverTx(q store.Queries) (any, bool) {
	qq, ok := q.(*queries)
	if !ok || qq.tx == nil {
		return nil, false
	}
	return qq.tx.Driver(), true
}

// sql returns query in the dialect's placeholder form, rewriting each
// distinct query once.
func (s *Store) sql(query string) string {
	if v, ok := s.rebinds.Load(query); ok {
		return v.(string)
	}
	q := s.dialect.rebind(query)
	s.rebinds.Store(query, q)
	return q
}

// translate maps the driver's constraint errors to the store's sentinels,
// keeping the driver's message.
func (s *Store) translate(err error) error {
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrDuplicate) {
		return err
	}
	switch s.dialect.Classify(err) {
	case UniqueViolation:
		return fmt.Errorf("%w: %v", store.ErrDuplicate, err)
	case ForeignKeyViolation:
		return fmt.Errorf("%w: parent row missing: %v", store.ErrNotFound, err)
	}
	return err
}
