package jobs

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// metrics are the engine's Prometheus metrics. Counters and histograms are
// this replica's; wharf_jobs is read from the database at each scrape, so
// every replica reports the same, whole-deployment figures.
type metrics struct {
	started         *prometheus.CounterVec
	runs            *prometheus.GaugeVec
	bytes           *prometheus.CounterVec
	durations       *prometheus.HistogramVec
	reaped          *prometheus.CounterVec
	cleanupFailures *prometheus.CounterVec
}

// jobCountTimeout bounds the query behind wharf_jobs at a scrape.
const jobCountTimeout = 5 * time.Second

func newMetrics(reg prometheus.Registerer, st store.Store) (*metrics, error) {
	m := &metrics{
		started: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wharf_jobs_started_total",
			Help: "Jobs started (StartJob) on this replica, by type.",
		}, []string{"type"}),
		runs: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "wharf_job_runs_active",
			Help: "Job runs in progress on this replica, by type.",
		}, []string{"type"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wharf_job_bytes_transferred_total",
			Help: "Bytes jobs run on this replica have moved, by type (a run that starts over counts again).",
		}, []string{"type"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "wharf_job_duration_seconds",
			Help: "Time from a job's first run to its end, by type and final state.",
			// 1 s to about 3 days.
			Buckets: prometheus.ExponentialBuckets(1, 4, 10),
		}, []string{"type", "state"}),
		reaped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wharf_job_leases_reaped_total",
			Help: "Jobs whose lease expired (their run died) that this replica queued again, by type.",
		}, []string{"type"}),
		cleanupFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "wharf_job_cleanup_failures_total",
			Help: "Runner Cleanup calls that failed on this replica, by type.",
		}, []string{"type"}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.started, m.runs, m.bytes, m.durations, m.reaped, m.cleanupFailures,
		jobCounts{st: st}} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *metrics) finished(j resource.Job) {
	if j.StartedAt != nil {
		m.durations.WithLabelValues(j.Type, j.State).Observe(time.Since(*j.StartedAt).Seconds())
	}
}

// jobCounts is wharf_jobs: every job in the database by type and state.
type jobCounts struct{ st store.Store }

var jobCountsDesc = prometheus.NewDesc("wharf_jobs",
	"Jobs in the database (all accounts, all replicas), by type and state.", []string{"type", "state"}, nil)

func (c jobCounts) Describe(ch chan<- *prometheus.Desc) { ch <- jobCountsDesc }

func (c jobCounts) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), jobCountTimeout)
	defer cancel()
	counts, err := c.st.CountJobsByTypeAndState(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(jobCountsDesc, err)
		return
	}
	for _, n := range counts {
		ch <- prometheus.MustNewConstMetric(jobCountsDesc, prometheus.GaugeValue, float64(n.Count), n.Type, n.State)
	}
}
