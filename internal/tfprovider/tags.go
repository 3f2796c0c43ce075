package tfprovider

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// Tags as hashicorp/aws has them: tags is what the configuration sets,
// tags_all every tag of the resource. This provider has no default_tags, so
// tags_all equals tags.

func tagsAttribute() schema.MapAttribute {
	return schema.MapAttribute{ElementType: types.StringType, Optional: true, Description: "Tags of the resource."}
}

func tagsAllAttribute() schema.MapAttribute {
	return schema.MapAttribute{ElementType: types.StringType, Computed: true, Description: "All tags of the resource (equal to tags: the provider has no default_tags)."}
}

// planTagsAll plans tags_all as the planned tags.
func planTagsAll(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	if req.Plan.Raw.IsNull() {
		return
	}
	var tags types.Map
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, pathOf("tags"), &tags)...)
	all := tags
	if tags.IsNull() {
		all = types.MapValueMust(types.StringType, map[string]attr.Value{})
	}
	resp.Diagnostics.Append(resp.Plan.SetAttribute(ctx, pathOf("tags_all"), all)...)
}

func tagsIn(ctx context.Context, m types.Map, diags *diag.Diagnostics) map[string]string {
	if m.IsNull() || m.IsUnknown() {
		return nil
	}
	out := map[string]string{}
	diags.Append(m.ElementsAs(ctx, &out, false)...)
	return out
}

// tagsOut returns tags and tags_all for the resource's tags; no tags stay a
// null tags when the configuration set none.
func tagsOut(prior types.Map, tags map[string]string, diags *diag.Diagnostics) (types.Map, types.Map) {
	elems := map[string]attr.Value{}
	for k, v := range tags {
		elems[k] = types.StringValue(v)
	}
	all, d := types.MapValue(types.StringType, elems)
	diags.Append(d...)
	if len(tags) == 0 && prior.IsNull() {
		return types.MapNull(types.StringType), all
	}
	return all, all
}

// updateTags tags and untags arn from the old tags to the new.
func updateTags(ctx context.Context, c *clients, arn string, oldTags, newTags types.Map) diag.Diagnostics {
	var diags diag.Diagnostics
	was, now := tagsIn(ctx, oldTags, &diags), tagsIn(ctx, newTags, &diags)
	var remove []string
	for k := range was {
		if _, ok := now[k]; !ok {
			remove = append(remove, k)
		}
	}
	add := map[string]string{}
	for k, v := range now {
		if old, ok := was[k]; !ok || old != v {
			add[k] = v
		}
	}
	if len(remove) > 0 {
		if _, err := c.dataExchange.UntagResource(ctx, &dataexchange.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: remove}); err != nil {
			diags.AddError(fmt.Sprintf("Untagging %s", arn), err.Error())
		}
	}
	if len(add) > 0 {
		if _, err := c.dataExchange.TagResource(ctx, &dataexchange.TagResourceInput{ResourceArn: aws.String(arn), Tags: add}); err != nil {
			diags.AddError(fmt.Sprintf("Tagging %s", arn), err.Error())
		}
	}
	return diags
}
