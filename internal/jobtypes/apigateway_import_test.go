package jobtypes_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/apiasset"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/jobtypes"
	"github.com/wharf-dev/wharf/internal/resource"
)

// apiUploadURL reads ApiSpecificationUploadUrl and its expiry from a
// CreateJob response's Details, checking that every request member is
// echoed.
func apiUploadURL(t *testing.T, details json.RawMessage, ds, rev, md5Hash string) (string, time.Time) {
	t.Helper()
	var d struct {
		ImportAssetFromApiGatewayApi map[string]string
	}
	if err := json.Unmarshal(details, &d); err != nil {
		t.Fatalf("Details %s: %v", details, err)
	}
	m := d.ImportAssetFromApiGatewayApi
	for k, want := range map[string]string{"ApiDescription": "forecasts", "ApiId": "a1b2c3d4e5", "ApiKey": "k3y", "ApiName": "Weather API",
		"ApiSpecificationMd5Hash": md5Hash, "DataSetId": ds, "ProtocolType": "REST", "RevisionId": rev, "Stage": "prod"} {
		if m[k] != want {
			t.Errorf("Details.%s = %q, want %q", k, m[k], want)
		}
	}
	exp, err := time.Parse(time.RFC3339, m["ApiSpecificationUploadUrlExpiresAt"])
	if err != nil || m["ApiSpecificationUploadUrl"] == "" {
		t.Fatalf("Details %s: no ApiSpecificationUploadUrl/ExpiresAt (%v)", details, err)
	}
	return m["ApiSpecificationUploadUrl"], exp
}

// TestAPIGatewayImport runs IMPORT_ASSET_FROM_API_GATEWAY_API on both
// asset stores: the specification's upload (a wrong body refused), the
// asset, and the download URL AssetURLs signs, which serves the exact
// specification.
func TestAPIGatewayImport(t *testing.T) {
	t.Parallel()
	eachAssetStore(t, func(t *testing.T, assets string) {
		e := signedEnv(t, assets, jobtypes.SignedURLConfig{})
		ds := e.newDataSet(account, resource.OriginOwned, resource.AssetTypeAPIGatewayAPI)
		rev := e.newRevision(ds, false, false)
		spec := []byte(petstore)
		sum := contentMD5(spec)
		v, err := e.createJob(resource.JobTypeImportAssetFromAPIGatewayAPI, apiDetails(ds.ID, rev.ID, map[string]any{"ApiSpecificationMd5Hash": sum}))
		e.must(err)
		url, exp := apiUploadURL(t, v.Details, ds.ID, rev.ID, sum)
		if d := time.Until(exp); d < 59*time.Minute || d > 61*time.Minute {
			t.Errorf("ApiSpecificationUploadUrlExpiresAt %s is not an hour ahead", exp)
		}
		// GetJob shows what CreateJob returned.
		if got := e.job(v.ID).Details; !bytes.Equal(got, v.Details) {
			t.Errorf("stored Details %s, CreateJob returned %s", got, v.Details)
		}

		// A body of another MD5 is refused and stores nothing.
		wrong := bytes.Replace(spec, []byte("Weather"), []byte("Whether"), 1)
		if status, out := httpDo(t, "PUT", url, wrong, map[string]string{"Content-MD5": sum}); status != 400 || !bytes.Contains(out, []byte("BadDigest")) {
			t.Errorf("PUT of a wrong body: %d %s", status, out)
		}
		if left := e.storeLeftovers(); len(left) != 0 {
			t.Errorf("a refused upload left %v", left)
		}
		if status, out := httpDo(t, "PUT", url, spec, map[string]string{"Content-MD5": sum}); status != 200 {
			t.Fatalf("PUT: %d %s", status, out)
		}
		e.must(e.svc.StartJob(e.ctx, account, v.ID))
		e.waitEnd(v.ID, resource.JobStateCompleted)

		got := e.revisionAssets(rev)
		want := jobtypes.APIGatewayAsset(v.ID, jobtypes.DefaultRegion, apiasset.Endpoints{}, jobtypes.APIGatewayRequest{
			ApiDescription: ptr("forecasts"), ApiId: "a1b2c3d4e5", ApiKey: ptr("k3y"), ApiName: "Weather API",
			ApiSpecificationMd5Hash: sum, ProtocolType: "REST", Stage: "prod"})
		if len(got) != 1 || got[0].ID != want.ID || got[0].Name != want.Name || got[0].AssetType != resource.AssetTypeAPIGatewayAPI {
			t.Fatalf("assets %+v", got)
		}
		sameJSON(t, "AssetDetails", got[0].Details, string(want.Details))
		sameBytes(t, "stored specification", e.storedBytes(got[0]), spec)
		if left := e.storeLeftovers(); len(left) != 1 {
			t.Errorf("the store holds %v; want only the specification (no staged upload)", left)
		}

		// The download URL, signed at each read, serves the specification.
		urls, err := jobtypes.NewAssetURLs(e.assets, e.signed)
		e.must(err)
		details, err := urls.Details(e.ctx, got[0])
		e.must(err)
		var d struct{ ApiGatewayApiAsset map[string]any }
		e.must(json.Unmarshal(details, &d))
		dl, _ := d.ApiGatewayApiAsset["ApiSpecificationDownloadUrl"].(string)
		dexp, err := time.Parse(time.RFC3339, d.ApiGatewayApiAsset["ApiSpecificationDownloadUrlExpiresAt"].(string))
		if err != nil || dl == "" || time.Until(dexp) < 50*time.Second || time.Until(dexp) > 61*time.Second {
			t.Fatalf("signed details %s (%v)", details, err)
		}
		for k, v := range map[string]string{"ApiId": "a1b2c3d4e5", "ApiName": "Weather API", "Stage": "prod", "ApiKey": "k3y"} {
			if d.ApiGatewayApiAsset[k] != v {
				t.Errorf("signed details lost %s: %s", k, details)
			}
		}
		status, out := httpDo(t, "GET", dl, nil, nil)
		if status != 200 {
			t.Fatalf("GET the specification: %d %s", status, out)
		}
		sameBytes(t, "downloaded specification", out, spec)
		// Other asset types are returned as they are.
		snap := e.insertAsset(e.revision, "snap", resource.AssetTypeS3Snapshot)
		if same, err := urls.Details(e.ctx, snap); err != nil || !bytes.Equal(same, snap.Details) {
			t.Errorf("S3_SNAPSHOT details changed: %s %v", same, err)
		}
	})
}

// TestAPIGatewayImportErrors: no upload, a specification that is not
// OpenAPI 3.0, and one whose MD5 is not the job's (bytes put in the store
// directly, past the URL's check) end the job in ERROR with a
// VALIDATION_EXCEPTION saying so, create nothing and leave nothing staged.
func TestAPIGatewayImportErrors(t *testing.T) {
	t.Parallel()
	eachAssetStore(t, func(t *testing.T, assets string) {
		e := signedEnv(t, assets, jobtypes.SignedURLConfig{})
		ds := e.newDataSet(account, resource.OriginOwned, resource.AssetTypeAPIGatewayAPI)
		rev := e.newRevision(ds, false, false)
		swagger := []byte(`{"swagger":"2.0","info":{"title":"t","version":"1"},"paths":{}}`)
		notJSON := []byte("openapi: 3.0.1\n")
		tooBig := bytes.Repeat([]byte(" "), jobtypes.MaxAPISpecSize+1)
		for _, c := range []struct {
			name     string
			body     []byte // nil: nothing uploaded
			md5Of    []byte // the job's ApiSpecificationMd5Hash is this's
			putStore bool   // put the body in the store directly
			message  string
		}{
			{"no upload", nil, []byte(petstore), false, "nothing was uploaded"},
			{"swagger 2", swagger, swagger, false, "Swagger 2.0"},
			{"yaml", notJSON, notJSON, false, "not JSON"},
			{"md5 mismatch", []byte(petstore), swagger, true, "not the job's ApiSpecificationMd5Hash"},
			{"over 10 MB", tooBig, tooBig, true, "over the limit of 10 MB"},
		} {
			v, err := e.createJob(resource.JobTypeImportAssetFromAPIGatewayAPI, apiDetails(ds.ID, rev.ID, map[string]any{"ApiSpecificationMd5Hash": contentMD5(c.md5Of)}))
			e.must(err)
			url, _ := apiUploadURL(t, v.Details, ds.ID, rev.ID, contentMD5(c.md5Of))
			switch {
			case c.putStore:
				e.putStaged(v.ID, c.body)
			case c.body != nil:
				if status, out := httpDo(t, "PUT", url, c.body, map[string]string{"Content-MD5": contentMD5(c.body)}); status != 200 {
					t.Fatalf("%s: PUT: %d %s", c.name, status, out)
				}
			}
			e.must(e.svc.StartJob(e.ctx, account, v.ID))
			errs := jobErrors(t, e.waitEnd(v.ID, resource.JobStateError))
			if len(errs) != 1 || errs[0].Code != jobs.CodeValidation || !strings.Contains(errs[0].Message, c.message) {
				t.Errorf("%s: errors %+v, want a %s saying %q", c.name, errs, jobs.CodeValidation, c.message)
			}
			if left := e.storeLeftovers(); len(left) != 0 {
				t.Errorf("%s: the store holds %v", c.name, left)
			}
		}
		if n := len(e.revisionAssets(rev)); n != 0 {
			t.Errorf("%d assets were created", n)
		}
	})
}

// TestAPIGatewayImportRerun runs the runner twice, as the engine does after
// a crash that followed the move: the second run finds the specification
// under the asset's key, checks it again and makes the same asset; Cleanup
// then leaves nothing.
func TestAPIGatewayImportRerun(t *testing.T) {
	t.Parallel()
	eachAssetStore(t, func(t *testing.T, assets string) {
		e := signedEnv(t, assets, jobtypes.SignedURLConfig{})
		ds := e.newDataSet(account, resource.OriginOwned, resource.AssetTypeAPIGatewayAPI)
		rev := e.newRevision(ds, false, false)
		spec := []byte(petstore)
		v, err := e.createJob(resource.JobTypeImportAssetFromAPIGatewayAPI, apiDetails(ds.ID, rev.ID, map[string]any{"ApiSpecificationMd5Hash": contentMD5(spec)}))
		e.must(err)
		e.putStaged(v.ID, spec)
		r := e.runners[resource.JobTypeImportAssetFromAPIGatewayAPI]
		job := e.job(v.ID)
		nop := func(int64, int64) {}
		first, err := r.Run(e.ctx, job, nop)
		e.must(err)
		second, err := r.Run(e.ctx, job, nop)
		e.must(err)
		if len(first.Assets) != 1 || len(second.Assets) != 1 || first.Assets[0].ID != second.Assets[0].ID ||
			!bytes.Equal(first.Assets[0].Details, second.Assets[0].Details) || len(second.Errors) != 0 {
			t.Fatalf("runs disagree: %+v / %+v", first, second)
		}
		sameBytes(t, "moved specification", e.storedBytes(resource.Asset{AccountID: account, DataSetID: ds.ID, ID: first.Assets[0].ID}), spec)
		e.must(r.Cleanup(e.ctx, job))
		if left := e.storeLeftovers(); len(left) != 0 {
			t.Errorf("after Cleanup the store holds %v", left)
		}
	})
}
