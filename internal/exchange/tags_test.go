package exchange_test

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/resource"
)

func TestTagOperations(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.dataSet(accountA)
	r := f.revision(accountA, d.ID)
	a := f.asset(accountA, d.ID, r.ID, "a")
	assetARN := resource.AssetARN(region, accountA, d.ID, r.ID, a.ID)
	for _, arn := range []string{d.ARN, r.ARN, assetARN} {
		list := func() map[string]string {
			tags, err := f.svc.ListTagsForResource(f.ctx, accountA, exchange.ListTagsForResourceInput{ResourceARN: arn})
			mustOK(t, err)
			return tags
		}
		if tags := list(); tags == nil || len(tags) != 0 {
			t.Fatalf("%s: untagged resource lists %v", arn, tags)
		}
		mustOK(t, f.svc.TagResource(f.ctx, accountA, exchange.TagResourceInput{ResourceARN: arn, Tags: map[string]string{"a": "1", "b": "2"}}))
		mustOK(t, f.svc.TagResource(f.ctx, accountA, exchange.TagResourceInput{ResourceARN: arn, Tags: map[string]string{"b": "3", "c": ""}}))
		if tags := list(); !maps.Equal(tags, map[string]string{"a": "1", "b": "3", "c": ""}) {
			t.Fatalf("%s: tags %v", arn, tags)
		}
		mustOK(t, f.svc.UntagResource(f.ctx, accountA, exchange.UntagResourceInput{ResourceARN: arn, TagKeys: []string{"a", "missing"}}))
		if tags := list(); !maps.Equal(tags, map[string]string{"b": "3", "c": ""}) {
			t.Fatalf("%s: tags after untag %v", arn, tags)
		}
	}
	// Get* shows the tags; tagging does not count as an update.
	got, err := f.svc.GetDataSet(f.ctx, accountA, exchange.GetDataSetInput{DataSetID: d.ID})
	mustOK(t, err)
	if !maps.Equal(got.Tags, map[string]string{"b": "3", "c": ""}) || !got.UpdatedAt.Equal(d.UpdatedAt) {
		t.Fatalf("data set after tagging %+v", got)
	}
	gotAsset, err := f.svc.GetAsset(f.ctx, accountA, exchange.GetAssetInput{DataSetID: d.ID, RevisionID: r.ID, AssetID: a.ID})
	mustOK(t, err)
	if gotAsset.Tags["b"] != "3" {
		t.Fatalf("asset tags %v", gotAsset.Tags)
	}
}

func TestTagValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.dataSet(accountA)
	r := f.revision(accountA, d.ID)
	other := f.dataSet(accountB)
	missingDS := resource.NewID()
	missingRev := resource.NewID()
	missingEA := resource.NewID()
	fifty := map[string]string{}
	for i := range 49 {
		fifty[fmt.Sprintf("k%d", i)] = "v"
	}
	mustOK(t, f.svc.TagResource(f.ctx, accountA, exchange.TagResourceInput{ResourceARN: r.ARN, Tags: fifty}))

	tests := []struct {
		name    string
		arn     string
		tags    map[string]string
		want    string
		kind    resource.Kind // for ResourceNotFoundException
		id      string
		message string
	}{
		{"not an ARN", "data-set", map[string]string{"k": "v"}, fault.Validation, "", "", "ResourceArn"},
		{"empty ARN", "", map[string]string{"k": "v"}, fault.Validation, "", "", "ResourceArn"},
		{"other service", "arn:aws:s3:::bucket", map[string]string{"k": "v"}, fault.Validation, "", "", "ResourceArn"},
		{"other region", resource.DataSetARN("eu-west-1", accountA, d.ID), map[string]string{"k": "v"}, fault.Validation, "", "", "region"},
		{"job", resource.JobARN(region, accountA, resource.NewID()), map[string]string{"k": "v"}, fault.Validation, "", "", "not supported"},
		{"missing event action", resource.EventActionARN(region, accountA, missingEA), map[string]string{"k": "v"}, fault.ResourceNotFound, resource.KindEventAction, missingEA, ""},
		{"missing data grant", resource.DataGrantARN(region, accountA, missingDS), map[string]string{"k": "v"}, fault.ResourceNotFound, resource.KindDataGrant, missingDS, ""},
		{"another account's data set", other.ARN, map[string]string{"k": "v"}, fault.ResourceNotFound, resource.KindDataSet, other.ID, ""},
		{"missing data set", resource.DataSetARN(region, accountA, missingDS), map[string]string{"k": "v"}, fault.ResourceNotFound, resource.KindDataSet, missingDS, ""},
		{"missing revision", resource.RevisionARN(region, accountA, d.ID, missingRev), map[string]string{"k": "v"}, fault.ResourceNotFound, resource.KindRevision, missingRev, ""},
		{"tags absent", d.ARN, nil, fault.Validation, "", "", "tags"},
		{"reserved key", d.ARN, map[string]string{"aws:k": "v"}, fault.Validation, "", "", "reserved"},
		{"long key", d.ARN, map[string]string{strings.Repeat("k", 129): "v"}, fault.Validation, "", "", "tag key"},
		{"long value", d.ARN, map[string]string{"k": strings.Repeat("v", 257)}, fault.Validation, "", "", "value"},
		{"51st tag", r.ARN, map[string]string{"one": "1", "two": "2"}, fault.Validation, "", "", "50"},
	}
	// Grouped, so that the parallel cases finish before the checks below.
	t.Run("cases", func(t *testing.T) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				err := f.svc.TagResource(f.ctx, accountA, exchange.TagResourceInput{ResourceARN: tc.arn, Tags: tc.tags})
				if tc.want == fault.ResourceNotFound {
					wantNotFound(t, err, tc.kind, tc.id)
				} else {
					wantFault(t, err, tc.want, tc.message)
				}
				if tc.tags == nil {
					return
				}
				if tc.want == fault.ResourceNotFound {
					_, err = f.svc.ListTagsForResource(f.ctx, accountA, exchange.ListTagsForResourceInput{ResourceARN: tc.arn})
					wantNotFound(t, err, tc.kind, tc.id)
					err = f.svc.UntagResource(f.ctx, accountA, exchange.UntagResourceInput{ResourceARN: tc.arn, TagKeys: []string{"k"}})
					wantNotFound(t, err, tc.kind, tc.id)
				}
			})
		}
	})
	// The 50th tag fits, and overwriting an existing key doesn't count.
	mustOK(t, f.svc.TagResource(f.ctx, accountA, exchange.TagResourceInput{ResourceARN: r.ARN, Tags: map[string]string{"k0": "x", "last": "y"}}))
	if tags, _ := f.st.GetTags(f.ctx, other.ID); len(tags) != 0 {
		t.Fatalf("another account's data set got tags %v", tags)
	}
	err := f.svc.UntagResource(f.ctx, accountA, exchange.UntagResourceInput{ResourceARN: d.ARN})
	wantFault(t, err, fault.Validation, "tagKeys")
}
