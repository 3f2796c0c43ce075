package bench

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"
)

// median of xs (the mean of the middle two for an even count); NaN when
// empty.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// percentile is the nearest-rank p-th percentile (0 < p <= 100) of xs; NaN
// when empty.
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// contender is one way of doing a round's work. run does it once and
// returns how long the timed part took; round numbers the call.
type contender struct {
	name string
	run  func(b *testing.B, round int) time.Duration
}

// compare runs the baselines and then Wharf's contenders in turn, one round
// of each per b.Loop iteration (baseline, baseline, wharf, baseline,
// baseline, wharf, ...), so that the noise of a shared machine hits them
// alike. It reports, for each Wharf contender and baseline, the median over
// rounds of the contender's time divided by the baseline's in the same round
// ("wharf/<name>"), and each contender's median throughput over bytes moved
// per round ("<name>-MB/s").
func compare(b *testing.B, bytesPerRound int64, baselines []contender, wharfs ...contender) {
	times := map[string][]float64{}
	all := append(slices.Clone(baselines), wharfs...)
	for round := 0; b.Loop(); round++ {
		for _, c := range all {
			times[c.name] = append(times[c.name], c.run(b, round).Seconds())
		}
	}
	var lines []string
	for _, c := range all {
		mbps := make([]float64, len(times[c.name]))
		for i, s := range times[c.name] {
			mbps[i] = float64(bytesPerRound) / (1 << 20) / s
		}
		b.ReportMetric(median(mbps), c.name+"-MB/s")
		lines = append(lines, fmt.Sprintf("%-9s median %7.3fs  %8.1f MB/s  rounds %s",
			c.name, median(times[c.name]), median(mbps), formatSeconds(times[c.name])))
	}
	for _, w := range wharfs {
		for _, base := range baselines {
			ratios := make([]float64, len(times[w.name]))
			for i := range ratios {
				ratios[i] = times[w.name][i] / times[base.name][i]
			}
			b.ReportMetric(median(ratios), w.name+"/"+base.name)
			lines = append(lines, fmt.Sprintf("%s/%s time ratio: median %.2f, per round %s",
				w.name, base.name, median(ratios), formatSeconds(ratios)))
		}
	}
	b.Logf("%s, %.1f MiB per round:\n%s", b.Name(), float64(bytesPerRound)/(1<<20), strings.Join(lines, "\n"))
}

func formatSeconds(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.2f", x)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func TestMedian(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median(nil) is not NaN")
	}
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	xs := make([]float64, 200)
	for i := range xs {
		xs[len(xs)-1-i] = float64(i + 1) // 200..1, unsorted
	}
	tests := []struct {
		p, want float64
	}{
		{50, 100},
		{99, 198},
		{100, 200},
		{0.1, 1},
	}
	for _, tt := range tests {
		if got := percentile(xs, tt.p); got != tt.want {
			t.Errorf("percentile(1..200, %v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := percentile([]float64{7}, 99); got != 7 {
		t.Errorf("percentile([7], 99) = %v, want 7", got)
	}
}
