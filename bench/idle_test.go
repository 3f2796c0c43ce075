package bench

import (
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/pgtest"
	"github.com/wharf-dev/wharf/internal/s3test"
)

// idleWindow is how long BenchmarkIdle measures: 60 s unless
// WHARF_BENCH_IDLE_SECONDS says otherwise.
var idleWindow = time.Duration(envInt("WHARF_BENCH_IDLE_SECONDS", 60)) * time.Second

// clockTicks is the unit of /proc/<pid>/stat's CPU times (USER_HZ), 100 on
// every Linux Go supports.
const clockTicks = 100

// BenchmarkIdle measures the CPU an idle `wharf serve` uses, on SQLite and
// on PostgreSQL, with no job and no request, over idleWindow (after a few
// seconds to settle), and the CPU an idle MinIO uses in the same window as
// the baseline. It reports each as a percentage of one core. Run it with
// -benchtime=1x: each iteration is a whole window.
func BenchmarkIdle(b *testing.B) {
	for _, backend := range []string{"sqlite", "postgres"} {
		b.Run(backend, func(b *testing.B) {
			srv := s3test.Start(b)
			if srv.PID() == 0 {
				b.Skip("an external S3 server: no process to measure")
			}
			var args []string
			if backend == "postgres" {
				args = append(args, "--database", pgtest.URL(b))
			}
			w := startWharf(b, s3Env(srv), args...)
			time.Sleep(5 * time.Second) // start-up work: migrations, first sweeps
			var wharfPct, minioPct []float64
			for b.Loop() {
				w0, m0 := cpuTicks(b, w.cmd.Process.Pid), cpuTicks(b, srv.PID())
				start := time.Now()
				time.Sleep(idleWindow)
				elapsed := time.Since(start).Seconds()
				w1, m1 := cpuTicks(b, w.cmd.Process.Pid), cpuTicks(b, srv.PID())
				pct := func(ticks int64) float64 { return float64(ticks) / clockTicks / elapsed * 100 }
				wharfPct = append(wharfPct, pct(w1-w0))
				minioPct = append(minioPct, pct(m1-m0))
			}
			b.ReportMetric(percentile(wharfPct, 50), "wharf-cpu-%")
			b.ReportMetric(percentile(minioPct, 50), "minio-cpu-%")
			b.Logf("idle over %s on %s: wharf %.2f %% of a core, MinIO %.2f %%", idleWindow, backend,
				percentile(wharfPct, 50), percentile(minioPct, 50))
		})
	}
}

// cpuTicks reads the user and system CPU time process pid has used, in
// clock ticks, from /proc/<pid>/stat.
func cpuTicks(tb testing.TB, pid int) int64 {
	tb.Helper()
	fields, err := procStat(pid)
	if err != nil {
		tb.Fatalf("read process CPU time: %v", err)
	}
	// utime and stime are fields 14 and 15 of the line, 12 and 13 here.
	return sumFields(tb, fields[11:13])
}
