package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
)

// AuditLog records every API call; store.Store is one, and so is the
// group-commit writer of package auditlog. InsertAuditRecord must return
// only once the record is durable.
type AuditLog interface {
	InsertAuditRecord(ctx context.Context, r resource.AuditRecord) error
}

// audit records the call rec is answering. It runs as the response starts
// (see recorder.beforeResponse), so that no answer goes out before its
// record is committed. If the record can't be written, the call's answer
// becomes an InternalServerException (with the cause in the log), whatever
// the handler did: a call answered with success always has its record.
func (s *server) audit(r *http.Request, rec *recorder, accessKeyID string) error {
	if s.auditLog == nil {
		return nil
	}
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	a := resource.AuditRecord{
		ID:          resource.NewOrderedID(),
		At:          resource.Now(),
		AccountID:   rec.account,
		AccessKeyID: accessKeyID,
		Operation:   rec.operation,
		ResourceARN: s.resourceARN(r, rec),
		Status:      status,
		Exception:   rec.exception,
		RequestID:   requestIDFrom(r.Context()),
	}
	err := s.auditLog.InsertAuditRecord(context.WithoutCancel(r.Context()), a)
	if err == nil {
		return nil
	}
	// Replace the response: only the request id stays of what the handler
	// set.
	h := rec.Header()
	for name := range h {
		delete(h, name)
	}
	h.Set("X-Amzn-RequestId", a.RequestID)
	rec.status, rec.body = http.StatusInternalServerError, nil
	rec.exception = fault.InternalServer
	s.writeError(rec.ResponseWriter, r, fmt.Errorf("audit: record the call (%s, status %d): %w", a.Operation, status, err))
	return err
}

// resourceARN names the resource a call acted on: the one a Create*
// response returns, else the one its path names, as the caller named it.
func (s *server) resourceARN(r *http.Request, rec *recorder) string {
	if rec.status >= 200 && rec.status < 300 && len(rec.body) > 0 {
		var out struct{ Arn string }
		if json.Unmarshal(rec.body, &out) == nil && out.Arn != "" {
			return out.Arn
		}
	}
	region, account := s.svc.Region(), rec.account
	if arn := r.PathValue("ResourceArn"); arn != "" {
		return arn
	}
	if arn := r.PathValue("DataGrantArn"); arn != "" {
		if tail := r.PathValue("DataGrantArnTail"); tail != "" {
			return arn + "/" + tail
		}
		return arn
	}
	if id := r.PathValue("DataGrantId"); id != "" {
		if strings.HasPrefix(id, "arn:") {
			return id
		}
		return resource.DataGrantARN(region, account, id)
	}
	if id := r.PathValue("JobId"); id != "" {
		return resource.JobARN(region, account, id)
	}
	ds, rev, asset := r.PathValue("DataSetId"), r.PathValue("RevisionId"), r.PathValue("AssetId")
	switch {
	case asset != "":
		return resource.AssetARN(region, account, ds, rev, asset)
	case rev != "":
		return resource.RevisionARN(region, account, ds, rev)
	case ds != "":
		return resource.DataSetARN(region, account, ds)
	}
	return ""
}

// claimedAccessKey is the access key id a request's SigV4 Authorization
// header names (whether or not it authenticated), or "".
func claimedAccessKey(r *http.Request) string {
	h := r.Header.Get("Authorization")
	i := strings.Index(h, "Credential=")
	if i < 0 {
		return r.URL.Query().Get("X-Amz-Credential")
	}
	cred := h[i+len("Credential="):]
	if j := strings.IndexAny(cred, "/, "); j >= 0 {
		cred = cred[:j]
	}
	return cred
}
