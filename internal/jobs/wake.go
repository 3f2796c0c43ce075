package jobs

import (
	"context"
	"database/sql"
	"sync/atomic"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivershared/baseservice"
	"github.com/riverqueue/river/rivershared/riverpilot"
	"github.com/riverqueue/river/rivertype"
)

// wakeDriver is River's SQLite driver with a way to wake this process's
// workers when a queue entry is inserted in a transaction.
//
// River wakes its workers on an insert through its notifier. On SQLite
// that notifier polls an outbox table every 50 ms (a query 20 times a
// second, and up to 50 ms added to every job), and River's poll-only mode
// wakes workers only after inserts made outside a transaction, while Wharf
// queues every run in the transaction that starts its job. A SQLite database
// has one process serving it, so the wake-up needs no database at all: the
// driver hands River a pilot (River's standard one) and keeps the function
// River gives pilots for exactly this, "a job has become available".
type wakeDriver struct {
	*riversqlite.Driver
	pilot *wakePilot
}

func newWakeDriver(db *sql.DB) *wakeDriver {
	return &wakeDriver{Driver: riversqlite.New(db), pilot: &wakePilot{}}
}

// PluginInit and PluginPilot make the driver one River asks for a pilot.
func (d *wakeDriver) PluginInit(*baseservice.Archetype) {}
func (d *wakeDriver) PluginPilot() riverpilot.Pilot     { return d.pilot }

// SupportsListener says no, so that River runs poll-only, without its
// outbox poller; the wake-up replaces it.
func (d *wakeDriver) SupportsListener() bool     { return false }
func (d *wakeDriver) SupportsListenNotify() bool { return false }

// wake tells the queue's workers to look for entries now. The entry must be
// visible to their next query by then: either committed, or inserted in a
// transaction on the store's only connection (sqlite.Store has one), which
// the workers' query waits for.
func (d *wakeDriver) wake(queue string) {
	if notify := d.pilot.notify.Load(); notify != nil {
		(*notify)(context.Background(), []*rivertype.JobInsertResult{{Job: &rivertype.JobRow{Queue: queue}}})
	}
}

type wakePilot struct {
	riverpilot.StandardPilot
	notify atomic.Pointer[func(context.Context, []*rivertype.JobInsertResult)]
}

func (p *wakePilot) PilotInit(archetype *baseservice.Archetype, params *riverpilot.PilotInitParams) {
	p.StandardPilot.PilotInit(archetype, params)
	if params.NotifyNonTxJobInsert != nil {
		p.notify.Store(&params.NotifyNonTxJobInsert)
	}
}
