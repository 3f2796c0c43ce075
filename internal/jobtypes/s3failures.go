package jobtypes

import (
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/s3access"
)

// What a job reports about a failure of S3 or of the network on one of its
// own locations (a source an import reads, a destination an export writes;
// not the asset store, which is Wharf's own), as docs/jobs.md lists it:
//
//   - the endpoint refused the credentials or the operation (any 403:
//     AccessDenied, SignatureDoesNotMatch, InvalidAccessKeyId, ...):
//     ACCESS_DENIED_EXCEPTION;
//   - the bucket or the key does not exist (NoSuchBucket, NoSuchKey, any
//     404): RESOURCE_NOT_FOUND_EXCEPTION;
//   - any other answer (4xx: a KMS key S3 does not know, a bucket policy;
//     501 NotImplemented: a feature the endpoint lacks, such as encryption
//     on a server without KMS; 5xx after the SDK's retries), and an
//     endpoint that could not be reached: VALIDATION_EXCEPTION.
//
// The message names the location, and S3's error code and message (or the
// endpoint that could not be reached and what the network said).
// INTERNAL_SERVER_EXCEPTION stays for Wharf's own faults, whose cause goes
// to the log.

// s3Cause is what caused a failure of S3 or of the network.
type s3Cause struct {
	code        string // the JobError code
	why         string // S3's answer, or what the network said
	unreachable bool   // the endpoint could not be reached
}

// s3CauseOf returns the cause of err when S3 or the network caused it.
func s3CauseOf(err error) (s3Cause, bool) {
	var oe *s3access.ObjectError
	if !errors.As(err, &oe) {
		return s3Cause{}, false
	}
	if errors.Is(err, s3access.ErrUnreachable) {
		return s3Cause{code: jobs.CodeValidation, why: s3access.Explain(err), unreachable: true}, true
	}
	a, ok := s3access.AnswerOf(err)
	if !ok {
		return s3Cause{}, false
	}
	c := s3Cause{code: jobs.CodeValidation, why: a.String()}
	switch {
	case errors.Is(err, s3access.ErrAccessDenied) || a.Status == http.StatusForbidden:
		c.code = jobs.CodeAccessDenied
	case s3access.IsNotFound(err) || a.Status == http.StatusNotFound:
		c.code = jobs.CodeResourceNotFound
	}
	return c, true
}

// message says that a request to action ("read", "write") what (S3 URIs)
// on the endpoint ep failed, and why.
func (c s3Cause) message(ep *s3access.Endpoint, action, what string) string {
	if c.unreachable {
		return fmt.Sprintf("the S3 endpoint %s could not be reached to %s %s: %s", endpointName(ep), action, what, c.why)
	}
	return fmt.Sprintf("S3 refused to %s %s: %s", action, what, c.why)
}

// s3Caused reports whether S3 or the network caused err.
func s3Caused(err error) bool {
	_, ok := s3CauseOf(err)
	return ok
}

// endpointName names an endpoint in messages.
func endpointName(ep *s3access.Endpoint) string {
	switch {
	case ep == nil:
		return "(unknown)"
	case ep.URL() != "":
		return ep.URL()
	default:
		return "of AWS in " + ep.Region()
	}
}

// names reports whether err is an *s3access.ObjectError about the object
// key in bucket.
func names(err error, bucket, key string) bool {
	var oe *s3access.ObjectError
	return errors.As(err, &oe) && oe.Bucket == bucket && oe.Key == key
}

// runLog remembers, for a runner's Cleanup, the runs of this process that
// ended leaving nothing behind, so that cleaning up after them does nothing
// (and can't fail: an export whose endpoint could not be reached has
// nothing there to remove, and no way to list it). A run leaves something
// when a copy of it wrote an object a failed job does not keep, or failed
// without aborting its multipart upload (s3access.ErrUploadLeft); a copy
// that fails otherwise leaves nothing (s3access and the asset stores undo
// their own failed writes). Runs are told apart by job id and attempt; a
// run that died with its process is in no log, and its Cleanup does all of
// its work.
type runLog struct{ runs sync.Map } // runKey -> *runRecord

type runKey struct {
	job     string
	attempt int
}

type runRecord struct {
	mu       sync.Mutex
	ended    bool
	leftover bool
}

// begin records the start of job's run; the run calls end when it returns.
func (l *runLog) begin(job resource.Job) *runRecord {
	rec := &runRecord{}
	l.runs.Store(runKey{job.ID, job.Attempts}, rec)
	return rec
}

// left records that the run may have left something for Cleanup.
func (r *runRecord) left() {
	r.mu.Lock()
	r.leftover = true
	r.mu.Unlock()
}

// copied records the outcome of one copy: kept says whether a finished copy
// stays when the job fails (an export's objects do; an import's asset
// bytes do not).
func (r *runRecord) copied(err error, kept bool) {
	if err == nil && !kept || errors.Is(err, s3access.ErrUploadLeft) {
		r.left()
	}
}

// end records that the run returned; completed runs are forgotten (a
// completed job is not cleaned up, and one whose commit is refused is
// cleaned up in full).
func (l *runLog) end(job resource.Job, r *runRecord, completed bool) {
	if completed {
		l.runs.Delete(runKey{job.ID, job.Attempts})
		return
	}
	r.mu.Lock()
	r.ended = true
	r.mu.Unlock()
}

// nothingToClean reports whether job's runs can have left nothing: it never
// ran (CancelJob, or retention, on a WAITING job), or the run Cleanup
// follows ended in this process leaving nothing. It forgets the run.
func (l *runLog) nothingToClean(job resource.Job) bool {
	if job.StartedAt == nil {
		return true
	}
	v, ok := l.runs.LoadAndDelete(runKey{job.ID, job.Attempts})
	if !ok {
		return false
	}
	r := v.(*runRecord)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ended && !r.leftover
}
