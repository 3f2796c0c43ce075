package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/require"

	"github.com/wharf-dev/wharf/internal/pgtest"
)

// consoleSession is what POST /console/api/session returns.
type consoleSession struct {
	AccountId   string
	Credentials struct {
		AccessKeyId, SecretAccessKey, SessionToken, Expiration string
	}
}

// consoleCall sends a request to the server signed, as the console's
// browser code signs it, with the SDK's SigV4 signer (token included when
// c carries one), and returns the status, the exception and the body.
func (s *server) consoleCall(t *testing.T, method, path string, c aws.Credentials, body string) (int, string, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256([]byte(body))
	require.NoError(t, v4.NewSigner().SignHTTP(context.Background(), c, req, hex.EncodeToString(sum[:]), "dataexchange", s.Region, time.Now()))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), b
}

// signIn creates a console session with a long-term key.
func (s *server) signIn(t *testing.T, c creds, body string) consoleSession {
	t.Helper()
	status, exception, b := s.consoleCall(t, http.MethodPost, "/console/api/session",
		aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey}, body)
	require.Equal(t, http.StatusOK, status, "sign-in: %s %s", exception, b)
	var out consoleSession
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func (cs consoleSession) creds() aws.Credentials {
	return aws.Credentials{AccessKeyID: cs.Credentials.AccessKeyId, SecretAccessKey: cs.Credentials.SecretAccessKey,
		SessionToken: cs.Credentials.SessionToken}
}

// sessionClient is the SDK's client with the session's credentials, as
// credentials.NewStaticCredentialsProvider(id, secret, token) gives them.
func (s *server) sessionClient(cs consoleSession) *dataexchange.Client {
	return dataexchange.New(dataexchange.Options{
		Region:       s.Region,
		BaseEndpoint: aws.String(s.URL),
		Credentials: credentials.NewStaticCredentialsProvider(cs.Credentials.AccessKeyId,
			cs.Credentials.SecretAccessKey, cs.Credentials.SessionToken),
		RetryMaxAttempts: 1,
	})
}

func wantAWSError(t *testing.T, what string, err error, code, message string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("%s: got %v, want %s", what, err, code)
	}
	if ae.ErrorCode() != code || (message != "" && ae.ErrorMessage() != message) {
		t.Errorf("%s: got %s %q, want %s %q", what, ae.ErrorCode(), ae.ErrorMessage(), code, message)
	}
}

const (
	invalidTokenMessage = "The security token included in the request is invalid."
	expiredTokenMessage = "The security token included in the request is expired"
)

func TestConsoleSessions(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, serverOptions{Args: []string{"--test-console-session-min", "1s"}})
		ctx := context.Background()
		other := s.createAccount(t, "")
		otherDS, err := s.client(other).CreateDataSet(ctx, &dataexchange.CreateDataSetInput{
			AssetType: types.AssetTypeS3Snapshot, Name: aws.String("other's"), Description: aws.String("d")})
		require.NoError(t, err)

		// Sign in with the root's long-term key; the session acts as root.
		cs := s.signIn(t, s.Root, "{}")
		require.Equal(t, s.Root.AccountID, cs.AccountId)
		require.True(t, strings.HasPrefix(cs.Credentials.AccessKeyId, "ASIA"), cs.Credentials.AccessKeyId)
		exp, err := time.Parse(time.RFC3339, cs.Credentials.Expiration)
		require.NoError(t, err)
		if d := time.Until(exp); d < 11*time.Hour+59*time.Minute || d > 12*time.Hour {
			t.Errorf("the default session ends in %s, want 12h", d)
		}
		sc := s.sessionClient(cs)
		mine, err := sc.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{
			AssetType: types.AssetTypeS3Snapshot, Name: aws.String("mine"), Description: aws.String("d")})
		require.NoError(t, err)
		require.Contains(t, aws.ToString(mine.Arn), ":"+s.Root.AccountID+":")
		list, err := sc.ListDataSets(ctx, &dataexchange.ListDataSetsInput{})
		require.NoError(t, err)
		require.Len(t, list.DataSets, 1)
		require.Equal(t, aws.ToString(mine.Id), aws.ToString(list.DataSets[0].Id))
		_, err = sc.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: otherDS.Id})
		wantAWSError(t, "another account's data set", err, "ResourceNotFoundException", "")
		_, err = sc.DeleteDataSet(ctx, &dataexchange.DeleteDataSetInput{DataSetId: otherDS.Id})
		wantAWSError(t, "deleting another account's data set", err, "ResourceNotFoundException", "")
		_, err = s.client(other).GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: otherDS.Id})
		require.NoError(t, err, "the other account's data set survived")

		// A wrong secret is refused with the API's message.
		status, exception, body := s.consoleCall(t, http.MethodPost, "/console/api/session",
			aws.Credentials{AccessKeyID: s.Root.AccessKeyID, SecretAccessKey: "wrong-secret-wrong-secret-wrong-secret00"}, "{}")
		require.Equal(t, http.StatusForbidden, status)
		require.Equal(t, "InvalidSignatureException", exception)
		require.Contains(t, string(body), "The request signature we calculated does not match the signature you provided.")
		// An unknown key, too.
		status, exception, _ = s.consoleCall(t, http.MethodPost, "/console/api/session",
			aws.Credentials{AccessKeyID: "AKIANOSUCHKEY0000000", SecretAccessKey: "x"}, "{}")
		require.Equal(t, http.StatusForbidden, status)
		require.Equal(t, "UnrecognizedClientException", exception)

		// A session can't create a session.
		status, exception, body = s.consoleCall(t, http.MethodPost, "/console/api/session", cs.creds(), "{}")
		require.Equal(t, http.StatusForbidden, status, "%s", body)
		require.Equal(t, "AccessDeniedException", exception)

		// A missing or wrong token is refused; the secret alone is nothing.
		noToken := dataexchange.New(dataexchange.Options{Region: s.Region, BaseEndpoint: aws.String(s.URL), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(cs.Credentials.AccessKeyId, cs.Credentials.SecretAccessKey, "")})
		_, err = noToken.ListDataSets(ctx, &dataexchange.ListDataSetsInput{})
		wantAWSError(t, "no token", err, "UnrecognizedClientException", invalidTokenMessage)
		wrong := cs
		wrong.Credentials.SessionToken += "x"
		_, err = s.sessionClient(wrong).ListDataSets(ctx, &dataexchange.ListDataSetsInput{})
		wantAWSError(t, "a wrong token", err, "UnrecognizedClientException", invalidTokenMessage)

		// Sign-out ends the session; another session of the account lives on.
		second := s.signIn(t, s.Root, "")
		status, exception, body = s.consoleCall(t, http.MethodDelete, "/console/api/session", cs.creds(), "")
		require.Equal(t, http.StatusNoContent, status, "sign-out: %s %s", exception, body)
		_, err = sc.ListDataSets(ctx, &dataexchange.ListDataSetsInput{})
		wantAWSError(t, "after sign-out", err, "UnrecognizedClientException", invalidTokenMessage)
		_, err = s.sessionClient(second).ListDataSets(ctx, &dataexchange.ListDataSetsInput{})
		require.NoError(t, err, "the other session after the sign-out")

		// An expired session is refused as expired (a 1 s minimum here).
		short := s.signIn(t, other, `{"DurationSeconds": 1}`)
		require.Equal(t, other.AccountID, short.AccountId)
		time.Sleep(1500 * time.Millisecond)
		_, err = s.sessionClient(short).ListDataSets(ctx, &dataexchange.ListDataSetsInput{})
		wantAWSError(t, "an expired session", err, "ExpiredTokenException", expiredTokenMessage)

		// Durations outside the bounds are refused.
		status, exception, _ = s.consoleCall(t, http.MethodPost, "/console/api/session",
			aws.Credentials{AccessKeyID: s.Root.AccessKeyID, SecretAccessKey: s.Root.SecretAccessKey}, `{"DurationSeconds": 43201}`)
		require.Equal(t, http.StatusBadRequest, status)
		require.Equal(t, "ValidationException", exception)

		// An operator signs every session of an account out at once.
		third := s.signIn(t, s.Root, "")
		out, errOut, err := s.admin(t, "sessions", "revoke", "--account", s.Root.AccountID)
		require.NoError(t, err, errOut)
		var revoked struct {
			AccountId string
			Revoked   int
		}
		require.NoError(t, json.Unmarshal([]byte(out), &revoked), out)
		require.Equal(t, 2, revoked.Revoked, "the live sessions were second and third") // cs was signed out
		for _, c := range []consoleSession{second, third} {
			_, err = s.sessionClient(c).ListDataSets(ctx, &dataexchange.ListDataSetsInput{})
			wantAWSError(t, "after wharf sessions revoke", err, "UnrecognizedClientException", invalidTokenMessage)
		}
		_, errOut, err = s.admin(t, "sessions", "revoke", "--account", "999999999999")
		require.Error(t, err, "revoking the sessions of a missing account")
		require.Contains(t, errOut, "999999999999")

		// The audit log shows the sign-in and sign-out.
		out, errOut, err = s.admin(t, "audit", "--account", s.Root.AccountID, "--operation", "DeleteConsoleSession")
		require.NoError(t, err, errOut)
		require.Contains(t, out, cs.Credentials.AccessKeyId)
	})
}

// Sign-out reaches every replica at once: the session lives in the shared
// database.
func TestConsoleSignOutOnEveryReplica(t *testing.T) {
	t.Parallel()
	db := pgtest.URL(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := []string{"WHARF_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key)}
	pg := backends[1]
	one := startServer(t, pg, serverOptions{Database: &db, Env: env})
	two := startServer(t, pg, serverOptions{Database: &db, Env: env})
	cs := one.signIn(t, one.Root, "{}")
	ctx := context.Background()
	_, err := two.sessionClient(cs).ListDataSets(ctx, &dataexchange.ListDataSetsInput{})
	require.NoError(t, err, "the other replica takes the session")
	status, _, body := two.consoleCall(t, http.MethodDelete, "/console/api/session", cs.creds(), "")
	require.Equal(t, http.StatusNoContent, status, "%s", body)
	_, err = one.sessionClient(cs).ListDataSets(ctx, &dataexchange.ListDataSetsInput{})
	wantAWSError(t, "on the first replica after sign-out on the second", err, "UnrecognizedClientException", invalidTokenMessage)
}

func TestConsolePagesAndSwitch(t *testing.T) {
	t.Parallel()
	b := backends[0]
	s := startServer(t, b, serverOptions{Args: []string{"--console-session-duration", "2h"}})
	get := func(s *server, path string) (*http.Response, string) {
		t.Helper()
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get(s.URL + path)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, string(body)
	}
	resp, body := get(s, "/console/config.json")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.JSONEq(t, `{"Region":"us-east-1","SessionDurationSeconds":7200}`, body)
	resp, body = get(s, "/console/data-sets/whatever")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Contains(t, body, "<html")
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	require.Contains(t, resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	require.Empty(t, resp.Header.Values("Set-Cookie"))
	resp, _ = get(s, "/console")
	require.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
	require.Equal(t, "/console/", resp.Header.Get("Location"))
	// The configured duration caps sessions.
	status, exception, _ := s.consoleCall(t, http.MethodPost, "/console/api/session",
		aws.Credentials{AccessKeyID: s.Root.AccessKeyID, SecretAccessKey: s.Root.SecretAccessKey}, `{"DurationSeconds": 7201}`)
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "ValidationException", exception)
	cs := s.signIn(t, s.Root, "")
	exp, err := time.Parse(time.RFC3339, cs.Credentials.Expiration)
	require.NoError(t, err)
	require.InDelta(t, 2*time.Hour.Seconds(), time.Until(exp).Seconds(), 60)

	// --console=false (here from the environment) turns the console and
	// its sessions off; the session issued before is refused.
	off := s.restart(t, b, serverOptions{Env: []string{"WHARF_CONSOLE=false"}})
	for _, p := range []string{"/console/", "/console/config.json"} {
		resp, _ := get(off, p)
		require.Equal(t, http.StatusForbidden, resp.StatusCode, p) // no operation, and unsigned
		require.Equal(t, "MissingAuthenticationTokenException", resp.Header.Get("X-Amzn-ErrorType"), p)
	}
	status, exception, _ = off.consoleCall(t, http.MethodPost, "/console/api/session",
		aws.Credentials{AccessKeyID: off.Root.AccessKeyID, SecretAccessKey: off.Root.SecretAccessKey}, "{}")
	require.Equal(t, http.StatusNotFound, status)
	require.Equal(t, "UnknownOperationException", exception)
	_, err = off.sessionClient(cs).ListDataSets(context.Background(), &dataexchange.ListDataSetsInput{})
	wantAWSError(t, "a session with the console off", err, "UnrecognizedClientException", "")
}

// With an S3 asset store, the console may fetch from the store's endpoint
// (signed-URL uploads and downloads), and only from it besides itself.
func TestConsoleCSPNamesTheS3AssetStore(t *testing.T) {
	t.Parallel()
	minio, env := s3Env(t)
	bucket := minio.NewBucket(t)
	s := startServer(t, backends[0], serverOptions{Env: env, Args: []string{"--asset-store", "s3://" + bucket + "/assets"}})
	resp, err := http.Get(s.URL + "/console/")
	require.NoError(t, err)
	resp.Body.Close()
	origin, err := url.Parse(minio.URL)
	require.NoError(t, err)
	csp := resp.Header.Get("Content-Security-Policy")
	require.Contains(t, csp, "connect-src 'self' http://"+origin.Host+";")
}
