package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	dxtypes "github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
)

// TestTerraformExamples runs terraform as a user would, with the built
// terraform-provider-wharf binary installed through a CLI configuration's
// dev_overrides: every example under examples/terraform passes `terraform
// validate`, applies against a live Wharf and MinIO (import-from-s3 imports
// the object, export-to-s3 exports an asset, signed-url-import uploads
// data.csv), converges (a second plan right after the apply is empty) and
// destroys.
func TestTerraformExamples(t *testing.T) {
	requireTerraform(t)
	t.Parallel()
	tmp := t.TempDir()
	pluginDir := filepath.Join(tmp, "plugins")
	build := exec.Command(goTool(), "build", "-buildvcs=false", "-o", filepath.Join(pluginDir, "terraform-provider-wharf"),
		"github.com/wharf-dev/wharf/cmd/terraform-provider-wharf")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the provider: %v\n%s", err, out)
	}
	cliConfig := filepath.Join(tmp, "terraform.rc")
	if err := os.WriteFile(cliConfig, []byte(`provider_installation {
  dev_overrides {
    "wharf-dev/wharf" = "`+pluginDir+`"
  }
  direct {}
}
`), 0o600); err != nil {
		t.Fatal(err)
	}

	srv, s3env := s3Env(t)
	s := startServer(t, backends[0], serverOptions{Env: s3env})
	env := append(baseEnv(),
		"TF_CLI_CONFIG_FILE="+cliConfig,
		"TF_IN_AUTOMATION=1",
		"CHECKPOINT_DISABLE=1",
		// Credentials from the environment only: no developer's
		// profile leaks in.
		"AWS_ACCESS_KEY_ID="+s.Root.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+s.Root.SecretAccessKey,
		"AWS_CONFIG_FILE="+filepath.Join(tmp, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(tmp, "no-credentials"),
		"AWS_PROFILE=",
	)
	terraform := func(t *testing.T, dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command(terraformBin, append(args, "-no-color")...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("terraform %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
		}
		return string(out)
	}

	examples, err := filepath.Glob(filepath.Join("..", "examples", "terraform", "*", "main.tf"))
	if err != nil || len(examples) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, mainTF := range examples {
		name := filepath.Base(filepath.Dir(mainTF))
		t.Run(name, func(t *testing.T) {
			// A copy: terraform writes its state and lock files beside
			// the configuration.
			dir := filepath.Join(t.TempDir(), name)
			if err := os.CopyFS(dir, os.DirFS(filepath.Dir(mainTF))); err != nil {
				t.Fatal(err)
			}
			if out := terraform(t, dir, "validate"); !strings.Contains(out, "The configuration is valid") {
				t.Fatalf("terraform validate:\n%s", out)
			}
			client := s.client(s.Root)
			ctx := context.Background()
			vars := []string{"-var", "endpoint=" + s.URL}
			var check func()
			var dataSetID string // the data set the example manages, if any
			switch name {
			case "import-from-s3":
				bucket := srv.NewBucket(t)
				srv.PutObject(t, bucket, "source/key/asset.csv", []byte("a,b\n1,2\n"))
				vars = append(vars, "-var", "bucket="+bucket)
				check = func() {
					if out := strings.TrimSpace(terraform(t, dir, "output", "-raw", "job_state")); out != "COMPLETED" {
						t.Fatalf("job_state after apply: %q, want COMPLETED", out)
					}
				}
			case "export-to-s3":
				src, dst := srv.NewBucket(t), srv.NewBucket(t)
				srv.PutObject(t, src, "in.csv", []byte("exported\n"))
				dataSetID, revisionID, assetID := importedAsset(t, client, src, "in.csv")
				vars = append(vars, "-var", "data_set_id="+dataSetID, "-var", "revision_id="+revisionID,
					"-var", "asset_id="+assetID, "-var", "bucket="+dst)
				check = func() {
					if out := strings.TrimSpace(terraform(t, dir, "output", "-raw", "state")); out != "COMPLETED" {
						t.Fatalf("state after apply: %q, want COMPLETED", out)
					}
					if got := srv.GetObject(t, dst, "exports/asset.csv"); string(got) != "exported\n" {
						t.Fatalf("exported object %q", got)
					}
				}
			case "signed-url-import":
				check = func() {
					dataSetID = strings.TrimSpace(terraform(t, dir, "output", "-raw", "data_set_id"))
					checkSignedURLExample(t, client, dataSetID, dir)
				}
			default:
				t.Fatalf("example %s: the test does not know how to apply it", name)
			}
			args := func(cmd ...string) []string { return append(append(cmd, "-input=false"), vars...) }
			terraform(t, dir, args("apply", "-auto-approve")...)
			check()
			// Converged: the plan right after the apply is empty (exit code
			// 0 with -detailed-exitcode; 2 would fail terraform()).
			if out := terraform(t, dir, args("plan", "-detailed-exitcode")...); !strings.Contains(out, "No changes") {
				t.Fatalf("second plan is not empty:\n%s", out)
			}
			terraform(t, dir, args("destroy", "-auto-approve")...)
			if dataSetID != "" {
				_, err := client.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: aws.String(dataSetID)})
				var notFound *dxtypes.ResourceNotFoundException
				if !errors.As(err, &notFound) {
					t.Fatalf("data set after destroy: %v, want ResourceNotFoundException", err)
				}
			}
		})
	}
}

// importedAsset imports s3://bucket/key into a new data set and revision
// through the API and returns their ids and the asset's.
func importedAsset(t *testing.T, client *dataexchange.Client, bucket, key string) (dataSetID, revisionID, assetID string) {
	t.Helper()
	dataSetID, revisionID = revision(t, client)
	requireCompleted(t, runJob(t, client, dxtypes.TypeImportAssetsFromS3, importDetails(dataSetID, revisionID, bucket, key)))
	assets := listAssets(t, client, dataSetID, revisionID)
	if len(assets) != 1 {
		t.Fatalf("assets %+v", assets)
	}
	return dataSetID, revisionID, aws.ToString(assets[0].Id)
}

// checkSignedURLExample checks what the signed-URL example made: one
// revision holding data.csv.
func checkSignedURLExample(t *testing.T, client *dataexchange.Client, dataSetID, dir string) {
	t.Helper()
	ctx := context.Background()
	revs, err := client.ListDataSetRevisions(ctx, &dataexchange.ListDataSetRevisionsInput{DataSetId: aws.String(dataSetID)})
	if err != nil || len(revs.Revisions) != 1 {
		t.Fatalf("revisions of %s: %+v, %v", dataSetID, revs, err)
	}
	assets, err := client.ListRevisionAssets(ctx, &dataexchange.ListRevisionAssetsInput{DataSetId: aws.String(dataSetID), RevisionId: revs.Revisions[0].Id})
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(dir, "data.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(assets.Assets) != 1 || aws.ToString(assets.Assets[0].Name) != "data.csv" ||
		assets.Assets[0].AssetDetails.S3SnapshotAsset.Size != float64(len(want)) {
		t.Fatalf("assets after apply: %+v, want data.csv of %d bytes", assets.Assets, len(want))
	}
}
