package api_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"

	"github.com/wharf-dev/wharf/internal/api"
	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/eventactions"
	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/jobtypes"
	"github.com/wharf-dev/wharf/internal/proctest"
	"github.com/wharf-dev/wharf/internal/s3access"
	"github.com/wharf-dev/wharf/internal/store"
)

type noS3 struct{}

func (noS3) Resolve(context.Context, string) (*s3access.Endpoint, error) {
	return nil, errors.New("no S3 in API tests")
}

// newEventActionsEnv is newEnv with the job and event action operations,
// the real job runners, and a job engine that runs nothing (jobs that are
// started stay IN_PROGRESS), on st.
func newEventActionsEnv(t *testing.T, st store.Store) *env {
	t.Helper()
	return newEventActionsEnvWith(t, st, nil)
}

// newEventActionsEnvWith is newEventActionsEnv with the API's Config
// changed by tweak (when not nil) before the server starts.
func newEventActionsEnvWith(t *testing.T, st store.Store, tweak func(e *env, cfg *api.Config)) *env {
	t.Helper()
	ctx := context.Background()
	assets, err := assetstore.NewLocal(filepath.Join(t.TempDir(), "assets"))
	if err != nil {
		t.Fatal(err)
	}
	runners := map[string]jobs.Runner{}
	if err := jobtypes.Register(runners, jobtypes.Deps{Store: st, Assets: assets, S3: noS3{}}); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	js, err := jobs.New(ctx, st, jobs.Config{Region: region, Runners: runners, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, st: st, svc: exchange.New(st, region), logs: &proctest.Buffer{}}
	cfg := api.Config{
		Service:       e.svc,
		Jobs:          js,
		EventActions:  eventactions.New(st, e.svc, js),
		Authenticator: keyAuthenticator{keyA: accountA, keyB: accountB},
		Logger:        logger,
		Region:        region,
	}
	if tweak != nil {
		tweak(e, &cfg)
	}
	e.srv = httptest.NewServer(api.New(cfg))
	t.Cleanup(e.srv.Close)
	e.a, e.b = e.client(keyA), e.client(keyB)
	return e
}

func autoExport(bucket string, keyPattern *string, enc *types.ExportServerSideEncryption) *types.Action {
	return &types.Action{ExportRevisionToS3: &types.AutoExportRevisionToS3RequestDetails{
		RevisionDestination: &types.AutoExportRevisionDestinationEntry{Bucket: aws.String(bucket), KeyPattern: keyPattern},
		Encryption:          enc,
	}}
}

func watching(dataSetID *string) *types.Event {
	return &types.Event{RevisionPublished: &types.RevisionPublished{DataSetId: dataSetID}}
}

func TestEventActionOperations(t *testing.T) {
	t.Parallel()
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			e := newEventActionsEnv(t, s.open(t))
			ds := e.dataSet(e.a)
			created, err := e.a.CreateEventAction(e.ctx, &dataexchange.CreateEventActionInput{
				Action: autoExport("dest-bucket", nil, &types.ExportServerSideEncryption{Type: types.ServerSideEncryptionTypesAes256}),
				Event:  watching(ds.Id),
				Tags:   map[string]string{"team": "data"},
			})
			if err != nil {
				t.Fatalf("CreateEventAction: %v", err)
			}
			id := aws.ToString(created.Id)
			wantARN := "arn:aws:dataexchange:" + region + ":" + accountA + ":event-actions/" + id
			if aws.ToString(created.Arn) != wantARN || created.Tags["team"] != "data" || created.CreatedAt == nil ||
				aws.ToString(created.Event.RevisionPublished.DataSetId) != aws.ToString(ds.Id) ||
				aws.ToString(created.Action.ExportRevisionToS3.RevisionDestination.Bucket) != "dest-bucket" ||
				created.Action.ExportRevisionToS3.Encryption.Type != types.ServerSideEncryptionTypesAes256 {
				t.Fatalf("CreateEventAction returned %+v", created)
			}
			got, err := e.a.GetEventAction(e.ctx, &dataexchange.GetEventActionInput{EventActionId: &id})
			if err != nil || aws.ToString(got.Arn) != wantARN || got.Tags["team"] != "data" {
				t.Fatalf("GetEventAction: %+v, %v", got, err)
			}
			_, err = e.b.GetEventAction(e.ctx, &dataexchange.GetEventActionInput{EventActionId: &id})
			wantAPIError(t, err, "ResourceNotFoundException")

			// Tags through the tag operations.
			if _, err := e.a.TagResource(e.ctx, &dataexchange.TagResourceInput{ResourceArn: &wantARN, Tags: map[string]string{"env": "prod"}}); err != nil {
				t.Fatalf("TagResource: %v", err)
			}
			if _, err := e.a.UntagResource(e.ctx, &dataexchange.UntagResourceInput{ResourceArn: &wantARN, TagKeys: []string{"team"}}); err != nil {
				t.Fatalf("UntagResource: %v", err)
			}
			tags, err := e.a.ListTagsForResource(e.ctx, &dataexchange.ListTagsForResourceInput{ResourceArn: &wantARN})
			if err != nil || len(tags.Tags) != 1 || tags.Tags["env"] != "prod" {
				t.Fatalf("ListTagsForResource: %v, %v", tags, err)
			}
			_, err = e.b.ListTagsForResource(e.ctx, &dataexchange.ListTagsForResourceInput{ResourceArn: &wantARN})
			if err == nil {
				t.Error("account B listed account A's event action's tags")
			}

			pattern := "${Revision.Id}/${Asset.Id}"
			updated, err := e.a.UpdateEventAction(e.ctx, &dataexchange.UpdateEventActionInput{EventActionId: &id,
				Action: autoExport("other-bucket", &pattern, nil)})
			if err != nil || aws.ToString(updated.Action.ExportRevisionToS3.RevisionDestination.KeyPattern) != pattern ||
				updated.Action.ExportRevisionToS3.Encryption != nil || !updated.UpdatedAt.After(*created.UpdatedAt) {
				t.Fatalf("UpdateEventAction: %+v, %v", updated, err)
			}
			_, err = e.a.UpdateEventAction(e.ctx, &dataexchange.UpdateEventActionInput{EventActionId: &id,
				Action: autoExport("other-bucket", aws.String("${Revision.Id}"), nil)})
			wantAPIError(t, err, "ValidationException")

			other := e.dataSet(e.a)
			for range 2 {
				if _, err := e.a.CreateEventAction(e.ctx, &dataexchange.CreateEventActionInput{
					Action: autoExport("dest-bucket", nil, nil), Event: watching(other.Id)}); err != nil {
					t.Fatal(err)
				}
			}
			all, err := e.a.ListEventActions(e.ctx, &dataexchange.ListEventActionsInput{})
			if err != nil || len(all.EventActions) != 3 {
				t.Fatalf("ListEventActions: %+v, %v", all, err)
			}
			p := dataexchange.NewListEventActionsPaginator(e.a, &dataexchange.ListEventActionsInput{EventSourceId: other.Id, MaxResults: 1})
			var pages, n int
			for p.HasMorePages() {
				page, err := p.NextPage(e.ctx)
				if err != nil {
					t.Fatal(err)
				}
				pages++
				n += len(page.EventActions)
				for _, ea := range page.EventActions {
					if aws.ToString(ea.Event.RevisionPublished.DataSetId) != aws.ToString(other.Id) {
						t.Errorf("filtered listing returned %+v", ea)
					}
				}
			}
			if n != 2 || pages < 2 {
				t.Errorf("paginated filtered listing: %d items in %d pages", n, pages)
			}
			if b, _ := e.b.ListEventActions(e.ctx, &dataexchange.ListEventActionsInput{}); b == nil || len(b.EventActions) != 0 {
				t.Errorf("account B lists %+v", b)
			}

			if _, err := e.a.DeleteEventAction(e.ctx, &dataexchange.DeleteEventActionInput{EventActionId: &id}); err != nil {
				t.Fatalf("DeleteEventAction: %v", err)
			}
			_, err = e.a.GetEventAction(e.ctx, &dataexchange.GetEventActionInput{EventActionId: &id})
			wantAPIError(t, err, "ResourceNotFoundException")
			_, err = e.a.DeleteEventAction(e.ctx, &dataexchange.DeleteEventActionInput{EventActionId: &id})
			wantAPIError(t, err, "ResourceNotFoundException")
		})
	}
}

func TestCreateEventActionRefuses(t *testing.T) {
	t.Parallel()
	e := newEventActionsEnv(t, stores[0].open(t))
	ds := e.dataSet(e.a)
	foreign := e.dataSet(e.b)
	for _, c := range []struct {
		name   string
		in     *dataexchange.CreateEventActionInput
		code   string
		saying string
	}{
		{"pattern without an asset reference", &dataexchange.CreateEventActionInput{Action: autoExport("dest-bucket", aws.String("${Revision.Id}/x"), nil), Event: watching(ds.Id)},
			"ValidationException", "${Asset.Name} or ${Asset.Id}"},
		{"bad bucket", &dataexchange.CreateEventActionInput{Action: autoExport("Bad_Bucket", nil, nil), Event: watching(ds.Id)},
			"ValidationException", "bucket name"},
		{"kms without key", &dataexchange.CreateEventActionInput{Action: autoExport("dest-bucket", nil, &types.ExportServerSideEncryption{Type: types.ServerSideEncryptionTypesAwsKms}), Event: watching(ds.Id)},
			"ValidationException", "KmsKeyArn is required"},
		{"unknown data set", &dataexchange.CreateEventActionInput{Action: autoExport("dest-bucket", nil, nil), Event: watching(aws.String(strings.Repeat("a", 32)))},
			"ResourceNotFoundException", ""},
		{"another account's data set", &dataexchange.CreateEventActionInput{Action: autoExport("dest-bucket", nil, nil), Event: watching(foreign.Id)},
			"ResourceNotFoundException", ""},
		{"reserved tag", &dataexchange.CreateEventActionInput{Action: autoExport("dest-bucket", nil, nil), Event: watching(ds.Id), Tags: map[string]string{"aws:x": "y"}},
			"ValidationException", "reserved"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := e.a.CreateEventAction(e.ctx, c.in)
			apiErr := wantAPIError(t, err, c.code)
			if !strings.Contains(apiErr.ErrorMessage(), c.saying) {
				t.Errorf("message %q does not say %q", apiErr.ErrorMessage(), c.saying)
			}
		})
	}
	// Raw requests the SDK would refuse to send.
	resp, body := e.do("POST", "/v1/event-actions", keyA, `{"Event":{"RevisionPublished":{"DataSetId":"`+aws.ToString(ds.Id)+`"}}}`)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "Action is required") {
		t.Errorf("no Action: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do("POST", "/v1/event-actions", keyA, `{"Action":{"ExportRevisionToS3":{"RevisionDestination":{"Bucket":"dest-bucket"}}},"Event":{}}`)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "Event.RevisionPublished.DataSetId is required") {
		t.Errorf("no Event: %d %s", resp.StatusCode, body)
	}
	// "Auto export event actions per data set": 5.
	for range 5 {
		if _, err := e.a.CreateEventAction(e.ctx, &dataexchange.CreateEventActionInput{Action: autoExport("dest-bucket", nil, nil), Event: watching(ds.Id)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.a.CreateEventAction(e.ctx, &dataexchange.CreateEventActionInput{Action: autoExport("dest-bucket", nil, nil), Event: watching(ds.Id)})
	var limit *types.ServiceLimitExceededException
	if !errors.As(err, &limit) || limit.LimitName != types.LimitNameAutoExportEventActionsPerDataSet || limit.LimitValue != 5 {
		t.Fatalf("sixth event action on a data set: %v", err)
	}
}

// Finalizing a watched revision creates and starts an EXPORT_REVISIONS_TO_S3
// job, in the finalize's transaction, with the event action's ARN and the
// auto-export default KeyPattern.
func TestFinalizeStartsEventActionJobs(t *testing.T) {
	t.Parallel()
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			e := newEventActionsEnv(t, s.open(t))
			ds, unwatched := e.dataSet(e.a), e.dataSet(e.a)
			ea, err := e.a.CreateEventAction(e.ctx, &dataexchange.CreateEventActionInput{
				Action: autoExport("dest-bucket", nil, &types.ExportServerSideEncryption{Type: types.ServerSideEncryptionTypesAwsKms, KmsKeyArn: aws.String("arn:aws:kms:k")}),
				Event:  watching(ds.Id)})
			if err != nil {
				t.Fatal(err)
			}
			rev := e.revision(e.a, aws.ToString(ds.Id))
			e.asset(accountA, aws.ToString(ds.Id), aws.ToString(rev.Id), "a.csv")
			other := e.revision(e.a, aws.ToString(unwatched.Id))
			e.asset(accountA, aws.ToString(unwatched.Id), aws.ToString(other.Id), "b.csv")

			e.finalize(e.a, aws.ToString(unwatched.Id), aws.ToString(other.Id))
			e.finalize(e.a, aws.ToString(ds.Id), aws.ToString(rev.Id))
			// Finalizing a finalized revision again publishes nothing.
			e.finalize(e.a, aws.ToString(ds.Id), aws.ToString(rev.Id))

			list, err := e.a.ListJobs(e.ctx, &dataexchange.ListJobsInput{})
			if err != nil {
				t.Fatal(err)
			}
			if len(list.Jobs) != 1 {
				t.Fatalf("jobs after finalizing: %+v", list.Jobs)
			}
			j := list.Jobs[0]
			d := j.Details.ExportRevisionsToS3
			if j.Type != types.TypeExportRevisionsToS3 || j.State != types.StateInProgress || d == nil ||
				aws.ToString(d.EventActionArn) != aws.ToString(ea.Arn) || aws.ToString(d.DataSetId) != aws.ToString(ds.Id) ||
				len(d.RevisionDestinations) != 1 || aws.ToString(d.RevisionDestinations[0].RevisionId) != aws.ToString(rev.Id) ||
				aws.ToString(d.RevisionDestinations[0].Bucket) != "dest-bucket" ||
				aws.ToString(d.RevisionDestinations[0].KeyPattern) != "${Revision.CreatedAt}/${Asset.Name}" ||
				d.Encryption == nil || aws.ToString(d.Encryption.KmsKeyArn) != "arn:aws:kms:k" {
				t.Fatalf("job %+v, details %+v", j, d)
			}

			// Un-finalizing and finalizing again publishes again.
			if _, err := e.a.UpdateRevision(e.ctx, &dataexchange.UpdateRevisionInput{DataSetId: ds.Id, RevisionId: rev.Id, Finalized: aws.Bool(false)}); err != nil {
				t.Fatal(err)
			}
			e.finalize(e.a, aws.ToString(ds.Id), aws.ToString(rev.Id))
			list, err = e.a.ListJobs(e.ctx, &dataexchange.ListJobsInput{RevisionId: rev.Id})
			if err != nil || len(list.Jobs) != 2 {
				t.Fatalf("jobs after publishing twice: %+v, %v", list, err)
			}
		})
	}
}

// A CreateJob request carrying EventActionArn (a ResponseDetails member
// only; the SDKs can't send it) is taken with the member ignored, as AWS
// ignores unknown members: the job does not claim an event action started
// it.
func TestCreateJobIgnoresEventActionArn(t *testing.T) {
	t.Parallel()
	e := newEventActionsEnv(t, stores[0].open(t))
	ds := e.dataSet(e.a)
	rev := e.revision(e.a, aws.ToString(ds.Id))
	e.asset(accountA, aws.ToString(ds.Id), aws.ToString(rev.Id), "a.csv")
	ea, err := e.a.CreateEventAction(e.ctx, &dataexchange.CreateEventActionInput{Action: autoExport("dest-bucket", nil, nil), Event: watching(ds.Id)})
	if err != nil {
		t.Fatal(err)
	}
	resp, body := e.do("POST", "/v1/jobs", keyA, `{"Type":"EXPORT_REVISIONS_TO_S3","Details":{"ExportRevisionsToS3":{`+
		`"DataSetId":"`+aws.ToString(ds.Id)+`","EventActionArn":"`+aws.ToString(ea.Arn)+`",`+
		`"RevisionDestinations":[{"Bucket":"dest-bucket","RevisionId":"`+aws.ToString(rev.Id)+`"}]}}}`)
	if resp.StatusCode != 201 || strings.Contains(string(body), "EventActionArn") {
		t.Fatalf("CreateJob: %d %s", resp.StatusCode, body)
	}
	list, err := e.a.ListJobs(e.ctx, &dataexchange.ListJobsInput{})
	if err != nil || len(list.Jobs) != 1 {
		t.Fatalf("ListJobs: %+v, %v", list, err)
	}
	got, err := e.a.GetJob(e.ctx, &dataexchange.GetJobInput{JobId: list.Jobs[0].Id})
	if err != nil {
		t.Fatal(err)
	}
	for what, d := range map[string]*types.ExportRevisionsToS3ResponseDetails{"ListJobs": list.Jobs[0].Details.ExportRevisionsToS3, "GetJob": got.Details.ExportRevisionsToS3} {
		if d == nil || d.EventActionArn != nil || len(d.RevisionDestinations) != 1 || aws.ToString(d.RevisionDestinations[0].Bucket) != "dest-bucket" {
			t.Errorf("%s details %+v: want the request's destination and no EventActionArn", what, d)
		}
	}
}
