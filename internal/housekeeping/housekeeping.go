// Package housekeeping runs the periodic clean-ups of `wharf serve` that
// the job engine doesn't: removing deleted assets' bytes from the asset
// store, pruning the audit log past its retention, and deleting console
// sessions a day after they expired (until then, their requests are told
// "expired" rather than "invalid").
//
// # Deleted asset bytes
//
// DeleteAsset, DeleteRevision and DeleteDataSet record the asset-store key
// of every asset they delete in the same transaction as the delete
// (store.DeletedBytes), so a crash after the commit loses none. The sweeper
// removes each object (a missing one is fine: removal is idempotent, and
// replicas may race for the same key), then the record; a failed removal is
// retried later with backoff, and never forgotten. Entitled data sets hold
// no assets of their own, so deleting one (with its data grant) removes
// none of the source's bytes.
//
// A job still reading a deleted asset's bytes (an export started before the
// delete) fails once they are gone, with the asset store's not-found error.
package housekeeping

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/store"
)

// Defaults.
const (
	// DefaultAuditRetention is how long audit records are kept.
	DefaultAuditRetention = 90 * 24 * time.Hour
	// DefaultBytesInterval is how often deleted bytes are looked for.
	DefaultBytesInterval = 10 * time.Second
	// DefaultAuditInterval is how often the audit log is pruned.
	DefaultAuditInterval = time.Hour

	// ExpiredSessionGrace is how long an expired console session is kept
	// before it is deleted.
	ExpiredSessionGrace = 24 * time.Hour

	batch = 500
)

// Config configures a Sweeper. Zero durations take the defaults.
type Config struct {
	Store  store.Store
	Assets assetstore.Store
	// AuditRetention is how long audit records are kept; zero or less
	// keeps them forever.
	AuditRetention time.Duration
	BytesInterval  time.Duration
	AuditInterval  time.Duration
	// BaseBackoff is the wait after a first failed removal, doubling after
	// each next one up to MaxBackoff [10 s, 1 h].
	BaseBackoff, MaxBackoff time.Duration
	Logger                  *slog.Logger
}

// Sweeper runs the clean-ups.
type Sweeper struct{ cfg Config }

// New returns a Sweeper.
func New(cfg Config) (*Sweeper, error) {
	if cfg.Store == nil || cfg.Assets == nil {
		return nil, errors.New("housekeeping: Config.Store and Config.Assets are required")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.BytesInterval, DefaultBytesInterval)
	def(&cfg.AuditInterval, DefaultAuditInterval)
	def(&cfg.BaseBackoff, 10*time.Second)
	def(&cfg.MaxBackoff, time.Hour)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Sweeper{cfg: cfg}, nil
}

// Run sweeps until ctx ends: deleted bytes every BytesInterval, the audit
// log every AuditInterval, both once at the start.
func (s *Sweeper) Run(ctx context.Context) {
	bytesTick := time.NewTicker(s.cfg.BytesInterval)
	defer bytesTick.Stop()
	auditTick := time.NewTicker(s.cfg.AuditInterval)
	defer auditTick.Stop()
	sweepBytes := func() {
		if n, err := s.SweepDeletedBytes(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("housekeeping: remove deleted assets' bytes", "removed", n, "error", err)
		}
	}
	pruneAudit := func() {
		if _, err := s.PruneAudit(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("housekeeping: prune the audit log", "error", err)
		}
	}
	pruneSessions := func() {
		if _, err := s.PruneSessions(ctx); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("housekeeping: delete expired console sessions", "error", err)
		}
	}
	sweepBytes()
	pruneAudit()
	pruneSessions()
	for {
		select {
		case <-ctx.Done():
			return
		case <-bytesTick.C:
			sweepBytes()
		case <-auditTick.C:
			pruneAudit()
			pruneSessions()
		}
	}
}

// SweepDeletedBytes removes the objects of the deleted assets due now and
// reports how many it removed. A removal that fails is rescheduled and
// reported in the error; the others go on.
func (s *Sweeper) SweepDeletedBytes(ctx context.Context) (int, error) {
	removed := 0
	var errs []error
	for {
		now := time.Now()
		due, err := s.cfg.Store.ListDueDeletedBytes(ctx, now, batch)
		if err != nil {
			return removed, err
		}
		for _, d := range due {
			if err := s.remove(ctx, d.Key); err != nil {
				if ctx.Err() != nil {
					return removed, ctx.Err()
				}
				errs = append(errs, fmt.Errorf("%s: %w", d.Key, err))
				next := now.Add(s.backoff(d.Attempts + 1))
				if err := s.cfg.Store.RetryDeletedBytes(ctx, d.Key, next, err.Error()); err != nil && !errors.Is(err, store.ErrNotFound) {
					return removed, err
				}
				continue
			}
			// Removed by this sweeper or by another replica's: either way the
			// record is done.
			if err := s.cfg.Store.ForgetDeletedBytes(ctx, d.Key); err != nil {
				return removed, err
			}
			removed++
		}
		if len(due) < batch {
			if removed > 0 {
				s.cfg.Logger.Info("housekeeping: removed deleted assets' bytes", "objects", removed)
			}
			return removed, errors.Join(errs...)
		}
	}
}

// remove deletes the object under key and what interrupted writes to it
// left behind. A key that isn't an asset key can never be removed; it is
// reported and retried like any failure rather than dropped silently.
func (s *Sweeper) remove(ctx context.Context, key string) error {
	k, err := assetstore.ParseKey(key)
	if err != nil {
		return err
	}
	return assetstore.Discard(ctx, s.cfg.Assets, k)
}

// backoff is the wait after the attempts-th failed removal.
func (s *Sweeper) backoff(attempts int) time.Duration {
	wait := s.cfg.BaseBackoff
	for i := 1; i < attempts && wait < s.cfg.MaxBackoff; i++ {
		wait *= 2
	}
	return min(wait, s.cfg.MaxBackoff)
}

// PruneAudit deletes the audit records older than the retention and
// reports how many; with no retention it keeps them all.
func (s *Sweeper) PruneAudit(ctx context.Context) (int, error) {
	if s.cfg.AuditRetention <= 0 {
		return 0, nil
	}
	cutoff := time.Now().Add(-s.cfg.AuditRetention)
	return s.inBatches(ctx, cutoff, s.cfg.Store.DeleteAuditRecordsBefore, "housekeeping: pruned the audit log", "records")
}

// inBatches calls del with cutoff until it deletes less than a batch, and
// logs the total under msg, counted as what.
func (s *Sweeper) inBatches(ctx context.Context, cutoff time.Time, del func(context.Context, time.Time, int) (int, error), msg, what string) (int, error) {
	total := 0
	for {
		n, err := del(ctx, cutoff, batch)
		total += n
		if err != nil {
			return total, err
		}
		if n < batch {
			if total > 0 {
				s.cfg.Logger.Info(msg, what, total, "before", cutoff)
			}
			return total, nil
		}
	}
}

// PruneSessions deletes the console sessions that expired more than
// ExpiredSessionGrace ago and reports how many.
func (s *Sweeper) PruneSessions(ctx context.Context) (int, error) {
	cutoff := time.Now().Add(-ExpiredSessionGrace)
	return s.inBatches(ctx, cutoff, s.cfg.Store.DeleteSessionsExpiredBefore, "housekeeping: deleted expired console sessions", "sessions")
}
