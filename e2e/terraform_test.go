package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	dxtypes "github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/wharf-dev/wharf/internal/tfprovider"
)

// The Terraform acceptance tests run a real terraform binary (v1.5.7, or
// whatever TF_ACC_TERRAFORM_PATH names) against the real wharf binary and
// MinIO. The provider runs in this process (terraform-plugin-testing
// reattaches terraform to it). They follow Terraform's convention and run
// only with TF_ACC set; CI sets TF_ACC=1 and WHARF_TEST_REQUIRE_TERRAFORM=1,
// with which a missing terraform or TF_ACC fails instead of skipping.

var (
	terraformOnce sync.Once
	terraformBin  string
)

// findTerraform looks in TF_ACC_TERRAFORM_PATH, PATH and $(go env
// GOPATH)/bin.
func findTerraform() string {
	if p := os.Getenv("TF_ACC_TERRAFORM_PATH"); p != "" {
		return p
	}
	if p, err := exec.LookPath("terraform"); err == nil {
		return p
	}
	out, err := exec.Command(goTool(), "env", "GOPATH").Output()
	if err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			p := filepath.Join(dir, "bin", "terraform")
			if info, err := os.Stat(p); err == nil && !info.IsDir() {
				return p
			}
		}
	}
	return ""
}

// requireTerraform skips the test (or fails it, with
// WHARF_TEST_REQUIRE_TERRAFORM=1) when terraform or TF_ACC is missing, and
// points terraform-plugin-testing at the binary.
func requireTerraform(t *testing.T) {
	t.Helper()
	terraformOnce.Do(func() {
		terraformBin = findTerraform()
		if terraformBin != "" {
			// terraform-plugin-testing reads it from the environment only;
			// nothing else in this package does.
			os.Setenv("TF_ACC_TERRAFORM_PATH", terraformBin)
		}
	})
	required := os.Getenv("WHARF_TEST_REQUIRE_TERRAFORM") == "1"
	switch {
	case terraformBin == "" && required:
		t.Fatal("WHARF_TEST_REQUIRE_TERRAFORM=1 but no terraform in TF_ACC_TERRAFORM_PATH, PATH or $(go env GOPATH)/bin (go install github.com/hashicorp/terraform@v1.5.7)")
	case terraformBin == "":
		t.Skip("no terraform binary (go install github.com/hashicorp/terraform@v1.5.7, or set TF_ACC_TERRAFORM_PATH)")
	case os.Getenv("TF_ACC") == "" && required:
		t.Fatal("WHARF_TEST_REQUIRE_TERRAFORM=1 but TF_ACC is not set")
	case os.Getenv("TF_ACC") == "":
		t.Skip("Terraform acceptance tests run with TF_ACC=1")
	}
}

func providerFactories() map[string]func() (tfprotov6.ProviderServer, error) {
	return map[string]func() (tfprotov6.ProviderServer, error){
		tfprovider.TypeName: providerserver.NewProtocol6WithError(tfprovider.New("e2e")()),
	}
}

// providerBlock configures the wharf provider for server s.
func providerBlock(s *server) string {
	return fmt.Sprintf(`
provider "wharf" {
  endpoint   = %q
  region     = %q
  access_key = %q
  secret_key = %q
}
`, s.URL, s.Region, s.Root.AccessKeyID, s.Root.SecretAccessKey)
}

// dataSetAndRevision is the data set and revision the seed's example refers
// to, managed by this provider.
const dataSetAndRevision = `
resource "aws_dataexchange_data_set" "example" {
  provider    = wharf
  asset_type  = "S3_SNAPSHOT"
  description = "Terraform e2e"
  name        = "tf-e2e"
  tags = {
    team = "wharf"
  }
}

resource "aws_dataexchange_revision" "example" {
  provider    = wharf
  data_set_id = aws_dataexchange_data_set.example.id
  comment     = "first"
}
`

// stateAttr reads an attribute of a resource in the state.
func stateAttr(s *terraform.State, resourceName, attr string) (string, error) {
	rs, ok := s.RootModule().Resources[resourceName]
	if !ok {
		return "", fmt.Errorf("%s not in the state", resourceName)
	}
	v, ok := rs.Primary.Attributes[attr]
	if !ok {
		return "", fmt.Errorf("%s has no %s", resourceName, attr)
	}
	return v, nil
}

// waitForJobState polls GetJob until the job leaves WAITING/IN_PROGRESS
// (or a generous deadline passes) and returns it.
func waitForJobState(c *dataexchange.Client, id string) (*dataexchange.GetJobOutput, error) {
	deadline := time.Now().Add(90 * time.Second)
	for {
		out, err := c.GetJob(context.Background(), &dataexchange.GetJobInput{JobId: aws.String(id)})
		if err != nil {
			return nil, err
		}
		if out.State != dxtypes.StateInProgress && out.State != dxtypes.StateWaiting {
			return out, nil
		}
		if time.Now().After(deadline) {
			return out, fmt.Errorf("job %s still %s", id, out.State)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestTerraformSeedExample applies the seed's example (plus `provider =
// wharf`): the job reaches COMPLETED and imports the object, the state holds
// every attribute the seed names, a second plan is empty, and import by id
// round-trips for the job, the data set and the revision.
func TestTerraformSeedExample(t *testing.T) {
	requireTerraform(t)
	eachBackend(t, func(t *testing.T, b backend) {
		srv, env := s3Env(t)
		s := startServer(t, b, serverOptions{Env: env})
		bucket := srv.NewBucket(t)
		srv.PutObject(t, bucket, "source/key/asset.csv", []byte("id,name\n1,wharf\n"))
		client := s.client(s.Root)

		config := providerBlock(s) + dataSetAndRevision + fmt.Sprintf(`
resource "aws_dataexchange_job" "example" {
  provider    = wharf
  type        = "IMPORT_ASSETS_FROM_S3"
  data_set_id = aws_dataexchange_data_set.example.id
  revision_id = aws_dataexchange_revision.example.id

  s3_asset_sources = [
    {
      bucket = %q
      key    = "source/key/asset.csv"
    }
  ]

  start_on_creation = true
}
`, bucket)
		const job = "aws_dataexchange_job.example"
		var jobID string
		resource.Test(t, resource.TestCase{
			ProtoV6ProviderFactories: providerFactories(),
			Steps: []resource.TestStep{
				{
					Config: config,
					Check: resource.ComposeAggregateTestCheckFunc(
						resource.TestMatchResourceAttr(job, "id", regexp.MustCompile(`^[0-9a-zA-Z]{32}$`)),
						resource.TestMatchResourceAttr(job, "arn", regexp.MustCompile(`^arn:aws:dataexchange:us-east-1:123456789012:jobs/[0-9a-zA-Z]{32}$`)),
						resource.TestMatchResourceAttr(job, "state", regexp.MustCompile(`^(IN_PROGRESS|COMPLETED)$`)),
						resource.TestCheckResourceAttrSet(job, "created_at"),
						resource.TestCheckResourceAttrSet(job, "last_updated_time"),
						resource.TestCheckResourceAttr(job, "type", "IMPORT_ASSETS_FROM_S3"),
						resource.TestCheckResourceAttrPair(job, "data_set_id", "aws_dataexchange_data_set.example", "id"),
						resource.TestCheckResourceAttrPair(job, "revision_id", "aws_dataexchange_revision.example", "id"),
						resource.TestCheckResourceAttr(job, "s3_asset_sources.#", "1"),
						resource.TestCheckResourceAttr(job, "s3_asset_sources.0.bucket", bucket),
						resource.TestCheckResourceAttr(job, "s3_asset_sources.0.key", "source/key/asset.csv"),
						resource.TestCheckResourceAttr(job, "start_on_creation", "true"),
						resource.TestCheckResourceAttr(job, "errors.#", "0"),
						resource.TestMatchResourceAttr("aws_dataexchange_revision.example", "id", regexp.MustCompile(`^[0-9a-zA-Z]{32}:[0-9a-zA-Z]{32}$`)),
						resource.TestCheckResourceAttr("aws_dataexchange_data_set.example", "tags_all.team", "wharf"),
						func(st *terraform.State) error {
							id, err := stateAttr(st, job, "id")
							if err != nil {
								return err
							}
							jobID = id
							out, err := waitForJobState(client, id)
							if err != nil {
								return err
							}
							if out.State != dxtypes.StateCompleted {
								return fmt.Errorf("job %s ended %s: %+v", id, out.State, out.Errors)
							}
							ds, _ := stateAttr(st, "aws_dataexchange_revision.example", "data_set_id")
							rev, _ := stateAttr(st, "aws_dataexchange_revision.example", "revision_id")
							assets, err := client.ListRevisionAssets(context.Background(), &dataexchange.ListRevisionAssetsInput{
								DataSetId: aws.String(ds), RevisionId: aws.String(rev),
							})
							if err != nil {
								return err
							}
							if len(assets.Assets) != 1 || aws.ToString(assets.Assets[0].Name) != "source/key/asset.csv" {
								return fmt.Errorf("revision assets = %+v, want one named source/key/asset.csv", assets.Assets)
							}
							return nil
						},
					),
				},
				{
					// The refresh sees COMPLETED; nothing to change.
					Config: config,
					ConfigPlanChecks: resource.ConfigPlanChecks{
						PreApply: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
					},
					Check: resource.ComposeAggregateTestCheckFunc(
						resource.TestCheckResourceAttr(job, "state", "COMPLETED"),
						resource.TestCheckResourceAttrWith(job, "id", func(v string) error {
							if v != jobID {
								return fmt.Errorf("job id %s, want %s (the job must not be replaced)", v, jobID)
							}
							return nil
						}),
					),
				},
				{
					ResourceName:      job,
					ImportState:       true,
					ImportStateVerify: true,
					// The import reads the plain revision id; the
					// configuration's composite one is checked below.
					ImportStateVerifyIgnore: []string{"revision_id"},
					ImportStateCheck: func(states []*terraform.InstanceState) error {
						if len(states) != 1 {
							return fmt.Errorf("imported %d resources", len(states))
						}
						if got := states[0].Attributes["revision_id"]; got == "" || strings.Contains(got, ":") {
							return fmt.Errorf("imported revision_id = %q, want the plain revision id", got)
						}
						return nil
					},
				},
				{ResourceName: "aws_dataexchange_data_set.example", ImportState: true, ImportStateVerify: true},
				{ResourceName: "aws_dataexchange_revision.example", ImportState: true, ImportStateVerify: true},
				{
					// Out of the configuration, a COMPLETED job is only
					// forgotten: it stays on the server.
					Config: providerBlock(s) + dataSetAndRevision,
					Check: func(*terraform.State) error {
						out, err := client.GetJob(context.Background(), &dataexchange.GetJobInput{JobId: aws.String(jobID)})
						if err != nil {
							return err
						}
						if out.State != dxtypes.StateCompleted {
							return fmt.Errorf("forgotten job %s is %s, want COMPLETED", jobID, out.State)
						}
						return nil
					},
				},
				{
					// Import it back by id: the configuration (composite
					// revision id) then plans nothing.
					Config:             config,
					ResourceName:       job,
					ImportState:        true,
					ImportStateIdFunc:  func(*terraform.State) (string, error) { return jobID, nil },
					ImportStatePersist: true,
				},
				{
					Config:   config,
					PlanOnly: true,
				},
			},
		})
	})
}

// importJobBlock is an IMPORT_ASSETS_FROM_S3 job of s3://bucket/key into
// dataSetAndRevision's revision, with extra arguments.
func importJobBlock(name, bucket, key, extra string) string {
	return fmt.Sprintf(`
resource "aws_dataexchange_job" %q {
  provider         = wharf
  type             = "IMPORT_ASSETS_FROM_S3"
  data_set_id      = aws_dataexchange_data_set.example.id
  revision_id      = aws_dataexchange_revision.example.revision_id
  s3_asset_sources = [{ bucket = %q, key = %q }]
%s
}
`, name, bucket, key, extra)
}

// TestTerraformJobLifecycle: start_on_creation false -> true starts the
// WAITING job in place and wait_for_completion waits for COMPLETED; a
// WAITING job that leaves the configuration is cancelled; later plans are
// empty. (A waited-for job that fails: TestTerraformWaitedJobFails.)
func TestTerraformJobLifecycle(t *testing.T) {
	requireTerraform(t)
	t.Parallel()
	srv, env := s3Env(t)
	s := startServer(t, backends[0], serverOptions{Env: env})
	bucket := srv.NewBucket(t)
	srv.PutObject(t, bucket, "later.csv", []byte("later\n"))
	srv.PutObject(t, bucket, "dropped.csv", []byte("dropped\n"))
	client := s.client(s.Root)

	jobBlock := func(name, key, extra string) string { return importJobBlock(name, bucket, key, extra) }
	step1 := providerBlock(s) + dataSetAndRevision +
		jobBlock("later", "later.csv", "") +
		jobBlock("dropped", "dropped.csv", "  start_on_creation = false")
	step2 := providerBlock(s) + dataSetAndRevision +
		jobBlock("later", "later.csv", "  start_on_creation = true\n  wait_for_completion = true\n  timeouts {\n    update = \"5m\"\n  }")

	var laterID, droppedID string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providerFactories(),
		Steps: []resource.TestStep{
			{
				Config: step1,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("aws_dataexchange_job.later", "state", "WAITING"),
					resource.TestCheckResourceAttr("aws_dataexchange_job.later", "start_on_creation", "false"),
					resource.TestCheckResourceAttr("aws_dataexchange_job.dropped", "state", "WAITING"),
					func(st *terraform.State) (err error) {
						if laterID, err = stateAttr(st, "aws_dataexchange_job.later", "id"); err != nil {
							return err
						}
						droppedID, err = stateAttr(st, "aws_dataexchange_job.dropped", "id")
						return err
					},
				),
			},
			{
				Config: step2,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("aws_dataexchange_job.later", plancheck.ResourceActionUpdate),
						plancheck.ExpectResourceAction("aws_dataexchange_job.dropped", plancheck.ResourceActionDestroy),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("aws_dataexchange_job.later", "state", "COMPLETED"),
					resource.TestCheckResourceAttrWith("aws_dataexchange_job.later", "id", func(v string) error {
						if v != laterID {
							return fmt.Errorf("job later was replaced: id %s, want %s", v, laterID)
						}
						return nil
					}),
					func(*terraform.State) error {
						out, err := client.GetJob(context.Background(), &dataexchange.GetJobInput{JobId: aws.String(droppedID)})
						if err != nil {
							return err
						}
						if out.State != dxtypes.StateCancelled {
							return fmt.Errorf("destroyed WAITING job %s is %s, want CANCELLED", droppedID, out.State)
						}
						return nil
					},
				),
			},
			{
				Config:   step2,
				PlanOnly: true,
			},
		},
	})
}

// jobsInState lists the account's jobs in state (one page: these tests make
// a few).
func jobsInState(t *testing.T, client *dataexchange.Client, state dxtypes.State) []dxtypes.JobEntry {
	t.Helper()
	out, err := client.ListJobs(context.Background(), &dataexchange.ListJobsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var in []dxtypes.JobEntry
	for _, j := range out.Jobs {
		if j.State == state {
			in = append(in, j)
		}
	}
	return in
}

// replacedJob checks that a job resource's id is a new one: not the one
// ids holds for it by name.
func replacedJob(ids map[string]string) func(name string) resource.CheckResourceAttrWithFunc {
	return func(name string) resource.CheckResourceAttrWithFunc {
		return func(id string) error {
			if id == ids[name] || id == "" {
				return fmt.Errorf("job %s was not replaced: id %s", name, id)
			}
			return nil
		}
	}
}

// TestTerraformWaitedJobFails: a job Terraform waits for that ends in ERROR
// fails the apply with the job's errors, whether the job was created (the
// resource is then tainted) or started by an update (start_on_creation
// turning true); the next plan replaces both, the next apply runs new jobs,
// and the plan after it is empty.
func TestTerraformWaitedJobFails(t *testing.T) {
	requireTerraform(t)
	t.Parallel()
	srv, env := s3Env(t)
	s := startServer(t, backends[0], serverOptions{Env: env})
	bucket := srv.NewBucket(t)
	client := s.client(s.Root)

	jobBlock := func(name, key, extra string) string { return importJobBlock(name, bucket, key, extra) }
	waiting := providerBlock(s) + dataSetAndRevision + jobBlock("started", "started.csv", "  start_on_creation = false")
	waited := providerBlock(s) + dataSetAndRevision +
		jobBlock("started", "started.csv", "  start_on_creation = true\n  wait_for_completion = true") +
		jobBlock("created", "created.csv", "  start_on_creation = true\n  wait_for_completion = true")
	// The jobs that failed, by resource, read from the server.
	failedIDs := map[string]string{}
	readFailed := func() {
		for _, j := range jobsInState(t, client, dxtypes.StateError) {
			key := aws.ToString(j.Details.ImportAssetsFromS3.AssetSources[0].Key)
			failedIDs[strings.TrimSuffix(key, ".csv")] = aws.ToString(j.Id)
		}
		if len(failedIDs) != 2 {
			t.Fatalf("failed jobs %v, want started and created", failedIDs)
		}
	}
	replaced := replacedJob(failedIDs)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providerFactories(),
		Steps: []resource.TestStep{
			{
				Config: waiting,
				Check:  resource.TestCheckResourceAttr("aws_dataexchange_job.started", "state", "WAITING"),
			},
			{
				// Both keys are missing: both jobs end in ERROR, and the
				// apply fails with their errors.
				Config:      waited,
				ExpectError: regexp.MustCompile(`(?s)ended in ERROR.*RESOURCE_NOT_FOUND_EXCEPTION.*(started|created)\.csv`),
			},
			{
				PreConfig: func() {
					readFailed()
					srv.PutObject(t, bucket, "started.csv", []byte("started\n"))
					srv.PutObject(t, bucket, "created.csv", []byte("created\n"))
				},
				Config: waited,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("aws_dataexchange_job.started", plancheck.ResourceActionReplace),
						plancheck.ExpectResourceAction("aws_dataexchange_job.created", plancheck.ResourceActionReplace),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("aws_dataexchange_job.started", "state", "COMPLETED"),
					resource.TestCheckResourceAttr("aws_dataexchange_job.created", "state", "COMPLETED"),
					resource.TestCheckResourceAttrWith("aws_dataexchange_job.started", "id", replaced("started")),
					resource.TestCheckResourceAttrWith("aws_dataexchange_job.created", "id", replaced("created")),
				),
			},
			{
				Config:   waited,
				PlanOnly: true,
			},
		},
	})
}

// TestTerraformExportWait exports an asset to MinIO with
// wait_for_completion: the state says COMPLETED right after apply and the
// object holds the asset's bytes. The data set and revision are not
// Terraform's here: revision_id is the plain id.
func TestTerraformExportWait(t *testing.T) {
	requireTerraform(t)
	t.Parallel()
	srv, env := s3Env(t)
	s := startServer(t, backends[0], serverOptions{Env: env})
	bucket := srv.NewBucket(t)
	content := []byte("exported by terraform\n")
	srv.PutObject(t, bucket, "in/data.csv", content)
	client := s.client(s.Root)
	ctx := context.Background()

	ds, err := client.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{
		AssetType: dxtypes.AssetTypeS3Snapshot, Name: aws.String("export"), Description: aws.String("export"),
	})
	if err != nil {
		t.Fatal(err)
	}
	rev, err := client.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: ds.Id})
	if err != nil {
		t.Fatal(err)
	}
	imp, err := client.CreateJob(ctx, &dataexchange.CreateJobInput{
		Type: dxtypes.TypeImportAssetsFromS3,
		Details: &dxtypes.RequestDetails{ImportAssetsFromS3: &dxtypes.ImportAssetsFromS3RequestDetails{
			DataSetId: ds.Id, RevisionId: rev.Id,
			AssetSources: []dxtypes.AssetSourceEntry{{Bucket: aws.String(bucket), Key: aws.String("in/data.csv")}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.StartJob(ctx, &dataexchange.StartJobInput{JobId: imp.Id}); err != nil {
		t.Fatal(err)
	}
	if out, err := waitForJobState(client, aws.ToString(imp.Id)); err != nil || out.State != dxtypes.StateCompleted {
		t.Fatalf("import job: %v %+v", err, out)
	}
	assets, err := client.ListRevisionAssets(ctx, &dataexchange.ListRevisionAssetsInput{DataSetId: ds.Id, RevisionId: rev.Id})
	if err != nil || len(assets.Assets) != 1 {
		t.Fatalf("assets: %v %+v", err, assets)
	}

	config := providerBlock(s) + fmt.Sprintf(`
resource "aws_dataexchange_job" "export" {
  provider    = wharf
  type        = "EXPORT_ASSETS_TO_S3"
  data_set_id = %q
  revision_id = %q

  s3_asset_destinations = [
    {
      asset_id = %q
      bucket   = %q
      key      = "out/exported.csv"
    }
  ]

  start_on_creation   = true
  wait_for_completion = true
  timeouts {
    create = "5m"
  }
}
`, aws.ToString(ds.Id), aws.ToString(rev.Id), aws.ToString(assets.Assets[0].Id), bucket)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providerFactories(),
		Steps: []resource.TestStep{{
			Config: config,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("aws_dataexchange_job.export", "state", "COMPLETED"),
				resource.TestCheckResourceAttr("aws_dataexchange_job.export", "s3_asset_destinations.0.key", "out/exported.csv"),
				func(*terraform.State) error {
					if got := srv.GetObject(t, bucket, "out/exported.csv"); string(got) != string(content) {
						return fmt.Errorf("exported object = %q, want %q", got, content)
					}
					return nil
				},
			),
		}},
	})
}

// TestTerraformInvalidCombination: arguments of another job type fail at
// plan time, with a message naming the argument and the type, before any
// request reaches a server (the endpoint here answers nothing).
func TestTerraformInvalidCombination(t *testing.T) {
	requireTerraform(t)
	t.Parallel()
	provider := `
provider "wharf" {
  endpoint   = "http://127.0.0.1:9"
  region     = "us-east-1"
  access_key = "AKIAEXAMPLE"
  secret_key = "secret"
}
`
	tests := []struct {
		name   string
		job    string
		expect string
	}{
		{
			name: "destinations on an import",
			job: `
  type        = "IMPORT_ASSETS_FROM_S3"
  revision_id = "rev"
  s3_asset_sources      = [{ bucket = "b", key = "k" }]
  s3_asset_destinations = [{ asset_id = "a", bucket = "b", key = "k" }]
`,
			expect: `Argument s3_asset_destinations is not valid for type\s+IMPORT_ASSETS_FROM_S3`,
		},
		{
			name: "import without sources",
			job: `
  type        = "IMPORT_ASSETS_FROM_S3"
  revision_id = "rev"
`,
			expect: `Argument s3_asset_sources is required for type\s+IMPORT_ASSETS_FROM_S3`,
		},
		{
			name: "revision export with revision_id",
			job: `
  type        = "EXPORT_REVISIONS_TO_S3"
  revision_id = "rev"
  s3_revision_destinations = [{ bucket = "b", revision_id = "rev" }]
`,
			expect: `Argument revision_id is not valid for type\s+EXPORT_REVISIONS_TO_S3`,
		},
		{
			name: "kms without key",
			job: `
  type        = "EXPORT_ASSETS_TO_S3"
  revision_id = "rev"
  s3_asset_destinations = [{ asset_id = "a", bucket = "b", key = "k" }]
  s3_asset_destination_encryption_type = "aws:kms"
`,
			expect: `s3_asset_destination_encryption_kms_key_arn is required for\s+encryption type aws:kms`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: providerFactories(),
				Steps: []resource.TestStep{{
					Config: provider + `
resource "aws_dataexchange_job" "bad" {
  provider    = wharf
  data_set_id = "ds"
` + tc.job + "}\n",
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(tc.expect),
				}},
			})
		})
	}
}

// TestTerraformWaitedJobTimesOutOrIsCancelled: the other two ways a job ends
// without completing. A WAITING job cancelled outside Terraform is replaced,
// not started in place, when the configuration turns start_on_creation and
// wait_for_completion on. A waited-for job that the server stops at its time
// limit (--job-timeout 2s, its source read through a slow proxy) fails the
// apply with TIMED_OUT, and the next apply replaces it. The plan after each
// replacement is empty.
func TestTerraformWaitedJobTimesOutOrIsCancelled(t *testing.T) {
	requireTerraform(t)
	t.Parallel()
	srv, env := s3Env(t)
	// 1 MiB at 64 KiB/s: 16 s, well past the 2 s job timeout.
	proxy := startSlowProxy(t, srv.URL, 64<<10)
	for i, kv := range env {
		if strings.HasPrefix(kv, "AWS_ENDPOINT_URL_S3=") {
			env[i] = "AWS_ENDPOINT_URL_S3=" + proxy.URL
		}
	}
	s := startServer(t, backends[0], serverOptions{Env: env, Args: []string{"--job-timeout", "2s"}})
	bucket := srv.NewBucket(t)
	srv.PutObject(t, bucket, "slow.bin", make([]byte, 1<<20))
	srv.PutObject(t, bucket, "waiting.csv", []byte("waiting\n"))
	client := s.client(s.Root)
	ctx := context.Background()

	jobBlock := func(name, key, extra string) string { return importJobBlock(name, bucket, key, extra) }
	base := providerBlock(s) + dataSetAndRevision
	waiting := base + jobBlock("waiting", "waiting.csv", "  start_on_creation = false")
	waited := base + jobBlock("waiting", "waiting.csv", "  start_on_creation = true\n  wait_for_completion = true")
	withSlow := waited + jobBlock("slow", "slow.bin", "  start_on_creation = true\n  wait_for_completion = true")

	ids := map[string]string{}
	remember := func(name string) resource.TestCheckFunc {
		return func(st *terraform.State) error {
			id, err := stateAttr(st, "aws_dataexchange_job."+name, "id")
			ids[name] = id
			return err
		}
	}
	replaced := replacedJob(ids)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: providerFactories(),
		Steps: []resource.TestStep{
			{
				Config: waiting,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("aws_dataexchange_job.waiting", "state", "WAITING"),
					remember("waiting"),
				),
			},
			{
				// Cancelled behind Terraform's back: starting it in place
				// would be refused, so it is replaced.
				PreConfig: func() {
					if _, err := client.CancelJob(ctx, &dataexchange.CancelJobInput{JobId: aws.String(ids["waiting"])}); err != nil {
						t.Fatal(err)
					}
				},
				Config: waited,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("aws_dataexchange_job.waiting", plancheck.ResourceActionReplace),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("aws_dataexchange_job.waiting", "state", "COMPLETED"),
					resource.TestCheckResourceAttrWith("aws_dataexchange_job.waiting", "id", replaced("waiting")),
				),
			},
			{
				Config:      withSlow,
				ExpectError: regexp.MustCompile(`(?s)Job [0-9a-f]+ ended in TIMED_OUT.*time limit`),
			},
			{
				// The source is small now: the tainted job is replaced and
				// completes.
				PreConfig: func() {
					timedOut := jobsInState(t, client, dxtypes.StateTimedOut)
					if len(timedOut) != 1 {
						t.Fatalf("%d jobs ended TIMED_OUT, want 1", len(timedOut))
					}
					ids["slow"] = aws.ToString(timedOut[0].Id)
					srv.PutObject(t, bucket, "slow.bin", []byte("small now\n"))
				},
				Config: withSlow,
				ConfigPlanChecks: resource.ConfigPlanChecks{
					PreApply: []plancheck.PlanCheck{
						plancheck.ExpectResourceAction("aws_dataexchange_job.slow", plancheck.ResourceActionReplace),
						plancheck.ExpectResourceAction("aws_dataexchange_job.waiting", plancheck.ResourceActionNoop),
					},
					PostApplyPostRefresh: []plancheck.PlanCheck{plancheck.ExpectEmptyPlan()},
				},
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("aws_dataexchange_job.slow", "state", "COMPLETED"),
					resource.TestCheckResourceAttrWith("aws_dataexchange_job.slow", "id", replaced("slow")),
				),
			},
			{
				Config:   withSlow,
				PlanOnly: true,
			},
		},
	})
}
