// Package jobtypes holds the runners of Wharf's job types, one file per type
// (see jobs.Runner for what a runner does and what the engine does for it):
//
//   - s3import.go: IMPORT_ASSETS_FROM_S3, objects of the account's S3
//     buckets copied into new S3_SNAPSHOT assets;
//   - s3export.go: EXPORT_ASSETS_TO_S3, assets copied to the account's S3
//     buckets, with server-side encryption;
//   - s3revisions.go: EXPORT_REVISIONS_TO_S3, every asset of a revision
//     copied to a bucket under keys from a KeyPattern (keypattern.go), on
//     the copy path of s3export.go;
//   - signedurl.go: IMPORT_ASSET_FROM_SIGNED_URL and
//     EXPORT_ASSET_TO_SIGNED_URL, uploads and downloads through signed URLs
//     (registered when Deps.SignedURLs is set);
//   - reference.go: what the reference-asset types below share (they move
//     no bytes: their assets name something outside Wharf);
//   - redshift.go: IMPORT_ASSETS_FROM_REDSHIFT_DATA_SHARES;
//   - lakeformation.go: IMPORT_ASSETS_FROM_LAKE_FORMATION_TAG_POLICY;
//   - s3dataaccess.go: CREATE_S3_DATA_ACCESS_FROM_S3_BUCKET;
//   - apigateway.go: IMPORT_ASSET_FROM_API_GATEWAY_API, whose OpenAPI
//     specification is uploaded through signedurl.go's machinery.
//
// Register adds them to the runners a jobs.Service is built with.
//
// # Who may do what
//
// One function, authorize (below), decides whether an account may run a job
// of a kind on a data set, and one, assetBytes, where an asset's bytes are;
// sharing between accounts (entitled data sets) changes those two only.
//
//   - A data set that is not in the caller's account does not exist for it:
//     ResourceNotFoundException, as everywhere in Wharf, so that accounts
//     can't probe each other's ids.
//   - Importing needs a data set the caller owns (Origin OWNED). Importing
//     into an entitled data set in the caller's account is an
//     AccessDeniedException: entitled data sets are export-only.
//   - Exporting is open to the owner, and to the holder of an entitled data
//     set while its data grant lasts: the export reads the source data set's
//     finalized revisions and their bytes (under the source account's
//     asset-store keys). When the grant is deleted or ends, new jobs are
//     refused (AccessDeniedException) and running exports stop within
//     Deps.AccessCheckInterval, ending in ERROR with ACCESS_DENIED_EXCEPTION;
//     a run that finished its copies checks once more before it completes.
//
// # Limits
//
//   - 1 to 100 sources per import and destinations per export job; more is a
//     ServiceLimitExceededException at CreateJob ("Assets per import job
//     from Amazon S3", "Asset per export job from Amazon S3", AWS's names).
//   - An object over Deps.MaxAssetSize (default 100 GB, counted as
//     100 × 2^30 bytes) ends the import in ERROR with a JobError
//     SERVICE_QUOTA_EXCEEDED_EXCEPTION, LimitName "Asset size in GB".
//   - The "Assets per revision" quota is the engine's, checked when a job's
//     assets are committed.
package jobtypes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/wharf-dev/wharf/internal/apiasset"
	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/awsjson"
	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/s3access"
	"github.com/wharf-dev/wharf/internal/store"
)

// Defaults and limits.
const (
	// DefaultMaxAssetSize is AWS's "Asset size in GB" quota, 100 GB, read
	// as gibibytes (the larger reading, so that no object AWS takes is
	// refused).
	DefaultMaxAssetSize int64 = 100 << 30
	// DefaultParallelism is how many objects one job copies at once.
	DefaultParallelism = 8
	// DefaultBufferBudget bounds the memory one job's copies hold at once.
	// A copy that streams through Wharf into S3 holds up to
	// Concurrency × PartSize bytes of its Tuning (4 × 16 MiB by default),
	// or its whole size if smaller; server-side copies and copies into the
	// local asset store hold next to none. Copies wait for their share.
	DefaultBufferBudget int64 = 128 << 20

	// DefaultAccessCheckInterval is how often a running export from an
	// entitled data set checks its data grant.
	DefaultAccessCheckInterval = time.Second

	// MaxImportSources and MaxExportDestinations are AWS's per-job limits.
	MaxImportSources      = 100
	MaxExportDestinations = 100

	// Limit names, as AWS spells them.
	LimitImportSources      = "Assets per import job from Amazon S3"
	LimitExportDestinations = "Asset per export job from Amazon S3"
	LimitAssetSize          = "Asset size in GB"

	// maxS3KeyLen is the longest S3 object key, in bytes.
	maxS3KeyLen = 1024
	// gb is the unit of LimitAssetSize.
	gb = 1 << 30
)

// EndpointResolver gives the S3 endpoint an account's jobs use;
// *s3access.Resolver is one.
type EndpointResolver interface {
	Resolve(ctx context.Context, accountID string) (*s3access.Endpoint, error)
}

// Deps is what the runners need.
type Deps struct {
	// Store is the metadata store, read by runs and clean-ups (never
	// written: the engine commits a run's result).
	Store store.Store
	// Assets is where asset bytes live.
	Assets assetstore.Store
	// S3 gives each account's S3 endpoint.
	S3 EndpointResolver
	// MaxAssetSize is the largest object an import takes, in bytes;
	// 0 means DefaultMaxAssetSize.
	MaxAssetSize int64
	// MaxRevisionExportAssets is the most assets an EXPORT_REVISIONS_TO_S3
	// job exports; 0 means MaxRevisionExportAssets (AWS's 10,000).
	MaxRevisionExportAssets int
	// Parallelism is how many objects a job copies at once; 0 means
	// DefaultParallelism.
	Parallelism int
	// BufferBudget bounds the bytes a job's copies buffer at once; 0
	// means DefaultBufferBudget.
	BufferBudget int64
	// Tuning sizes the transfers that stream (an S3 asset store uses its
	// own Tuning for the copies it makes); the zero value takes
	// s3access's defaults.
	Tuning s3access.Tuning
	// Logger receives what a client can't be told; nil means
	// slog.Default().
	Logger *slog.Logger
	// AccessCheckInterval is how often a running export from an entitled
	// data set checks that its data grant still gives access; 0 means
	// DefaultAccessCheckInterval.
	AccessCheckInterval time.Duration
	// SignedURLs, when set, adds IMPORT_ASSET_FROM_SIGNED_URL and
	// EXPORT_ASSET_TO_SIGNED_URL (signedurl.go).
	SignedURLs *SignedURLConfig
	// Region is the region Wharf answers as, in the ARNs and endpoints
	// reference assets name; "" means DefaultRegion.
	Region string
	// APIEndpoints are the endpoints of API Gateway APIs that are not
	// reached at API Gateway's own address (API_GATEWAY_API assets).
	APIEndpoints apiasset.Endpoints
}

// DefaultRegion is the region of Deps without one (wharf serve's default).
const DefaultRegion = "us-east-1"

func (d Deps) withDefaults() (Deps, error) {
	switch {
	case d.Store == nil:
		return d, errors.New("jobtypes: Deps.Store is required")
	case d.Assets == nil:
		return d, errors.New("jobtypes: Deps.Assets is required")
	case d.S3 == nil:
		return d, errors.New("jobtypes: Deps.S3 is required")
	case d.MaxAssetSize < 0 || d.Parallelism < 0 || d.BufferBudget < 0:
		return d, errors.New("jobtypes: MaxAssetSize, Parallelism and BufferBudget can't be negative")
	}
	if d.BufferBudget == 0 {
		d.BufferBudget = DefaultBufferBudget
	}
	if d.MaxAssetSize == 0 {
		d.MaxAssetSize = DefaultMaxAssetSize
	}
	if d.Parallelism == 0 {
		d.Parallelism = DefaultParallelism
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.AccessCheckInterval <= 0 {
		d.AccessCheckInterval = DefaultAccessCheckInterval
	}
	if d.Region == "" {
		d.Region = DefaultRegion
	}
	return d, nil
}

// Register adds the runners of this package's job types to runners (the
// Runners of a jobs.Config). A type that already has a runner is an error.
func Register(runners map[string]jobs.Runner, deps Deps) error {
	if runners == nil {
		return errors.New("jobtypes: Register needs a non-nil runners map")
	}
	d, err := deps.withDefaults()
	if err != nil {
		return err
	}
	add := map[string]jobs.Runner{
		resource.JobTypeImportAssetsFromS3:  &ImportFromS3{deps: d},
		resource.JobTypeExportAssetsToS3:    &ExportToS3{deps: d},
		resource.JobTypeExportRevisionsToS3: &ExportRevisionsToS3{deps: d},

		resource.JobTypeImportAssetsFromRedshiftDataShares:     &ImportFromRedshift{deps: d},
		resource.JobTypeImportAssetsFromLakeFormationTagPolicy: &ImportFromLakeFormation{deps: d},
		resource.JobTypeCreateS3DataAccessFromS3Bucket:         &CreateS3DataAccess{deps: d},
		resource.JobTypeImportAssetFromAPIGatewayAPI:           &ImportFromAPIGateway{deps: d},
	}
	if d.SignedURLs != nil {
		signed, err := newSignedURLRunners(d)
		if err != nil {
			return err
		}
		maps.Copy(add, signed)
	}
	for t := range add {
		if _, dup := runners[t]; dup {
			return fmt.Errorf("jobtypes: a runner for %s is already registered", t)
		}
	}
	for t, r := range add {
		runners[t] = r
	}
	return nil
}

// access is what a job does with a data set.
type access int

const (
	importing access = iota
	exporting
)

// authorize loads the job's data set and decides whether the job's account
// may import into it or export from it. It is the one place that decides
// (see the package documentation). For an entitled data set it checks the
// data grant it comes through; the data set returned is the job's own.
func authorize(ctx context.Context, q store.Queries, job resource.Job, a access) (resource.DataSet, error) {
	ds, err := q.GetDataSet(ctx, job.AccountID, job.DataSetID)
	if errors.Is(err, store.ErrNotFound) {
		return ds, fault.NotFound(resource.KindDataSet, job.DataSetID)
	}
	if err != nil {
		return ds, fmt.Errorf("jobtypes: get data set: %w", err)
	}
	if ds.Origin == resource.OriginOwned {
		return ds, nil
	}
	if a == importing {
		return ds, fault.AccessDeniedf("data set %s is entitled, not owned: only its owner can import assets into it", ds.ID)
	}
	sc, err := jobScope(ctx, q, job)
	return sc.dataSet, err
}

// dataScope is where a job's revisions and assets are: in the job's data
// set, or, for an entitled data set, in the source data set of the data
// grant it comes through (whose finalized revisions it shows).
type dataScope struct {
	dataSet   resource.DataSet // the job's data set
	account   string
	dataSetID string
	grant     *resource.DataGrant // nil unless the data set is entitled
}

// jobScope loads the job's data set and, if it is entitled, checks that
// its grant still gives access.
func jobScope(ctx context.Context, q store.Queries, job resource.Job) (dataScope, error) {
	ds, err := q.GetDataSet(ctx, job.AccountID, job.DataSetID)
	if errors.Is(err, store.ErrNotFound) {
		return dataScope{dataSet: ds}, fault.NotFound(resource.KindDataSet, job.DataSetID)
	}
	if err != nil {
		return dataScope{dataSet: ds}, fmt.Errorf("jobtypes: get data set: %w", err)
	}
	if ds.Origin != resource.OriginEntitled {
		return dataScope{dataSet: ds, account: ds.AccountID, dataSetID: ds.ID}, nil
	}
	g, err := exchange.ResolveEntitlement(ctx, q, ds, resource.Now())
	if err != nil {
		return dataScope{dataSet: ds}, err
	}
	return dataScope{dataSet: ds, account: g.AccountID, dataSetID: g.SourceDataSetID, grant: &g}, nil
}

// watchAccess returns a context that ends, with an AccessDeniedException
// as its cause, as soon as the job's account loses access to its data set
// (the data grant of an entitled data set is deleted or ends), checking
// every Deps.AccessCheckInterval; stop ends the watch. Export runners run
// under it, so that a running export stops when access ends.
func (d Deps) watchAccess(ctx context.Context, job resource.Job) (_ context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	go func() {
		ticker := time.NewTicker(d.AccessCheckInterval)
		defer ticker.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-ticker.C:
			}
			if err := d.checkAccess(ctx, job); fault.Is(err, fault.AccessDenied) {
				cancel(err)
				return
			}
		}
	}()
	return ctx, func() { close(done); cancel(context.Canceled) }
}

// checkAccess reports an AccessDeniedException if the job's account can no
// longer read its data set; other errors (a database hiccup) are not
// verdicts and are returned as they are.
func (d Deps) checkAccess(ctx context.Context, job resource.Job) error {
	_, err := jobScope(ctx, d.Store, job)
	if fault.Is(err, fault.ResourceNotFound) {
		return fault.AccessDeniedf("data set %s is no longer available to this account: its data grant was deleted", job.DataSetID)
	}
	return err
}

// assetBytes is the asset-store key holding an asset's bytes. Assets read
// through an entitled data set are the source's (loadAsset reads them
// there), so their keys are under the source account's.
func assetBytes(a resource.Asset) (assetstore.Key, error) {
	return assetstore.AssetKey(a.AccountID, a.DataSetID, a.ID)
}

// jobAssetKey is the asset-store key of the index-th asset job creates.
func jobAssetKey(job resource.Job, index int) (assetstore.Key, error) {
	return assetstore.AssetKey(job.AccountID, job.DataSetID, jobs.AssetID(job.ID, index))
}

// loadRevision reads the job's revision, which must take the job: a revoked
// revision takes none; with writable, a finalized one takes no import. An
// entitled data set shows only its source's finalized revisions.
func loadRevision(ctx context.Context, q store.Queries, job resource.Job, writable bool) (resource.Revision, error) {
	sc, err := jobScope(ctx, q, job)
	if err != nil {
		return resource.Revision{}, err
	}
	return sc.revision(ctx, q, job.RevisionID, writable)
}

func (sc dataScope) revision(ctx context.Context, q store.Queries, revisionID string, writable bool) (resource.Revision, error) {
	rev, err := q.GetRevision(ctx, sc.account, sc.dataSetID, revisionID)
	if errors.Is(err, store.ErrNotFound) || err == nil && sc.grant != nil && !rev.Finalized {
		return rev, fault.NotFound(resource.KindRevision, revisionID)
	}
	if err != nil {
		return rev, fmt.Errorf("jobtypes: get revision: %w", err)
	}
	switch {
	case rev.Revoked && writable:
		return rev, fault.Conflictf(resource.KindRevision, rev.ID, "revision %s is revoked: it takes no new assets", rev.ID)
	case rev.Revoked:
		return rev, fault.Conflictf(resource.KindRevision, rev.ID, "revision %s is revoked: its assets can't be exported", rev.ID)
	case rev.Finalized && writable:
		return rev, fault.Conflictf(resource.KindRevision, rev.ID, "revision %s is finalized: it takes no new assets", rev.ID)
	}
	return rev, nil
}

// loadAsset reads an asset of the job's revision, where the job's data set
// keeps it (see dataScope).
func loadAsset(ctx context.Context, q store.Queries, job resource.Job, assetID string) (resource.Asset, error) {
	sc, err := jobScope(ctx, q, job)
	if err != nil {
		return resource.Asset{}, err
	}
	return sc.asset(ctx, q, job.RevisionID, assetID)
}

func (sc dataScope) asset(ctx context.Context, q store.Queries, revisionID, assetID string) (resource.Asset, error) {
	a, err := q.GetAsset(ctx, sc.account, sc.dataSetID, revisionID, assetID)
	if errors.Is(err, store.ErrNotFound) {
		return a, fault.NotFound(resource.KindAsset, assetID)
	}
	if err != nil {
		return a, fmt.Errorf("jobtypes: get asset: %w", err)
	}
	return a, nil
}

// decodeMember decodes the job's Details member into v.
func decodeMember(job resource.Job, v any) error {
	body, err := jobs.MemberDetails(job)
	if err != nil {
		if fault.As(err) != nil {
			return err
		}
		return fault.Validationf("Details is not valid JSON")
	}
	// As AWS reads them: exact member names, unknown members ignored.
	if err := awsjson.Unmarshal(body, v); err != nil {
		return fault.Validationf("Details.%s is not valid: %v", jobs.DetailsMember(job.Type), err)
	}
	return nil
}

// checkBucket applies S3's bucket naming rules (general purpose buckets).
func checkBucket(field string, bucket *string) error {
	if bucket == nil {
		return fault.Validationf("%s is required", field)
	}
	b := *bucket
	bad := func(why string) error {
		return fault.Validationf("%s %q is not a valid S3 bucket name: %s", field, b, why)
	}
	if len(b) < 3 || len(b) > 63 {
		return bad("bucket names are 3 to 63 characters long")
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return bad("bucket names hold only lowercase letters, digits, dots and hyphens")
		}
	}
	if !isAlnum(b[0]) || !isAlnum(b[len(b)-1]) {
		return bad("bucket names begin and end with a letter or a digit")
	}
	if strings.Contains(b, "..") {
		return bad("bucket names can't hold two adjacent dots")
	}
	if ip := net.ParseIP(b); ip != nil {
		return bad("bucket names can't be IP addresses")
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(b, p) {
			return bad("the prefix " + p + " is reserved")
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(b, s) {
			return bad("the suffix " + s + " is reserved")
		}
	}
	return nil
}

func isAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// checkObjectKey checks an S3 object key: 1 to 1024 bytes of UTF-8.
func checkObjectKey(field, key string) error {
	if key == "" || len(key) > maxS3KeyLen {
		return fault.Validationf("%s must be 1 to %d bytes long (got %d)", field, maxS3KeyLen, len(key))
	}
	if !utf8.ValidString(key) {
		return fault.Validationf("%s is not valid UTF-8", field)
	}
	return nil
}

// forEach calls fn for 0..n-1, at most limit at once, and returns the first
// error; the first error cancels the ctx the other calls get.
func forEach(ctx context.Context, n, limit int, fn func(ctx context.Context, i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for i := range n {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return fn(gctx, i) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// copyAll is forEach for a job's copies: copy i waits until weight(i)
// bytes of the job's buffer budget are free.
func (d Deps) copyAll(ctx context.Context, n int, weight func(i int) int64, fn func(ctx context.Context, i int) error) error {
	budget := semaphore.NewWeighted(d.BufferBudget)
	return forEach(ctx, n, d.Parallelism, func(ctx context.Context, i int) error {
		w := min(weight(i), d.BufferBudget)
		if w > 0 {
			if err := budget.Acquire(ctx, w); err != nil {
				return err
			}
			defer budget.Release(w)
		}
		return fn(ctx, i)
	})
}

// buffered is how many bytes a copy of size bytes that streams into S3 with
// tuning t holds at most (see s3access.Tuning).
func buffered(size int64, t s3access.Tuning) int64 {
	part, conc := t.PartSize, int64(t.Concurrency)
	if part <= 0 {
		part = s3access.DefaultPartSize
	}
	if conc <= 0 {
		conc = s3access.DefaultConcurrency
	}
	part = max(part, (size+s3access.MaxParts-1)/s3access.MaxParts)
	if size <= part {
		return size
	}
	return min(size, conc*part)
}

// streamsIntoS3 reports whether copies between the asset store and ep
// stream into S3 through Wharf (rather than copy server-side, or stream
// into the local store), and with which tuning.
func (d Deps) streamsIntoS3(ep *s3access.Endpoint, export bool) (bool, s3access.Tuning) {
	s, ok := d.Assets.(*assetstore.S3)
	switch {
	case ok && s3access.SameEndpoint(s.Endpoint(), ep):
		return false, s3access.Tuning{}
	case ok && !(export && d.Tuning != s3access.Tuning{}):
		return true, s.Tuning
	case ok, export:
		return true, d.Tuning
	}
	return false, s3access.Tuning{} // import into the local store
}

// tracker adds up the progress of a job's copies.
type tracker struct {
	mu     sync.Mutex
	total  int64
	done   int64
	each   []int64
	report jobs.Progress
}

func newTracker(total int64, n int, report jobs.Progress) *tracker {
	t := &tracker{total: total, each: make([]int64, n), report: report}
	report(0, total)
	return t
}

// set records that copy i has moved done bytes. Reports are serialized, so
// that the last one made is the latest sum.
func (t *tracker) set(i int, done int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if done == t.each[i] {
		return
	}
	t.done += done - t.each[i]
	t.each[i] = done
	t.report(t.done, t.total)
}

// grow adds size to the total, for a copy whose size was not known when
// the tracker was made.
func (t *tracker) grow(size int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total += size
	t.report(t.done, t.total)
}

// of is the progress callback of copy i.
func (t *tracker) of(i int) func(int64) { return func(done int64) { t.set(i, done) } }

// retry runs fn up to three times, backing off, while it fails and ctx
// lasts: clean-ups are not retried by the engine.
func retry(ctx context.Context, fn func() error) error {
	var err error
	for attempt, wait := 0, 200*time.Millisecond; attempt < 3; attempt, wait = attempt+1, wait*4 {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return errors.Join(err, ctx.Err())
			case <-time.After(wait):
			}
		}
		if err = fn(); err == nil {
			return nil
		}
	}
	return err
}

// s3URI names an S3 location for messages.
func s3URI(bucket, key string) string {
	if key == "" {
		return "s3://" + bucket
	}
	return "s3://" + bucket + "/" + key
}

// listed names up to a few items for a message.
func listed(items []string) string {
	const most = 5
	if len(items) <= most {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:most], ", "), len(items)-most)
}

// assetSize reads the size out of an S3_SNAPSHOT asset's details.
func assetSize(a resource.Asset) int64 {
	var d struct{ S3SnapshotAsset struct{ Size float64 } }
	if err := json.Unmarshal(a.Details, &d); err != nil {
		return 0
	}
	return int64(d.S3SnapshotAsset.Size)
}

// snapshotDetails is an S3_SNAPSHOT asset's AssetDetails.
func snapshotDetails(size int64) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"S3SnapshotAsset":{"Size":%d}}`, size))
}
