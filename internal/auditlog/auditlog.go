// Package auditlog writes the audit records of API calls with group
// commit: the records of calls that end at about the same time go to the
// database in one transaction, and each caller waits until the transaction
// holding its record has committed. A call is answered only after its
// record is durable (the guarantee package api gives), at the cost of one
// commit per batch rather than one per call.
//
// There is no background goroutine and no timer: the first caller to
// arrive when no batch is committing commits at once (a lone call waits for
// its own commit only, as without batching); callers arriving meanwhile
// queue, and when the commit ends the oldest of them commits everything
// queued (up to MaxBatch records) for all of them. The batches grow with
// the load by themselves, and an idle server does nothing.
package auditlog

import (
	"context"
	"errors"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wharf-dev/wharf/internal/resource"
)

// Store inserts records in one transaction, all of them or none;
// store.Store is one.
type Store interface {
	InsertAuditRecords(ctx context.Context, rs []resource.AuditRecord) error
}

// DefaultMaxBatch is how many records one transaction carries at most.
const DefaultMaxBatch = 256

// ErrClosed is returned for records handed to a closed Writer.
var ErrClosed = errors.New("auditlog: the audit log is closed (the server is stopping)")

// Config configures a Writer.
type Config struct {
	Store Store
	// MaxBatch bounds the records of one transaction; 0 means
	// DefaultMaxBatch.
	MaxBatch int
	// Metrics, when set, receives wharf_audit_commits_total and
	// wharf_audit_records_total (records / commits is the mean batch).
	Metrics prometheus.Registerer
}

// Writer writes audit records with group commit. Its InsertAuditRecord is
// safe for concurrent use and is what api.Config.Audit takes.
type Writer struct {
	store    Store
	maxBatch int

	mu       sync.Mutex
	queue    []*waiter
	leading  bool // a caller is committing a batch; false implies an empty queue
	closed   bool
	drained  *sync.Cond // signalled when leading turns false
	batches  uint64
	records  uint64
	commits  prometheus.Counter
	recorded prometheus.Counter
}

// waiter is one caller's record. wake receives once: true if the caller
// is to commit the next batch itself, false when its batch has committed
// (with err).
type waiter struct {
	rec  resource.AuditRecord
	wake chan bool
	err  error
}

// New returns a Writer on cfg.Store.
func New(cfg Config) (*Writer, error) {
	if cfg.Store == nil {
		return nil, errors.New("auditlog: Config needs a Store")
	}
	w := &Writer{store: cfg.Store, maxBatch: cfg.MaxBatch}
	if w.maxBatch <= 0 {
		w.maxBatch = DefaultMaxBatch
	}
	w.drained = sync.NewCond(&w.mu)
	w.commits = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "wharf_audit_commits_total", Help: "Transactions that wrote audit records (committed or failed).",
	})
	w.recorded = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "wharf_audit_records_total", Help: "Audit records written, in wharf_audit_commits_total transactions.",
	})
	if cfg.Metrics != nil {
		for _, c := range []prometheus.Collector{w.commits, w.recorded} {
			if err := cfg.Metrics.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return w, nil
}

// InsertAuditRecord returns once rec is committed, in a transaction with
// the records of other calls, or with the error that transaction failed
// with (every record of a failed batch gets it). ctx's values reach the
// store, its cancellation does not: a batch is shared, and one caller going
// away must not fail the others.
func (w *Writer) InsertAuditRecord(ctx context.Context, rec resource.AuditRecord) error {
	me := &waiter{rec: rec, wake: make(chan bool, 1)}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return ErrClosed
	}
	w.queue = append(w.queue, me)
	if w.leading {
		w.mu.Unlock()
		if lead := <-me.wake; !lead {
			return me.err
		}
		w.mu.Lock()
	}
	w.leading = true
	w.commitBatch(context.WithoutCancel(ctx), me)
	return me.err
}

// commitBatch commits the oldest queued records (me's among them: me is
// the oldest), wakes their callers, and hands the next batch to the oldest
// caller still queued. It is called with w.mu held, and returns without.
func (w *Writer) commitBatch(ctx context.Context, me *waiter) {
	n := min(len(w.queue), w.maxBatch)
	batch := w.queue[:n:n]
	w.queue = w.queue[n:]
	w.mu.Unlock()

	recs := make([]resource.AuditRecord, len(batch))
	for i, wt := range batch {
		recs[i] = wt.rec
	}
	err := w.store.InsertAuditRecords(ctx, recs)
	w.commits.Inc()
	if err == nil {
		w.recorded.Add(float64(len(recs)))
	}

	w.mu.Lock()
	w.batches++
	w.records += uint64(len(recs))
	if len(w.queue) > 0 {
		w.queue[0].wake <- true // leading stays true: the next leader takes over
	} else {
		w.leading = false
		w.queue = nil // let the backing array go
		w.drained.Broadcast()
	}
	w.mu.Unlock()
	for _, wt := range batch {
		wt.err = err
		if wt != me {
			wt.wake <- false
		}
	}
}

// Stats are what a Writer has committed: transactions and the records in
// them.
type Stats struct {
	Batches, Records uint64
}

// Stats returns the Writer's counts so far.
func (w *Writer) Stats() Stats {
	w.mu.Lock()
	defer w.mu.Unlock()
	return Stats{Batches: w.batches, Records: w.records}
}

// Close refuses new records (ErrClosed) and returns once every record
// handed in before has been committed (or has failed) and its caller
// woken. The server closes the Writer after its HTTP server has shut down.
func (w *Writer) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	for w.leading {
		w.drained.Wait()
	}
}
