package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"

	"github.com/wharf-dev/wharf/internal/resource"
)

// TestDataGrantsWire drives the grant operations with the Go SDK, which
// percent-encodes the ARN in AcceptDataGrant's and GetReceivedDataGrant's
// paths, and checks the members of each shape.
func TestDataGrantsWire(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ds := e.dataSet(e.a)
	rev := e.revision(e.a, aws.ToString(ds.Id))
	asset := e.asset(accountA, aws.ToString(ds.Id), aws.ToString(rev.Id), "data.csv")
	e.finalize(e.a, aws.ToString(ds.Id), aws.ToString(rev.Id))

	ends := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Millisecond)
	g, err := e.a.CreateDataGrant(e.ctx, &dataexchange.CreateDataGrantInput{
		Name: aws.String("share"), GrantDistributionScope: types.GrantDistributionScopeNone,
		ReceiverPrincipal: aws.String(accountB), SourceDataSetId: ds.Id, EndsAt: &ends,
		Description: aws.String("for B"), Tags: map[string]string{"team": "a"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(g.SenderPrincipal) != accountA || g.AcceptanceState != types.DataGrantAcceptanceStatePendingReceiverAcceptance ||
		aws.ToString(g.SourceDataSetId) != aws.ToString(ds.Id) || !aws.ToTime(g.EndsAt).Equal(ends) || g.Tags["team"] != "a" ||
		aws.ToString(g.Arn) != resource.DataGrantARN(region, accountA, aws.ToString(g.Id)) {
		t.Fatalf("CreateDataGrant: %+v", g)
	}

	// B lists it among its pending grants, and not among its accepted ones.
	for state, want := range map[types.AcceptanceStateFilterValue]int{
		types.AcceptanceStateFilterValuePendingReceiverAcceptance: 1, types.AcceptanceStateFilterValueAccepted: 0,
	} {
		l, err := e.b.ListReceivedDataGrants(e.ctx, &dataexchange.ListReceivedDataGrantsInput{
			AcceptanceState: []types.AcceptanceStateFilterValue{state}})
		if err != nil {
			t.Fatal(err)
		}
		if len(l.DataGrantSummaries) != want {
			t.Fatalf("received grants %s: %+v", state, l.DataGrantSummaries)
		}
	}
	got, err := e.b.GetReceivedDataGrant(e.ctx, &dataexchange.GetReceivedDataGrantInput{DataGrantArn: g.Arn})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.Id) != aws.ToString(g.Id) {
		t.Fatalf("GetReceivedDataGrant: %+v", got)
	}
	acc, err := e.b.AcceptDataGrant(e.ctx, &dataexchange.AcceptDataGrantInput{DataGrantArn: g.Arn})
	if err != nil {
		t.Fatal(err)
	}
	if acc.AcceptanceState != types.DataGrantAcceptanceStateAccepted || acc.AcceptedAt == nil {
		t.Fatalf("AcceptDataGrant: %+v", acc)
	}
	_, err = e.b.AcceptDataGrant(e.ctx, &dataexchange.AcceptDataGrantInput{DataGrantArn: g.Arn})
	wantTyped[*types.ConflictException](t, err)

	// The receiver's shapes leave out the source data set.
	resp, body := e.do(http.MethodGet, "/v1/received-data-grants/"+url.PathEscape(aws.ToString(g.Arn)), keyB, "")
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), "SourceDataSetId") {
		t.Fatalf("GetReceivedDataGrant body %d: %s", resp.StatusCode, body)
	}
	// An ARN whose slash arrives unescaped is the same ARN.
	resp, body = e.do(http.MethodGet, "/v1/received-data-grants/"+strings.ReplaceAll(url.PathEscape(aws.ToString(g.Arn)), "%2F", "/"), keyB, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GetReceivedDataGrant with an unescaped slash %d: %s", resp.StatusCode, body)
	}
	resp, body = e.do(http.MethodGet, "/v1/data-grants", keyA, "")
	var list struct{ DataGrantSummaries []map[string]any }
	if err := json.Unmarshal(body, &list); err != nil || resp.StatusCode != http.StatusOK || len(list.DataGrantSummaries) != 1 ||
		list.DataGrantSummaries[0]["SourceDataSetId"] != aws.ToString(ds.Id) || list.DataGrantSummaries[0]["AcceptanceState"] != "ACCEPTED" {
		t.Fatalf("ListDataGrants %d: %s", resp.StatusCode, body)
	}

	// B reads and lists the entitled data set, through the SDK.
	eds, err := e.b.GetDataSet(e.ctx, &dataexchange.GetDataSetInput{DataSetId: g.DataSetId})
	if err != nil {
		t.Fatal(err)
	}
	if eds.Origin != types.OriginEntitled || aws.ToString(eds.OriginDetails.DataGrantId) != aws.ToString(g.Id) ||
		aws.ToString(eds.Arn) != "arn:aws:dataexchange:"+region+"::data-sets/"+aws.ToString(g.DataSetId) {
		t.Fatalf("entitled data set: %+v", eds)
	}
	sets, err := e.b.ListDataSets(e.ctx, &dataexchange.ListDataSetsInput{Origin: aws.String("ENTITLED")})
	if err != nil || len(sets.DataSets) != 1 {
		t.Fatalf("ListDataSets ENTITLED: %+v, %v", sets, err)
	}
	a, err := e.b.GetAsset(e.ctx, &dataexchange.GetAssetInput{DataSetId: g.DataSetId, RevisionId: rev.Id, AssetId: aws.String(asset.ID)})
	if err != nil || aws.ToString(a.Name) != "data.csv" {
		t.Fatalf("GetAsset through the grant: %+v, %v", a, err)
	}
	_, err = e.b.UpdateDataSet(e.ctx, &dataexchange.UpdateDataSetInput{DataSetId: g.DataSetId, Name: aws.String("mine")})
	wantTyped[*types.AccessDeniedException](t, err)
	_, err = e.b.TagResource(e.ctx, &dataexchange.TagResourceInput{ResourceArn: eds.Arn, Tags: map[string]string{"k": "v"}})
	wantAPIError(t, err, "AccessDeniedException")

	// The sender deletes it by ARN; the receiver's data set goes.
	if _, err := e.a.DeleteDataGrant(e.ctx, &dataexchange.DeleteDataGrantInput{DataGrantId: g.Arn}); err != nil {
		t.Fatal(err)
	}
	_, err = e.b.GetDataSet(e.ctx, &dataexchange.GetDataSetInput{DataSetId: g.DataSetId})
	wantTyped[*types.ResourceNotFoundException](t, err)
	_, err = e.a.GetDataGrant(e.ctx, &dataexchange.GetDataGrantInput{DataGrantId: g.Id})
	nf := wantTyped[*types.ResourceNotFoundException](t, err)
	if nf.ResourceType != types.ResourceTypeDataGrant {
		t.Fatalf("not found names %s", nf.ResourceType)
	}
}
