package auditlog

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/sqlite"
)

// hookedStore is a real SQLite store whose batch insert can be held: a
// test sees each batch arrive (arrived) and lets it commit (release).
type hookedStore struct {
	store.Store
	hold      bool
	arrived   chan int // the batch's size, before it commits
	release   chan struct{}
	fail      atomic.Pointer[error]
	committed atomic.Int64 // records committed so far
}

func newHookedStore(t *testing.T, hold bool) *hookedStore {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "wharf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return &hookedStore{Store: st, hold: hold, arrived: make(chan int, 100), release: make(chan struct{}, 100)}
}

func (h *hookedStore) InsertAuditRecords(ctx context.Context, rs []resource.AuditRecord) error {
	if h.hold {
		h.arrived <- len(rs)
		<-h.release
	}
	if err := h.fail.Load(); err != nil {
		return *err
	}
	if err := h.Store.InsertAuditRecords(ctx, rs); err != nil {
		return err
	}
	h.committed.Add(int64(len(rs)))
	return nil
}

func record(i int) resource.AuditRecord {
	return resource.AuditRecord{ID: resource.NewID(), At: resource.Now(), AccountID: "123456789012",
		Operation: "GetJob", ResourceARN: fmt.Sprint("arn:", i), Status: 200, RequestID: resource.NewID()}
}

func newWriter(t *testing.T, st Store, maxBatch int) *Writer {
	t.Helper()
	w, err := New(Config{Store: st, MaxBatch: maxBatch})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// queued waits until n callers wait in w's queue (they are goroutines
// the test started; this only waits for them to get there).
func queued(w *Writer, n int) {
	for {
		w.mu.Lock()
		got := len(w.queue)
		w.mu.Unlock()
		if got >= n {
			return
		}
		runtime.Gosched()
	}
}

func listed(t *testing.T, st store.Store) int {
	t.Helper()
	rs, err := st.ListAuditRecords(context.Background(), store.AuditFilter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	return len(rs)
}

// TestReturnsOnlyOnceCommitted: InsertAuditRecord does not return before
// the store has committed the record, and a lone record is committed at
// once, in a batch of its own.
func TestReturnsOnlyOnceCommitted(t *testing.T) {
	t.Parallel()
	st := newHookedStore(t, false)
	w := newWriter(t, st, 0)
	for i := range 3 {
		if err := w.InsertAuditRecord(t.Context(), record(i)); err != nil {
			t.Fatal(err)
		}
		if got := st.committed.Load(); got != int64(i+1) {
			t.Fatalf("InsertAuditRecord returned with %d records committed, want %d", got, i+1)
		}
	}
	if got := w.Stats(); got != (Stats{Batches: 3, Records: 3}) {
		t.Errorf("Stats = %+v, want 3 batches of one", got)
	}
	if n := listed(t, st); n != 3 {
		t.Errorf("the store lists %d records, want 3", n)
	}
}

// TestCallersWaitForTheirBatch: while a batch commits, the callers that
// arrive meanwhile wait, none of them returns before the batch holding its
// record commits, and they all go in the next batch together.
func TestCallersWaitForTheirBatch(t *testing.T) {
	t.Parallel()
	st := newHookedStore(t, true)
	w := newWriter(t, st, 0)

	var returned atomic.Int64
	var wg sync.WaitGroup
	insert := func(i int) {
		defer wg.Done()
		if err := w.InsertAuditRecord(t.Context(), record(i)); err != nil {
			t.Error(err)
		}
		returned.Add(1)
	}
	wg.Add(1)
	go insert(0)
	if n := <-st.arrived; n != 1 {
		t.Fatalf("first batch of %d, want 1", n)
	}
	const others = 50
	for i := range others {
		wg.Add(1)
		go insert(i + 1)
	}
	queued(w, others)
	if n := returned.Load(); n != 0 {
		t.Fatalf("%d callers returned while the first batch was held", n)
	}
	st.release <- struct{}{} // the first batch commits
	if n := <-st.arrived; n != others {
		t.Fatalf("second batch of %d, want all %d callers that queued", n, others)
	}
	// The first caller may have returned now; the others wait for theirs.
	if n := returned.Load(); n > 1 {
		t.Fatalf("%d callers returned before their batch committed", n)
	}
	st.release <- struct{}{}
	wg.Wait()
	if got := w.Stats(); got != (Stats{Batches: 2, Records: others + 1}) {
		t.Errorf("Stats = %+v, want 2 batches, %d records", got, others+1)
	}
	if n := listed(t, st); n != others+1 {
		t.Errorf("the store lists %d records, want %d", n, others+1)
	}
}

// TestMaxBatch: a queue longer than MaxBatch goes in several batches, in
// order of arrival.
func TestMaxBatch(t *testing.T) {
	t.Parallel()
	st := newHookedStore(t, true)
	w := newWriter(t, st, 4)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = w.InsertAuditRecord(t.Context(), record(0)) }()
	<-st.arrived
	for i := range 10 {
		wg.Add(1)
		go func() { defer wg.Done(); _ = w.InsertAuditRecord(t.Context(), record(i+1)) }()
	}
	queued(w, 10)
	var sizes []int
	for range 4 {
		st.release <- struct{}{}
		if len(sizes) < 3 {
			sizes = append(sizes, <-st.arrived)
		}
	}
	wg.Wait()
	if fmt.Sprint(sizes) != "[4 4 2]" {
		t.Errorf("batches after the first: %v, want [4 4 2]", sizes)
	}
}

// TestCommitFailureReachesEveryCaller: every caller of a failed batch
// gets its error, and the next batch is written as usual.
func TestCommitFailureReachesEveryCaller(t *testing.T) {
	t.Parallel()
	st := newHookedStore(t, true)
	w := newWriter(t, st, 0)
	boom := errors.New("disk full")
	errs := make(chan error, 20)
	go func() { errs <- w.InsertAuditRecord(t.Context(), record(0)) }()
	<-st.arrived
	for i := range 5 {
		go func() { errs <- w.InsertAuditRecord(t.Context(), record(i+1)) }()
	}
	queued(w, 5)
	st.release <- struct{}{}
	if err := <-errs; err != nil { // the first batch committed
		t.Fatalf("first batch: %v", err)
	}
	<-st.arrived
	st.fail.Store(&boom)
	st.release <- struct{}{}
	for range 5 {
		if err := <-errs; !errors.Is(err, boom) {
			t.Errorf("a caller of the failed batch got %v, want %v", err, boom)
		}
	}
	st.fail.Store(nil)
	go func() { errs <- w.InsertAuditRecord(t.Context(), record(9)) }()
	<-st.arrived
	st.release <- struct{}{}
	if err := <-errs; err != nil {
		t.Errorf("after a failed batch: %v", err)
	}
	if n := listed(t, st); n != 2 {
		t.Errorf("the store lists %d records, want 2 (the failed batch's are not there)", n)
	}
}

// TestCloseFlushes: Close returns only once every record handed in before
// it is committed, and refuses records after.
func TestCloseFlushes(t *testing.T) {
	t.Parallel()
	st := newHookedStore(t, true)
	w := newWriter(t, st, 0)
	errs := make(chan error, 20)
	go func() { errs <- w.InsertAuditRecord(t.Context(), record(0)) }()
	<-st.arrived
	for i := range 10 {
		go func() { errs <- w.InsertAuditRecord(t.Context(), record(i+1)) }()
	}
	queued(w, 10)
	closed := make(chan struct{})
	go func() { w.Close(); close(closed) }()
	// Close is waiting (a batch is held): a new record is refused.
	for {
		w.mu.Lock()
		c := w.closed
		w.mu.Unlock()
		if c {
			break
		}
		runtime.Gosched()
	}
	if err := w.InsertAuditRecord(t.Context(), record(99)); !errors.Is(err, ErrClosed) {
		t.Fatalf("a record after Close: %v, want ErrClosed", err)
	}
	st.release <- struct{}{}
	<-st.arrived
	select {
	case <-closed:
		t.Fatal("Close returned with a batch still to commit")
	default:
	}
	st.release <- struct{}{}
	<-closed
	if n := st.committed.Load(); n != 11 {
		t.Fatalf("Close returned with %d records committed, want 11", n)
	}
	for range 11 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestConcurrentCallersOnSQLite: many callers at once on a real SQLite
// store all get their record written, in fewer transactions than records.
func TestConcurrentCallersOnSQLite(t *testing.T) {
	t.Parallel()
	st := newHookedStore(t, false)
	w := newWriter(t, st, 0)
	const n = 400
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.InsertAuditRecord(t.Context(), record(i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	w.Close()
	if got := listed(t, st); got != n {
		t.Fatalf("the store lists %d records, want %d", got, n)
	}
	s := w.Stats()
	t.Logf("%d records in %d transactions", s.Records, s.Batches)
	if s.Records != n || s.Batches >= n {
		t.Errorf("Stats = %+v: want %d records in fewer transactions", s, n)
	}
}
