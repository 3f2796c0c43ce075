// Package publish is the logic of `wharf publish`: it makes local files and
// directories, or the objects under S3 prefixes, the assets of one or more
// revisions of a data set, in as many import jobs as that takes
// (IMPORT_ASSET_FROM_SIGNED_URL for each file, IMPORT_ASSETS_FROM_S3 for
// each 100 objects), a bounded number at once, retrying what the service
// throttles. It speaks only the AWS Data Exchange API (and S3 to list
// sources), so it works against Wharf and AWS alike.
//
// A publish is idempotent: an asset already in the target revision with the
// same name and size is skipped, jobs an interrupted run left WAITING are
// cancelled and those it left IN_PROGRESS are waited for before anything
// is counted, and revisions a --new-revision run created carry a tag that
// the same publish run again finds and completes. See docs/client.md.
package publish

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/aws/smithy-go"

	"github.com/wharf-dev/wharf/internal/client"
)

// Defaults, AWS's quotas.
const (
	// DefaultJobs is how many jobs run at once: AWS's (and Wharf's default)
	// limit of concurrent import jobs of a type. The server's own limit
	// can't be read: the Data Exchange API has no call for it.
	DefaultJobs = 10
	// DefaultAssetsPerRevision is AWS's "Assets per revision" quota.
	DefaultAssetsPerRevision = 10000
	// ObjectsPerJob is the most S3 objects one IMPORT_ASSETS_FROM_S3 job
	// takes.
	ObjectsPerJob = 100
)

// TagKey marks the revisions a --new-revision run creates; its value is
// the run's fingerprint and the revision's part number, "<fp>/<n>".
const TagKey = "wharf-publish"

// Options say what to publish where.
type Options struct {
	DataSetID string
	// RevisionID names an existing revision; or NewRevision creates one
	// (and more as needed), with Comment.
	RevisionID  string
	NewRevision bool
	Comment     string
	// Finalize finalizes each revision once its assets are in, in order.
	Finalize bool
	// Jobs is the most jobs in flight [DefaultJobs].
	Jobs int
	// AssetsPerRevision is the revision quota to plan with
	// [DefaultAssetsPerRevision].
	AssetsPerRevision int
	// Sources are local files or directories, or s3://bucket[/prefix].
	Sources []string
	// S3 lists s3:// sources.
	S3 S3Lister
	// Report receives progress; nil shows none.
	Report Reporter
}

// Reporter follows a publish.
type Reporter interface {
	// Planned is called once, before the first job, with what will be done.
	Planned(Plan)
	// JobStarted is called when a job is created.
	JobStarted()
	// JobDone is called when a job has ended (or failed to run).
	JobDone(JobResult)
}

// Plan is what a publish will do.
type Plan struct {
	Assets  int   // to import
	Bytes   int64 // to import
	Skipped int   // already in place
	Jobs    int
}

// JobResult is one finished job.
type JobResult struct {
	JobID      string   `json:"JobId,omitempty"`
	Type       string   `json:"Type"`
	RevisionID string   `json:"RevisionId"`
	Assets     []string `json:"-"`
	AssetCount int      `json:"Assets"`
	Bytes      int64    `json:"Bytes"`
	State      string   `json:"State"`
	Err        error    `json:"-"`
	Error      string   `json:"Error,omitempty"`
}

// Summary is what a publish did.
type Summary struct {
	DataSetID string            `json:"DataSetId"`
	Revisions []RevisionSummary `json:"Revisions"`
	Imported  int               `json:"AssetsImported"`
	Skipped   int               `json:"AssetsSkipped"`
	Bytes     int64             `json:"BytesImported"`
	Jobs      int               `json:"Jobs"`
	// CancelledJobs are WAITING jobs an earlier run left, cancelled.
	CancelledJobs []string  `json:"CancelledJobs"`
	Seconds       float64   `json:"Seconds"`
	Failures      []Failure `json:"Failures"`
}

// RevisionSummary is one target revision.
type RevisionSummary struct {
	ID        string `json:"Id"`
	Created   bool   `json:"Created"`
	Finalized bool   `json:"Finalized"`
	Imported  int    `json:"AssetsImported"`
	Skipped   int    `json:"AssetsSkipped"`
}

// Failure is an asset that was not published, and why.
type Failure struct {
	Assets []string `json:"Assets"`
	JobID  string   `json:"JobId,omitempty"`
	Error  string   `json:"Error"`
}

// FailedError is returned when some assets were not published; the
// Summary lists them.
type FailedError struct{ N int }

func (e *FailedError) Error() string { return fmt.Sprintf("%d asset(s) were not published", e.N) }

// target is a revision being filled.
type target struct {
	id        string
	created   bool
	finalized bool
	existing  map[string]int64 // asset name -> size
	count     int              // assets in it, existing and planned
	items     []item           // to import
	skipped   int
	remaining int  // jobs not yet ended
	failed    bool // a job (or an asset in place) failed: not finalized, nor the targets after it
}

// Run publishes. The Summary is complete even when the error is not nil
// (a *FailedError when some assets failed).
func Run(ctx context.Context, c *client.Client, o Options) (*Summary, error) {
	start := time.Now()
	sum := &Summary{DataSetID: o.DataSetID, Revisions: []RevisionSummary{}, Failures: []Failure{}, CancelledJobs: []string{}}
	if o.Jobs <= 0 {
		o.Jobs = DefaultJobs
	}
	if o.AssetsPerRevision <= 0 {
		o.AssetsPerRevision = DefaultAssetsPerRevision
	}
	if (o.RevisionID == "") == !o.NewRevision {
		return sum, errors.New("give either a revision or a new revision")
	}
	if len(o.Sources) == 0 {
		return sum, errors.New("nothing to publish: give at least one source")
	}
	items, err := enumerate(ctx, o.S3, o.Sources)
	if err != nil {
		return sum, err
	}
	p := &publisher{c: c, o: o, sum: sum, watch: c.WatchJobs(o.DataSetID, 0)}
	targets, err := p.plan(ctx, items)
	if err != nil {
		return sum, err
	}
	err = p.run(ctx, targets)
	sum.Seconds = time.Since(start).Seconds()
	for _, t := range targets {
		rs := RevisionSummary{ID: t.id, Created: t.created, Finalized: t.finalized, Skipped: t.skipped}
		for _, r := range p.results {
			if r.RevisionID == t.id && r.Err == nil {
				rs.Imported += r.AssetCount
			}
		}
		sum.Revisions = append(sum.Revisions, rs)
	}
	if err != nil {
		return sum, err
	}
	if n := failedAssets(sum.Failures); n > 0 {
		return sum, &FailedError{N: n}
	}
	return sum, nil
}

func failedAssets(fs []Failure) int {
	n := 0
	for _, f := range fs {
		n += len(f.Assets)
	}
	return n
}

type publisher struct {
	c     *client.Client
	o     Options
	sum   *Summary
	watch *client.JobWatcher // follows the publish's jobs, one ListJobs for all

	mu      sync.Mutex
	results []JobResult
}

// plan settles the target revisions and what goes into each.
func (p *publisher) plan(ctx context.Context, items []item) ([]*target, error) {
	limit := p.o.AssetsPerRevision
	var targets []*target
	var fp string
	if p.o.RevisionID != "" {
		rev, err := p.c.DX.GetRevision(ctx, &dataexchange.GetRevisionInput{DataSetId: aws.String(p.o.DataSetID), RevisionId: aws.String(p.o.RevisionID)})
		if err != nil {
			return nil, err
		}
		if rev.Revoked {
			return nil, fmt.Errorf("revision %s is revoked: nothing can be published to it", p.o.RevisionID)
		}
		targets = []*target{{id: p.o.RevisionID, finalized: rev.Finalized}}
	} else {
		fp = fingerprint(p.o.DataSetID, items)
		var err error
		if targets, err = p.earlierParts(ctx, fp); err != nil {
			return nil, err
		}
	}
	// Settle what earlier runs left before counting what is in place.
	for _, t := range targets {
		if err := p.settleJobs(ctx, t.id, items); err != nil {
			return nil, err
		}
		existing, err := p.listAssets(ctx, t.id)
		if err != nil {
			return nil, err
		}
		t.existing, t.count = existing, len(existing)
	}
	var todo []item
	for _, it := range items {
		placed := false
		for _, t := range targets {
			size, ok := t.existing[it.Name]
			if !ok {
				continue
			}
			if size == it.Size {
				t.skipped++
				p.sum.Skipped++
			} else {
				t.failed = true // not finalized: the asset must be replaced first
				p.sum.Failures = append(p.sum.Failures, Failure{Assets: []string{it.Name},
					Error: fmt.Sprintf("revision %s already holds an asset %q of %d bytes, but the source (%s) has %d: delete that asset, or publish to another revision",
						t.id, it.Name, size, it.origin(), it.Size)})
			}
			placed = true
			break
		}
		if !placed {
			todo = append(todo, it)
		}
	}
	if p.o.RevisionID != "" {
		t := targets[0]
		if t.count+len(todo) > limit {
			return nil, fmt.Errorf("revision %s holds %d assets and %d more would make %d, over the limit of %d assets per revision: nothing was imported; publish with --new-revision to spread them over several revisions",
				t.id, t.count, len(todo), t.count+len(todo), limit)
		}
		if len(todo) > 0 && t.finalized {
			return nil, fmt.Errorf("revision %s is finalized and %d assets are missing from it: un-finalize it, or publish with --new-revision", t.id, len(todo))
		}
		t.items = todo
	} else {
		// Fill the earlier parts that are still open, then new ones.
		for _, t := range targets {
			if t.finalized {
				continue
			}
			n := min(limit-t.count, len(todo))
			if n > 0 {
				t.items, todo = todo[:n], todo[n:]
				t.count += n
			}
		}
		for len(todo) > 0 {
			n := min(limit, len(todo))
			t, err := p.createPart(ctx, fp, len(targets)+1)
			if err != nil {
				return nil, err
			}
			t.items, todo = todo[:n], todo[n:]
			t.count = n
			targets = append(targets, t)
		}
	}
	return targets, nil
}

// earlierParts finds the revisions an earlier run with the same
// fingerprint created, in part order; revoked ones don't count.
func (p *publisher) earlierParts(ctx context.Context, fp string) ([]*target, error) {
	type part struct {
		n int
		t *target
	}
	var parts []part
	pager := dataexchange.NewListDataSetRevisionsPaginator(p.c.DX, &dataexchange.ListDataSetRevisionsInput{DataSetId: aws.String(p.o.DataSetID)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range page.Revisions {
			if r.Revoked {
				continue
			}
			rev, err := p.c.DX.GetRevision(ctx, &dataexchange.GetRevisionInput{DataSetId: aws.String(p.o.DataSetID), RevisionId: r.Id})
			if err != nil {
				return nil, err
			}
			v, ok := strings.CutPrefix(rev.Tags[TagKey], fp+"/")
			if !ok {
				continue
			}
			n, err := strconv.Atoi(v)
			if err != nil {
				continue
			}
			parts = append(parts, part{n, &target{id: aws.ToString(r.Id), finalized: r.Finalized}})
		}
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].n < parts[j].n })
	out := make([]*target, len(parts))
	for i := range parts {
		out[i] = parts[i].t
	}
	return out, nil
}

func (p *publisher) createPart(ctx context.Context, fp string, n int) (*target, error) {
	in := &dataexchange.CreateRevisionInput{DataSetId: aws.String(p.o.DataSetID),
		Tags: map[string]string{TagKey: fp + "/" + strconv.Itoa(n)}}
	if p.o.Comment != "" {
		in.Comment = aws.String(p.o.Comment)
	}
	var out *dataexchange.CreateRevisionOutput
	err := retry(ctx, func() error {
		var err error
		out, err = p.c.DX.CreateRevision(ctx, in)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create revision %d: %w", n, err)
	}
	return &target{id: aws.ToString(out.Id), created: true, existing: map[string]int64{}}, nil
}

// settleJobs cancels the import jobs of the revision an earlier run left
// WAITING and waits for those it left IN_PROGRESS, so that the assets
// listed next are all there will be. Only imports of the publish's own
// items count: another client's jobs in the revision are left alone.
func (p *publisher) settleJobs(ctx context.Context, revisionID string, items []item) error {
	ours := importsOf(items)
	pager := dataexchange.NewListJobsPaginator(p.c.DX, &dataexchange.ListJobsInput{
		DataSetId: aws.String(p.o.DataSetID), RevisionId: aws.String(revisionID),
	})
	var running []string
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, j := range page.Jobs {
			if !ours.has(j) {
				continue
			}
			switch j.State {
			case types.StateWaiting:
				_, err := p.c.DX.CancelJob(ctx, &dataexchange.CancelJobInput{JobId: j.Id})
				var conflict *types.ConflictException
				if err != nil && !errors.As(err, &conflict) { // it started meanwhile: wait below
					return fmt.Errorf("cancel job %s left WAITING: %w", aws.ToString(j.Id), err)
				}
				if err == nil {
					p.sum.CancelledJobs = append(p.sum.CancelledJobs, aws.ToString(j.Id))
					continue
				}
				running = append(running, aws.ToString(j.Id))
			case types.StateInProgress:
				running = append(running, aws.ToString(j.Id))
			}
		}
	}
	for _, id := range running {
		var failed *client.JobFailedError
		if _, err := p.c.PollJob(ctx, id); err != nil && !errors.As(err, &failed) {
			return fmt.Errorf("wait for job %s an earlier run left: %w", id, err)
		}
	}
	return nil
}

// publishImports are what a publish of some items imports: S3 objects by
// bucket and key, local files by asset name.
type publishImports struct {
	objects map[[2]string]bool
	names   map[string]bool
}

func importsOf(items []item) publishImports {
	in := publishImports{objects: map[[2]string]bool{}, names: map[string]bool{}}
	for _, it := range items {
		if it.s3() {
			in.objects[[2]string{it.Bucket, it.Key}] = true
		} else {
			in.names[it.Name] = true
		}
	}
	return in
}

// has reports whether job is an import that this publish could have made:
// every object it imports is one of the publish's, or the asset it
// uploads is named after one of its files. Another client's imports into
// the same revision (a `wharf upload` waiting for its bytes, say) are left
// alone.
func (in publishImports) has(j types.JobEntry) bool {
	if j.Details == nil {
		return false
	}
	switch j.Type {
	case types.TypeImportAssetsFromS3:
		d := j.Details.ImportAssetsFromS3
		if d == nil || len(d.AssetSources) == 0 {
			return false
		}
		for _, src := range d.AssetSources {
			if !in.objects[[2]string{aws.ToString(src.Bucket), aws.ToString(src.Key)}] {
				return false
			}
		}
		return true
	case types.TypeImportAssetFromSignedUrl:
		d := j.Details.ImportAssetFromSignedUrl
		return d != nil && in.names[aws.ToString(d.AssetName)]
	}
	return false
}

func (p *publisher) listAssets(ctx context.Context, revisionID string) (map[string]int64, error) {
	assets, err := p.c.RevisionAssets(ctx, p.o.DataSetID, revisionID)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, a := range assets {
		var size int64
		if a.AssetDetails != nil && a.AssetDetails.S3SnapshotAsset != nil {
			size = int64(a.AssetDetails.S3SnapshotAsset.Size)
		}
		out[aws.ToString(a.Name)] = size
	}
	return out, nil
}

// job is one import job to run.
type job struct {
	t     *target
	items []item
}

// run imports every target's items, at most Jobs at once, and finalizes
// the targets in order as they complete.
func (p *publisher) run(ctx context.Context, targets []*target) error {
	var jobs []job
	var plan Plan
	for _, t := range targets {
		var batch []item
		flush := func() {
			if len(batch) > 0 {
				jobs = append(jobs, job{t: t, items: batch})
				batch = nil
			}
		}
		for _, it := range t.items {
			plan.Assets++
			plan.Bytes += it.Size
			if !it.s3() {
				jobs = append(jobs, job{t: t, items: []item{it}})
				continue
			}
			batch = append(batch, it)
			if len(batch) == ObjectsPerJob {
				flush()
			}
		}
		flush()
	}
	for _, j := range jobs {
		j.t.remaining++
	}
	plan.Skipped, plan.Jobs = p.sum.Skipped, len(jobs)
	p.sum.Jobs = len(jobs)
	if p.o.Report != nil {
		p.o.Report.Planned(plan)
	}

	fin := &finalizer{targets: targets, enabled: p.o.Finalize, finalize: func(t *target) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return p.finalize(ctx, t)
	}}
	p.mu.Lock()
	fin.advance() // targets with nothing to import
	p.mu.Unlock()

	client.Parallel(ctx, p.o.Jobs, jobs, func(j job) {
		r := p.runJob(ctx, j)
		p.mu.Lock()
		p.results = append(p.results, r)
		if r.Err != nil {
			j.t.failed = true
			if !errors.Is(r.Err, context.Canceled) {
				p.sum.Failures = append(p.sum.Failures, Failure{Assets: r.Assets, JobID: r.JobID, Error: r.Err.Error()})
			}
		} else {
			p.sum.Imported += r.AssetCount
			p.sum.Bytes += r.Bytes
		}
		j.t.remaining--
		fin.advance()
		p.mu.Unlock()
		if p.o.Report != nil {
			p.o.Report.JobDone(r)
		}
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	return fin.err
}

// finalizer finalizes targets in order as their jobs end: a target is
// finalized once all its jobs have ended and every earlier one is
// finalized. The first target with a failure (or whose finalization
// fails) stops it: neither that target nor any after it is finalized, so
// that a finalized revision is never followed by a missing part.
type finalizer struct {
	targets  []*target
	enabled  bool
	finalize func(*target) error

	next    int   // the first target not yet passed
	stopped bool  // a target with a failure was reached
	err     error // the finalization that failed
}

// advance passes the targets, from next on, whose jobs have all ended,
// finalizing them unless stopped. The caller holds the lock that guards
// the targets' counts.
func (f *finalizer) advance() {
	for f.next < len(f.targets) && f.targets[f.next].remaining == 0 {
		t := f.targets[f.next]
		if t.failed {
			f.stopped = true
		}
		if f.enabled && !f.stopped && !t.finalized {
			if err := f.finalize(t); err != nil {
				f.err, f.stopped = err, true
			}
		}
		f.next++
	}
}

func (p *publisher) finalize(ctx context.Context, t *target) error {
	err := retry(ctx, func() error {
		_, err := p.c.DX.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{
			DataSetId: aws.String(p.o.DataSetID), RevisionId: aws.String(t.id), Finalized: aws.Bool(true),
		})
		return err
	})
	if err != nil {
		return fmt.Errorf("finalize revision %s: %w", t.id, err)
	}
	t.finalized = true
	return nil
}

// runJob runs one import job to its end.
func (p *publisher) runJob(ctx context.Context, j job) JobResult {
	r := JobResult{RevisionID: j.t.id, AssetCount: len(j.items)}
	for _, it := range j.items {
		r.Assets = append(r.Assets, it.Name)
		r.Bytes += it.Size
	}
	if ctx.Err() != nil {
		r.Err, r.State = ctx.Err(), "NOT_STARTED"
		return r
	}
	if p.o.Report != nil {
		p.o.Report.JobStarted()
	}
	var (
		details types.RequestDetails
		md5sum  string
	)
	if j.items[0].s3() {
		r.Type = string(types.TypeImportAssetsFromS3)
		sources := make([]types.AssetSourceEntry, len(j.items))
		for i, it := range j.items {
			sources[i] = types.AssetSourceEntry{Bucket: aws.String(it.Bucket), Key: aws.String(it.Key)}
		}
		details.ImportAssetsFromS3 = &types.ImportAssetsFromS3RequestDetails{
			AssetSources: sources, DataSetId: aws.String(p.o.DataSetID), RevisionId: aws.String(j.t.id),
		}
	} else {
		r.Type = string(types.TypeImportAssetFromSignedUrl)
		var err error
		if md5sum, err = client.FileMD5(j.items[0].Path); err != nil {
			return r.failed(err)
		}
		details.ImportAssetFromSignedUrl = &types.ImportAssetFromSignedUrlRequestDetails{
			AssetName: aws.String(j.items[0].Name), DataSetId: aws.String(p.o.DataSetID),
			RevisionId: aws.String(j.t.id), Md5Hash: aws.String(md5sum),
		}
	}
	var created *dataexchange.CreateJobOutput
	err := retry(ctx, func() error {
		var err error
		created, err = p.c.DX.CreateJob(ctx, &dataexchange.CreateJobInput{Type: types.Type(r.Type), Details: &details})
		return err
	})
	if err != nil {
		return r.failed(fmt.Errorf("create job: %w", err))
	}
	r.JobID = aws.ToString(created.Id)
	started := false
	defer func() {
		if !started { // interrupted or failed before StartJob: leave nothing WAITING
			p.c.CancelQuietly(ctx, r.JobID)
		}
	}()
	if !j.items[0].s3() {
		d := created.Details
		if d == nil || d.ImportAssetFromSignedUrl == nil || d.ImportAssetFromSignedUrl.SignedUrl == nil {
			return r.failed(fmt.Errorf("job %s came without a signed URL", r.JobID))
		}
		it := j.items[0]
		if err := p.c.PutFile(ctx, aws.ToString(d.ImportAssetFromSignedUrl.SignedUrl), it.Path, it.Size, md5sum); err != nil {
			return r.failed(fmt.Errorf("upload %s: %w", it.Path, err))
		}
	}
	err = retry(ctx, func() error {
		_, err := p.c.DX.StartJob(ctx, &dataexchange.StartJobInput{JobId: created.Id})
		return err
	})
	if err != nil {
		return r.failed(fmt.Errorf("start job: %w", err))
	}
	started = true
	state, err := p.watch.Wait(ctx, r.JobID)
	if state != "" {
		r.State = string(state)
	}
	if err != nil {
		return r.failed(err)
	}
	return r
}

func (r JobResult) failed(err error) JobResult {
	r.Err, r.Error = err, err.Error()
	if r.State == "" {
		r.State = "FAILED"
	}
	return r
}

// retry runs op until it succeeds, fails for good, or ctx ends: throttling
// and limits on concurrent work (ThrottlingException,
// ServiceLimitExceededException naming such a limit, or none) are retried
// after 250 ms, doubling up to 15 s between attempts, for up to 5 minutes.
func retry(ctx context.Context, op func() error) error {
	wait := 250 * time.Millisecond
	deadline := time.Now().Add(5 * time.Minute)
	for {
		err := op()
		if err == nil || !retryable(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(wait*2, 15*time.Second)
	}
}

func retryable(err error) bool {
	var limit *types.ServiceLimitExceededException
	if errors.As(err, &limit) {
		name := strings.ToLower(string(limit.LimitName))
		return name == "" || strings.Contains(name, "concurrent") || strings.Contains(name, "in progress")
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded", "SlowDown":
			return true
		}
	}
	return false
}
