package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// upstreamCall is one request an API behind an API_GATEWAY_API asset got.
type upstreamCall struct {
	Method, URI, APIKey, Trace, Body string
}

// recordingAPI is an HTTP server standing for an API Gateway stage: it
// records every request and echoes it.
type recordingAPI struct {
	*httptest.Server
	mu    sync.Mutex
	calls []upstreamCall
}

func newRecordingAPI(t *testing.T) *recordingAPI {
	api := &recordingAPI{}
	api.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c := upstreamCall{Method: r.Method, URI: r.URL.RequestURI(), APIKey: r.Header.Get("X-Api-Key"), Trace: r.Header.Get("X-Trace"), Body: string(b)}
		api.mu.Lock()
		api.calls = append(api.calls, c)
		api.mu.Unlock()
		w.Header().Set("X-Upstream", "yes")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, "%s %s key=%s body=%s", c.Method, c.URI, c.APIKey, c.Body)
	}))
	t.Cleanup(api.Close)
	return api
}

func (a *recordingAPI) got() []upstreamCall {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]upstreamCall(nil), a.calls...)
}

// importAPIAsset runs IMPORT_ASSET_FROM_API_GATEWAY_API into the revision
// (uploading e2eOpenAPISpec to the job's upload URL) and returns the asset
// id.
func importAPIAsset(t *testing.T, c *dataexchange.Client, dataSetID, revisionID string) string {
	t.Helper()
	ctx := context.Background()
	spec := []byte(e2eOpenAPISpec)
	created, err := c.CreateJob(ctx, &dataexchange.CreateJobInput{Type: types.TypeImportAssetFromApiGatewayApi,
		Details: &types.RequestDetails{ImportAssetFromApiGatewayApi: &types.ImportAssetFromApiGatewayApiRequestDetails{
			ApiId: aws.String(e2eAPIID), ApiName: aws.String("Weather"), ApiSpecificationMd5Hash: aws.String(b64MD5(spec)),
			ProtocolType: types.ProtocolTypeRest, Stage: aws.String("prod"), ApiKey: aws.String("k3y"),
			DataSetId: &dataSetID, RevisionId: &revisionID}}})
	require.NoError(t, err)
	code, out := curl(t, "-T", writeFile(t, "spec.json", spec), "-H", "Content-MD5: "+b64MD5(spec),
		aws.ToString(created.Details.ImportAssetFromApiGatewayApi.ApiSpecificationUploadUrl))
	require.Equal(t, http.StatusOK, code, "PUT of the specification: %s", out)
	_, err = c.StartJob(ctx, &dataexchange.StartJobInput{JobId: created.Id})
	require.NoError(t, err)
	j := waitRefJob(t, c, *created.Id)
	require.Equal(t, types.StateCompleted, j.State, "errors %+v", j.Errors)
	return aws.ToString(onlyAsset(t, c, dataSetID, revisionID).Id)
}

// TestSendApiAssetEntitled calls an owner's API through a data grant with
// the real binary: the receiver's SendApiAsset on its entitled data set
// reaches the API with the key, path, query and body; a revoked revision's
// API, a grant past its EndsAt, a deleted grant and an account without a
// grant are refused, and the API sees none of them.
func TestSendApiAssetEntitled(t *testing.T) {
	t.Parallel()
	clis := findCLIs(t)
	eachBackend(t, func(t *testing.T, b backend) {
		up := newRecordingAPI(t)
		s := startServer(t, b, serverOptions{Args: []string{"--api-endpoint", e2eAPIID + "=" + up.URL + "/stage"}})
		ctx := context.Background()
		ownerCreds, thirdCreds := s.createAccount(t, ""), s.createAccount(t, "")
		owner, receiver := s.client(ownerCreds), s.client(s.Root)
		ownerAPI, receiverAPI, thirdAPI := fulfillClient(s, ownerCreds), fulfillClient(s, s.Root), fulfillClient(s, thirdCreds)

		ds, rev := refTarget(t, owner, types.AssetTypeApiGatewayApi)
		assetID := importAPIAsset(t, owner, ds, rev)
		_, err := owner.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{DataSetId: &ds, RevisionId: &rev, Finalized: aws.Bool(true)})
		require.NoError(t, err)

		grant := func(name string, endsAt *time.Time) *dataexchange.CreateDataGrantOutput {
			g, err := owner.CreateDataGrant(ctx, &dataexchange.CreateDataGrantInput{Name: aws.String(name),
				GrantDistributionScope: types.GrantDistributionScopeNone, ReceiverPrincipal: aws.String(s.Root.AccountID),
				SourceDataSetId: &ds, EndsAt: endsAt})
			require.NoError(t, err)
			_, err = receiver.AcceptDataGrant(ctx, &dataexchange.AcceptDataGrantInput{DataGrantArn: g.Arn})
			require.NoError(t, err)
			return g
		}
		// A grant that ends soon, checked last (a few seconds are left for
		// accepting it; the rest of the test runs meanwhile).
		shortEnd := time.Now().Add(3 * time.Second).Truncate(time.Millisecond)
		short := grant("ends soon", &shortEnd)
		g := grant("open-ended", nil)
		entitled := aws.ToString(g.DataSetId)
		require.NotEqual(t, ds, entitled)

		// The receiver sees the asset in its entitled data set...
		seen, err := receiver.GetAsset(ctx, &dataexchange.GetAssetInput{DataSetId: &entitled, RevisionId: &rev, AssetId: &assetID})
		require.NoError(t, err)
		assert.Equal(t, entitled, aws.ToString(seen.DataSetId))
		require.NotNil(t, seen.AssetDetails.ApiGatewayApiAsset)

		// ...and calls its API with the ids it sees.
		send := func(c *dataexchange.Client, dataSetID, revisionID, assetID string) (*dataexchange.SendApiAssetOutput, error) {
			return c.SendApiAsset(ctx, &dataexchange.SendApiAssetInput{AssetId: &assetID, DataSetId: &dataSetID, RevisionId: &revisionID,
				Method: aws.String("POST"), Path: aws.String("/forecast/oslo"), QueryStringParameters: map[string]string{"units": "metric"},
				RequestHeaders: map[string]string{"X-Trace": "t1"}, Body: aws.String(`{"days":3}`)})
		}
		out, err := send(receiverAPI, entitled, rev, assetID)
		require.NoError(t, err)
		assert.Equal(t, `POST /stage/forecast/oslo?units=metric key=k3y body={"days":3}`, aws.ToString(out.Body))
		assert.Equal(t, "yes", out.ResponseHeaders["x-upstream"])
		want := []upstreamCall{{Method: "POST", URI: "/stage/forecast/oslo?units=metric", APIKey: "k3y", Trace: "t1", Body: `{"days":3}`}}
		require.Equal(t, want, up.got())

		// Without a grant: the owner's ids or the receiver's, nothing.
		_, err = send(thirdAPI, ds, rev, assetID)
		wantCode(t, err, "ResourceNotFoundException")
		_, err = send(thirdAPI, entitled, rev, assetID)
		wantCode(t, err, "ResourceNotFoundException")
		// The receiver can't use the owner's ids either.
		_, err = send(receiverAPI, ds, rev, assetID)
		wantCode(t, err, "ResourceNotFoundException")

		// A revoked revision's API can't be called, by the receiver or the
		// owner (as its assets can't be exported).
		created, err := owner.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: &ds})
		require.NoError(t, err)
		rev2 := aws.ToString(created.Id)
		asset2 := importAPIAsset(t, owner, ds, rev2)
		_, err = owner.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{DataSetId: &ds, RevisionId: &rev2, Finalized: aws.Bool(true)})
		require.NoError(t, err)
		_, err = send(receiverAPI, entitled, rev2, asset2)
		require.NoError(t, err, "before the revocation")
		want = append(want, want[0])
		_, err = owner.RevokeRevision(ctx, &dataexchange.RevokeRevisionInput{DataSetId: &ds, RevisionId: &rev2, RevocationComment: aws.String("withdrawn by the owner")})
		require.NoError(t, err)
		_, err = send(receiverAPI, entitled, rev2, asset2)
		assert.Contains(t, wantCode(t, err, "ConflictException").ErrorMessage(), "revoked")
		_, err = send(ownerAPI, ds, rev2, asset2)
		wantCode(t, err, "ConflictException")
		require.Equal(t, want, up.got(), "the API got a call for a revoked revision")

		// One AWS CLI v2 call as the receiver.
		calledCLI := false
		for _, cli := range clis {
			if !strings.HasPrefix(cli.version, "2.") {
				continue
			}
			calledCLI = true
			t.Logf("send-api-asset with aws-cli/%s", cli.version)
			r := cli.runWith(t, s, s.Root, cliSendApiAssetEnv(s), "send-api-asset", "--data-set-id", entitled, "--revision-id", rev,
				"--asset-id", assetID, "--method", "PUT", "--path", "/forecast/bergen", "--query-string-parameters", "units=metric",
				"--body", "from the CLI")
			require.Zero(t, r.exit, "aws dataexchange send-api-asset (%s): %s", cli.version, r.stderr)
			assert.Equal(t, "PUT /stage/forecast/bergen?units=metric key=k3y body=from the CLI", str(r.out, "Body"))
			want = append(want, upstreamCall{Method: "PUT", URI: "/stage/forecast/bergen?units=metric", APIKey: "k3y", Body: "from the CLI"})
			require.Equal(t, want, up.got())
			break
		}
		if !calledCLI && os.Getenv("WHARF_TEST_REQUIRE_AWSCLI") == "1" {
			t.Fatal("no AWS CLI v2 installed and WHARF_TEST_REQUIRE_AWSCLI=1")
		}

		// Past EndsAt: AccessDeniedException, as for the entitled data
		// set's other reads.
		time.Sleep(time.Until(shortEnd))
		_, err = send(receiverAPI, aws.ToString(short.DataSetId), rev, assetID)
		wantCode(t, err, "AccessDeniedException")
		_, err = receiver.GetAsset(ctx, &dataexchange.GetAssetInput{DataSetId: short.DataSetId, RevisionId: &rev, AssetId: &assetID})
		wantCode(t, err, "AccessDeniedException")

		// Deleted: the entitled data set is gone.
		_, err = owner.DeleteDataGrant(ctx, &dataexchange.DeleteDataGrantInput{DataGrantId: g.Id})
		require.NoError(t, err)
		_, err = send(receiverAPI, entitled, rev, assetID)
		wantCode(t, err, "ResourceNotFoundException")
		require.Equal(t, want, up.got(), "the API got a call without access")

		// The owner's own calls go on.
		_, err = send(ownerAPI, ds, rev, assetID)
		require.NoError(t, err)
		assert.Len(t, up.got(), len(want)+1)
	})
}

// cliSendApiAssetEnv lets the AWS CLI reach SendApiAsset without DNS: the
// CLI (v2.9, which has no setting to turn the host prefix off) sends it
// to api-fulfill.<endpoint host>, which doesn't resolve here; with Wharf as
// its HTTP proxy the request reaches Wharf, which serves SendApiAsset on
// any host name and checks the signature over the prefixed Host.
func cliSendApiAssetEnv(s *server) []string {
	return []string{"HTTP_PROXY=" + s.URL, "http_proxy=" + s.URL, "NO_PROXY=", "no_proxy="}
}
