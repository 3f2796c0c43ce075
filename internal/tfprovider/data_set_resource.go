package tfprovider

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	dxtypes "github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// dataSetResource is aws_dataexchange_data_set with hashicorp/aws's schema.
type dataSetResource struct{ taggedResource }

var (
	_ resource.ResourceWithImportState = (*dataSetResource)(nil)
	_ resource.ResourceWithModifyPlan  = (*dataSetResource)(nil)
)

type dataSetModel struct {
	ID          types.String `tfsdk:"id"`
	ARN         types.String `tfsdk:"arn"`
	AssetType   types.String `tfsdk:"asset_type"`
	Description types.String `tfsdk:"description"`
	Name        types.String `tfsdk:"name"`
	Tags        types.Map    `tfsdk:"tags"`
	TagsAll     types.Map    `tfsdk:"tags_all"`
}

func (r *dataSetResource) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = "aws_dataexchange_data_set"
}

func (r *dataSetResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	var assetTypes []string
	for _, t := range dxtypes.AssetType("").Values() {
		assetTypes = append(assetTypes, string(t))
	}
	resp.Schema = schema.Schema{
		Description: "An AWS Data Exchange data set (the schema of hashicorp/aws's aws_dataexchange_data_set).",
		Attributes: map[string]schema.Attribute{
			"id":  computedKept("The data set's id."),
			"arn": computedKept("The data set's ARN."),
			"asset_type": schema.StringAttribute{
				Required:      true,
				Description:   "The type of the data set's assets.",
				PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
				Validators:    []validator.String{stringvalidator.OneOf(assetTypes...)},
			},
			"description": schema.StringAttribute{
				Required:    true,
				Description: "The data set's description.",
				Validators:  []validator.String{stringvalidator.LengthBetween(1, 16348)},
			},
			"name":     schema.StringAttribute{Required: true, Description: "The data set's name."},
			"tags":     tagsAttribute(),
			"tags_all": tagsAllAttribute(),
		},
	}
}

func (r *dataSetResource) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	resource.ImportStatePassthroughID(ctx, pathOf("id"), req, resp)
}

func (r *dataSetResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var m dataSetModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	out, err := r.c.dataExchange.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{
		AssetType:   dxtypes.AssetType(m.AssetType.ValueString()),
		Description: aws.String(m.Description.ValueString()),
		Name:        aws.String(m.Name.ValueString()),
		Tags:        tagsIn(ctx, m.Tags, &resp.Diagnostics),
	})
	if err != nil {
		resp.Diagnostics.AddError("Creating the DataExchange data set", err.Error())
		return
	}
	m.ID = types.StringPointerValue(out.Id)
	_, diags := r.read(ctx, &m)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}

// read sets m from GetDataSet; gone is true for a data set that is gone.
func (r *dataSetResource) read(ctx context.Context, m *dataSetModel) (gone bool, diags diag.Diagnostics) {
	out, err := r.c.dataExchange.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: aws.String(m.ID.ValueString())})
	if err != nil {
		diags.AddError(fmt.Sprintf("Reading data set %s", m.ID.ValueString()), err.Error())
		return isNotFound(err), diags
	}
	m.ARN = types.StringPointerValue(out.Arn)
	m.AssetType = types.StringValue(string(out.AssetType))
	m.Description = types.StringPointerValue(out.Description)
	m.Name = types.StringPointerValue(out.Name)
	m.Tags, m.TagsAll = tagsOut(m.Tags, out.Tags, &diags)
	return false, diags
}

func (r *dataSetResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	refresh(ctx, req, resp, nil, r.read)
}

func (r *dataSetResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var plan, state dataSetModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &plan)...)
	resp.Diagnostics.Append(req.State.Get(ctx, &state)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if !plan.Name.Equal(state.Name) || !plan.Description.Equal(state.Description) {
		_, err := r.c.dataExchange.UpdateDataSet(ctx, &dataexchange.UpdateDataSetInput{
			DataSetId:   aws.String(state.ID.ValueString()),
			Name:        aws.String(plan.Name.ValueString()),
			Description: aws.String(plan.Description.ValueString()),
		})
		if err != nil {
			resp.Diagnostics.AddError(fmt.Sprintf("Updating data set %s", state.ID.ValueString()), err.Error())
			return
		}
	}
	resp.Diagnostics.Append(updateTags(ctx, r.c, state.ARN.ValueString(), state.Tags, plan.Tags)...)
	if resp.Diagnostics.HasError() {
		return
	}
	plan.ID, plan.ARN = state.ID, state.ARN
	_, diags := r.read(ctx, &plan)
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &plan)...)
}

func (r *dataSetResource) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	var m dataSetModel
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	_, err := r.c.dataExchange.DeleteDataSet(ctx, &dataexchange.DeleteDataSetInput{DataSetId: aws.String(m.ID.ValueString())})
	if err != nil && !isNotFound(err) {
		resp.Diagnostics.AddError(fmt.Sprintf("Deleting data set %s", m.ID.ValueString()), err.Error())
	}
}

func isNotFound(err error) bool {
	var notFound *dxtypes.ResourceNotFoundException
	return errors.As(err, &notFound)
}
