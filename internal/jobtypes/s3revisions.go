package jobtypes

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/s3access"
	"github.com/wharf-dev/wharf/internal/store"
)

// Limits of EXPORT_REVISIONS_TO_S3. AWS exports one revision per job (the
// RevisionDestinations list notwithstanding) and at most 10,000 assets;
// its LimitName enum names neither limit, so Wharf names them.
const (
	MaxRevisionDestinations   = 1
	MaxRevisionExportAssets   = 10000
	LimitRevisionDestinations = "Revision destinations per export job"
	LimitRevisionExportAssets = "Assets per revision export job"
)

// revisionListPage is how many assets a run reads from the store at once.
const revisionListPage = 500

// ExportRevisionsToS3 runs EXPORT_REVISIONS_TO_S3 jobs: every asset of one
// revision is copied to the destination bucket, under the key its
// KeyPattern resolves to (default ${Asset.Name}), with the job's
// server-side encryption. Event actions create these jobs too, with
// EventActionArn in their Details.
//
// CreateJob and StartJob check the details, the data set and revision
// (owned, not revoked) and the asset count. A run lists the revision's
// assets page by page and resolves every key before writing anything: two
// assets that resolve to one key, a key S3 can't take, or an asset that is
// not an S3_SNAPSHOT end the job in ERROR with nothing written. The copies
// are EXPORT_ASSETS_TO_S3's (Deps.exportAll), with its guarantees: objects
// finished before a failure stay; Cleanup aborts the multipart uploads at
// the job's keys.
type ExportRevisionsToS3 struct {
	deps Deps
	// keys remembers, by job id, the items of a job running here, for
	// Cleanup: once a data grant is deleted, an entitled data set's
	// revision can no longer be listed to find them (see ExportToS3.keys).
	keys sync.Map
	runs runLog
}

var (
	_ jobs.Runner   = (*ExportRevisionsToS3)(nil)
	_ jobs.Preparer = (*ExportRevisionsToS3)(nil)
)

// maxAssets is the most assets one job exports.
func (r *ExportRevisionsToS3) maxAssets() int {
	if r.deps.MaxRevisionExportAssets > 0 {
		return r.deps.MaxRevisionExportAssets
	}
	return MaxRevisionExportAssets
}

type revisionExportDetails struct {
	DataSetId            *string
	Encryption           *encryptionDetails
	RevisionDestinations *[]struct {
		Bucket     *string
		KeyPattern *string
		RevisionId *string
	}
	// EventActionArn is set on the jobs event actions create (only:
	// Prepare drops a client's).
	EventActionArn *string
}

// revisionExport is what parseRevisionExport finds in a job's details.
type revisionExport struct {
	bucket     string
	pattern    keyPattern
	encryption s3access.Encryption
}

const revisionExportMember = "ExportRevisionsToS3"

// parseRevisionExport checks what can be checked without the database.
func parseRevisionExport(job resource.Job) (revisionExport, error) {
	var d revisionExportDetails
	if err := decodeMember(job, &d); err != nil {
		return revisionExport{}, err
	}
	if d.RevisionDestinations == nil {
		return revisionExport{}, fault.Validationf("Details.%s.RevisionDestinations is required", revisionExportMember)
	}
	n := len(*d.RevisionDestinations)
	if n == 0 {
		return revisionExport{}, fault.Validationf("Details.%s.RevisionDestinations must list one destination", revisionExportMember)
	}
	if n > MaxRevisionDestinations {
		e := fault.LimitExceeded(LimitRevisionDestinations, MaxRevisionDestinations)
		e.Message = fmt.Sprintf("an EXPORT_REVISIONS_TO_S3 job exports one revision to one destination (got %d destinations)", n)
		return revisionExport{}, e
	}
	dst := (*d.RevisionDestinations)[0]
	if dst.RevisionId == nil || job.RevisionID == "" {
		return revisionExport{}, fault.Validationf("RevisionDestinations[0].RevisionId is required")
	}
	if err := checkBucket("RevisionDestinations[0].Bucket", dst.Bucket); err != nil {
		return revisionExport{}, err
	}
	pattern := DefaultKeyPattern
	if dst.KeyPattern != nil {
		pattern = *dst.KeyPattern
	}
	kp, err := parseKeyPattern("RevisionDestinations[0].KeyPattern", pattern)
	if err != nil {
		return revisionExport{}, err
	}
	enc, err := parseEncryption(revisionExportMember, d.Encryption)
	if err != nil {
		return revisionExport{}, err
	}
	return revisionExport{bucket: *dst.Bucket, pattern: kp, encryption: enc}, nil
}

// check checks that the job's account may export the job's revision and
// that it holds 1 to MaxRevisionExportAssets assets, returning the data set
// and revision.
func (r *ExportRevisionsToS3) check(ctx context.Context, q store.Queries, job resource.Job) (resource.DataSet, resource.Revision, error) {
	ds, err := authorize(ctx, q, job, exporting)
	if err != nil {
		return ds, resource.Revision{}, err
	}
	rev, err := loadRevision(ctx, q, job, false)
	if err != nil {
		return ds, rev, err
	}
	sc, err := jobScope(ctx, q, job)
	if err != nil {
		return ds, rev, err
	}
	n, err := q.CountAssets(ctx, sc.account, sc.dataSetID, job.RevisionID)
	if err != nil {
		return ds, rev, fmt.Errorf("jobtypes: count assets: %w", err)
	}
	switch {
	case n == 0:
		return ds, rev, fault.Validationf("revision %s has no assets to export", rev.ID)
	case n > r.maxAssets():
		e := fault.LimitExceeded(LimitRevisionExportAssets, float64(r.maxAssets()))
		e.Message = fmt.Sprintf("an EXPORT_REVISIONS_TO_S3 job exports at most %d assets; revision %s has %d",
			r.maxAssets(), rev.ID, n)
		return ds, rev, e
	}
	return ds, rev, nil
}

// Validate implements jobs.Runner.
func (r *ExportRevisionsToS3) Validate(ctx context.Context, q store.Queries, job resource.Job) error {
	if _, err := parseRevisionExport(job); err != nil {
		return err
	}
	_, _, err := r.check(ctx, q, job)
	return err
}

// plan lists the revision's assets and resolves each one's key. A problem
// with one asset (two keys alike, a key S3 can't take, an asset that is
// not an S3_SNAPSHOT) is returned as the JobError to end the job with.
func (r *ExportRevisionsToS3) plan(ctx context.Context, job resource.Job, re revisionExport) ([]exportItem, *jobs.JobError, error) {
	ds, rev, err := r.check(ctx, r.deps.Store, job)
	if err != nil {
		return nil, nil, err
	}
	sc, err := jobScope(ctx, r.deps.Store, job)
	if err != nil {
		return nil, nil, err
	}
	var items []exportItem
	owner := map[string]string{} // key -> the asset that resolves to it
	req := store.PageRequest{Limit: revisionListPage}
	for {
		page, err := r.deps.Store.ListAssets(ctx, sc.account, sc.dataSetID, job.RevisionID, req)
		if err != nil {
			return nil, nil, fmt.Errorf("jobtypes: list assets: %w", err)
		}
		for _, a := range page.Items {
			assetErr := func(format string, args ...any) *jobs.JobError {
				return &jobs.JobError{Code: jobs.CodeValidation, Message: fmt.Sprintf(format, args...),
					ResourceType: string(resource.KindAsset), ResourceID: a.ID}
			}
			if a.AssetType != resource.AssetTypeS3Snapshot {
				return nil, assetErr("asset %s is a %s asset: only %s assets can be exported to Amazon S3",
					a.ID, a.AssetType, resource.AssetTypeS3Snapshot), nil
			}
			key := re.pattern.resolve(ds, rev, a)
			if err := checkObjectKey("key", key); err != nil {
				return nil, assetErr("the KeyPattern gives asset %s the key %q, which S3 can't take: %s",
					a.ID, key, fault.As(err).Message), nil
			}
			if other, dup := owner[key]; dup {
				return nil, assetErr("assets %s and %s both resolve to %s: the KeyPattern must give each asset its own key "+
					"(${Asset.Id} always does)", other, a.ID, s3URI(re.bucket, key)), nil
			}
			owner[key] = a.ID
			bytes, err := assetBytes(a)
			if err != nil {
				return nil, nil, fmt.Errorf("jobtypes: asset %s: %w", a.ID, err)
			}
			items = append(items, exportItem{asset: a, bytes: bytes, dst: destination{assetID: a.ID, bucket: re.bucket, key: key}})
		}
		if page.Next == nil {
			break
		}
		req.After = page.Next
		if len(items) > r.maxAssets() {
			break // check counted fewer; the assets changed since
		}
	}
	if len(items) > r.maxAssets() {
		e := fault.LimitExceeded(LimitRevisionExportAssets, float64(r.maxAssets()))
		e.Message = fmt.Sprintf("an EXPORT_REVISIONS_TO_S3 job exports at most %d assets; revision %s has more", r.maxAssets(), job.RevisionID)
		return nil, nil, e
	}
	return items, nil, nil
}

// Prepare implements jobs.Preparer: it drops EventActionArn from a
// CreateJob request. The member is AWS's ResponseDetails' only (set on the
// jobs event actions start), not a request member, so like any unknown
// member it is ignored: a client can't make its job look started by an
// event action.
func (r *ExportRevisionsToS3) Prepare(_ context.Context, job resource.Job) (json.RawMessage, error) {
	body, err := jobs.MemberDetails(job)
	if err != nil {
		return nil, err
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		return nil, fmt.Errorf("jobtypes: revision export details: %w", err)
	}
	if _, ok := members["EventActionArn"]; !ok {
		return job.Details, nil
	}
	delete(members, "EventActionArn")
	return json.Marshal(map[string]any{revisionExportMember: members})
}

// Run implements jobs.Runner.
func (r *ExportRevisionsToS3) Run(ctx context.Context, job resource.Job, progress jobs.Progress) (res jobs.Result, err error) {
	rec := r.runs.begin(job)
	defer func() { r.runs.end(job, rec, err == nil && len(res.Errors) == 0) }()
	re, err := parseRevisionExport(job)
	if err != nil {
		return jobs.Result{}, err
	}
	ctx, stop := r.deps.watchAccess(ctx, job)
	defer stop()
	items, jobErr, err := r.plan(ctx, job, re)
	if err != nil {
		return jobs.Result{}, err
	}
	if jobErr != nil {
		return jobs.Result{Errors: []jobs.JobError{*jobErr}}, nil
	}
	r.keys.Store(job.ID, items)
	res, err = r.deps.exportAll(ctx, job, items, re.encryption, progress, rec)
	if err == nil && len(res.Errors) == 0 {
		r.keys.Delete(job.ID) // a completed job is not cleaned up
	}
	return res, err
}

// Cleanup implements jobs.Runner: it aborts the multipart uploads at the
// keys the revision's assets resolve to (all of them: S3 doesn't say who
// started an upload). A revision gone since, or whose keys no longer
// resolve, has nothing to clean up that can be found.
//
// After a run that ended here leaving nothing (see runLog), or for a job
// that never ran, it does nothing.
func (r *ExportRevisionsToS3) Cleanup(ctx context.Context, job resource.Job) error {
	if r.runs.nothingToClean(job) {
		r.keys.Delete(job.ID)
		return nil
	}
	re, err := parseRevisionExport(job)
	if err != nil {
		return nil // it never passed Validate, so it never ran
	}
	var items []exportItem
	if planned, ok := r.keys.LoadAndDelete(job.ID); ok {
		items = planned.([]exportItem)
	} else {
		var jobErr *jobs.JobError
		items, jobErr, err = r.plan(ctx, job, re)
		if fault.As(err) != nil || jobErr != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("jobtypes: clean up revision export job %s: %w", job.ID, err)
		}
	}
	ep, err := r.deps.S3.Resolve(ctx, job.AccountID)
	if err != nil {
		return fmt.Errorf("jobtypes: clean up revision export job %s: %w", job.ID, err)
	}
	return forEach(ctx, len(items), r.deps.Parallelism, func(ctx context.Context, i int) error {
		return abortUploads(ctx, s3access.Location{Endpoint: ep, Bucket: items[i].dst.bucket, Key: items[i].dst.key})
	})
}

// CheckAutoExportAction checks an event action's
// Action.ExportRevisionToS3 as the EXPORT_REVISIONS_TO_S3 jobs it starts
// will: the bucket's name, the KeyPattern (nil for
// DefaultAutoExportKeyPattern) and the Encryption (encType nil for none).
func CheckAutoExportAction(bucket, keyPattern, encType, kmsKeyArn *string) error {
	const member = "Action.ExportRevisionToS3"
	if err := checkBucket(member+".RevisionDestination.Bucket", bucket); err != nil {
		return err
	}
	if keyPattern != nil {
		if _, err := parseKeyPattern(member+".RevisionDestination.KeyPattern", *keyPattern); err != nil {
			return err
		}
	}
	if encType != nil || kmsKeyArn != nil {
		if _, err := parseEncryption(member, &encryptionDetails{Type: encType, KmsKeyArn: kmsKeyArn}); err != nil {
			return err
		}
	}
	return nil
}
