package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAdminCommands runs `wharf accounts create` and `wharf keys create`
// against the store of a running server: what they print works at once.
func TestAdminCommands(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b)
		ctx := context.Background()

		// A new account with a random id.
		alice := s.createAccount(t, "")
		assert.Regexp(t, `^\d{12}$`, alice.AccountID)
		assert.NotEqual(t, s.Root.AccountID, alice.AccountID)
		ac := s.client(alice)
		ds, err := ac.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{
			AssetType: types.AssetTypeS3Snapshot, Name: aws.String("alice's"), Description: aws.String("d"),
		})
		require.NoError(t, err, "the printed credentials must work at once")
		assert.Equal(t, dataSetARN(alice.AccountID, aws.ToString(ds.Id)), aws.ToString(ds.Arn), "the ARN names the new account")

		// A new account with a chosen id.
		bob := s.createAccount(t, "210987654321")
		assert.Equal(t, "210987654321", bob.AccountID)
		list, err := s.client(bob).ListDataSets(ctx, &dataexchange.ListDataSetsInput{})
		require.NoError(t, err)
		assert.Empty(t, list.DataSets)

		// The same id again is refused, and changes nothing.
		out, errOut, err := s.admin(t, "accounts", "create", "--id", "210987654321")
		assert.Error(t, err, "creating an existing account must fail; stdout %q", out)
		assert.NotEmpty(t, errOut, "the failure must say why")
		_, err = s.client(bob).ListDataSets(ctx, &dataexchange.ListDataSetsInput{})
		require.NoError(t, err, "bob's key still works")

		// A second key for alice works at once and sees alice's data set; the
		// first key keeps working.
		alice2 := s.createKey(t, alice.AccountID)
		assert.NotEqual(t, alice.AccessKeyID, alice2.AccessKeyID)
		assert.NotEqual(t, alice.SecretAccessKey, alice2.SecretAccessKey)
		got, err := s.client(alice2).GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: ds.Id})
		require.NoError(t, err)
		assert.Equal(t, "alice's", aws.ToString(got.Name))
		_, err = ac.GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: ds.Id})
		require.NoError(t, err)

		// A key for the root account.
		root2 := s.createKey(t, s.Root.AccountID)
		list, err = s.client(root2).ListDataSets(ctx, &dataexchange.ListDataSetsInput{})
		require.NoError(t, err)
		assert.Empty(t, list.DataSets, "root sees none of alice's data sets")

		// Keys for an account that does not exist, or a malformed id, are
		// refused.
		for _, args := range [][]string{
			{"keys", "create", "--account", "999999999999"},
			{"keys", "create", "--account", "12345"},
			{"keys", "create"},
			{"accounts", "create", "--id", "abc"},
		} {
			out, errOut, err := s.admin(t, args...)
			assert.Error(t, err, "wharf %s must fail; stdout %q", strings.Join(args, " "), out)
			assert.NotEmpty(t, errOut, "wharf %s must say why", strings.Join(args, " "))
		}

		// Secrets are not stored in clear (the SQLite file is checked in
		// TestAuthRejected), and the server never logs them.
		logs := s.stdout.String() + s.stderr.String()
		for _, c := range []creds{alice, alice2, bob, root2} {
			assert.NotContains(t, logs, c.SecretAccessKey, "the server logged a secret")
		}
	})
}

var (
	generatedKeyRE    = regexp.MustCompile(`AWS_ACCESS_KEY_ID=(\S+)`)
	generatedSecretRE = regexp.MustCompile(`AWS_SECRET_ACCESS_KEY=(\S+)`)
	generatedAcctRE   = regexp.MustCompile(`account id:?\s*(\d{12})`)
)

// TestGeneratedRootCredentials starts `wharf serve` without root
// credentials in the environment, on a fresh store: it prints generated
// ones once, they work, and a restart neither prints nor changes them.
func TestGeneratedRootCredentials(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b, serverOptions{NoRootEnv: true, Args: []string{"--log-format", "json"}})
		out := s.stdout.String()
		key, secret, acct := generatedKeyRE.FindStringSubmatch(out), generatedSecretRE.FindStringSubmatch(out), generatedAcctRE.FindStringSubmatch(out)
		require.NotNil(t, key, "no AWS_ACCESS_KEY_ID=... in stdout:\n%s", out)
		require.NotNil(t, secret, "no AWS_SECRET_ACCESS_KEY=... in stdout:\n%s", out)
		gen := creds{AccessKeyID: key[1], SecretAccessKey: secret[1], AccountID: "123456789012"}
		if acct != nil {
			gen.AccountID = acct[1]
		}
		assert.Equal(t, "123456789012", gen.AccountID, "the root account's default id")
		assert.NotContains(t, s.stderr.String(), gen.SecretAccessKey, "the secret must not go to the logs")

		// --log-format json: every log line is a JSON object.
		for _, line := range strings.Split(strings.TrimSpace(s.stderr.String()), "\n") {
			if line == "" {
				continue
			}
			var v map[string]any
			assert.NoError(t, json.Unmarshal([]byte(line), &v), "log line is not JSON: %s", line)
		}

		ctx := context.Background()
		c := s.client(gen)
		ds, err := c.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{
			AssetType: types.AssetTypeS3Snapshot, Name: aws.String("n"), Description: aws.String("d"),
		})
		require.NoError(t, err, "the generated credentials must work")
		assert.Equal(t, dataSetARN(gen.AccountID, aws.ToString(ds.Id)), aws.ToString(ds.Arn))

		// Restart on the same store: nothing printed, same credentials work.
		s2 := s.restart(t, b, serverOptions{NoRootEnv: true})
		assert.NotContains(t, s2.stdout.String()+s2.stderr.String(), gen.SecretAccessKey, "the secret is printed only once")
		assert.NotRegexp(t, generatedSecretRE, s2.stdout.String(), "no new root key on restart")
		got, err := s2.client(gen).GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: ds.Id})
		require.NoError(t, err)
		assert.Equal(t, aws.ToString(ds.Arn), aws.ToString(got.Arn))
		resp := s2.raw(t, "GET", "/readyz", "", nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode)

		// Configuring that key id with another secret is refused at start:
		// Wharf does not rotate secrets in place. (s2 stops first: a second
		// server on its SQLite data dir would be refused for that instead.)
		s2.stop()
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, wharfBin, append([]string{"serve", "--listen", "127.0.0.1:0"}, s2.storeFlags()...)...)
		cmd.Env = append(baseEnv(), "WHARF_ROOT_ACCESS_KEY_ID="+gen.AccessKeyID, "WHARF_ROOT_SECRET_ACCESS_KEY=a-different-secret")
		refusal, err := cmd.CombinedOutput()
		require.Error(t, err, "wharf serve must refuse a known key id with another secret; output:\n%s", refusal)
		require.NoError(t, ctx.Err(), "wharf serve kept running instead of refusing to start")
		assert.Contains(t, string(refusal), gen.AccessKeyID, "the refusal names the key")
		assert.NotContains(t, string(refusal), gen.SecretAccessKey)
		s3 := s2.restart(t, b, serverOptions{NoRootEnv: true})
		_, err = s3.client(gen).GetDataSet(ctx, &dataexchange.GetDataSetInput{DataSetId: ds.Id})
		require.NoError(t, err, "the original secret still works")
	})
}
