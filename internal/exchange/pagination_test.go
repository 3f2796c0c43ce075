package exchange_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/fault"
)

func TestPaginationInput(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.dataSet(accountA)
	for range 30 {
		f.revision(accountA, d.ID)
	}
	list := func(page exchange.PageInput) (exchange.Page[exchange.RevisionView], error) {
		return f.svc.ListDataSetRevisions(f.ctx, accountA, exchange.ListDataSetRevisionsInput{DataSetID: d.ID, PageInput: page})
	}
	first, err := list(exchange.PageInput{})
	mustOK(t, err)
	if len(first.Items) != 25 || first.NextToken == "" {
		t.Fatalf("default page: %d items, token %q", len(first.Items), first.NextToken)
	}
	for _, c := range first.NextToken {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			t.Fatalf("token %q is not URL-safe", first.NextToken)
		}
	}
	rest, err := list(exchange.PageInput{NextToken: first.NextToken, MaxResults: ptr(200)})
	mustOK(t, err)
	if len(rest.Items) != 5 || rest.NextToken != "" {
		t.Fatalf("second page: %d items, token %q", len(rest.Items), rest.NextToken)
	}
	one, err := list(exchange.PageInput{MaxResults: ptr(1)})
	mustOK(t, err)
	if len(one.Items) != 1 {
		t.Fatalf("maxResults 1 gave %d items", len(one.Items))
	}

	f.dataSet(accountA) // a second data set, so that the listing has a next page
	dataSetsPage, err := f.svc.ListDataSets(f.ctx, accountA, exchange.ListDataSetsInput{PageInput: exchange.PageInput{MaxResults: ptr(1)}})
	mustOK(t, err)

	for _, tc := range []struct {
		name string
		in   exchange.PageInput
		want string
	}{
		{"maxResults 0", exchange.PageInput{MaxResults: ptr(0)}, "maxResults"},
		{"maxResults 201", exchange.PageInput{MaxResults: ptr(201)}, "maxResults"},
		{"maxResults negative", exchange.PageInput{MaxResults: ptr(-1)}, "maxResults"},
		{"token not base64", exchange.PageInput{NextToken: "%%%"}, "nextToken"},
		{"token not JSON", exchange.PageInput{NextToken: base64.RawURLEncoding.EncodeToString([]byte("nope"))}, "nextToken"},
		{"token of another listing", exchange.PageInput{NextToken: dataSetsPage.NextToken}, "nextToken"},
		{"token without a position", exchange.PageInput{NextToken: base64.RawURLEncoding.EncodeToString([]byte(`{"l":"revisions","c":{}}`))}, "nextToken"},
	} {
		_, err := list(tc.in)
		fe := fault.As(err)
		if fe == nil || fe.Name != fault.Validation || !strings.Contains(fe.Message, tc.want) {
			t.Errorf("%s: got %v, want ValidationException", tc.name, err)
		}
	}
}
