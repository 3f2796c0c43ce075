package jobs

import (
	"context"
	"database/sql"
	"sync"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
)

// localDriver is River's SQLite driver with its notifications delivered in
// this process, through memory.
//
// River wakes its workers, elects its leader and hears of queue changes
// through notifications. On PostgreSQL they travel by LISTEN/NOTIFY. River's
// SQLite driver emulates that with an outbox table that its listener polls
// every 50 ms (20 queries a second, and up to 50 ms added to every job);
// without a listener, River polls instead, each queue's settings every 2 s
// (four and a half queries a second for Wharf's nine queues). A SQLite
// database has one process serving it (the data dir is locked), so its
// notifications need no database at all: this driver sends what River
// notifies straight to River's notifier, which then behaves as on
// PostgreSQL, its polls only a slow fallback.
//
// A notification sent in a transaction is delivered at once, not at
// commit: what it announces is visible to the query it prompts, because
// that query waits for the store's one connection, which the transaction
// holds until it ends. One sent by a transaction that rolls back is a
// spurious wake-up, which costs a query.
type localDriver struct {
	*riversqlite.Driver
	hub *localHub
}

func newLocalDriver(db *sql.DB) *localDriver {
	return &localDriver{Driver: riversqlite.New(db), hub: &localHub{listened: map[string]bool{},
		notifications: make(chan *riverdriver.Notification, localBuffer)}}
}

// localBuffer is how many notifications wait for River's notifier before
// more are dropped (as River drops them when its own buffer is full): a
// dropped wake-up leaves the work to the fallback poll.
const localBuffer = 1000

func (d *localDriver) SupportsListener() bool     { return true }
func (d *localDriver) SupportsListenNotify() bool { return true }

func (d *localDriver) GetListener(params *riverdriver.GetListenenerParams) riverdriver.Listener {
	return &localListener{hub: d.hub, schema: params.Schema}
}

func (d *localDriver) GetExecutor() riverdriver.Executor {
	return &localExecutor{Executor: d.Driver.GetExecutor(), hub: d.hub}
}

func (d *localDriver) UnwrapExecutor(tx *sql.Tx) riverdriver.ExecutorTx {
	return &localTx{ExecutorTx: d.Driver.UnwrapExecutor(tx), hub: d.hub}
}

func (d *localDriver) UnwrapTx(execTx riverdriver.ExecutorTx) *sql.Tx {
	if t, ok := execTx.(*localTx); ok {
		execTx = t.ExecutorTx
	}
	return d.Driver.UnwrapTx(execTx)
}

// localExecutor and localTx are River's SQLite executors, notifying
// through the hub.
type localExecutor struct {
	riverdriver.Executor
	hub *localHub
}

func (e *localExecutor) NotifyMany(_ context.Context, params *riverdriver.NotifyManyParams) error {
	e.hub.send(params)
	return nil
}

func (e *localExecutor) Begin(ctx context.Context) (riverdriver.ExecutorTx, error) {
	tx, err := e.Executor.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &localTx{ExecutorTx: tx, hub: e.hub}, nil
}

type localTx struct {
	riverdriver.ExecutorTx
	hub *localHub
}

func (t *localTx) NotifyMany(_ context.Context, params *riverdriver.NotifyManyParams) error {
	t.hub.send(params)
	return nil
}

func (t *localTx) Begin(ctx context.Context) (riverdriver.ExecutorTx, error) {
	tx, err := t.ExecutorTx.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &localTx{ExecutorTx: tx, hub: t.hub}, nil
}

// localHub carries one River client's notifications, for the topics its
// listener listens to.
type localHub struct {
	mu            sync.Mutex
	listened      map[string]bool
	notifications chan *riverdriver.Notification
}

func (h *localHub) send(params *riverdriver.NotifyManyParams) {
	h.mu.Lock()
	listened := h.listened[params.Topic]
	h.mu.Unlock()
	if !listened {
		return
	}
	for _, payload := range params.Payload {
		select {
		case h.notifications <- &riverdriver.Notification{Topic: params.Topic, Payload: payload}:
		default:
		}
	}
}

func (h *localHub) listen(topic string, on bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if on {
		h.listened[topic] = true
	} else {
		delete(h.listened, topic)
	}
}

// localListener is River's notifier's view of the hub: a connection that
// never fails.
type localListener struct {
	hub    *localHub
	schema string
}

func (l *localListener) Close(context.Context) error   { return nil }
func (l *localListener) Connect(context.Context) error { return nil }
func (l *localListener) Ping(context.Context) error    { return nil }
func (l *localListener) Schema() string                { return l.schema }
func (l *localListener) SetAfterConnectExec(string)    {}

func (l *localListener) Listen(_ context.Context, topic string) error {
	l.hub.listen(topic, true)
	return nil
}

func (l *localListener) Unlisten(_ context.Context, topic string) error {
	l.hub.listen(topic, false)
	return nil
}

func (l *localListener) WaitForNotification(ctx context.Context) (*riverdriver.Notification, error) {
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case n := <-l.hub.notifications:
		return n, nil
	}
}
