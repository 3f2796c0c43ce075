package jobtypes

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/wharf-dev/wharf/internal/apiasset"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// ImportFromAPIGateway runs IMPORT_ASSET_FROM_API_GATEWAY_API jobs: the API
// becomes one API_GATEWAY_API asset named after the API, with every
// ApiGatewayApiAsset member (see APIGatewayAsset), whose requests
// SendApiAsset forwards to the API's endpoint.
//
// In AWS, CreateJob returns ApiSpecificationUploadUrl, where the client
// uploads the API's OpenAPI 3.0 JSON specification before StartJob. That
// upload needs Wharf's signed-URL machinery (IMPORT_ASSET_FROM_SIGNED_URL),
// which this runner does not have yet: CreateJob checks the whole request,
// then refuses it with a ValidationException saying so
// (ErrAPISpecUploadUnsupported), so that no job is created that could never
// run. ValidateOpenAPISpec is the check StartJob will make of the upload.
//
// Wharf does not contact API Gateway: the API id, stage and key are not
// checked against a real API.
//
// Limit: 20 assets per revision ("Amazon API Gateway API assets per
// revision").
type ImportFromAPIGateway struct {
	deps Deps
}

var (
	_ jobs.Runner   = (*ImportFromAPIGateway)(nil)
	_ jobs.Preparer = (*ImportFromAPIGateway)(nil)
)

// ErrAPISpecUploadUnsupported is CreateJob's answer to a valid
// IMPORT_ASSET_FROM_API_GATEWAY_API request until Wharf can give it an
// ApiSpecificationUploadUrl.
var ErrAPISpecUploadUnsupported = fault.Validationf("IMPORT_ASSET_FROM_API_GATEWAY_API jobs are not supported by Wharf yet: " +
	"the request is valid, but Wharf can't give it the ApiSpecificationUploadUrl its OpenAPI specification is uploaded to")

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

// Prepare implements jobs.Preparer: it would add the upload URL; until
// Wharf has one to give, it refuses the job.
func (r *ImportFromAPIGateway) Prepare(context.Context, resource.Job) (json.RawMessage, error) {
	return nil, ErrAPISpecUploadUnsupported
}

// Run implements jobs.Runner. No job of this type gets past CreateJob yet.
func (r *ImportFromAPIGateway) Run(context.Context, resource.Job, jobs.Progress) (jobs.Result, error) {
	return jobs.Result{}, ErrAPISpecUploadUnsupported
}

// Cleanup implements jobs.Runner: nothing is staged yet.
func (r *ImportFromAPIGateway) Cleanup(context.Context, resource.Job) error { return nil }
