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
// validate`, and the signed-URL example applies against a live Wharf (the
// provider uploads data.csv; the revision then holds it) and destroys.
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

	s := startServer(t, backends[0])
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
			if name != "signed-url-import" {
				return
			}
			terraform(t, dir, "apply", "-auto-approve", "-input=false", "-var", "endpoint="+s.URL)
			dataSetID := strings.TrimSpace(terraform(t, dir, "output", "-raw", "data_set_id"))
			client := s.client(s.Root)
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
			if out := terraform(t, dir, "plan", "-input=false", "-detailed-exitcode", "-var", "endpoint="+s.URL); !strings.Contains(out, "No changes") {
				t.Fatalf("second plan is not empty:\n%s", out)
			}
			terraform(t, dir, "destroy", "-auto-approve", "-input=false", "-var", "endpoint="+s.URL)
			_, err = client.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: aws.String(dataSetID)})
			var notFound *dxtypes.ResourceNotFoundException
			if !errors.As(err, &notFound) {
				t.Fatalf("data set after destroy: %v, want ResourceNotFoundException", err)
			}
		})
	}
}
