package tfprovider

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	dxtypes "github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// setArgs reports which type-specific arguments m configures (unknown
// values count as set: they will be).
func (m *jobModel) setArgs() map[string]bool {
	set := func(v attr.Value) bool { return !v.IsNull() }
	return map[string]bool{
		argRevisionID:              set(m.RevisionID),
		argS3AssetSources:          set(m.S3AssetSources),
		argS3AssetDestinations:     set(m.S3AssetDestinations),
		argEncryptionType:          set(m.EncryptionType),
		argEncryptionKMSKeyARN:     set(m.EncryptionKMSKeyARN),
		argS3RevisionDestinations:  set(m.S3RevisionDestinations),
		argAssetName:               set(m.AssetName),
		argMD5Hash:                 set(m.MD5Hash),
		argSourceFile:              set(m.SourceFile),
		argAssetID:                 set(m.AssetID),
		argRedshiftDataShareARNs:   set(m.RedshiftDataShareARNs),
		argAPIID:                   set(m.APIID),
		argAPIName:                 set(m.APIName),
		argAPIStage:                set(m.APIStage),
		argAPIDescription:          set(m.APIDescription),
		argAPIKey:                  set(m.APIKey),
		argAPIProtocolType:         set(m.APIProtocolType),
		argAPISpecificationMD5Hash: set(m.APISpecificationMD5Hash),
		argAPISpecificationFile:    set(m.APISpecificationFile),
		argCatalogID:               set(m.CatalogID),
		argRoleARN:                 set(m.RoleARN),
		argDatabaseLFTagExpression: set(m.DatabaseLFTagExpression),
		argDatabasePermissions:     set(m.DatabasePermissions),
		argTableLFTagExpression:    set(m.TableLFTagExpression),
		argTablePermissions:        set(m.TablePermissions),
	}
}

// revisionOf returns the plain revision id of a configured revision_id.
func revisionOf(v types.String) *string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	_, rev := splitRevisionID(v.ValueString())
	return aws.String(rev)
}

func optString(v types.String) *string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	return aws.String(v.ValueString())
}

func listElements[T any](ctx context.Context, l types.List, diags *diag.Diagnostics) []T {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	var out []T
	diags.Append(l.ElementsAs(ctx, &out, false)...)
	return out
}

func (m *jobModel) encryption() *dxtypes.ExportServerSideEncryption {
	if m.EncryptionType.IsNull() {
		return nil
	}
	return &dxtypes.ExportServerSideEncryption{
		Type:      dxtypes.ServerSideEncryptionTypes(m.EncryptionType.ValueString()),
		KmsKeyArn: optString(m.EncryptionKMSKeyARN),
	}
}

// createJobInput builds CreateJob's request from a planned job (every
// argument known).
func (m *jobModel) createJobInput(ctx context.Context) (*dataexchange.CreateJobInput, diag.Diagnostics) {
	var diags diag.Diagnostics
	dataSetID := aws.String(m.DataSetID.ValueString())
	revisionID := revisionOf(m.RevisionID)
	var d dxtypes.RequestDetails
	switch m.Type.ValueString() {
	case typeImportFromS3:
		var sources []dxtypes.AssetSourceEntry
		for _, s := range listElements[s3AssetSourceModel](ctx, m.S3AssetSources, &diags) {
			sources = append(sources, dxtypes.AssetSourceEntry{Bucket: optString(s.Bucket), Key: optString(s.Key)})
		}
		d.ImportAssetsFromS3 = &dxtypes.ImportAssetsFromS3RequestDetails{
			DataSetId: dataSetID, RevisionId: revisionID, AssetSources: sources,
		}
	case typeExportToS3:
		var dests []dxtypes.AssetDestinationEntry
		for _, s := range listElements[s3AssetDestinationModel](ctx, m.S3AssetDestinations, &diags) {
			dests = append(dests, dxtypes.AssetDestinationEntry{AssetId: optString(s.AssetID), Bucket: optString(s.Bucket), Key: optString(s.Key)})
		}
		d.ExportAssetsToS3 = &dxtypes.ExportAssetsToS3RequestDetails{
			DataSetId: dataSetID, RevisionId: revisionID, AssetDestinations: dests, Encryption: m.encryption(),
		}
	case typeImportFromSignedURL:
		d.ImportAssetFromSignedUrl = &dxtypes.ImportAssetFromSignedUrlRequestDetails{
			DataSetId: dataSetID, RevisionId: revisionID, AssetName: optString(m.AssetName), Md5Hash: optString(m.MD5Hash),
		}
	case typeExportToSignedURL:
		d.ExportAssetToSignedUrl = &dxtypes.ExportAssetToSignedUrlRequestDetails{
			DataSetId: dataSetID, RevisionId: revisionID, AssetId: optString(m.AssetID),
		}
	case typeExportRevisionsToS3:
		var dests []dxtypes.RevisionDestinationEntry
		for _, s := range listElements[s3RevisionDestinationModel](ctx, m.S3RevisionDestinations, &diags) {
			dests = append(dests, dxtypes.RevisionDestinationEntry{
				Bucket: optString(s.Bucket), KeyPattern: optString(s.KeyPattern), RevisionId: revisionOf(s.RevisionID),
			})
		}
		d.ExportRevisionsToS3 = &dxtypes.ExportRevisionsToS3RequestDetails{
			DataSetId: dataSetID, RevisionDestinations: dests, Encryption: m.encryption(),
		}
	case typeImportFromRedshift:
		var sources []dxtypes.RedshiftDataShareAssetSourceEntry
		for _, arn := range listElements[string](ctx, m.RedshiftDataShareARNs, &diags) {
			sources = append(sources, dxtypes.RedshiftDataShareAssetSourceEntry{DataShareArn: aws.String(arn)})
		}
		d.ImportAssetsFromRedshiftDataShares = &dxtypes.ImportAssetsFromRedshiftDataSharesRequestDetails{
			DataSetId: dataSetID, RevisionId: revisionID, AssetSources: sources,
		}
	case typeImportFromAPIGateway:
		protocol := dxtypes.ProtocolTypeRest
		if !m.APIProtocolType.IsNull() {
			protocol = dxtypes.ProtocolType(m.APIProtocolType.ValueString())
		}
		d.ImportAssetFromApiGatewayApi = &dxtypes.ImportAssetFromApiGatewayApiRequestDetails{
			DataSetId: dataSetID, RevisionId: revisionID,
			ApiId: optString(m.APIID), ApiName: optString(m.APIName), Stage: optString(m.APIStage),
			ApiDescription: optString(m.APIDescription), ApiKey: optString(m.APIKey), ProtocolType: protocol,
			ApiSpecificationMd5Hash: optString(m.APISpecificationMD5Hash),
		}
	case typeImportFromLakeFormation:
		lf := &dxtypes.ImportAssetsFromLakeFormationTagPolicyRequestDetails{
			DataSetId: dataSetID, RevisionId: revisionID, CatalogId: optString(m.CatalogID), RoleArn: optString(m.RoleARN),
		}
		if !m.DatabaseLFTagExpression.IsNull() {
			lf.Database = &dxtypes.DatabaseLFTagPolicyAndPermissions{Expression: lfTags(ctx, m.DatabaseLFTagExpression, &diags)}
			for _, p := range listElements[string](ctx, m.DatabasePermissions, &diags) {
				lf.Database.Permissions = append(lf.Database.Permissions, dxtypes.DatabaseLFTagPolicyPermission(p))
			}
		}
		if !m.TableLFTagExpression.IsNull() {
			lf.Table = &dxtypes.TableLFTagPolicyAndPermissions{Expression: lfTags(ctx, m.TableLFTagExpression, &diags)}
			for _, p := range listElements[string](ctx, m.TablePermissions, &diags) {
				lf.Table.Permissions = append(lf.Table.Permissions, dxtypes.TableTagPolicyLFPermission(p))
			}
		}
		d.ImportAssetsFromLakeFormationTagPolicy = lf
	default:
		diags.AddAttributeError(pathOf("type"), "Unsupported job type", fmt.Sprintf("type %q is not one of %v", m.Type.ValueString(), jobTypes))
	}
	return &dataexchange.CreateJobInput{Type: dxtypes.Type(m.Type.ValueString()), Details: &d}, diags
}

func lfTags(ctx context.Context, l types.List, diags *diag.Diagnostics) []dxtypes.LFTag {
	var out []dxtypes.LFTag
	for _, t := range listElements[lfTagModel](ctx, l, diags) {
		out = append(out, dxtypes.LFTag{TagKey: optString(t.TagKey), TagValues: listElements[string](ctx, t.TagValues, diags)})
	}
	return out
}

// jobView is what GetJob and CreateJob both answer.
type jobView struct {
	ID, ARN   *string
	State     dxtypes.State
	Type      dxtypes.Type
	CreatedAt *time.Time
	UpdatedAt *time.Time
	Details   *dxtypes.ResponseDetails
	Errors    []dxtypes.JobError
}

func viewOfGet(o *dataexchange.GetJobOutput) jobView {
	return jobView{o.Id, o.Arn, o.State, o.Type, o.CreatedAt, o.UpdatedAt, o.Details, o.Errors}
}

func viewOfCreate(o *dataexchange.CreateJobOutput) jobView {
	return jobView{o.Id, o.Arn, o.State, o.Type, o.CreatedAt, o.UpdatedAt, o.Details, o.Errors}
}

// applyView sets m from the job the service answered. Arguments keep the
// form the configuration chose where the service's differs only in form:
// a DATA_SET_ID:REVISION_ID revision id, an unset key pattern or protocol
// type the service filled with its default. Local files are not the
// service's and stay as they are.
func (m *jobModel) applyView(ctx context.Context, j jobView) diag.Diagnostics {
	var diags diag.Diagnostics
	m.ID = types.StringPointerValue(j.ID)
	m.ARN = types.StringPointerValue(j.ARN)
	m.State = types.StringValue(string(j.State))
	m.Type = types.StringValue(string(j.Type))
	m.CreatedAt = timeValue(j.CreatedAt)
	m.LastUpdatedTime = timeValue(j.UpdatedAt)
	m.Errors, diags = jobErrorsValue(j.Errors)

	prior := *m
	// Reset every type-specific argument, then set those of the job's type.
	m.RevisionID = types.StringNull()
	m.S3AssetSources = types.ListNull(s3AssetSourceType)
	m.S3AssetDestinations = types.ListNull(s3AssetDestinationType)
	m.EncryptionType, m.EncryptionKMSKeyARN = types.StringNull(), types.StringNull()
	m.S3RevisionDestinations = types.ListNull(s3RevisionDestinationType)
	m.AssetName, m.MD5Hash, m.AssetID = types.StringNull(), types.StringNull(), types.StringNull()
	m.SignedURL, m.SignedURLExpiresAt = types.StringNull(), types.StringNull()
	m.RedshiftDataShareARNs = types.ListNull(types.StringType)
	m.APIID, m.APIName, m.APIStage, m.APIDescription = types.StringNull(), types.StringNull(), types.StringNull(), types.StringNull()
	m.APIKey, m.APIProtocolType, m.APISpecificationMD5Hash = types.StringNull(), types.StringNull(), types.StringNull()
	m.CatalogID, m.RoleARN = types.StringNull(), types.StringNull()
	m.DatabaseLFTagExpression, m.TableLFTagExpression = types.ListNull(lfTagType), types.ListNull(lfTagType)
	m.DatabasePermissions, m.TablePermissions = types.ListNull(types.StringType), types.ListNull(types.StringType)
	if !typeTakes(m.Type.ValueString(), argSourceFile) {
		m.SourceFile = types.StringNull()
	}
	if !typeTakes(m.Type.ValueString(), argAPISpecificationFile) {
		m.APISpecificationFile = types.StringNull()
	}

	d := j.Details
	if d == nil {
		d = &dxtypes.ResponseDetails{}
	}
	revision := func(ds, rev *string) {
		m.DataSetID = types.StringPointerValue(ds)
		m.RevisionID = keepRevisionForm(prior.RevisionID, rev)
	}
	add := func(ds diag.Diagnostics) { diags.Append(ds...) }
	switch {
	case d.ImportAssetsFromS3 != nil:
		x := d.ImportAssetsFromS3
		revision(x.DataSetId, x.RevisionId)
		var elems []attr.Value
		for _, s := range x.AssetSources {
			elems = append(elems, objectMust(s3AssetSourceType, map[string]attr.Value{
				"bucket": types.StringPointerValue(s.Bucket), "key": types.StringPointerValue(s.Key),
			}))
		}
		m.S3AssetSources = listOrNull(s3AssetSourceType, elems, add)
	case d.ExportAssetsToS3 != nil:
		x := d.ExportAssetsToS3
		revision(x.DataSetId, x.RevisionId)
		var elems []attr.Value
		for _, s := range x.AssetDestinations {
			elems = append(elems, objectMust(s3AssetDestinationType, map[string]attr.Value{
				"asset_id": types.StringPointerValue(s.AssetId), "bucket": types.StringPointerValue(s.Bucket), "key": types.StringPointerValue(s.Key),
			}))
		}
		m.S3AssetDestinations = listOrNull(s3AssetDestinationType, elems, add)
		m.setEncryption(x.Encryption)
	case d.ImportAssetFromSignedUrl != nil:
		x := d.ImportAssetFromSignedUrl
		revision(x.DataSetId, x.RevisionId)
		m.AssetName = types.StringPointerValue(x.AssetName)
		m.MD5Hash = types.StringPointerValue(x.Md5Hash)
		m.SignedURL = types.StringPointerValue(x.SignedUrl)
		m.SignedURLExpiresAt = timeValue(x.SignedUrlExpiresAt)
	case d.ExportAssetToSignedUrl != nil:
		x := d.ExportAssetToSignedUrl
		revision(x.DataSetId, x.RevisionId)
		m.AssetID = types.StringPointerValue(x.AssetId)
		m.SignedURL = types.StringPointerValue(x.SignedUrl)
		m.SignedURLExpiresAt = timeValue(x.SignedUrlExpiresAt)
	case d.ExportRevisionsToS3 != nil:
		x := d.ExportRevisionsToS3
		m.DataSetID = types.StringPointerValue(x.DataSetId)
		priorDests := listElements[s3RevisionDestinationModel](ctx, prior.S3RevisionDestinations, &diags)
		var elems []attr.Value
		for i, s := range x.RevisionDestinations {
			var was s3RevisionDestinationModel
			if i < len(priorDests) {
				was = priorDests[i]
			} else {
				was = s3RevisionDestinationModel{KeyPattern: types.StringNull(), RevisionID: types.StringNull()}
			}
			keyPattern := types.StringPointerValue(s.KeyPattern)
			if was.KeyPattern.IsNull() && aws.ToString(s.KeyPattern) == defaultKeyPattern {
				keyPattern = types.StringNull()
			}
			elems = append(elems, objectMust(s3RevisionDestinationType, map[string]attr.Value{
				"bucket": types.StringPointerValue(s.Bucket), "key_pattern": keyPattern,
				"revision_id": keepRevisionForm(was.RevisionID, s.RevisionId),
			}))
		}
		m.S3RevisionDestinations = listOrNull(s3RevisionDestinationType, elems, add)
		m.setEncryption(x.Encryption)
	case d.ImportAssetsFromRedshiftDataShares != nil:
		x := d.ImportAssetsFromRedshiftDataShares
		revision(x.DataSetId, x.RevisionId)
		var elems []attr.Value
		for _, s := range x.AssetSources {
			elems = append(elems, types.StringPointerValue(s.DataShareArn))
		}
		m.RedshiftDataShareARNs = listOrNull(types.StringType, elems, add)
	case d.ImportAssetFromApiGatewayApi != nil:
		x := d.ImportAssetFromApiGatewayApi
		revision(x.DataSetId, x.RevisionId)
		m.APIID, m.APIName, m.APIStage = types.StringPointerValue(x.ApiId), types.StringPointerValue(x.ApiName), types.StringPointerValue(x.Stage)
		m.APIDescription, m.APIKey = types.StringPointerValue(x.ApiDescription), types.StringPointerValue(x.ApiKey)
		m.APISpecificationMD5Hash = types.StringPointerValue(x.ApiSpecificationMd5Hash)
		if x.ProtocolType != "" && !(prior.APIProtocolType.IsNull() && x.ProtocolType == dxtypes.ProtocolTypeRest) {
			m.APIProtocolType = types.StringValue(string(x.ProtocolType))
		}
	case d.ImportAssetsFromLakeFormationTagPolicy != nil:
		x := d.ImportAssetsFromLakeFormationTagPolicy
		revision(x.DataSetId, x.RevisionId)
		m.CatalogID, m.RoleARN = types.StringPointerValue(x.CatalogId), types.StringPointerValue(x.RoleArn)
		if x.Database != nil {
			m.DatabaseLFTagExpression = lfTagsValue(x.Database.Expression, add)
			m.DatabasePermissions = stringsValue(x.Database.Permissions, add)
		}
		if x.Table != nil {
			m.TableLFTagExpression = lfTagsValue(x.Table.Expression, add)
			m.TablePermissions = stringsValue(x.Table.Permissions, add)
		}
	}
	return diags
}

// defaultKeyPattern is the service's key pattern for a revision destination
// that names none.
const defaultKeyPattern = "${Revision.CreatedAt}/${Asset.Name}"

func typeTakes(typ, arg string) bool {
	spec := jobTypeTable[typ]
	return contains(spec.required, arg) || contains(spec.optional, arg)
}

func (m *jobModel) setEncryption(e *dxtypes.ExportServerSideEncryption) {
	if e == nil || e.Type == "" {
		return
	}
	m.EncryptionType = types.StringValue(string(e.Type))
	m.EncryptionKMSKeyARN = types.StringPointerValue(e.KmsKeyArn)
}

// keepRevisionForm returns the service's revision id, in the prior value's
// form when that names the same revision.
func keepRevisionForm(prior types.String, rev *string) types.String {
	if rev == nil {
		return types.StringNull()
	}
	if !prior.IsNull() && !prior.IsUnknown() && sameRevision(prior.ValueString(), *rev) {
		return prior
	}
	return types.StringValue(*rev)
}

func lfTagsValue(tags []dxtypes.LFTag, add func(diag.Diagnostics)) types.List {
	var elems []attr.Value
	for _, t := range tags {
		var values []attr.Value
		for _, v := range t.TagValues {
			values = append(values, types.StringValue(v))
		}
		vl, d := types.ListValue(types.StringType, values)
		add(d)
		elems = append(elems, objectMust(lfTagType, map[string]attr.Value{"tag_key": types.StringPointerValue(t.TagKey), "tag_values": vl}))
	}
	return listOrNull(lfTagType, elems, add)
}

func jobErrorsValue(errs []dxtypes.JobError) (types.List, diag.Diagnostics) {
	elems := []attr.Value{}
	for _, e := range errs {
		limitName := types.StringNull()
		limitValue := types.Float64Null()
		if e.LimitName != "" {
			limitName = types.StringValue(string(e.LimitName))
			limitValue = types.Float64Value(e.LimitValue)
		}
		resourceType := types.StringNull()
		if e.ResourceType != "" {
			resourceType = types.StringValue(string(e.ResourceType))
		}
		elems = append(elems, objectMust(jobErrorType, map[string]attr.Value{
			"code": types.StringValue(string(e.Code)), "message": types.StringPointerValue(e.Message),
			"resource_id": types.StringPointerValue(e.ResourceId), "resource_type": resourceType,
			"limit_name": limitName, "limit_value": limitValue,
		}))
	}
	return types.ListValue(jobErrorType, elems)
}

func objectMust(t types.ObjectType, values map[string]attr.Value) attr.Value {
	return types.ObjectValueMust(t.AttrTypes, values)
}

// stringsValue is a list of enum values (permissions), null when empty.
func stringsValue[S ~string](values []S, add func(diag.Diagnostics)) types.List {
	var elems []attr.Value
	for _, v := range values {
		elems = append(elems, types.StringValue(string(v)))
	}
	return listOrNull(types.StringType, elems, add)
}

func listOrNull(elem attr.Type, elems []attr.Value, add func(diag.Diagnostics)) types.List {
	if len(elems) == 0 {
		return types.ListNull(elem)
	}
	l, d := types.ListValue(elem, elems)
	add(d)
	return l
}

func timeValue(t *time.Time) types.String {
	if t == nil {
		return types.StringNull()
	}
	return types.StringValue(t.UTC().Format(time.RFC3339))
}
