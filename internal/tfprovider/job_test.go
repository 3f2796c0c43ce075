package tfprovider

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	dxtypes "github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
)

// nullJob is a job model with every value null (as a configuration that
// sets nothing reads).
func nullJob(typ string) jobModel {
	return jobModel{
		Type: types.StringValue(typ), DataSetID: types.StringValue("ds1"),
		RevisionID:             types.StringNull(),
		S3AssetSources:         types.ListNull(s3AssetSourceType),
		S3AssetDestinations:    types.ListNull(s3AssetDestinationType),
		EncryptionType:         types.StringNull(),
		EncryptionKMSKeyARN:    types.StringNull(),
		S3RevisionDestinations: types.ListNull(s3RevisionDestinationType),
		AssetName:              types.StringNull(), MD5Hash: types.StringNull(), SourceFile: types.StringNull(),
		AssetID:               types.StringNull(),
		RedshiftDataShareARNs: types.ListNull(types.StringType),
		APIID:                 types.StringNull(), APIName: types.StringNull(), APIStage: types.StringNull(),
		APIDescription: types.StringNull(), APIKey: types.StringNull(), APIProtocolType: types.StringNull(),
		APISpecificationMD5Hash: types.StringNull(), APISpecificationFile: types.StringNull(),
		CatalogID: types.StringNull(), RoleARN: types.StringNull(),
		DatabaseLFTagExpression: types.ListNull(lfTagType), DatabasePermissions: types.ListNull(types.StringType),
		TableLFTagExpression: types.ListNull(lfTagType), TablePermissions: types.ListNull(types.StringType),
	}
}

func obj(t types.ObjectType, kv ...string) attr.Value {
	values := map[string]attr.Value{}
	for name := range t.AttrTypes {
		values[name] = types.StringNull()
	}
	for i := 0; i < len(kv); i += 2 {
		values[kv[i]] = types.StringValue(kv[i+1])
	}
	return types.ObjectValueMust(t.AttrTypes, values)
}

func list(elem attr.Type, elems ...attr.Value) types.List {
	return types.ListValueMust(elem, elems)
}

func strs(values ...string) types.List {
	var elems []attr.Value
	for _, v := range values {
		elems = append(elems, types.StringValue(v))
	}
	return list(types.StringType, elems...)
}

func lfTag(key string, values ...string) attr.Value {
	return types.ObjectValueMust(lfTagType.AttrTypes, map[string]attr.Value{"tag_key": types.StringValue(key), "tag_values": strs(values...)})
}

const md5OfHello = "XUFAKrxLKna5cZ2REBfFkg==" // base64 MD5 of "hello"

// validJobs holds one valid configuration of every job type.
func validJobs() map[string]jobModel {
	out := map[string]jobModel{}
	m := nullJob(typeImportFromS3)
	m.RevisionID = types.StringValue("ds1:rev1")
	m.S3AssetSources = list(s3AssetSourceType, obj(s3AssetSourceType, "bucket", "b", "key", "k"))
	out[typeImportFromS3] = m

	m = nullJob(typeExportToS3)
	m.RevisionID = types.StringValue("rev1")
	m.S3AssetDestinations = list(s3AssetDestinationType, obj(s3AssetDestinationType, "asset_id", "a1", "bucket", "b", "key", "k"))
	m.EncryptionType, m.EncryptionKMSKeyARN = types.StringValue("aws:kms"), types.StringValue("arn:aws:kms:us-east-1:123456789012:key/k")
	out[typeExportToS3] = m

	m = nullJob(typeImportFromSignedURL)
	m.RevisionID, m.AssetName, m.MD5Hash = types.StringValue("rev1"), types.StringValue("hello.txt"), types.StringValue(md5OfHello)
	out[typeImportFromSignedURL] = m

	m = nullJob(typeExportToSignedURL)
	m.RevisionID, m.AssetID = types.StringValue("rev1"), types.StringValue("a1")
	out[typeExportToSignedURL] = m

	m = nullJob(typeExportRevisionsToS3)
	m.S3RevisionDestinations = list(s3RevisionDestinationType,
		obj(s3RevisionDestinationType, "bucket", "b", "revision_id", "ds1:rev1"),
		obj(s3RevisionDestinationType, "bucket", "b", "revision_id", "rev2", "key_pattern", "${Revision.Id}/${Asset.Name}"))
	m.EncryptionType = types.StringValue("AES256")
	out[typeExportRevisionsToS3] = m

	m = nullJob(typeImportFromRedshift)
	m.RevisionID = types.StringValue("rev1")
	m.RedshiftDataShareARNs = strs("arn:aws:redshift:us-east-1:123456789012:datashare:x/y")
	out[typeImportFromRedshift] = m

	m = nullJob(typeImportFromAPIGateway)
	m.RevisionID = types.StringValue("rev1")
	m.APIID, m.APIName, m.APIStage = types.StringValue("api1"), types.StringValue("pets"), types.StringValue("prod")
	m.APIKey, m.APISpecificationMD5Hash = types.StringValue("key"), types.StringValue(md5OfHello)
	out[typeImportFromAPIGateway] = m

	m = nullJob(typeImportFromLakeFormation)
	m.RevisionID = types.StringValue("rev1")
	m.CatalogID, m.RoleARN = types.StringValue("123456789012"), types.StringValue("arn:aws:iam::123456789012:role/r")
	m.DatabaseLFTagExpression = list(lfTagType, lfTag("team", "data"))
	m.DatabasePermissions = strs("DESCRIBE")
	m.TableLFTagExpression = list(lfTagType, lfTag("team", "data", "ops"))
	m.TablePermissions = strs("DESCRIBE", "SELECT")
	out[typeImportFromLakeFormation] = m
	return out
}

func TestEveryJobTypeHasAValidConfiguration(t *testing.T) {
	t.Parallel()
	valid := validJobs()
	for _, typ := range jobTypes {
		m, ok := valid[typ]
		if !ok {
			t.Errorf("no valid configuration tested for %s", typ)
			continue
		}
		if diags := validateJob(context.Background(), &m); diags.HasError() {
			t.Errorf("%s: %v", typ, diags)
		}
	}
}

// Every type-specific argument is refused, naming itself and the type, by
// every type that doesn't take it.
func TestForeignArgumentsFailNamingArgumentAndType(t *testing.T) {
	t.Parallel()
	for _, typ := range jobTypes {
		for _, arg := range typeSpecificArgs {
			if typeTakes(typ, arg) {
				continue
			}
			set := map[string]bool{}
			for a := range jobTypeTable[typ].required {
				set[jobTypeTable[typ].required[a]] = true
			}
			for _, g := range jobTypeTable[typ].oneOf {
				set[g[0]] = true
			}
			for _, g := range jobTypeTable[typ].together {
				if set[g[0]] {
					for _, a := range g {
						set[a] = true
					}
				}
			}
			set[arg] = true
			problems := checkJobArgs(typ, set)
			if len(problems) != 1 {
				t.Errorf("%s with %s: %d problems %+v, want 1", typ, arg, len(problems), problems)
				continue
			}
			p := problems[0]
			if p.Arg != arg || !strings.Contains(p.Summary, arg) || !strings.Contains(p.Summary, typ) {
				t.Errorf("%s with %s: %+v does not name both", typ, arg, p)
			}
		}
	}
}

func TestJobValidation(t *testing.T) {
	t.Parallel()
	valid := validJobs()
	tests := []struct {
		name    string
		typ     string
		change  func(m *jobModel)
		wantArg string // "" = valid
		want    string
	}{
		{"signed URL import with source_file only", typeImportFromSignedURL, func(m *jobModel) {
			m.MD5Hash, m.SourceFile = types.StringNull(), types.StringValue("/tmp/x")
		}, "", ""},
		{"signed URL import without hash or file", typeImportFromSignedURL, func(m *jobModel) { m.MD5Hash = types.StringNull() },
			argMD5Hash, "One of md5_hash, source_file is required for type IMPORT_ASSET_FROM_SIGNED_URL"},
		{"signed URL import without name", typeImportFromSignedURL, func(m *jobModel) { m.AssetName = types.StringNull() },
			argAssetName, "Argument asset_name is required for type IMPORT_ASSET_FROM_SIGNED_URL"},
		{"import from S3 with an export's destinations", typeImportFromS3, func(m *jobModel) {
			m.S3AssetDestinations = valid[typeExportToS3].S3AssetDestinations
		}, argS3AssetDestinations, "Argument s3_asset_destinations is not valid for type IMPORT_ASSETS_FROM_S3"},
		{"import from S3 with encryption", typeImportFromS3, func(m *jobModel) { m.EncryptionType = types.StringValue("AES256") },
			argEncryptionType, "Argument s3_asset_destination_encryption_type is not valid for type IMPORT_ASSETS_FROM_S3"},
		{"import from S3 without revision", typeImportFromS3, func(m *jobModel) { m.RevisionID = types.StringNull() },
			argRevisionID, "Argument revision_id is required for type IMPORT_ASSETS_FROM_S3"},
		{"unknown revision counts as set", typeImportFromS3, func(m *jobModel) { m.RevisionID = types.StringUnknown() }, "", ""},
		{"composite revision of another data set", typeImportFromS3, func(m *jobModel) { m.RevisionID = types.StringValue("other:rev1") },
			argRevisionID, "Revision of another data set"},
		{"revision export with revision_id", typeExportRevisionsToS3, func(m *jobModel) { m.RevisionID = types.StringValue("rev1") },
			argRevisionID, "Argument revision_id is not valid for type EXPORT_REVISIONS_TO_S3"},
		{"revision export destination of another data set", typeExportRevisionsToS3, func(m *jobModel) {
			m.S3RevisionDestinations = list(s3RevisionDestinationType, obj(s3RevisionDestinationType, "bucket", "b", "revision_id", "other:rev1"))
		}, argS3RevisionDestinations, "Revision of another data set"},
		{"aws:kms without key", typeExportToS3, func(m *jobModel) { m.EncryptionKMSKeyARN = types.StringNull() },
			argEncryptionKMSKeyARN, "s3_asset_destination_encryption_kms_key_arn is required for encryption type aws:kms"},
		{"AES256 with key", typeExportRevisionsToS3, func(m *jobModel) { m.EncryptionKMSKeyARN = types.StringValue("arn") },
			argEncryptionKMSKeyARN, "not valid for encryption type AES256"},
		{"key without type", typeExportToS3, func(m *jobModel) { m.EncryptionType = types.StringNull() },
			argEncryptionKMSKeyARN, `needs s3_asset_destination_encryption_type = "aws:kms"`},
		{"lake formation tables without permissions", typeImportFromLakeFormation, func(m *jobModel) { m.TablePermissions = types.ListNull(types.StringType) },
			argTablePermissions, "Argument table_permissions is required with table_lf_tag_expression, table_permissions for type IMPORT_ASSETS_FROM_LAKE_FORMATION_TAG_POLICY"},
		{"lake formation without expressions", typeImportFromLakeFormation, func(m *jobModel) {
			m.DatabaseLFTagExpression, m.DatabasePermissions = types.ListNull(lfTagType), types.ListNull(types.StringType)
			m.TableLFTagExpression, m.TablePermissions = types.ListNull(lfTagType), types.ListNull(types.StringType)
		}, argDatabaseLFTagExpression, "One of database_lf_tag_expression, table_lf_tag_expression is required"},
		{"API gateway with a signed URL's asset_name", typeImportFromAPIGateway, func(m *jobModel) { m.AssetName = types.StringValue("x") },
			argAssetName, "Argument asset_name is not valid for type IMPORT_ASSET_FROM_API_GATEWAY_API"},
		{"API gateway with spec file only", typeImportFromAPIGateway, func(m *jobModel) {
			m.APISpecificationMD5Hash, m.APISpecificationFile = types.StringNull(), types.StringValue("/tmp/openapi.json")
		}, "", ""},
		{"redshift with S3 sources", typeImportFromRedshift, func(m *jobModel) { m.S3AssetSources = valid[typeImportFromS3].S3AssetSources },
			argS3AssetSources, "Argument s3_asset_sources is not valid for type IMPORT_ASSETS_FROM_REDSHIFT_DATA_SHARES"},
		{"signed URL export with source_file", typeExportToSignedURL, func(m *jobModel) { m.SourceFile = types.StringValue("/tmp/x") },
			argSourceFile, "Argument source_file is not valid for type EXPORT_ASSET_TO_SIGNED_URL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := validJobs()[tc.typ]
			tc.change(&m)
			diags := validateJob(context.Background(), &m)
			if tc.wantArg == "" {
				if diags.HasError() {
					t.Fatalf("want valid, got %v", diags)
				}
				return
			}
			if diags.ErrorsCount() != 1 {
				t.Fatalf("got %d errors %v, want 1", diags.ErrorsCount(), diags)
			}
			d := diags.Errors()[0]
			withPath, ok := d.(diag.DiagnosticWithPath)
			if !ok || !strings.HasPrefix(withPath.Path().String(), tc.wantArg) {
				t.Errorf("error at %v, want %s", d, tc.wantArg)
			}
			if got := d.Summary() + " " + d.Detail(); !strings.Contains(got, tc.want) {
				t.Errorf("error %q, want it to contain %q", got, tc.want)
			}
		})
	}
}

// responseOf is what a service answers for a request: the request's
// details echoed in the response member of the same type (the fields
// match by name), plus defaults the service fills in.
func responseOf(t *testing.T, in *dataexchange.CreateJobInput) jobView {
	t.Helper()
	d := in.Details
	var r dxtypes.ResponseDetails
	switch {
	case d.ImportAssetsFromS3 != nil:
		x := d.ImportAssetsFromS3
		r.ImportAssetsFromS3 = &dxtypes.ImportAssetsFromS3ResponseDetails{DataSetId: x.DataSetId, RevisionId: x.RevisionId, AssetSources: x.AssetSources}
	case d.ExportAssetsToS3 != nil:
		x := d.ExportAssetsToS3
		r.ExportAssetsToS3 = &dxtypes.ExportAssetsToS3ResponseDetails{DataSetId: x.DataSetId, RevisionId: x.RevisionId, AssetDestinations: x.AssetDestinations, Encryption: x.Encryption}
	case d.ImportAssetFromSignedUrl != nil:
		x := d.ImportAssetFromSignedUrl
		r.ImportAssetFromSignedUrl = &dxtypes.ImportAssetFromSignedUrlResponseDetails{DataSetId: x.DataSetId, RevisionId: x.RevisionId,
			AssetName: x.AssetName, Md5Hash: x.Md5Hash, SignedUrl: aws.String("https://upload"), SignedUrlExpiresAt: aws.Time(time.Unix(0, 0))}
	case d.ExportAssetToSignedUrl != nil:
		x := d.ExportAssetToSignedUrl
		r.ExportAssetToSignedUrl = &dxtypes.ExportAssetToSignedUrlResponseDetails{DataSetId: x.DataSetId, RevisionId: x.RevisionId, AssetId: x.AssetId}
	case d.ExportRevisionsToS3 != nil:
		x := d.ExportRevisionsToS3
		var dests []dxtypes.RevisionDestinationEntry
		for _, e := range x.RevisionDestinations {
			if e.KeyPattern == nil {
				e.KeyPattern = aws.String(defaultKeyPattern)
			}
			dests = append(dests, e)
		}
		r.ExportRevisionsToS3 = &dxtypes.ExportRevisionsToS3ResponseDetails{DataSetId: x.DataSetId, RevisionDestinations: dests, Encryption: x.Encryption}
	case d.ImportAssetsFromRedshiftDataShares != nil:
		x := d.ImportAssetsFromRedshiftDataShares
		r.ImportAssetsFromRedshiftDataShares = &dxtypes.ImportAssetsFromRedshiftDataSharesResponseDetails{DataSetId: x.DataSetId, RevisionId: x.RevisionId, AssetSources: x.AssetSources}
	case d.ImportAssetFromApiGatewayApi != nil:
		x := d.ImportAssetFromApiGatewayApi
		r.ImportAssetFromApiGatewayApi = &dxtypes.ImportAssetFromApiGatewayApiResponseDetails{DataSetId: x.DataSetId, RevisionId: x.RevisionId,
			ApiId: x.ApiId, ApiName: x.ApiName, Stage: x.Stage, ApiDescription: x.ApiDescription, ApiKey: x.ApiKey, ProtocolType: x.ProtocolType,
			ApiSpecificationMd5Hash: x.ApiSpecificationMd5Hash, ApiSpecificationUploadUrl: aws.String("https://upload")}
	case d.ImportAssetsFromLakeFormationTagPolicy != nil:
		x := d.ImportAssetsFromLakeFormationTagPolicy
		r.ImportAssetsFromLakeFormationTagPolicy = &dxtypes.ImportAssetsFromLakeFormationTagPolicyResponseDetails{DataSetId: x.DataSetId, RevisionId: x.RevisionId,
			CatalogId: x.CatalogId, RoleArn: x.RoleArn, Database: x.Database, Table: x.Table}
	default:
		t.Fatalf("request has no details: %+v", d)
	}
	now := time.Unix(1700000000, 0)
	return jobView{ID: aws.String("job1"), ARN: aws.String("arn:job1"), State: dxtypes.StateWaiting, Type: in.Type, CreatedAt: &now, UpdatedAt: &now, Details: &r}
}

// A job's request carries its arguments, and reading the service's answer
// back gives the configuration again: what keeps a second plan empty.
func TestCreateJobRequestRoundTrips(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for typ, m := range validJobs() {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			in, diags := m.createJobInput(ctx)
			if diags.HasError() {
				t.Fatal(diags)
			}
			if string(in.Type) != typ {
				t.Errorf("Type = %s", in.Type)
			}
			got := m
			if d := got.applyView(ctx, responseOf(t, in)); d.HasError() {
				t.Fatal(d)
			}
			for _, pair := range []struct {
				name      string
				got, want attr.Value
			}{
				{"data_set_id", got.DataSetID, m.DataSetID}, {"revision_id", got.RevisionID, m.RevisionID},
				{"s3_asset_sources", got.S3AssetSources, m.S3AssetSources}, {"s3_asset_destinations", got.S3AssetDestinations, m.S3AssetDestinations},
				{"encryption type", got.EncryptionType, m.EncryptionType}, {"kms key", got.EncryptionKMSKeyARN, m.EncryptionKMSKeyARN},
				{"s3_revision_destinations", got.S3RevisionDestinations, m.S3RevisionDestinations},
				{"asset_name", got.AssetName, m.AssetName}, {"md5_hash", got.MD5Hash, m.MD5Hash}, {"asset_id", got.AssetID, m.AssetID},
				{"redshift", got.RedshiftDataShareARNs, m.RedshiftDataShareARNs},
				{"api_id", got.APIID, m.APIID}, {"api_name", got.APIName, m.APIName}, {"api_stage", got.APIStage, m.APIStage},
				{"api_key", got.APIKey, m.APIKey}, {"api_protocol_type", got.APIProtocolType, m.APIProtocolType},
				{"api_specification_md5_hash", got.APISpecificationMD5Hash, m.APISpecificationMD5Hash},
				{"catalog_id", got.CatalogID, m.CatalogID}, {"role_arn", got.RoleARN, m.RoleARN},
				{"database expr", got.DatabaseLFTagExpression, m.DatabaseLFTagExpression}, {"database perms", got.DatabasePermissions, m.DatabasePermissions},
				{"table expr", got.TableLFTagExpression, m.TableLFTagExpression}, {"table perms", got.TablePermissions, m.TablePermissions},
			} {
				if !pair.got.Equal(pair.want) {
					t.Errorf("%s read back as %v, want %v", pair.name, pair.got, pair.want)
				}
			}
			if got.ID.ValueString() != "job1" || got.State.ValueString() != "WAITING" || got.CreatedAt.ValueString() != "2023-11-14T22:13:20Z" {
				t.Errorf("computed attributes: id %v state %v created_at %v", got.ID, got.State, got.CreatedAt)
			}
		})
	}
}

func TestCreateJobRequestDetails(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	valid := validJobs()

	m := valid[typeImportFromS3]
	in, _ := m.createJobInput(ctx)
	if x := in.Details.ImportAssetsFromS3; aws.ToString(x.RevisionId) != "rev1" || aws.ToString(x.DataSetId) != "ds1" {
		t.Errorf("composite revision_id: request names revision %q of %q, want rev1 of ds1", aws.ToString(x.RevisionId), aws.ToString(x.DataSetId))
	}

	m = valid[typeExportRevisionsToS3]
	in, _ = m.createJobInput(ctx)
	x := in.Details.ExportRevisionsToS3
	if len(x.RevisionDestinations) != 2 || aws.ToString(x.RevisionDestinations[0].RevisionId) != "rev1" || x.RevisionDestinations[0].KeyPattern != nil ||
		aws.ToString(x.RevisionDestinations[1].KeyPattern) != "${Revision.Id}/${Asset.Name}" || x.Encryption.Type != "AES256" || x.Encryption.KmsKeyArn != nil {
		t.Errorf("revision export details: %+v", x)
	}

	m = valid[typeImportFromAPIGateway]
	in, _ = m.createJobInput(ctx)
	if in.Details.ImportAssetFromApiGatewayApi.ProtocolType != dxtypes.ProtocolTypeRest {
		t.Errorf("unset api_protocol_type sends %q, want REST", in.Details.ImportAssetFromApiGatewayApi.ProtocolType)
	}

	m = valid[typeImportFromLakeFormation]
	in, _ = m.createJobInput(ctx)
	lf := in.Details.ImportAssetsFromLakeFormationTagPolicy
	if len(lf.Table.Permissions) != 2 || lf.Table.Permissions[1] != "SELECT" || len(lf.Table.Expression[0].TagValues) != 2 || lf.Database.Permissions[0] != "DESCRIBE" {
		t.Errorf("lake formation details: %+v %+v", lf.Database, lf.Table)
	}
}

func TestSameRevision(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"rev", "rev", true},
		{"ds:rev", "rev", true},
		{"rev", "ds:rev", true},
		{"ds:rev", "ds:rev", true},
		{"ds:rev", "other:rev", false},
		{"ds:rev", "ds:rev2", false},
		{"rev", "rev2", false},
	}
	for _, tc := range tests {
		if got := sameRevision(tc.a, tc.b); got != tc.want {
			t.Errorf("sameRevision(%q, %q) = %v", tc.a, tc.b, got)
		}
	}
}

func TestUploadFileSendsContentMD5(t *testing.T) {
	t.Parallel()
	var gotMD5, gotBody string
	var gotLength int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut {
			http.Error(w, "want PUT", http.StatusMethodNotAllowed)
			return
		}
		body, _ := io.ReadAll(r.Body)
		gotMD5, gotBody, gotLength = r.Header.Get("Content-MD5"), string(body), r.ContentLength
		sum := md5.Sum(body)
		if base64.StdEncoding.EncodeToString(sum[:]) != gotMD5 {
			http.Error(w, "BadDigest", http.StatusBadRequest)
		}
	}))
	defer srv.Close()

	file := filepath.Join(t.TempDir(), "hello.txt")
	if err := os.WriteFile(file, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	sum, err := fileMD5(file)
	if err != nil || sum != md5OfHello {
		t.Fatalf("fileMD5 = %q, %v; want %q", sum, err, md5OfHello)
	}
	if err := uploadFile(context.Background(), srv.URL, file, sum); err != nil {
		t.Fatal(err)
	}
	if gotMD5 != md5OfHello || gotBody != "hello" || gotLength != 5 {
		t.Errorf("server got Content-MD5 %q body %q length %d", gotMD5, gotBody, gotLength)
	}
	// A wrong hash: the server's refusal is the provider's error.
	err = uploadFile(context.Background(), srv.URL, file, "AAAAAAAAAAAAAAAAAAAAAA==")
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "BadDigest") {
		t.Errorf("upload with a wrong hash: %v, want the server's 400 BadDigest", err)
	}
	if _, err := fileMD5(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("fileMD5 of a missing file succeeded")
	}
}

func TestWarnIfFailed(t *testing.T) {
	t.Parallel()
	var diags diag.Diagnostics
	warnIfFailed("job1", &dataexchange.GetJobOutput{State: dxtypes.StateError, Errors: []dxtypes.JobError{{
		Code: dxtypes.CodeResourceNotFoundException, Message: aws.String("object s3://b/k not found"),
		ResourceType: dxtypes.JobErrorResourceTypesAsset, ResourceId: aws.String("k"),
	}}}, &diags)
	if diags.HasError() || diags.WarningsCount() != 1 {
		t.Fatalf("diags = %v, want one warning", diags)
	}
	w := diags.Warnings()[0]
	if !strings.Contains(w.Summary(), "job1 ended in ERROR") || !strings.Contains(w.Detail(), "RESOURCE_NOT_FOUND_EXCEPTION: object s3://b/k not found (ASSET k)") {
		t.Errorf("warning %q / %q", w.Summary(), w.Detail())
	}
	diags = nil
	warnIfFailed("job1", &dataexchange.GetJobOutput{State: dxtypes.StateCompleted}, &diags)
	if len(diags) != 0 {
		t.Errorf("COMPLETED job: %v", diags)
	}
}

// The schema the provider serves is valid for Terraform (the framework
// checks it when the provider answers GetProviderSchema).
func TestProviderSchema(t *testing.T) {
	t.Parallel()
	server, err := providerserver.NewProtocol6WithError(New("test")())()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := server.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.Diagnostics {
		if d.Severity == tfprotov6.DiagnosticSeverityError {
			t.Errorf("%s: %s", d.Summary, d.Detail)
		}
	}
	for _, name := range []string{"aws_dataexchange_job", "aws_dataexchange_data_set", "aws_dataexchange_revision"} {
		if _, ok := resp.ResourceSchemas[name]; !ok {
			t.Errorf("no resource %s", name)
		}
	}
	job := resp.ResourceSchemas["aws_dataexchange_job"]
	attrs := map[string]*tfprotov6.SchemaAttribute{}
	for _, a := range job.Block.Attributes {
		attrs[a.Name] = a
	}
	for _, arg := range typeSpecificArgs {
		if a := attrs[arg]; a == nil || !a.Optional {
			t.Errorf("type-specific argument %s is not an optional attribute", arg)
		}
	}
	// s3_asset_sources = [{...}] is attribute syntax: a nested attribute,
	// not a block.
	if a := attrs[argS3AssetSources]; a == nil || a.NestedType == nil || a.NestedType.Nesting != tfprotov6.SchemaObjectNestingModeList {
		t.Errorf("s3_asset_sources is %+v, want a list nested attribute", a)
	}
	if a := attrs["signed_url"]; a == nil || !a.Sensitive {
		t.Error("signed_url must be sensitive")
	}
	_ = resource.ImportStatePassthroughID // the resources import by id
}
