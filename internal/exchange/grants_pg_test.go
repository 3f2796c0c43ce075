package exchange_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/pgtest"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/postgres"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestPendingGrantQuotaWaitsForAConcurrentSender makes the race
// deterministic: a transaction of another sender holds the receiver's lock
// with a pending grant not yet committed (as a concurrent CreateDataGrant
// does between its count and its commit); CreateDataGrant must wait for it
// and then see the quota full. Without the lock it counts no grant and
// overshoots.
func TestPendingGrantQuotaWaitsForAConcurrentSender(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dbURL := pgtest.URL(t)
	st, err := postgres.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := exchange.New(st, region)
	svc.PendingDataGrantsPerConsumer = 1
	const receiver = "999999999999"
	ds, err := svc.CreateDataSet(ctx, accountB, exchange.CreateDataSetInput{Name: ptr("d"), Description: ptr("d"),
		AssetType: ptr(resource.AssetTypeS3Snapshot)})
	if err != nil {
		t.Fatal(err)
	}
	now := resource.Now()
	first := resource.DataGrant{AccountID: accountA, ID: resource.NewID(), Name: "g", ReceiverAccountID: receiver,
		SourceDataSetID: resource.NewID(), DataSetID: resource.NewID(), GrantDistributionScope: resource.GrantScopeNone,
		AcceptanceState: resource.GrantPendingAcceptance, CreatedAt: now, UpdatedAt: now}
	held, release, committed := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		committed <- st.InTx(ctx, func(q store.Queries) error {
			if err := q.LockDataGrantReceiver(ctx, receiver); err != nil {
				return err
			}
			if err := q.InsertDataGrant(ctx, first); err != nil {
				return err
			}
			close(held)
			<-release
			return nil
		})
	}()
	<-held
	created := make(chan error, 1)
	go func() {
		_, err := svc.CreateDataGrant(ctx, accountB, exchange.CreateDataGrantInput{Name: ptr("g"),
			GrantDistributionScope: ptr(resource.GrantScopeNone), ReceiverPrincipal: ptr(receiver), SourceDataSetID: &ds.ID})
		created <- err
	}()
	// Until CreateDataGrant either ends (it took no lock) or waits on one.
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var createErr error
	finished := false
	for !finished {
		select {
		case createErr = <-created:
			finished = true
			continue
		default:
		}
		var waiting int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(release)
	if err := <-committed; err != nil {
		t.Fatal(err)
	}
	if !finished {
		createErr = <-created
	}
	if fe := fault.As(createErr); fe == nil || fe.Name != fault.ServiceLimitExceeded {
		t.Errorf("CreateDataGrant past the receiver's pending quota: %v, want %s", createErr, fault.ServiceLimitExceeded)
	}
}
