package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"

	"github.com/wharf-dev/wharf/internal/api"
	"github.com/wharf-dev/wharf/internal/resource"
)

// TestAssetDetailsHook checks that Config.AssetDetails makes the details
// GetAsset, UpdateAsset and ListRevisionAssets return (the signed
// ApiSpecificationDownloadUrl), and that its failure is an internal error.
func TestAssetDetailsHook(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	fail := errors.New("signer down")
	var failing atomic.Bool
	srv := httptest.NewServer(api.New(api.Config{
		Service: e.svc, Authenticator: keyAuthenticator{keyA: accountA}, Region: region,
		AssetDetails: func(_ context.Context, a resource.Asset) (json.RawMessage, error) {
			if failing.Load() {
				return nil, fail
			}
			return json.RawMessage(`{"ApiGatewayApiAsset":{"ApiId":"a1b2c3d4e5","ApiSpecificationDownloadUrl":"https://signed/` + a.ID + `"}}`), nil
		},
	}))
	t.Cleanup(srv.Close)
	c := dataexchange.New(dataexchange.Options{Region: region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider(keyA, "secret", ""), Retryer: aws.NopRetryer{}, HTTPClient: srv.Client()})

	ds := e.dataSet(c)
	rev := e.revision(c, *ds.Id)
	a := e.asset(accountA, *ds.Id, *rev.Id, "api")
	want := "https://signed/" + a.ID
	got, err := c.GetAsset(e.ctx, &dataexchange.GetAssetInput{DataSetId: ds.Id, RevisionId: rev.Id, AssetId: &a.ID})
	if err != nil || aws.ToString(got.AssetDetails.ApiGatewayApiAsset.ApiSpecificationDownloadUrl) != want {
		t.Fatalf("GetAsset: %+v %v", got, err)
	}
	up, err := c.UpdateAsset(e.ctx, &dataexchange.UpdateAssetInput{DataSetId: ds.Id, RevisionId: rev.Id, AssetId: &a.ID, Name: aws.String("renamed")})
	if err != nil || aws.ToString(up.AssetDetails.ApiGatewayApiAsset.ApiSpecificationDownloadUrl) != want {
		t.Fatalf("UpdateAsset: %+v %v", up, err)
	}
	list, err := c.ListRevisionAssets(e.ctx, &dataexchange.ListRevisionAssetsInput{DataSetId: ds.Id, RevisionId: rev.Id})
	if err != nil || len(list.Assets) != 1 || aws.ToString(list.Assets[0].AssetDetails.ApiGatewayApiAsset.ApiSpecificationDownloadUrl) != want {
		t.Fatalf("ListRevisionAssets: %+v %v", list, err)
	}
	failing.Store(true)
	_, err = c.GetAsset(e.ctx, &dataexchange.GetAssetInput{DataSetId: ds.Id, RevisionId: rev.Id, AssetId: &a.ID})
	wantAPIError(t, err, "InternalServerException")
}
