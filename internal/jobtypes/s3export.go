package jobtypes

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/s3access"
	"github.com/wharf-dev/wharf/internal/store"
)

// ExportToS3 runs EXPORT_ASSETS_TO_S3 jobs: each asset's bytes are copied
// from the asset store to its destination, with the account's S3 endpoint,
// applying the job's server-side encryption. A destination's Key defaults
// to the asset's name when the job runs.
//
// A run first checks that every destination bucket exists, so that a job
// naming a missing bucket fails before writing anything and names every
// such bucket (one RESOURCE_NOT_FOUND_EXCEPTION each, ResourceType ASSET,
// ResourceId the asset bound for it). It then copies the assets,
// Deps.Parallelism at a time; the first failure stops the others.
//
// An export writes into buckets Wharf doesn't own, so it can't take back
// what it wrote: a job that fails part-way leaves the objects it had
// finished at their destinations. Each of them is whole (S3 shows no object
// until all of it is written); a re-run overwrites them. What Cleanup
// removes is the incomplete multipart uploads at the job's destination keys
// (all of them: S3 doesn't say who started an upload).
type ExportToS3 struct {
	deps Deps
	// keys remembers, by job id, the destinations of a job that is
	// running here, their default keys filled in, for Cleanup: once a data
	// grant is deleted the assets of an entitled data set can no longer be
	// read to learn their names.
	keys sync.Map
	runs runLog
}

var _ jobs.Runner = (*ExportToS3)(nil)

// NewExportToS3 returns the EXPORT_ASSETS_TO_S3 runner.
func NewExportToS3(deps Deps) (*ExportToS3, error) {
	d, err := deps.withDefaults()
	if err != nil {
		return nil, err
	}
	return &ExportToS3{deps: d}, nil
}

type exportDetails struct {
	AssetDestinations *[]struct {
		AssetId *string
		Bucket  *string
		Key     *string
	}
	DataSetId  *string
	RevisionId *string
	Encryption *encryptionDetails
}

// encryptionDetails is ExportServerSideEncryption as a client sends it.
type encryptionDetails struct {
	Type      *string
	KmsKeyArn *string
}

// parseEncryption checks an export's Encryption (nil when absent: the
// bucket's default encryption applies). member names the Details member
// for messages.
func parseEncryption(member string, e *encryptionDetails) (s3access.Encryption, error) {
	var out s3access.Encryption
	if e == nil {
		return out, nil
	}
	switch {
	case e.Type == nil:
		return out, fault.Validationf("Details.%s.Encryption.Type is required", member)
	case *e.Type == s3access.SSEKMS && (e.KmsKeyArn == nil || *e.KmsKeyArn == ""):
		return out, fault.Validationf("Encryption.KmsKeyArn is required when Encryption.Type is %s", s3access.SSEKMS)
	case *e.Type == s3access.SSES3 && e.KmsKeyArn != nil:
		return out, fault.Validationf("Encryption.KmsKeyArn can't be given when Encryption.Type is %s", s3access.SSES3)
	case *e.Type != s3access.SSEKMS && *e.Type != s3access.SSES3:
		return out, fault.Validationf("Encryption.Type %q is not one of %s, %s", *e.Type, s3access.SSES3, s3access.SSEKMS)
	case e.KmsKeyArn != nil && len(*e.KmsKeyArn) > 2048:
		return out, fault.Validationf("Encryption.KmsKeyArn must be at most 2048 characters long")
	}
	out.Type = *e.Type
	if e.KmsKeyArn != nil {
		out.KMSKeyID = *e.KmsKeyArn
	}
	return out, nil
}

// destination is one asset to export, as the job names it.
type destination struct {
	assetID string
	bucket  string
	key     string // "" for the asset's name
}

// exportJob is what parseExport finds in a job's details.
type exportJob struct {
	destinations []destination
	encryption   s3access.Encryption
}

// parseExport checks what can be checked without the database.
func parseExport(job resource.Job) (exportJob, error) {
	var d exportDetails
	if err := decodeMember(job, &d); err != nil {
		return exportJob{}, err
	}
	if d.RevisionId == nil || job.RevisionID == "" {
		return exportJob{}, fault.Validationf("Details.ExportAssetsToS3.RevisionId is required")
	}
	if d.AssetDestinations == nil {
		return exportJob{}, fault.Validationf("Details.ExportAssetsToS3.AssetDestinations is required")
	}
	n := len(*d.AssetDestinations)
	if n == 0 {
		return exportJob{}, fault.Validationf("Details.ExportAssetsToS3.AssetDestinations must list at least one destination")
	}
	if n > MaxExportDestinations {
		e := fault.LimitExceeded(LimitExportDestinations, MaxExportDestinations)
		e.Message = fmt.Sprintf("an export job to Amazon S3 takes at most %d assets (got %d)", MaxExportDestinations, n)
		return exportJob{}, e
	}
	out := exportJob{destinations: make([]destination, n)}
	for i, dst := range *d.AssetDestinations {
		field := fmt.Sprintf("AssetDestinations[%d]", i)
		if dst.AssetId == nil {
			return exportJob{}, fault.Validationf("%s.AssetId is required", field)
		}
		if !resource.ValidID(*dst.AssetId) {
			return exportJob{}, fault.Validationf("%s.AssetId %q is not a valid id", field, *dst.AssetId)
		}
		if err := checkBucket(field+".Bucket", dst.Bucket); err != nil {
			return exportJob{}, err
		}
		out.destinations[i] = destination{assetID: *dst.AssetId, bucket: *dst.Bucket}
		if dst.Key != nil {
			if err := checkObjectKey(field+".Key", *dst.Key); err != nil {
				return exportJob{}, err
			}
			out.destinations[i].key = *dst.Key
		}
	}
	var err error
	if out.encryption, err = parseEncryption("ExportAssetsToS3", d.Encryption); err != nil {
		return exportJob{}, err
	}
	return out, nil
}

// exportItem is one copy to make.
type exportItem struct {
	asset resource.Asset
	bytes assetstore.Key
	dst   destination // key filled in
}

// plan checks that the job's account may export from the job's data set
// and revision, and finds the assets to export.
func (r *ExportToS3) plan(ctx context.Context, q store.Queries, job resource.Job, ej exportJob) ([]exportItem, error) {
	if _, err := authorize(ctx, q, job, exporting); err != nil {
		return nil, err
	}
	sc, err := jobScope(ctx, q, job)
	if err != nil {
		return nil, err
	}
	if _, err := sc.revision(ctx, q, job.RevisionID, false); err != nil {
		return nil, err
	}
	items := make([]exportItem, len(ej.destinations))
	seen := make(map[[2]string]int, len(items))
	for i, dst := range ej.destinations {
		a, err := sc.asset(ctx, q, job.RevisionID, dst.assetID)
		if err != nil {
			return nil, err
		}
		if a.AssetType != resource.AssetTypeS3Snapshot {
			return nil, fault.Validationf("asset %s is a %s asset: only %s assets can be exported to Amazon S3",
				a.ID, a.AssetType, resource.AssetTypeS3Snapshot)
		}
		if dst.key == "" {
			dst.key = a.Name
			if err := checkObjectKey(fmt.Sprintf("AssetDestinations[%d].Key (the name of asset %s)", i, a.ID), dst.key); err != nil {
				return nil, err
			}
		}
		where := [2]string{dst.bucket, dst.key}
		if j, dup := seen[where]; dup {
			return nil, fault.Validationf("AssetDestinations[%d] and AssetDestinations[%d] both write %s",
				j, i, s3URI(dst.bucket, dst.key))
		}
		seen[where] = i
		key, err := assetBytes(a)
		if err != nil {
			return nil, fmt.Errorf("jobtypes: asset %s: %w", a.ID, err)
		}
		items[i] = exportItem{asset: a, bytes: key, dst: dst}
	}
	return items, nil
}

// Validate implements jobs.Runner.
func (r *ExportToS3) Validate(ctx context.Context, q store.Queries, job resource.Job) error {
	ej, err := parseExport(job)
	if err != nil {
		return err
	}
	_, err = r.plan(ctx, q, job, ej)
	return err
}

// Run implements jobs.Runner.
func (r *ExportToS3) Run(ctx context.Context, job resource.Job, progress jobs.Progress) (res jobs.Result, err error) {
	rec := r.runs.begin(job)
	defer func() { r.runs.end(job, rec, err == nil && len(res.Errors) == 0) }()
	ej, err := parseExport(job)
	if err != nil {
		return jobs.Result{}, err
	}
	ctx, stop := r.deps.watchAccess(ctx, job)
	defer stop()
	items, err := r.plan(ctx, r.deps.Store, job, ej)
	if err != nil {
		return jobs.Result{}, err
	}
	planned := make([]destination, len(items))
	for i, it := range items {
		planned[i] = it.dst
	}
	r.keys.Store(job.ID, planned)
	res, err = r.deps.exportAll(ctx, job, items, ej.encryption, progress, rec)
	if err == nil && len(res.Errors) == 0 {
		r.keys.Delete(job.ID) // a completed job is not cleaned up
	}
	return res, err
}

// Cleanup implements jobs.Runner: it aborts the multipart uploads at the
// job's destination keys. A destination whose key defaults to the name of
// an asset deleted since has no key to clean up at. After a run that ended
// here leaving nothing (see runLog), or for a job that never ran, it does
// nothing.
func (r *ExportToS3) Cleanup(ctx context.Context, job resource.Job) error {
	if r.runs.nothingToClean(job) {
		r.keys.Delete(job.ID)
		return nil
	}
	ej, err := parseExport(job)
	if err != nil {
		return nil // it never passed Validate, so it never ran
	}
	ep, err := r.deps.S3.Resolve(ctx, job.AccountID)
	if err != nil {
		return fmt.Errorf("jobtypes: clean up export job %s: %w", job.ID, err)
	}
	if planned, ok := r.keys.LoadAndDelete(job.ID); ok {
		ej.destinations = planned.([]destination)
	}
	return forEach(ctx, len(ej.destinations), r.deps.Parallelism, func(ctx context.Context, i int) error {
		dst := ej.destinations[i]
		if dst.key == "" {
			a, err := loadAsset(ctx, r.deps.Store, job, dst.assetID)
			if fault.As(err) != nil {
				// Gone, or no longer readable (a deleted data grant):
				// the key it defaulted to is unknown now.
				return nil
			}
			if err != nil {
				return fmt.Errorf("jobtypes: clean up export job %s: get asset: %w", job.ID, err)
			}
			dst.key = a.Name
		}
		return abortUploads(ctx, s3access.Location{Endpoint: ep, Bucket: dst.bucket, Key: dst.key})
	})
}

// abortUploads aborts the incomplete multipart uploads at loc, retrying
// (clean-ups are not retried by the engine).
func abortUploads(ctx context.Context, loc s3access.Location) error {
	return retry(ctx, func() error {
		_, err := s3access.AbortUploadsAt(ctx, loc)
		if errors.Is(err, s3access.ErrNoSuchBucket) {
			return nil // nothing was ever written there
		}
		return err
	})
}

// exportAll copies items from the asset store to their S3 destinations
// with the account's endpoint, applying enc; the run of both export types.
// It first checks that every destination bucket exists, so that a job
// naming a missing bucket fails before writing anything, then copies
// Deps.Parallelism at a time; the first failure stops the others.
//
// rec learns which copies may have left something for Cleanup.
func (d Deps) exportAll(ctx context.Context, job resource.Job, items []exportItem, enc s3access.Encryption,
	progress jobs.Progress, rec *runRecord) (jobs.Result, error) {
	ep, err := d.S3.Resolve(ctx, job.AccountID)
	if err != nil {
		return jobs.Result{}, err
	}
	if errs, err := missingBuckets(ctx, ep, items); err != nil || len(errs) > 0 {
		if ctx.Err() != nil {
			return jobs.Result{}, context.Cause(ctx)
		}
		return jobs.Result{Errors: errs}, err
	}

	var total int64
	for _, it := range items {
		total += assetSize(it.asset)
	}
	t := newTracker(total, len(items), progress)
	streams, tuning := d.streamsIntoS3(ep, true)
	weight := func(i int) int64 {
		if !streams {
			return 0
		}
		return buffered(assetSize(items[i].asset), tuning)
	}
	err = d.copyAll(ctx, len(items), weight, func(ctx context.Context, i int) error {
		it := items[i]
		dst := s3access.Location{Endpoint: ep, Bucket: it.dst.bucket, Key: it.dst.key}
		res, err := assetstore.Export(ctx, d.Assets, it.bytes, dst, s3access.CopyOptions{
			Encryption: enc, Progress: t.of(i), Tuning: d.Tuning,
		})
		rec.copied(err, true)
		if err != nil {
			return &exportError{item: it, err: err}
		}
		t.set(i, res.Size)
		return nil
	})
	if ctx.Err() != nil {
		return jobs.Result{}, context.Cause(ctx)
	}
	var ee *exportError
	if errors.As(err, &ee) {
		if je, ok := d.exportJobError(job, ep, ee); ok {
			return jobs.Result{Errors: []jobs.JobError{je}}, nil
		}
		return jobs.Result{}, fmt.Errorf("jobtypes: export asset %s to %s: %w", ee.item.asset.ID,
			s3URI(ee.item.dst.bucket, ee.item.dst.key), ee.err)
	}
	if err != nil {
		return jobs.Result{}, err
	}
	// Access may have ended during the last copies.
	if err := d.checkAccess(ctx, job); err != nil {
		return jobs.Result{}, err
	}
	return jobs.Result{}, nil
}

// exportError is the failure of one item's copy.
type exportError struct {
	item exportItem
	err  error
}

func (e *exportError) Error() string { return e.err.Error() }
func (e *exportError) Unwrap() error { return e.err }

// jobError describes a copy's failure that the job's user can act on.
func (d Deps) exportJobError(job resource.Job, ep *s3access.Endpoint, ee *exportError) (jobs.JobError, bool) {
	it, err := ee.item, ee.err
	dst := s3URI(it.dst.bucket, it.dst.key)
	je := jobs.JobError{ResourceType: string(resource.KindAsset), ResourceID: it.asset.ID}
	cause, s3Failed := s3CauseOf(err)
	switch {
	case errors.Is(err, s3access.ErrNoSuchBucket):
		je.Code = jobs.CodeResourceNotFound
		je.Message = fmt.Sprintf("bucket %q does not exist (destination %s of asset %s)", it.dst.bucket, dst, it.asset.ID)
	case errors.Is(err, assetstore.ErrNotFound):
		d.Logger.Error("jobtypes: an asset's bytes are missing from the asset store",
			"job", job.ID, "asset", it.asset.ID, "key", it.bytes.String(), "store", d.Assets.String())
		je.Code = jobs.CodeResourceNotFound
		je.Message = fmt.Sprintf("the data of asset %s is missing", it.asset.ID)
	case fault.As(err) != nil:
		fe := jobs.ErrorFromFault(err)
		je.Code, je.Message = fe.Code, fe.Message
	case s3Failed && names(err, it.dst.bucket, it.dst.key):
		// The endpoint refused the write (the credentials, an unknown KMS
		// key, encryption without KMS, a bucket policy, ...), or could not
		// be reached.
		je.Code = cause.code
		je.Message = cause.message(ep, "write", dst) + " (asset " + it.asset.ID + ")"
	default:
		return jobs.JobError{}, false
	}
	return je, true
}

// missingBuckets returns a JobError for each destination bucket that does
// not exist. A bucket the endpoint won't describe (HeadBucket needs
// s3:ListBucket) is given the benefit of the doubt: its copies will tell.
func missingBuckets(ctx context.Context, ep *s3access.Endpoint, items []exportItem) ([]jobs.JobError, error) {
	var buckets []string
	first := map[string]exportItem{}
	for _, it := range items {
		if _, ok := first[it.dst.bucket]; !ok {
			first[it.dst.bucket] = it
			buckets = append(buckets, it.dst.bucket)
		}
	}
	missing := make([]bool, len(buckets))
	unreachable := make([]error, len(buckets))
	err := forEach(ctx, len(buckets), 8, func(ctx context.Context, i int) error {
		_, err := ep.Client().HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &buckets[i]})
		var re *awshttp.ResponseError
		switch {
		case errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound:
			missing[i] = true
		case err != nil && ctx.Err() == nil:
			// An endpoint that can't be reached fails the job before it
			// writes anything.
			if s3access.IsUnreachable(err) {
				unreachable[i] = err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var errs []jobs.JobError
	for i, b := range buckets {
		if unreachable[i] != nil {
			it := first[b]
			c := s3Cause{code: jobs.CodeValidation, why: s3access.Explain(unreachable[i]), unreachable: true}
			errs = append(errs, jobs.JobError{
				Code:         c.code,
				Message:      c.message(ep, "write", s3URI(b, it.dst.key)) + " (asset " + it.asset.ID + ")",
				ResourceType: string(resource.KindAsset),
				ResourceID:   it.asset.ID,
			})
			continue
		}
		if !missing[i] {
			continue
		}
		it := first[b]
		errs = append(errs, jobs.JobError{
			Code:         jobs.CodeResourceNotFound,
			Message:      fmt.Sprintf("bucket %q does not exist (destination %s of asset %s)", b, s3URI(b, it.dst.key), it.asset.ID),
			ResourceType: string(resource.KindAsset),
			ResourceID:   it.asset.ID,
		})
	}
	return errs, nil
}
