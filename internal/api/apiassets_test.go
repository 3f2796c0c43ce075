package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"

	"github.com/wharf-dev/wharf/internal/api"
	"github.com/wharf-dev/wharf/internal/apiasset"
	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store/sqlite"
)

// upstream is the API an API asset names: a real HTTP server that records
// what it was sent.
type upstream struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []*http.Request
	// bodies[i] is the body of got[i].
	bodies []string
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.got = append(u.got, r)
		u.bodies = append(u.bodies, string(b))
		u.mu.Unlock()
		w.Header().Set("X-Upstream", "yes")
		w.Header().Set("Content-Type", "text/plain")
		if strings.HasSuffix(r.URL.Path, "/missing") {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, "no such city")
			return
		}
		_, _ = io.WriteString(w, "sunny in "+r.URL.Path)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) last(t *testing.T) (*http.Request, string) {
	t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.got) == 0 {
		t.Fatal("the API got no request")
	}
	return u.got[len(u.got)-1], u.bodies[len(u.bodies)-1]
}

func TestSendApiAsset(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	up := newUpstream(t)
	const apiID = "a1b2c3d4e5"
	base, err := url.Parse(up.srv.URL + "/base")
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "wharf.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := exchange.New(st, region)
	wharf := httptest.NewServer(api.New(api.Config{
		Service:       svc,
		Authenticator: keyAuthenticator{keyA: accountA, keyB: accountB},
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		APIAssets:     &apiasset.Forwarder{Endpoints: apiasset.Endpoints{apiID: base}},
	}))
	t.Cleanup(wharf.Close)

	// The SDK sends SendApiAsset to api-fulfill.<host>: resolve every host
	// to Wharf, as DNS would for a deployment that serves that name.
	wharfAddr := strings.TrimPrefix(wharf.URL, "http://")
	client := func(keyID string) *dataexchange.Client {
		dialer := &net.Dialer{}
		return dataexchange.New(dataexchange.Options{
			Region: region, BaseEndpoint: aws.String(wharf.URL),
			Credentials: credentials.NewStaticCredentialsProvider(keyID, "secret", ""),
			Retryer:     aws.NopRetryer{},
			HTTPClient: &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, network, wharfAddr)
			}}},
		})
	}
	a, b := client(keyA), client(keyB)

	ds, err := a.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{Name: aws.String("weather"), Description: aws.String("api"), AssetType: "API_GATEWAY_API"})
	if err != nil {
		t.Fatal(err)
	}
	rev, err := a.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: ds.Id})
	if err != nil {
		t.Fatal(err)
	}
	key := "k3y"
	details, _ := json.Marshal(map[string]any{"ApiGatewayApiAsset": apiasset.Details{ApiEndpoint: base.String(), ApiId: apiID,
		ApiKey: &key, ApiName: "Weather", ProtocolType: "REST", Stage: "prod"}})
	now := resource.Now()
	asset := resource.Asset{AccountID: accountA, DataSetID: *ds.Id, RevisionID: *rev.Id, ID: resource.NewID(), Name: "Weather",
		AssetType: resource.AssetTypeAPIGatewayAPI, Details: details, CreatedAt: now, UpdatedAt: now}
	snapshot := asset
	snapshot.ID, snapshot.AssetType, snapshot.Details = resource.NewID(), resource.AssetTypeS3Snapshot, json.RawMessage(`{"S3SnapshotAsset":{"Size":1}}`)
	for _, x := range []resource.Asset{asset, snapshot} {
		if err := st.InsertAsset(ctx, x); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("owner, through the SDK", func(t *testing.T) {
		out, err := a.SendApiAsset(ctx, &dataexchange.SendApiAssetInput{
			AssetId: aws.String(asset.ID), DataSetId: ds.Id, RevisionId: rev.Id,
			Method: aws.String("PUT"), Path: aws.String("/forecast/paris"),
			QueryStringParameters: map[string]string{"units": "metric", "days": "3"},
			RequestHeaders:        map[string]string{"Content-Type": "application/json", "X-Trace": "t1"},
			Body:                  aws.String(`{"q":1}`),
		})
		if err != nil {
			t.Fatalf("SendApiAsset: %v", err)
		}
		if aws.ToString(out.Body) != "sunny in /base/forecast/paris" || out.ResponseHeaders["x-upstream"] != "yes" {
			t.Errorf("Body %q, ResponseHeaders %v", aws.ToString(out.Body), out.ResponseHeaders)
		}
		r, body := up.last(t)
		if r.Method != http.MethodPut || r.URL.Path != "/base/forecast/paris" || r.URL.Query().Get("units") != "metric" ||
			r.URL.Query().Get("days") != "3" || len(r.URL.Query()) != 2 {
			t.Errorf("the API got %s %s", r.Method, r.URL)
		}
		if r.Header.Get("X-Api-Key") != "k3y" || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-Trace") != "t1" {
			t.Errorf("the API got headers %v", r.Header)
		}
		for name := range r.Header {
			if strings.HasPrefix(strings.ToLower(name), "x-amzn-dataexchange-") || name == "Authorization" || name == "X-Amz-Date" {
				t.Errorf("the API got Wharf's header %s", name)
			}
		}
		if body != `{"q":1}` {
			t.Errorf("the API got body %q", body)
		}
	})

	t.Run("other account", func(t *testing.T) {
		_, err := b.SendApiAsset(ctx, &dataexchange.SendApiAssetInput{AssetId: aws.String(asset.ID), DataSetId: ds.Id, RevisionId: rev.Id})
		wantAPIError(t, err, "ResourceNotFoundException")
	})

	t.Run("not an API asset", func(t *testing.T) {
		_, err := a.SendApiAsset(ctx, &dataexchange.SendApiAssetInput{AssetId: aws.String(snapshot.ID), DataSetId: ds.Id, RevisionId: rev.Id})
		wantAPIError(t, err, "ValidationException")
	})

	// Raw requests: the direct form, statuses passed through, missing
	// headers (which the SDK would refuse to send).
	raw := func(t *testing.T, method, path string, headers map[string]string, body string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, method, wharf.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+keyA+"/20260101/us-east-1/dataexchange/aws4_request, SignedHeaders=host, Signature=00")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := wharf.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	ids := map[string]string{"x-amzn-dataexchange-asset-id": asset.ID, "x-amzn-dataexchange-data-set-id": *ds.Id,
		"x-amzn-dataexchange-revision-id": *rev.Id}

	t.Run("direct form", func(t *testing.T) {
		resp, body := raw(t, http.MethodGet, "/v1/forecast/oslo?units=imperial", ids, "")
		if resp.StatusCode != http.StatusOK || body != "sunny in /base/forecast/oslo" {
			t.Errorf("%d %q", resp.StatusCode, body)
		}
		r, _ := up.last(t)
		if r.Method != http.MethodGet || r.URL.Path != "/base/forecast/oslo" || r.URL.RawQuery != "units=imperial" {
			t.Errorf("the API got %s %s", r.Method, r.URL)
		}
	})

	t.Run("API status passed through", func(t *testing.T) {
		h := map[string]string{"x-amzn-dataexchange-http-method": "DELETE", "x-amzn-dataexchange-path": "/missing"}
		for k, v := range ids {
			h[k] = v
		}
		resp, body := raw(t, http.MethodPost, "/v1", h, "")
		if resp.StatusCode != http.StatusNotFound || body != "no such city" || resp.Header.Get("X-Upstream") != "yes" {
			t.Errorf("%d %q %v", resp.StatusCode, body, resp.Header)
		}
		if r, _ := up.last(t); r.Method != http.MethodDelete {
			t.Errorf("the API got %s", r.Method)
		}
	})

	t.Run("missing header", func(t *testing.T) {
		resp, body := raw(t, http.MethodPost, "/v1", map[string]string{"x-amzn-dataexchange-asset-id": asset.ID}, "")
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("X-Amzn-ErrorType") != "ValidationException" {
			t.Errorf("%d %s %q", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body)
		}
	})

	t.Run("unknown path without the headers", func(t *testing.T) {
		resp, _ := raw(t, http.MethodGet, "/v1/forecast/oslo", nil, "")
		if resp.Header.Get("X-Amzn-ErrorType") != "UnknownOperationException" {
			t.Errorf("got %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
		}
	})
}

func TestParseEndpoint(t *testing.T) {
	t.Parallel()
	for spec, ok := range map[string]bool{
		"a1b2c3d4e5=http://127.0.0.1:8080":       true,
		"a1b2c3d4e5=https://api.example.com/v2/": true,
		"a1b2c3d4e5":                             false,
		"A1B2C3D4E5=http://x":                    false,
		"a1b2c3d4e5=ftp://x":                     false,
		"a1b2c3d4e5=http://x?q=1":                false,
		"a1b2c3d4e5=/relative":                   false,
	} {
		err := apiasset.Endpoints{}.ParseEndpoint(spec)
		if (err == nil) != ok {
			t.Errorf("%q: err %v, want ok=%v", spec, err, ok)
		}
	}
	e := apiasset.Endpoints{}
	if err := e.ParseEndpoint("a1b2c3d4e5=http://x"); err != nil {
		t.Fatal(err)
	}
	if e.ParseEndpoint("a1b2c3d4e5=http://y") == nil {
		t.Error("a second endpoint for one API was accepted")
	}
	if got := e.For("eu-west-1", "zzzzzzzzzz", "prod"); got != "https://zzzzzzzzzz.execute-api.eu-west-1.amazonaws.com/prod" {
		t.Errorf("default endpoint %q", got)
	}
}

// apiAsset makes an API_GATEWAY_API asset of account A's whose API is at
// endpoint, and returns the SendApiAsset headers that name it.
func (e *env) apiAsset(endpoint string) map[string]string {
	e.t.Helper()
	ds, err := e.a.CreateDataSet(e.ctx, &dataexchange.CreateDataSetInput{Name: aws.String("api"), Description: aws.String("api"), AssetType: "API_GATEWAY_API"})
	if err != nil {
		e.t.Fatal(err)
	}
	rev := e.revision(e.a, aws.ToString(ds.Id))
	details, _ := json.Marshal(map[string]any{"ApiGatewayApiAsset": apiasset.Details{ApiEndpoint: endpoint, ApiId: "a1b2c3d4e5",
		ApiName: "Weather", ProtocolType: "REST", Stage: "prod"}})
	now := resource.Now()
	a := resource.Asset{AccountID: accountA, DataSetID: *ds.Id, RevisionID: *rev.Id, ID: resource.NewID(), Name: "Weather",
		AssetType: resource.AssetTypeAPIGatewayAPI, Details: details, CreatedAt: now, UpdatedAt: now}
	if err := e.st.InsertAsset(e.ctx, a); err != nil {
		e.t.Fatal(err)
	}
	return map[string]string{"X-Amzn-Dataexchange-Data-Set-Id": a.DataSetID, "X-Amzn-Dataexchange-Revision-Id": a.RevisionID,
		"X-Amzn-Dataexchange-Asset-Id": a.ID}
}

// TestSendApiAssetRefusesBadTargets: a method that is not an HTTP token or
// a path that is not a URL path is the client's error, and no request
// reaches the API.
func TestSendApiAssetRefusesBadTargets(t *testing.T) {
	t.Parallel()
	up := newUpstream(t)
	e := newEnv(t)
	headers := e.apiAsset(up.srv.URL)
	for _, c := range []struct{ header, value string }{
		{"X-Amzn-Dataexchange-Http-Method", "G ET"},
		{"X-Amzn-Dataexchange-Http-Method", "GET/"},
		{"X-Amzn-Dataexchange-Http-Method", "GE(T)"},
		{"X-Amzn-Dataexchange-Path", "/bad%zzescape"},
		{"X-Amzn-Dataexchange-Path", "http://elsewhere.example/x"},
		{"X-Amzn-Dataexchange-Path", "//elsewhere.example/x"},
	} {
		h := map[string]string{c.header: c.value}
		for k, v := range headers {
			h[k] = v
		}
		resp, b := e.doWith("POST", "/v1", keyA, "", h)
		if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "ValidationException" || !strings.Contains(string(b), strings.ToLower(c.header)) {
			t.Errorf("%s: %s: %d %s %s, want 400 ValidationException naming the header", c.header, c.value, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), b)
		}
	}
	up.mu.Lock()
	if len(up.got) != 0 {
		t.Errorf("the API got %d requests", len(up.got))
	}
	up.mu.Unlock()
	if strings.Contains(e.logs.String(), `"level":"ERROR"`) {
		t.Errorf("an ERROR was logged:\n%s", e.logs)
	}
	// A good method in lower case is the method in upper case.
	h := map[string]string{"X-Amzn-Dataexchange-Http-Method": "put", "X-Amzn-Dataexchange-Path": "/cities"}
	for k, v := range headers {
		h[k] = v
	}
	resp, b := e.doWith("POST", "/v1", keyA, "rain", h)
	if resp.StatusCode != 200 {
		t.Fatalf("SendApiAsset: %d %s", resp.StatusCode, b)
	}
	if r, body := up.last(t); r.Method != "PUT" || r.URL.Path != "/cities" || body != "rain" {
		t.Errorf("the API got %s %s %q", r.Method, r.URL, body)
	}
}
