package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wharf-dev/wharf/internal/apiasset"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/resource"
)

const (
	e2eShareARN = "arn:aws:redshift:us-east-1:123456789012:datashare:3072dae5-022b-4d45-9cd3-01f010aae4b2/sales_share"
	e2eRoleARN  = "arn:aws:iam::123456789012:role/adx-lf"
	e2eKMSKey   = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	e2eAPIID    = "a1b2c3d4e5"
)

// refJob creates and starts a job with the SDK and waits for its end.
func refJob(t *testing.T, c *dataexchange.Client, jobType types.Type, details *types.RequestDetails) *dataexchange.GetJobOutput {
	t.Helper()
	ctx := context.Background()
	created, err := c.CreateJob(ctx, &dataexchange.CreateJobInput{Type: jobType, Details: details})
	require.NoError(t, err, "CreateJob %s", jobType)
	_, err = c.StartJob(ctx, &dataexchange.StartJobInput{JobId: created.Id})
	require.NoError(t, err, "StartJob %s", jobType)
	return waitRefJob(t, c, *created.Id)
}

func waitRefJob(t *testing.T, c *dataexchange.Client, id string) *dataexchange.GetJobOutput {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		j, err := c.GetJob(context.Background(), &dataexchange.GetJobInput{JobId: &id})
		require.NoError(t, err)
		switch j.State {
		case types.StateCompleted, types.StateError, types.StateCancelled, types.StateTimedOut:
			return j
		}
		require.True(t, time.Now().Before(deadline), "job %s still %s", id, j.State)
		time.Sleep(50 * time.Millisecond)
	}
}

// refTarget creates a data set of assetType and a revision.
func refTarget(t *testing.T, c *dataexchange.Client, assetType types.AssetType) (dataSetID, revisionID string) {
	t.Helper()
	ctx := context.Background()
	ds, err := c.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{AssetType: assetType, Name: aws.String(string(assetType)), Description: aws.String("e2e")})
	require.NoError(t, err)
	rev, err := c.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: ds.Id})
	require.NoError(t, err)
	return *ds.Id, *rev.Id
}

// onlyAsset lists the revision's one asset and gets it.
func onlyAsset(t *testing.T, c *dataexchange.Client, dataSetID, revisionID string) *dataexchange.GetAssetOutput {
	t.Helper()
	ctx := context.Background()
	list, err := c.ListRevisionAssets(ctx, &dataexchange.ListRevisionAssetsInput{DataSetId: &dataSetID, RevisionId: &revisionID})
	require.NoError(t, err)
	require.Len(t, list.Assets, 1)
	a, err := c.GetAsset(ctx, &dataexchange.GetAssetInput{DataSetId: &dataSetID, RevisionId: &revisionID, AssetId: list.Assets[0].Id})
	require.NoError(t, err)
	return a
}

// e2eOpenAPISpec is the OpenAPI 3.0 specification the API Gateway imports
// upload.
const e2eOpenAPISpec = `{"openapi":"3.0.1","info":{"title":"Weather","version":"1.0"},
 "paths":{"/forecast/{city}":{"post":{"parameters":[{"name":"city","in":"path","required":true,"schema":{"type":"string"}}],
  "responses":{"200":{"description":"a forecast"}}}}}}`

// fulfillClient is a client of s for SendApiAsset, which the SDK sends to
// api-fulfill.<host>: its connections go to s whatever the host.
func fulfillClient(s *server, cr creds) *dataexchange.Client {
	addr := strings.TrimPrefix(s.URL, "http://")
	dialer := &net.Dialer{}
	return dataexchange.New(dataexchange.Options{Region: s.Region, BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(cr.AccessKeyID, cr.SecretAccessKey, ""),
		HTTPClient: &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		}}}})
}

func wantCode(t *testing.T, err error, code string) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, code, ae.ErrorCode(), ae.ErrorMessage())
	return ae
}

func TestReferenceAssetJobs(t *testing.T) {
	var mu sync.Mutex
	var seen []*http.Request
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r)
		mu.Unlock()
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Upstream", "yes")
		fmt.Fprintf(w, "%s %s key=%s body=%s", r.Method, r.URL.RequestURI(), r.Header.Get("X-Api-Key"), b)
	}))
	t.Cleanup(up.Close)
	clis := findCLIs(t)

	eachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, serverOptions{Args: []string{"--api-endpoint", e2eAPIID + "=" + up.URL + "/stage"}})
		c := s.client(s.Root)
		ctx := context.Background()

		t.Run("redshift", func(t *testing.T) {
			ds, rev := refTarget(t, c, types.AssetTypeRedshiftDataShare)
			j := refJob(t, c, types.TypeImportAssetsFromRedshiftDataShares, &types.RequestDetails{ImportAssetsFromRedshiftDataShares: &types.ImportAssetsFromRedshiftDataSharesRequestDetails{
				AssetSources: []types.RedshiftDataShareAssetSourceEntry{{DataShareArn: aws.String(e2eShareARN)}}, DataSetId: &ds, RevisionId: &rev}})
			require.Equal(t, types.StateCompleted, j.State, "errors %+v", j.Errors)
			require.NotNil(t, j.Details.ImportAssetsFromRedshiftDataShares)
			assert.Equal(t, e2eShareARN, *j.Details.ImportAssetsFromRedshiftDataShares.AssetSources[0].DataShareArn)
			a := onlyAsset(t, c, ds, rev)
			assert.Equal(t, jobs.AssetID(*j.Id, 0), *a.Id)
			assert.Equal(t, "sales_share", *a.Name)
			assert.Equal(t, types.AssetTypeRedshiftDataShare, a.AssetType)
			require.NotNil(t, a.AssetDetails.RedshiftDataShareAsset)
			assert.Equal(t, e2eShareARN, *a.AssetDetails.RedshiftDataShareAsset.Arn)
			assert.Nil(t, a.AssetDetails.S3SnapshotAsset)

			// A bad ARN, a mismatched data set, the per-job quota.
			_, err := c.CreateJob(ctx, &dataexchange.CreateJobInput{Type: types.TypeImportAssetsFromRedshiftDataShares, Details: &types.RequestDetails{ImportAssetsFromRedshiftDataShares: &types.ImportAssetsFromRedshiftDataSharesRequestDetails{
				AssetSources: []types.RedshiftDataShareAssetSourceEntry{{DataShareArn: aws.String("arn:aws:redshift:us-east-1:123456789012:cluster:c1")}}, DataSetId: &ds, RevisionId: &rev}}})
			wantCode(t, err, "ValidationException")
			snapDS, snapRev := refTarget(t, c, types.AssetTypeS3Snapshot)
			_, err = c.CreateJob(ctx, &dataexchange.CreateJobInput{Type: types.TypeImportAssetsFromRedshiftDataShares, Details: &types.RequestDetails{ImportAssetsFromRedshiftDataShares: &types.ImportAssetsFromRedshiftDataSharesRequestDetails{
				AssetSources: []types.RedshiftDataShareAssetSourceEntry{{DataShareArn: aws.String(e2eShareARN)}}, DataSetId: &snapDS, RevisionId: &snapRev}}})
			assert.Contains(t, wantCode(t, err, "ValidationException").ErrorMessage(), "holds S3_SNAPSHOT assets")
			var many []types.RedshiftDataShareAssetSourceEntry
			for i := range 11 {
				many = append(many, types.RedshiftDataShareAssetSourceEntry{DataShareArn: aws.String(fmt.Sprintf("%s_%d", e2eShareARN, i))})
			}
			_, err = c.CreateJob(ctx, &dataexchange.CreateJobInput{Type: types.TypeImportAssetsFromRedshiftDataShares, Details: &types.RequestDetails{ImportAssetsFromRedshiftDataShares: &types.ImportAssetsFromRedshiftDataSharesRequestDetails{
				AssetSources: many, DataSetId: &ds, RevisionId: &rev}}})
			// CreateJob doesn't model ServiceLimitExceededException: the
			// SDK sees its code and message only (LimitName and LimitValue
			// are checked in internal/jobtypes).
			assert.Contains(t, wantCode(t, err, "ServiceLimitExceededException").ErrorMessage(), "at most 10 datashares")
		})

		t.Run("lake formation", func(t *testing.T) {
			ds, rev := refTarget(t, c, types.AssetTypeLakeFormationDataPermission)
			expr := []types.LFTag{{TagKey: aws.String("domain"), TagValues: []string{"sales"}}}
			j := refJob(t, c, types.TypeImportAssetsFromLakeFormationTagPolicy, &types.RequestDetails{ImportAssetsFromLakeFormationTagPolicy: &types.ImportAssetsFromLakeFormationTagPolicyRequestDetails{
				CatalogId: aws.String("123456789012"), RoleArn: aws.String(e2eRoleARN), DataSetId: &ds, RevisionId: &rev,
				Table: &types.TableLFTagPolicyAndPermissions{Expression: expr, Permissions: []types.TableTagPolicyLFPermission{types.TableTagPolicyLFPermissionSelect}}}})
			require.Equal(t, types.StateCompleted, j.State, "errors %+v", j.Errors)
			a := onlyAsset(t, c, ds, rev)
			assert.Equal(t, "Table(s) included in LF-tag policy", *a.Name)
			assert.Equal(t, types.AssetTypeLakeFormationDataPermission, a.AssetType)
			lf := a.AssetDetails.LakeFormationDataPermissionAsset
			require.NotNil(t, lf)
			assert.Equal(t, types.LakeFormationDataPermissionTypeLFTagPolicy, lf.LakeFormationDataPermissionType)
			assert.Equal(t, []types.LFPermission{types.LFPermissionSelect}, lf.Permissions)
			assert.Equal(t, e2eRoleARN, *lf.RoleArn)
			p := lf.LakeFormationDataPermissionDetails.LFTagPolicy
			require.NotNil(t, p)
			assert.Equal(t, "123456789012", *p.CatalogId)
			assert.Equal(t, types.LFResourceTypeTable, p.ResourceType)
			assert.Nil(t, p.ResourceDetails.Database)
			require.NotNil(t, p.ResourceDetails.Table)
			assert.Equal(t, "domain", *p.ResourceDetails.Table.Expression[0].TagKey)
			assert.Equal(t, []string{"sales"}, p.ResourceDetails.Table.Expression[0].TagValues)

			_, err := c.CreateJob(ctx, &dataexchange.CreateJobInput{Type: types.TypeImportAssetsFromLakeFormationTagPolicy, Details: &types.RequestDetails{ImportAssetsFromLakeFormationTagPolicy: &types.ImportAssetsFromLakeFormationTagPolicyRequestDetails{
				CatalogId: aws.String("123456789012"), RoleArn: aws.String("arn:aws:iam::123456789012:user/bob"), DataSetId: &ds, RevisionId: &rev,
				Table: &types.TableLFTagPolicyAndPermissions{Expression: expr, Permissions: []types.TableTagPolicyLFPermission{types.TableTagPolicyLFPermissionSelect}}}}})
			wantCode(t, err, "ValidationException")
		})

		t.Run("s3 data access", func(t *testing.T) {
			ds, rev := refTarget(t, c, types.AssetTypeS3DataAccess)
			j := refJob(t, c, types.TypeCreateS3DataAccessFromS3Bucket, &types.RequestDetails{CreateS3DataAccessFromS3Bucket: &types.CreateS3DataAccessFromS3BucketRequestDetails{
				AssetSource: &types.S3DataAccessAssetSourceEntry{Bucket: aws.String("provider-data"), KeyPrefixes: []string{"2025/"}, Keys: []string{"readme.txt"},
					KmsKeysToGrant: []types.KmsKeyToGrant{{KmsKeyArn: aws.String(e2eKMSKey)}}}, DataSetId: &ds, RevisionId: &rev}})
			require.Equal(t, types.StateCompleted, j.State, "errors %+v", j.Errors)
			a := onlyAsset(t, c, ds, rev)
			assert.Equal(t, "provider-data", *a.Name)
			d := a.AssetDetails.S3DataAccessAsset
			require.NotNil(t, d)
			assert.Equal(t, "provider-data", *d.Bucket)
			assert.Equal(t, []string{"2025/"}, d.KeyPrefixes)
			assert.Equal(t, []string{"readme.txt"}, d.Keys)
			assert.Equal(t, e2eKMSKey, *d.KmsKeysToGrant[0].KmsKeyArn)
			assert.Regexp(t, `^adx-`+*a.Id+`-[a-z2-7]{34}-s3alias$`, *d.S3AccessPointAlias)
			assert.Equal(t, "arn:aws:s3:us-east-1:123456789012:accesspoint/adx-"+*a.Id, *d.S3AccessPointArn)

			// The revision quota: 5 S3 data access assets.
			for range 4 {
				refJob(t, c, types.TypeCreateS3DataAccessFromS3Bucket, &types.RequestDetails{CreateS3DataAccessFromS3Bucket: &types.CreateS3DataAccessFromS3BucketRequestDetails{
					AssetSource: &types.S3DataAccessAssetSourceEntry{Bucket: aws.String("provider-data")}, DataSetId: &ds, RevisionId: &rev}})
			}
			_, err := c.CreateJob(ctx, &dataexchange.CreateJobInput{Type: types.TypeCreateS3DataAccessFromS3Bucket, Details: &types.RequestDetails{CreateS3DataAccessFromS3Bucket: &types.CreateS3DataAccessFromS3BucketRequestDetails{
				AssetSource: &types.S3DataAccessAssetSourceEntry{Bucket: aws.String("provider-data")}, DataSetId: &ds, RevisionId: &rev}}})
			assert.Contains(t, wantCode(t, err, "ServiceLimitExceededException").ErrorMessage(), `"Amazon S3 data access assets per revision" (5)`)
		})

		t.Run("api gateway", func(t *testing.T) {
			ds, rev := refTarget(t, c, types.AssetTypeApiGatewayApi)
			spec := []byte(e2eOpenAPISpec)
			details := &types.RequestDetails{ImportAssetFromApiGatewayApi: &types.ImportAssetFromApiGatewayApiRequestDetails{
				ApiId: aws.String(e2eAPIID), ApiName: aws.String("Weather"), ApiSpecificationMd5Hash: aws.String(b64MD5(spec)),
				ApiDescription: aws.String("forecasts"), ProtocolType: types.ProtocolTypeRest, Stage: aws.String("prod"), ApiKey: aws.String("k3y"),
				DataSetId: &ds, RevisionId: &rev}}
			created, err := c.CreateJob(ctx, &dataexchange.CreateJobInput{Type: types.TypeImportAssetFromApiGatewayApi, Details: details})
			require.NoError(t, err)
			resp := created.Details.ImportAssetFromApiGatewayApi
			require.NotNil(t, resp)
			assert.Equal(t, e2eAPIID, aws.ToString(resp.ApiId))
			assert.Equal(t, "Weather", aws.ToString(resp.ApiName))
			assert.Equal(t, "forecasts", aws.ToString(resp.ApiDescription))
			assert.Equal(t, "k3y", aws.ToString(resp.ApiKey))
			assert.Equal(t, b64MD5(spec), aws.ToString(resp.ApiSpecificationMd5Hash))
			assert.Equal(t, types.ProtocolTypeRest, resp.ProtocolType)
			assert.Equal(t, "prod", aws.ToString(resp.Stage))
			assert.Equal(t, ds, aws.ToString(resp.DataSetId))
			assert.Equal(t, rev, aws.ToString(resp.RevisionId))
			require.NotNil(t, resp.ApiSpecificationUploadUrlExpiresAt)
			assert.WithinDuration(t, time.Now().Add(time.Hour), *resp.ApiSpecificationUploadUrlExpiresAt, 2*time.Minute)
			upload := aws.ToString(resp.ApiSpecificationUploadUrl)

			// curl: a body of another MD5 is refused, the specification taken.
			wrong := []byte(strings.Replace(e2eOpenAPISpec, "Weather", "Whether", 1))
			code, out := curl(t, "-T", writeFile(t, "wrong.json", wrong), "-H", "Content-MD5: "+b64MD5(spec), upload)
			assert.Equal(t, http.StatusBadRequest, code, "PUT of a wrong body: %s", out)
			code, out = curl(t, "-T", writeFile(t, "spec.json", spec), "-H", "Content-MD5: "+b64MD5(spec), upload)
			require.Equal(t, http.StatusOK, code, "PUT of the specification: %s", out)
			_, err = c.StartJob(ctx, &dataexchange.StartJobInput{JobId: created.Id})
			require.NoError(t, err)
			j := waitRefJob(t, c, *created.Id)
			require.Equal(t, types.StateCompleted, j.State, "errors %+v", j.Errors)

			a := onlyAsset(t, c, ds, rev)
			assert.Equal(t, jobs.AssetID(*j.Id, 0), *a.Id)
			assert.Equal(t, "Weather", *a.Name)
			assert.Equal(t, types.AssetTypeApiGatewayApi, a.AssetType)
			api := a.AssetDetails.ApiGatewayApiAsset
			require.NotNil(t, api)
			assert.Equal(t, up.URL+"/stage", aws.ToString(api.ApiEndpoint))
			assert.Equal(t, e2eAPIID, aws.ToString(api.ApiId))
			assert.Equal(t, "k3y", aws.ToString(api.ApiKey))
			assert.Equal(t, "Weather", aws.ToString(api.ApiName))
			assert.Equal(t, "forecasts", aws.ToString(api.ApiDescription))
			assert.Equal(t, types.ProtocolTypeRest, api.ProtocolType)
			assert.Equal(t, "prod", aws.ToString(api.Stage))
			require.NotNil(t, api.ApiSpecificationDownloadUrlExpiresAt)
			assert.True(t, api.ApiSpecificationDownloadUrlExpiresAt.After(time.Now()), "download URL expired at %s", api.ApiSpecificationDownloadUrlExpiresAt)
			code, out = curl(t, aws.ToString(api.ApiSpecificationDownloadUrl))
			require.Equal(t, http.StatusOK, code, "GET the specification: %s", out)
			assert.Equal(t, e2eOpenAPISpec, string(out))
			list, err := c.ListRevisionAssets(ctx, &dataexchange.ListRevisionAssetsInput{DataSetId: &ds, RevisionId: &rev})
			require.NoError(t, err)
			assert.NotEmpty(t, aws.ToString(list.Assets[0].AssetDetails.ApiGatewayApiAsset.ApiSpecificationDownloadUrl), "ListRevisionAssets")

			// SendApiAsset on the imported asset reaches the API.
			sent, err := fulfillClient(s, s.Root).SendApiAsset(ctx, &dataexchange.SendApiAssetInput{AssetId: a.Id, DataSetId: &ds, RevisionId: &rev,
				Method: aws.String("POST"), Path: aws.String("/forecast/oslo"), Body: aws.String("{}")})
			require.NoError(t, err)
			assert.Equal(t, "POST /stage/forecast/oslo key=k3y body={}", aws.ToString(sent.Body))

			// A specification that is not OpenAPI 3.0 ends the job in ERROR.
			swagger := []byte(`{"swagger":"2.0","info":{"title":"t","version":"1"},"paths":{}}`)
			details.ImportAssetFromApiGatewayApi.ApiSpecificationMd5Hash = aws.String(b64MD5(swagger))
			created, err = c.CreateJob(ctx, &dataexchange.CreateJobInput{Type: types.TypeImportAssetFromApiGatewayApi, Details: details})
			require.NoError(t, err)
			code, out = curl(t, "-T", writeFile(t, "swagger.json", swagger), "-H", "Content-MD5: "+b64MD5(swagger),
				aws.ToString(created.Details.ImportAssetFromApiGatewayApi.ApiSpecificationUploadUrl))
			require.Equal(t, http.StatusOK, code, "PUT: %s", out)
			_, err = c.StartJob(ctx, &dataexchange.StartJobInput{JobId: created.Id})
			require.NoError(t, err)
			j = waitRefJob(t, c, *created.Id)
			require.Equal(t, types.StateError, j.State)
			require.Len(t, j.Errors, 1)
			assert.Equal(t, types.CodeValidationException, j.Errors[0].Code)
			assert.Contains(t, aws.ToString(j.Errors[0].Message), "Swagger 2.0")

			details.ImportAssetFromApiGatewayApi.Stage = aws.String("a/b")
			_, err = c.CreateJob(ctx, &dataexchange.CreateJobInput{Type: types.TypeImportAssetFromApiGatewayApi, Details: details})
			assert.Contains(t, wantCode(t, err, "ValidationException").ErrorMessage(), "stage name")
		})

		t.Run("send api asset", func(t *testing.T) {
			ds, rev := refTarget(t, c, types.AssetTypeApiGatewayApi)
			key := "k3y"
			d, _ := json.Marshal(map[string]any{"ApiGatewayApiAsset": apiasset.Details{ApiEndpoint: "https://" + e2eAPIID + ".execute-api.us-east-1.amazonaws.com/prod",
				ApiId: e2eAPIID, ApiKey: &key, ApiName: "Weather", ProtocolType: "REST", Stage: "prod"}})
			now := resource.Now()
			asset := resource.Asset{AccountID: s.Root.AccountID, DataSetID: ds, RevisionID: rev, ID: resource.NewID(), Name: "Weather",
				AssetType: resource.AssetTypeAPIGatewayAPI, Details: d, CreatedAt: now, UpdatedAt: now}
			require.NoError(t, s.openStore(t).InsertAsset(ctx, asset))

			out, err := fulfillClient(s, s.Root).SendApiAsset(ctx, &dataexchange.SendApiAssetInput{AssetId: &asset.ID, DataSetId: &ds, RevisionId: &rev,
				Method: aws.String("PATCH"), Path: aws.String("/forecast"), QueryStringParameters: map[string]string{"city": "oslo"}, Body: aws.String("hi")})
			require.NoError(t, err)
			assert.Equal(t, "PATCH /stage/forecast?city=oslo key=k3y body=hi", aws.ToString(out.Body))
			assert.Equal(t, "yes", out.ResponseHeaders["x-upstream"])

			other := s.createAccount(t, "")
			_, err = fulfillClient(s, other).SendApiAsset(ctx, &dataexchange.SendApiAssetInput{AssetId: &asset.ID, DataSetId: &ds, RevisionId: &rev})
			wantCode(t, err, "ResourceNotFoundException")
		})

		// One AWS CLI call per type.
		if len(clis) == 0 {
			return
		}
		cli := clis[0]
		t.Run(cli.name(), func(t *testing.T) {
			t.Logf("using %s (aws-cli/%s)", cli.path, cli.version)
			for _, tc := range []struct {
				jobType   string
				assetType types.AssetType
				details   func(ds, rev string) string
				fails     string
				upload    []byte // PUT to the ApiSpecificationUploadUrl
			}{
				{"IMPORT_ASSETS_FROM_REDSHIFT_DATA_SHARES", types.AssetTypeRedshiftDataShare, func(ds, rev string) string {
					return fmt.Sprintf(`{"ImportAssetsFromRedshiftDataShares":{"AssetSources":[{"DataShareArn":%q}],"DataSetId":%q,"RevisionId":%q}}`, e2eShareARN, ds, rev)
				}, "", nil},
				{"IMPORT_ASSETS_FROM_LAKE_FORMATION_TAG_POLICY", types.AssetTypeLakeFormationDataPermission, func(ds, rev string) string {
					return fmt.Sprintf(`{"ImportAssetsFromLakeFormationTagPolicy":{"CatalogId":"123456789012","RoleArn":%q,"DataSetId":%q,"RevisionId":%q,
						"Database":{"Expression":[{"TagKey":"domain","TagValues":["sales"]}],"Permissions":["DESCRIBE"]}}}`, e2eRoleARN, ds, rev)
				}, "", nil},
				{"CREATE_S3_DATA_ACCESS_FROM_S3_BUCKET", types.AssetTypeS3DataAccess, func(ds, rev string) string {
					return fmt.Sprintf(`{"CreateS3DataAccessFromS3Bucket":{"AssetSource":{"Bucket":"provider-data"},"DataSetId":%q,"RevisionId":%q}}`, ds, rev)
				}, "", nil},
				{"IMPORT_ASSET_FROM_API_GATEWAY_API", types.AssetTypeApiGatewayApi, func(ds, rev string) string {
					return fmt.Sprintf(`{"ImportAssetFromApiGatewayApi":{"ApiId":%q,"ApiName":"Weather","ApiSpecificationMd5Hash":%q,
						"ProtocolType":"REST","Stage":"prod","DataSetId":%q,"RevisionId":%q}}`, e2eAPIID, b64MD5([]byte(e2eOpenAPISpec)), ds, rev)
				}, "", []byte(e2eOpenAPISpec)},
			} {
				ds, rev := refTarget(t, c, tc.assetType)
				args := []string{"create-job", "--type", tc.jobType, "--details", tc.details(ds, rev)}
				if tc.fails != "" {
					cli.fails(t, s, s.Root, tc.fails, args...)
					continue
				}
				out := cli.ok(t, s, s.Root, args...)
				assert.Equal(t, "WAITING", str(out, "State"), tc.jobType)
				assert.Equal(t, tc.jobType, str(out, "Type"))
				if tc.upload != nil {
					d, _ := out["Details"].(map[string]any)
					api, _ := d["ImportAssetFromApiGatewayApi"].(map[string]any)
					code, body := curl(t, "-T", writeFile(t, "spec.json", tc.upload), "-H", "Content-MD5: "+b64MD5(tc.upload), str(api, "ApiSpecificationUploadUrl"))
					require.Equal(t, http.StatusOK, code, "PUT to the CLI's ApiSpecificationUploadUrl: %s", body)
				}
				_, err := c.StartJob(ctx, &dataexchange.StartJobInput{JobId: aws.String(str(out, "Id"))})
				require.NoError(t, err)
				j := waitRefJob(t, c, str(out, "Id"))
				assert.Equal(t, types.StateCompleted, j.State, "%s: %+v", tc.jobType, j.Errors)
				a := onlyAsset(t, c, ds, rev)
				assert.Equal(t, tc.assetType, a.AssetType)
			}
		})
	})
}
