package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/smithy-go"

	"github.com/wharf-dev/wharf/internal/api"
	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/proctest"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/sqlite"
)

const (
	region   = "us-east-1"
	accountA = "111111111111"
	accountB = "222222222222"
	keyA     = "AKIAAAAAAAAAAAAAAAAA"
	keyB     = "AKIABBBBBBBBBBBBBBBB"
)

// keyAuthenticator maps the access key id of a SigV4 Authorization header to
// an account, without checking the signature (package auth's job).
type keyAuthenticator map[string]string

func (k keyAuthenticator) Authenticate(r *http.Request) (auth.Principal, error) {
	h := r.Header.Get("Authorization")
	_, cred, ok := strings.Cut(h, "Credential=")
	if !ok {
		return auth.Principal{}, fault.New(fault.MissingAuthenticationToken, "missing authentication token")
	}
	keyID, _, _ := strings.Cut(cred, "/")
	account, ok := k[keyID]
	if !ok {
		return auth.Principal{}, fault.New(fault.UnrecognizedClient, "the security token included in the request is invalid")
	}
	return auth.Principal{AccountID: account, AccessKeyID: keyID}, nil
}

// env is a Wharf API over a fresh SQLite database, with SDK clients for
// accounts A and B.
type env struct {
	t      *testing.T
	ctx    context.Context
	st     store.Store
	svc    *exchange.Service
	srv    *httptest.Server
	a, b   *dataexchange.Client
	logs   *proctest.Buffer
	ready  error
	readyM sync.Mutex
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "wharf.db"))
	if err != nil {
		t.Fatalf("open sqlite: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, ctx: ctx, st: st, svc: exchange.New(st, region), logs: &proctest.Buffer{}}
	handler := api.New(api.Config{
		Service:       e.svc,
		Authenticator: keyAuthenticator{keyA: accountA, keyB: accountB},
		Logger:        slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Region:        region,
		Ready: func(context.Context) error {
			e.readyM.Lock()
			defer e.readyM.Unlock()
			return e.ready
		},
	})
	e.srv = httptest.NewServer(handler)
	t.Cleanup(e.srv.Close)
	e.a = e.client(keyA)
	e.b = e.client(keyB)
	return e
}

func (e *env) client(keyID string) *dataexchange.Client {
	return dataexchange.New(dataexchange.Options{
		Region:       region,
		BaseEndpoint: aws.String(e.srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(keyID, "secret", ""),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   e.srv.Client(),
	})
}

func (e *env) dataSet(c *dataexchange.Client) *dataexchange.CreateDataSetOutput {
	e.t.Helper()
	out, err := c.CreateDataSet(e.ctx, &dataexchange.CreateDataSetInput{
		Name: aws.String("weather"), Description: aws.String("daily weather"), AssetType: "S3_SNAPSHOT",
	})
	if err != nil {
		e.t.Fatalf("CreateDataSet: %v", err)
	}
	return out
}

func (e *env) revision(c *dataexchange.Client, dataSetID string) *dataexchange.CreateRevisionOutput {
	e.t.Helper()
	out, err := c.CreateRevision(e.ctx, &dataexchange.CreateRevisionInput{DataSetId: aws.String(dataSetID), Comment: aws.String("first")})
	if err != nil {
		e.t.Fatalf("CreateRevision: %v", err)
	}
	return out
}

// asset inserts an asset through the store: no operation creates assets yet.
func (e *env) asset(account, dataSetID, revisionID, name string) resource.Asset {
	e.t.Helper()
	now := resource.Now()
	a := resource.Asset{
		AccountID: account, DataSetID: dataSetID, RevisionID: revisionID, ID: resource.NewID(),
		Name: name, AssetType: resource.AssetTypeS3Snapshot,
		Details:   json.RawMessage(`{"S3SnapshotAsset":{"Size":123}}`),
		CreatedAt: now, UpdatedAt: now,
	}
	if err := e.st.InsertAsset(e.ctx, a); err != nil {
		e.t.Fatalf("InsertAsset: %v", err)
	}
	return a
}

func (e *env) finalize(c *dataexchange.Client, dataSetID, revisionID string) {
	e.t.Helper()
	if _, err := c.UpdateRevision(e.ctx, &dataexchange.UpdateRevisionInput{
		DataSetId: aws.String(dataSetID), RevisionId: aws.String(revisionID), Finalized: aws.Bool(true),
	}); err != nil {
		e.t.Fatalf("finalize: %v", err)
	}
}

// on returns the env reporting to t, for use in subtests.
func (e *env) on(t *testing.T) *env {
	g := &env{t: t, ctx: e.ctx, st: e.st, svc: e.svc, srv: e.srv, a: e.a, b: e.b, logs: e.logs}
	return g
}

// do sends a raw request signed with a fake SigV4 header for keyID ("" for
// none) and returns the response with its body read.
func (e *env) do(method, path, keyID, body string) (*http.Response, []byte) {
	e.t.Helper()
	return e.doWith(method, path, keyID, body, nil)
}

// doWith is do with more request headers.
func (e *env) doWith(method, path, keyID, body string, headers map[string]string) (*http.Response, []byte) {
	e.t.Helper()
	req := jsonRequest(e.t, e.ctx, method, e.srv.URL+path, body)
	if keyID != "" {
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+keyID+"/20260101/us-east-1/dataexchange/aws4_request, SignedHeaders=host, Signature=00")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return roundTrip(e.t, e.srv.Client(), req)
}

// jsonRequest is a request with body ("" for none) as JSON.
func jsonRequest(t *testing.T, ctx context.Context, method, url, body string) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

// roundTrip sends req with client and returns the response with its body read.
func roundTrip(t *testing.T, client *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// wantAPIError fails unless err is an AWS error with the given code.
func wantAPIError(t *testing.T, err error, code string) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want %s", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("got %s (%s), want %s", ae.ErrorCode(), ae.ErrorMessage(), code)
	}
	return ae
}

// wantTyped fails unless err is (or wraps) a T, and returns it.
func wantTyped[T error](t *testing.T, err error) T {
	t.Helper()
	var target T
	if !errors.As(err, &target) {
		t.Fatalf("got %v (%T), want %T", err, err, target)
	}
	return target
}
