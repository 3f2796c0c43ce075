package api_test

import (
	"encoding/json"
	"maps"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"

	"github.com/wharf-dev/wharf/internal/resource"
)

func TestTagOperations(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ds := e.dataSet(e.a)
	dsID := aws.ToString(ds.Id)
	rev := e.revision(e.a, dsID)
	a := e.asset(accountA, dsID, aws.ToString(rev.Id), "a")
	for _, arn := range []string{aws.ToString(ds.Arn), aws.ToString(rev.Arn), resource.AssetARN(region, accountA, dsID, aws.ToString(rev.Id), a.ID)} {
		list := func() map[string]string {
			out, err := e.a.ListTagsForResource(e.ctx, &dataexchange.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
			if err != nil {
				t.Fatalf("ListTagsForResource %s: %v", arn, err)
			}
			return out.Tags
		}
		if _, err := e.a.TagResource(e.ctx, &dataexchange.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"a": "1", "b": "2", "c": ""}}); err != nil {
			t.Fatalf("TagResource %s: %v", arn, err)
		}
		if got := list(); !maps.Equal(got, map[string]string{"a": "1", "b": "2", "c": ""}) {
			t.Fatalf("%s: tags %v", arn, got)
		}
		if _, err := e.a.UntagResource(e.ctx, &dataexchange.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"a", "c", "nope"}}); err != nil {
			t.Fatalf("UntagResource %s: %v", arn, err)
		}
		if got := list(); !maps.Equal(got, map[string]string{"b": "2"}) {
			t.Fatalf("%s: tags after untag %v", arn, got)
		}
	}
	got, err := e.a.GetDataSet(e.ctx, &dataexchange.GetDataSetInput{DataSetId: ds.Id})
	if err != nil || !maps.Equal(got.Tags, map[string]string{"b": "2"}) {
		t.Fatalf("GetDataSet tags %v %v", got.Tags, err)
	}
	gotRev, err := e.a.GetRevision(e.ctx, &dataexchange.GetRevisionInput{DataSetId: ds.Id, RevisionId: rev.Id})
	if err != nil || !maps.Equal(gotRev.Tags, map[string]string{"b": "2"}) {
		t.Fatalf("GetRevision tags %v %v", gotRev.Tags, err)
	}
}

// Tag operations model no errors, so every error reaches Go clients as a
// generic API error carrying the exception's code.
func TestTagErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ds := e.dataSet(e.a)
	fifty := map[string]string{}
	for i := range 50 {
		fifty[strings.Repeat("k", i+1)] = ""
	}
	tests := []struct {
		name string
		arn  string
		tags map[string]string
		code string
	}{
		{"malformed ARN", "arn:aws:dataexchange:us-east-1:111111111111:bogus/x", map[string]string{"k": "v"}, "ValidationException"},
		{"other region", resource.DataSetARN("eu-west-1", accountA, aws.ToString(ds.Id)), map[string]string{"k": "v"}, "ValidationException"},
		{"job ARN", resource.JobARN(region, accountA, resource.NewID()), map[string]string{"k": "v"}, "ValidationException"},
		{"missing data set", resource.DataSetARN(region, accountA, resource.NewID()), map[string]string{"k": "v"}, "ResourceNotFoundException"},
		{"reserved key", aws.ToString(ds.Arn), map[string]string{"aws:k": "v"}, "ValidationException"},
		{"too many", aws.ToString(ds.Arn), map[string]string{"one-more": "", "and-another": ""}, "ValidationException"},
	}
	if _, err := e.a.TagResource(e.ctx, &dataexchange.TagResourceInput{ResourceArn: ds.Arn, Tags: fifty}); err != nil {
		t.Fatalf("50 tags: %v", err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := e.a.TagResource(e.ctx, &dataexchange.TagResourceInput{ResourceArn: aws.String(tc.arn), Tags: tc.tags})
			wantAPIError(t, err, tc.code)
		})
	}
}

// TestTagsPathEscaping: the SDK percent-encodes the ARN into one path
// segment; ServeMux routes on the escaped path and PathValue unescapes. A
// client that leaves the ARN's slashes unescaped reaches the same resource.
func TestTagsPathEscaping(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ds := e.dataSet(e.a)
	rev := e.revision(e.a, aws.ToString(ds.Id))
	arn := aws.ToString(rev.Arn)
	escaped := url.PathEscape(arn)
	if !strings.Contains(escaped, "%2F") || !strings.Contains(escaped, ":") && !strings.Contains(escaped, "%3A") {
		t.Fatalf("escaped ARN %s", escaped)
	}
	fullyEscaped := strings.ReplaceAll(escaped, ":", "%3A")
	for i, path := range []string{"/tags/" + fullyEscaped, "/tags/" + escaped, "/tags/" + arn} {
		resp, body := e.do("POST", path, keyA, `{"tags":{"via":"`+string(rune('0'+i))+`"}}`)
		if resp.StatusCode != 204 || len(body) != 0 {
			t.Fatalf("POST %s: %d %s", path, resp.StatusCode, body)
		}
		resp, body = e.do("GET", path, keyA, "")
		var out struct {
			Tags map[string]string `json:"tags"`
		}
		if resp.StatusCode != 200 || json.Unmarshal(body, &out) != nil || out.Tags["via"] != string(rune('0'+i)) {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
		}
		if !strings.HasPrefix(string(body), `{"tags":`) {
			t.Fatalf("tags member is not lower case: %s", body)
		}
	}
	resp, body := e.do("DELETE", "/tags/"+fullyEscaped+"?tagKeys=via&tagKeys=other", keyA, "")
	if resp.StatusCode != 204 || len(body) != 0 {
		t.Fatalf("DELETE: %d %s", resp.StatusCode, body)
	}
	out, err := e.a.ListTagsForResource(e.ctx, &dataexchange.ListTagsForResourceInput{ResourceArn: rev.Arn})
	if err != nil || len(out.Tags) != 0 {
		t.Fatalf("after untag: %v %v", out, err)
	}
	resp, body = e.do("DELETE", "/tags/"+fullyEscaped, keyA, "")
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "ValidationException" || !strings.Contains(string(body), "tagKeys") {
		t.Fatalf("DELETE without tagKeys: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do("POST", "/tags/"+fullyEscaped, keyA, `{}`)
	if resp.StatusCode != 400 || !strings.Contains(string(body), "tags") {
		t.Fatalf("POST without tags: %d %s", resp.StatusCode, body)
	}
}
