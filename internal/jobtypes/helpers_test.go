package jobtypes_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/jobs/jobstest"
	"github.com/wharf-dev/wharf/internal/jobtypes"
	"github.com/wharf-dev/wharf/internal/pgtest"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/s3access"
	"github.com/wharf-dev/wharf/internal/s3test"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/postgres"
	"github.com/wharf-dev/wharf/internal/store/sqlite"
)

func TestMain(m *testing.M) {
	code := m.Run()
	s3test.Stop()
	pgtest.Stop()
	os.Exit(code)
}

const (
	region  = "us-east-1"
	account = "111111111111"
	other   = "222222222222"
	mib     = 1 << 20
)

// Store drivers.
const (
	sqliteDB   = "sqlite"
	postgresDB = "postgres"
)

// Asset stores.
const (
	localAssets = "local"
	s3Assets    = "s3"
)

func openStore(t *testing.T, driver string) store.Store {
	t.Helper()
	ctx := context.Background()
	var st store.Store
	var err error
	switch driver {
	case sqliteDB:
		st, err = sqlite.Open(ctx, filepath.Join(t.TempDir(), "wharf.db"))
	case postgresDB:
		st, err = postgres.Open(ctx, pgtest.PooledURL(t, 10))
	default:
		t.Fatalf("unknown driver %q", driver)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func profileOf(srv *s3test.Server) s3access.Profile {
	return s3access.Profile{Endpoint: srv.URL, Region: srv.Region, AccessKeyID: srv.AccessKeyID,
		SecretAccessKey: srv.SecretAccessKey, PathStyle: true}
}

// options vary an env.
type options struct {
	driver string // sqliteDB (default) or postgresDB
	assets string // localAssets (default) or s3Assets
	// accountProfile, when set, is the account's S3 profile; otherwise the
	// account is the root account and uses the ambient configuration (the
	// asset store's, so S3-store copies are server-side).
	accountProfile *s3access.Profile
	deps           func(*jobtypes.Deps)
	config         func(*jobs.Config)
	noStart        bool
}

// env is a job service with the runners of this package, on a fresh
// database, with an owned S3_SNAPSHOT data set and a revision.
type env struct {
	t        *testing.T
	ctx      context.Context
	srv      *s3test.Server
	st       store.Store
	svc      *jobs.Service
	runners  map[string]jobs.Runner
	assets   assetstore.Store
	assetsAt string // the S3 store's bucket
	dataSet  resource.DataSet
	revision resource.Revision
	// signed is the signed-URL configuration of signedEnv's envs.
	signed *jobtypes.SignedURLConfig
}

func newEnv(t *testing.T, o options) *env {
	t.Helper()
	if o.driver == "" {
		o.driver = sqliteDB
	}
	if o.assets == "" {
		o.assets = localAssets
	}
	srv := s3test.Start(t)
	e := &env{t: t, ctx: context.Background(), srv: srv}
	ambient := profileOf(srv)
	rc := s3access.ResolverConfig{RootAccountID: account, Ambient: &ambient}
	if o.accountProfile != nil {
		profiles := s3access.NewMemoryProfiles()
		profiles.Set(account, *o.accountProfile)
		rc.Profiles = profiles
	}
	resolver, err := s3access.NewResolver(e.ctx, rc)
	if err != nil {
		t.Fatal(err)
	}
	switch o.assets {
	case localAssets:
		e.assets, err = assetstore.NewLocal(t.TempDir())
	case s3Assets:
		e.assetsAt = srv.NewBucket(t)
		ep, aerr := resolver.Ambient(e.ctx)
		if aerr != nil {
			t.Fatal(aerr)
		}
		var s *assetstore.S3
		s, err = assetstore.NewS3(e.ctx, ep, e.assetsAt, "assets")
		if s != nil {
			// Small parts, so that a few MiB take the multipart paths.
			s.Tuning = s3access.Tuning{PartSize: 5 * mib, CopyPartSize: 5 * mib, MaxSingleCopySize: 5 * mib, Concurrency: 2}
		}
		e.assets = s
	}
	if err != nil {
		t.Fatal(err)
	}
	e.st = openStore(t, o.driver)

	deps := jobtypes.Deps{Store: e.st, Assets: e.assets, S3: resolver,
		Tuning: s3access.Tuning{PartSize: 5 * mib, Concurrency: 2}}
	if o.deps != nil {
		o.deps(&deps)
	}
	e.runners = map[string]jobs.Runner{}
	if err := jobtypes.Register(e.runners, deps); err != nil {
		t.Fatal(err)
	}
	cfg := jobs.Config{
		Region:            region,
		Runners:           e.runners,
		LeaseDuration:     2 * time.Second,
		HeartbeatInterval: 300 * time.Millisecond,
		ReapInterval:      200 * time.Millisecond,
		ProgressInterval:  50 * time.Millisecond,
		PollInterval:      50 * time.Millisecond,
	}
	if o.config != nil {
		o.config(&cfg)
	}
	e.svc = jobstest.NewService(t, e.st, cfg)
	if !o.noStart {
		if err := e.svc.Start(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	e.dataSet = e.newDataSet(account, resource.OriginOwned, resource.AssetTypeS3Snapshot)
	e.revision = e.newRevision(e.dataSet, false, false)
	return e
}

func (e *env) must(err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) newDataSet(acct, origin, assetType string) resource.DataSet {
	e.t.Helper()
	now := resource.Now()
	d := resource.DataSet{AccountID: acct, ID: resource.NewID(), Name: "d", Description: "test", AssetType: assetType,
		Origin: origin, CreatedAt: now, UpdatedAt: now}
	e.must(e.st.InsertDataSet(e.ctx, d))
	return d
}

func (e *env) newRevision(d resource.DataSet, finalized, revoked bool) resource.Revision {
	e.t.Helper()
	now := resource.Now()
	r := resource.Revision{AccountID: d.AccountID, DataSetID: d.ID, ID: resource.NewID(), Finalized: finalized || revoked,
		Revoked: revoked, CreatedAt: now, UpdatedAt: now}
	if revoked {
		r.RevocationComment = "withdrawn for tests"
		r.RevokedAt = &now
	}
	e.must(e.st.InsertRevision(e.ctx, r))
	return r
}

// insertAsset adds an asset record (no bytes) to a revision.
func (e *env) insertAsset(r resource.Revision, name, assetType string) resource.Asset {
	e.t.Helper()
	now := resource.Now()
	a := resource.Asset{AccountID: r.AccountID, DataSetID: r.DataSetID, RevisionID: r.ID, ID: resource.NewID(),
		Name: name, AssetType: assetType, Details: json.RawMessage(`{"S3SnapshotAsset":{"Size":0}}`), CreatedAt: now, UpdatedAt: now}
	e.must(e.st.InsertAsset(e.ctx, a))
	return a
}

// src is an import source.
type src struct{ Bucket, Key string }

func importDetails(dataSetID, revisionID string, sources ...src) json.RawMessage {
	b, err := json.Marshal(map[string]any{"ImportAssetsFromS3": map[string]any{
		"AssetSources": sources, "DataSetId": dataSetID, "RevisionId": revisionID}})
	if err != nil {
		panic(err)
	}
	return b
}

// dst is an export destination; Key "" is left out.
type dst struct {
	AssetId string
	Bucket  string
	Key     string `json:",omitempty"`
}

// encryption is an export's Encryption; nil is left out.
type encryption struct {
	Type      string
	KmsKeyArn string `json:",omitempty"`
}

func exportDetails(dataSetID, revisionID string, enc *encryption, dsts ...dst) json.RawMessage {
	m := map[string]any{"AssetDestinations": dsts, "DataSetId": dataSetID, "RevisionId": revisionID}
	if enc != nil {
		m["Encryption"] = enc
	}
	b, err := json.Marshal(map[string]any{"ExportAssetsToS3": m})
	if err != nil {
		panic(err)
	}
	return b
}

func (e *env) createJob(jobType string, details json.RawMessage) (jobs.JobView, error) {
	return e.svc.CreateJob(e.ctx, account, jobs.CreateJobInput{Type: &jobType, Details: details})
}

// wantCreate creates a job and fails unless CreateJob refuses it with the
// exception want, in a message that says messagePart; want "" wants the job
// created.
func (e *env) wantCreate(t *testing.T, jobType string, details json.RawMessage, want, messagePart string) *fault.Error {
	t.Helper()
	_, err := e.createJob(jobType, details)
	if want == "" {
		if err != nil {
			t.Fatalf("CreateJob: %v", err)
		}
		return nil
	}
	fe := wantFault(t, err, want)
	if !strings.Contains(fe.Message, messagePart) {
		t.Errorf("message %q does not say %q", fe.Message, messagePart)
	}
	return fe
}

// run creates and starts a job and waits for its end, which must be want.
func (e *env) run(jobType string, details json.RawMessage, want string) resource.Job {
	e.t.Helper()
	v, err := e.createJob(jobType, details)
	if err != nil {
		e.t.Fatalf("CreateJob: %v", err)
	}
	if err := e.svc.StartJob(e.ctx, account, v.ID); err != nil {
		e.t.Fatalf("StartJob: %v", err)
	}
	return e.waitEnd(v.ID, want)
}

func (e *env) importJob(want string, sources ...src) resource.Job {
	e.t.Helper()
	return e.run(resource.JobTypeImportAssetsFromS3, importDetails(e.dataSet.ID, e.revision.ID, sources...), want)
}

func (e *env) exportJob(want string, enc *encryption, dsts ...dst) resource.Job {
	e.t.Helper()
	return e.run(resource.JobTypeExportAssetsToS3, exportDetails(e.dataSet.ID, e.revision.ID, enc, dsts...), want)
}

func (e *env) job(id string) resource.Job {
	e.t.Helper()
	return jobstest.Job(e.t, e.st, account, id)
}

func (e *env) waitFor(id, what string, cond func(resource.Job) bool) resource.Job {
	e.t.Helper()
	return jobstest.WaitFor(e.t, e.st, account, id, what, cond)
}

func (e *env) waitEnd(id, want string) resource.Job {
	e.t.Helper()
	return jobstest.WaitEnd(e.t, e.st, account, id, want)
}

// revisionAssets lists a revision's assets, sorted by name.
func (e *env) revisionAssets(r resource.Revision) []resource.Asset {
	e.t.Helper()
	p, err := e.st.ListAssets(e.ctx, r.AccountID, r.DataSetID, r.ID, store.PageRequest{Limit: 1000})
	e.must(err)
	slices.SortFunc(p.Items, func(a, b resource.Asset) int { return strings.Compare(a.Name, b.Name) })
	return p.Items
}

// storedBytes reads an asset's bytes from the asset store.
func (e *env) storedBytes(a resource.Asset) []byte {
	e.t.Helper()
	key, err := assetstore.AssetKey(a.AccountID, a.DataSetID, a.ID)
	e.must(err)
	rc, _, err := e.assets.Open(e.ctx, key, nil)
	e.must(err)
	defer rc.Close()
	b, err := io.ReadAll(rc)
	e.must(err)
	return b
}

// storeLeftovers lists what the asset store holds: objects, temporary files
// and (S3) incomplete multipart uploads.
func (e *env) storeLeftovers() []string {
	e.t.Helper()
	switch s := e.assets.(type) {
	case *assetstore.Local:
		var files []string
		err := filepath.WalkDir(s.Dir(), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() {
				files = append(files, p)
			}
			return nil
		})
		e.must(err)
		return files
	case *assetstore.S3:
		var out []string
		for _, k := range e.srv.Keys(e.t, s.Bucket()) {
			out = append(out, "object "+k)
		}
		for _, u := range e.srv.Uploads(e.t, s.Bucket()) {
			out = append(out, "upload "+u)
		}
		return out
	}
	e.t.Fatalf("unknown asset store %T", e.assets)
	return nil
}

// Short names for the shared fixtures.
var (
	jobErrors = jobstest.JobErrors
	wantFault = jobstest.WantFault
)

// errorSources decodes a JobError's ImportAssetsFromS3JobErrorDetails.
func errorSources(t *testing.T, je jobs.JobError) []src {
	t.Helper()
	var d struct{ ImportAssetsFromS3JobErrorDetails []src }
	if err := json.Unmarshal(je.Details, &d); err != nil {
		t.Fatalf("Details %q: %v", je.Details, err)
	}
	return d.ImportAssetsFromS3JobErrorDetails
}

func sameBytes(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: got %d bytes (sha256 %x), want %d bytes (sha256 %x)", what,
			len(got), sha256.Sum256(got), len(want), sha256.Sum256(want))
	}
}

func headObject(t *testing.T, srv *s3test.Server, bucket, key string) *s3.HeadObjectOutput {
	t.Helper()
	out, err := srv.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("head s3://%s/%s: %v", bucket, key, err)
	}
	return out
}

// createUpload starts a multipart upload at bucket/key and leaves it, as a
// crashed copy would.
func createUpload(t *testing.T, srv *s3test.Server, bucket, key string) {
	t.Helper()
	c := srv.Client()
	out, err := c.CreateMultipartUpload(context.Background(), &s3.CreateMultipartUploadInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.UploadPart(context.Background(), &s3.UploadPartInput{Bucket: &bucket, Key: &key, UploadId: out.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(make([]byte, 5*mib)), ContentLength: aws.Int64(5 * mib)})
	if err != nil {
		t.Fatal(err)
	}
}

// slowProxy serves srv's API at another address, moving request and
// response bodies at about bytesPerSecond each: an account endpoint that is slow to read from (and,
// being another URL, never server-side-copies with the asset store).
func slowProxy(t *testing.T, srv *s3test.Server, bytesPerSecond int) s3access.Profile {
	t.Helper()
	target, err := url.Parse(srv.URL)
	e := err
	if e != nil {
		t.Fatal(e)
	}
	// The Director of NewSingleHostReverseProxy keeps the request's Host
	// header, which the client signed.
	proxy := httputil.NewSingleHostReverseProxy(target)
	director := proxy.Director
	proxy.Director = func(r *http.Request) {
		director(r)
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = &slowBody{rc: r.Body, rate: bytesPerSecond}
		}
	}
	proxy.ErrorLog = log.New(io.Discard, "", 0) // cancelled requests
	proxy.ModifyResponse = func(resp *http.Response) error {
		resp.Body = &slowBody{rc: resp.Body, rate: bytesPerSecond}
		return nil
	}
	ts := httptest.NewServer(proxy)
	t.Cleanup(ts.Close)
	p := profileOf(srv)
	p.Endpoint = ts.URL
	return p
}

type slowBody struct {
	rc   io.ReadCloser
	rate int
}

func (s *slowBody) Read(p []byte) (int, error) {
	const chunk = 32 << 10
	if len(p) > chunk {
		p = p[:chunk]
	}
	n, err := s.rc.Read(p)
	if n > 0 {
		time.Sleep(time.Duration(n) * time.Second / time.Duration(s.rate))
	}
	return n, err
}

func (s *slowBody) Close() error { return s.rc.Close() }

// pattern returns n bytes that differ between seeds.
func pattern(seed, n int) []byte {
	b := make([]byte, n)
	h := sha256.Sum256([]byte(fmt.Sprint(seed)))
	for i := range b {
		b[i] = h[i%len(h)] ^ byte(i/len(h))
	}
	return b
}

var errStop = errors.New("stop")
