package jobtypes

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/s3access"
)

// The default size limit is reported as AWS reports it: LimitValue 100 (GB).
func TestDefaultSizeLimitError(t *testing.T) {
	r := &ImportFromS3{deps: Deps{MaxAssetSize: DefaultMaxAssetSize}}
	sources := []source{{"b", "ok"}, {"b", "huge"}, {"b", "gone"}}
	errs := r.jobErrors(nil, sources, []error{nil, &tooLarge{size: 101 << 30},
		&s3access.ObjectError{Op: "head", Bucket: "b", Key: "gone", Reason: s3access.ErrNoSuchKey}})
	if len(errs) != 2 {
		t.Fatalf("errors %+v", errs)
	}
	// Not-found first, then the quota errors.
	if errs[0].Code != jobs.CodeResourceNotFound || errs[1].Code != jobs.CodeServiceQuotaExceeded {
		t.Fatalf("errors %+v", errs)
	}
	q := errs[1]
	if q.LimitName != "Asset size in GB" || q.LimitValue != 100 || q.ResourceID != "s3://b/huge" {
		t.Errorf("quota error %+v", q)
	}
	if want := "s3://b/huge is 108447924224 bytes (101.00 GB): over the limit of 100 GB per asset"; q.Message != want {
		t.Errorf("message %q, want %q", q.Message, want)
	}
	if !isSourceProblem(&tooLarge{}) || isSourceProblem(errors.New("network")) {
		t.Error("isSourceProblem")
	}
}

func TestCheckBucket(t *testing.T) {
	for name, ok := range map[string]bool{
		"abc": true, "my-bucket.data": true, "a1b": true, "wharf-test-0123456789ab": true,
		"ab": false, "Abc": false, "-abc": false, "abc-": false, "a..b": false, "a_b": false,
		"10.0.0.1": false, "xn--abc": false, "abc-s3alias": false, "abc--ol-s3": false,
		"0123456789012345678901234567890123456789012345678901234567890123": false,
	} {
		if err := checkBucket("Bucket", &name); (err == nil) != ok {
			t.Errorf("checkBucket(%q) = %v", name, err)
		}
	}
	if checkBucket("Bucket", nil) == nil {
		t.Error("a missing bucket was accepted")
	}
}

func TestBuffered(t *testing.T) {
	const mib = 1 << 20
	def := s3access.Tuning{}
	small := s3access.Tuning{PartSize: 5 * mib, Concurrency: 2}
	for _, c := range []struct {
		size int64
		t    s3access.Tuning
		want int64
	}{
		{0, def, 0},
		{mib, def, mib},
		{16 * mib, def, 16 * mib},
		{17 * mib, def, 17 * mib},
		{1 << 30, def, 64 * mib},
		{12 * mib, small, 10 * mib},
		{100 << 30, small, 2 * ((100<<30 + 9999) / 10000)}, // parts grow to fit 10,000
	} {
		if got := buffered(c.size, c.t); got != c.want {
			t.Errorf("buffered(%d, %+v) = %d, want %d", c.size, c.t, got, c.want)
		}
	}
}

// copyAll never lets its copies hold more than the budget, and lets a copy
// heavier than the whole budget run alone.
func TestCopyAllBudget(t *testing.T) {
	d := Deps{Parallelism: 8, BufferBudget: 100}
	weights := []int64{60, 60, 30, 10, 500, 0, 0, 40}
	var mu sync.Mutex
	var held, peak int64
	err := d.copyAll(context.Background(), len(weights), func(i int) int64 { return weights[i] },
		func(ctx context.Context, i int) error {
			w := min(weights[i], d.BufferBudget)
			mu.Lock()
			held += w
			peak = max(peak, held)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
			mu.Lock()
			held -= w
			mu.Unlock()
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if peak > d.BufferBudget {
		t.Errorf("copies held %d at once, over the budget of %d", peak, d.BufferBudget)
	}
}

// attachment names a download after the asset's last path segment, in
// RFC 2231's filename* when it is not ASCII, and not at all without a name.
func TestAttachment(t *testing.T) {
	for name, want := range map[string]string{
		"heights.bin":        `attachment; filename=heights.bin`,
		"in/a dir/tides.csv": `attachment; filename=tides.csv`,
		"a dir/the tides":    `attachment; filename="the tides"`,
		`say "hi".txt`:       `attachment; filename="say \"hi\".txt"`,
		"marées/été.csv":     `attachment; filename*=utf-8''%C3%A9t%C3%A9.csv`,
		"":                   "",
		"trailing/":          `attachment; filename=trailing`,
		"..":                 "",
	} {
		if got := attachment(name); got != want {
			t.Errorf("attachment(%q) = %q, want %q", name, got, want)
		}
	}
}
