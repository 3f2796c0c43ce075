package jobtypes

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/wharf-dev/wharf/internal/apiasset"
	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/signedurl"
	"github.com/wharf-dev/wharf/internal/store"
)

// ImportFromAPIGateway runs IMPORT_ASSET_FROM_API_GATEWAY_API jobs: the API
// becomes one API_GATEWAY_API asset named after the API, with every
// ApiGatewayApiAsset member (see APIGatewayAsset), whose requests
// SendApiAsset forwards to the API's endpoint.
//
// CreateJob (Prepare) returns ApiSpecificationUploadUrl and its expiry: the
// signed-URL machinery of IMPORT_ASSET_FROM_SIGNED_URL (signedurl.go), so
// the client PUTs the API's OpenAPI 3.0 JSON specification there with
// Content-MD5 = ApiSpecificationMd5Hash, and a body of another digest is
// refused. The run checks the upload (its size, its MD5 again, and
// ValidateOpenAPISpec), moves it under the asset's key, and creates the
// asset; AssetURLs signs the asset's ApiSpecificationDownloadUrl, which
// serves those bytes, at each read. An upload missing, over
// MaxAPISpecSize, of another MD5 or not OpenAPI 3.0 ends the job in ERROR
// with a VALIDATION_EXCEPTION saying so.
//
// Without Deps.SignedURLs there is no URL to hand out: CreateJob checks
// the whole request, then refuses it (ErrAPISpecUploadUnsupported).
//
// Wharf does not contact API Gateway: the API id, stage and key are not
// checked against a real API.
//
// Limit: 20 assets per revision ("Amazon API Gateway API assets per
// revision").
type ImportFromAPIGateway struct {
	deps Deps
	// urls makes the upload URL; nil without Deps.SignedURLs.
	urls *urlMaker
}

var (
	_ jobs.Runner   = (*ImportFromAPIGateway)(nil)
	_ jobs.Preparer = (*ImportFromAPIGateway)(nil)
)

// ErrAPISpecUploadUnsupported is CreateJob's answer to a valid
// IMPORT_ASSET_FROM_API_GATEWAY_API request when Wharf runs without signed
// URLs, so has no ApiSpecificationUploadUrl to give.
var ErrAPISpecUploadUnsupported = fault.Validationf("IMPORT_ASSET_FROM_API_GATEWAY_API jobs need signed URLs, which this Wharf is not configured with: " +
	"the request is valid, but there is no ApiSpecificationUploadUrl to upload its OpenAPI specification to")

// Limits of the API Gateway type.
const (
	// MaxAPISpecSize bounds an OpenAPI specification (Wharf's choice; AWS
	// documents none): API Gateway itself imports definitions of up to
	// 6 MB, 10 MB leaves room.
	MaxAPISpecSize = 10 << 20
	maxAPINameLen  = 1024
	maxStageLen    = 128
)

var stagePattern = regexp.MustCompile(`^[A-Za-z0-9_\-]+$`)

// md5Base64 is the model's pattern of ApiSpecificationMd5Hash, 24
// characters of base64.
var md5Base64 = regexp.MustCompile(`^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$`)

// APIGatewayRequest is an ImportAssetFromApiGatewayApi request, checked.
type APIGatewayRequest struct {
	ApiDescription          *string
	ApiId                   string
	ApiKey                  *string
	ApiName                 string
	ApiSpecificationMd5Hash string
	ProtocolType            string
	Stage                   string
}

func parseAPIGateway(job resource.Job) (APIGatewayRequest, error) {
	var d struct {
		ApiDescription          *string
		ApiId                   *string
		ApiKey                  *string
		ApiName                 *string
		ApiSpecificationMd5Hash *string
		ProtocolType            *string
		Stage                   *string
		RevisionId              *string
	}
	if err := decodeMember(job, &d); err != nil {
		return APIGatewayRequest{}, err
	}
	if err := requireRevision(job, d.RevisionId); err != nil {
		return APIGatewayRequest{}, err
	}
	const member = "Details.ImportAssetFromApiGatewayApi"
	for _, req := range []struct {
		name string
		v    *string
	}{{"ApiId", d.ApiId}, {"ApiName", d.ApiName}, {"ApiSpecificationMd5Hash", d.ApiSpecificationMd5Hash},
		{"ProtocolType", d.ProtocolType}, {"Stage", d.Stage}} {
		if req.v == nil {
			return APIGatewayRequest{}, fault.Validationf("%s.%s is required", member, req.name)
		}
	}
	switch {
	case !apiasset.ValidAPIID(*d.ApiId):
		return APIGatewayRequest{}, fault.Validationf("%s.ApiId %q is not an API Gateway API id (10 lowercase letters and digits)", member, *d.ApiId)
	case strings.TrimSpace(*d.ApiName) == "" || len(*d.ApiName) > maxAPINameLen:
		return APIGatewayRequest{}, fault.Validationf("%s.ApiName must be 1 to %d characters long and not blank", member, maxAPINameLen)
	case len(*d.ApiSpecificationMd5Hash) != 24 || !md5Base64.MatchString(*d.ApiSpecificationMd5Hash):
		return APIGatewayRequest{}, fault.Validationf("%s.ApiSpecificationMd5Hash %q is not a base64-encoded MD5 hash (24 characters)", member, *d.ApiSpecificationMd5Hash)
	case *d.ProtocolType != "REST":
		return APIGatewayRequest{}, fault.Validationf("%s.ProtocolType %q is not one of [REST]", member, *d.ProtocolType)
	case len(*d.Stage) > maxStageLen || !stagePattern.MatchString(*d.Stage):
		return APIGatewayRequest{}, fault.Validationf("%s.Stage %q is not an API Gateway stage name (1 to %d letters, digits, _ and -)", member, *d.Stage, maxStageLen)
	case d.ApiKey != nil && *d.ApiKey == "":
		return APIGatewayRequest{}, fault.Validationf("%s.ApiKey can't be empty: leave it out for an API without a key", member)
	}
	return APIGatewayRequest{ApiDescription: d.ApiDescription, ApiId: *d.ApiId, ApiKey: d.ApiKey, ApiName: *d.ApiName,
		ApiSpecificationMd5Hash: *d.ApiSpecificationMd5Hash, ProtocolType: *d.ProtocolType, Stage: *d.Stage}, nil
}

// APIGatewayAsset is the API_GATEWAY_API asset req creates in region, as
// index 0 of job jobID: named after the API, with ApiEndpoint the endpoint
// SendApiAsset forwards to (endpoints' for the API id, else API Gateway's
// https://{ApiId}.execute-api.{region}.amazonaws.com/{Stage}).
// ApiSpecificationDownloadUrl and its expiry are left to whoever serves the
// asset (they are short-lived in AWS).
func APIGatewayAsset(jobID, region string, endpoints apiasset.Endpoints, req APIGatewayRequest) resource.Asset {
	d := apiasset.Details{
		ApiDescription: req.ApiDescription,
		ApiEndpoint:    endpoints.For(region, req.ApiId, req.Stage),
		ApiId:          req.ApiId,
		ApiKey:         req.ApiKey,
		ApiName:        req.ApiName,
		ProtocolType:   req.ProtocolType,
		Stage:          req.Stage,
	}
	return resource.Asset{
		ID:        jobs.AssetID(jobID, 0),
		Name:      req.ApiName,
		AssetType: resource.AssetTypeAPIGatewayAPI,
		Details:   mustJSON(map[string]any{"ApiGatewayApiAsset": d}),
	}
}

// ValidateOpenAPISpec checks that spec is an OpenAPI 3.0 specification in
// JSON, as AWS requires of an API asset's: valid JSON, an "openapi" version
// 3.0.x, and a document that passes kin-openapi's validation. Failures are
// ValidationExceptions saying what is wrong.
func ValidateOpenAPISpec(ctx context.Context, spec io.Reader) error {
	b, err := io.ReadAll(io.LimitReader(spec, MaxAPISpecSize+1))
	if err != nil {
		return fmt.Errorf("jobtypes: read the API specification: %w", err)
	}
	if len(b) > MaxAPISpecSize {
		return fault.Validationf("the API specification is over %d MB", MaxAPISpecSize>>20)
	}
	if !json.Valid(b) {
		return fault.Validationf("the API specification is not JSON: upload an OpenAPI 3.0 specification in JSON")
	}
	var head struct {
		OpenAPI *string `json:"openapi"`
		Swagger *string `json:"swagger"`
	}
	if err := json.Unmarshal(b, &head); err != nil || bytes.TrimSpace(b)[0] != '{' {
		return fault.Validationf("the API specification is not a JSON object")
	}
	switch {
	case head.Swagger != nil:
		return fault.Validationf("the API specification is Swagger %s (OpenAPI 2): upload an OpenAPI 3.0 specification", *head.Swagger)
	case head.OpenAPI == nil:
		return fault.Validationf(`the API specification has no "openapi" version: upload an OpenAPI 3.0 specification`)
	case !strings.HasPrefix(*head.OpenAPI, "3.0."):
		return fault.Validationf("the API specification is OpenAPI %q: upload an OpenAPI 3.0 specification", *head.OpenAPI)
	}
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	doc, err := loader.LoadFromData(b)
	if err != nil {
		return fault.Validationf("the API specification is not valid OpenAPI 3.0: %v", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return fault.Validationf("the API specification is not valid OpenAPI 3.0: %v", err)
	}
	return nil
}

var apiGatewayQuota = jobs.Quota{Name: LimitAPIGatewayAssetsPerRevision, Value: MaxAPIGatewayAssetsPerRevision}

// Validate implements jobs.Runner.
func (r *ImportFromAPIGateway) Validate(ctx context.Context, q store.Queries, job resource.Job) error {
	if _, err := parseAPIGateway(job); err != nil {
		return err
	}
	return referenceTarget(ctx, q, job, resource.AssetTypeAPIGatewayAPI, 1, apiGatewayQuota)
}

const apiGatewayMember = "ImportAssetFromApiGatewayApi"

// apiGatewayResponse is ImportAssetFromApiGatewayApiResponseDetails.
type apiGatewayResponse struct {
	ApiDescription                     *string `json:"ApiDescription,omitempty"`
	ApiId                              string  `json:"ApiId"`
	ApiKey                             *string `json:"ApiKey,omitempty"`
	ApiName                            string  `json:"ApiName"`
	ApiSpecificationMd5Hash            string  `json:"ApiSpecificationMd5Hash"`
	ApiSpecificationUploadUrl          string  `json:"ApiSpecificationUploadUrl"`
	ApiSpecificationUploadUrlExpiresAt string  `json:"ApiSpecificationUploadUrlExpiresAt"`
	DataSetId                          string  `json:"DataSetId"`
	ProtocolType                       string  `json:"ProtocolType"`
	RevisionId                         string  `json:"RevisionId"`
	Stage                              string  `json:"Stage"`
}

// Prepare implements jobs.Preparer: it adds ApiSpecificationUploadUrl and
// ApiSpecificationUploadUrlExpiresAt to the request's members.
func (r *ImportFromAPIGateway) Prepare(ctx context.Context, job resource.Job) (json.RawMessage, error) {
	req, err := parseAPIGateway(job)
	if err != nil {
		return nil, err
	}
	if r.urls == nil {
		return nil, ErrAPISpecUploadUnsupported
	}
	u, expAt, err := r.urls.uploadURL(ctx, job, req.ApiSpecificationMd5Hash)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]apiGatewayResponse{apiGatewayMember: {
		ApiDescription: req.ApiDescription, ApiId: req.ApiId, ApiKey: req.ApiKey, ApiName: req.ApiName,
		ApiSpecificationMd5Hash: req.ApiSpecificationMd5Hash, ApiSpecificationUploadUrl: u,
		ApiSpecificationUploadUrlExpiresAt: expAt, DataSetId: job.DataSetID, ProtocolType: req.ProtocolType,
		RevisionId: job.RevisionID, Stage: req.Stage,
	}})
}

// Run implements jobs.Runner.
func (r *ImportFromAPIGateway) Run(ctx context.Context, job resource.Job, progress jobs.Progress) (jobs.Result, error) {
	req, err := parseAPIGateway(job)
	if err != nil {
		return jobs.Result{}, err
	}
	if r.urls == nil {
		return jobs.Result{}, ErrAPISpecUploadUnsupported
	}
	if err := r.Validate(ctx, r.deps.Store, job); err != nil {
		return jobs.Result{}, err
	}
	up, err := findUpload(ctx, r.deps.Assets, job)
	if err != nil {
		return jobs.Result{}, err
	}
	if !up.found {
		var d struct{ ApiSpecificationUploadUrlExpiresAt *string }
		_ = decodeMember(job, &d)
		return specError(r.urls.noUploadMessage(fmt.Sprintf("the ApiSpecificationUploadUrl of API %q", req.ApiName), d.ApiSpecificationUploadUrlExpiresAt)), nil
	}
	if up.info.Size > MaxAPISpecSize {
		return specError(fmt.Sprintf("the API specification of %q is %d bytes: over the limit of %d MB", req.ApiName, up.info.Size, MaxAPISpecSize>>20)), nil
	}
	progress(0, up.info.Size)
	switch msg, err := r.checkSpec(ctx, up.key, req); {
	case err != nil:
		return jobs.Result{}, err
	case msg != "":
		return specError(msg), nil
	}
	info, err := up.moveToAsset(ctx, r.deps.Assets, job)
	if err != nil {
		return jobs.Result{}, err
	}
	progress(info.Size, info.Size)
	return referenceResult([]resource.Asset{APIGatewayAsset(job.ID, r.deps.Region, r.deps.APIEndpoints, req)}, apiGatewayQuota), nil
}

// checkSpec reads the uploaded specification once, checking its MD5 (the
// upload URL did already; this also covers bytes put there another way)
// and that it is OpenAPI 3.0. A refusal is a message for the job's error.
func (r *ImportFromAPIGateway) checkSpec(ctx context.Context, key assetstore.Key, req APIGatewayRequest) (string, error) {
	rc, _, err := r.deps.Assets.Open(ctx, key, nil)
	if err != nil {
		return "", fmt.Errorf("jobtypes: open the API specification %s: %w", key, err)
	}
	defer rc.Close()
	sum := md5.New()
	body := io.TeeReader(io.LimitReader(rc, MaxAPISpecSize+1), sum)
	verr := ValidateOpenAPISpec(ctx, body)
	if _, err := io.Copy(io.Discard, body); err != nil {
		return "", fmt.Errorf("jobtypes: read the API specification %s: %w", key, err)
	}
	if got := base64.StdEncoding.EncodeToString(sum.Sum(nil)); got != req.ApiSpecificationMd5Hash {
		return fmt.Sprintf("the API specification of %q has MD5 %s, not the job's ApiSpecificationMd5Hash %s", req.ApiName, got, req.ApiSpecificationMd5Hash), nil
	}
	if fe := fault.As(verr); fe != nil {
		return fmt.Sprintf("API %q: %s", req.ApiName, fe.Message), nil
	}
	return "", verr
}

// specError is a run's result refusing the API specification.
func specError(msg string) jobs.Result {
	return jobs.Result{Errors: []jobs.JobError{{Code: jobs.CodeValidation, Message: msg}}}
}

// Cleanup implements jobs.Runner: it removes the staged specification and
// what a run may have moved.
func (r *ImportFromAPIGateway) Cleanup(ctx context.Context, job resource.Job) error {
	return discardUpload(ctx, r.deps.Assets, job)
}

// AssetURLs signs the members of asset details that AWS makes short-lived,
// at each read of an asset: ApiSpecificationDownloadUrl and
// ApiSpecificationDownloadUrlExpiresAt of API_GATEWAY_API assets, a URL
// that serves the stored specification (GET) for
// SignedURLConfig.DownloadExpiry: one Wharf serves with the local asset
// store, an S3 presigned URL with an S3 asset store.
type AssetURLs struct{ urls urlMaker }

// NewAssetURLs returns the AssetURLs of an asset store, with the
// configuration of the signed-URL job types (Deps.SignedURLs).
func NewAssetURLs(assets assetstore.Store, cfg *SignedURLConfig) (*AssetURLs, error) {
	c, err := cfg.withDefaults(assets)
	if err != nil {
		return nil, err
	}
	return &AssetURLs{urls: urlMaker{cfg: c, assets: assets}}, nil
}

// Details returns a's AssetDetails with its signed members added (for
// other asset types, as they are).
func (u *AssetURLs) Details(ctx context.Context, a resource.Asset) (json.RawMessage, error) {
	if a.AssetType != resource.AssetTypeAPIGatewayAPI {
		return a.Details, nil
	}
	var d map[string]map[string]json.RawMessage
	if err := json.Unmarshal(a.Details, &d); err != nil || d["ApiGatewayApiAsset"] == nil {
		return nil, fmt.Errorf("jobtypes: asset %s has no ApiGatewayApiAsset details", a.ID)
	}
	key, err := assetBytes(a)
	if err != nil {
		return nil, err
	}
	url, exp, err := u.urls.download(ctx, key, "")
	if err != nil {
		return nil, err
	}
	d["ApiGatewayApiAsset"]["ApiSpecificationDownloadUrl"] = mustJSON(url)
	d["ApiGatewayApiAsset"]["ApiSpecificationDownloadUrlExpiresAt"] = mustJSON(signedurl.ExpiresAt(exp))
	return json.Marshal(d)
}
