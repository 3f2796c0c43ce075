package e2e

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// TestTerraformReferenceAssetJobs applies IMPORT_ASSETS_FROM_REDSHIFT_DATA_SHARES
// and IMPORT_ASSETS_FROM_LAKE_FORMATION_TAG_POLICY jobs, on data sets and
// revisions of the matching asset types that terraform manages too: both
// complete with the assets they describe, and a second plan is empty.
func TestTerraformReferenceAssetJobs(t *testing.T) {
	requireTerraform(t)
	t.Parallel()
	s := startServer(t, backends[0])
	client := s.client(s.Root)
	const datashare = "arn:aws:redshift:us-east-1:123456789012:datashare:a1b2c3d4-5678-90ab-cdef-1234567890ab/sales"
	config := providerBlock(s) + fmt.Sprintf(`
resource "aws_dataexchange_data_set" "redshift" {
  provider    = wharf
  asset_type  = "REDSHIFT_DATA_SHARE"
  description = "datashares"
  name        = "redshift"
}

resource "aws_dataexchange_revision" "redshift" {
  provider    = wharf
  data_set_id = aws_dataexchange_data_set.redshift.id
}

resource "aws_dataexchange_job" "redshift" {
  provider    = wharf
  type        = "IMPORT_ASSETS_FROM_REDSHIFT_DATA_SHARES"
  data_set_id = aws_dataexchange_data_set.redshift.id
  revision_id = aws_dataexchange_revision.redshift.id

  redshift_data_share_arns = [%q]

  start_on_creation   = true
  wait_for_completion = true
}

resource "aws_dataexchange_data_set" "lf" {
  provider    = wharf
  asset_type  = "LAKE_FORMATION_DATA_PERMISSION"
  description = "LF-tag policies"
  name        = "lake-formation"
}

resource "aws_dataexchange_revision" "lf" {
  provider    = wharf
  data_set_id = aws_dataexchange_data_set.lf.id
}

resource "aws_dataexchange_job" "lf" {
  provider    = wharf
  type        = "IMPORT_ASSETS_FROM_LAKE_FORMATION_TAG_POLICY"
  data_set_id = aws_dataexchange_data_set.lf.id
  revision_id = aws_dataexchange_revision.lf.id

  catalog_id = "123456789012"
  role_arn   = "arn:aws:iam::123456789012:role/adx-lf"
  database_lf_tag_expression = [{ tag_key = "team", tag_values = ["data"] }]
  database_permissions       = ["DESCRIBE"]
  table_lf_tag_expression    = [{ tag_key = "team", tag_values = ["data", "ops"] }]
  table_permissions          = ["DESCRIBE", "SELECT"]

  start_on_creation   = true
  wait_for_completion = true
}
`, datashare)

	assetsOf := func(st *terraform.State, revision string) ([]string, error) {
		ds, err := stateAttr(st, revision, "data_set_id")
		if err != nil {
			return nil, err
		}
		rev, err := stateAttr(st, revision, "revision_id")
		if err != nil {
			return nil, err
		}
		out, err := client.ListRevisionAssets(context.Background(), &dataexchange.ListRevisionAssetsInput{DataSetId: aws.String(ds), RevisionId: aws.String(rev)})
		if err != nil {
			return nil, err
		}
		var names []string
		for _, a := range out.Assets {
			names = append(names, aws.ToString(a.Name))
		}
		return names, nil
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providerFactories(),
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("aws_dataexchange_job.redshift", "state", "COMPLETED"),
					resource.TestCheckResourceAttr("aws_dataexchange_job.redshift", "redshift_data_share_arns.0", datashare),
					resource.TestCheckResourceAttr("aws_dataexchange_job.lf", "state", "COMPLETED"),
					resource.TestCheckResourceAttr("aws_dataexchange_job.lf", "table_permissions.#", "2"),
					resource.TestCheckResourceAttr("aws_dataexchange_job.lf", "table_lf_tag_expression.0.tag_values.1", "ops"),
					func(st *terraform.State) error {
						names, err := assetsOf(st, "aws_dataexchange_revision.redshift")
						if err != nil {
							return err
						}
						if len(names) != 1 || names[0] != "sales" {
							return fmt.Errorf("redshift revision assets %v, want [sales]", names)
						}
						names, err = assetsOf(st, "aws_dataexchange_revision.lf")
						if err != nil {
							return err
						}
						if len(names) != 2 {
							return fmt.Errorf("lake formation revision assets %v, want one per policy (2)", names)
						}
						return nil
					},
				),
			},
			{Config: config, PlanOnly: true},
		},
	})
}
