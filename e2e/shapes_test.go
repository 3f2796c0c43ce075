package e2e

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file turns the SDK's many output types into a few plain views, so
// that one assertion checks a data set, revision or asset however it was
// returned (Create, Get, Update or List).

var idRE = regexp.MustCompile(`^[a-zA-Z0-9]{32}$`)

type dataSetView struct {
	Arn, Id, Name, Description, AssetType, Origin string
	CreatedAt, UpdatedAt                          time.Time
	SourceId                                      *string
	OriginDetails                                 *types.OriginDetails
}

type revisionView struct {
	Arn, Id, DataSetId, Comment, RevocationComment string
	Finalized, Revoked                             bool
	CreatedAt, UpdatedAt                           time.Time
	RevokedAt                                      *time.Time
	SourceId                                       *string
}

type assetView struct {
	Arn, Id, DataSetId, RevisionId, Name, AssetType string
	Size                                            float64
	CreatedAt, UpdatedAt                            time.Time
	SourceId                                        *string
}

func tm(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.UTC()
}

func dsFromEntry(e types.DataSetEntry) dataSetView {
	return dataSetView{aws.ToString(e.Arn), aws.ToString(e.Id), aws.ToString(e.Name), aws.ToString(e.Description),
		string(e.AssetType), string(e.Origin), tm(e.CreatedAt), tm(e.UpdatedAt), e.SourceId, e.OriginDetails}
}

func dsFromCreate(o *dataexchange.CreateDataSetOutput) dataSetView {
	return dataSetView{aws.ToString(o.Arn), aws.ToString(o.Id), aws.ToString(o.Name), aws.ToString(o.Description),
		string(o.AssetType), string(o.Origin), tm(o.CreatedAt), tm(o.UpdatedAt), o.SourceId, o.OriginDetails}
}

func dsFromGet(o *dataexchange.GetDataSetOutput) dataSetView {
	return dataSetView{aws.ToString(o.Arn), aws.ToString(o.Id), aws.ToString(o.Name), aws.ToString(o.Description),
		string(o.AssetType), string(o.Origin), tm(o.CreatedAt), tm(o.UpdatedAt), o.SourceId, o.OriginDetails}
}

func dsFromUpdate(o *dataexchange.UpdateDataSetOutput) dataSetView {
	return dataSetView{aws.ToString(o.Arn), aws.ToString(o.Id), aws.ToString(o.Name), aws.ToString(o.Description),
		string(o.AssetType), string(o.Origin), tm(o.CreatedAt), tm(o.UpdatedAt), o.SourceId, o.OriginDetails}
}

func revFromEntry(e types.RevisionEntry) revisionView {
	return revisionView{aws.ToString(e.Arn), aws.ToString(e.Id), aws.ToString(e.DataSetId), aws.ToString(e.Comment),
		aws.ToString(e.RevocationComment), e.Finalized, e.Revoked, tm(e.CreatedAt), tm(e.UpdatedAt), utc(e.RevokedAt), e.SourceId}
}

func revFromCreate(o *dataexchange.CreateRevisionOutput) revisionView {
	return revisionView{aws.ToString(o.Arn), aws.ToString(o.Id), aws.ToString(o.DataSetId), aws.ToString(o.Comment),
		aws.ToString(o.RevocationComment), o.Finalized, o.Revoked, tm(o.CreatedAt), tm(o.UpdatedAt), utc(o.RevokedAt), o.SourceId}
}

func revFromGet(o *dataexchange.GetRevisionOutput) revisionView {
	return revisionView{aws.ToString(o.Arn), aws.ToString(o.Id), aws.ToString(o.DataSetId), aws.ToString(o.Comment),
		aws.ToString(o.RevocationComment), o.Finalized, o.Revoked, tm(o.CreatedAt), tm(o.UpdatedAt), utc(o.RevokedAt), o.SourceId}
}

func revFromUpdate(o *dataexchange.UpdateRevisionOutput) revisionView {
	return revisionView{aws.ToString(o.Arn), aws.ToString(o.Id), aws.ToString(o.DataSetId), aws.ToString(o.Comment),
		aws.ToString(o.RevocationComment), o.Finalized, o.Revoked, tm(o.CreatedAt), tm(o.UpdatedAt), utc(o.RevokedAt), o.SourceId}
}

func revFromRevoke(o *dataexchange.RevokeRevisionOutput) revisionView {
	return revisionView{aws.ToString(o.Arn), aws.ToString(o.Id), aws.ToString(o.DataSetId), aws.ToString(o.Comment),
		aws.ToString(o.RevocationComment), o.Finalized, o.Revoked, tm(o.CreatedAt), tm(o.UpdatedAt), utc(o.RevokedAt), o.SourceId}
}

func utc(p *time.Time) *time.Time {
	if p == nil {
		return nil
	}
	u := p.UTC()
	return &u
}

func size(d *types.AssetDetails) float64 {
	if d == nil || d.S3SnapshotAsset == nil {
		return -1
	}
	return d.S3SnapshotAsset.Size
}

func assetFromEntry(e types.AssetEntry) assetView {
	return assetView{aws.ToString(e.Arn), aws.ToString(e.Id), aws.ToString(e.DataSetId), aws.ToString(e.RevisionId),
		aws.ToString(e.Name), string(e.AssetType), size(e.AssetDetails), tm(e.CreatedAt), tm(e.UpdatedAt), e.SourceId}
}

func assetFromGet(o *dataexchange.GetAssetOutput) assetView {
	return assetView{aws.ToString(o.Arn), aws.ToString(o.Id), aws.ToString(o.DataSetId), aws.ToString(o.RevisionId),
		aws.ToString(o.Name), string(o.AssetType), size(o.AssetDetails), tm(o.CreatedAt), tm(o.UpdatedAt), o.SourceId}
}

func assetFromUpdate(o *dataexchange.UpdateAssetOutput) assetView {
	return assetView{aws.ToString(o.Arn), aws.ToString(o.Id), aws.ToString(o.DataSetId), aws.ToString(o.RevisionId),
		aws.ToString(o.Name), string(o.AssetType), size(o.AssetDetails), tm(o.CreatedAt), tm(o.UpdatedAt), o.SourceId}
}

// ARNs as the Service Authorization Reference spells them.
func dataSetARN(account, id string) string {
	return fmt.Sprintf("arn:aws:dataexchange:%s:%s:data-sets/%s", region, account, id)
}

func revisionARN(account, ds, id string) string { return dataSetARN(account, ds) + "/revisions/" + id }

func assetARN(account, ds, rev, id string) string {
	return revisionARN(account, ds, rev) + "/assets/" + id
}

// checkTime asserts that ts was set by the server between before and after
// (with a second of slack for clock granularity).
func checkTime(t *testing.T, what string, ts, before, after time.Time) {
	t.Helper()
	if ts.IsZero() {
		t.Errorf("%s is missing", what)
		return
	}
	if ts.Before(before.Add(-time.Second)) || ts.After(after.Add(time.Second)) {
		t.Errorf("%s = %s, want between %s and %s", what, ts, before, after)
	}
}

// checkNewDataSet asserts the shape of a freshly created data set.
func checkNewDataSet(t *testing.T, v dataSetView, account, name, desc string, before, after time.Time) {
	t.Helper()
	assert.Regexp(t, idRE, v.Id, "data set Id")
	assert.Equal(t, dataSetARN(account, v.Id), v.Arn, "data set Arn")
	assert.Equal(t, name, v.Name)
	assert.Equal(t, desc, v.Description)
	assert.Equal(t, "S3_SNAPSHOT", v.AssetType)
	assert.Equal(t, "OWNED", v.Origin)
	assert.Nil(t, v.SourceId, "owned data set SourceId")
	assert.Nil(t, v.OriginDetails, "owned data set OriginDetails")
	checkTime(t, "data set CreatedAt", v.CreatedAt, before, after)
	assert.Equal(t, v.CreatedAt, v.UpdatedAt, "UpdatedAt of a new data set")
}

func checkNewRevision(t *testing.T, v revisionView, account, dataSetID, comment string, before, after time.Time) {
	t.Helper()
	assert.Regexp(t, idRE, v.Id, "revision Id")
	assert.Equal(t, revisionARN(account, dataSetID, v.Id), v.Arn, "revision Arn")
	assert.Equal(t, dataSetID, v.DataSetId)
	assert.Equal(t, comment, v.Comment)
	assert.False(t, v.Finalized, "Finalized")
	assert.False(t, v.Revoked, "Revoked")
	assert.Nil(t, v.RevokedAt, "RevokedAt")
	assert.Empty(t, v.RevocationComment, "RevocationComment")
	assert.Nil(t, v.SourceId, "SourceId")
	checkTime(t, "revision CreatedAt", v.CreatedAt, before, after)
	assert.Equal(t, v.CreatedAt, v.UpdatedAt, "UpdatedAt of a new revision")
}

// requestID returns the X-Amzn-RequestId the SDK read from a response.
func requestID(t *testing.T, md middleware.Metadata) string {
	t.Helper()
	id, ok := awsmiddleware.GetRequestIDMetadata(md)
	if !ok || id == "" {
		t.Errorf("response has no X-Amzn-RequestId")
	}
	return id
}

// --- errors ---

// httpStatus returns the HTTP status of a failed SDK call, or 0.
func httpStatus(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func errorHeader(err error, name string) string {
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		return re.Response.Header.Get(name)
	}
	return ""
}

// checkWireError asserts what every error response carries: the status,
// X-Amzn-ErrorType naming the exception, a request id, and a message.
func checkWireError(t *testing.T, err error, status int, code string) {
	t.Helper()
	require.Error(t, err, "want %s", code)
	var apiErr smithy.APIError
	require.True(t, errors.As(err, &apiErr), "error %v (%T) is not an API error", err, err)
	assert.Equal(t, code, apiErr.ErrorCode(), "error code of %v", err)
	assert.NotEmpty(t, apiErr.ErrorMessage(), "error Message of %v", err)
	assert.Equal(t, status, httpStatus(err), "HTTP status of %v", err)
	errType := errorHeader(err, "X-Amzn-ErrorType")
	if i := strings.IndexByte(errType, ':'); i >= 0 {
		errType = errType[:i]
	}
	assert.Equal(t, code, errType, "X-Amzn-ErrorType of %v", err)
	assert.NotEmpty(t, errorHeader(err, "X-Amzn-RequestId"), "X-Amzn-RequestId of %v", err)
	assert.Contains(t, errorHeader(err, "Content-Type"), "application/json", "Content-Type of %v", err)
}

// requireNotFound asserts a *types.ResourceNotFoundException naming the
// resource.
func requireNotFound(t *testing.T, err error, kind types.ResourceType, id string) {
	t.Helper()
	checkWireError(t, err, http.StatusNotFound, "ResourceNotFoundException")
	var nf *types.ResourceNotFoundException
	require.True(t, errors.As(err, &nf), "want *types.ResourceNotFoundException, got %T: %v", err, err)
	assert.Equal(t, kind, nf.ResourceType, "ResourceType of %v", err)
	assert.Equal(t, id, aws.ToString(nf.ResourceId), "ResourceId of %v", err)
}

// requireNotFoundAny asserts a ResourceNotFoundException without checking
// which resource it names (for operations where either the parent or the
// child could be the one reported).
func requireNotFoundAny(t *testing.T, err error) {
	t.Helper()
	checkWireError(t, err, http.StatusNotFound, "ResourceNotFoundException")
	var nf *types.ResourceNotFoundException
	require.True(t, errors.As(err, &nf), "want *types.ResourceNotFoundException, got %T: %v", err, err)
	assert.NotEmpty(t, nf.ResourceType, "ResourceType of %v", err)
	assert.NotEmpty(t, aws.ToString(nf.ResourceId), "ResourceId of %v", err)
}

func requireValidation(t *testing.T, err error) {
	t.Helper()
	checkWireError(t, err, http.StatusBadRequest, "ValidationException")
	var ve *types.ValidationException
	require.True(t, errors.As(err, &ve), "want *types.ValidationException, got %T: %v", err, err)
}

func requireConflict(t *testing.T, err error, kind types.ResourceType, id string) {
	t.Helper()
	checkWireError(t, err, http.StatusConflict, "ConflictException")
	var ce *types.ConflictException
	require.True(t, errors.As(err, &ce), "want *types.ConflictException, got %T: %v", err, err)
	if kind != "" {
		assert.Equal(t, kind, ce.ResourceType, "ResourceType of %v", err)
		assert.Equal(t, id, aws.ToString(ce.ResourceId), "ResourceId of %v", err)
	}
}

// requireCode asserts an error by code only: for operations that model no
// errors (the tag operations) and for authentication failures, which reach
// Go clients as *smithy.GenericAPIError.
func requireCode(t *testing.T, err error, status int, code string) {
	t.Helper()
	checkWireError(t, err, status, code)
}
