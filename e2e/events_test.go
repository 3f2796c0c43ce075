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

// TestRevisionEvents: an account with an accepted grant gets, at its
// webhook, signed, one event per publication of a revision ("Revision
// Published To Data Set", also after `wharf publish --finalize`), per
// revocation ("Revision Revoked") and when the grant is deleted ("Data
// Grant Revoked"), in AWS's EventBridge shape.
func TestRevisionEvents(t *testing.T) {
	t.Parallel()
	s := startServer(t, backends[0])
	ctx := context.Background()
	owner := s.client(s.Root)
	receiverCreds := s.createAccount(t, "")
	receiver := s.client(receiverCreds)

	type event struct {
		body            []byte
		id, ts, sig     string
		DetailType      string `json:"detail-type"`
		Source, Account string
		Region, Version string
		Time            string
		Resources       []string
		Detail          struct {
			RevisionIds       []string
			RevocationComment string
			Revisions         []struct{ Id, Comment string }
			DataSets          []struct{ Id, Name string }
			DataGrant         struct{ Arn, Name string }
		}
	}
	var (
		mu  sync.Mutex
		got []event
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e := event{body: body, id: r.Header.Get(notify.HeaderNotification), ts: r.Header.Get(notify.HeaderTimestamp), sig: r.Header.Get(notify.HeaderSignature)}
		_ = json.Unmarshal(body, &e)
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
	}))
	defer hook.Close()
	out, errOut, err := s.admin(t, "accounts", "webhook", "set", "--account", receiverCreds.AccountID, "--url", hook.URL)
	require.NoError(t, err, errOut)
	var reg struct{ Secret string }
	require.NoError(t, json.Unmarshal([]byte(out), &reg))

	ds := newDataSet(t, owner, "events")
	g, err := owner.CreateDataGrant(ctx, &dataexchange.CreateDataGrantInput{Name: aws.String("events grant"),
		GrantDistributionScope: types.GrantDistributionScopeNone, ReceiverPrincipal: aws.String(receiverCreds.AccountID), SourceDataSetId: aws.String(ds)})
	require.NoError(t, err)
	_, err = receiver.AcceptDataGrant(ctx, &dataexchange.AcceptDataGrantInput{DataGrantArn: g.Arn})
	require.NoError(t, err)
	entitled := aws.ToString(g.DataSetId)

	waitEvents := func(n int) []event {
		t.Helper()
		deadline := time.Now().Add(time.Minute)
		for {
			mu.Lock()
			have := append([]event(nil), got...)
			mu.Unlock()
			if len(have) >= n {
				return have
			}
			require.True(t, time.Now().Before(deadline), "the webhook got %d events, want %d", len(have), n)
			time.Sleep(50 * time.Millisecond)
		}
	}

	// A publication with wharf publish.
	src := t.TempDir()
	writeTree(t, src, map[string][]byte{"one.txt": []byte("one")})
	rev := publishJSON(t, clientEnv(t, s, s.Root, nil), "--data-set", ds, "--new-revision", "--comment", "first", "--finalize", src).Revisions[0].Id
	waitEvents(1)
	// Un-finalized and finalized again: a second publication.
	_, err = owner.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{DataSetId: aws.String(ds), RevisionId: aws.String(rev), Finalized: aws.Bool(false)})
	require.NoError(t, err)
	_, err = owner.UpdateRevision(ctx, &dataexchange.UpdateRevisionInput{DataSetId: aws.String(ds), RevisionId: aws.String(rev), Finalized: aws.Bool(true)})
	require.NoError(t, err)
	waitEvents(2)
	_, err = owner.RevokeRevision(ctx, &dataexchange.RevokeRevisionInput{DataSetId: aws.String(ds), RevisionId: aws.String(rev),
		RevocationComment: aws.String("revoked for the test")})
	require.NoError(t, err)
	waitEvents(3)
	_, err = owner.DeleteDataGrant(ctx, &dataexchange.DeleteDataGrantInput{DataGrantId: g.Id})
	require.NoError(t, err)
	events := waitEvents(4)
	// Deliveries go out in order: a repeat of any would have come by now.
	time.Sleep(1500 * time.Millisecond)
	mu.Lock()
	events = append([]event(nil), got...)
	mu.Unlock()
	require.Len(t, events, 4)

	ids := map[string]bool{}
	for i, want := range []string{"Revision Published To Data Set", "Revision Published To Data Set", "Revision Revoked", "Data Grant Revoked"} {
		e := events[i]
		assert.Equal(t, want, e.DetailType, "event %d", i)
		assert.Equal(t, "aws.dataexchange", e.Source)
		assert.Equal(t, "0", e.Version)
		assert.Equal(t, receiverCreds.AccountID, e.Account)
		assert.Equal(t, s.Region, e.Region)
		_, err := time.Parse(time.RFC3339, e.Time)
		assert.NoError(t, err)
		assert.True(t, notify.Verify(reg.Secret, e.ts, e.body, e.sig), "signature of event %d", i)
		assert.False(t, ids[e.id], "event %d repeats an id", i)
		ids[e.id] = true
		require.Len(t, e.Detail.DataSets, 1)
		assert.Equal(t, entitled, e.Detail.DataSets[0].Id, "the receiver's entitled data set")
		if i < 3 {
			assert.Equal(t, []string{entitled}, e.Resources)
			assert.Equal(t, []string{rev}, e.Detail.RevisionIds)
			assert.Equal(t, "first", e.Detail.Revisions[0].Comment)
			assert.Equal(t, "events", e.Detail.DataSets[0].Name)
		}
	}
	assert.Equal(t, "revoked for the test", events[2].Detail.RevocationComment)
	assert.Equal(t, aws.ToString(g.Arn), events[3].Detail.DataGrant.Arn)
	assert.Equal(t, "events grant", events[3].Detail.DataGrant.Name)
	assert.Equal(t, []string{"arn:aws:dataexchange:" + s.Region + "::data-sets/" + entitled}, events[3].Resources)
}
