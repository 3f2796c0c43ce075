// Package api serves the AWS Data Exchange API (restJson1) over HTTP: it
// routes requests, authenticates them, turns wire shapes into calls on
// package exchange and the results (or AWS-shaped errors) back into JSON.
//
// Layout: this file routes and wraps every request; one file per resource
// holds its operations (datasets.go, revisions.go, assets.go, tags.go,
// jobs.go, grants.go);
// shapes.go has the wire structs, body.go reads and decodes request bodies
// and errors.go writes the error responses.
package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/google/uuid"

	"github.com/wharf-dev/wharf/internal/apiasset"
	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/eventactions"
	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/signedurl"
)

// Authenticator identifies the caller of a request. A failure is a
// *fault.Error (UnrecognizedClientException, InvalidSignatureException, ...)
// sent to the client as is; any other error is reported as an internal error.
type Authenticator interface {
	Authenticate(*http.Request) (auth.Principal, error)
}

// Config is what the API needs.
type Config struct {
	Service       *exchange.Service
	Authenticator Authenticator
	// Jobs serves the job operations; nil leaves them out (they answer
	// UnknownOperationException).
	Jobs *jobs.Service
	// EventActions serves the event action operations; nil leaves them out.
	EventActions *eventactions.Service
	// Metrics, when set, is served at GET /metrics without authentication
	// (like /healthz), for Prometheus.
	Metrics http.Handler
	// Logger receives the access log and the causes of internal errors;
	// nil means slog.Default().
	Logger *slog.Logger
	// Region must be the Service's region (the one its ARNs carry); empty
	// means the Service's.
	Region string
	// Ready reports whether the server can serve (for /readyz); nil means
	// always ready.
	Ready func(context.Context) error
	// Audit, when set, records every API call (audit.go).
	Audit AuditLog
	// SignedURLs, when set, serves the signed URLs of the local asset
	// store under signedurl.PathPrefix, without SigV4: the URL's own
	// signature authorizes the request.
	SignedURLs http.Handler
	// Sessions, when set, serves the console's session operations at
	// /console/api/session (sessions.go).
	Sessions Sessions
	// Console, when set, serves the web console under /console/ (package
	// console); /console redirects there.
	Console http.Handler
	// APIAssets forwards SendApiAsset requests; nil means a Forwarder
	// with no configured endpoints (every API at API Gateway's address).
	APIAssets *apiasset.Forwarder
	// AssetDetails, when set, returns an asset's AssetDetails as
	// GetAsset, UpdateAsset and ListRevisionAssets return them, with the
	// members signed at each read (ApiSpecificationDownloadUrl);
	// jobtypes.AssetURLs.Details is one.
	AssetDetails func(ctx context.Context, a resource.Asset) (json.RawMessage, error)
	// BodyReadTimeout is how long an operation's request body may take to
	// arrive; 0 means DefaultBodyReadTimeout. Signed URLs keep their own
	// (package signedurl).
	BodyReadTimeout time.Duration
}

type server struct {
	svc          *exchange.Service
	jobs         *jobs.Service
	eventActions *eventactions.Service
	authn        Authenticator
	log          *slog.Logger
	ready        func(context.Context) error

	apiAssets    *apiasset.Forwarder
	assetDetails func(context.Context, resource.Asset) (json.RawMessage, error)
	auditLog     AuditLog
	sessions     Sessions
	bodyTimeout  time.Duration
}

// New returns the API's HTTP handler. It panics on an incomplete Config, a
// programming error.
func New(cfg Config) http.Handler {
	if cfg.Service == nil || cfg.Authenticator == nil {
		panic("api: Config needs a Service and an Authenticator")
	}
	if cfg.Region != "" && cfg.Region != cfg.Service.Region() {
		panic(fmt.Sprintf("api: Config.Region %q differs from the Service's region %q", cfg.Region, cfg.Service.Region()))
	}
	if cfg.Jobs != nil && cfg.Jobs.Region() != cfg.Service.Region() {
		panic(fmt.Sprintf("api: the jobs' region %q differs from the Service's region %q", cfg.Jobs.Region(), cfg.Service.Region()))
	}
	s := &server{svc: cfg.Service, jobs: cfg.Jobs, eventActions: cfg.EventActions, authn: cfg.Authenticator, log: cfg.Logger, ready: cfg.Ready, apiAssets: cfg.APIAssets, assetDetails: cfg.AssetDetails, auditLog: cfg.Audit, sessions: cfg.Sessions,
		bodyTimeout: bodyReadTimeout(cfg.BodyReadTimeout)}
	if s.apiAssets == nil {
		s.apiAssets = &apiasset.Forwarder{}
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	if cfg.Metrics != nil {
		mux.Handle("GET /metrics", cfg.Metrics)
	}
	if cfg.Console != nil {
		mux.Handle("/console/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if rec, ok := w.(*recorder); ok {
				rec.operation = "Console"
			}
			cfg.Console.ServeHTTP(w, r)
		}))
		mux.Handle("GET /console", http.RedirectHandler("/console/", http.StatusMovedPermanently))
	}
	if s.sessions != nil {
		noStore := func(h http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "no-store") // the response carries credentials
				h.ServeHTTP(w, r)
			})
		}
		mux.Handle("POST "+sessionPath, noStore(s.operation("CreateConsoleSession", s.createConsoleSession)))
		mux.Handle("DELETE "+sessionPath, noStore(s.operation("DeleteConsoleSession", s.deleteConsoleSession)))
	}
	if cfg.Console != nil || s.sessions != nil {
		// The console's API paths are API paths: what no operation takes
		// is an UnknownOperationException, never the console's page.
		mux.Handle("/console/api/", s.operation("", func(r *http.Request, _ string) (int, any, error) {
			return 0, nil, fault.New(fault.UnknownOperation, "no operation matches %s %s", r.Method, r.URL.EscapedPath())
		}))
	}
	if cfg.SignedURLs != nil {
		mux.Handle(signedurl.PathPrefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if rec, ok := w.(*recorder); ok {
				rec.operation = "SignedUrl"
			}
			cfg.SignedURLs.ServeHTTP(w, r)
		}))
	}

	const (
		dataSets  = "/v1/data-sets"
		dataSet   = dataSets + "/{DataSetId}"
		revisions = dataSet + "/revisions"
		revision  = revisions + "/{RevisionId}"
		assets    = revision + "/assets"
		asset     = assets + "/{AssetId}"
		// The ARN arrives percent-encoded as one segment (%3A, %2F); the
		// trailing wildcard also takes it from clients that leave its
		// slashes unescaped. PathValue returns it unescaped either way.
		tags = "/tags/{ResourceArn...}"
		// Data grants (grants.go): a DataGrantId may be an ARN, like
		// ResourceArn above.
		grants          = "/v1/data-grants"
		grant           = grants + "/{DataGrantId...}"
		receivedGrants  = "/v1/received-data-grants"
		jobList         = "/v1/jobs"
		job             = jobList + "/{JobId}"
		eventActionList = "/v1/event-actions"
		eventAction     = eventActionList + "/{EventActionId}"
	)
	routes := []struct {
		pattern, operation string
		handle             operationFunc
	}{
		{"POST " + dataSets, "CreateDataSet", s.createDataSet},
		{"GET " + dataSets, "ListDataSets", s.listDataSets},
		{"GET " + dataSet, "GetDataSet", s.getDataSet},
		{"PATCH " + dataSet, "UpdateDataSet", s.updateDataSet},
		{"DELETE " + dataSet, "DeleteDataSet", s.deleteDataSet},

		{"POST " + revisions, "CreateRevision", s.createRevision},
		{"GET " + revisions, "ListDataSetRevisions", s.listDataSetRevisions},
		{"GET " + revision, "GetRevision", s.getRevision},
		{"PATCH " + revision, "UpdateRevision", s.updateRevision},
		{"DELETE " + revision, "DeleteRevision", s.deleteRevision},
		{"POST " + revision + "/revoke", "RevokeRevision", s.revokeRevision},

		{"GET " + assets, "ListRevisionAssets", s.listRevisionAssets},
		{"GET " + asset, "GetAsset", s.getAsset},
		{"PATCH " + asset, "UpdateAsset", s.updateAsset},
		{"DELETE " + asset, "DeleteAsset", s.deleteAsset},

		{"POST " + tags, "TagResource", s.tagResource},
		{"DELETE " + tags, "UntagResource", s.untagResource},
		{"GET " + tags, "ListTagsForResource", s.listTagsForResource},

		{"POST " + grants, "CreateDataGrant", s.createDataGrant},
		{"GET " + grants, "ListDataGrants", s.listDataGrants},
		{"GET " + grant, "GetDataGrant", s.getDataGrant},
		{"DELETE " + grant, "DeleteDataGrant", s.deleteDataGrant},
		{"POST " + grants + "/{DataGrantArn}/accept", "AcceptDataGrant", s.acceptDataGrant},
		{"POST " + grants + "/{DataGrantArn}/{DataGrantArnTail}/accept", "AcceptDataGrant", s.acceptDataGrant},
		{"POST " + dataSet + "/notification", "SendDataSetNotification", s.sendDataSetNotification},
		{"GET " + receivedGrants, "ListReceivedDataGrants", s.listReceivedDataGrants},
		{"GET " + receivedGrants + "/{DataGrantArn}", "GetReceivedDataGrant", s.getReceivedDataGrant},
		{"GET " + receivedGrants + "/{DataGrantArn}/{DataGrantArnTail}", "GetReceivedDataGrant", s.getReceivedDataGrant},

		{"POST /v1", "SendApiAsset", s.sendApiAsset},
	}
	if s.jobs != nil {
		routes = append(routes, []struct {
			pattern, operation string
			handle             operationFunc
		}{
			{"POST " + jobList, "CreateJob", s.createJob},
			{"GET " + jobList, "ListJobs", s.listJobs},
			{"GET " + job, "GetJob", s.getJob},
			{"PATCH " + job, "StartJob", s.startJob},
			{"DELETE " + job, "CancelJob", s.cancelJob},
		}...)
	}
	if s.eventActions != nil {
		routes = append(routes, []struct {
			pattern, operation string
			handle             operationFunc
		}{
			{"POST " + eventActionList, "CreateEventAction", s.createEventAction},
			{"GET " + eventActionList, "ListEventActions", s.listEventActions},
			{"GET " + eventAction, "GetEventAction", s.getEventAction},
			{"PATCH " + eventAction, "UpdateEventAction", s.updateEventAction},
			{"DELETE " + eventAction, "DeleteEventAction", s.deleteEventAction},
		}...)
	}
	for _, rt := range routes {
		mux.Handle(rt.pattern, s.operation(rt.operation, rt.handle))
	}
	// "/" matches every method and path no route above takes, so an unknown
	// method on a known path lands here too (rather than ServeMux's 405).
	// It also takes SendApiAsset's direct form (any verb on /v1/<path>).
	unknown := s.operation("", func(r *http.Request, _ string) (int, any, error) {
		return 0, nil, fault.New(fault.UnknownOperation, "no operation matches %s %s", r.Method, r.URL.EscapedPath())
	})
	direct := s.operation("SendApiAsset", s.sendApiAsset)
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isDirectSendApiAsset(r) {
			direct.ServeHTTP(w, r)
			return
		}
		unknown.ServeHTTP(w, r)
	}))
	return s.withRequestLog(mux)
}

// operationFunc runs one operation for the authenticated account and returns
// the success status and the body to encode (nil for none).
type operationFunc func(r *http.Request, account string) (status int, body any, err error)

// operation reads the request body (readBody), authenticates the request,
// then runs handle and writes its result.
func (s *server) operation(name string, handle operationFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec, ok := w.(*recorder)
		if !ok {
			rec = &recorder{ResponseWriter: w}
		}
		rec.operation = name
		// The call's audit record is written, and committed, when the
		// response starts (recorder.WriteHeader), before any byte of it
		// goes out.
		var accessKeyID string
		rec.beforeResponse = func() error { return s.audit(r, rec, accessKeyID) }
		if err := s.readBody(rec, r, name); err != nil {
			accessKeyID = claimedAccessKey(r)
			s.writeError(rec, r, err)
			return
		}
		p, err := s.authn.Authenticate(r)
		if err != nil {
			accessKeyID = claimedAccessKey(r)
			s.writeError(rec, r, err)
			return
		}
		accessKeyID = p.AccessKeyID
		rec.account = p.AccountID
		r = r.WithContext(auth.WithPrincipal(r.Context(), p))
		status, body, err := handle(r, p.AccountID)
		if err != nil {
			s.writeError(rec, r, err)
			return
		}
		s.writeJSON(rec, r, status, body)
		if rec.beforeResponse != nil {
			rec.WriteHeader(http.StatusOK) // nothing written: net/http's implicit 200, audited
		}
	})
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.ready != nil {
		if err := s.ready(r.Context()); err != nil {
			s.log.LogAttrs(r.Context(), slog.LevelWarn, "not ready", slog.String("error", err.Error()))
			s.writeJSON(w, r, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
			return
		}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]string{"status": "ready"})
}

// writeJSON writes a success response; a nil body means an empty one.
func (s *server) writeJSON(w http.ResponseWriter, r *http.Request, status int, body any) {
	if raw, ok := body.(apiResponse); ok {
		raw.write(s, w, r)
		return
	}
	if body == nil {
		w.WriteHeader(status)
		return
	}
	b, err := json.Marshal(body)
	if err != nil {
		s.writeError(w, r, fmt.Errorf("api: encoding a %T response: %w", body, err))
		return
	}
	if rec, ok := w.(*recorder); ok {
		rec.body = b
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// recorder remembers what the access log and the audit log report about a
// response.
type recorder struct {
	http.ResponseWriter
	status    int
	operation string
	account   string
	exception string
	body      []byte // a success response's JSON body

	// beforeResponse, when set, runs once, when the response starts
	// (before its status line is written): the operation's audit. If it
	// fails, it has written an InternalServerException instead, and what
	// the handler writes is dropped.
	beforeResponse func() error
	replaced       bool
}

func (rec *recorder) WriteHeader(status int) {
	if rec.replaced {
		return
	}
	if rec.status == 0 {
		rec.status = status
	}
	if hook := rec.beforeResponse; hook != nil {
		rec.beforeResponse = nil
		if err := hook(); err != nil {
			rec.replaced = true
			return
		}
	}
	rec.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the connection (read
// deadlines, flushes).
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 || rec.beforeResponse != nil {
		rec.WriteHeader(http.StatusOK)
	}
	if rec.replaced {
		return len(b), nil
	}
	return rec.ResponseWriter.Write(b)
}

// withRequestLog gives every response a request id, turns a panic into an
// InternalServerException, and writes the access log line.
func (s *server) withRequestLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		requestID := uuid.NewString()
		w.Header().Set("X-Amzn-RequestId", requestID)
		rec := &recorder{ResponseWriter: w}
		r = r.WithContext(context.WithValue(r.Context(), requestIDKey{}, requestID))
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				err := fmt.Errorf("panic: %v\n%s", v, debug.Stack())
				if rec.status == 0 {
					s.writeError(rec, r, err)
				} else {
					s.log.LogAttrs(r.Context(), slog.LevelError, "panic after the response started",
						slog.String("request_id", requestID), slog.String("error", err.Error()))
				}
			}
			level := slog.LevelInfo
			if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" {
				level = slog.LevelDebug // probes would drown the log
			}
			s.log.LogAttrs(r.Context(), level, "request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.EscapedPath()),
				slog.String("operation", rec.operation),
				slog.Int("status", rec.status),
				slog.Duration("duration", time.Since(start)),
				slog.String("account", rec.account),
				slog.String("request_id", requestID),
				slog.String("exception", rec.exception),
			)
		}()
		next.ServeHTTP(rec, r)
	})
}

type requestIDKey struct{}

func requestIDFrom(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
