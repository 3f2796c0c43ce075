// Package client is the logic of the `wharf upload`, `wharf download` and
// `wharf jobs wait` commands. It speaks only the AWS Data Exchange API
// (through the AWS SDK for Go v2) and plain HTTP to signed URLs, so it works
// against Wharf and against AWS alike.
package client

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Options say how to reach the API. Empty members take the AWS SDK's usual
// sources: AWS_ENDPOINT_URL_DATAEXCHANGE (or AWS_ENDPOINT_URL), AWS_PROFILE,
// AWS_REGION and the shared config files, the credential chain.
type Options struct {
	EndpointURL string
	Profile     string
	Region      string
}

// Meter shows a transfer's or a job's progress.
type Meter interface {
	// Set reports done of total bytes (total 0: unknown).
	Set(done, total int64)
	// Finish ends the display.
	Finish()
}

// Client runs the commands.
type Client struct {
	DX   *dataexchange.Client
	HTTP *http.Client
	// NewMeter starts a display of progress for what description names;
	// nil shows nothing.
	NewMeter func(description string) Meter
	// Log receives one line per job state change; nil discards them.
	Log io.Writer
	// PollInterval is how often a job is polled; 0 means 1 second.
	PollInterval time.Duration

	// AWS is the configuration the client was made from, for the other
	// services the commands use (S3, to list sources and destinations).
	AWS aws.Config

	mu       sync.Mutex
	progress map[string]jobProgress // by job id, from GetJob's raw answers
}

// New loads the AWS configuration and returns a Client.
func New(ctx context.Context, o Options) (*Client, error) {
	var loaders []func(*config.LoadOptions) error
	if o.Profile != "" {
		loaders = append(loaders, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Region != "" {
		loaders = append(loaders, config.WithRegion(o.Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loaders...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, errors.New("no region: set --region, AWS_REGION or a profile's region")
	}
	c := &Client{HTTP: &http.Client{}, progress: map[string]jobProgress{}, AWS: cfg}
	c.DX = dataexchange.NewFromConfig(cfg, func(opts *dataexchange.Options) {
		if o.EndpointURL != "" {
			opts.BaseEndpoint = aws.String(o.EndpointURL)
		}
		opts.APIOptions = append(opts.APIOptions, c.captureProgress)
	})
	return c, nil
}

// jobProgress is the Progress member Wharf adds to GetJob's answer (AWS
// has none; the SDK skips it).
type jobProgress struct {
	BytesDone  int64
	BytesTotal int64
}

// rawKey is the context key of a *[]byte that receives an answer's raw
// body (withRaw).
type rawKey struct{}

// withRaw returns a context whose calls store their answer's body, as the
// API sent it, in *dst.
func withRaw(ctx context.Context, dst *[]byte) context.Context {
	return context.WithValue(ctx, rawKey{}, dst)
}

// captureProgress reads Wharf's Progress member out of GetJob's raw answer,
// which the SDK would otherwise drop, and hands the raw answer to withRaw's
// callers.
func (c *Client) captureProgress(stack *middleware.Stack) error {
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("WharfJobProgress",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleDeserialize(ctx, in)
			raw, _ := ctx.Value(rawKey{}).(*[]byte)
			if err != nil || (middleware.GetOperationName(ctx) != "GetJob" && raw == nil) {
				return out, md, err
			}
			resp, ok := out.RawResponse.(*smithyhttp.Response)
			if !ok || resp.StatusCode != http.StatusOK {
				return out, md, err
			}
			body, rerr := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
			resp.Body.Close()
			resp.Body = io.NopCloser(bytes.NewReader(body))
			if rerr != nil {
				return out, md, err
			}
			if raw != nil {
				*raw = body
			}
			var v struct {
				Id       string
				Progress *jobProgress
			}
			if json.Unmarshal(body, &v) == nil && v.Progress != nil {
				c.mu.Lock()
				c.progress[v.Id] = *v.Progress
				c.mu.Unlock()
			}
			return out, md, err
		}), middleware.After)
}

func (c *Client) meter(description string) Meter {
	if c.NewMeter == nil {
		return nopMeter{}
	}
	return c.NewMeter(description)
}

type nopMeter struct{}

func (nopMeter) Set(int64, int64) {}
func (nopMeter) Finish()          {}

func (c *Client) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format+"\n", args...)
	}
}

// JobFailedError is a job that ended in ERROR, CANCELLED or TIMED_OUT.
type JobFailedError struct {
	JobID  string
	State  types.State
	Errors []types.JobError
}

// jobEnded reports whether a job in state has ended and, for one that
// ended other than COMPLETED, the *JobFailedError with its errors.
func jobEnded(jobID string, state types.State, errs []types.JobError) (bool, error) {
	switch state {
	case types.StateCompleted:
		return true, nil
	case types.StateError, types.StateCancelled, types.StateTimedOut:
		return true, &JobFailedError{JobID: jobID, State: state, Errors: errs}
	}
	return false, nil
}

func (e *JobFailedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "job %s ended %s", e.JobID, e.State)
	for _, je := range e.Errors {
		fmt.Fprintf(&b, "\n  %s: %s", je.Code, aws.ToString(je.Message))
		if je.Details != nil && je.Details.ImportAssetFromSignedUrlJobErrorDetails != nil {
			fmt.Fprintf(&b, " (asset %s)", aws.ToString(je.Details.ImportAssetFromSignedUrlJobErrorDetails.AssetName))
		}
		if je.Details != nil {
			for _, s := range je.Details.ImportAssetsFromS3JobErrorDetails {
				fmt.Fprintf(&b, " (s3://%s/%s)", aws.ToString(s.Bucket), aws.ToString(s.Key))
			}
		}
	}
	return b.String()
}

// WaitJob follows a job until it ends, showing its progress, and returns
// its last state; a job that ends other than COMPLETED is a
// *JobFailedError.
func (c *Client) WaitJob(ctx context.Context, jobID string) (*dataexchange.GetJobOutput, error) {
	interval := c.PollInterval
	if interval <= 0 {
		interval = time.Second
	}
	var (
		m       Meter
		last    types.State
		lastOut *dataexchange.GetJobOutput
	)
	defer func() {
		if m != nil {
			m.Finish()
		}
	}()
	for {
		out, err := c.DX.GetJob(ctx, &dataexchange.GetJobInput{JobId: aws.String(jobID)})
		if err != nil {
			if ctx.Err() != nil {
				return lastOut, ctx.Err()
			}
			return nil, err
		}
		lastOut = out
		if out.State != last {
			c.logf("job %s: %s", jobID, out.State)
			last = out.State
		}
		c.mu.Lock()
		p, known := c.progress[jobID]
		c.mu.Unlock()
		if known && out.State == types.StateInProgress {
			if m == nil {
				m = c.meter("job " + jobID)
			}
			m.Set(p.BytesDone, p.BytesTotal)
		}
		if done, err := jobEnded(jobID, out.State, out.Errors); done {
			if err == nil && m != nil && known {
				m.Set(p.BytesTotal, p.BytesTotal)
			}
			return out, err
		}
		select {
		case <-ctx.Done():
			return lastOut, ctx.Err()
		case <-time.After(interval):
		}
	}
}

// PollJob polls a job until it ends, quietly: first after 100 ms, then
// less and less often up to once a second (short jobs end sooner than a
// fixed 1 s poll would notice, long ones cost no more requests). A job
// that ends other than COMPLETED is a *JobFailedError.
func (c *Client) PollJob(ctx context.Context, jobID string) (*dataexchange.GetJobOutput, error) {
	wait := 100 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		out, err := c.DX.GetJob(ctx, &dataexchange.GetJobInput{JobId: aws.String(jobID)})
		if err != nil {
			return nil, err
		}
		if done, err := jobEnded(jobID, out.State, out.Errors); done {
			return out, err
		}
		wait = min(wait*3/2, time.Second)
	}
}

// FileMD5 is the base64 MD5 of a file, as Md5Hash and Content-MD5 take it.
func FileMD5(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

// PutFile PUTs a file of size bytes with its base64 MD5 to an
// IMPORT_ASSET_FROM_SIGNED_URL job's signed URL.
func (c *Client) PutFile(ctx context.Context, url, path string, size int64, md5sum string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return c.put(ctx, url, f, size, md5sum, nopMeter{})
}

// FetchTo downloads an EXPORT_ASSET_TO_SIGNED_URL job's signed URL into
// path through a temporary file beside it, renamed once complete and, when
// size is not negative, only if it holds exactly size bytes.
func (c *Client) FetchTo(ctx context.Context, url, path string, size int64) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-")
	if err != nil {
		return err
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name()) // a no-op once renamed into place
	}()
	return c.fetchInto(ctx, url, path, tmp, size, true, nopMeter{})
}

// GetJobJSON returns GetJob's answer as the API sent it (with Wharf's
// Progress member).
func (c *Client) GetJobJSON(ctx context.Context, jobID string) (json.RawMessage, error) {
	var raw []byte
	if _, err := c.DX.GetJob(withRaw(ctx, &raw), &dataexchange.GetJobInput{JobId: aws.String(jobID)}); err != nil {
		return nil, err
	}
	return raw, nil
}

// ListJobsInput filters ListJobs; empty members don't filter.
type ListJobsInput struct {
	DataSetID  string
	RevisionID string
	// Limit stops after this many jobs; 0 means every job.
	Limit int
}

// ListJobs calls fn with each job ListJobs returns, newest first, as the API
// sent it, following NextToken.
func (c *Client) ListJobs(ctx context.Context, in ListJobsInput, fn func(json.RawMessage) error) error {
	req := &dataexchange.ListJobsInput{}
	if in.DataSetID != "" {
		req.DataSetId = aws.String(in.DataSetID)
	}
	if in.RevisionID != "" {
		req.RevisionId = aws.String(in.RevisionID)
	}
	n := 0
	for {
		var raw []byte
		out, err := c.DX.ListJobs(withRaw(ctx, &raw), req)
		if err != nil {
			return err
		}
		var page struct{ Jobs []json.RawMessage }
		if err := json.Unmarshal(raw, &page); err != nil {
			return fmt.Errorf("ListJobs answered %q: %w", raw, err)
		}
		for _, j := range page.Jobs {
			if in.Limit > 0 && n == in.Limit {
				return nil
			}
			if err := fn(j); err != nil {
				return err
			}
			n++
		}
		if aws.ToString(out.NextToken) == "" {
			return nil
		}
		req.NextToken = out.NextToken
	}
}

// UploadInput names a file to upload as an asset.
type UploadInput struct {
	DataSetID  string
	RevisionID string
	Path       string
	// AssetName defaults to the file's base name.
	AssetName string
}

// Upload makes a file an asset of a revision through an
// IMPORT_ASSET_FROM_SIGNED_URL job: it computes the file's MD5, creates the
// job, PUTs the file to the job's signed URL, starts the job, waits for it
// and returns the new asset.
func (c *Client) Upload(ctx context.Context, in UploadInput) (*types.AssetEntry, error) {
	f, err := os.Open(in.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", in.Path)
	}
	name := in.AssetName
	if name == "" {
		name = filepath.Base(in.Path)
	}
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, fmt.Errorf("read %s: %w", in.Path, err)
	}
	sum := base64.StdEncoding.EncodeToString(h.Sum(nil))

	created, err := c.DX.CreateJob(ctx, &dataexchange.CreateJobInput{
		Type: types.TypeImportAssetFromSignedUrl,
		Details: &types.RequestDetails{ImportAssetFromSignedUrl: &types.ImportAssetFromSignedUrlRequestDetails{
			AssetName: aws.String(name), DataSetId: aws.String(in.DataSetID),
			RevisionId: aws.String(in.RevisionID), Md5Hash: aws.String(sum),
		}},
	})
	if err != nil {
		return nil, err
	}
	jobID := aws.ToString(created.Id)
	if created.Details == nil || created.Details.ImportAssetFromSignedUrl == nil ||
		created.Details.ImportAssetFromSignedUrl.SignedUrl == nil {
		return nil, fmt.Errorf("job %s came without a signed URL", jobID)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	m := c.meter("upload " + name)
	err = c.put(ctx, aws.ToString(created.Details.ImportAssetFromSignedUrl.SignedUrl), f, fi.Size(), sum, m)
	m.Finish()
	if err != nil {
		return nil, fmt.Errorf("upload %s (job %s): %w", in.Path, jobID, err)
	}
	if _, err := c.DX.StartJob(ctx, &dataexchange.StartJobInput{JobId: aws.String(jobID)}); err != nil {
		return nil, err
	}
	if _, err := c.WaitJob(ctx, jobID); err != nil {
		return nil, err
	}
	return c.findAsset(ctx, in.DataSetID, in.RevisionID, name, created.CreatedAt)
}

// put sends the file to the signed URL, with its Content-MD5.
func (c *Client) put(ctx context.Context, url string, f io.Reader, size int64, sum string, m Meter) error {
	body := &meteredReader{r: f, total: size, m: m}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, body)
	if err != nil {
		return err
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	req.Header.Set("Content-MD5", sum)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("the signed URL answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// findAsset finds the asset a job created: the newest of the revision's
// assets with its name created since the job (ListRevisionAssets is what
// AWS offers; GetJob does not name the asset).
func (c *Client) findAsset(ctx context.Context, dataSetID, revisionID, name string, since *time.Time) (*types.AssetEntry, error) {
	var best *types.AssetEntry
	p := dataexchange.NewListRevisionAssetsPaginator(c.DX, &dataexchange.ListRevisionAssetsInput{
		DataSetId: aws.String(dataSetID), RevisionId: aws.String(revisionID),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for i := range page.Assets {
			a := page.Assets[i]
			if aws.ToString(a.Name) != name || (since != nil && a.CreatedAt != nil && a.CreatedAt.Before(since.Add(-time.Second))) {
				continue
			}
			if best == nil || (a.CreatedAt != nil && best.CreatedAt != nil && a.CreatedAt.After(*best.CreatedAt)) {
				best = &a
			}
		}
	}
	if best == nil {
		return nil, fmt.Errorf("the job completed but revision %s lists no asset named %q", revisionID, name)
	}
	return best, nil
}

// DownloadInput names an asset to download.
type DownloadInput struct {
	DataSetID  string
	RevisionID string
	AssetID    string
	// Output is the file to write ("-": stdout); it defaults to the base
	// name of the asset's name, in the current directory.
	Output string
	// Force replaces an existing Output; without it Download refuses one.
	Force bool
}

// Download exports an asset to a signed URL (EXPORT_ASSET_TO_SIGNED_URL),
// waits for the job and downloads the URL into the output file, which
// appears only once complete. It returns the file written.
func (c *Client) Download(ctx context.Context, in DownloadInput) (string, error) {
	out := in.Output
	if out == "" {
		a, err := c.DX.GetAsset(ctx, &dataexchange.GetAssetInput{
			DataSetId: aws.String(in.DataSetID), RevisionId: aws.String(in.RevisionID), AssetId: aws.String(in.AssetID),
		})
		if err != nil {
			return "", err
		}
		out = filepath.Base(filepath.FromSlash(aws.ToString(a.Name)))
		if out == "." || out == "/" || out == ".." || out == "" {
			out = in.AssetID
		}
	}
	// The destination is checked, and its temporary file made, before the
	// export starts: a wrong -o costs no job.
	var tmp *os.File
	if out != "-" {
		var err error
		if tmp, err = prepareOutput(out, in.Force); err != nil {
			return "", err
		}
		defer func() {
			tmp.Close()
			os.Remove(tmp.Name()) // a no-op once linked or renamed into place
		}()
	}
	created, err := c.DX.CreateJob(ctx, &dataexchange.CreateJobInput{
		Type: types.TypeExportAssetToSignedUrl,
		Details: &types.RequestDetails{ExportAssetToSignedUrl: &types.ExportAssetToSignedUrlRequestDetails{
			AssetId: aws.String(in.AssetID), DataSetId: aws.String(in.DataSetID), RevisionId: aws.String(in.RevisionID),
		}},
	})
	if err != nil {
		return "", err
	}
	jobID := aws.ToString(created.Id)
	if _, err := c.DX.StartJob(ctx, &dataexchange.StartJobInput{JobId: aws.String(jobID)}); err != nil {
		return "", err
	}
	done, err := c.WaitJob(ctx, jobID)
	if err != nil {
		return "", err
	}
	if done.Details == nil || done.Details.ExportAssetToSignedUrl == nil || done.Details.ExportAssetToSignedUrl.SignedUrl == nil {
		return "", fmt.Errorf("job %s completed without a signed URL", jobID)
	}
	return out, c.fetch(ctx, aws.ToString(done.Details.ExportAssetToSignedUrl.SignedUrl), out, tmp, in.Force)
}

// prepareOutput checks that path can be written (its directory exists and
// takes files; path is not there, unless force) and returns the temporary
// file in its directory that the download goes to.
func prepareOutput(path string, force bool) (*os.File, error) {
	if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return nil, fmt.Errorf("-o %s is a directory: name the file to write", path)
		}
		if !force {
			return nil, fmt.Errorf("-o %s exists: pass --force to replace it", path)
		}
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("-o %s: the directory %s does not exist", path, dir)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".part-")
	if err != nil {
		return nil, fmt.Errorf("-o %s: can't write in %s: %w", path, dir, err)
	}
	return tmp, nil
}

// fetch downloads url into tmp, then puts it in place at path (replacing
// a file there only if force), so that path never holds part of the
// asset; with path "-" it writes to stdout.
func (c *Client) fetch(ctx context.Context, url, path string, tmp *os.File, force bool) error {
	m := c.meter("download " + filepath.Base(path))
	defer m.Finish()
	return c.fetchInto(ctx, url, path, tmp, -1, force, m)
}

// fetchInto is fetch that, when size is not negative, also requires
// exactly size bytes.
func (c *Client) fetchInto(ctx context.Context, url, path string, tmp *os.File, size int64, force bool, m Meter) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("the signed URL answered %s: %s", resp.Status, strings.TrimSpace(string(msg)))
	}
	body := &meteredReader{r: resp.Body, total: max(resp.ContentLength, 0), m: m}
	if path == "-" {
		_, err := io.Copy(os.Stdout, body)
		return err
	}
	n, err := io.Copy(tmp, body)
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = fmt.Errorf("got %d of %d bytes", n, resp.ContentLength)
	}
	if err == nil && size >= 0 && n != size {
		err = fmt.Errorf("got %d bytes, but the asset's size is %d", n, size)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download to %s: %w", path, err)
	}
	if force {
		return os.Rename(tmp.Name(), path)
	}
	// A link fails if path appeared meanwhile: nothing is clobbered.
	if err := os.Link(tmp.Name(), path); err != nil {
		return fmt.Errorf("download to %s: %w (pass --force to replace it)", path, err)
	}
	return nil
}

// meteredReader reports the bytes read through it to a Meter.
type meteredReader struct {
	r     io.Reader
	done  int64
	total int64
	m     Meter
}

func (r *meteredReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.done += int64(n)
		r.m.Set(r.done, r.total)
	}
	return n, err
}
