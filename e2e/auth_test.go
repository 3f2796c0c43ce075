package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rootState is what the root account can see, for checking that refused
// requests changed nothing.
type rootState struct {
	DataSets  []dataSetView
	Revisions []revisionView
	Assets    []assetView
	Tags      map[string]map[string]string // by ARN
}

func snapshot(t *testing.T, c *dataexchange.Client) rootState {
	t.Helper()
	ctx := context.Background()
	st := rootState{Tags: map[string]map[string]string{}}
	dsl, err := c.ListDataSets(ctx, &dataexchange.ListDataSetsInput{MaxResults: 200})
	require.NoError(t, err)
	for _, d := range dsl.DataSets {
		st.DataSets = append(st.DataSets, dsFromEntry(d))
		tags, err := c.ListTagsForResource(ctx, &dataexchange.ListTagsForResourceInput{ResourceArn: d.Arn})
		require.NoError(t, err)
		st.Tags[aws.ToString(d.Arn)] = tags.Tags
		rl, err := c.ListDataSetRevisions(ctx, &dataexchange.ListDataSetRevisionsInput{DataSetId: d.Id, MaxResults: 200})
		require.NoError(t, err)
		for _, r := range rl.Revisions {
			st.Revisions = append(st.Revisions, revFromEntry(r))
			tags, err := c.ListTagsForResource(ctx, &dataexchange.ListTagsForResourceInput{ResourceArn: r.Arn})
			require.NoError(t, err)
			st.Tags[aws.ToString(r.Arn)] = tags.Tags
			al, err := c.ListRevisionAssets(ctx, &dataexchange.ListRevisionAssetsInput{DataSetId: d.Id, RevisionId: r.Id, MaxResults: 200})
			require.NoError(t, err)
			for _, a := range al.Assets {
				st.Assets = append(st.Assets, assetFromEntry(a))
			}
		}
	}
	return st
}

// fixture creates a data set with tags, a revision with tags and two assets
// for the account c signs as.
type fixture struct {
	DataSetID, DataSetArn   string
	RevisionID, RevisionArn string
	AssetIDs                []string
}

func makeFixture(t *testing.T, s *server, c *dataexchange.Client, account string) fixture {
	t.Helper()
	ctx := context.Background()
	ds, err := c.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{
		AssetType: types.AssetTypeS3Snapshot, Name: aws.String("private"), Description: aws.String("owner only"),
		Tags: map[string]string{"secret": "yes"},
	})
	require.NoError(t, err)
	rev, err := c.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: ds.Id, Comment: aws.String("r"), Tags: map[string]string{"rev": "1"}})
	require.NoError(t, err)
	f := fixture{aws.ToString(ds.Id), aws.ToString(ds.Arn), aws.ToString(rev.Id), aws.ToString(rev.Arn), nil}
	for _, a := range s.insertAssets(t, account, f.DataSetID, f.RevisionID, "x.csv", "y.csv") {
		f.AssetIDs = append(f.AssetIDs, a.ID)
	}
	return f
}

// attempts runs every operation against f's resources with client c and
// hands each error to check.
func attempts(ctx context.Context, c *dataexchange.Client, f fixture, check func(op string, err error)) {
	ds, rev, asset := aws.String(f.DataSetID), aws.String(f.RevisionID), aws.String(f.AssetIDs[0])
	var err error
	_, err = c.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: ds})
	check("GetDataSet", err)
	_, err = c.UpdateDataSet(ctx, &dataexchange.UpdateDataSetInput{DataSetId: ds, Name: aws.String("pwned")})
	check("UpdateDataSet", err)
	_, err = c.ListDataSetRevisions(ctx, &dataexchange.ListDataSetRevisionsInput{DataSetId: ds})
	check("ListDataSetRevisions", err)
	_, err = c.CreateRevision(ctx, &dataexchange.CreateRevisionInput{DataSetId: ds})
	check("CreateRevision", err)
	_, err = c.GetRevision(ctx, &dataexchange.GetRevisionInput{DataSetId: ds, RevisionId: rev})
	check("GetRevision", err)
	_, err = c.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{DataSetId: ds, RevisionId: rev, Comment: aws.String("pwned")})
	check("UpdateRevision(Comment)", err)
	_, err = c.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{DataSetId: ds, RevisionId: rev, Finalized: aws.Bool(true)})
	check("UpdateRevision(Finalized)", err)
	_, err = c.RevokeRevision(ctx, &dataexchange.RevokeRevisionInput{DataSetId: ds, RevisionId: rev, RevocationComment: aws.String("pwned pwned pwned")})
	check("RevokeRevision", err)
	_, err = c.ListRevisionAssets(ctx, &dataexchange.ListRevisionAssetsInput{DataSetId: ds, RevisionId: rev})
	check("ListRevisionAssets", err)
	_, err = c.GetAsset(ctx, &dataexchange.GetAssetInput{DataSetId: ds, RevisionId: rev, AssetId: asset})
	check("GetAsset", err)
	_, err = c.UpdateAsset(ctx, &dataexchange.UpdateAssetInput{DataSetId: ds, RevisionId: rev, AssetId: asset, Name: aws.String("pwned")})
	check("UpdateAsset", err)
	_, err = c.DeleteAsset(ctx, &dataexchange.DeleteAssetInput{DataSetId: ds, RevisionId: rev, AssetId: asset})
	check("DeleteAsset", err)
	for _, arn := range []string{f.DataSetArn, f.RevisionArn} {
		_, err = c.ListTagsForResource(ctx, &dataexchange.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		check("ListTagsForResource", err)
		_, err = c.TagResource(ctx, &dataexchange.TagResourceInput{ResourceArn: aws.String(arn), Tags: map[string]string{"pwned": "yes"}})
		check("TagResource", err)
		_, err = c.UntagResource(ctx, &dataexchange.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"secret", "rev"}})
		check("UntagResource", err)
	}
	_, err = c.DeleteRevision(ctx, &dataexchange.DeleteRevisionInput{DataSetId: ds, RevisionId: rev})
	check("DeleteRevision", err)
	_, err = c.DeleteDataSet(ctx, &dataexchange.DeleteDataSetInput{DataSetId: ds})
	check("DeleteDataSet", err)
}

// TestAuthRejected checks SigV4 failures: a wrong secret, an unknown key, no
// signature, a malformed or stale one. Each gets a 403 with the exception
// AWS uses, and nothing changes.
func TestAuthRejected(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b)
		root := s.client(s.Root)
		ctx := context.Background()
		f := makeFixture(t, s, root, s.Root.AccountID)
		before := snapshot(t, root)

		for _, tc := range []struct {
			name string
			c    creds
			code string
		}{
			{"wrong secret", creds{AccessKeyID: s.Root.AccessKeyID, SecretAccessKey: "not-the-secret"}, "InvalidSignatureException"},
			{"unknown key", creds{AccessKeyID: "AKIAUNKNOWNKEY000000", SecretAccessKey: s.Root.SecretAccessKey}, "UnrecognizedClientException"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				bad := s.client(tc.c)
				attempts(ctx, bad, f, func(op string, err error) {
					t.Helper()
					requireCode(t, err, http.StatusForbidden, tc.code)
				})
				_, err := bad.ListDataSets(ctx, &dataexchange.ListDataSetsInput{})
				requireCode(t, err, http.StatusForbidden, tc.code)
				_, err = bad.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{AssetType: types.AssetTypeS3Snapshot, Name: aws.String("n"), Description: aws.String("d")})
				requireCode(t, err, http.StatusForbidden, tc.code)
			})
		}

		t.Run("raw HTTP", func(t *testing.T) {
			dsPath := "/v1/data-sets/" + f.DataSetID
			tagPath := "/tags/" + url.PathEscape(f.DataSetArn)
			createBody := `{"AssetType":"S3_SNAPSHOT","Name":"n","Description":"d"}`

			// No Authorization at all.
			for _, r := range []struct{ method, path, body string }{
				{"GET", "/v1/data-sets", ""},
				{"POST", "/v1/data-sets", createBody},
				{"GET", dsPath, ""},
				{"PATCH", dsPath, `{"Name":"pwned"}`},
				{"DELETE", dsPath, ""},
				{"POST", tagPath, `{"tags":{"pwned":"yes"}}`},
				{"DELETE", tagPath + "?tagKeys=secret", ""},
			} {
				resp := s.raw(t, r.method, r.path, r.body, nil)
				checkRawError(t, resp, http.StatusForbidden, "MissingAuthenticationTokenException")
			}

			// An Authorization header that is not a complete SigV4 one.
			for _, h := range []string{
				"AWS4-HMAC-SHA256",
				"AWS4-HMAC-SHA256 Credential=" + s.Root.AccessKeyID,
				"AWS4-HMAC-SHA256 Credential=" + s.Root.AccessKeyID + "/20260101/us-east-1/dataexchange/aws4_request, SignedHeaders=host;x-amz-date",
			} {
				resp := s.raw(t, "GET", "/v1/data-sets", "", map[string]string{"Authorization": h, "X-Amz-Date": time.Now().UTC().Format("20060102T150405Z")})
				checkRawError(t, resp, http.StatusForbidden, "IncompleteSignatureException")
			}

			// Properly signed requests: fine when fresh, refused when the
			// signature is more than 15 minutes old or the body was altered.
			resp := s.signed(t, s.Root, "GET", "/v1/data-sets", "", time.Now(), nil)
			assert.Equal(t, http.StatusOK, resp.StatusCode, "a freshly signed raw request: %s", resp.Body)
			resp = s.signed(t, s.Root, "DELETE", dsPath, "", time.Now().Add(-20*time.Minute), nil)
			checkRawError(t, resp, http.StatusForbidden, "InvalidSignatureException")
			resp = s.signed(t, s.Root, "DELETE", dsPath, "", time.Now().Add(20*time.Minute), nil)
			checkRawError(t, resp, http.StatusForbidden, "InvalidSignatureException")
			resp = s.signed(t, s.Root, "PATCH", dsPath, `{"Name":"good"}`, time.Now(), func(r *http.Request) {
				r.Body = io.NopCloser(strings.NewReader(`{"Name":"evil"}`))
			})
			checkRawError(t, resp, http.StatusForbidden, "InvalidSignatureException")
		})

		// Nothing changed.
		assert.Equal(t, before, snapshot(t, root))

		// Health endpoints need no authentication.
		for _, p := range []string{"/healthz", "/readyz"} {
			resp := s.raw(t, "GET", p, "", nil)
			assert.Equal(t, http.StatusOK, resp.StatusCode, p)
		}

		// The root secret is never logged, nor stored in clear.
		assert.NotContains(t, s.stdout.String()+s.stderr.String(), s.Root.SecretAccessKey, "the server's output shows the root secret")
		if s.Database == "" {
			files, _ := filepath.Glob(filepath.Join(s.DataDir, "*"))
			require.NotEmpty(t, files)
			for _, p := range files {
				data, err := os.ReadFile(p)
				if err != nil {
					continue
				}
				assert.False(t, bytes.Contains(data, []byte(s.Root.SecretAccessKey)), "%s holds the root secret in clear", p)
			}
		}
	})
}

// TestAccountIsolation checks that an account sees none of another's
// resources, and can neither read, change, tag nor delete them.
func TestAccountIsolation(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b)
		root := s.client(s.Root)
		ctx := context.Background()
		rootFix := makeFixture(t, s, root, s.Root.AccountID)

		otherCreds := s.createAccount(t, "")
		require.NotEqual(t, s.Root.AccountID, otherCreds.AccountID)
		other := s.client(otherCreds)
		before := snapshot(t, root)

		// The other account starts with nothing.
		list, err := other.ListDataSets(ctx, &dataexchange.ListDataSetsInput{})
		require.NoError(t, err)
		assert.Empty(t, list.DataSets)

		attempts(ctx, other, rootFix, func(op string, err error) {
			t.Helper()
			require.Error(t, err, "%s on another account's resource succeeded", op)
			assert.Equal(t, http.StatusNotFound, httpStatus(err), "%s: %v", op, err)
			if strings.HasSuffix(op, "DataSet") || op == "ListDataSetRevisions" || op == "CreateRevision" {
				requireNotFound(t, err, types.ResourceTypeDataSet, rootFix.DataSetID)
			} else {
				requireCode(t, err, http.StatusNotFound, "ResourceNotFoundException")
			}
		})
		// An ARN forged with the other account's id but root's resource ids.
		forged := dataSetARN(otherCreds.AccountID, rootFix.DataSetID)
		_, err = other.TagResource(ctx, &dataexchange.TagResourceInput{ResourceArn: aws.String(forged), Tags: map[string]string{"pwned": "yes"}})
		requireCode(t, err, http.StatusNotFound, "ResourceNotFoundException")
		_, err = other.ListTagsForResource(ctx, &dataexchange.ListTagsForResourceInput{ResourceArn: aws.String(forged)})
		requireCode(t, err, http.StatusNotFound, "ResourceNotFoundException")

		assert.Equal(t, before, snapshot(t, root), "another account changed root's resources")

		// The other account's own resources are just as private.
		otherFix := makeFixture(t, s, other, otherCreds.AccountID)
		assert.Equal(t, dataSetARN(otherCreds.AccountID, otherFix.DataSetID), otherFix.DataSetArn)
		otherBefore := snapshot(t, other)
		require.Len(t, otherBefore.DataSets, 1)
		attempts(ctx, root, otherFix, func(op string, err error) {
			t.Helper()
			require.Error(t, err, "%s on another account's resource succeeded", op)
			assert.Equal(t, http.StatusNotFound, httpStatus(err), "%s: %v", op, err)
		})
		assert.Equal(t, otherBefore, snapshot(t, other))
		assert.Equal(t, before, snapshot(t, root))
	})
}

// raw sends an unsigned request.
func (s *server) raw(t *testing.T, method, path, body string, headers map[string]string) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

// signed sends a request SigV4-signed at signingTime; tamper, if not nil,
// alters it after signing.
func (s *server) signed(t *testing.T, c creds, method, path, body string, signingTime time.Time, tamper func(*http.Request)) rawResponse {
	t.Helper()
	req, err := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256([]byte(body))
	err = v4.NewSigner().SignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey},
		req, hex.EncodeToString(sum[:]), "dataexchange", s.Region, signingTime)
	require.NoError(t, err)
	if tamper != nil {
		tamper(req)
	}
	return do(t, req)
}

type rawResponse struct {
	StatusCode int
	Header     http.Header
	Body       string
}

func do(t *testing.T, req *http.Request) rawResponse {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return rawResponse{resp.StatusCode, resp.Header, string(body)}
}

// checkRawError asserts the AWS error shape of a raw response.
func checkRawError(t *testing.T, resp rawResponse, status int, code string) {
	t.Helper()
	assert.Equal(t, status, resp.StatusCode, "status (body %s)", resp.Body)
	errType := resp.Header.Get("X-Amzn-ErrorType")
	if i := strings.IndexByte(errType, ':'); i >= 0 {
		errType = errType[:i]
	}
	assert.Equal(t, code, errType, "X-Amzn-ErrorType (body %s)", resp.Body)
	assert.NotEmpty(t, resp.Header.Get("X-Amzn-RequestId"), "X-Amzn-RequestId")
	assert.Contains(t, resp.Header.Get("Content-Type"), "application/json")
	var body map[string]any
	if assert.NoError(t, json.Unmarshal([]byte(resp.Body), &body), "error body %q", resp.Body) {
		msg, _ := body["Message"].(string)
		if msg == "" {
			msg, _ = body["message"].(string)
		}
		assert.NotEmpty(t, msg, "error body has no Message: %s", resp.Body)
	}
}
