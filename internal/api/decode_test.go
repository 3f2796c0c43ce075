package api_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"

	"github.com/wharf-dev/wharf/internal/resource"
)

// TestBodiesDecodeAsAWSDoes sends every operation that takes a JSON body
// bodies AWS refuses (invalid UTF-8, a top-level value that is not an
// object), and checks the member rules (exact names, unknown members
// ignored, no null tag values) on each operation that has such members.
// A refused request changes nothing.
func TestBodiesDecodeAsAWSDoes(t *testing.T) {
	t.Parallel()
	e := newBodyEnv(t, nil)
	ds := e.dataSet(e.a)
	dsID := aws.ToString(ds.Id)
	rev := e.revision(e.a, dsID)
	revID := aws.ToString(rev.Id)
	asset := e.asset(accountA, dsID, revID, "a.csv")
	dsPath := "/v1/data-sets/" + dsID
	revPath := dsPath + "/revisions/" + revID
	jobID, eaID := resource.NewID(), resource.NewID()
	tagsPath := "/tags/" + url.PathEscape(aws.ToString(ds.Arn))

	withBody := []struct{ op, method, path string }{
		{"CreateDataSet", "POST", "/v1/data-sets"},
		{"UpdateDataSet", "PATCH", dsPath},
		{"CreateRevision", "POST", dsPath + "/revisions"},
		{"UpdateRevision", "PATCH", revPath},
		{"RevokeRevision", "POST", revPath + "/revoke"},
		{"UpdateAsset", "PATCH", revPath + "/assets/" + asset.ID},
		{"TagResource", "POST", tagsPath},
		{"CreateDataGrant", "POST", "/v1/data-grants"},
		{"SendDataSetNotification", "POST", dsPath + "/notification"},
		{"CreateJob", "POST", "/v1/jobs"},
		{"StartJob", "PATCH", "/v1/jobs/" + jobID}, // takes no member: any body is ignored
		{"CreateEventAction", "POST", "/v1/event-actions"},
		{"UpdateEventAction", "PATCH", "/v1/event-actions/" + eaID},
	}
	bad := []struct{ name, body, message string }{
		{"invalid UTF-8", "{\"Name\":\"caf\xe9\",\"Comment\":\"x\"}", "UTF-8"},
		{"invalid UTF-8 in an unknown member", "{\"Unknown\":\"\xff\xfe\"}", "UTF-8"},
		{"lone surrogate escape", `{"Name":"\udc00"}`, "surrogate"},
		{"top-level null", `null`, "object"},
		{"top-level array", `[{"Name":"x"}]`, "object"},
		{"top-level string", `"Name"`, "object"},
		{"top-level number", `42`, "object"},
		{"not JSON", `{"Name":`, "not valid"},
	}
	for _, op := range withBody {
		if op.op == "StartJob" {
			continue
		}
		for _, b := range bad {
			resp, got := e.do(op.method, op.path, keyA, b.body)
			if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "SerializationException" || !strings.Contains(string(got), b.message) {
				t.Errorf("%s with %s: %d %s %s, want 400 SerializationException saying %q",
					op.op, b.name, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), got, b.message)
			}
		}
	}

	// Member names are case-sensitive; a name in another case is an
	// unknown member, ignored.
	member := []struct {
		name, method, path, body string
		status                   int
		exception, message       string
	}{
		{"finalized in lower case does not finalize", "PATCH", revPath, `{"finalized":true,"FINALIZED":true}`, 200, "", `"Finalized":false`},
		{"name in lower case does not rename", "PATCH", dsPath, `{"name":"other","Description":"kept"}`, 200, "", `"Name":"weather"`},
		{"CreateDataSet needs Name, not name", "POST", "/v1/data-sets", `{"name":"x","description":"y","assetType":"S3_SNAPSHOT"}`, 400, "ValidationException", "Name is required"},
		{"TagResource's member is tags, not Tags", "POST", tagsPath, `{"Tags":{"k":"v"}}`, 400, "ValidationException", "tags is required"},
		{"CreateJob needs Type, not type", "POST", "/v1/jobs", `{"type":"IMPORT_ASSETS_FROM_S3","Details":{}}`, 400, "ValidationException", "Type is required"},
		{"nested names too: Details.ImportAssetsFromS3.DataSetId", "POST", "/v1/jobs",
			`{"Type":"IMPORT_ASSETS_FROM_S3","Details":{"ImportAssetsFromS3":{"dataSetId":"` + dsID + `","RevisionId":"` + revID + `","AssetSources":[{"Bucket":"bucket","Key":"k"}]}}}`,
			400, "ValidationException", "DataSetId is required"},
		{"nested names too: Event.RevisionPublished", "POST", "/v1/event-actions",
			`{"Action":{"ExportRevisionToS3":{"RevisionDestination":{"Bucket":"bucket"}}},"Event":{"revisionPublished":{"DataSetId":"` + dsID + `"}}}`,
			400, "ValidationException", "RevisionPublished"},
		{"nested names in a job's runner: Details.ImportAssetsFromS3.AssetSources[].key", "POST", "/v1/jobs",
			`{"Type":"IMPORT_ASSETS_FROM_S3","Details":{"ImportAssetsFromS3":{"DataSetId":"` + dsID + `","RevisionId":"` + revID + `","AssetSources":[{"Bucket":"bucket","key":"k"}]}}}`,
			400, "ValidationException", "Key"},
		{"nested names in notification details: deprecation is not Deprecation", "POST", dsPath + "/notification",
			`{"Type":"DEPRECATION","Details":{"deprecation":{}}}`, 202, "", "{}"},
		{"unknown members are ignored", "PATCH", revPath, `{"Comment":"new comment","Unknown":{"deep":[1,null]},"Finalized2":true}`, 200, "", `"Comment":"new comment"`},
	}
	for _, c := range member {
		resp, got := e.do(c.method, c.path, keyA, c.body)
		if resp.StatusCode != c.status || resp.Header.Get("X-Amzn-ErrorType") != c.exception || !strings.Contains(string(got), c.message) {
			t.Errorf("%s: %d %s %s, want %d %s saying %q", c.name, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), got, c.status, c.exception, c.message)
		}
	}
	gotRev, err := e.a.GetRevision(e.ctx, &dataexchange.GetRevisionInput{DataSetId: ds.Id, RevisionId: rev.Id})
	if err != nil {
		t.Fatal(err)
	}
	if gotRev.Finalized || aws.ToString(gotRev.Comment) != "new comment" {
		t.Errorf("revision after the updates: finalized %v, comment %q", gotRev.Finalized, aws.ToString(gotRev.Comment))
	}
	gotDS, err := e.a.GetDataSet(e.ctx, &dataexchange.GetDataSetInput{DataSetId: ds.Id})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(gotDS.Name) != aws.ToString(ds.Name) || aws.ToString(gotDS.Description) != "kept" {
		t.Errorf("data set after the update: %q %q", aws.ToString(gotDS.Name), aws.ToString(gotDS.Description))
	}

	// A null tag value is refused wherever tags are set.
	nullTags := []struct{ op, method, path, body string }{
		{"CreateDataSet", "POST", "/v1/data-sets", `{"Name":"n","Description":"d","AssetType":"S3_SNAPSHOT","Tags":{"team":null}}`},
		{"CreateRevision", "POST", dsPath + "/revisions", `{"Tags":{"team":"x","owner":null}}`},
		{"TagResource", "POST", tagsPath, `{"tags":{"team":null}}`},
		{"CreateDataGrant", "POST", "/v1/data-grants", `{"Name":"g","GrantDistributionScope":"NONE","ReceiverPrincipal":"222222222222","SourceDataSetId":"` + dsID + `","Tags":{"team":null}}`},
		{"CreateEventAction", "POST", "/v1/event-actions", `{"Action":{"ExportRevisionToS3":{"RevisionDestination":{"Bucket":"bucket"}}},"Event":{"RevisionPublished":{"DataSetId":"` + dsID + `"}},"Tags":{"team":null}}`},
	}
	for _, c := range nullTags {
		resp, got := e.do(c.method, c.path, keyA, c.body)
		if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "ValidationException" || !strings.Contains(string(got), "null") {
			t.Errorf("%s with a null tag value: %d %s %s, want 400 ValidationException", c.op, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), got)
		}
	}

	// Nothing was created or tagged.
	sets, err := e.a.ListDataSets(e.ctx, &dataexchange.ListDataSetsInput{})
	if err != nil || len(sets.DataSets) != 1 {
		t.Errorf("ListDataSets: %v, %d data sets, want 1", err, len(sets.DataSets))
	}
	revs, err := e.a.ListDataSetRevisions(e.ctx, &dataexchange.ListDataSetRevisionsInput{DataSetId: ds.Id})
	if err != nil || len(revs.Revisions) != 1 {
		t.Errorf("ListDataSetRevisions: %v, %d revisions, want 1", err, len(revs.Revisions))
	}
	tags, err := e.a.ListTagsForResource(e.ctx, &dataexchange.ListTagsForResourceInput{ResourceArn: ds.Arn})
	if err != nil || len(tags.Tags) != 0 {
		t.Errorf("ListTagsForResource: %v, %v, want none", err, tags.Tags)
	}
	for name, list := range map[string]func() (int, error){
		"jobs": func() (int, error) {
			out, err := e.a.ListJobs(e.ctx, &dataexchange.ListJobsInput{})
			return len(out.Jobs), err
		},
		"event actions": func() (int, error) {
			out, err := e.a.ListEventActions(e.ctx, &dataexchange.ListEventActionsInput{})
			return len(out.EventActions), err
		},
		"data grants": func() (int, error) {
			out, err := e.a.ListDataGrants(e.ctx, &dataexchange.ListDataGrantsInput{})
			return len(out.DataGrantSummaries), err
		},
	} {
		if n, err := list(); err != nil || n != 0 {
			t.Errorf("%s: %d, %v; want none", name, n, err)
		}
	}
	e.noErrorLogged()
}
