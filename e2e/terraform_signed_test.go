package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	dxtypes "github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
)

// overwrite replaces a file's contents in place.
func overwrite(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(name, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// httpDownload GETs a URL and returns its body, failing on any status but 200.
func httpDownload(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
	}
	return body, nil
}

// TestTerraformSignedURLAndRevisionExport drives the job types the seed
// leaves to "[Additional sections...]" through terraform, on SQLite:
//
//   - IMPORT_ASSET_FROM_SIGNED_URL with source_file: the provider computes
//     the MD5, uploads the file and starts the job, which completes with one
//     asset of the file's name;
//   - EXPORT_ASSET_TO_SIGNED_URL: the computed signed_url downloads that
//     asset's exact bytes;
//   - EXPORT_REVISIONS_TO_S3: one job with a key pattern and SSE-S3, one with
//     the service's default pattern and SSE-KMS (SSE-S3 where the S3 server
//     has no KMS), write the keys the patterns promise, encrypted.
//
// After each apply a second plan is empty.
func TestTerraformSignedURLAndRevisionExport(t *testing.T) {
	requireTerraform(t)
	t.Parallel()
	srv, env := s3Env(t)
	s := startServer(t, backends[0], serverOptions{Env: env})
	client := s.client(s.Root)
	ctx := context.Background()

	ds, err := client.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{
		AssetType: dxtypes.AssetTypeS3Snapshot, Name: aws.String("tf-signed"), Description: aws.String("terraform signed URLs"),
	})
	if err != nil {
		t.Fatal(err)
	}
	rev, err := client.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: ds.Id})
	if err != nil {
		t.Fatal(err)
	}
	dataSetID, revisionID := aws.ToString(ds.Id), aws.ToString(rev.Id)
	// Several MiB that are not all alike, so that a truncated or reordered
	// copy shows.
	content := patternBytes(5, 3<<20+17)
	file := writeFile(t, "upload.bin", content)

	const upload = "aws_dataexchange_job.upload"
	uploadConfig := providerBlock(s) + fmt.Sprintf(`
resource "aws_dataexchange_job" "upload" {
  provider    = wharf
  type        = "IMPORT_ASSET_FROM_SIGNED_URL"
  data_set_id = %q
  revision_id = "%s:%s"

  asset_name  = "uploads/upload.bin"
  source_file = %q

  start_on_creation   = true
  wait_for_completion = true
}
`, dataSetID, dataSetID, revisionID, file)

	var assetID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providerFactories(),
		Steps: []resource.TestStep{
			{
				Config: uploadConfig,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(upload, "state", "COMPLETED"),
					resource.TestCheckResourceAttr(upload, "md5_hash", b64MD5(content)),
					resource.TestCheckResourceAttr(upload, "asset_name", "uploads/upload.bin"),
					resource.TestCheckResourceAttr(upload, "errors.#", "0"),
					func(*terraform.State) error {
						assets, err := client.ListRevisionAssets(ctx, &dataexchange.ListRevisionAssetsInput{DataSetId: ds.Id, RevisionId: rev.Id})
						if err != nil {
							return err
						}
						if len(assets.Assets) != 1 || aws.ToString(assets.Assets[0].Name) != "uploads/upload.bin" {
							return fmt.Errorf("revision assets = %+v, want one named uploads/upload.bin", assets.Assets)
						}
						a := assets.Assets[0]
						if d := a.AssetDetails; d == nil || d.S3SnapshotAsset == nil || int(d.S3SnapshotAsset.Size) != len(content) {
							return fmt.Errorf("asset details %+v, want an S3 snapshot of %d bytes", a.AssetDetails, len(content))
						}
						assetID = aws.ToString(a.Id)
						return nil
					},
				),
			},
		},
	})
	if assetID == "" {
		t.Fatal("no asset id from the upload step")
	}

	// The same file changed in place does replace the job.
	changedFile := writeFile(t, "changed.bin", []byte("v1\n"))
	changedConfig := providerBlock(s) + fmt.Sprintf(`
resource "aws_dataexchange_job" "changed" {
  provider    = wharf
  type        = "IMPORT_ASSET_FROM_SIGNED_URL"
  data_set_id = %q
  revision_id = %q
  asset_name  = "changed.bin"
  source_file = %q
}
`, dataSetID, revisionID, changedFile)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providerFactories(),
		Steps: []resource.TestStep{
			{Config: changedConfig, Check: resource.TestCheckResourceAttr("aws_dataexchange_job.changed", "state", "WAITING")},
			{
				PreConfig: func() { overwrite(t, changedFile, []byte("v2\n")) },
				Config:    changedConfig,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("aws_dataexchange_job.changed", plancheck.ResourceActionDestroyBeforeCreate),
					},
				},
				Check: resource.TestCheckResourceAttr("aws_dataexchange_job.changed", "md5_hash", b64MD5([]byte("v2\n"))),
			},
		},
	})

	bucketA, bucketB := srv.NewBucket(t), srv.NewBucket(t)
	kms := `
  s3_asset_destination_encryption_type = "AES256"`
	wantKMS := "AES256"
	if srv.HasKMS() {
		kms = fmt.Sprintf(`
  s3_asset_destination_encryption_type        = "aws:kms"
  s3_asset_destination_encryption_kms_key_arn = %q`, "arn:aws:kms:"+srv.KMSKeyID)
		wantKMS = "aws:kms"
	}
	exportConfig := providerBlock(s) + fmt.Sprintf(`
resource "aws_dataexchange_job" "download" {
  provider    = wharf
  type        = "EXPORT_ASSET_TO_SIGNED_URL"
  data_set_id = %[1]q
  revision_id = %[2]q
  asset_id    = %[3]q

  start_on_creation   = true
  wait_for_completion = true
}

resource "aws_dataexchange_job" "revision_pattern" {
  provider    = wharf
  type        = "EXPORT_REVISIONS_TO_S3"
  data_set_id = %[1]q

  s3_revision_destinations = [{
    bucket      = %[4]q
    key_pattern = "$${DataSet.Name}/$${Revision.CreatedAt.Year}/$${Revision.Id}/$${Asset.Id}-$${Asset.Name}"
    revision_id = "%[1]s:%[2]s"
  }]
  s3_asset_destination_encryption_type = "AES256"

  start_on_creation   = true
  wait_for_completion = true
}

resource "aws_dataexchange_job" "revision_default" {
  provider    = wharf
  type        = "EXPORT_REVISIONS_TO_S3"
  data_set_id = %[1]q

  s3_revision_destinations = [{
    bucket      = %[5]q
    revision_id = %[2]q
  }]
%[6]s

  start_on_creation   = true
  wait_for_completion = true
}
`, dataSetID, revisionID, assetID, bucketA, bucketB, kms)

	const (
		download        = "aws_dataexchange_job.download"
		revisionPattern = "aws_dataexchange_job.revision_pattern"
		revisionDefault = "aws_dataexchange_job.revision_default"
	)
	wantPatternKey := fmt.Sprintf("tf-signed/%d/%s/%s-uploads/upload.bin", rev.CreatedAt.UTC().Year(), revisionID, assetID)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providerFactories(),
		Steps: []resource.TestStep{
			{
				Config: exportConfig,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(download, "state", "COMPLETED"),
					resource.TestCheckResourceAttr(download, "asset_id", assetID),
					resource.TestMatchResourceAttr(download, "signed_url", regexp.MustCompile(`^https?://`)),
					resource.TestCheckResourceAttrSet(download, "signed_url_expires_at"),
					func(st *terraform.State) error {
						url, err := stateAttr(st, download, "signed_url")
						if err != nil {
							return err
						}
						got, err := httpDownload(url)
						if err != nil {
							return err
						}
						if string(got) != string(content) {
							return fmt.Errorf("signed_url served %d bytes unlike the %d uploaded", len(got), len(content))
						}
						return nil
					},
					resource.TestCheckResourceAttr(revisionPattern, "state", "COMPLETED"),
					resource.TestCheckResourceAttr(revisionPattern, "s3_revision_destinations.0.revision_id", dataSetID+":"+revisionID),
					resource.TestCheckResourceAttr(revisionDefault, "state", "COMPLETED"),
					resource.TestCheckNoResourceAttr(revisionDefault, "s3_revision_destinations.0.key_pattern"),
					resource.TestCheckResourceAttr(revisionDefault, "s3_asset_destination_encryption_type", wantKMS),
					func(*terraform.State) error {
						for _, c := range []struct {
							bucket, key, enc string
						}{
							{bucketA, wantPatternKey, "AES256"},
							{bucketB, "uploads/upload.bin", wantKMS}, // the default pattern: ${Asset.Name}
						} {
							if keys := srv.Keys(t, c.bucket); !slices.Equal(keys, []string{c.key}) {
								return fmt.Errorf("bucket %s holds %v, want [%s]", c.bucket, keys, c.key)
							}
							if got := srv.GetObject(t, c.bucket, c.key); string(got) != string(content) {
								return fmt.Errorf("%s holds %d bytes unlike the asset's %d", c.key, len(got), len(content))
							}
							if enc, _ := sse(t, srv, c.bucket, c.key); enc != c.enc {
								return fmt.Errorf("%s is encrypted %q, want %q", c.key, enc, c.enc)
							}
						}
						return nil
					},
				),
			},
			{Config: exportConfig, PlanOnly: true},
		},
	})
}
