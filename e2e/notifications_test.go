package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange"
	"github.com/aws/aws-sdk-go-v2/service/dataexchange/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wharf-dev/wharf/internal/notify"
)

// TestDataSetNotifications: a receiver registers a webhook with the admin
// command; the sender's SendDataSetNotification, sent twice with one
// ClientToken, reaches it exactly once, signed with the webhook's secret.
func TestDataSetNotifications(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := startServer(t, b)
		ctx := context.Background()
		receiverCreds := s.createAccount(t, "")
		sender, receiver := s.client(rootCreds), s.client(receiverCreds)

		type received struct {
			body      []byte
			timestamp string
			signature string
		}
		var (
			mu  sync.Mutex
			got []received
		)
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			got = append(got, received{body, r.Header.Get(notify.HeaderTimestamp), r.Header.Get(notify.HeaderSignature)})
			mu.Unlock()
			w.WriteHeader(http.StatusOK)
		}))
		defer hook.Close()
		out, errOut, err := s.admin(t, "accounts", "webhook", "set", "--account", receiverCreds.AccountID, "--url", hook.URL)
		require.NoError(t, err, errOut)
		var reg struct{ AccountId, Url, Secret string }
		require.NoError(t, json.Unmarshal([]byte(out), &reg))
		require.NotEmpty(t, reg.Secret)

		ds, err := sender.CreateDataSet(ctx, &dataexchange.CreateDataSetInput{AssetType: types.AssetTypeS3Snapshot,
			Name: aws.String("feed"), Description: aws.String("a feed")})
		require.NoError(t, err)
		g, err := sender.CreateDataGrant(ctx, &dataexchange.CreateDataGrantInput{Name: aws.String("feed"),
			GrantDistributionScope: types.GrantDistributionScopeNone, ReceiverPrincipal: aws.String(receiverCreds.AccountID), SourceDataSetId: ds.Id})
		require.NoError(t, err)
		_, err = receiver.AcceptDataGrant(ctx, &dataexchange.AcceptDataGrantInput{DataGrantArn: g.Arn})
		require.NoError(t, err)

		updatedAt := time.Now().UTC().Truncate(time.Millisecond)
		send := func(token, comment string) {
			t.Helper()
			_, err := sender.SendDataSetNotification(ctx, &dataexchange.SendDataSetNotificationInput{DataSetId: ds.Id,
				Type: types.NotificationTypeDataUpdate, ClientToken: aws.String(token), Comment: aws.String(comment),
				Details: &types.NotificationDetails{DataUpdate: &types.DataUpdateRequestDetails{DataUpdatedAt: aws.Time(updatedAt)}}})
			require.NoError(t, err)
		}
		send("first-token", "first")
		send("first-token", "first") // a retry of the same call
		// The receiver can't notify about its entitled copy.
		_, err = receiver.SendDataSetNotification(ctx, &dataexchange.SendDataSetNotificationInput{DataSetId: g.DataSetId, Type: types.NotificationTypeDataDelay})
		assert.Equal(t, "AccessDeniedException", grantErrorCode(err))

		// Once the first has been delivered, send a second and wait for it:
		// deliveries go out in order, so by then a duplicate of the first
		// would have arrived too.
		waitHook := func(n int) {
			t.Helper()
			deadline := time.Now().Add(time.Minute)
			for {
				mu.Lock()
				have := len(got)
				mu.Unlock()
				if have >= n {
					return
				}
				require.True(t, time.Now().Before(deadline), "the webhook got %d notifications, want %d", have, n)
				time.Sleep(50 * time.Millisecond)
			}
		}
		waitHook(1)
		send("second-token", "second")
		waitHook(2)

		mu.Lock()
		defer mu.Unlock()
		require.Len(t, got, 2)
		for i, want := range []string{"first", "second"} {
			var p map[string]any
			require.NoError(t, json.Unmarshal(got[i].body, &p))
			assert.Equal(t, want, p["Comment"])
			assert.Equal(t, aws.ToString(g.DataSetId), p["DataSetId"])
			assert.Equal(t, aws.ToString(g.Id), p["DataGrantId"])
			assert.True(t, notify.Verify(reg.Secret, got[i].timestamp, got[i].body, got[i].signature), "signature of %s", want)
		}
	})
}
