package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/smithy-go"
	"github.com/go-rod/rod"
	"github.com/go-rod/rod/lib/input"
	"github.com/go-rod/rod/lib/launcher"
	"github.com/go-rod/rod/lib/proto"
	"github.com/stretchr/testify/require"
)

// The console's end-to-end tests drive the real wharf binary with Debian's
// Chromium through go-rod. They skip when /usr/bin/chromium is missing,
// unless WHARF_TEST_REQUIRE_CHROMIUM=1. WHARF_CONSOLE_SCREENSHOTS=dir also
// writes screenshots of the main pages into dir (docs/console/ holds them).

const chromiumBin = "/usr/bin/chromium"

// launchChromium starts a headless Chromium that downloads nothing; it is
// closed when the test ends. Rod's Must* calls fail the test.
func launchChromium(t *testing.T) *rod.Browser {
	t.Helper()
	if _, err := os.Stat(chromiumBin); err != nil {
		if os.Getenv("WHARF_TEST_REQUIRE_CHROMIUM") == "1" {
			t.Fatalf("chromium: %v (WHARF_TEST_REQUIRE_CHROMIUM=1)", err)
		}
		t.Skipf("chromium not installed (%v); set WHARF_TEST_REQUIRE_CHROMIUM=1 to fail instead", err)
	}
	l := launcher.New().Bin(chromiumBin).NoSandbox(true).Headless(true).
		Set("disable-gpu").
		Set("disable-background-networking").
		Set("disable-component-update").
		Set("disable-sync").
		Set("no-first-run").
		Set("disable-dev-shm-usage").
		UserDataDir(t.TempDir())
	u, err := l.Launch()
	if err != nil {
		t.Fatalf("launch chromium: %v", err)
	}
	b := rod.New().ControlURL(u)
	if err := b.Connect(); err != nil {
		t.Fatalf("connect to chromium: %v", err)
	}
	t.Cleanup(func() {
		_ = b.Close()
		l.Kill()
		l.Cleanup()
	})
	return b.WithPanic(rodFail(t))
}

// rodFail fails the test with rod's error and the test's line that met it.
func rodFail(t *testing.T) func(interface{}) {
	return func(v interface{}) {
		t.Helper()
		// The innermost line of a console test file, better one in a
		// Test function than in a helper.
		at, inTest := "", false
		for i := 1; i < 40 && !inTest; i++ {
			pc, file, line, ok := runtime.Caller(i)
			if !ok {
				break
			}
			base := filepath.Base(file)
			if !strings.HasPrefix(base, "console") || !strings.HasSuffix(base, "_test.go") {
				continue
			}
			fn := runtime.FuncForPC(pc)
			inTest = fn != nil && strings.Contains(fn.Name(), ".TestConsole")
			if at == "" || inTest {
				at = fmt.Sprintf("%s:%d", base, line)
			}
		}
		t.Fatalf("browser: %v (at %s)", v, at)
	}
}

// console is one browser tab on the console.
type console struct {
	t    *testing.T
	b    *rod.Browser
	p    *rod.Page
	base string // http://127.0.0.1:port
}

const waitFor = 30 * time.Second

// newConsole opens a tab in a fresh browser context (its own storage and
// downloads) at 1280x800.
func newConsole(t *testing.T, b *rod.Browser, s *server) *console {
	t.Helper()
	ctx := b.MustIncognito()
	p := ctx.MustPage("")
	p.MustSetViewport(1280, 800, 1, false)
	fail := rodFail(t)
	return &console{t: t, b: ctx.WithPanic(fail), p: p.WithPanic(fail), base: s.URL}
}

func (c *console) open(path string) {
	c.t.Helper()
	c.p.Timeout(waitFor).MustNavigate(c.base + path).CancelTimeout()
	c.p.Timeout(waitFor).MustWaitLoad().CancelTimeout()
}

// el waits for the first element matching sel (and, when re is given, whose
// text matches it).
func (c *console) el(sel string, re ...string) *rod.Element {
	c.t.Helper()
	p := c.p.Timeout(waitFor)
	var e *rod.Element
	if len(re) > 0 {
		e = p.MustElementR(sel, re[0])
	} else {
		e = p.MustElement(sel)
	}
	return e.CancelTimeout()
}

func (c *console) click(sel string, re ...string) {
	c.t.Helper()
	c.el(sel, re...).MustClick()
}

// fill replaces the value of the field matching sel.
func (c *console) fill(sel, text string) {
	c.t.Helper()
	e := c.el(sel)
	e.MustSelectAllText()
	if text == "" {
		e.MustType(input.Backspace)
		return
	}
	e.MustInput(text)
}

// until waits for the JavaScript predicate js to return true.
func (c *console) until(what, js string, args ...interface{}) {
	c.t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		if c.p.MustEval(js, args...).Bool() {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("timed out waiting for %s (at %s)", what, c.url())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *console) url() string { return c.p.MustInfo().URL }

func (c *console) path() string {
	u, err := url.Parse(c.url())
	require.NoError(c.t, err)
	return u.Path
}

// waitPath waits until the page's path matches re and returns the match.
func (c *console) waitPath(re string) []string {
	c.t.Helper()
	rx := regexp.MustCompile(re)
	c.until("path "+re, `(re) => new RegExp(re).test(location.pathname)`, re)
	return rx.FindStringSubmatch(c.path())
}

// signIn signs in with the form, pressing Enter in the secret field.
func (c *console) signIn(k creds) {
	c.t.Helper()
	c.fill("#accessKeyId", k.AccessKeyID)
	c.fill("#secretAccessKey", k.SecretAccessKey)
	c.p.Keyboard.MustType(input.Enter)
}

// session is the session the tab holds in sessionStorage ("" for none).
func (c *console) session() string {
	return c.p.MustEval(`() => sessionStorage.getItem("wharf.console.session") || ""`).String()
}

// refused runs do and waits for a new error naming code.
func (c *console) refused(what, code string, do func()) {
	c.t.Helper()
	c.p.MustEval(`() => document.querySelectorAll(".error").forEach(e => e.dataset.seen = "1")`)
	do()
	p := c.p.Timeout(waitFor)
	if _, err := p.ElementR(".error:not([data-seen])", regexp.QuoteMeta(code)); err != nil {
		c.t.Fatalf("%s: no %s shown: %v (at %s)", what, code, err, c.url())
	}
}

// screenshots writes the page as name.png into WHARF_CONSOLE_SCREENSHOTS,
// once the page is still. With a selector, the element it names is scrolled
// into view first.
func (c *console) screenshot(name string, sel ...string) {
	c.t.Helper()
	c.capture(name, true, sel...)
}

// screenshotMoving is screenshot without waiting for the page to be still:
// for a page that moves until what it shows is over (a progress bar).
func (c *console) screenshotMoving(name string, sel ...string) {
	c.t.Helper()
	c.capture(name, false, sel...)
}

func (c *console) capture(name string, still bool, sel ...string) {
	c.t.Helper()
	dir := os.Getenv("WHARF_CONSOLE_SCREENSHOTS")
	if dir == "" {
		return
	}
	if len(sel) > 0 {
		c.p.MustEval(`(s) => document.querySelector(s).scrollIntoView({block: "center"})`, sel[0])
	} else {
		c.p.MustEval(`() => window.scrollTo(0, 0)`)
	}
	if still {
		c.p.MustWaitStable()
	} else {
		c.p.MustEval(`() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))`)
	}
	b, err := c.p.Screenshot(false, &proto.PageCaptureScreenshot{Format: proto.PageCaptureScreenshotFormatPng})
	require.NoError(c.t, err)
	require.NoError(c.t, os.MkdirAll(dir, 0o755))
	require.NoError(c.t, os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644))
}

// sessionCreds are the session credentials the tab holds.
func (c *console) sessionCreds() (accessKey, secret, token string) {
	c.t.Helper()
	v := c.p.MustEval(`() => JSON.parse(sessionStorage.getItem("wharf.console.session")).Credentials`)
	return v.Get("AccessKeyId").String(), v.Get("SecretAccessKey").String(), v.Get("SessionToken").String()
}

func sessionClient(s *server, accessKey, secret, token string) *dataexchange.Client {
	return dataexchange.New(dataexchange.Options{
		Region:           s.Region,
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(accessKey, secret, token),
		RetryMaxAttempts: 1,
	})
}

func apiErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestConsole walks through the console as a data provider and a receiver:
// sign-in, a data set and revision, a 5 MB upload with its progress bar, the
// import job completing live, finalize, exports to MinIO, a download, a data
// grant accepted by another account that can change nothing, isolation of a
// third account, and sign-out ending the session on the server.
func TestConsole(t *testing.T) {
	browser := launchChromium(t)
	minio, env := s3Env(t)
	s := startServer(t, backends[0], serverOptions{Env: env})
	ctx := context.Background()
	root := s.client(s.Root)
	receiverCreds := s.createAccount(t, "")
	strangerCreds := s.createAccount(t, "")

	c := newConsole(t, browser, s)

	// The console asks for a session first, keeping the page asked for.
	c.open("/console/jobs?state=COMPLETED")
	c.waitPath(`^/console/signin$`)
	require.Contains(t, c.url(), "next="+url.QueryEscape("/console/jobs?state=COMPLETED"))
	c.el("h1", "Sign in")
	c.screenshot("signin")

	// A wrong secret is refused with the API's error and signs nobody in.
	c.signIn(creds{AccessKeyID: s.Root.AccessKeyID, SecretAccessKey: "not-the-secret"})
	errText := c.el(".error").MustText()
	require.Regexp(t, `SignatureDoesNotMatch|InvalidSignatureException|UnrecognizedClientException`, errText)
	require.Equal(t, "", c.session())
	require.Equal(t, "/console/signin", c.path())

	// The right key signs in and goes back to the page asked for; the
	// browser keeps session credentials only, never the long-term secret.
	c.signIn(s.Root)
	c.waitPath(`^/console/jobs$`)
	require.Contains(t, c.url(), "state=COMPLETED")
	c.el("h1", "^Jobs$")
	stored := c.p.MustEval(`() => JSON.stringify(sessionStorage) + JSON.stringify(localStorage) + document.cookie`).String()
	require.NotContains(t, stored, s.Root.SecretAccessKey)
	require.NotContains(t, stored, s.Root.AccessKeyID)
	require.Contains(t, c.session(), "SessionToken")

	// Create a data set, then a revision in it.
	c.click("nav a", "^Data sets$")
	c.el("h1", "^Data sets$")
	c.el(".empty", "No data sets yet")
	c.click("button", "^Create data set$")
	c.fill(`form[aria-label="Create data set"] [name=name]`, "Weather observations")
	c.fill(`form[aria-label="Create data set"] [name=description]`, "Hourly readings from 40 stations")
	c.fill(`form[aria-label="Create data set"] [name=tags]`, "team=climate")
	c.click(`form[aria-label="Create data set"] button[type=submit]`)
	dataSetID := c.waitPath(`^/console/data-sets/([^/]+)$`)[1]
	c.el("h1", "^Weather observations$")
	c.el(".tag", "team")
	c.fill(`form[aria-label="Create revision"] [name=revisionComment]`, "First hourly batch")
	c.click(`form[aria-label="Create revision"] button[type=submit]`)
	revisionID := c.waitPath(`^/console/data-sets/[^/]+/revisions/([^/]+)$`)[1]
	c.el(".empty", "no assets yet")

	// Upload a 5 MB file, watching its progress bar; the upload is
	// throttled so that the bar has something to show between 0 and done.
	const fileName = "observations.bin"
	data := patternBytes(7, 5<<20)
	file := filepath.Join(t.TempDir(), fileName)
	require.NoError(t, os.WriteFile(file, data, 0o644))
	c.p.MustEval(`() => {
		window.__marker = "no reload";
		window.__upload = [];
		const seen = window.__upload;
		new MutationObserver(() => {
			document.querySelectorAll('progress[aria-label^="Upload of"]').forEach(p => {
				const d = Number(p.dataset.done), t = Number(p.dataset.total);
				if (!seen.length || seen[seen.length - 1][0] !== d) seen.push([d, t]);
			});
		}).observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ["data-done"]});
	}`)
	require.NoError(t, proto.NetworkEnable{}.Call(c.p))
	require.NoError(t, proto.NetworkEmulateNetworkConditions{Latency: 0, DownloadThroughput: -1, UploadThroughput: 2 << 20}.Call(c.p))
	c.el(`form[aria-label="Upload files"] input[type=file]`).MustSetFiles(file)
	c.click(`form[aria-label="Upload files"] button[type=submit]`)
	c.el(`.upload[data-phase="uploading"]`)
	// The screenshot shows the upload under way: taken once a fifth of the
	// file is sent (about half a second of the two and a half the upload
	// takes), without waiting for the moving bar to be still.
	c.until("a fifth of the upload sent", `() => {
		const p = document.querySelector('progress[aria-label^="Upload of"]');
		return !!p && Number(p.dataset.done) >= Number(p.dataset.total) / 5;
	}`)
	c.screenshotMoving("upload", `form[aria-label="Upload files"]`)
	if os.Getenv("WHARF_CONSOLE_SCREENSHOTS") != "" {
		require.True(t, c.p.MustEval(`() => !!document.querySelector('.upload[data-phase="uploading"]')`).Bool(),
			"the upload ended before its screenshot was taken")
	}
	c.until("the import to complete", `() => !!document.querySelector('.upload[data-phase="done"]')`)
	require.NoError(t, proto.NetworkEmulateNetworkConditions{Latency: 0, DownloadThroughput: -1, UploadThroughput: -1}.Call(c.p))
	var seen [][2]int64
	require.NoError(t, c.p.MustEval(`() => window.__upload`).Unmarshal(&seen))
	t.Logf("upload progress seen: %v", seen)
	require.NotEmpty(t, seen)
	require.Equal(t, [2]int64{int64(len(data)), int64(len(data))}, seen[len(seen)-1], "the bar ends full")
	partial := false
	for _, v := range seen {
		require.Equal(t, int64(len(data)), v[1])
		if v[0] > 0 && v[0] < int64(len(data)) {
			partial = true
		}
	}
	require.True(t, partial, "the progress bar showed no value between 0 and the file's size: %v", seen)

	// The import job reached COMPLETED in the revision's job list, and the
	// asset appeared, without a reload.
	c.el(`tr[data-type="IMPORT_ASSET_FROM_SIGNED_URL"][data-state="COMPLETED"]`)
	c.el(`tr[data-name="`+fileName+`"]`, "5.0 MiB")
	require.Equal(t, "no reload", c.p.MustEval(`() => window.__marker`).String())
	assets := listAssets(t, root, dataSetID, revisionID)
	require.Len(t, assets, 1)
	assetID := aws.ToString(assets[0].Id)

	// Finalize.
	c.click("button", "^Finalize$")
	c.el(".head-card .badge", "^Finalized$")
	c.el("button", "^Un-finalize$")
	rev, err := root.GetRevision(ctx, &dataexchange.GetRevisionInput{DataSetId: &dataSetID, RevisionId: &revisionID})
	require.NoError(t, err)
	require.True(t, rev.Finalized)

	// Export the asset to MinIO, AES256-encrypted, and check the object.
	bucket := minio.NewBucket(t)
	c.click(`input[aria-label="Select ` + fileName + `"]`)
	c.click("button", "Export 1 selected to S3")
	c.fill(`form[aria-label="Export assets to S3"] [name=exportBucket]`, bucket)
	c.fill(`form[aria-label="Export assets to S3"] [name="key-`+assetID+`"]`, "exports/observations.bin")
	if minio.HasSSE() {
		c.el(`form[aria-label="Export assets to S3"] [name=encryption]`).MustSelect("AES256 (SSE-S3)")
	}
	c.click(`form[aria-label="Export assets to S3"] button[type=submit]`)
	c.el(`form[aria-label="Export assets to S3"] .ok`, "started")
	c.el(`tr[data-type="EXPORT_ASSETS_TO_S3"][data-state="COMPLETED"]`)
	require.True(t, bytes.Equal(data, minio.GetObject(t, bucket, "exports/observations.bin")), "the exported object differs from the upload")

	// Export the whole revision with a key pattern.
	c.fill(`form[aria-label="Export revision to S3"] [name=revisionBucket]`, bucket)
	c.fill(`form[aria-label="Export revision to S3"] [name=keyPattern]`, "by-revision/${Revision.Id}/${Asset.Name}")
	c.click(`form[aria-label="Export revision to S3"] button[type=submit]`)
	c.el(`tr[data-type="EXPORT_REVISIONS_TO_S3"][data-state="COMPLETED"]`)
	require.True(t, bytes.Equal(data, minio.GetObject(t, bucket, "by-revision/"+revisionID+"/"+fileName)))

	// Download the asset in the browser and compare the bytes.
	wait := c.b.MustWaitDownload()
	c.click(`button[aria-label="Download ` + fileName + `"]`)
	got := wait()
	require.True(t, bytes.Equal(data, got), "downloaded %d bytes that differ from the %d uploaded", len(got), len(data))
	c.el(`tr[data-type="EXPORT_ASSET_TO_SIGNED_URL"][data-state="COMPLETED"]`)
	c.screenshot("revision")

	// The jobs page lists every job, newest first, and filters by type
	// and state on the server.
	c.click("nav a", "^Jobs$")
	c.waitPath(`^/console/jobs$`)
	c.until("four jobs", `() => document.querySelectorAll('table[aria-label="Jobs"] tbody tr').length === 4`)
	types := c.p.MustEval(`() => [...document.querySelectorAll('table[aria-label="Jobs"] tbody tr')].map(r => r.dataset.type)`).Arr()
	require.Equal(t, "EXPORT_ASSET_TO_SIGNED_URL", types[0].String(), "newest first")
	require.Equal(t, "IMPORT_ASSET_FROM_SIGNED_URL", types[3].String())
	c.screenshot("jobs")
	c.el(`select[name=type]`).MustSelect("EXPORT_ASSETS_TO_S3")
	c.until("the type filter", `() => location.search.includes("type=EXPORT_ASSETS_TO_S3") && [...document.querySelectorAll('table[aria-label="Jobs"] tbody tr')].every(r => r.dataset.type === "EXPORT_ASSETS_TO_S3") && document.querySelectorAll('table[aria-label="Jobs"] tbody tr').length === 1`)
	c.p.MustNavigateBack()
	c.until("back to every job", `() => !location.search.includes("type=") && document.querySelectorAll('table[aria-label="Jobs"] tbody tr').length === 4`)
	c.click(`tr[data-type="IMPORT_ASSET_FROM_SIGNED_URL"] a`)
	c.waitPath(`^/console/jobs/[^/]+$`)
	c.el("h1", "IMPORT_ASSET_FROM_SIGNED_URL")
	c.el(".job-progress", "ended COMPLETED")
	c.screenshot("job")

	// Event actions: create, edit, delete.
	c.open("/console/data-sets/" + dataSetID + "?tab=event-actions")
	c.click("button", "^Create event action$")
	c.fill(`form[aria-label="Create event action"] [name=eventBucket]`, bucket)
	c.click(`form[aria-label="Create event action"] button[type=submit]`)
	c.el(`table[aria-label="Event actions"] td`, regexp.QuoteMeta("${Revision.CreatedAt}/${Asset.Name}"))
	c.click(`table[aria-label="Event actions"] button`, "^Edit$")
	c.fill(`form[aria-label="Edit event action"] [name=eventKeyPattern]`, "auto/${Asset.Id}")
	c.click(`form[aria-label="Edit event action"] button[type=submit]`)
	c.el(`table[aria-label="Event actions"] td`, regexp.QuoteMeta("auto/${Asset.Id}"))
	eas, err := root.ListEventActions(ctx, &dataexchange.ListEventActionsInput{EventSourceId: &dataSetID})
	require.NoError(t, err)
	require.Len(t, eas.EventActions, 1)
	require.Equal(t, "auto/${Asset.Id}", aws.ToString(eas.EventActions[0].Action.ExportRevisionToS3.RevisionDestination.KeyPattern))
	c.open("/console/event-actions")
	c.el(`table[aria-label="Event actions"] td`, regexp.QuoteMeta("auto/${Asset.Id}"))
	c.screenshot("event-actions")
	c.click(`table[aria-label="Event actions"] button`, "^Delete$")
	c.click(`table[aria-label="Event actions"] button`, "^Yes, delete$")
	c.el(".empty", "No event actions")

	// A data grant to the receiver.
	c.open("/console/data-sets/" + dataSetID)
	c.el("h1", "^Weather observations$")
	c.screenshot("data-set")
	c.click(`[role=tab]`, "^Data grants$")
	c.waitPath(`^/console/data-sets/[^/]+$`)
	c.click("button", "^Create data grant$")
	c.fill(`form[aria-label="Create data grant"] [name=grantName]`, "Weather for the receiver")
	c.fill(`form[aria-label="Create data grant"] [name=receiver]`, receiverCreds.AccountID)
	c.click(`form[aria-label="Create data grant"] button[type=submit]`)
	c.el(`table[aria-label="Sent data grants"] td`, "Weather for the receiver")
	c.open("/console/data-grants")
	c.el(`table[aria-label="Sent data grants"] td`, receiverCreds.AccountID)
	c.screenshot("data-grants")

	// The receiver signs in (in its own browser context), accepts the
	// grant and sees the entitled data set.
	r := newConsole(t, browser, s)
	r.open("/console/data-grants?view=received")
	r.waitPath(`^/console/signin$`)
	r.signIn(receiverCreds)
	r.waitPath(`^/console/data-grants$`)
	r.el(`table[aria-label="Received data grants"] td`, "Weather for the receiver")
	r.click(`table[aria-label="Received data grants"] button`, "^Accept$")
	r.click(`table[aria-label="Received data grants"] a`, "^Open data set$")
	entitledID := r.waitPath(`^/console/data-sets/([^/]+)$`)[1]
	r.el("h1", "^Weather observations$")
	r.el(".head-card .badge", "^ENTITLED$")
	r.open("/console/data-sets?origin=ENTITLED")
	r.el(`table[aria-label="Data sets"] tr[data-id="`+entitledID+`"]`, "Weather observations")

	// Every change the receiver tries is refused by the server and shown
	// as the API returns it; nothing changes.
	const denied = "AccessDeniedException"
	r.open("/console/data-sets/" + entitledID)
	r.el(".notice", "entitled")
	r.refused("edit the data set", denied, func() {
		r.click(".head-card button", "^Edit$")
		r.fill(`form[aria-label="Edit data set"] [name=name]`, "Renamed by the receiver")
		r.click(`form[aria-label="Edit data set"] button[type=submit]`)
	})
	r.click(`form[aria-label="Edit data set"] button`, "^Cancel$")
	r.refused("delete the data set", denied, func() {
		r.click(".head-card button", "^Delete$")
		r.click(".head-card button", "^Yes, delete$")
	})
	r.refused("tag the data set", denied, func() {
		r.fill(`form[aria-label="Add tag"] [name=tagKey]`, "mine")
		r.click(`form[aria-label="Add tag"] button[type=submit]`)
	})
	r.refused("create a revision", denied, func() {
		r.click(`form[aria-label="Create revision"] button[type=submit]`)
	})
	r.click(`table[aria-label="Revisions"] a`)
	r.waitPath(`^/console/data-sets/[^/]+/revisions/[^/]+$`)
	r.el(`tr[data-name="` + fileName + `"]`)
	r.refused("un-finalize the revision", denied, func() { r.click("button", "^Un-finalize$") })
	r.refused("revoke the revision", denied, func() {
		r.click("button", "^Revoke…$")
		r.fill(`form[aria-label="Revoke revision"] [name=revocationComment]`, "revoked by the receiver")
		r.click(`form[aria-label="Revoke revision"] button[type=submit]`)
	})
	r.refused("delete the revision", denied, func() {
		r.click(".head-card button", "^Delete$")
		r.click(".head-card button", "^Yes, delete$")
	})
	r.refused("rename the asset", denied, func() {
		r.click(`button[aria-label="Rename ` + fileName + `"]`)
		r.fill(`form[aria-label="Rename `+fileName+`"] [name=assetName]`, "stolen.bin")
		r.click(`form[aria-label="Rename ` + fileName + `"] button[type=submit]`)
	})
	r.click(`form[aria-label="Rename `+fileName+`"] button`, "^Cancel$")
	r.refused("delete the asset", denied, func() {
		r.click(`tr[data-name="`+fileName+`"] button`, "^Delete$")
		r.click(`tr[data-name="`+fileName+`"] button`, "^Yes, delete$")
	})
	r.refused("upload into the revision", denied, func() {
		r.el(`form[aria-label="Upload files"] input[type=file]`).MustSetFiles(file)
		r.click(`form[aria-label="Upload files"] button[type=submit]`)
	})
	r.refused("import into the revision", denied, func() {
		r.fill(`form[aria-label="Import from S3"] [name=importBucket]`, bucket)
		r.fill(`form[aria-label="Import from S3"] [name=importKeys]`, "exports/observations.bin")
		r.click(`form[aria-label="Import from S3"] button[type=submit]`)
	})
	// Nothing changed.
	ds, err := root.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: &dataSetID})
	require.NoError(t, err)
	require.Equal(t, "Weather observations", aws.ToString(ds.Name))
	recv := s.client(receiverCreds)
	eds, err := recv.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: &entitledID})
	require.NoError(t, err)
	require.Equal(t, "Weather observations", aws.ToString(eds.Name))
	require.Empty(t, eds.Tags)
	revs, err := recv.ListDataSetRevisions(ctx, &dataexchange.ListDataSetRevisionsInput{DataSetId: &entitledID})
	require.NoError(t, err)
	require.Len(t, revs.Revisions, 1)
	require.True(t, revs.Revisions[0].Finalized)
	require.False(t, revs.Revisions[0].Revoked)
	require.Len(t, listAssets(t, root, dataSetID, revisionID), 1)
	require.Equal(t, fileName, aws.ToString(listAssets(t, root, dataSetID, revisionID)[0].Name))

	// The receiver's own data sets don't include the sender's.
	r.open("/console/data-sets?origin=OWNED")
	r.el(".empty", "No data sets")

	// A third account sees none of it, not even by its URL.
	x := newConsole(t, browser, s)
	x.open("/console/data-sets")
	x.signIn(strangerCreds)
	x.el("h1", "^Data sets$")
	x.el(".empty", "No data sets yet")
	x.open("/console/data-sets/" + dataSetID)
	x.el(".error", "ResourceNotFoundException")
	x.open("/console/data-sets/" + dataSetID + "/revisions/" + revisionID)
	x.el(".error", "ResourceNotFoundException")
	x.open("/console/data-grants?view=received")
	x.el(".empty", "No data grants received")

	if os.Getenv("WHARF_CONSOLE_SCREENSHOTS") != "" {
		// A fuller list for the screenshot.
		for _, d := range [][2]string{{"Port calls", "Vessel arrivals and departures, daily"}, {"Tide gauges", "Sea level every 6 minutes"}} {
			_, err := root.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{AssetType: "S3_SNAPSHOT", Name: aws.String(d[0]), Description: aws.String(d[1])})
			require.NoError(t, err)
		}
	}

	// The time from navigation to a listed page, as Chromium measures it.
	c.open("/console/data-sets")
	c.el(`table[aria-label="Data sets"] tbody tr`)
	c.until("the listed mark", `() => performance.getEntriesByName("wharf:listed").length > 0`)
	listed := c.p.MustEval(`() => performance.getEntriesByName("wharf:listed")[0].startTime`).Num()
	t.Logf("navigation to a listed data sets page: %.0f ms", listed)
	c.screenshot("data-sets")

	// Phone width.
	if os.Getenv("WHARF_CONSOLE_SCREENSHOTS") != "" {
		c.p.MustSetViewport(390, 844, 2, true)
		c.open("/console/data-sets/" + dataSetID + "/revisions/" + revisionID)
		c.el(`tr[data-name="` + fileName + `"]`)
		c.screenshot("phone-revision")
		c.p.MustSetViewport(1280, 800, 1, false)
	}

	// Signing out ends the session on the server: its credentials are
	// refused afterwards.
	ak, sk, tok := c.sessionCreds()
	old := sessionClient(s, ak, sk, tok)
	_, err = old.ListDataSets(ctx, &dataexchange.ListDataSetsInput{})
	require.NoError(t, err, "the session works before sign-out")
	c.click("button", "^Sign out$")
	c.waitPath(`^/console/signin$`)
	require.Equal(t, "", c.session())
	_, err = old.ListDataSets(ctx, &dataexchange.ListDataSetsInput{})
	require.Error(t, err)
	require.Equal(t, "UnrecognizedClientException", apiErrorCode(err), "after sign-out: %v", err)
	c.open("/console/data-sets")
	c.waitPath(`^/console/signin$`)
}

// TestConsoleExpiredSession: a session that has expired is refused by the
// server (ExpiredTokenException), and the console sends the user to sign in,
// then back to the page they were on.
func TestConsoleExpiredSession(t *testing.T) {
	browser := launchChromium(t)
	const life = 4 * time.Second
	s := startServer(t, backends[0], serverOptions{Args: []string{
		"--test-console-session-min", "1s", "--console-session-duration", life.String(),
	}})
	ctx := context.Background()
	c := newConsole(t, browser, s)
	c.open("/console/data-sets")
	c.waitPath(`^/console/signin$`)
	c.signIn(s.Root)
	c.el("h1", "^Data sets$")
	ak, sk, tok := c.sessionCreds()
	old := sessionClient(s, ak, sk, tok)
	_, err := old.ListDataSets(ctx, &dataexchange.ListDataSetsInput{})
	require.NoError(t, err, "the fresh session works")

	// Wait for the server to refuse the session.
	deadline := time.Now().Add(life + 30*time.Second)
	for {
		_, err = old.ListDataSets(ctx, &dataexchange.ListDataSetsInput{})
		if err != nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	require.Error(t, err, "the session still works %s after sign-in", life+30*time.Second)
	require.Equal(t, "ExpiredTokenException", apiErrorCode(err), "%v", err)

	// The next page the console loads meets the refusal: sign in, then
	// back to that page.
	c.click("nav a", "^Jobs$")
	c.waitPath(`^/console/signin$`)
	require.Contains(t, c.url(), "next="+url.QueryEscape("/console/jobs"))
	require.Equal(t, "", c.session())
	c.el(".notice", "session has ended")
	c.signIn(s.Root)
	c.waitPath(`^/console/jobs$`)
	c.el("h1", "^Jobs$")
}
