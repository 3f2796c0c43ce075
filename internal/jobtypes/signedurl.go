package jobtypes

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"path"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/signedurl"
	"github.com/wharf-dev/wharf/internal/store"
)

// Defaults of the signed-URL job types.
const (
	// DefaultUploadURLExpiry is how long an IMPORT_ASSET_FROM_SIGNED_URL
	// URL takes uploads (AWS: one hour).
	DefaultUploadURLExpiry = time.Hour
	// DefaultDownloadURLExpiry is how long an EXPORT_ASSET_TO_SIGNED_URL
	// URL serves the asset (AWS: one minute).
	DefaultDownloadURLExpiry = time.Minute
	// maxAssetNameLen is the longest asset name, in characters (as
	// UpdateAsset's rule).
	maxAssetNameLen = 1024
)

// SignedURLConfig configures the signed-URL job types.
type SignedURLConfig struct {
	// Signer makes the URLs Wharf serves itself, for the local asset
	// store; required with it. With an S3 asset store the URLs are S3
	// presigned URLs.
	Signer *signedurl.Signer
	// UploadExpiry and DownloadExpiry are the URLs' lifetimes; 0 means
	// the defaults above. They are counted in whole seconds.
	UploadExpiry   time.Duration
	DownloadExpiry time.Duration
	// MaxUploadSize is the largest upload an import takes; 0 means
	// signedurl.DefaultMaxUploadSize (5 GB).
	MaxUploadSize int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (c *SignedURLConfig) withDefaults(assets assetstore.Store) (*SignedURLConfig, error) {
	out := *c
	if out.UploadExpiry == 0 {
		out.UploadExpiry = DefaultUploadURLExpiry
	}
	if out.DownloadExpiry == 0 {
		out.DownloadExpiry = DefaultDownloadURLExpiry
	}
	if out.MaxUploadSize == 0 {
		out.MaxUploadSize = signedurl.DefaultMaxUploadSize
	}
	if out.Now == nil {
		out.Now = time.Now
	}
	switch {
	case out.UploadExpiry < time.Second || out.DownloadExpiry < time.Second:
		return nil, errors.New("jobtypes: signed URLs must live at least a second")
	case out.UploadExpiry > 7*24*time.Hour || out.DownloadExpiry > 7*24*time.Hour:
		// SigV4 presigned URLs can't live longer.
		return nil, errors.New("jobtypes: signed URLs can live at most 7 days")
	case out.MaxUploadSize < 0:
		return nil, errors.New("jobtypes: MaxUploadSize can't be negative")
	}
	if _, s3Store := assets.(*assetstore.S3); !s3Store && out.Signer == nil {
		return nil, errors.New("jobtypes: signed-URL jobs on the local asset store need a Signer")
	}
	return &out, nil
}

// urlMaker makes signed URLs for the asset store in use.
type urlMaker struct {
	cfg    *SignedURLConfig
	assets assetstore.Store
}

// upload returns the URL that takes a PUT of the bytes whose base64 MD5 is
// contentMD5 into key, and when it expires.
func (m urlMaker) upload(ctx context.Context, key assetstore.Key, contentMD5 string) (string, time.Time, error) {
	if s, ok := m.assets.(*assetstore.S3); ok {
		loc := s.Location(key)
		req, err := s3.NewPresignClient(s.Endpoint().Client()).PresignPutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(loc.Bucket), Key: aws.String(loc.Key), ContentMD5: aws.String(contentMD5),
		}, s3.WithPresignExpires(m.cfg.UploadExpiry))
		if err != nil {
			return "", time.Time{}, fmt.Errorf("jobtypes: presign the upload to %s: %w", loc, err)
		}
		return presignedExpiry(req.URL)
	}
	exp := m.cfg.Now().Add(m.cfg.UploadExpiry).Truncate(time.Second)
	return m.cfg.Signer.UploadURL(key, contentMD5, exp), exp, nil
}

// download returns the URL that serves key's bytes, and when it expires.
// With an S3 asset store, the URL asks S3 to name the download after name
// (its last path segment; none when name is ""): the URL is then on another
// origin than the console's, where a browser ignores a link's download
// attribute and would save the file under the object's key, a hex id.
func (m urlMaker) download(ctx context.Context, key assetstore.Key, name string) (string, time.Time, error) {
	if s, ok := m.assets.(*assetstore.S3); ok {
		loc := s.Location(key)
		in := &s3.GetObjectInput{Bucket: aws.String(loc.Bucket), Key: aws.String(loc.Key)}
		if d := attachment(name); d != "" {
			in.ResponseContentDisposition = aws.String(d)
		}
		req, err := s3.NewPresignClient(s.Endpoint().Client()).PresignGetObject(ctx, in, s3.WithPresignExpires(m.cfg.DownloadExpiry))
		if err != nil {
			return "", time.Time{}, fmt.Errorf("jobtypes: presign the download of %s: %w", loc, err)
		}
		return presignedExpiry(req.URL)
	}
	exp := m.cfg.Now().Add(m.cfg.DownloadExpiry).Truncate(time.Second)
	return m.cfg.Signer.DownloadURL(key, exp), exp, nil
}

// attachment is the Content-Disposition that saves a download as name's
// last path segment ("" for no name, or one that can't be a file name).
// mime encodes a name that is not ASCII as RFC 2231's filename*.
func attachment(name string) string {
	base := path.Base(name)
	if name == "" || base == "." || base == "/" || base == ".." {
		return ""
	}
	return mime.FormatMediaType("attachment", map[string]string{"filename": base})
}

// presignedExpiry reads when a SigV4 presigned URL expires out of it
// (X-Amz-Date + X-Amz-Expires), so that SignedUrlExpiresAt is exact.
func presignedExpiry(raw string) (string, time.Time, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("jobtypes: presigned URL: %w", err)
	}
	q := u.Query()
	signed, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("jobtypes: presigned URL has no X-Amz-Date: %w", err)
	}
	secs, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil {
		return "", time.Time{}, fmt.Errorf("jobtypes: presigned URL has no X-Amz-Expires: %w", err)
	}
	return raw, signed.Add(time.Duration(secs) * time.Second), nil
}

// The job types whose CreateJob hands out an upload URL
// (IMPORT_ASSET_FROM_SIGNED_URL, IMPORT_ASSET_FROM_API_GATEWAY_API) share
// what follows: the URL (uploadURL), the staged upload under
// signedurl.UploadKey (findUpload), its move to the asset's key
// (moveToAsset), and its removal (discardUpload).

// uploadURL is the URL and expiry (as the API writes timestamps) that take
// the job's upload of the bytes whose base64 MD5 is contentMD5.
func (m urlMaker) uploadURL(ctx context.Context, job resource.Job, contentMD5 string) (string, string, error) {
	key, err := signedurl.UploadKey(job.AccountID, job.ID)
	if err != nil {
		return "", "", err
	}
	u, exp, err := m.upload(ctx, key, contentMD5)
	if err != nil {
		return "", "", err
	}
	return u, signedurl.ExpiresAt(exp), nil
}

// noUploadMessage says that nothing was uploaded to what (a URL), and
// whether that URL, expiring at expiresAt (as the job's details have it),
// has expired.
func (m urlMaker) noUploadMessage(what string, expiresAt *string) string {
	if expiresAt != nil {
		if exp, err := time.Parse(time.RFC3339, *expiresAt); err == nil && !m.cfg.Now().Before(exp) {
			return fmt.Sprintf("%s expired at %s with nothing uploaded", what, *expiresAt)
		}
	}
	return fmt.Sprintf("nothing was uploaded to %s before the job started", what)
}

// upload is a job's uploaded bytes, where a run finds them.
type upload struct {
	found bool
	// key holds the bytes: the staging key, or the asset's key when moved.
	key, final assetstore.Key
	moved      bool
	info       assetstore.Info
}

// findUpload finds the job's upload: staged, or already under the key of
// the job's first asset, where a run that died after moving it left it
// (only this job writes there). found is false when there is neither.
func findUpload(ctx context.Context, assets assetstore.Store, job resource.Job) (upload, error) {
	staged, err := signedurl.UploadKey(job.AccountID, job.ID)
	if err != nil {
		return upload{}, err
	}
	final, err := jobAssetKey(job, 0)
	if err != nil {
		return upload{}, err
	}
	up := upload{found: true, key: staged, final: final}
	up.info, err = assets.Stat(ctx, staged)
	if errors.Is(err, assetstore.ErrNotFound) {
		up.key, up.moved = final, true
		up.info, err = assets.Stat(ctx, final)
		if errors.Is(err, assetstore.ErrNotFound) {
			return upload{}, nil
		}
	}
	if err != nil {
		return upload{}, fmt.Errorf("jobtypes: stat the upload of job %s: %w", job.ID, err)
	}
	return up, nil
}

// moveToAsset makes the staged upload the bytes of the job's first asset: a
// rename in the local store, a server-side copy then a delete in an S3
// store (a run that dies between the two is re-run: it copies again).
func (up upload) moveToAsset(ctx context.Context, assets assetstore.Store, job resource.Job) (assetstore.Info, error) {
	if up.moved {
		return up.info, nil
	}
	if err := assetstore.Move(ctx, assets, up.key, up.final); err != nil {
		return assetstore.Info{}, fmt.Errorf("jobtypes: move the upload of job %s to its asset: %w", job.ID, err)
	}
	return assets.Stat(ctx, up.final)
}

// discardUpload removes the job's staged upload and the asset bytes a run
// may have moved it to (a Cleanup: the job did not complete).
func discardUpload(ctx context.Context, assets assetstore.Store, job resource.Job) error {
	staged, err := signedurl.UploadKey(job.AccountID, job.ID)
	if err != nil {
		return nil // never valid, never staged
	}
	final, err := jobAssetKey(job, 0)
	if err != nil {
		return nil
	}
	return errors.Join(
		retry(ctx, func() error { return assetstore.Discard(ctx, assets, staged) }),
		retry(ctx, func() error { return assetstore.Discard(ctx, assets, final) }),
	)
}

// ImportFromSignedURL runs IMPORT_ASSET_FROM_SIGNED_URL jobs.
//
// At CreateJob (Prepare) it hands out a URL that takes one PUT of the bytes
// whose MD5 is the job's Md5Hash, sent with that Content-MD5, into the
// job's staging key (signedurl.UploadKey): a URL Wharf serves with the
// local asset store, an S3 presigned URL (Content-MD5 signed, so S3 refuses
// another body) with the S3 asset store. The run moves the staged upload to
// the asset's key (a rename, or a server-side copy and delete) and creates
// one S3_SNAPSHOT asset named AssetName.
//
// Errors, in the job's Errors, each with
// Details.ImportAssetFromSignedUrlJobErrorDetails naming the asset: nothing
// uploaded (VALIDATION_EXCEPTION, saying whether the URL has expired), an
// upload over the size limit (SERVICE_QUOTA_EXCEEDED_EXCEPTION, LimitName
// "Asset size in GB").
type ImportFromSignedURL struct {
	deps Deps
	urls urlMaker
}

// ExportToSignedURL runs EXPORT_ASSET_TO_SIGNED_URL jobs: the run checks
// the asset and its bytes and completes the job with a URL that serves
// them (GET, with Range requests) for SignedURLConfig.DownloadExpiry.
type ExportToSignedURL struct {
	deps Deps
	urls urlMaker
}

var (
	_ jobs.Runner   = (*ImportFromSignedURL)(nil)
	_ jobs.Preparer = (*ImportFromSignedURL)(nil)
	_ jobs.Runner   = (*ExportToSignedURL)(nil)
)

func newSignedURLRunners(d Deps) (map[string]jobs.Runner, error) {
	cfg, err := d.SignedURLs.withDefaults(d.Assets)
	if err != nil {
		return nil, err
	}
	m := urlMaker{cfg: cfg, assets: d.Assets}
	return map[string]jobs.Runner{
		resource.JobTypeImportAssetFromSignedURL: &ImportFromSignedURL{deps: d, urls: m},
		resource.JobTypeExportAssetToSignedURL:   &ExportToSignedURL{deps: d, urls: m},
		// Without signed URLs, Register's runner refuses these jobs.
		resource.JobTypeImportAssetFromAPIGatewayAPI: &ImportFromAPIGateway{deps: d, urls: &m},
	}, nil
}

const importSignedMember = "ImportAssetFromSignedUrl"

// signedImport is an IMPORT_ASSET_FROM_SIGNED_URL job's details.
type signedImport struct {
	AssetName          *string `json:"AssetName"`
	DataSetId          *string `json:"DataSetId"`
	Md5Hash            *string `json:"Md5Hash"`
	RevisionId         *string `json:"RevisionId"`
	SignedUrl          *string `json:"SignedUrl,omitempty"`
	SignedUrlExpiresAt *string `json:"SignedUrlExpiresAt,omitempty"`
}

func parseSignedImport(job resource.Job) (signedImport, error) {
	var d signedImport
	if err := decodeMember(job, &d); err != nil {
		return d, err
	}
	const f = "Details." + importSignedMember + "."
	switch {
	case d.RevisionId == nil || job.RevisionID == "":
		return d, fault.Validationf(f + "RevisionId is required")
	case d.AssetName == nil:
		return d, fault.Validationf(f + "AssetName is required")
	case *d.AssetName == "" || utf8.RuneCountInString(*d.AssetName) > maxAssetNameLen:
		return d, fault.Validationf(f+"AssetName must be 1 to %d characters long", maxAssetNameLen)
	case !utf8.ValidString(*d.AssetName):
		return d, fault.Validationf(f + "AssetName is not valid UTF-8")
	case d.Md5Hash == nil:
		return d, fault.Validationf(f + "Md5Hash is required")
	}
	if sum, err := base64.StdEncoding.Strict().DecodeString(*d.Md5Hash); err != nil || len(*d.Md5Hash) != 24 || len(sum) != md5.Size {
		return d, fault.Validationf(f+"Md5Hash %q is not the base64 encoding of an MD5 digest (24 characters)", *d.Md5Hash)
	}
	return d, nil
}

// Validate implements jobs.Runner.
func (r *ImportFromSignedURL) Validate(ctx context.Context, q store.Queries, job resource.Job) error {
	if _, err := parseSignedImport(job); err != nil {
		return err
	}
	return r.target(ctx, q, job)
}

func (r *ImportFromSignedURL) target(ctx context.Context, q store.Queries, job resource.Job) error {
	ds, err := authorize(ctx, q, job, importing)
	if err != nil {
		return err
	}
	if ds.AssetType != resource.AssetTypeS3Snapshot {
		return fault.Validationf("data set %s holds %s assets: %s jobs import %s assets",
			ds.ID, ds.AssetType, job.Type, resource.AssetTypeS3Snapshot)
	}
	_, err = loadRevision(ctx, q, job, true)
	return err
}

// Prepare implements jobs.Preparer: it adds SignedUrl and SignedUrlExpiresAt.
func (r *ImportFromSignedURL) Prepare(ctx context.Context, job resource.Job) (json.RawMessage, error) {
	d, err := parseSignedImport(job)
	if err != nil {
		return nil, err
	}
	u, expAt, err := r.urls.uploadURL(ctx, job, *d.Md5Hash)
	if err != nil {
		return nil, err
	}
	d.SignedUrl, d.SignedUrlExpiresAt = &u, &expAt
	return json.Marshal(map[string]signedImport{importSignedMember: d})
}

// Run implements jobs.Runner.
func (r *ImportFromSignedURL) Run(ctx context.Context, job resource.Job, progress jobs.Progress) (jobs.Result, error) {
	d, err := parseSignedImport(job)
	if err != nil {
		return jobs.Result{}, err
	}
	if err := r.target(ctx, r.deps.Store, job); err != nil {
		return jobs.Result{}, err
	}
	up, err := findUpload(ctx, r.deps.Assets, job)
	if err != nil {
		return jobs.Result{}, err
	}
	name := *d.AssetName
	if !up.found {
		return jobs.Result{Errors: []jobs.JobError{{
			Code:    jobs.CodeValidation,
			Message: r.urls.noUploadMessage(fmt.Sprintf("the signed URL of asset %q", name), d.SignedUrlExpiresAt),
			Details: jobs.ImportAssetFromSignedURLErrorDetails(name),
		}}}, nil
	}
	info := up.info
	limit := r.urls.cfg.MaxUploadSize
	if info.Size > limit {
		return jobs.Result{Errors: []jobs.JobError{{
			Code:         jobs.CodeServiceQuotaExceeded,
			Message:      fmt.Sprintf("the upload of %q is %d bytes: over the limit of %d bytes (%g GB) per signed-URL upload", name, info.Size, limit, float64(limit)/gb),
			ResourceType: string(resource.KindAsset),
			ResourceID:   jobs.AssetID(job.ID, 0),
			LimitName:    LimitAssetSize,
			LimitValue:   float64(limit) / gb,
			Details:      jobs.ImportAssetFromSignedURLErrorDetails(name),
		}}}, nil
	}
	progress(0, info.Size)
	if info, err = up.moveToAsset(ctx, r.deps.Assets, job); err != nil {
		return jobs.Result{}, err
	}
	progress(info.Size, info.Size)
	return jobs.Result{Assets: []resource.Asset{{
		ID:        jobs.AssetID(job.ID, 0),
		Name:      name,
		AssetType: resource.AssetTypeS3Snapshot,
		Details:   snapshotDetails(info.Size),
	}}}, nil
}

// Cleanup implements jobs.Runner: it removes the staged upload and the
// asset's bytes a run may have moved.
func (r *ImportFromSignedURL) Cleanup(ctx context.Context, job resource.Job) error {
	return discardUpload(ctx, r.deps.Assets, job)
}

// UploadGate is the signedurl.UploadGate of Wharf's jobs: an upload is
// taken while its IMPORT_ASSET_FROM_SIGNED_URL or
// IMPORT_ASSET_FROM_API_GATEWAY_API job is WAITING.
type UploadGate struct{ Store store.Store }

// Admit implements signedurl.UploadGate.
func (g UploadGate) Admit(ctx context.Context, accountID, jobID string) error {
	j, err := g.Store.GetJob(ctx, accountID, jobID)
	switch {
	case errors.Is(err, store.ErrNotFound) || (err == nil && !takesUpload(j.Type)):
		return fmt.Errorf("job %s does not exist", jobID)
	case err != nil:
		return errors.New("the job can't be read now; try again")
	case j.State != resource.JobStateWaiting:
		return fmt.Errorf("job %s is %s: only a WAITING job takes an upload", jobID, j.State)
	}
	return nil
}

// takesUpload reports whether jobs of type jobType take an upload.
func takesUpload(jobType string) bool {
	return jobType == resource.JobTypeImportAssetFromSignedURL || jobType == resource.JobTypeImportAssetFromAPIGatewayAPI
}

// Stale implements signedurl.UploadGate: the job has ended, or is gone.
func (g UploadGate) Stale(ctx context.Context, accountID, jobID string) bool {
	j, err := g.Store.GetJob(ctx, accountID, jobID)
	if errors.Is(err, store.ErrNotFound) {
		return true
	}
	return err == nil && j.State != resource.JobStateWaiting && j.State != resource.JobStateInProgress
}

const exportSignedMember = "ExportAssetToSignedUrl"

// signedExport is an EXPORT_ASSET_TO_SIGNED_URL job's details.
type signedExport struct {
	AssetId            *string `json:"AssetId"`
	DataSetId          *string `json:"DataSetId"`
	RevisionId         *string `json:"RevisionId"`
	SignedUrl          *string `json:"SignedUrl,omitempty"`
	SignedUrlExpiresAt *string `json:"SignedUrlExpiresAt,omitempty"`
}

func parseSignedExport(job resource.Job) (signedExport, error) {
	var d signedExport
	if err := decodeMember(job, &d); err != nil {
		return d, err
	}
	const f = "Details." + exportSignedMember + "."
	switch {
	case d.RevisionId == nil || job.RevisionID == "":
		return d, fault.Validationf(f + "RevisionId is required")
	case d.AssetId == nil:
		return d, fault.Validationf(f + "AssetId is required")
	case !resource.ValidID(*d.AssetId):
		return d, fault.Validationf(f+"AssetId %q is not a valid id", *d.AssetId)
	}
	return d, nil
}

// plan finds the asset to export, for the job's account.
func (r *ExportToSignedURL) plan(ctx context.Context, q store.Queries, job resource.Job, d signedExport) (resource.Asset, error) {
	if _, err := authorize(ctx, q, job, exporting); err != nil {
		return resource.Asset{}, err
	}
	if _, err := loadRevision(ctx, q, job, false); err != nil {
		return resource.Asset{}, err
	}
	a, err := loadAsset(ctx, q, job, *d.AssetId)
	if err != nil {
		return a, err
	}
	if a.AssetType != resource.AssetTypeS3Snapshot {
		return a, fault.Validationf("asset %s is a %s asset: only %s assets can be exported to a signed URL",
			a.ID, a.AssetType, resource.AssetTypeS3Snapshot)
	}
	return a, nil
}

// Validate implements jobs.Runner.
func (r *ExportToSignedURL) Validate(ctx context.Context, q store.Queries, job resource.Job) error {
	d, err := parseSignedExport(job)
	if err != nil {
		return err
	}
	_, err = r.plan(ctx, q, job, d)
	return err
}

// Run implements jobs.Runner.
func (r *ExportToSignedURL) Run(ctx context.Context, job resource.Job, progress jobs.Progress) (jobs.Result, error) {
	d, err := parseSignedExport(job)
	if err != nil {
		return jobs.Result{}, err
	}
	a, err := r.plan(ctx, r.deps.Store, job, d)
	if err != nil {
		return jobs.Result{}, err
	}
	key, err := assetBytes(a)
	if err != nil {
		return jobs.Result{}, fmt.Errorf("jobtypes: asset %s: %w", a.ID, err)
	}
	info, err := r.deps.Assets.Stat(ctx, key)
	if err != nil {
		return jobs.Result{}, fmt.Errorf("jobtypes: the bytes of asset %s: %w", a.ID, err)
	}
	u, exp, err := r.urls.download(ctx, key, a.Name)
	if err != nil {
		return jobs.Result{}, err
	}
	expAt := signedurl.ExpiresAt(exp)
	d.SignedUrl, d.SignedUrlExpiresAt = &u, &expAt
	details, err := json.Marshal(map[string]signedExport{exportSignedMember: d})
	if err != nil {
		return jobs.Result{}, err
	}
	progress(info.Size, info.Size)
	return jobs.Result{Details: details}, nil
}

// Cleanup implements jobs.Runner: an export writes nothing.
func (r *ExportToSignedURL) Cleanup(context.Context, resource.Job) error { return nil }
