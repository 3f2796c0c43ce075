package api_test

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"

	"github.com/wharf-dev/wharf/internal/api"
	"github.com/wharf-dev/wharf/internal/auth"
	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/proctest"
)

var (
	uuidPattern      = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	timestampPattern = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
)

// decodeObject decodes a JSON object body, failing the test otherwise.
func decodeObject(t *testing.T, body []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", body, err)
	}
	return m
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// wantKeys fails unless m has exactly the given keys.
func wantKeys(t *testing.T, what string, m map[string]any, want ...string) {
	t.Helper()
	if len(m) != len(want) {
		t.Fatalf("%s has keys %v, want %v", what, keys(m), want)
	}
	for _, k := range want {
		if _, ok := m[k]; !ok {
			t.Fatalf("%s has keys %v, want %v", what, keys(m), want)
		}
	}
}

// TestWireShapes checks status codes, headers and JSON members of every
// operation, byte-level, where the SDK would hide a difference.
func TestWireShapes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	check := func(method, path, body string, status int) map[string]any {
		t.Helper()
		resp, b := e.do(method, path, keyA, body)
		if resp.StatusCode != status {
			t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, status, b)
		}
		if !uuidPattern.MatchString(resp.Header.Get("X-Amzn-RequestId")) {
			t.Fatalf("%s %s: request id %q", method, path, resp.Header.Get("X-Amzn-RequestId"))
		}
		if status == http.StatusNoContent {
			if len(b) != 0 {
				t.Fatalf("%s %s: 204 with body %q", method, path, b)
			}
			return nil
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Fatalf("%s %s: Content-Type %q", method, path, ct)
		}
		return decodeObject(t, b)
	}
	wantTimestamps := func(m map[string]any, names ...string) {
		t.Helper()
		for _, n := range names {
			if s, _ := m[n].(string); !timestampPattern.MatchString(s) {
				t.Fatalf("%s = %v, not a millisecond UTC timestamp", n, m[n])
			}
		}
	}

	ds := check("POST", "/v1/data-sets", `{"Name":"n","Description":"","AssetType":"S3_SNAPSHOT","Tags":{"k":"v"}}`, 201)
	wantKeys(t, "CreateDataSet", ds, "Arn", "AssetType", "CreatedAt", "Description", "Id", "Name", "Origin", "UpdatedAt", "Tags")
	wantTimestamps(ds, "CreatedAt", "UpdatedAt")
	dsID := ds["Id"].(string)
	dsPath := "/v1/data-sets/" + dsID
	wantKeys(t, "GetDataSet", check("GET", dsPath, "", 200), "Arn", "AssetType", "CreatedAt", "Description", "Id", "Name", "Origin", "UpdatedAt", "Tags")
	wantKeys(t, "UpdateDataSet", check("PATCH", dsPath, `{"Name":"m"}`, 200), "Arn", "AssetType", "CreatedAt", "Description", "Id", "Name", "Origin", "UpdatedAt")
	// No tags: the member is left out.
	bare := check("POST", "/v1/data-sets", `{"Name":"n","Description":"d","AssetType":"S3_SNAPSHOT"}`, 201)
	wantKeys(t, "CreateDataSet without tags", bare, "Arn", "AssetType", "CreatedAt", "Description", "Id", "Name", "Origin", "UpdatedAt")

	rev := check("POST", dsPath+"/revisions", `{}`, 201)
	wantKeys(t, "CreateRevision", rev, "Arn", "CreatedAt", "DataSetId", "Finalized", "Id", "Revoked", "UpdatedAt")
	if rev["Finalized"] != false || rev["Revoked"] != false {
		t.Fatalf("revision booleans %v %v", rev["Finalized"], rev["Revoked"])
	}
	revPath := dsPath + "/revisions/" + rev["Id"].(string)
	wantKeys(t, "UpdateRevision", check("PATCH", revPath, `{"Comment":"c"}`, 200), "Arn", "Comment", "CreatedAt", "DataSetId", "Finalized", "Id", "Revoked", "UpdatedAt")
	wantKeys(t, "GetRevision", check("GET", revPath, "", 200), "Arn", "Comment", "CreatedAt", "DataSetId", "Finalized", "Id", "Revoked", "UpdatedAt")

	a := e.asset(accountA, dsID, rev["Id"].(string), "a.csv")
	assetPath := revPath + "/assets/" + a.ID
	asset := check("GET", assetPath, "", 200)
	wantKeys(t, "GetAsset", asset, "Arn", "AssetDetails", "AssetType", "CreatedAt", "DataSetId", "Id", "Name", "RevisionId", "UpdatedAt")
	wantTimestamps(asset, "CreatedAt", "UpdatedAt")
	if details, _ := json.Marshal(asset["AssetDetails"]); string(details) != `{"S3SnapshotAsset":{"Size":123}}` {
		t.Fatalf("AssetDetails %s", details)
	}
	check("PATCH", assetPath, `{"Name":"b.csv"}`, 200)
	list := check("GET", revPath+"/assets?maxResults=1", "", 200)
	wantKeys(t, "ListRevisionAssets", list, "Assets")

	check("PATCH", revPath, `{"Finalized":true}`, 200)
	resp, b := e.do("DELETE", assetPath, keyA, "")
	if resp.StatusCode != 409 || resp.Header.Get("X-Amzn-ErrorType") != "ConflictException" {
		t.Fatalf("DeleteAsset in a finalized revision: %d %s", resp.StatusCode, b)
	}
	revoked := check("POST", revPath+"/revoke", `{"RevocationComment":"withdrawn for good"}`, 200)
	wantKeys(t, "RevokeRevision", revoked, "Arn", "Comment", "CreatedAt", "DataSetId", "Finalized", "Id", "RevocationComment", "Revoked", "RevokedAt", "UpdatedAt")
	wantTimestamps(revoked, "RevokedAt")

	revs := check("GET", dsPath+"/revisions?maxResults=200", "", 200)
	wantKeys(t, "ListDataSetRevisions", revs, "Revisions")
	dss := check("GET", "/v1/data-sets?maxResults=1", "", 200)
	wantKeys(t, "ListDataSets (first page)", dss, "DataSets", "NextToken")
	next := dss["NextToken"].(string)
	dss = check("GET", "/v1/data-sets?maxResults=1&nextToken="+next, "", 200)
	wantKeys(t, "ListDataSets (last page)", dss, "DataSets")

	// Empty listings are arrays, never null.
	empty := check("POST", "/v1/data-sets", `{"Name":"n","Description":"d","AssetType":"S3_SNAPSHOT"}`, 201)
	emptyRevs := check("GET", "/v1/data-sets/"+empty["Id"].(string)+"/revisions", "", 200)
	if r, ok := emptyRevs["Revisions"].([]any); !ok || len(r) != 0 {
		t.Fatalf("empty listing %v", emptyRevs)
	}
	resp, b = e.do("GET", "/v1/data-sets", keyB, "")
	if resp.StatusCode != 200 || string(b) != `{"DataSets":[]}` {
		t.Fatalf("empty ListDataSets: %d %s", resp.StatusCode, b)
	}

	tagsPath := "/tags/" + strings.NewReplacer(":", "%3A", "/", "%2F").Replace(ds["Arn"].(string))
	check("POST", tagsPath, `{"tags":{"x":"y"}}`, 204)
	wantKeys(t, "ListTagsForResource", check("GET", tagsPath, "", 200), "tags")
	check("DELETE", tagsPath+"?tagKeys=x", "", 204)

	// Once revoked, the revision's assets may be deleted.
	check("DELETE", assetPath, "", 204)
}

func TestErrorShapes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ds := e.dataSet(e.a)
	missing := strings.Repeat("0", 32)
	tests := []struct {
		name, method, path, key, body string
		status                        int
		errType                       string
		members                       []string
	}{
		{"not found", "GET", "/v1/data-sets/" + missing, keyA, "", 404, "ResourceNotFoundException", []string{"Message", "ResourceId", "ResourceType"}},
		{"validation", "POST", "/v1/data-sets", keyA, `{"Name":"","Description":"","AssetType":"S3_SNAPSHOT"}`, 400, "ValidationException", []string{"Message"}},
		{"malformed JSON", "POST", "/v1/data-sets", keyA, `{"Name":`, 400, "SerializationException", []string{"Message"}},
		{"wrong JSON type", "PATCH", "/v1/data-sets/" + aws.ToString(ds.Id), keyA, `{"Name":5}`, 400, "SerializationException", []string{"Message"}},
		{"body not an object", "POST", "/v1/data-sets", keyA, `[1]`, 400, "SerializationException", []string{"Message"}},
		{"unknown path", "GET", "/v1/nothing", keyA, "", 404, "UnknownOperationException", []string{"Message"}},
		{"unknown method", "PUT", "/v1/data-sets/" + aws.ToString(ds.Id), keyA, "", 404, "UnknownOperationException", []string{"Message"}},
		{"trailing slash", "GET", "/v1/data-sets/", keyA, "", 404, "UnknownOperationException", []string{"Message"}},
		{"no credentials", "GET", "/v1/data-sets", "", "", 403, "MissingAuthenticationTokenException", []string{"Message"}},
		{"unknown key", "GET", "/v1/data-sets", "AKIAUNKNOWN", "", 403, "UnrecognizedClientException", []string{"Message"}},
		{"unauthenticated unknown path", "GET", "/v1/nothing", "", "", 403, "MissingAuthenticationTokenException", []string{"Message"}},
		{"maxResults 0", "GET", "/v1/data-sets?maxResults=0", keyA, "", 400, "ValidationException", []string{"Message"}},
		{"maxResults 201", "GET", "/v1/data-sets?maxResults=201", keyA, "", 400, "ValidationException", []string{"Message"}},
		{"maxResults not a number", "GET", "/v1/data-sets?maxResults=ten", keyA, "", 400, "ValidationException", []string{"Message"}},
		{"bad nextToken", "GET", "/v1/data-sets?nextToken=abc", keyA, "", 400, "ValidationException", []string{"Message"}},
		{"malformed id", "GET", "/v1/data-sets/abc", keyA, "", 400, "ValidationException", []string{"Message"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, b := e.on(t).do(tc.method, tc.path, tc.key, tc.body)
			if resp.StatusCode != tc.status || resp.Header.Get("X-Amzn-ErrorType") != tc.errType {
				t.Fatalf("%d %s, want %d %s: %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), tc.status, tc.errType, b)
			}
			if resp.Header.Get("Content-Type") != "application/json" || !uuidPattern.MatchString(resp.Header.Get("X-Amzn-RequestId")) {
				t.Fatalf("headers %v", resp.Header)
			}
			m := decodeObject(t, b)
			wantKeys(t, "error body", m, tc.members...)
			if msg, _ := m["Message"].(string); msg == "" {
				t.Fatal("empty Message")
			}
		})
	}
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, _ := e.do("GET", path, "", "")
		if resp.StatusCode != 200 || !uuidPattern.MatchString(resp.Header.Get("X-Amzn-RequestId")) {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
	}
	e.readyM.Lock()
	e.ready = errors.New("database is down: secret detail")
	e.readyM.Unlock()
	resp, b := e.do("GET", "/readyz", "", "")
	if resp.StatusCode != 503 || strings.Contains(string(b), "secret") {
		t.Fatalf("/readyz when not ready: %d %s", resp.StatusCode, b)
	}
	if resp, _ := e.do("GET", "/healthz", "", ""); resp.StatusCode != 200 {
		t.Fatalf("/healthz when not ready: %d", resp.StatusCode)
	}
}

// TestInternalErrors: an unexpected failure is an InternalServerException
// whose cause goes to the log, not to the client.
func TestInternalErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ds := e.dataSet(e.a)
	e.st.Close() // every store call now fails
	_, err := e.a.GetDataSet(e.ctx, &dataexchange.GetDataSetInput{DataSetId: ds.Id})
	ae := wantAPIError(t, err, "InternalServerException")
	if strings.Contains(strings.ToLower(ae.ErrorMessage()), "sql") || strings.Contains(ae.ErrorMessage(), "closed") {
		t.Fatalf("the cause leaked: %q", ae.ErrorMessage())
	}
	logs := e.logs.String()
	if !strings.Contains(logs, `"msg":"internal error"`) || !strings.Contains(logs, "closed") {
		t.Fatalf("the cause was not logged:\n%s", logs)
	}

	// A panic is an internal error too.
	logs2 := &proctest.Buffer{}
	srv := httptest.NewServer(api.New(api.Config{
		Service:       exchange.New(e.st, region),
		Authenticator: panicking{},
		Logger:        slog.New(slog.NewJSONHandler(logs2, nil)),
	}))
	defer srv.Close()
	resp, err2 := srv.Client().Get(srv.URL + "/v1/data-sets")
	if err2 != nil {
		t.Fatal(err2)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 || resp.Header.Get("X-Amzn-ErrorType") != "InternalServerException" {
		t.Fatalf("panic gave %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
	if !strings.Contains(logs2.String(), "boom") {
		t.Fatalf("panic not logged:\n%s", logs2.String())
	}
}

type panicking struct{}

func (panicking) Authenticate(*http.Request) (auth.Principal, error) { panic("boom") }

func TestAccessLog(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	resp, _ := e.do("GET", "/v1/data-sets/"+strings.Repeat("0", 32), keyA, "")
	requestID := resp.Header.Get("X-Amzn-RequestId")
	var entry map[string]any
	for _, line := range strings.Split(e.logs.String(), "\n") {
		if strings.Contains(line, requestID) && strings.Contains(line, `"msg":"request"`) {
			entry = decodeObject(t, []byte(line))
		}
	}
	if entry == nil {
		t.Fatalf("no access log line for %s:\n%s", requestID, e.logs.String())
	}
	want := map[string]any{
		"method": "GET", "path": "/v1/data-sets/" + strings.Repeat("0", 32), "status": float64(404),
		"account": accountA, "request_id": requestID, "exception": "ResourceNotFoundException", "operation": "GetDataSet",
	}
	for k, v := range want {
		if entry[k] != v {
			t.Fatalf("access log %s = %v, want %v (%v)", k, entry[k], v, entry)
		}
	}
	if _, ok := entry["duration"]; !ok {
		t.Fatalf("no duration: %v", entry)
	}
}

func TestConfigRegionMustMatch(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("a Region differing from the Service's was accepted")
		}
	}()
	api.New(api.Config{Service: exchange.New(nil, "us-east-1"), Authenticator: panicking{}, Region: "eu-west-1"})
}
