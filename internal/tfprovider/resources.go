package tfprovider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
)

// What the provider's resources share.

// configuredClients is embedded by every resource for its Configure: it
// takes the provider's clients (nil during validation, before the provider
// is configured).
type configuredClients struct{ c *clients }

func (r *configuredClients) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	if req.ProviderData == nil {
		return
	}
	c, ok := req.ProviderData.(*clients)
	if !ok {
		resp.Diagnostics.AddError("Unexpected provider data", fmt.Sprintf("got %T, want *clients", req.ProviderData))
		return
	}
	r.c = c
}

// taggedResource is configuredClients for a resource with hashicorp/aws's
// tags and tags_all, whose plan is the same for every such resource.
type taggedResource struct{ configuredClients }

func (taggedResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	planTagsAll(ctx, req, resp)
}

// computedKept is a computed string attribute that never changes once known.
func computedKept(desc string) schema.StringAttribute {
	return schema.StringAttribute{
		Computed: true, Description: desc,
		PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
	}
}

// refresh is a resource's Read: the state, completed by fill (if any),
// refreshed by read; a resource the service no longer has leaves the state.
func refresh[M any](ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse,
	fill func(*M), read func(context.Context, *M) (gone bool, diags diag.Diagnostics),
) {
	var m M
	resp.Diagnostics.Append(req.State.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if fill != nil {
		fill(&m)
	}
	gone, diags := read(ctx, &m)
	if gone {
		resp.State.RemoveResource(ctx)
		return
	}
	resp.Diagnostics.Append(diags...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &m)...)
}
