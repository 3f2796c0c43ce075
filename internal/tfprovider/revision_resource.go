package tfprovider

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// revisionResource is aws_dataexchange_revision with hashicorp/aws's schema:
// its id is DATA_SET_ID:REVISION_ID.
type revisionResource struct{ taggedResource }

var (
	_ resource.ResourceWithImportState = (*revisionResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*revisionResource)(nil)
)

type revisionModel struct {
	ID         types.String `tfsdk:"id"`
	ARN        types.String `tfsdk:"arn"`
	Comment    types.String `tfsdk:"comment"`
	DataSetID  types.String `tfsdk:"data_set_id"`
	RevisionID types.String `tfsdk:"revision_id"`
	Tags       types.Map    `tfsdk:"tags"`
	TagsAll    types.Map    `tfsdk:"tags_all"`
}

func (r *revisionResource) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = "aws_dataexchange_revision"
}

func (r *revisionResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "A revision of an AWS Data Exchange data set (the schema of hashicorp/aws's aws_dataexchange_revision).",
		Attributes: map[string]schema.Attribute{
			"id":  computedKept("DATA_SET_ID:REVISION_ID."),
			"arn": computedKept("The revision's ARN."),
			"comment": schema.StringAttribute{
				Optional:    true,
				Description: "A comment about the revision.",
				Validators:  []validator.String{stringvalidator.LengthBetween(0, 16348)},
			},
			"data_set_id": schema.StringAttribute{
				Required:      true,
				Description:   "The revision's data set.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
			},
			"revision_id": computedKept("The revision's own id."),
			"tags":        tagsAttribute(),
			"tags_all":    tagsAllAttribute(),
		},
	}
}

func (r *revisionResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	ds, rev := splitRevisionID(req.ID)
	if ds == "" || rev == "" {
		resp.Diagnostics.AddError("Unexpected import id",
			fmt.Sprintf("import id %q: expected DATA_SET_ID:REVISION_ID", req.ID))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, pathOf("id"), req.ID)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, pathOf("data_set_id"), ds)...)
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, pathOf("revision_id"), rev)...)
}

func (r *revisionResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m revisionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := r.c.dataExchange.CreateRevision(ctx, &dataexchange.CreateRevisionInput{
		DataSetId: aws.String(m.DataSetID.ValueString()),
		Comment:   optString(m.Comment),
		Tags:      tagsIn(ctx, m.Tags, &resp.Diagnostics),
	})
	if err != nil {
		resp.Diagnostics.AddError("Creating the DataExchange revision", err.Error())
		return
	}
	m.RevisionID = types.StringPointerValue(out.Id)
	m.ID = types.StringValue(aws.ToString(out.DataSetId) + ":" + aws.ToString(out.Id))
	_, diags := r.read(ctx, &m)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// read sets m from GetRevision; gone is true for a revision that is gone.
func (r *revisionResource) read(ctx context.Context, m *revisionModel) (gone bool, diags diag.Diagnostics) {
	out, err := r.c.dataExchange.GetRevision(ctx, &dataexchange.GetRevisionInput{
		DataSetId: aws.String(m.DataSetID.ValueString()), RevisionId: aws.String(m.RevisionID.ValueString()),
	})
	if err != nil {
		diags.AddError(fmt.Sprintf("Reading revision %s", m.ID.ValueString()), err.Error())
		return isNotFound(err), diags
	}
	m.ARN = types.StringPointerValue(out.Arn)
	m.DataSetID = types.StringPointerValue(out.DataSetId)
	m.RevisionID = types.StringPointerValue(out.Id)
	m.ID = types.StringValue(aws.ToString(out.DataSetId) + ":" + aws.ToString(out.Id))
	// An unset comment reads back empty: keep it unset.
	if !(m.Comment.IsNull() && aws.ToString(out.Comment) == "") {
		m.Comment = types.StringValue(aws.ToString(out.Comment))
	}
	m.Tags, m.TagsAll = tagsOut(m.Tags, out.Tags, &diags)
	return false, diags
}

func (r *revisionResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	refresh(ctx, req, resp, func(m *revisionModel) {
		if m.RevisionID.IsNull() || m.DataSetID.IsNull() {
			ds, rev := splitRevisionID(m.ID.ValueString())
			m.DataSetID, m.RevisionID = types.StringValue(ds), types.StringValue(rev)
		}
	}, r.read)
}

func (r *revisionResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state revisionModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.Comment.Equal(state.Comment) {
		_, err := r.c.dataExchange.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{
			DataSetId: aws.String(state.DataSetID.ValueString()), RevisionId: aws.String(state.RevisionID.ValueString()),
			Comment: aws.String(plan.Comment.ValueString()),
		})
		if err != nil {
			resp.Diagnostics.AddError(fmt.Sprintf("Updating revision %s", state.ID.ValueString()), err.Error())
			return
		}
	}
	resp.Diagnostics.Append(updateTags(ctx, r.c, state.ARN.ValueString(), state.Tags, plan.Tags)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ID, plan.ARN, plan.RevisionID = state.ID, state.ARN, state.RevisionID
	_, diags := r.read(ctx, &plan)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *revisionResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m revisionModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	_, err := r.c.dataExchange.DeleteRevision(ctx, &dataexchange.DeleteRevisionInput{
		DataSetId: aws.String(m.DataSetID.ValueString()), RevisionId: aws.String(m.RevisionID.ValueString()),
	})
	if err != nil && !isNotFound(err) {
		resp.Diagnostics.AddError(fmt.Sprintf("Deleting revision %s", m.ID.ValueString()), err.Error())
	}
}
