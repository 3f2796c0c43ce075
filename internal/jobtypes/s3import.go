package jobtypes

import (
	"context"
	"errors"
	"fmt"

	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/s3access"
	"github.com/wharf-dev/wharf/internal/store"
)

// ImportFromS3 runs IMPORT_ASSETS_FROM_S3 jobs: each source object, read
// with the account's S3 endpoint, becomes an S3_SNAPSHOT asset named after
// its key, its bytes in the asset store under the asset's id.
//
// A run first describes every source (HeadObject), so that a job with a
// missing bucket or key, or an object over the size limit, fails before any
// byte moves and names every such source at once. It then copies the
// objects, Deps.Parallelism at a time, each with the asset store's atomic
// overwrite: a re-run after a crash writes the same keys again
// (jobs.AssetID), and a failed or cancelled run leaves only what Cleanup
// removes.
//
// Errors, in the job's Errors:
//
//   - missing buckets or keys: one RESOURCE_NOT_FOUND_EXCEPTION listing all
//     of them in Details.ImportAssetsFromS3JobErrorDetails; its ResourceType
//     is ASSET and its ResourceId the s3:// URI of the first (the asset that
//     could not be made has no id yet);
//   - sources inside the asset store: one ACCESS_DENIED_EXCEPTION, listed
//     the same way;
//   - sources S3 refuses to read, or whose endpoint can't be reached: one
//     error per cause, listed the same way, with the code of s3Failure
//     (ACCESS_DENIED_EXCEPTION for a refusal of the credentials,
//     VALIDATION_EXCEPTION for an endpoint that can't be reached, ...) and
//     a message naming the sources and what S3 (or the network) said;
//   - objects over the size limit: one SERVICE_QUOTA_EXCEEDED_EXCEPTION
//     each, LimitName "Asset size in GB", LimitValue the limit in GB;
//   - a source replaced while it was copied: VALIDATION_EXCEPTION naming it.
type ImportFromS3 struct {
	deps Deps
	runs runLog
}

var _ jobs.Runner = (*ImportFromS3)(nil)

// NewImportFromS3 returns the IMPORT_ASSETS_FROM_S3 runner.
func NewImportFromS3(deps Deps) (*ImportFromS3, error) {
	d, err := deps.withDefaults()
	if err != nil {
		return nil, err
	}
	return &ImportFromS3{deps: d}, nil
}

type importDetails struct {
	AssetSources *[]struct {
		Bucket *string
		Key    *string
	}
	DataSetId  *string
	RevisionId *string
}

type source struct{ bucket, key string }

func (s source) String() string { return s3URI(s.bucket, s.key) }

// parseImport checks what can be checked without the database and returns
// the sources.
func parseImport(job resource.Job) ([]source, error) {
	var d importDetails
	if err := decodeMember(job, &d); err != nil {
		return nil, err
	}
	if d.RevisionId == nil || job.RevisionID == "" {
		return nil, fault.Validationf("Details.ImportAssetsFromS3.RevisionId is required")
	}
	if d.AssetSources == nil {
		return nil, fault.Validationf("Details.ImportAssetsFromS3.AssetSources is required")
	}
	n := len(*d.AssetSources)
	if n == 0 {
		return nil, fault.Validationf("Details.ImportAssetsFromS3.AssetSources must list at least one source")
	}
	if n > MaxImportSources {
		e := fault.LimitExceeded(LimitImportSources, MaxImportSources)
		e.Message = fmt.Sprintf("an import job from Amazon S3 takes at most %d assets (got %d)", MaxImportSources, n)
		return nil, e
	}
	sources := make([]source, n)
	seen := make(map[source]int, n)
	for i, s := range *d.AssetSources {
		field := fmt.Sprintf("AssetSources[%d]", i)
		if err := checkBucket(field+".Bucket", s.Bucket); err != nil {
			return nil, err
		}
		if s.Key == nil {
			return nil, fault.Validationf("%s.Key is required", field)
		}
		if err := checkObjectKey(field+".Key", *s.Key); err != nil {
			return nil, err
		}
		src := source{*s.Bucket, *s.Key}
		if j, dup := seen[src]; dup {
			return nil, fault.Validationf("AssetSources[%d] and AssetSources[%d] both name %s", j, i, src)
		}
		seen[src] = i
		sources[i] = src
	}
	return sources, nil
}

// target checks that the job's account may import into its data set and
// revision.
func (r *ImportFromS3) target(ctx context.Context, q store.Queries, job resource.Job) error {
	ds, err := authorize(ctx, q, job, importing)
	if err != nil {
		return err
	}
	if ds.AssetType != resource.AssetTypeS3Snapshot {
		return fault.Validationf("data set %s holds %s assets: %s jobs import %s assets",
			ds.ID, ds.AssetType, job.Type, resource.AssetTypeS3Snapshot)
	}
	_, err = loadRevision(ctx, q, job, true)
	return err
}

// Validate implements jobs.Runner.
func (r *ImportFromS3) Validate(ctx context.Context, q store.Queries, job resource.Job) error {
	if _, err := parseImport(job); err != nil {
		return err
	}
	return r.target(ctx, q, job)
}

// Run implements jobs.Runner.
func (r *ImportFromS3) Run(ctx context.Context, job resource.Job, progress jobs.Progress) (res jobs.Result, err error) {
	rec := r.runs.begin(job)
	defer func() { r.runs.end(job, rec, err == nil && len(res.Errors) == 0) }()
	return r.run(ctx, job, progress, rec)
}

func (r *ImportFromS3) run(ctx context.Context, job resource.Job, progress jobs.Progress, rec *runRecord) (jobs.Result, error) {
	sources, err := parseImport(job)
	if err != nil {
		return jobs.Result{}, err
	}
	// The revision may have been finalized since StartJob: say so before
	// moving any byte (the engine checks again when it commits).
	if err := r.target(ctx, r.deps.Store, job); err != nil {
		return jobs.Result{}, err
	}
	ep, err := r.deps.S3.Resolve(ctx, job.AccountID)
	if err != nil {
		return jobs.Result{}, err
	}
	locs := make([]s3access.Location, len(sources))
	for i, s := range sources {
		locs[i] = s3access.Location{Endpoint: ep, Bucket: s.bucket, Key: s.key}
	}

	// Describe every source first, so that a job with a missing or
	// oversized source fails before any byte moves and names every such
	// source at once. A single source streamed into a local store needs no
	// HeadObject: its GetObject says as much, its size checked before any
	// byte is written, so that a small import is one S3 round trip.
	_, s3Store := r.deps.Assets.(*assetstore.S3)
	describe := len(sources) > 1 || s3Store
	infos := make([]s3access.ObjectInfo, len(sources))
	problems := make([]error, len(sources))
	err = forEach(ctx, len(sources), r.deps.Parallelism, func(ctx context.Context, i int) error {
		if !describe {
			return nil
		}
		if s, ok := r.deps.Assets.(*assetstore.S3); ok && s.Contains(locs[i]) {
			problems[i] = fault.AccessDeniedf("%s is inside Wharf's asset store", locs[i])
			return nil
		}
		info, err := s3access.Head(ctx, locs[i])
		switch {
		case err == nil:
			infos[i] = info
		case ctx.Err() != nil:
			return context.Cause(ctx)
		case isSourceProblem(err) || s3Caused(err):
			problems[i] = err
		default:
			return fmt.Errorf("jobtypes: head %s: %w", sources[i], err)
		}
		return nil
	})
	if err != nil {
		return jobs.Result{}, err
	}
	for i, info := range infos {
		if problems[i] == nil && info.Size > r.deps.MaxAssetSize {
			problems[i] = &tooLarge{size: info.Size}
		}
	}
	if errs := r.jobErrors(ep, sources, problems); len(errs) > 0 {
		return jobs.Result{Errors: errs}, nil
	}

	// Then copy them.
	var total int64
	for _, info := range infos {
		total += info.Size
	}
	t := newTracker(total, len(sources), progress)
	assets := make([]resource.Asset, len(sources))
	streams, tuning := r.deps.streamsIntoS3(ep, false)
	weight := func(i int) int64 {
		if !streams {
			return 0
		}
		return buffered(infos[i].Size, tuning)
	}
	err = r.deps.copyAll(ctx, len(sources), weight, func(ctx context.Context, i int) error {
		key, err := jobAssetKey(job, i)
		if err != nil {
			return err
		}
		opts := assetstore.ImportOptions{Progress: t.of(i)}
		if !describe {
			opts.MaxSize, opts.Sized = r.deps.MaxAssetSize, t.grow
		}
		info, err := assetstore.ImportWith(ctx, r.deps.Assets, locs[i], key, opts)
		rec.copied(err, false)
		if tl := (*assetstore.TooLargeError)(nil); errors.As(err, &tl) {
			err = &tooLarge{size: tl.Size}
		}
		if err == nil && info.Size > r.deps.MaxAssetSize {
			// Replaced by a larger object since it was described.
			err = &tooLarge{size: info.Size}
		}
		if err != nil {
			if ctx.Err() == nil && r.sourceProblem(err, sources[i]) {
				return &sourceError{index: i, err: err}
			}
			return fmt.Errorf("jobtypes: import %s: %w", sources[i], err)
		}
		t.set(i, info.Size)
		assets[i] = resource.Asset{
			ID:        jobs.AssetID(job.ID, i),
			Name:      sources[i].key,
			AssetType: resource.AssetTypeS3Snapshot,
			Details:   snapshotDetails(info.Size),
		}
		return nil
	})
	if ctx.Err() != nil {
		return jobs.Result{}, context.Cause(ctx)
	}
	var se *sourceError
	if errors.As(err, &se) {
		problems := make([]error, len(sources))
		problems[se.index] = se.err
		return jobs.Result{Errors: r.jobErrors(ep, sources, problems)}, nil
	}
	if err != nil {
		return jobs.Result{}, err
	}
	return jobs.Result{Assets: assets}, nil
}

// Cleanup implements jobs.Runner: it removes the objects (and incomplete
// uploads) under the asset ids of the job.
//
// After a run that ended here leaving nothing (see runLog), or for a job
// that never ran, there is nothing to remove and it does nothing.
func (r *ImportFromS3) Cleanup(ctx context.Context, job resource.Job) error {
	if r.runs.nothingToClean(job) {
		return nil
	}
	sources, err := parseImport(job)
	if err != nil {
		// It never passed Validate, so it never ran.
		return nil
	}
	return forEach(ctx, len(sources), r.deps.Parallelism, func(ctx context.Context, i int) error {
		key, err := jobAssetKey(job, i)
		if err != nil {
			return err
		}
		return retry(ctx, func() error { return assetstore.Discard(ctx, r.deps.Assets, key) })
	})
}

// tooLarge is a source over the size limit.
type tooLarge struct{ size int64 }

func (e *tooLarge) Error() string { return fmt.Sprintf("the object is %d bytes", e.size) }

// sourceError is a problem with source index found while copying.
type sourceError struct {
	index int
	err   error
}

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// sourceProblem reports whether err, the failure of a copy of s, is about
// s: what isSourceProblem and s3Failure describe, when it names s (not the
// S3 asset store's object it was copied to).
func (r *ImportFromS3) sourceProblem(err error, s source) bool {
	var tl *tooLarge
	if errors.As(err, &tl) || fault.Is(err, fault.AccessDenied) {
		return true
	}
	return names(err, s.bucket, s.key) && (isSourceProblem(err) || s3Caused(err))
}

// isSourceProblem reports whether err is about the source, for the job's
// user to fix, rather than a failure of Wharf or the network.
func isSourceProblem(err error) bool {
	var tl *tooLarge
	return s3access.IsNotFound(err) || errors.Is(err, s3access.ErrAccessDenied) ||
		errors.Is(err, s3access.ErrSourceChanged) || fault.Is(err, fault.AccessDenied) || errors.As(err, &tl)
}

// jobErrors describes the problems of the sources (nil where none).
func (r *ImportFromS3) jobErrors(ep *s3access.Endpoint, sources []source, problems []error) []jobs.JobError {
	var missing, denied, changed []source
	var errs []jobs.JobError
	// Sources S3 or the network failed, by cause, in the order first seen.
	var causes []s3Cause
	failed := map[s3Cause][]source{}
	for i, p := range problems {
		var tl *tooLarge
		switch {
		case p == nil:
		case errors.As(p, &tl):
			errs = append(errs, jobs.JobError{
				Code:         jobs.CodeServiceQuotaExceeded,
				Message:      fmt.Sprintf("%s is %d bytes (%.2f GB): over the limit of %g GB per asset", sources[i], tl.size, float64(tl.size)/gb, r.limitGB()),
				ResourceType: string(resource.KindAsset),
				ResourceID:   sources[i].String(),
				LimitName:    LimitAssetSize,
				LimitValue:   r.limitGB(),
				Details:      jobs.ImportAssetsFromS3ErrorDetails(jobs.S3Location{Bucket: sources[i].bucket, Key: sources[i].key}),
			})
		case s3access.IsNotFound(p):
			missing = append(missing, sources[i])
		case errors.Is(p, s3access.ErrSourceChanged):
			changed = append(changed, sources[i])
		case fault.As(p) != nil:
			denied = append(denied, sources[i])
		default:
			c, ok := s3CauseOf(p)
			if !ok { // not a source problem: isSourceProblem and s3Caused let none else through
				c = s3Cause{code: jobs.CodeAccessDenied, why: p.Error()}
			}
			if _, seen := failed[c]; !seen {
				causes = append(causes, c)
			}
			failed[c] = append(failed[c], sources[i])
		}
	}
	problemsOf := make(map[source]error, len(problems))
	for i, p := range problems {
		if p != nil {
			problemsOf[sources[i]] = p
		}
	}
	group := func(code string, list []source, describe func(source) string, many string) {
		if len(list) == 0 {
			return
		}
		locs := make([]jobs.S3Location, len(list))
		names := make([]string, len(list))
		for i, s := range list {
			locs[i] = jobs.S3Location{Bucket: s.bucket, Key: s.key}
			names[i] = describe(s)
		}
		msg := names[0]
		if len(list) > 1 && many != "" {
			msg = fmt.Sprintf("%d %s: %s", len(list), many, listed(names))
		}
		errs = append([]jobs.JobError{{
			Code:         code,
			Message:      msg,
			ResourceType: string(resource.KindAsset),
			ResourceID:   list[0].String(),
			Details:      jobs.ImportAssetsFromS3ErrorDetails(locs...),
		}}, errs...)
	}
	group(jobs.CodeValidation, changed, func(s source) string {
		return fmt.Sprintf("%s changed while it was copied; run the job again", s)
	}, "source objects changed while they were copied")
	for i := len(causes) - 1; i >= 0; i-- {
		c, list := causes[i], failed[causes[i]]
		uris := make([]string, len(list))
		for j, s := range list {
			uris[j] = s.String()
		}
		what := uris[0]
		if len(list) > 1 {
			what = fmt.Sprintf("%d source objects (%s)", len(list), listed(uris))
		}
		msg := c.message(ep, "read", what)
		group(c.code, list, func(source) string { return msg }, "")
	}
	group(jobs.CodeAccessDenied, denied, func(s source) string {
		return fault.As(problemsOf[s]).Message
	}, "source objects can't be read")
	group(jobs.CodeResourceNotFound, missing, func(s source) string {
		if errors.Is(problemsOf[s], s3access.ErrNoSuchBucket) {
			return fmt.Sprintf("bucket %q does not exist (source %s)", s.bucket, s)
		}
		return fmt.Sprintf("key %q does not exist in bucket %q", s.key, s.bucket)
	}, "source objects do not exist")
	return errs
}

// limitGB is the size limit in the unit of LimitAssetSize.
func (r *ImportFromS3) limitGB() float64 { return float64(r.deps.MaxAssetSize) / gb }
