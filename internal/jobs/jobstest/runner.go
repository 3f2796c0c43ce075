// Package jobstest has a fake jobs.Runner for tests of the engine and the
// API: it "imports" the sources of an IMPORT_ASSETS_FROM_S3 job as assets
// without moving any bytes, and records what the engine asked of it.
package jobstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// Source keys that change what a run does. Any other key becomes an asset
// named after it.
const (
	// KeyMissing ends the job in ERROR, naming the source.
	KeyMissing = "missing"
	// KeyHang makes every run wait until its context is done.
	KeyHang = "hang"
	// KeyHangFirstRun makes the first run of the job wait until its
	// context is done; later runs go ahead.
	KeyHangFirstRun = "hang-first-run"
	// KeyBlock makes runs wait until Release is called, whatever their
	// context says (a run that ignores cancellation).
	KeyBlock = "block"
	// KeyFail makes Run return a plain error.
	KeyFail = "fail"
	// KeyPanic makes Run panic.
	KeyPanic = "panic"
	// KeySlow makes runs take Runner.Delay, reporting progress meanwhile.
	KeySlow = "slow"
)

// SourceSize is the size each fake asset reports.
const SourceSize = 1000

// Runner is the fake. The zero value is not usable: call New.
type Runner struct {
	// Delay is how long a KeySlow run takes.
	Delay time.Duration

	mu         sync.Mutex
	runs       map[string]int      // job id -> runs begun
	cleanups   map[string]int      // job id -> Cleanup calls
	objects    map[string]struct{} // "written" asset objects, by asset id
	running    int
	maxRunning int
	release    chan struct{}
}

// New returns a fake runner.
func New() *Runner {
	return &Runner{
		Delay:    200 * time.Millisecond,
		runs:     map[string]int{},
		cleanups: map[string]int{},
		objects:  map[string]struct{}{},
		release:  make(chan struct{}),
	}
}

var _ jobs.Runner = (*Runner)(nil)

type details struct {
	AssetSources []struct {
		Bucket *string
		Key    *string
	}
	DataSetId  *string
	RevisionId *string
}

func parse(job resource.Job) (details, error) {
	var d details
	body, err := jobs.MemberDetails(job)
	if err != nil {
		return d, err
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return d, fault.Validationf("Details: %v", err)
	}
	return d, nil
}

// Validate checks the sources and that the revision exists and takes assets.
func (r *Runner) Validate(ctx context.Context, q store.Queries, job resource.Job) error {
	d, err := parse(job)
	if err != nil {
		return err
	}
	if d.RevisionId == nil {
		return fault.Validationf("RevisionId is required")
	}
	if len(d.AssetSources) == 0 || len(d.AssetSources) > 100 {
		return fault.Validationf("AssetSources must list 1 to 100 sources (got %d)", len(d.AssetSources))
	}
	for i, s := range d.AssetSources {
		if s.Bucket == nil || s.Key == nil {
			return fault.Validationf("AssetSources[%d]: Bucket and Key are required", i)
		}
	}
	if _, err := q.GetDataSet(ctx, job.AccountID, job.DataSetID); errors.Is(err, store.ErrNotFound) {
		return fault.NotFound(resource.KindDataSet, job.DataSetID)
	} else if err != nil {
		return err
	}
	rev, err := q.GetRevision(ctx, job.AccountID, job.DataSetID, job.RevisionID)
	if errors.Is(err, store.ErrNotFound) {
		return fault.NotFound(resource.KindRevision, job.RevisionID)
	} else if err != nil {
		return err
	}
	if rev.Finalized {
		return fault.Conflictf(resource.KindRevision, rev.ID, "revision %s is finalized", rev.ID)
	}
	return nil
}

// Run "imports" each source as an asset.
func (r *Runner) Run(ctx context.Context, job resource.Job, progress jobs.Progress) (jobs.Result, error) {
	d, err := parse(job)
	if err != nil {
		return jobs.Result{}, err
	}
	r.mu.Lock()
	r.runs[job.ID]++
	firstRun := r.runs[job.ID] == 1
	r.running++
	r.maxRunning = max(r.maxRunning, r.running)
	release := r.release
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.running--
		r.mu.Unlock()
	}()

	total := int64(len(d.AssetSources)) * SourceSize
	progress(0, total)
	var res jobs.Result
	for i, s := range d.AssetSources {
		key := *s.Key
		switch key {
		case KeyMissing:
			return jobs.Result{Errors: []jobs.JobError{{
				Code:    jobs.CodeResourceNotFound,
				Message: fmt.Sprintf("s3://%s/%s does not exist", *s.Bucket, key),
				Details: jobs.ImportAssetsFromS3ErrorDetails(jobs.S3Location{Bucket: *s.Bucket, Key: key}),
			}}}, nil
		case KeyHang:
			<-ctx.Done()
			return res, ctx.Err()
		case KeyHangFirstRun:
			if firstRun {
				<-ctx.Done()
				return res, ctx.Err()
			}
		case KeyBlock:
			<-release
		case KeyFail:
			return res, errors.New("jobstest: the run failed")
		case KeyPanic:
			panic("jobstest: the run panicked")
		case KeySlow:
			steps := 10
			for step := 1; step <= steps; step++ {
				select {
				case <-ctx.Done():
					return res, ctx.Err()
				case <-time.After(r.Delay / time.Duration(steps)):
				}
				progress(int64(i)*SourceSize+int64(step)*SourceSize/int64(steps), total)
			}
		}
		id := jobs.AssetID(job.ID, i)
		r.mu.Lock()
		r.objects[id] = struct{}{}
		r.mu.Unlock()
		res.Assets = append(res.Assets, resource.Asset{
			ID:        id,
			Name:      key,
			AssetType: resource.AssetTypeS3Snapshot,
			Details:   json.RawMessage(fmt.Sprintf(`{"S3SnapshotAsset":{"Size":%d}}`, SourceSize)),
		})
		progress(int64(i+1)*SourceSize, total)
	}
	return res, nil
}

// Cleanup removes the objects any run of the job wrote.
func (r *Runner) Cleanup(_ context.Context, job resource.Job) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cleanups[job.ID]++
	for i := range 100 {
		delete(r.objects, jobs.AssetID(job.ID, i))
	}
	return nil
}

// Release lets every run waiting on KeyBlock go on.
func (r *Runner) Release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	close(r.release)
	r.release = make(chan struct{})
}

// Runs is how many runs of the job began.
func (r *Runner) Runs(jobID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runs[jobID]
}

// Cleanups is how many times the job was cleaned up after.
func (r *Runner) Cleanups(jobID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cleanups[jobID]
}

// Objects returns the ids of the job's asset objects that exist.
func (r *Runner) Objects(jobID string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []string
	for i := range 100 {
		if _, ok := r.objects[jobs.AssetID(jobID, i)]; ok {
			ids = append(ids, jobs.AssetID(jobID, i))
		}
	}
	return ids
}

// MaxRunning is the most runs that were ever in progress at once.
func (r *Runner) MaxRunning() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.maxRunning
}

// Running is how many runs are in progress.
func (r *Runner) Running() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.running
}

// Details returns ImportAssetsFromS3 request details for the given keys
// (bucket "bucket").
func Details(dataSetID, revisionID string, keys ...string) json.RawMessage {
	var sources []string
	for _, k := range keys {
		sources = append(sources, fmt.Sprintf(`{"Bucket":"bucket","Key":%q}`, k))
	}
	return json.RawMessage(fmt.Sprintf(`{"ImportAssetsFromS3":{"AssetSources":[%s],"DataSetId":%q,"RevisionId":%q}}`,
		strings.Join(sources, ","), dataSetID, revisionID))
}
