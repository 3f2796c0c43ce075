package e2e

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/input"
	"github.com/go-rod/rod/lib/proto"
	"github.com/stretchr/testify/require"
)

// ids are the data-id attributes of the elements matching sel, in order.
func (c *console) ids(sel string) []string {
	c.t.Helper()
	var out []string
	require.NoError(c.t, c.p.MustEval(`(s) => [...document.querySelectorAll(s)].map(e => e.dataset.id)`, sel).Unmarshal(&out))
	return out
}

// waitIDs waits until the elements matching sel carry exactly the ids want
// (in any order).
func (c *console) waitIDs(what, sel string, want ...string) {
	c.t.Helper()
	want = slices.Sorted(slices.Values(want))
	deadline := time.Now().Add(waitFor)
	for {
		got := slices.Sorted(slices.Values(c.ids(sel)))
		if slices.Equal(got, want) {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: got %v, want %v (at %s)", what, got, want, c.url())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// gone waits until nothing matches sel.
func (c *console) gone(what, sel string) {
	c.t.Helper()
	c.until(what, `(s) => !document.querySelector(s)`, sel)
}

// okJob waits for the form's "job started" notice to name a job other than
// before, and returns that job's id.
func (c *console) okJob(form, before string) string {
	c.t.Helper()
	sel := `form[aria-label="` + form + `"] .ok a`
	c.until("a new job started from "+form, `(s, before) => { const a = document.querySelector(s); return !!a && !a.href.endsWith("/" + before); }`, sel, before)
	href := c.el(sel).MustProperty("href").String()
	return href[strings.LastIndex(href, "/")+1:]
}

func notFound(t *testing.T, what string, err error) {
	t.Helper()
	require.Error(t, err, what)
	require.Equal(t, "ResourceNotFoundException", apiErrorCode(err), "%s: %v", what, err)
}

// TestConsoleOwner walks the owner's side of the console that TestConsole
// leaves out, on one server and one browser: a job's page following an
// import live (its bytes released step by step by a gated proxy in front of
// MinIO), exports with SSE-KMS and SSE-S3, a two-file upload, an import from
// S3, the edits and deletions of data sets, revisions, assets and data
// grants (each checked through the API), the jobs page's filters, the data
// sets page at phone width, and the sign-in form's secret field.
func TestConsoleOwner(t *testing.T) {
	browser := launchChromium(t)
	minio, env := s3Env(t)
	gate := startGatedProxy(t, minio.URL)
	for i, kv := range env {
		if strings.HasPrefix(kv, "AWS_ENDPOINT_URL_S3=") {
			env[i] = "AWS_ENDPOINT_URL_S3=" + gate.URL
		}
	}
	s := startServer(t, backends[0], serverOptions{Env: env})
	ctx := context.Background()
	root := s.client(s.Root)
	src := minio.NewBucket(t)
	dst := minio.NewBucket(t)

	// Two data sets and a revision, made with the API.
	mkDataSet := func(name, description string) *dataexchange.CreateDataSetOutput {
		ds, err := root.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{
			AssetType: types.AssetTypeS3Snapshot, Name: aws.String(name), Description: aws.String(description)})
		require.NoError(t, err)
		return ds
	}
	sea := mkDataSet("Sea temperatures", "Daily means from moored buoys")
	port := mkDataSet("Port calls", "Vessel arrivals and departures")
	seaID, portID := aws.ToString(sea.Id), aws.ToString(port.Id)
	r1, err := root.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: sea.Id, Comment: aws.String("January")})
	require.NoError(t, err)
	rev1 := aws.ToString(r1.Id)
	rev1Path := "/console/data-sets/" + seaID + "/revisions/" + rev1

	// The sign-in form: the secret in a password field that the browser is
	// not invited to remember.
	c := newConsole(t, browser, s)
	c.open("/console/data-sets")
	c.waitPath(`^/console/signin$`)
	secret := c.el("#secretAccessKey")
	require.Equal(t, "password", aws.ToString(secret.MustAttribute("type")))
	require.Equal(t, "off", aws.ToString(secret.MustAttribute("autocomplete")))
	require.Equal(t, 2, c.p.MustEval(`() => document.querySelectorAll("form input:not([type=hidden])").length`).Int(), "the sign-in form is plain: two fields")
	c.signIn(s.Root)
	c.el("h1", "^Data sets$")

	// The name search: ?q= filters the listed data sets, case-insensitively,
	// and typing into the search field sets it.
	const dsRows = `table[aria-label="Data sets"] tbody tr`
	c.waitIDs("every data set", dsRows, seaID, portID)
	c.open("/console/data-sets?q=SEA")
	c.waitIDs("?q=SEA", dsRows, seaID)
	c.fill(`input[name=q]`, "calls")
	c.until("q=calls in the URL", `() => new URLSearchParams(location.search).get("q") === "calls"`)
	c.waitIDs("the search for calls", dsRows, portID)
	c.open("/console/data-sets?q=nothing-like-it")
	c.el(".empty", "No data set's name contains")
	require.Empty(t, c.ids(dsRows))

	// Edit the data set's name and description; add two tags, remove one.
	c.open("/console/data-sets/" + seaID)
	c.el("h1", "^Sea temperatures$")
	c.click(".head-card button", "^Edit$")
	c.fill(`form[aria-label="Edit data set"] [name=name]`, "Sea surface temperatures")
	c.fill(`form[aria-label="Edit data set"] [name=description]`, "Daily means from 12 moored buoys")
	c.click(`form[aria-label="Edit data set"] button[type=submit]`)
	c.el("h1", "^Sea surface temperatures$")
	c.el(".head-card .description", "12 moored buoys")
	ds, err := root.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: sea.Id})
	require.NoError(t, err)
	require.Equal(t, "Sea surface temperatures", aws.ToString(ds.Name))
	require.Equal(t, "Daily means from 12 moored buoys", aws.ToString(ds.Description))
	for _, kv := range [][2]string{{"team", "ocean"}, {"tier", "gold"}} {
		c.fill(`form[aria-label="Add tag"] [name=tagKey]`, kv[0])
		c.fill(`form[aria-label="Add tag"] [name=tagValue]`, kv[1])
		c.click(`form[aria-label="Add tag"] button[type=submit]`)
		c.el(".tag", "^"+kv[0]+"="+kv[1])
	}
	tags := func() map[string]string {
		out, err := root.ListTagsForResource(ctx, &dataexchange.ListTagsForResourceInput{ResourceArn: sea.Arn})
		require.NoError(t, err)
		return out.Tags
	}
	require.Equal(t, map[string]string{"team": "ocean", "tier": "gold"}, tags())
	c.click(`button[aria-label="Remove tag team"]`)
	c.gone("the removed tag", `button[aria-label="Remove tag team"]`)
	require.Equal(t, map[string]string{"tier": "gold"}, tags())
	// The search finds the new name.
	c.open("/console/data-sets?q=surface")
	c.waitIDs("?q=surface", dsRows, seaID)

	// Upload two files in one go.
	c.open(rev1Path)
	c.el(".empty", "no assets yet")
	files := map[string][]byte{"stations.csv": patternBytes(11, 300<<10), "readings.bin": patternBytes(12, 1<<20)}
	var paths []string
	for name, data := range files {
		p := filepath.Join(t.TempDir(), name)
		require.NoError(t, os.WriteFile(p, data, 0o644))
		paths = append(paths, p)
	}
	c.el(`form[aria-label="Upload files"] input[type=file]`).MustSetFiles(paths...)
	c.click(`form[aria-label="Upload files"] button[type=submit]`)
	for name := range files {
		c.el(`.upload[data-file="` + name + `"][data-phase="done"]`)
		c.el(`table[aria-label="Assets"] tr[data-name="` + name + `"]`)
	}
	assetID := map[string]string{}
	for _, a := range listAssets(t, root, seaID, rev1) {
		assetID[aws.ToString(a.Name)] = aws.ToString(a.Id)
		require.Equal(t, float64(len(files[aws.ToString(a.Name)])), a.AssetDetails.S3SnapshotAsset.Size, aws.ToString(a.Name))
	}
	require.Len(t, assetID, 2)
	require.Contains(t, assetID, "stations.csv")
	require.Contains(t, assetID, "readings.bin")

	// Import from S3 (bucket and keys): the asset appears. A small import
	// may end before the page's job list first sees it: the list's
	// ListJobs answers are held here until no job of the revision runs,
	// and the asset must appear all the same.
	minio.PutObject(t, src, "imports/buoys.csv", []byte("buoy,lat,lon\nB1,60.1,-4.2\n"))
	router := c.p.HijackRequests()
	router.MustAdd("*/v1/jobs?dataSetId=*", func(h *rod.Hijack) {
		deadline := time.Now().Add(waitFor)
		for time.Now().Before(deadline) {
			out, err := root.ListJobs(ctx, &dataexchange.ListJobsInput{DataSetId: sea.Id, RevisionId: r1.Id})
			if err == nil && !slices.ContainsFunc(out.Jobs, func(j types.JobEntry) bool {
				return j.State == types.StateWaiting || j.State == types.StateInProgress
			}) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err := h.LoadResponse(http.DefaultClient, true); err != nil {
			t.Errorf("hijacked ListJobs: %v", err)
			h.Response.Fail(proto.NetworkErrorReasonFailed)
		}
	})
	go router.Run()
	c.fill(`form[aria-label="Import from S3"] [name=importBucket]`, src)
	c.fill(`form[aria-label="Import from S3"] [name=importKeys]`, "imports/buoys.csv")
	c.click(`form[aria-label="Import from S3"] button[type=submit]`)
	importJob := c.okJob("Import from S3", "")
	c.el(`tr[data-id="` + importJob + `"][data-state="COMPLETED"]`)
	c.el(`table[aria-label="Assets"] tr[data-name="imports/buoys.csv"]`)
	router.MustStop()
	requireCompleted(t, waitJob(t, root, importJob))
	require.Len(t, listAssets(t, root, seaID, rev1), 3)

	// A job's page follows an import live. The proxy in front of MinIO
	// holds the object's bytes back and lets them through a quarter at a
	// time; after each quarter the page, opened while the job is
	// IN_PROGRESS, must show more bytes done, without a reload.
	const bigSize = 16 << 20
	big := patternBytes(13, bigSize)
	minio.PutObject(t, src, "large/profile.bin", big)
	gate.hold()
	c.fill(`form[aria-label="Import from S3"] [name=importKeys]`, "large/profile.bin")
	c.click(`form[aria-label="Import from S3"] button[type=submit]`)
	slowJob := c.okJob("Import from S3", importJob)
	c.click(`form[aria-label="Import from S3"] .ok a`)
	c.waitPath(`^/console/jobs/` + slowJob + `$`)
	c.el("h1", "IMPORT_ASSETS_FROM_S3")
	c.el(`.job-progress [data-state="IN_PROGRESS"]`)
	c.p.MustEval(`() => {
		window.__marker = "no reload";
		const seen = window.__progress = [];
		const look = () => {
			const p = document.querySelector('progress[aria-label="Job progress"]');
			const s = document.querySelector('.job-progress [data-state]');
			if (!p || !s) return;
			const v = [Number(p.dataset.done), Number(p.dataset.total), s.dataset.state];
			const last = seen[seen.length - 1];
			if (!last || last[0] !== v[0] || last[2] !== v[2]) seen.push(v);
		};
		look();
		new MutationObserver(look).observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
	}`)
	shown := func() int64 {
		return int64(c.p.MustEval(`() => { const p = document.querySelector('progress[aria-label="Job progress"]'); return p ? Number(p.dataset.done) : 0; }`).Num())
	}
	var steps []int64
	for i := 0; i < 3; i++ {
		before := shown()
		gate.allow(bigSize / 4)
		c.until("the job's page to show more bytes done", `(before) => {
			const p = document.querySelector('progress[aria-label="Job progress"]');
			const s = document.querySelector('.job-progress [data-state]');
			return !!p && Number(p.dataset.done) > before && s.dataset.state === "IN_PROGRESS";
		}`, before)
		done := shown()
		require.Less(t, done, int64(bigSize), "the job can't be done: its bytes are held back")
		steps = append(steps, done)
	}
	gate.release()
	c.el(".job-progress", "ended COMPLETED")
	var seen [][3]any
	require.NoError(t, c.p.MustEval(`() => window.__progress`).Unmarshal(&seen))
	t.Logf("job progress released %v, seen: %v", steps, seen)
	require.Equal(t, "no reload", c.p.MustEval(`() => window.__marker`).String(), "the page was reloaded")
	rises := 0
	var last float64
	for _, v := range seen {
		if v[2] == "IN_PROGRESS" && v[0].(float64) > last {
			rises++
		}
		if v[2] == "IN_PROGRESS" && v[0].(float64) > 0 {
			require.Equal(t, float64(bigSize), v[1], "the bar's total")
		}
		last = v[0].(float64)
	}
	require.GreaterOrEqual(t, rises, 3, "bytes done rose %d times while IN_PROGRESS: %v", rises, seen)
	final := seen[len(seen)-1]
	require.Equal(t, []any{float64(bigSize), float64(bigSize), "COMPLETED"}, final[:], "the bar ends full")
	requireCompleted(t, waitJob(t, root, slowJob))

	// Export an asset to S3 with aws:kms and a key ARN, then with AES256;
	// HeadObject tells the objects' encryption.
	c.open(rev1Path)
	c.el(`tr[data-name="large/profile.bin"]`)
	c.click(`input[aria-label="Select stations.csv"]`)
	c.click("button", "Export 1 selected to S3")
	const exportForm = `form[aria-label="Export assets to S3"]`
	c.fill(exportForm+` [name=exportBucket]`, dst)
	encryptions := []struct{ label, key, want string }{
		{"aws:kms (SSE-KMS)", "kms/stations.csv", "aws:kms"},
		{"AES256 (SSE-S3)", "aes/stations.csv", "AES256"},
	}
	if !minio.HasKMS() {
		t.Logf("%s has no KMS: skipping the exports with encryption", minio.Kind)
		encryptions = nil
	}
	exportJob := ""
	for _, e := range encryptions {
		c.fill(exportForm+` [name="key-`+assetID["stations.csv"]+`"]`, e.key)
		c.el(exportForm + ` [name=encryption]`).MustSelect(e.label)
		if e.want == "aws:kms" {
			c.fill(exportForm+` [name=kmsKeyArn]`, "arn:aws:kms:"+minio.KMSKeyID)
		} else {
			c.gone("the KMS key field", exportForm+` [name=kmsKeyArn]`)
		}
		c.click(exportForm + ` button[type=submit]`)
		exportJob = c.okJob("Export assets to S3", exportJob)
		c.el(`tr[data-id="` + exportJob + `"][data-state="COMPLETED"]`)
		job, err := root.GetJob(ctx, &dataexchange.GetJobInput{JobId: aws.String(exportJob)})
		require.NoError(t, err)
		require.Equal(t, e.want, string(job.Details.ExportAssetsToS3.Encryption.Type))
		require.True(t, bytes.Equal(files["stations.csv"], minio.GetObject(t, dst, e.key)), "%s: the exported bytes", e.key)
		h, err := minio.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(dst), Key: aws.String(e.key)})
		require.NoError(t, err)
		require.Equal(t, e.want, string(h.ServerSideEncryption), "%s: ServerSideEncryption", e.key)
		if e.want == "aws:kms" {
			require.Contains(t, aws.ToString(h.SSEKMSKeyId), minio.KMSKeyID, "%s: the KMS key", e.key)
		}
	}

	// The revision: edit its comment, finalize, un-finalize, finalize
	// again, revoke with a comment.
	getRev := func(id string) *dataexchange.GetRevisionOutput {
		r, err := root.GetRevision(ctx, &dataexchange.GetRevisionInput{DataSetId: sea.Id, RevisionId: aws.String(id)})
		require.NoError(t, err)
		return r
	}
	c.click(".head-card button", "^Edit comment$")
	c.fill(`form[aria-label="Edit comment"] [name=comment]`, "January, recalibrated")
	c.click(`form[aria-label="Edit comment"] button[type=submit]`)
	c.el(".head-card .description", "^January, recalibrated$")
	require.Equal(t, "January, recalibrated", aws.ToString(getRev(rev1).Comment))
	c.click(".head-card button", "^Finalize$")
	c.el(".head-card h1 .badge", "^Finalized$")
	require.True(t, getRev(rev1).Finalized)
	c.click(".head-card button", "^Un-finalize$")
	c.el(".head-card h1 .badge", "^Draft$")
	require.False(t, getRev(rev1).Finalized)
	c.click(".head-card button", "^Finalize$")
	c.el(".head-card h1 .badge", "^Finalized$")
	require.True(t, getRev(rev1).Finalized)
	c.click(".head-card button", "^Revoke…$")
	c.fill(`form[aria-label="Revoke revision"] [name=revocationComment]`, "Withdrawn: a sensor drifted in January")
	c.click(`form[aria-label="Revoke revision"] button[type=submit]`)
	c.el(".head-card h1 .badge", "^Revoked$")
	c.el(".head-card .facts", "Withdrawn: a sensor drifted in January")
	r := getRev(rev1)
	require.True(t, r.Revoked)
	require.Equal(t, "Withdrawn: a sensor drifted in January", aws.ToString(r.RevocationComment))

	// A second revision, created in the console, with two assets imported
	// through the API: rename one, delete the other.
	c.open("/console/data-sets/" + seaID)
	c.fill(`form[aria-label="Create revision"] [name=revisionComment]`, "February")
	c.click(`form[aria-label="Create revision"] button[type=submit]`)
	rev2 := c.waitPath(`^/console/data-sets/[^/]+/revisions/([^/]+)$`)[1]
	require.Equal(t, "February", aws.ToString(getRev(rev2).Comment))
	minio.PutObject(t, src, "feb/a.csv", []byte("a\n1\n"))
	minio.PutObject(t, src, "feb/b.csv", []byte("b\n2\n"))
	rev2Job := runJob(t, root, types.TypeImportAssetsFromS3, importDetails(seaID, rev2, src, "feb/a.csv", "feb/b.csv"))
	requireCompleted(t, rev2Job)
	c.open("/console/data-sets/" + seaID + "/revisions/" + rev2)
	c.click(`button[aria-label="Rename feb/a.csv"]`)
	c.fill(`form[aria-label="Rename feb/a.csv"] [name=assetName]`, "feb/alpha.csv")
	c.click(`form[aria-label="Rename feb/a.csv"] button[type=submit]`)
	c.el(`tr[data-name="feb/alpha.csv"]`)
	c.gone("the old name", `tr[data-name="feb/a.csv"]`)
	c.click(`tr[data-name="feb/b.csv"] button`, "^Delete$")
	c.click(`tr[data-name="feb/b.csv"] button`, "^Yes, delete$")
	c.gone("the deleted asset", `tr[data-name="feb/b.csv"]`)
	var names []string
	for _, a := range listAssets(t, root, seaID, rev2) {
		names = append(names, aws.ToString(a.Name))
	}
	require.Equal(t, []string{"feb/alpha.csv"}, names)

	// The jobs page's filters, from the URL: state, data set, revision.
	rb, err := root.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: port.Id})
	require.NoError(t, err)
	failed := runJob(t, root, types.TypeImportAssetsFromS3, importDetails(portID, aws.ToString(rb.Id), src, "no/such/key.csv"))
	require.Equal(t, types.StateError, failed.State)
	waiting := createJob(t, root, types.TypeImportAssetsFromS3, importDetails(portID, aws.ToString(rb.Id), src, "feb/a.csv"))
	jobIDs := func(in dataexchange.ListJobsInput, state types.State) []string {
		var out []string
		p := dataexchange.NewListJobsPaginator(root, &in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			require.NoError(t, err)
			for _, j := range page.Jobs {
				if state == "" || j.State == state {
					out = append(out, aws.ToString(j.Id))
				}
			}
		}
		return out
	}
	const jobRows = `table[aria-label="Jobs"] tbody tr`
	c.open("/console/jobs")
	all := jobIDs(dataexchange.ListJobsInput{}, "")
	require.Len(t, all, 9, "2 uploads, 2 imports and 2 exports in January, 1 import in February, 2 jobs in Port calls")
	c.waitIDs("every job", jobRows, all...)
	for _, f := range []struct {
		query string
		want  []string
	}{
		{"state=ERROR", []string{aws.ToString(failed.Id)}},
		{"state=WAITING", []string{waiting}},
		{"state=COMPLETED", jobIDs(dataexchange.ListJobsInput{}, types.StateCompleted)},
		{"dataSetId=" + portID, []string{aws.ToString(failed.Id), waiting}},
		{"dataSetId=" + seaID, jobIDs(dataexchange.ListJobsInput{DataSetId: sea.Id}, "")},
		{"revisionId=" + rev2, []string{aws.ToString(rev2Job.Id)}},
		{"dataSetId=" + seaID + "&revisionId=" + rev1 + "&state=COMPLETED", jobIDs(dataexchange.ListJobsInput{DataSetId: sea.Id, RevisionId: r1.Id}, types.StateCompleted)},
	} {
		c.open("/console/jobs?" + f.query)
		c.waitIDs("jobs?"+f.query, jobRows, f.want...)
	}
	require.Len(t, jobIDs(dataexchange.ListJobsInput{DataSetId: sea.Id, RevisionId: r1.Id}, types.StateCompleted), 6)
	// The filter form sets the query.
	c.open("/console/jobs")
	c.waitIDs("every job again", jobRows, all...)
	c.fill(`form[aria-label="Filter jobs"] [name=dataSetId]`, portID)
	c.p.Keyboard.MustType(input.Enter)
	c.until("dataSetId in the URL", `(id) => new URLSearchParams(location.search).get("dataSetId") === id`, portID)
	c.waitIDs("the data set filter", jobRows, aws.ToString(failed.Id), waiting)
	c.el(`select[name=state]`).MustSelect("ERROR")
	c.until("state in the URL", `() => new URLSearchParams(location.search).get("state") === "ERROR"`)
	c.waitIDs("data set and state", jobRows, aws.ToString(failed.Id))

	// Phone width: the data sets page has no horizontal scrollbar, times
	// show the UTC time on hover, and ids have copy buttons that copy.
	c.p.MustSetViewport(390, 844, 3, true)
	c.open("/console/data-sets")
	c.waitIDs("every data set at phone width", dsRows, seaID, portID)
	noScroll := func(what string) {
		t.Helper()
		c.p.MustEval(`() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))`)
		w := c.p.MustEval(`() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]`).Arr()
		require.Equal(t, 390, w[1].Int(), "%s: the layout is the phone's width", what)
		require.LessOrEqual(t, w[0].Int(), w[1].Int(), "%s at 390 px wide: scrollWidth %d > clientWidth %d", what, w[0].Int(), w[1].Int())
	}
	noScroll("the data sets page")
	ds, err = root.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: sea.Id})
	require.NoError(t, err)
	tm := c.el(`tr[data-id="` + seaID + `"] time`)
	require.Equal(t, "UTC "+ds.UpdatedAt.UTC().Format("2006-01-02 15:04:05")+"Z", aws.ToString(tm.MustAttribute("title")))
	require.NotEmpty(t, tm.MustText())
	copyBtn := c.el(`tr[data-id="` + seaID + `"] .copy button.copy-btn`)
	require.Equal(t, seaID, aws.ToString(copyBtn.MustAttribute("data-copy")))
	require.Equal(t, seaID, c.el(`tr[data-id="`+seaID+`"] .copy code`).MustText(), "the copy button is next to the id")
	require.NoError(t, proto.BrowserGrantPermissions{
		Permissions:      []proto.BrowserPermissionType{proto.BrowserPermissionTypeClipboardReadWrite, proto.BrowserPermissionTypeClipboardSanitizedWrite},
		Origin:           s.URL,
		BrowserContextID: c.b.BrowserContextID,
	}.Call(c.b))
	copyBtn.MustClick()
	c.el(`tr[data-id="`+seaID+`"] .copy-btn`, "^Copied$")
	require.Equal(t, seaID, c.p.MustEval(`() => navigator.clipboard.readText()`).String(), "the clipboard")
	// Other pages at phone width, too.
	c.open("/console/data-sets/" + seaID + "/revisions/" + rev1)
	c.el(`tr[data-name="stations.csv"]`)
	noScroll("a revision's page")
	c.open("/console/jobs")
	c.waitIDs("every job at phone width", jobRows, all...)
	noScroll("the jobs page")
	c.open("/console/jobs/" + slowJob)
	c.el(".job-progress", "ended COMPLETED")
	noScroll("a job's page")
	c.p.MustSetViewport(1280, 800, 1, false)

	// Delete the second revision (a draft with an asset).
	c.open("/console/data-sets/" + seaID + "/revisions/" + rev2)
	c.click(".head-card button", "^Delete$")
	c.click(".head-card button", "^Yes, delete$")
	c.waitPath(`^/console/data-sets/` + seaID + `$`)
	_, err = root.GetRevision(ctx, &dataexchange.GetRevisionInput{DataSetId: sea.Id, RevisionId: aws.String(rev2)})
	notFound(t, "the deleted revision", err)

	// A data set shared through a data grant can't be deleted; delete the
	// grant, then the data set.
	receiver := s.createAccount(t, "")
	g, err := root.CreateDataGrant(ctx, &dataexchange.CreateDataGrantInput{
		Name: aws.String("Sea data for the institute"), GrantDistributionScope: types.GrantDistributionScopeNone,
		ReceiverPrincipal: aws.String(receiver.AccountID), SourceDataSetId: sea.Id})
	require.NoError(t, err)
	grantID := aws.ToString(g.Id)
	c.open("/console/data-sets/" + seaID)
	c.refused("delete a shared data set", "ConflictException", func() {
		c.click(".head-card button", "^Delete$")
		c.click(".head-card button", "^Yes, delete$")
	})
	_, err = root.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: sea.Id})
	require.NoError(t, err, "the shared data set is still there")
	c.open("/console/data-grants")
	grantRow := `table[aria-label="Sent data grants"] tr[data-id="` + grantID + `"]`
	c.el(grantRow, "Sea data for the institute")
	c.click(grantRow+" button", "^Delete$")
	c.click(grantRow+" button", "^Yes, delete$")
	c.gone("the deleted grant", grantRow)
	c.el(".empty", "No data grants sent")
	_, err = root.GetDataGrant(ctx, &dataexchange.GetDataGrantInput{DataGrantId: g.Id})
	notFound(t, "the deleted data grant", err)
	c.open("/console/data-sets/" + seaID)
	c.el("h1", "^Sea surface temperatures$")
	c.click(".head-card button", "^Delete$")
	c.click(".head-card button", "^Yes, delete$")
	c.waitPath(`^/console/data-sets$`)
	c.waitIDs("the data sets left", dsRows, portID)
	_, err = root.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: sea.Id})
	notFound(t, "the deleted data set", err)
}
