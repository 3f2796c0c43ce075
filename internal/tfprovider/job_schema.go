package tfprovider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-timeouts/resource/timeouts"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// jobModel is aws_dataexchange_job's state. Type-specific arguments are
// flat: each job type uses its own subset (jobTypeTable).
type jobModel struct {
	ID              types.String `tfsdk:"id"`
	ARN             types.String `tfsdk:"arn"`
	State           types.String `tfsdk:"state"`
	CreatedAt       types.String `tfsdk:"created_at"`
	LastUpdatedTime types.String `tfsdk:"last_updated_time"`
	Errors          types.List   `tfsdk:"errors"`

	Type              types.String `tfsdk:"type"`
	DataSetID         types.String `tfsdk:"data_set_id"`
	RevisionID        types.String `tfsdk:"revision_id"`
	StartOnCreation   types.Bool   `tfsdk:"start_on_creation"`
	WaitForCompletion types.Bool   `tfsdk:"wait_for_completion"`

	S3AssetSources         types.List   `tfsdk:"s3_asset_sources"`
	S3AssetDestinations    types.List   `tfsdk:"s3_asset_destinations"`
	EncryptionType         types.String `tfsdk:"s3_asset_destination_encryption_type"`
	EncryptionKMSKeyARN    types.String `tfsdk:"s3_asset_destination_encryption_kms_key_arn"`
	S3RevisionDestinations types.List   `tfsdk:"s3_revision_destinations"`

	AssetName          types.String `tfsdk:"asset_name"`
	MD5Hash            types.String `tfsdk:"md5_hash"`
	SourceFile         types.String `tfsdk:"source_file"`
	AssetID            types.String `tfsdk:"asset_id"`
	SignedURL          types.String `tfsdk:"signed_url"`
	SignedURLExpiresAt types.String `tfsdk:"signed_url_expires_at"`

	RedshiftDataShareARNs types.List `tfsdk:"redshift_data_share_arns"`

	APIID                   types.String `tfsdk:"api_id"`
	APIName                 types.String `tfsdk:"api_name"`
	APIStage                types.String `tfsdk:"api_stage"`
	APIDescription          types.String `tfsdk:"api_description"`
	APIKey                  types.String `tfsdk:"api_key"`
	APIProtocolType         types.String `tfsdk:"api_protocol_type"`
	APISpecificationMD5Hash types.String `tfsdk:"api_specification_md5_hash"`
	APISpecificationFile    types.String `tfsdk:"api_specification_file"`

	CatalogID               types.String `tfsdk:"catalog_id"`
	RoleARN                 types.String `tfsdk:"role_arn"`
	DatabaseLFTagExpression types.List   `tfsdk:"database_lf_tag_expression"`
	DatabasePermissions     types.List   `tfsdk:"database_permissions"`
	TableLFTagExpression    types.List   `tfsdk:"table_lf_tag_expression"`
	TablePermissions        types.List   `tfsdk:"table_permissions"`

	Timeouts timeouts.Value `tfsdk:"timeouts"`
}

type s3AssetSourceModel struct {
	Bucket types.String `tfsdk:"bucket"`
	Key    types.String `tfsdk:"key"`
}

type s3AssetDestinationModel struct {
	AssetID types.String `tfsdk:"asset_id"`
	Bucket  types.String `tfsdk:"bucket"`
	Key     types.String `tfsdk:"key"`
}

type s3RevisionDestinationModel struct {
	Bucket     types.String `tfsdk:"bucket"`
	KeyPattern types.String `tfsdk:"key_pattern"`
	RevisionID types.String `tfsdk:"revision_id"`
}

type lfTagModel struct {
	TagKey    types.String `tfsdk:"tag_key"`
	TagValues types.List   `tfsdk:"tag_values"`
}

type jobErrorModel struct {
	Code         types.String  `tfsdk:"code"`
	Message      types.String  `tfsdk:"message"`
	ResourceID   types.String  `tfsdk:"resource_id"`
	ResourceType types.String  `tfsdk:"resource_type"`
	LimitName    types.String  `tfsdk:"limit_name"`
	LimitValue   types.Float64 `tfsdk:"limit_value"`
}

var (
	s3AssetSourceType = types.ObjectType{AttrTypes: map[string]attr.Type{
		"bucket": types.StringType, "key": types.StringType,
	}}
	s3AssetDestinationType = types.ObjectType{AttrTypes: map[string]attr.Type{
		"asset_id": types.StringType, "bucket": types.StringType, "key": types.StringType,
	}}
	s3RevisionDestinationType = types.ObjectType{AttrTypes: map[string]attr.Type{
		"bucket": types.StringType, "key_pattern": types.StringType, "revision_id": types.StringType,
	}}
	lfTagType = types.ObjectType{AttrTypes: map[string]attr.Type{
		"tag_key": types.StringType, "tag_values": types.ListType{ElemType: types.StringType},
	}}
	jobErrorType = types.ObjectType{AttrTypes: map[string]attr.Type{
		"code": types.StringType, "message": types.StringType, "resource_id": types.StringType,
		"resource_type": types.StringType, "limit_name": types.StringType, "limit_value": types.Float64Type,
	}}
)

// Permission values of the Lake Formation tag policy type.
var (
	databasePermissionValues = []string{"DESCRIBE"}
	tablePermissionValues    = []string{"DESCRIBE", "SELECT"}
)

func jobSchema(ctx context.Context) schema.Schema {
	replace := []planmodifier.String{stringplanmodifier.RequiresReplace()}
	replaceList := []planmodifier.List{listplanmodifier.RequiresReplace()}
	typeArg := func(desc string, validators ...validator.String) schema.StringAttribute {
		return schema.StringAttribute{Optional: true, Description: desc, PlanModifiers: replace, Validators: validators}
	}
	required := schema.StringAttribute{Required: true, Validators: []validator.String{stringvalidator.LengthAtLeast(1)}}
	requiredList := func(elem attr.Type) schema.ListAttribute {
		return schema.ListAttribute{ElementType: elem, Required: true, Validators: []validator.List{listvalidator.SizeAtLeast(1)}}
	}
	// objectsArg is a type's list of objects, e.g. the S3 objects to import.
	objectsArg := func(desc string, size validator.List, attributes map[string]schema.Attribute) schema.ListNestedAttribute {
		return schema.ListNestedAttribute{
			Optional:      true,
			Description:   desc,
			PlanModifiers: replaceList,
			Validators:    []validator.List{size},
			NestedObject:  schema.NestedAttributeObject{Attributes: attributes},
		}
	}
	lfExpression := func(desc string) schema.ListNestedAttribute {
		return objectsArg(desc, listvalidator.SizeAtLeast(1), map[string]schema.Attribute{
			"tag_key":    required,
			"tag_values": requiredList(types.StringType),
		})
	}
	// md5Arg is the Content-MD5 of an upload, computed from its file when unset.
	md5Arg := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{
			Optional:      true,
			Computed:      true,
			Description:   desc,
			PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown(), stringplanmodifier.RequiresReplace()},
			Validators:    []validator.String{stringvalidator.RegexMatches(base64MD5, "must be a base64-encoded MD5 (24 characters ending in ==)")},
		}
	}
	// localFileArg is a file the provider uploads; changing it alone does not
	// replace the job (its MD5 does).
	localFileArg := func(desc string) schema.StringAttribute {
		return schema.StringAttribute{Optional: true, Description: desc, Validators: []validator.String{stringvalidator.LengthAtLeast(1)}}
	}
	permissions := func(desc string, values []string) schema.ListAttribute {
		return schema.ListAttribute{
			ElementType:   types.StringType,
			Optional:      true,
			Description:   desc,
			PlanModifiers: replaceList,
			Validators: []validator.List{
				listvalidator.SizeAtLeast(1),
				listvalidator.ValueStringsAre(stringvalidator.OneOf(values...)),
			},
		}
	}
	return schema.Schema{
		Description: "An AWS Data Exchange job: an asynchronous import or export that creates or copies assets. " +
			"A job is immutable: changing an argument replaces it, except start_on_creation (false to true starts the waiting job) and wait_for_completion.",
		Attributes: map[string]schema.Attribute{
			"id":                computedKept("The job's id."),
			"arn":               computedKept("The job's ARN."),
			"created_at":        computedKept("When the job was created (RFC 3339)."),
			"state":             schema.StringAttribute{Computed: true, Description: "WAITING, IN_PROGRESS, COMPLETED, CANCELLED, ERROR or TIMED_OUT."},
			"last_updated_time": schema.StringAttribute{Computed: true, Description: "When the job last changed (RFC 3339)."},
			"errors": schema.ListNestedAttribute{
				Computed:    true,
				Description: "What went wrong, for a job in state ERROR; empty otherwise.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"code":          schema.StringAttribute{Computed: true},
					"message":       schema.StringAttribute{Computed: true},
					"resource_id":   schema.StringAttribute{Computed: true},
					"resource_type": schema.StringAttribute{Computed: true},
					"limit_name":    schema.StringAttribute{Computed: true},
					"limit_value":   schema.Float64Attribute{Computed: true},
				}},
			},

			"type": schema.StringAttribute{
				Required:      true,
				Description:   "The job type.",
				PlanModifiers: replace,
				Validators:    []validator.String{stringvalidator.OneOf(jobTypes...)},
			},
			"data_set_id": schema.StringAttribute{
				Required:      true,
				Description:   "The data set of the job.",
				PlanModifiers: replace,
				Validators:    []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"revision_id": schema.StringAttribute{
				Optional:      true,
				Description:   "The revision of the job: its id, or aws_dataexchange_revision's id DATA_SET_ID:REVISION_ID.",
				PlanModifiers: []planmodifier.String{sameRevisionKeepsState{}, stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"start_on_creation": schema.BoolAttribute{
				Optional:    true,
				Computed:    true,
				Default:     booldefault.StaticBool(false),
				Description: "Start the job once it is created. Changing it from false to true starts the existing job if it is still WAITING.",
			},
			"wait_for_completion": schema.BoolAttribute{
				Optional:    true,
				Computed:    true,
				Default:     booldefault.StaticBool(false),
				Description: "Wait, within the create/update timeout, until a started job reaches a final state.",
			},

			argS3AssetSources: objectsArg("IMPORT_ASSETS_FROM_S3: the objects to import (1 to 100).",
				listvalidator.SizeBetween(1, 100), map[string]schema.Attribute{
					"bucket": required,
					"key":    required,
				}),
			argS3AssetDestinations: objectsArg("EXPORT_ASSETS_TO_S3: where to copy which asset (1 to 100).",
				listvalidator.SizeBetween(1, 100), map[string]schema.Attribute{
					"asset_id": required,
					"bucket":   required,
					"key":      required,
				}),
			argEncryptionType: typeArg("EXPORT_ASSETS_TO_S3, EXPORT_REVISIONS_TO_S3: server-side encryption of the exported objects, aws:kms or AES256.",
				stringvalidator.OneOf("aws:kms", "AES256")),
			argEncryptionKMSKeyARN: typeArg("With s3_asset_destination_encryption_type aws:kms: the KMS key's ARN.",
				stringvalidator.LengthAtLeast(1)),
			argS3RevisionDestinations: objectsArg("EXPORT_REVISIONS_TO_S3: the revisions to export and where.",
				listvalidator.SizeAtLeast(1), map[string]schema.Attribute{
					"bucket":      required,
					"key_pattern": schema.StringAttribute{Optional: true, Validators: []validator.String{stringvalidator.LengthAtLeast(1)}},
					"revision_id": required,
				}),

			argAssetName:  typeArg("IMPORT_ASSET_FROM_SIGNED_URL: the new asset's name.", stringvalidator.LengthAtLeast(1)),
			argMD5Hash:    md5Arg("IMPORT_ASSET_FROM_SIGNED_URL: the base64 MD5 of the bytes to upload. Computed from source_file when unset."),
			argSourceFile: localFileArg("IMPORT_ASSET_FROM_SIGNED_URL: a local file the provider uploads to the job's signed URL before starting it."),
			argAssetID:    typeArg("EXPORT_ASSET_TO_SIGNED_URL: the asset to export.", stringvalidator.LengthAtLeast(1)),
			"signed_url": schema.StringAttribute{
				Computed:    true,
				Sensitive:   true,
				Description: "Signed-URL jobs: the upload URL (import) or, once the job is COMPLETED, the download URL (export).",
			},
			"signed_url_expires_at": schema.StringAttribute{Computed: true, Description: "When signed_url expires (RFC 3339)."},

			argRedshiftDataShareARNs: schema.ListAttribute{
				ElementType:   types.StringType,
				Optional:      true,
				Description:   "IMPORT_ASSETS_FROM_REDSHIFT_DATA_SHARES: the data shares' ARNs.",
				PlanModifiers: replaceList,
				Validators:    []validator.List{listvalidator.SizeAtLeast(1)},
			},

			argAPIID:          typeArg("IMPORT_ASSET_FROM_API_GATEWAY_API: the API's id.", stringvalidator.LengthAtLeast(1)),
			argAPIName:        typeArg("IMPORT_ASSET_FROM_API_GATEWAY_API: the API's name.", stringvalidator.LengthAtLeast(1)),
			argAPIStage:       typeArg("IMPORT_ASSET_FROM_API_GATEWAY_API: the API's stage.", stringvalidator.LengthAtLeast(1)),
			argAPIDescription: typeArg("IMPORT_ASSET_FROM_API_GATEWAY_API: the API's description."),
			argAPIKey:         typeArg("IMPORT_ASSET_FROM_API_GATEWAY_API: the API key.", stringvalidator.LengthAtLeast(1)),
			argAPIProtocolType: typeArg("IMPORT_ASSET_FROM_API_GATEWAY_API: the protocol type, REST (the default when unset).",
				stringvalidator.OneOf("REST")),
			argAPISpecificationMD5Hash: md5Arg("IMPORT_ASSET_FROM_API_GATEWAY_API: the base64 MD5 of the API specification. Computed from api_specification_file when unset."),
			argAPISpecificationFile:    localFileArg("IMPORT_ASSET_FROM_API_GATEWAY_API: a local OpenAPI specification the provider uploads before starting the job."),

			argCatalogID:               typeArg("IMPORT_ASSETS_FROM_LAKE_FORMATION_TAG_POLICY: the Glue catalog id.", stringvalidator.LengthAtLeast(1)),
			argRoleARN:                 typeArg("IMPORT_ASSETS_FROM_LAKE_FORMATION_TAG_POLICY: the role Data Exchange assumes.", stringvalidator.LengthAtLeast(1)),
			argDatabaseLFTagExpression: lfExpression("IMPORT_ASSETS_FROM_LAKE_FORMATION_TAG_POLICY: LF-tags selecting databases."),
			argDatabasePermissions:     permissions("IMPORT_ASSETS_FROM_LAKE_FORMATION_TAG_POLICY: permissions on the databases (DESCRIBE).", databasePermissionValues),
			argTableLFTagExpression:    lfExpression("IMPORT_ASSETS_FROM_LAKE_FORMATION_TAG_POLICY: LF-tags selecting tables."),
			argTablePermissions:        permissions("IMPORT_ASSETS_FROM_LAKE_FORMATION_TAG_POLICY: permissions on the tables (DESCRIBE, SELECT).", tablePermissionValues),
		},
		Blocks: map[string]schema.Block{
			"timeouts": timeouts.Block(ctx, timeouts.Opts{Create: true, Update: true}),
		},
	}
}

// base64MD5 matches a base64-encoded MD5 digest (what Md5Hash and
// Content-MD5 carry).
var base64MD5 = regexp.MustCompile(`^[a-zA-Z0-9+/]{22}==$`)

// sameRevisionKeepsState plans the prior revision_id when the configured one
// names the same revision in the other form (plain id vs DATA_SET_ID:ID), so
// that an imported job, or a configuration switching forms, is not replaced.
type sameRevisionKeepsState struct{}

func (sameRevisionKeepsState) Description(context.Context) string {
	return "a revision id and DATA_SET_ID:REVISION_ID naming the same revision are the same value"
}

func (m sameRevisionKeepsState) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (sameRevisionKeepsState) PlanModifyString(_ context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.StateValue.IsNull() || req.PlanValue.IsNull() || req.PlanValue.IsUnknown() {
		return
	}
	if req.StateValue.ValueString() != req.PlanValue.ValueString() && sameRevision(req.StateValue.ValueString(), req.PlanValue.ValueString()) {
		resp.PlanValue = req.StateValue
	}
}
