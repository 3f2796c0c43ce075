package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"

	"github.com/wharf-dev/wharf/internal/resource"
)

// AuditLog records every API call; store.Store is one.
type AuditLog interface {
	InsertAuditRecord(ctx context.Context, r resource.AuditRecord) error
}

// audit records the call rec answered. A failure to record is logged: the
// client has its answer already.
func (s *server) audit(r *http.Request, rec *recorder, accessKeyID string) {
	if s.auditLog == nil {
		return
	}
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	a := resource.AuditRecord{
		ID:          resource.NewID(),
		At:          resource.Now(),
		AccountID:   rec.account,
		AccessKeyID: accessKeyID,
		Operation:   rec.operation,
		ResourceARN: s.resourceARN(r, rec),
		Status:      status,
		Exception:   rec.exception,
		RequestID:   requestIDFrom(r.Context()),
	}
	if err := s.auditLog.InsertAuditRecord(context.WithoutCancel(r.Context()), a); err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "audit: record a call",
			slog.String("request_id", a.RequestID), slog.String("operation", a.Operation), slog.String("error", err.Error()))
	}
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
