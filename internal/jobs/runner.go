package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// Runner does the work of one job type. The engine owns everything else: the
// job's states, its lease, time limit and concurrency limit, re-running it
// after a crash, and committing its result. A Runner must be safe for
// concurrent use.
type Runner interface {
	// Validate checks job.Details (the member of the job's type, as the
	// client sent it) for job.AccountID: required members, the data set and
	// revision exist and may be used this way, limits. It runs at CreateJob
	// and again at StartJob, inside the transaction that starts the job:
	// read only through q, which holds row locks there. Client-visible
	// failures are *fault.Error values.
	Validate(ctx context.Context, q store.Queries, job resource.Job) error

	// Run does the job's work, reporting bytes done and total through
	// progress (cheap; call it as often as convenient). It must return soon
	// after ctx is done (time limit, lost lease, shutdown).
	//
	// A crashed run is run again, so Run must name everything it writes
	// after the job, never at random: asset ids from AssetID(job.ID, i), so
	// that a re-run overwrites what a dead run wrote instead of adding to
	// it.
	//
	// Run returns the assets to create, which the engine commits together
	// with the COMPLETED state (all or none), or Result.Errors to end the job
	// in ERROR. An error is a failure Run could not describe: the job ends
	// in ERROR with the code matching a *fault.Error, else with
	// INTERNAL_SERVER_EXCEPTION and a generic message (the error is logged).
	Run(ctx context.Context, job resource.Job, progress Progress) (Result, error)

	// Cleanup removes what runs of the job may have left outside the
	// database and that no committed result uses: staged bytes, incomplete
	// multipart uploads, objects written under the job's asset ids. The
	// engine calls it when a run was abandoned (crash, lost lease) before
	// running the job again, before the job ends in ERROR or TIMED_OUT,
	// after CancelJob, and when retention deletes a job still WAITING;
	// never after COMPLETED. It must be idempotent. It runs while no run of
	// the job does (a run that can't renew its lease stops by the time the
	// lease expires, and could not commit anyway). Errors are logged and
	// counted, not retried: retry transient failures inside Cleanup.
	Cleanup(ctx context.Context, job resource.Job) error
}

// Preparer is an optional Runner capability, for job types whose CreateJob
// response carries members the service fills in (a presigned upload URL).
// After Validate succeeds at CreateJob, the engine stores and returns the
// ResponseDetails object Prepare returns instead of the request's.
type Preparer interface {
	Prepare(ctx context.Context, job resource.Job) (details json.RawMessage, err error)
}

// Progress reports a run's progress in bytes; total is 0 while unknown.
type Progress func(done, total int64)

// Result is the outcome of a run.
type Result struct {
	// Assets are created when the job completes. Run sets ID (from
	// AssetID), Name, AssetType, Details and, if any, SourceID; the engine
	// sets the account, data set and revision (the job's), the timestamps,
	// and the tags of the job's AssetConfiguration.
	Assets []resource.Asset
	// Errors, when not empty, end the job in ERROR; Assets are then ignored.
	Errors []JobError
	// Details, when set, replaces the job's ResponseDetails object (the
	// whole {"<Member>":{...}} object), for job types whose response
	// carries members the run fills in.
	Details json.RawMessage
	// RevisionQuota, when set, is a quota on the assets of the job's
	// revision tighter than "Assets per revision" (the 20 Redshift
	// datashare assets of a revision, for instance), checked with it when
	// the assets are committed.
	RevisionQuota *Quota
}

// Quota is a limit on a count, with the LimitName AWS gives it.
type Quota struct {
	Name  string
	Value int
}

// JobError is one entry of a job's Errors, with its wire member names.
type JobError struct {
	Code         string  `json:"Code"`
	Message      string  `json:"Message"`
	ResourceID   string  `json:"ResourceId,omitempty"`
	ResourceType string  `json:"ResourceType,omitempty"`
	LimitName    string  `json:"LimitName,omitempty"`
	LimitValue   float64 `json:"LimitValue,omitempty"`
	// Details is the JobError's Details object, e.g.
	// {"ImportAssetsFromS3JobErrorDetails":[{"Bucket":"b","Key":"k"}]}.
	Details json.RawMessage `json:"Details,omitempty"`
}

// JobError codes (Code on the wire).
const (
	CodeAccessDenied         = "ACCESS_DENIED_EXCEPTION"
	CodeInternalServer       = "INTERNAL_SERVER_EXCEPTION"
	CodeMalwareDetected      = "MALWARE_DETECTED"
	CodeResourceNotFound     = "RESOURCE_NOT_FOUND_EXCEPTION"
	CodeServiceQuotaExceeded = "SERVICE_QUOTA_EXCEEDED_EXCEPTION"
	CodeValidation           = "VALIDATION_EXCEPTION"
	CodeMalwareScanEncrypted = "MALWARE_SCAN_ENCRYPTED_FILE"
)

// internalJobErrorMessage is what a job says about a failure the client
// can't act on; the cause goes to the log.
const internalJobErrorMessage = "an internal error occurred; it has been logged"

// LimitAssetsPerRevision is the JobError LimitName of the asset quota.
const LimitAssetsPerRevision = "Assets per revision"

// DefaultAssetsPerRevision is AWS's default "Assets per revision" quota.
const DefaultAssetsPerRevision = 10000

// ErrorFromFault turns a client-visible error into the JobError a job
// reports; anything else becomes an INTERNAL_SERVER_EXCEPTION.
func ErrorFromFault(err error) JobError {
	fe := fault.As(err)
	if fe == nil {
		return JobError{Code: CodeInternalServer, Message: internalJobErrorMessage}
	}
	je := JobError{Message: fe.Message, LimitName: fe.LimitName, LimitValue: fe.LimitValue}
	switch fe.Name {
	case fault.AccessDenied:
		je.Code = CodeAccessDenied
	case fault.ResourceNotFound:
		je.Code = CodeResourceNotFound
	case fault.ServiceLimitExceeded:
		je.Code = CodeServiceQuotaExceeded
	case fault.Validation, fault.Conflict:
		je.Code = CodeValidation
	default:
		return JobError{Code: CodeInternalServer, Message: internalJobErrorMessage}
	}
	// JobErrorResourceTypes has no JOB, EVENT_ACTION or DATA_GRANT.
	switch fe.ResourceType {
	case resource.KindDataSet, resource.KindRevision, resource.KindAsset:
		je.ResourceType, je.ResourceID = string(fe.ResourceType), fe.ResourceID
	}
	return je
}

// S3Location names an object, as ImportAssetsFromS3JobErrorDetails lists them.
type S3Location struct {
	Bucket string `json:"Bucket"`
	Key    string `json:"Key"`
}

// ImportAssetsFromS3ErrorDetails is the JobError Details naming the sources
// of an IMPORT_ASSETS_FROM_S3 job that failed.
func ImportAssetsFromS3ErrorDetails(sources ...S3Location) json.RawMessage {
	b, err := json.Marshal(map[string][]S3Location{"ImportAssetsFromS3JobErrorDetails": sources})
	if err != nil {
		panic("jobs: encoding error details: " + err.Error()) // strings only
	}
	return b
}

// ImportAssetFromSignedURLErrorDetails is the JobError Details naming the
// asset of an IMPORT_ASSET_FROM_SIGNED_URL job that failed.
func ImportAssetFromSignedURLErrorDetails(assetName string) json.RawMessage {
	b, err := json.Marshal(map[string]map[string]string{
		"ImportAssetFromSignedUrlJobErrorDetails": {"AssetName": assetName},
	})
	if err != nil {
		panic("jobs: encoding error details: " + err.Error())
	}
	return b
}

// AssetID is the id of the index-th asset job jobID creates: the same on
// every run of the job, and unlike any other job's (job ids are random).
func AssetID(jobID string, index int) string {
	h := sha256.Sum256([]byte("wharf asset\x00" + jobID + "\x00" + strconv.Itoa(index)))
	return hex.EncodeToString(h[:16])
}
