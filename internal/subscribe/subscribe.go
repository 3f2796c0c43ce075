// Package subscribe is the logic of `wharf subscribe`: it brings every
// finalized, non-revoked revision of a data set (owned or entitled) that is
// not yet at a destination there, either a bucket (one
// EXPORT_REVISIONS_TO_S3 job per revision, with a key pattern) or a local
// directory (an EXPORT_ASSET_TO_SIGNED_URL job and a download per asset,
// each streamed to a temporary file, size-checked and renamed). A manifest
// at the destination records the revisions exported, so a second run
// exports nothing and an interrupted one resumes; with Watch it keeps
// polling for new revisions. It speaks only the AWS Data Exchange API (and
// S3 for the manifest of a bucket). See docs/client.md.
package subscribe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"

	"github.com/wharf-dev/wharf/internal/client"
)

// Defaults.
const (
	// DefaultKeyPattern is AWS's default for auto-exports.
	DefaultKeyPattern = "${Revision.CreatedAt}/${Asset.Name}"
	// DefaultJobs is how many assets download at once to a directory.
	DefaultJobs = 10
	// DefaultPollInterval is how often Watch looks for new revisions.
	DefaultPollInterval = 5 * time.Second
	// RetryAfter is how long Watch waits before it exports a revision that
	// failed again; the wait doubles with each failure, up to MaxRetryAfter.
	// (Every poll would create jobs each few seconds for a revision that
	// fails for good.)
	RetryAfter    = time.Minute
	MaxRetryAfter = time.Hour
)

// Options say what to export where.
type Options struct {
	DataSetID string
	// To is a directory or s3://bucket[/prefix].
	To         string
	KeyPattern string
	Jobs       int
	// Watch keeps exporting new revisions until ctx ends, looking every
	// PollInterval.
	Watch        bool
	PollInterval time.Duration
	// S3 reads and writes the manifest of an s3:// destination.
	S3 ObjectStore
	// Log receives a line per revision exported; nil discards them.
	Log io.Writer
}

// Summary is what a run exported.
type Summary struct {
	DataSetID   string            `json:"DataSetId"`
	Destination string            `json:"Destination"`
	Exported    []RevisionSummary `json:"Exported"`
	// AlreadyThere counts the revisions the manifest already listed.
	AlreadyThere int       `json:"AlreadyThere"`
	Failures     []Failure `json:"Failures"`
	// FailedPasses counts the passes of Watch that failed as a whole (the
	// manifest or the revisions could not be read: the server or S3 was
	// unreachable, say); each was logged and the next poll tried again.
	FailedPasses int `json:"FailedPasses"`
}

// RevisionSummary is one revision exported.
type RevisionSummary struct {
	ID     string `json:"Id"`
	Assets int    `json:"Assets"` // written
	Bytes  int64  `json:"Bytes"`  // written
	// Superseded counts the assets not written because a newer revision's
	// asset was already exported to the same key (see manifestAsset).
	Superseded int      `json:"Superseded,omitempty"`
	JobIDs     []string `json:"JobIds"`
}

// Failure is a revision (or one of its assets) that was not exported.
type Failure struct {
	RevisionID string `json:"RevisionId"`
	Asset      string `json:"Asset,omitempty"`
	Error      string `json:"Error"`
}

// FailedError is returned when some revisions were not exported, or, with
// Watch, when anything failed during the watch (retried or not).
type FailedError struct {
	N      int // Failures
	Passes int // FailedPasses
}

func (e *FailedError) Error() string {
	msg := fmt.Sprintf("%d failure(s) exporting revisions", e.N)
	if e.Passes > 0 {
		msg += fmt.Sprintf(", %d failed pass(es) of the watch", e.Passes)
	}
	return msg
}

// Run exports what is missing at the destination (and, with Watch, what is
// published later, until ctx ends: then it returns nil).
func Run(ctx context.Context, c *client.Client, o Options) (*Summary, error) {
	sum := &Summary{DataSetID: o.DataSetID, Destination: o.To, Exported: []RevisionSummary{}, Failures: []Failure{}}
	if o.KeyPattern == "" {
		o.KeyPattern = DefaultKeyPattern
	}
	if !strings.Contains(o.KeyPattern, "${Asset.Name}") && !strings.Contains(o.KeyPattern, "${Asset.Id}") {
		return sum, fmt.Errorf("the key pattern %q must hold ${Asset.Name} or ${Asset.Id}, or every asset of a revision gets one key", o.KeyPattern)
	}
	if o.Jobs <= 0 {
		o.Jobs = DefaultJobs
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	ds, err := c.DX.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: aws.String(o.DataSetID)})
	if err != nil {
		return sum, err
	}
	var dst destination
	if strings.HasPrefix(o.To, "s3://") {
		bucket, prefix, ok := client.ParseS3URL(o.To)
		if !ok {
			return sum, fmt.Errorf("%q is not s3://bucket[/prefix]", o.To)
		}
		if o.S3 == nil {
			return sum, errors.New("an s3:// destination needs an S3 client for its manifest")
		}
		if prefix != "" && !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
		dst = &bucketDest{s3: o.S3, bucket: bucket, prefix: prefix}
	} else {
		if err := os.MkdirAll(o.To, 0o755); err != nil {
			return sum, err
		}
		dst = &dirDest{dir: o.To}
	}
	r := &runner{c: c, o: o, ds: ds, dst: dst, sum: sum, retries: retries{now: time.Now}}
	return sum, loop(ctx, o, sum, r.sync, r.logf)
}

// loop runs sync once, or with Watch until ctx ends, every PollInterval. A
// pass that fails ends a single run; under Watch it is logged and counted,
// and the next poll tries again: only ctx ends a watch. The error is a
// *FailedError when anything failed (under Watch, at any time of it).
func loop(ctx context.Context, o Options, sum *Summary, sync func(context.Context) error, logf func(string, ...any)) error {
	for {
		err := sync(ctx)
		if err != nil && !o.Watch {
			return err
		}
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			sum.FailedPasses++
			logf("watch: this pass failed, trying again in %s: %v", o.PollInterval, err)
		}
		if !o.Watch {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(o.PollInterval):
		}
		if ctx.Err() != nil {
			break
		}
	}
	if len(sum.Failures) > 0 || sum.FailedPasses > 0 {
		return &FailedError{N: len(sum.Failures), Passes: sum.FailedPasses}
	}
	return nil
}

// retries schedules the revisions that failed in this process: Watch
// tries one again RetryAfter after its failure, then twice as long after
// each further failure, up to MaxRetryAfter.
type retries struct {
	now func() time.Time
	m   map[string]retry
}

type retry struct {
	at   time.Time
	wait time.Duration
}

// due says whether the revision may be exported now.
func (rs *retries) due(id string) bool {
	r, ok := rs.m[id]
	return !ok || !rs.now().Before(r.at)
}

// failed records a failure of the revision and returns how long until it
// is tried again.
func (rs *retries) failed(id string) time.Duration {
	if rs.m == nil {
		rs.m = map[string]retry{}
	}
	wait := RetryAfter
	if r, ok := rs.m[id]; ok {
		wait = min(r.wait*2, MaxRetryAfter)
	}
	rs.m[id] = retry{at: rs.now().Add(wait), wait: wait}
	return wait
}

func (rs *retries) succeeded(id string) { delete(rs.m, id) }

// manifest records what was exported to a destination, per data set.
type manifest struct {
	DataSetID  string                      `json:"DataSetId"`
	KeyPattern string                      `json:"KeyPattern"`
	Revisions  map[string]manifestRevision `json:"Revisions"`
}

type manifestRevision struct {
	CreatedAt  time.Time       `json:"CreatedAt"`
	ExportedAt time.Time       `json:"ExportedAt"`
	JobIDs     []string        `json:"JobIds"`
	Assets     []manifestAsset `json:"Assets"`
}

type manifestAsset struct {
	ID   string `json:"Id"`
	Name string `json:"Name"`
	Size int64  `json:"Size"`
	Key  string `json:"Key"` // under the bucket's prefix, or the directory
	// SupersededBy, when set, is the newer revision whose asset holds Key:
	// this one was not written, so that a revision exported late (its
	// export failed and was retried, or it was finalized after a newer
	// one) never overwrites a newer revision's asset. Newer is by
	// CreatedAt, the order subscribe exports in.
	SupersededBy string `json:"SupersededBy,omitempty"`
}

// newer reports whether revision a (created at ta) comes after b.
func newer(a string, ta time.Time, b string, tb time.Time) bool {
	return ta.After(tb) || ta.Equal(tb) && a > b
}

// supersede marks the assets of mr (revision id) whose key a newer
// revision in m already holds.
func (m manifest) supersede(id string, mr *manifestRevision) {
	holder := map[string]string{} // key -> the newest revision holding it
	for rid, r := range m.Revisions {
		if !newer(rid, r.CreatedAt, id, mr.CreatedAt) {
			continue
		}
		for _, a := range r.Assets {
			if a.SupersededBy != "" {
				continue
			}
			if h, ok := holder[a.Key]; !ok || newer(rid, r.CreatedAt, h, m.Revisions[h].CreatedAt) {
				holder[a.Key] = rid
			}
		}
	}
	for i := range mr.Assets {
		mr.Assets[i].SupersededBy = holder[mr.Assets[i].Key]
	}
}

// ManifestName is the manifest's file or object name at the destination.
func ManifestName(dataSetID string) string { return ".wharf-subscribe-" + dataSetID + ".json" }

// destination is where revisions go.
type destination interface {
	readManifest(ctx context.Context, name string) ([]byte, error) // nil, nil: none
	writeManifest(ctx context.Context, name string, b []byte) error
	describe() string
}

type runner struct {
	c   *client.Client
	o   Options
	ds  *dataexchange.GetDataSetOutput
	dst destination
	sum *Summary
	// retries are the revisions that failed in this process; Watch does
	// not retry them every poll.
	retries retries
}

func (r *runner) logf(format string, args ...any) {
	if r.o.Log != nil {
		fmt.Fprintf(r.o.Log, format+"\n", args...)
	}
}

// sync exports every finalized, non-revoked revision not in the manifest,
// oldest first.
func (r *runner) sync(ctx context.Context) error {
	name := ManifestName(r.o.DataSetID)
	raw, err := r.dst.readManifest(ctx, name)
	if err != nil {
		return fmt.Errorf("read the manifest %s: %w", name, err)
	}
	m := manifest{DataSetID: r.o.DataSetID, KeyPattern: r.o.KeyPattern, Revisions: map[string]manifestRevision{}}
	if raw != nil {
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("the manifest %s at %s is not valid: %w", name, r.dst.describe(), err)
		}
		if m.Revisions == nil {
			m.Revisions = map[string]manifestRevision{}
		}
	}
	var revs []types.RevisionEntry
	pager := dataexchange.NewListDataSetRevisionsPaginator(r.c.DX, &dataexchange.ListDataSetRevisionsInput{DataSetId: aws.String(r.o.DataSetID)})
	for pager.HasMorePages() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, rev := range page.Revisions {
			if rev.Finalized && !rev.Revoked {
				revs = append(revs, rev)
			}
		}
	}
	sort.Slice(revs, func(i, j int) bool { return aws.ToTime(revs[i].CreatedAt).Before(aws.ToTime(revs[j].CreatedAt)) })
	there := 0
	for _, rev := range revs {
		id := aws.ToString(rev.Id)
		if _, ok := m.Revisions[id]; ok {
			there++
			continue
		}
		if !r.retries.due(id) {
			continue
		}
		mr, err := r.export(ctx, m, rev)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			wait := r.retries.failed(id)
			r.sum.Failures = append(r.sum.Failures, Failure{RevisionID: id, Error: err.Error()})
			if r.o.Watch {
				r.logf("revision %s: %v (trying again in %s)", id, err, wait)
			} else {
				r.logf("revision %s: %v", id, err)
			}
			continue
		}
		r.retries.succeeded(id)
		m.Revisions[id] = mr
		b, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return err
		}
		if err := r.dst.writeManifest(ctx, name, b); err != nil {
			return fmt.Errorf("write the manifest %s: %w", name, err)
		}
		if d, ok := r.dst.(*dirDest); ok {
			if err := d.removeProgress(r.o.DataSetID); err != nil {
				r.logf("remove the progress journal %s: %v", ProgressName(r.o.DataSetID), err)
			}
		}
		rs := RevisionSummary{ID: id, JobIDs: mr.JobIDs}
		for _, a := range mr.Assets {
			if a.SupersededBy != "" {
				rs.Superseded++
				continue
			}
			rs.Assets++
			rs.Bytes += a.Size
		}
		r.sum.Exported = append(r.sum.Exported, rs)
		left := ""
		if rs.Superseded > 0 {
			left = fmt.Sprintf("; %d left out, a newer revision's asset holds their keys", rs.Superseded)
		}
		r.logf("revision %s: %d assets (%d bytes) exported to %s%s", id, rs.Assets, rs.Bytes, r.dst.describe(), left)
	}
	if r.sum.AlreadyThere == 0 {
		r.sum.AlreadyThere = there
	}
	return nil
}

func (r *runner) export(ctx context.Context, m manifest, rev types.RevisionEntry) (manifestRevision, error) {
	assets, err := r.c.RevisionAssets(ctx, r.o.DataSetID, aws.ToString(rev.Id))
	if err != nil {
		return manifestRevision{}, err
	}
	prefix := ""
	if d, ok := r.dst.(*bucketDest); ok {
		prefix = d.prefix
	}
	mr := manifestRevision{CreatedAt: aws.ToTime(rev.CreatedAt), JobIDs: []string{}}
	for _, a := range assets {
		mr.Assets = append(mr.Assets, manifestAsset{ID: aws.ToString(a.Id), Name: aws.ToString(a.Name), Size: assetSize(a),
			Key: prefix + resolve(r.o.KeyPattern, r.ds, rev, a)})
	}
	m.supersede(aws.ToString(rev.Id), &mr)
	switch d := r.dst.(type) {
	case *bucketDest:
		err = r.exportToBucket(ctx, d, rev, &mr)
	case *dirDest:
		err = r.exportToDir(ctx, d, rev, assets, &mr)
	}
	mr.ExportedAt = time.Now().UTC()
	return mr, err
}

func assetSize(a types.AssetEntry) int64 {
	if a.AssetDetails != nil && a.AssetDetails.S3SnapshotAsset != nil {
		return int64(a.AssetDetails.S3SnapshotAsset.Size)
	}
	return -1
}

// maxAssetsPerExport is AWS's limit on an EXPORT_ASSETS_TO_S3 job's assets.
const maxAssetsPerExport = 100

// exportToBucket exports the revision with one EXPORT_REVISIONS_TO_S3 job,
// or, when some of its assets are superseded, the others with
// EXPORT_ASSETS_TO_S3 jobs of up to 100 assets to the keys the pattern gives.
func (r *runner) exportToBucket(ctx context.Context, d *bucketDest, rev types.RevisionEntry, mr *manifestRevision) error {
	var dests []types.AssetDestinationEntry
	for _, a := range mr.Assets {
		if a.SupersededBy == "" {
			dests = append(dests, types.AssetDestinationEntry{AssetId: aws.String(a.ID), Bucket: aws.String(d.bucket), Key: aws.String(a.Key)})
		}
	}
	var jobs []*dataexchange.CreateJobInput
	if len(dests) == len(mr.Assets) {
		jobs = append(jobs, &dataexchange.CreateJobInput{
			Type: types.TypeExportRevisionsToS3,
			Details: &types.RequestDetails{ExportRevisionsToS3: &types.ExportRevisionsToS3RequestDetails{
				DataSetId: aws.String(r.o.DataSetID),
				RevisionDestinations: []types.RevisionDestinationEntry{{
					Bucket: aws.String(d.bucket), RevisionId: rev.Id, KeyPattern: aws.String(d.prefix + r.o.KeyPattern),
				}},
			}},
		})
	} else {
		for batch := range slices.Chunk(dests, maxAssetsPerExport) {
			jobs = append(jobs, &dataexchange.CreateJobInput{
				Type: types.TypeExportAssetsToS3,
				Details: &types.RequestDetails{ExportAssetsToS3: &types.ExportAssetsToS3RequestDetails{
					DataSetId: aws.String(r.o.DataSetID), RevisionId: rev.Id, AssetDestinations: batch,
				}},
			})
		}
	}
	for _, in := range jobs {
		out, err := r.c.RunJob(ctx, in)
		if out != nil {
			mr.JobIDs = append(mr.JobIDs, aws.ToString(out.Id))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) exportToDir(ctx context.Context, d *dirDest, rev types.RevisionEntry, assets []types.AssetEntry, mr *manifestRevision) error {
	type task struct {
		a         types.AssetEntry
		path, key string
	}
	var tasks []task
	paths := make([]string, len(assets))
	for i := range assets {
		path, err := d.path(mr.Assets[i].Key)
		if err != nil {
			return err
		}
		paths[i] = path
	}
	prog, err := d.openProgress(r.o.DataSetID, aws.ToString(rev.Id))
	if err != nil {
		return fmt.Errorf("the progress journal %s: %w", ProgressName(r.o.DataSetID), err)
	}
	defer prog.close()
	for i, a := range assets {
		if mr.Assets[i].SupersededBy != "" {
			continue
		}
		if prog.trusted(aws.ToString(a.Id), mr.Assets[i].Key, paths[i], assetSize(a)) {
			continue // an interrupted export of this revision completed it
		}
		tasks = append(tasks, task{a, paths[i], mr.Assets[i].Key})
	}
	var (
		mu   sync.Mutex
		errs []error
	)
	client.Parallel(ctx, r.o.Jobs, tasks, func(t task) {
		jobID, err := r.download(ctx, rev, t.a, t.path)
		if err == nil {
			if perr := prog.add(aws.ToString(t.a.Id), t.key); perr != nil {
				err = fmt.Errorf("record it in the progress journal: %w", perr)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if jobID != "" {
			mr.JobIDs = append(mr.JobIDs, jobID)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("asset %s (%s): %w", aws.ToString(t.a.Name), aws.ToString(t.a.Id), err))
		}
	})
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.Join(errs...)
}

func (r *runner) download(ctx context.Context, rev types.RevisionEntry, a types.AssetEntry, path string) (string, error) {
	out, err := r.c.RunJob(ctx, &dataexchange.CreateJobInput{
		Type: types.TypeExportAssetToSignedUrl,
		Details: &types.RequestDetails{ExportAssetToSignedUrl: &types.ExportAssetToSignedUrlRequestDetails{
			AssetId: a.Id, DataSetId: aws.String(r.o.DataSetID), RevisionId: rev.Id,
		}},
	})
	jobID := ""
	if out != nil {
		jobID = aws.ToString(out.Id)
	}
	if err != nil {
		return jobID, err
	}
	if out.Details == nil || out.Details.ExportAssetToSignedUrl == nil || out.Details.ExportAssetToSignedUrl.SignedUrl == nil {
		return jobID, fmt.Errorf("job %s completed without a signed URL", jobID)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return jobID, err
	}
	return jobID, r.c.FetchTo(ctx, aws.ToString(out.Details.ExportAssetToSignedUrl.SignedUrl), path, assetSize(a))
}

// resolve fills in a key pattern's references for one asset, as
// EXPORT_REVISIONS_TO_S3 does.
func resolve(pattern string, ds *dataexchange.GetDataSetOutput, rev types.RevisionEntry, a types.AssetEntry) string {
	created := aws.ToTime(rev.CreatedAt).UTC()
	return strings.NewReplacer(
		"${Asset.Id}", aws.ToString(a.Id),
		"${Asset.Name}", aws.ToString(a.Name),
		"${DataSet.Id}", aws.ToString(ds.Id),
		"${DataSet.Name}", aws.ToString(ds.Name),
		"${Revision.Id}", aws.ToString(rev.Id),
		"${Revision.CreatedAt.Year}", fmt.Sprintf("%04d", created.Year()),
		"${Revision.CreatedAt.Month}", fmt.Sprintf("%02d", int(created.Month())),
		"${Revision.CreatedAt.Day}", fmt.Sprintf("%02d", created.Day()),
		"${Revision.CreatedAt}", created.Format("2006-01-02T15:04:05.000Z"),
	).Replace(pattern)
}
