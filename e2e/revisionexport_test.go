package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/wharf-dev/wharf/internal/s3test"
)

// waitJob polls a job until it ends, which must be COMPLETED.
func sse(t *testing.T, srv *s3test.Server, bucket, key string) (string, string) {
	t.Helper()
	out, err := srv.Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	if err != nil {
		t.Fatalf("head s3://%s/%s: %v", bucket, key, err)
	}
	return string(out.ServerSideEncryption), aws.ToString(out.SSEKMSKeyId)
}

// A revision export writes the keys its pattern promises, encrypted; an
// event action exports a revision as soon as it is finalized, with no
// further call.
func TestRevisionExportAndEventActions(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		srv, env := s3Env(t)
		s := startServer(t, b, serverOptions{Env: env})
		c := s.client(s.Root)
		ctx := context.Background()

		ds, err := c.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{Name: aws.String("weather"),
			Description: aws.String("e2e"), AssetType: types.AssetTypeS3Snapshot})
		if err != nil {
			t.Fatal(err)
		}
		rev, err := c.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: ds.Id})
		if err != nil {
			t.Fatal(err)
		}
		source := srv.NewBucket(t)
		content := map[string][]byte{}
		var sources []types.AssetSourceEntry
		for i, name := range []string{"daily/obs.csv", "readme.txt"} {
			content[name] = []byte(strings.Repeat(fmt.Sprintf("row %d\n", i), 1000+i))
			srv.PutObject(t, source, name, content[name])
			sources = append(sources, types.AssetSourceEntry{Bucket: aws.String(source), Key: aws.String(name)})
		}
		imp, err := c.CreateJob(ctx, &dataexchange.CreateJobInput{Type: types.TypeImportAssetsFromS3,
			Details: &types.RequestDetails{ImportAssetsFromS3: &types.ImportAssetsFromS3RequestDetails{
				DataSetId: ds.Id, RevisionId: rev.Id, AssetSources: sources}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.StartJob(ctx, &dataexchange.StartJobInput{JobId: imp.Id}); err != nil {
			t.Fatal(err)
		}
		waitCompleted(t, c, aws.ToString(imp.Id))
		assets, err := c.ListRevisionAssets(ctx, &dataexchange.ListRevisionAssetsInput{DataSetId: ds.Id, RevisionId: rev.Id})
		if err != nil || len(assets.Assets) != 2 {
			t.Fatalf("assets %+v, %v", assets, err)
		}

		// A job, with every kind of reference and SSE-S3.
		manual := srv.NewBucket(t)
		pattern := "${DataSet.Name}/${Revision.CreatedAt.Year}/${Revision.Id}/${Asset.Id}/${Asset.Name}"
		job, err := c.CreateJob(ctx, &dataexchange.CreateJobInput{Type: types.TypeExportRevisionsToS3,
			Details: &types.RequestDetails{ExportRevisionsToS3: &types.ExportRevisionsToS3RequestDetails{
				DataSetId:  ds.Id,
				Encryption: &types.ExportServerSideEncryption{Type: types.ServerSideEncryptionTypesAes256},
				RevisionDestinations: []types.RevisionDestinationEntry{{
					Bucket: aws.String(manual), RevisionId: rev.Id, KeyPattern: aws.String(pattern)}},
			}}})
		if err != nil {
			t.Fatalf("CreateJob: %v", err)
		}
		if _, err := c.StartJob(ctx, &dataexchange.StartJobInput{JobId: job.Id}); err != nil {
			t.Fatal(err)
		}
		waitCompleted(t, c, aws.ToString(job.Id))
		var want []string
		for _, a := range assets.Assets {
			key := fmt.Sprintf("weather/%d/%s/%s/%s", rev.CreatedAt.UTC().Year(), aws.ToString(rev.Id), aws.ToString(a.Id), aws.ToString(a.Name))
			want = append(want, key)
			if got := srv.GetObject(t, manual, key); string(got) != string(content[aws.ToString(a.Name)]) {
				t.Errorf("%s holds %d bytes, want %d", key, len(got), len(content[aws.ToString(a.Name)]))
			}
			if enc, _ := sse(t, srv, manual, key); enc != "AES256" {
				t.Errorf("%s: encryption %q", key, enc)
			}
		}
		slices.Sort(want)
		if keys := srv.Keys(t, manual); !slices.Equal(keys, want) {
			t.Errorf("bucket holds %v, want %v", keys, want)
		}

		// An event action with the default pattern and SSE-KMS, fired by
		// finalizing the revision.
		auto := srv.NewBucket(t)
		enc := &types.ExportServerSideEncryption{Type: types.ServerSideEncryptionTypesAes256}
		if srv.HasKMS() {
			enc = &types.ExportServerSideEncryption{Type: types.ServerSideEncryptionTypesAwsKms,
				KmsKeyArn: aws.String("arn:aws:kms:" + srv.KMSKeyID)}
		}
		ea, err := c.CreateEventAction(ctx, &dataexchange.CreateEventActionInput{
			Action: &types.Action{ExportRevisionToS3: &types.AutoExportRevisionToS3RequestDetails{
				Encryption: enc, RevisionDestination: &types.AutoExportRevisionDestinationEntry{Bucket: aws.String(auto)}}},
			Event: &types.Event{RevisionPublished: &types.RevisionPublished{DataSetId: ds.Id}},
			Tags:  map[string]string{"purpose": "e2e"},
		})
		if err != nil {
			t.Fatalf("CreateEventAction: %v", err)
		}
		got, err := c.GetEventAction(ctx, &dataexchange.GetEventActionInput{EventActionId: ea.Id})
		if err != nil || aws.ToString(got.Arn) != aws.ToString(ea.Arn) || got.Tags["purpose"] != "e2e" {
			t.Fatalf("GetEventAction: %+v, %v", got, err)
		}
		if _, err := c.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{DataSetId: ds.Id, RevisionId: rev.Id,
			Finalized: aws.Bool(true)}); err != nil {
			t.Fatalf("finalize: %v", err)
		}
		jobs, err := c.ListJobs(ctx, &dataexchange.ListJobsInput{RevisionId: rev.Id})
		if err != nil {
			t.Fatal(err)
		}
		var autoJob *types.JobEntry
		for i, j := range jobs.Jobs {
			if d := j.Details.ExportRevisionsToS3; d != nil && aws.ToString(d.EventActionArn) == aws.ToString(ea.Arn) {
				autoJob = &jobs.Jobs[i]
			}
		}
		if autoJob == nil {
			t.Fatalf("no job with the event action's ARN among %+v", jobs.Jobs)
		}
		done := waitCompleted(t, c, aws.ToString(autoJob.Id))
		if aws.ToString(done.Details.ExportRevisionsToS3.RevisionDestinations[0].KeyPattern) != "${Revision.CreatedAt}/${Asset.Name}" {
			t.Errorf("auto-export details %+v", done.Details.ExportRevisionsToS3)
		}
		created := rev.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z")
		want = nil
		for _, a := range assets.Assets {
			key := created + "/" + aws.ToString(a.Name)
			want = append(want, key)
			if got := srv.GetObject(t, auto, key); string(got) != string(content[aws.ToString(a.Name)]) {
				t.Errorf("%s holds %d bytes", key, len(got))
			}
			gotEnc, kmsKey := sse(t, srv, auto, key)
			if gotEnc != string(enc.Type) || (srv.HasKMS() && !strings.Contains(kmsKey, srv.KMSKeyID)) {
				t.Errorf("%s: encryption %q key %q, want %s", key, gotEnc, kmsKey, enc.Type)
			}
		}
		slices.Sort(want)
		if keys := srv.Keys(t, auto); !slices.Equal(keys, want) {
			t.Errorf("auto-export bucket holds %v, want %v", keys, want)
		}

		// One call with the AWS CLI.
		clis := findCLIs(t)
		if len(clis) == 0 {
			t.Log("no AWS CLI installed; skipping its call")
			return
		}
		out := clis[0].ok(t, s, s.Root, "list-event-actions", "--event-source-id", aws.ToString(ds.Id))
		items := list(out, "EventActions")
		if len(items) != 1 || str(items[0], "Arn") != aws.ToString(ea.Arn) {
			t.Errorf("%s list-event-actions: %v", clis[0].name(), out)
		}
	})
}
