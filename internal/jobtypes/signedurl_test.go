package jobtypes_test

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/jobtypes"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/signedurl"
)

// signedEnv is an env with the signed-URL job types on the given asset
// store; with the local store, an httptest server serves its URLs.
func signedEnv(t *testing.T, assets string, cfg jobtypes.SignedURLConfig) *env {
	t.Helper()
	var used *jobtypes.SignedURLConfig
	e := newEnv(t, options{assets: assets, deps: func(d *jobtypes.Deps) {
		c := cfg
		if assets == localAssets {
			var h atomic.Pointer[signedurl.Handler]
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.Load().ServeHTTP(w, r) }))
			t.Cleanup(srv.Close)
			signer, err := signedurl.NewSigner(bytes.Repeat([]byte{1}, 32), srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			c.Signer = signer
			h.Store(&signedurl.Handler{Signer: signer, Assets: d.Assets, Gate: jobtypes.UploadGate{Store: d.Store},
				MaxUploadSize: c.MaxUploadSize})
		}
		d.SignedURLs = &c
		used = &c
	}})
	e.signed = used
	return e
}

// putStaged puts body in the store as job jobID's upload, as if uploaded.
func (e *env) putStaged(jobID string, body []byte) {
	e.t.Helper()
	key, err := signedurl.UploadKey(account, jobID)
	e.must(err)
	_, err = e.assets.Put(e.ctx, key, bytes.NewReader(body), int64(len(body)))
	e.must(err)
}

func eachAssetStore(t *testing.T, fn func(t *testing.T, assets string)) {
	for _, a := range []string{localAssets, s3Assets} {
		t.Run(a, func(t *testing.T) {
			t.Parallel()
			fn(t, a)
		})
	}
}

func contentMD5(b []byte) string {
	sum := md5.Sum(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

func signedImportDetails(dataSetID, revisionID, name, md5Hash string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"ImportAssetFromSignedUrl": map[string]string{
		"AssetName": name, "DataSetId": dataSetID, "RevisionId": revisionID, "Md5Hash": md5Hash}})
	return b
}

func signedExportDetails(dataSetID, revisionID, assetID string) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"ExportAssetToSignedUrl": map[string]string{
		"AssetId": assetID, "DataSetId": dataSetID, "RevisionId": revisionID}})
	return b
}

// signedDetails reads the member's SignedUrl and SignedUrlExpiresAt.
func signedDetails(t *testing.T, details json.RawMessage, member string) (string, time.Time) {
	t.Helper()
	var d map[string]struct {
		SignedUrl          string
		SignedUrlExpiresAt string
	}
	if err := json.Unmarshal(details, &d); err != nil {
		t.Fatalf("Details %s: %v", details, err)
	}
	exp, err := time.Parse(time.RFC3339, d[member].SignedUrlExpiresAt)
	if err != nil || d[member].SignedUrl == "" {
		t.Fatalf("Details %s: no SignedUrl/SignedUrlExpiresAt (%v)", details, err)
	}
	return d[member].SignedUrl, exp
}

func httpDo(t *testing.T, method, url string, body []byte, header map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

func TestSignedURLRoundTrip(t *testing.T) {
	t.Parallel()
	eachAssetStore(t, func(t *testing.T, assets string) {
		e := signedEnv(t, assets, jobtypes.SignedURLConfig{})
		body := pattern(7, 3*mib+17)
		sum := contentMD5(body)
		v, err := e.createJob(resource.JobTypeImportAssetFromSignedURL,
			signedImportDetails(e.dataSet.ID, e.revision.ID, "data/file.csv", sum))
		if err != nil {
			t.Fatal(err)
		}
		url, exp := signedDetails(t, v.Details, "ImportAssetFromSignedUrl")
		if d := time.Until(exp); d < 59*time.Minute || d > 61*time.Minute {
			t.Errorf("SignedUrlExpiresAt %s is not an hour ahead", exp)
		}
		if !strings.Contains(string(v.Details), `"Md5Hash":"`+sum+`"`) {
			t.Errorf("Details %s lost Md5Hash", v.Details)
		}

		// A wrong body is refused (400) and stores nothing.
		wrong := append(append([]byte{}, body[:len(body)-1]...), body[len(body)-1]+1)
		if status, out := httpDo(t, "PUT", url, wrong, map[string]string{"Content-MD5": sum}); status != 400 || !bytes.Contains(out, []byte("BadDigest")) {
			t.Errorf("PUT of a wrong body: %d %s", status, out)
		}
		if left := e.storeLeftovers(); len(left) != 0 {
			t.Errorf("a refused upload left %v", left)
		}
		// Another Content-MD5 than the job's is refused (403).
		if status, out := httpDo(t, "PUT", url, wrong, map[string]string{"Content-MD5": contentMD5(wrong)}); status != 403 {
			t.Errorf("PUT with another Content-MD5: %d %s", status, out)
		}
		// The right one is taken: 2xx, empty body.
		if status, out := httpDo(t, "PUT", url, body, map[string]string{"Content-MD5": sum}); status/100 != 2 || len(out) != 0 {
			t.Fatalf("PUT: %d %q", status, out)
		}
		e.must(e.svc.StartJob(e.ctx, account, v.ID))
		j := e.waitEnd(v.ID, resource.JobStateCompleted)
		checkProgress(t, j, int64(len(body)))
		got := e.revisionAssets(e.revision)
		if len(got) != 1 || got[0].Name != "data/file.csv" || got[0].ID != jobs.AssetID(v.ID, 0) ||
			got[0].AssetType != resource.AssetTypeS3Snapshot {
			t.Fatalf("assets %+v", got)
		}
		if want := `{"S3SnapshotAsset":{"Size":3145745}}`; string(got[0].Details) != want {
			t.Errorf("AssetDetails %s, want %s", got[0].Details, want)
		}
		sameBytes(t, "imported asset", e.storedBytes(got[0]), body)
		if left := e.storeLeftovers(); len(left) != 1 {
			t.Errorf("the store holds %v; want only the asset (no staged upload)", left)
		}
		// The URL takes no upload once the job has run (the local store
		// says so; S3 can't be told, see docs/behaviour.md).
		if assets == localAssets {
			if status, _ := httpDo(t, "PUT", url, body, map[string]string{"Content-MD5": sum}); status != 403 {
				t.Errorf("PUT after the job completed: %d, want 403", status)
			}
		}

		// Export it again to a signed URL.
		j = e.run(resource.JobTypeExportAssetToSignedURL, signedExportDetails(e.dataSet.ID, e.revision.ID, got[0].ID), resource.JobStateCompleted)
		dl, dexp := signedDetails(t, j.Details, "ExportAssetToSignedUrl")
		if d := time.Until(dexp); d < 50*time.Second || d > 61*time.Second {
			t.Errorf("download SignedUrlExpiresAt %s is not a minute ahead", dexp)
		}
		if !strings.Contains(string(j.Details), `"AssetId":"`+got[0].ID+`"`) {
			t.Errorf("Details %s lost AssetId", j.Details)
		}
		status, out := httpDo(t, "GET", dl, nil, nil)
		if status != 200 {
			t.Fatalf("GET: %d %s", status, out)
		}
		sameBytes(t, "downloaded", out, body)
		status, out = httpDo(t, "GET", dl, nil, map[string]string{"Range": "bytes=1048576-1048599"})
		if status != 206 {
			t.Fatalf("ranged GET: %d", status)
		}
		sameBytes(t, "range", out, body[1048576:1048600])
		if status, _ := httpDo(t, "PUT", dl, body, nil); status/100 == 2 {
			t.Error("a download URL took a PUT")
		}
	})
}

func TestSignedURLImportErrors(t *testing.T) {
	t.Parallel()
	eachAssetStore(t, func(t *testing.T, assets string) {
		e := signedEnv(t, assets, jobtypes.SignedURLConfig{MaxUploadSize: 1000})
		detailsOf := func(je jobs.JobError) string {
			var d struct {
				ImportAssetFromSignedUrlJobErrorDetails struct{ AssetName string }
			}
			if err := json.Unmarshal(je.Details, &d); err != nil {
				t.Fatalf("Details %s: %v", je.Details, err)
			}
			return d.ImportAssetFromSignedUrlJobErrorDetails.AssetName
		}

		// Started without an upload.
		v, err := e.createJob(resource.JobTypeImportAssetFromSignedURL,
			signedImportDetails(e.dataSet.ID, e.revision.ID, "never", contentMD5([]byte("x"))))
		e.must(err)
		e.must(e.svc.StartJob(e.ctx, account, v.ID))
		errs := jobErrors(t, e.waitEnd(v.ID, resource.JobStateError))
		if len(errs) != 1 || errs[0].Code != jobs.CodeValidation || detailsOf(errs[0]) != "never" ||
			!strings.Contains(errs[0].Message, "nothing was uploaded") {
			t.Errorf("no upload: %+v", errs)
		}

		// Too large: the local store refuses the PUT; S3 takes it (it
		// knows only its own 5 GiB limit) and the run refuses it.
		big := pattern(3, 1001)
		v, err = e.createJob(resource.JobTypeImportAssetFromSignedURL,
			signedImportDetails(e.dataSet.ID, e.revision.ID, "big", contentMD5(big)))
		e.must(err)
		url, _ := signedDetails(t, v.Details, "ImportAssetFromSignedUrl")
		status, out := httpDo(t, "PUT", url, big, map[string]string{"Content-MD5": contentMD5(big)})
		if assets == localAssets && (status != 400 || !bytes.Contains(out, []byte("EntityTooLarge"))) {
			t.Errorf("PUT of 1001 bytes: %d %s", status, out)
		}
		e.must(e.svc.StartJob(e.ctx, account, v.ID))
		errs = jobErrors(t, e.waitEnd(v.ID, resource.JobStateError))
		if len(errs) != 1 || detailsOf(errs[0]) != "big" {
			t.Errorf("too large: %+v", errs)
		}
		if assets == s3Assets && (errs[0].Code != jobs.CodeServiceQuotaExceeded || errs[0].LimitName != jobtypes.LimitAssetSize) {
			t.Errorf("too large: %+v", errs)
		}

		// Cancelled after an upload: the staged bytes go.
		small := []byte("small")
		v, err = e.createJob(resource.JobTypeImportAssetFromSignedURL,
			signedImportDetails(e.dataSet.ID, e.revision.ID, "small", contentMD5(small)))
		e.must(err)
		url, _ = signedDetails(t, v.Details, "ImportAssetFromSignedUrl")
		if status, out := httpDo(t, "PUT", url, small, map[string]string{"Content-MD5": contentMD5(small)}); status != 200 {
			t.Fatalf("PUT: %d %s", status, out)
		}
		if len(e.storeLeftovers()) != 1 {
			t.Fatalf("the upload is not staged: %v", e.storeLeftovers())
		}
		e.must(e.svc.CancelJob(e.ctx, account, v.ID))
		if left := e.storeLeftovers(); len(left) != 0 {
			t.Errorf("after the failures and the cancel, the store holds %v", left)
		}
		if n := len(e.revisionAssets(e.revision)); n != 0 {
			t.Errorf("%d assets were created", n)
		}
	})
}

func TestSignedURLExpiry(t *testing.T) {
	t.Parallel()
	eachAssetStore(t, func(t *testing.T, assets string) {
		e := signedEnv(t, assets, jobtypes.SignedURLConfig{UploadExpiry: time.Second, DownloadExpiry: time.Second})
		body := []byte("expiring")
		v, err := e.createJob(resource.JobTypeImportAssetFromSignedURL,
			signedImportDetails(e.dataSet.ID, e.revision.ID, "late", contentMD5(body)))
		e.must(err)
		url, exp := signedDetails(t, v.Details, "ImportAssetFromSignedUrl")

		// An asset to export, its bytes put in the store directly.
		a := e.insertAsset(e.revision, "exported", resource.AssetTypeS3Snapshot)
		key, err := assetstore.AssetKey(a.AccountID, a.DataSetID, a.ID)
		e.must(err)
		_, err = e.assets.Put(e.ctx, key, bytes.NewReader(body), int64(len(body)))
		e.must(err)
		j := e.run(resource.JobTypeExportAssetToSignedURL, signedExportDetails(e.dataSet.ID, e.revision.ID, a.ID), resource.JobStateCompleted)
		dl, dexp := signedDetails(t, j.Details, "ExportAssetToSignedUrl")

		// Past both expiries (the servers count whole seconds).
		time.Sleep(time.Until(later(exp, dexp).Add(1100 * time.Millisecond)))
		if status, out := httpDo(t, "PUT", url, body, map[string]string{"Content-MD5": contentMD5(body)}); status != 403 {
			t.Errorf("PUT after expiry: %d %s", status, out)
		}
		if status, out := httpDo(t, "GET", dl, nil, nil); status != 403 {
			t.Errorf("GET after expiry: %d %s", status, out)
		}
		e.must(e.svc.StartJob(e.ctx, account, v.ID))
		errs := jobErrors(t, e.waitEnd(v.ID, resource.JobStateError))
		if len(errs) != 1 || !strings.Contains(errs[0].Message, "expired") {
			t.Errorf("expired URL: %+v", errs)
		}
	})
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func TestSignedURLValidation(t *testing.T) {
	t.Parallel()
	e := signedEnv(t, localAssets, jobtypes.SignedURLConfig{})
	api := e.newDataSet(account, resource.OriginOwned, resource.AssetTypeAPIGatewayAPI)
	apiRev := e.newRevision(api, false, false)
	final := e.newRevision(e.dataSet, true, false)
	good := contentMD5([]byte("x"))
	for _, tc := range []struct {
		name    string
		details json.RawMessage
		want    string
	}{
		{"no Md5Hash", signedImportDetails(e.dataSet.ID, e.revision.ID, "n", ""), fault.Validation},
		{"short Md5Hash", signedImportDetails(e.dataSet.ID, e.revision.ID, "n", "abc="), fault.Validation},
		{"Md5Hash of 24 non-base64 characters", signedImportDetails(e.dataSet.ID, e.revision.ID, "n", "!!!!!!!!!!!!!!!!!!!!!!=="), fault.Validation},
		{"empty AssetName", signedImportDetails(e.dataSet.ID, e.revision.ID, "", good), fault.Validation},
		{"finalized revision", signedImportDetails(e.dataSet.ID, final.ID, "n", good), fault.Conflict},
		{"API data set", signedImportDetails(api.ID, apiRev.ID, "n", good), fault.Validation},
		{"missing revision", signedImportDetails(e.dataSet.ID, resource.NewID(), "n", good), fault.ResourceNotFound},
	} {
		_, err := e.createJob(resource.JobTypeImportAssetFromSignedURL, tc.details)
		if fe := fault.As(err); fe == nil || fe.Name != tc.want {
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.want)
		}
	}
	_, err := e.createJob(resource.JobTypeExportAssetToSignedURL, signedExportDetails(e.dataSet.ID, e.revision.ID, resource.NewID()))
	if fe := fault.As(err); fe == nil || fe.Name != fault.ResourceNotFound || fe.ResourceType != resource.KindAsset {
		t.Errorf("export of a missing asset: %v", err)
	}
}

// TestSignedURLImportRerun runs the import's runner as the engine does
// after a crash: a second run after the first moved the upload finds it
// under the asset's key and makes the same asset; Cleanup then leaves
// nothing.
func TestSignedURLImportRerun(t *testing.T) {
	t.Parallel()
	eachAssetStore(t, func(t *testing.T, assets string) {
		e := signedEnv(t, assets, jobtypes.SignedURLConfig{})
		body := pattern(9, 4096)
		v, err := e.createJob(resource.JobTypeImportAssetFromSignedURL,
			signedImportDetails(e.dataSet.ID, e.revision.ID, "rerun", contentMD5(body)))
		e.must(err)
		url, _ := signedDetails(t, v.Details, "ImportAssetFromSignedUrl")
		if status, out := httpDo(t, "PUT", url, body, map[string]string{"Content-MD5": contentMD5(body)}); status != 200 {
			t.Fatalf("PUT: %d %s", status, out)
		}
		r := e.runners[resource.JobTypeImportAssetFromSignedURL]
		job := e.job(v.ID)
		nop := func(int64, int64) {}
		first, err := r.Run(e.ctx, job, nop)
		e.must(err)
		second, err := r.Run(e.ctx, job, nop)
		e.must(err)
		if len(first.Assets) != 1 || len(second.Assets) != 1 || first.Assets[0].ID != second.Assets[0].ID ||
			string(first.Assets[0].Details) != string(second.Assets[0].Details) {
			t.Fatalf("runs disagree: %+v / %+v", first, second)
		}
		sameBytes(t, "moved upload", e.storedBytes(resource.Asset{AccountID: account, DataSetID: e.dataSet.ID, ID: first.Assets[0].ID}), body)
		e.must(r.Cleanup(e.ctx, job))
		if left := e.storeLeftovers(); len(left) != 0 {
			t.Errorf("after Cleanup the store holds %v", left)
		}
	})
}
