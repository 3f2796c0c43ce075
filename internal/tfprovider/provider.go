// Package tfprovider is the Terraform provider `wharf`: the resources
// aws_dataexchange_job, aws_dataexchange_data_set and
// aws_dataexchange_revision, against Wharf (the provider's endpoint) or AWS
// Data Exchange itself (no endpoint). The data set and revision resources
// keep hashicorp/aws's schemas so that configurations move between the two
// providers unchanged.
package tfprovider

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// TypeName is the provider's name: configurations select it with
// `provider = wharf`, its resources keep the aws_ prefix.
const TypeName = "wharf"

// New returns the provider factory for providerserver.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &wharfProvider{version: version} }
}

type wharfProvider struct {
	version string
}

type providerModel struct {
	Region                 types.String `tfsdk:"region"`
	Endpoint               types.String `tfsdk:"endpoint"`
	Profile                types.String `tfsdk:"profile"`
	AccessKey              types.String `tfsdk:"access_key"`
	SecretKey              types.String `tfsdk:"secret_key"`
	Token                  types.String `tfsdk:"token"`
	SharedConfigFiles      types.List   `tfsdk:"shared_config_files"`
	SharedCredentialsFiles types.List   `tfsdk:"shared_credentials_files"`
}

// clients is what Configure hands to the resources.
type clients struct {
	dataExchange *dataexchange.Client
	region       string
}

func (p *wharfProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = TypeName
	resp.Version = p.version
}

func (p *wharfProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		Description: "Manages AWS Data Exchange jobs, data sets and revisions on Wharf or on AWS Data Exchange.",
		Attributes: map[string]schema.Attribute{
			"region": schema.StringAttribute{
				Optional:    true,
				Description: "AWS region. Defaults to the standard AWS configuration (AWS_REGION, the shared config file).",
			},
			"endpoint": schema.StringAttribute{
				Optional:    true,
				Description: "Wharf's URL, e.g. http://127.0.0.1:8686. Unset means AWS Data Exchange itself (or AWS_ENDPOINT_URL_DATAEXCHANGE).",
			},
			"profile": schema.StringAttribute{
				Optional:    true,
				Description: "Named profile of the shared configuration and credentials files.",
			},
			"access_key": schema.StringAttribute{
				Optional:    true,
				Description: "Access key id. Defaults to the standard AWS credential chain.",
			},
			"secret_key": schema.StringAttribute{
				Optional:    true,
				Sensitive:   true,
				Description: "Secret access key, with access_key.",
			},
			"token": schema.StringAttribute{
				Optional:    true,
				Sensitive:   true,
				Description: "Session token, with access_key.",
			},
			"shared_config_files": schema.ListAttribute{
				ElementType: types.StringType,
				Optional:    true,
				Description: "Shared configuration files to read instead of ~/.aws/config.",
			},
			"shared_credentials_files": schema.ListAttribute{
				ElementType: types.StringType,
				Optional:    true,
				Description: "Shared credentials files to read instead of ~/.aws/credentials.",
			},
		},
	}
}

func (p *wharfProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var m providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &m)...)
	if resp.Diagnostics.HasError() {
		return
	}
	c, err := newClients(ctx, m)
	if err != nil {
		resp.Diagnostics.AddError("Configuring the wharf provider", err.Error())
		return
	}
	resp.ResourceData = c
}

// newClients loads the standard AWS configuration with the provider's
// overrides. Unknown values (a provider configured from resources not yet
// created) count as unset.
func newClients(ctx context.Context, m providerModel) (*clients, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if v := m.Region.ValueString(); v != "" {
		opts = append(opts, awsconfig.WithRegion(v))
	}
	if v := m.Profile.ValueString(); v != "" {
		opts = append(opts, awsconfig.WithSharedConfigProfile(v))
	}
	if files := stringList(ctx, m.SharedConfigFiles); len(files) > 0 {
		opts = append(opts, awsconfig.WithSharedConfigFiles(files))
	}
	if files := stringList(ctx, m.SharedCredentialsFiles); len(files) > 0 {
		opts = append(opts, awsconfig.WithSharedCredentialsFiles(files))
	}
	if m.AccessKey.ValueString() != "" || m.SecretKey.ValueString() != "" {
		if m.AccessKey.ValueString() == "" || m.SecretKey.ValueString() == "" {
			return nil, fmt.Errorf("access_key and secret_key go together: set both or neither")
		}
		opts = append(opts, awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(
			m.AccessKey.ValueString(), m.SecretKey.ValueString(), m.Token.ValueString())))
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading the AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("no region: set the provider's region, AWS_REGION, or a region in the shared config file")
	}
	endpoint := m.Endpoint.ValueString()
	client := dataexchange.NewFromConfig(cfg, func(o *dataexchange.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
	})
	return &clients{dataExchange: client, region: cfg.Region}, nil
}

func stringList(ctx context.Context, l types.List) []string {
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	var out []string
	l.ElementsAs(ctx, &out, false)
	return out
}

func (p *wharfProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		func() resource.Resource { return &jobResource{} },
		func() resource.Resource { return &dataSetResource{} },
		func() resource.Resource { return &revisionResource{} },
	}
}

func (p *wharfProvider) DataSources(context.Context) []func() datasource.DataSource {
	return nil
}
