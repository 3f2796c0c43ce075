package api_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"

	"github.com/wharf-dev/wharf/internal/api"
	"github.com/wharf-dev/wharf/internal/auditlog"
	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/proctest"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/sqlite"
)

// probeWriter notes whether anything of the response reached net/http.
type probeWriter struct {
	http.ResponseWriter
	wrote *atomic.Bool
}

func (p probeWriter) WriteHeader(status int) {
	p.wrote.Store(true)
	p.ResponseWriter.WriteHeader(status)
}
func (p probeWriter) Write(b []byte) (int, error) {
	p.wrote.Store(true)
	return p.ResponseWriter.Write(b)
}

// auditProbe is an audit log (the group-commit writer on a real SQLite
// store) whose commits note whether the response they belong to had
// started, and can be made to fail.
type auditProbe struct {
	store.Store
	wrote   *atomic.Bool
	fail    atomic.Bool
	mu      sync.Mutex
	started []bool // per committed batch: had the response started?
}

func (a *auditProbe) InsertAuditRecords(ctx context.Context, rs []resource.AuditRecord) error {
	a.mu.Lock()
	a.started = append(a.started, a.wrote.Load())
	a.mu.Unlock()
	if a.fail.Load() {
		return errors.New("the disk is full")
	}
	return a.Store.InsertAuditRecords(ctx, rs)
}

func newAuditEnv(t *testing.T) (*auditProbe, *dataexchange.Client, *httptest.Server, *proctest.Buffer) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "wharf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	probe := &auditProbe{Store: st, wrote: &atomic.Bool{}}
	writer, err := auditlog.New(auditlog.Config{Store: probe})
	if err != nil {
		t.Fatal(err)
	}
	logs := &proctest.Buffer{}
	handler := api.New(api.Config{
		Service:       exchange.New(st, region),
		Authenticator: keyAuthenticator{keyA: accountA},
		Logger:        slog.New(slog.NewJSONHandler(logs, nil)),
		Region:        region,
		Audit:         writer,
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler.ServeHTTP(probeWriter{ResponseWriter: w, wrote: probe.wrote}, r)
	}))
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv}
	return probe, e.client(keyA), srv, logs
}

// TestAuditCommittedBeforeTheResponse: a call's audit record is committed
// before any of its response reaches net/http, for a success, a failed
// call and a refused signature alike.
func TestAuditCommittedBeforeTheResponse(t *testing.T) {
	t.Parallel()
	probe, client, srv, _ := newAuditEnv(t)
	ctx := context.Background()
	for _, call := range []func() error{
		func() error {
			_, err := client.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{
				Name: aws.String("audited"), Description: aws.String("d"), AssetType: "S3_SNAPSHOT"})
			return err
		},
		func() error {
			_, err := client.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: aws.String("nosuchdataset")})
			if err == nil {
				return errors.New("GetDataSet of a missing data set succeeded")
			}
			return nil
		},
		func() error {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/data-sets", nil)
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAUNKNOWN/20260101/us-east-1/dataexchange/aws4_request, SignedHeaders=host, Signature=00")
			resp, err := srv.Client().Do(req)
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				return errors.New("an unknown key was not refused: " + resp.Status)
			}
			return nil
		},
	} {
		probe.wrote.Store(false)
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	probe.mu.Lock()
	defer probe.mu.Unlock()
	if len(probe.started) != 3 {
		t.Fatalf("%d commits, want 3", len(probe.started))
	}
	for i, started := range probe.started {
		if started {
			t.Errorf("call %d: its response had started before its audit record was committed", i)
		}
	}
	rs, err := probe.ListAuditRecords(ctx, store.AuditFilter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rs {
		got = append(got, r.Operation+" "+http.StatusText(r.Status)+" "+r.Exception)
	}
	want := "ListDataSets Forbidden UnrecognizedClientException|GetDataSet Bad Request ValidationException|CreateDataSet Created "
	if strings.Join(got, "|") != want {
		t.Errorf("records %q, want %q", strings.Join(got, "|"), want)
	}
}

// TestAuditFailureFailsTheCall: a call whose audit record can't be
// committed is answered with an InternalServerException (its cause in the
// log), not with the handler's success.
func TestAuditFailureFailsTheCall(t *testing.T) {
	t.Parallel()
	probe, client, _, logs := newAuditEnv(t)
	probe.fail.Store(true)
	_, err := client.ListDataSets(context.Background(), &dataexchange.ListDataSetsInput{})
	apiErr := wantAPIError(t, err, "InternalServerException")
	if strings.Contains(apiErr.ErrorMessage(), "disk") {
		t.Errorf("the client learnt the cause: %q", apiErr.ErrorMessage())
	}
	if !strings.Contains(logs.String(), "the disk is full") {
		t.Errorf("the log does not name the cause:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `"status":500`) {
		t.Errorf("the access log does not say 500:\n%s", logs.String())
	}

	probe.fail.Store(false)
	if _, err := client.ListDataSets(context.Background(), &dataexchange.ListDataSetsInput{}); err != nil {
		t.Fatalf("once the audit log works again: %v", err)
	}
}
