package eventactions_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/eventactions"
	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/jobtypes"
	"github.com/wharf-dev/wharf/internal/pgtest"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/s3access"
	"github.com/wharf-dev/wharf/internal/store"
	"github.com/wharf-dev/wharf/internal/store/postgres"
	"github.com/wharf-dev/wharf/internal/store/sqlite"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

const (
	region   = "us-east-1"
	accountA = "111111111111"
	accountB = "222222222222"
)

var drivers = []struct {
	name string
	open func(t *testing.T) store.Store
}{
	{"sqlite", func(t *testing.T) store.Store {
		st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "wharf.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
	{"postgres", func(t *testing.T) store.Store {
		st, err := postgres.Open(context.Background(), pgtest.URL(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}},
}

type noS3 struct{}

func (noS3) Resolve(context.Context, string) (*s3access.Endpoint, error) {
	return nil, errors.New("no S3 in these tests")
}

// env is the event action service on a real store, with the real job
// runners and a job engine that is never started (started jobs stay
// IN_PROGRESS).
type env struct {
	t   *testing.T
	ctx context.Context
	st  store.Store
	ex  *exchange.Service
	svc *eventactions.Service
}

func newEnv(t *testing.T, st store.Store) *env {
	t.Helper()
	ctx := context.Background()
	assets, err := assetstore.NewLocal(filepath.Join(t.TempDir(), "assets"))
	if err != nil {
		t.Fatal(err)
	}
	runners := map[string]jobs.Runner{}
	if err := jobtypes.Register(runners, jobtypes.Deps{Store: st, Assets: assets, S3: noS3{}}); err != nil {
		t.Fatal(err)
	}
	js, err := jobs.New(ctx, st, jobs.Config{Region: region, Runners: runners})
	if err != nil {
		t.Fatal(err)
	}
	ex := exchange.New(st, region)
	for _, id := range []string{accountA, accountB} {
		if err := st.InsertAccount(ctx, resource.Account{ID: id, CreatedAt: resource.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	return &env{t: t, ctx: ctx, st: st, ex: ex, svc: eventactions.New(st, ex, js)}
}

func (e *env) dataSet(account string) string {
	e.t.Helper()
	v, err := e.ex.CreateDataSet(e.ctx, account, exchange.CreateDataSetInput{
		Name: ptr("ds"), Description: ptr("event action tests"), AssetType: ptr(resource.AssetTypeS3Snapshot)})
	if err != nil {
		e.t.Fatal(err)
	}
	return v.ID
}

func (e *env) create(account, dataSetID string) (eventactions.View, error) {
	return e.svc.Create(e.ctx, account, eventactions.CreateInput{
		Action: &eventactions.Action{ExportRevisionToS3: &eventactions.AutoExport{
			RevisionDestination: &eventactions.RevisionDestination{Bucket: ptr("dest-bucket")}}},
		Event: &eventactions.Event{RevisionPublished: &eventactions.RevisionPublished{DataSetId: &dataSetID}},
	})
}

func ptr[T any](v T) *T { return &v }

func wantLimit(t *testing.T, err error, name string, value float64) {
	t.Helper()
	fe := fault.As(err)
	if fe == nil || fe.Name != fault.ServiceLimitExceeded || fe.LimitName != name || fe.LimitValue != value {
		t.Fatalf("got %v, want ServiceLimitExceededException %q %g", err, name, value)
	}
}

// "Event actions per account" (50) and "Auto export event actions per data
// set" (5), AWS's defaults, on both stores: the 51st event action of an
// account is refused, whichever data set it watches, and deleting one makes
// room again.
func TestQuotas(t *testing.T) {
	t.Parallel()
	for _, d := range drivers {
		t.Run(d.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d.open(t))
			var first eventactions.View
			for i := range eventactions.DefaultEventActionsPerAccount / eventactions.DefaultEventActionsPerDataSet {
				ds := e.dataSet(accountA)
				for j := range eventactions.DefaultEventActionsPerDataSet {
					v, err := e.create(accountA, ds)
					if err != nil {
						t.Fatalf("event action %d of data set %d: %v", j+1, i+1, err)
					}
					if i == 0 && j == 0 {
						first = v
					}
				}
				if i == 0 {
					_, err := e.create(accountA, ds)
					wantLimit(t, err, eventactions.LimitAutoExportEventActionsPer, eventactions.DefaultEventActionsPerDataSet)
				}
			}
			fresh := e.dataSet(accountA)
			_, err := e.create(accountA, fresh)
			wantLimit(t, err, eventactions.LimitEventActionsPerAccount, eventactions.DefaultEventActionsPerAccount)
			// Another account has its own quota.
			if _, err := e.create(accountB, e.dataSet(accountB)); err != nil {
				t.Fatalf("another account's first event action: %v", err)
			}
			if err := e.svc.Delete(e.ctx, accountA, first.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := e.create(accountA, fresh); err != nil {
				t.Fatalf("after a delete: %v", err)
			}
			n, err := e.st.CountEventActions(e.ctx, accountA, "")
			if err != nil || n != eventactions.DefaultEventActionsPerAccount {
				t.Fatalf("account A has %d event actions (%v), want %d", n, err, eventactions.DefaultEventActionsPerAccount)
			}
		})
	}
}

// Concurrent creations can't overshoot the quota: the account's row lock
// serializes them (PostgreSQL, where transactions do run concurrently).
func TestQuotaHoldsUnderConcurrency(t *testing.T) {
	t.Parallel()
	e := newEnv(t, drivers[1].open(t))
	e.svc.EventActionsPerAccount = 4
	dataSets := []string{e.dataSet(accountA), e.dataSet(accountA), e.dataSet(accountA)}
	const tries = 12
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		created int
		refused int
	)
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.create(accountA, dataSets[i%len(dataSets)])
			mu.Lock()
			defer mu.Unlock()
			switch fe := fault.As(err); {
			case err == nil:
				created++
			case fe != nil && fe.Name == fault.ServiceLimitExceeded:
				refused++
			default:
				t.Errorf("create: %v", err)
			}
		}()
	}
	wg.Wait()
	if created != 4 || refused != tries-4 {
		t.Fatalf("%d created, %d refused; want 4 and %d", created, refused, tries-4)
	}
	if n, err := e.st.CountEventActions(e.ctx, accountA, ""); err != nil || n != 4 {
		t.Fatalf("store holds %d (%v)", n, err)
	}
}

// Another account's event actions are ResourceNotFoundException to every
// operation, and absent from its listing; its data sets can't be watched.
func TestAccountsAreIsolated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, drivers[0].open(t))
	ds := e.dataSet(accountA)
	ea, err := e.create(accountA, ds)
	if err != nil {
		t.Fatal(err)
	}
	wantNotFound := func(what string, err error) {
		t.Helper()
		if fe := fault.As(err); fe == nil || fe.Name != fault.ResourceNotFound {
			t.Errorf("%s: %v, want ResourceNotFoundException", what, err)
		}
	}
	_, err = e.svc.Get(e.ctx, accountB, ea.ID)
	wantNotFound("Get", err)
	_, err = e.svc.Update(e.ctx, accountB, ea.ID, &eventactions.Action{ExportRevisionToS3: &eventactions.AutoExport{
		RevisionDestination: &eventactions.RevisionDestination{Bucket: ptr("other-bucket")}}})
	wantNotFound("Update", err)
	wantNotFound("Delete", e.svc.Delete(e.ctx, accountB, ea.ID))
	_, err = e.create(accountB, ds)
	wantNotFound("Create on another account's data set", err)
	for _, filter := range []string{"", ds} {
		page, err := e.svc.List(e.ctx, accountB, eventactions.ListInput{EventSourceID: filter})
		if err != nil || len(page.Items) != 0 {
			t.Errorf("List(%q) for account B: %+v, %v", filter, page.Items, err)
		}
	}
	got, err := e.svc.Get(e.ctx, accountA, ea.ID)
	if err != nil || *got.Action.ExportRevisionToS3.RevisionDestination.Bucket != "dest-bucket" {
		t.Fatalf("the owner's event action after the others' calls: %+v, %v", got, err)
	}
}

// Update replaces the whole Action and moves UpdatedAt on; an Update
// without Action changes nothing; a refused Update changes nothing.
func TestUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t, drivers[0].open(t))
	ea, err := e.create(accountA, e.dataSet(accountA))
	if err != nil {
		t.Fatal(err)
	}
	pattern := "${Revision.Id}/${Asset.Id}"
	updated, err := e.svc.Update(e.ctx, accountA, ea.ID, &eventactions.Action{ExportRevisionToS3: &eventactions.AutoExport{
		RevisionDestination: &eventactions.RevisionDestination{Bucket: ptr("new-bucket"), KeyPattern: &pattern},
		Encryption:          &eventactions.Encryption{Type: ptr("AES256")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !updated.UpdatedAt.After(ea.UpdatedAt) || !updated.CreatedAt.Equal(ea.CreatedAt) {
		t.Errorf("timestamps after update: created %v updated %v (were %v %v)", updated.CreatedAt, updated.UpdatedAt, ea.CreatedAt, ea.UpdatedAt)
	}
	_, err = e.svc.Update(e.ctx, accountA, ea.ID, &eventactions.Action{ExportRevisionToS3: &eventactions.AutoExport{
		RevisionDestination: &eventactions.RevisionDestination{Bucket: ptr("new-bucket"), KeyPattern: ptr("${Revision.Id}/fixed")}}})
	if fe := fault.As(err); fe == nil || fe.Name != fault.Validation {
		t.Fatalf("pattern without an asset reference: %v", err)
	}
	if _, err := e.svc.Update(e.ctx, accountA, ea.ID, nil); err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.Get(e.ctx, accountA, ea.ID)
	if err != nil {
		t.Fatal(err)
	}
	x := got.Action.ExportRevisionToS3
	if *x.RevisionDestination.Bucket != "new-bucket" || x.RevisionDestination.KeyPattern == nil || *x.RevisionDestination.KeyPattern != pattern ||
		x.Encryption == nil || *x.Encryption.Type != "AES256" || !got.UpdatedAt.Equal(updated.UpdatedAt) {
		t.Fatalf("after updates: %+v %+v (updated at %v, want %v)", x.RevisionDestination, x.Encryption, got.UpdatedAt, updated.UpdatedAt)
	}
}

// Publishing a revision starts one job per watching event action, with its
// ARN; an action deleted before the finalize starts nothing, and the jobs
// of one deleted after stay.
func TestPublishingStartsJobs(t *testing.T) {
	t.Parallel()
	e := newEnv(t, drivers[0].open(t))
	ds := e.dataSet(accountA)
	kept, err := e.create(accountA, ds)
	if err != nil {
		t.Fatal(err)
	}
	gone, err := e.create(accountA, ds)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Delete(e.ctx, accountA, gone.ID); err != nil {
		t.Fatal(err)
	}
	rev, err := e.ex.CreateRevision(e.ctx, accountA, exchange.CreateRevisionInput{DataSetID: ds})
	if err != nil {
		t.Fatal(err)
	}
	now := resource.Now()
	if err := e.st.InsertAsset(e.ctx, resource.Asset{AccountID: accountA, DataSetID: ds, RevisionID: rev.ID, ID: resource.NewID(),
		Name: "a.csv", AssetType: resource.AssetTypeS3Snapshot, Details: []byte(`{"S3SnapshotAsset":{"Size":1}}`),
		CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ex.UpdateRevision(e.ctx, accountA, exchange.UpdateRevisionInput{DataSetID: ds, RevisionID: rev.ID, Finalized: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Delete(e.ctx, accountA, kept.ID); err != nil {
		t.Fatal(err)
	}
	page, err := e.st.ListJobs(e.ctx, accountA, store.JobFilter{DataSetID: ds, RevisionID: rev.ID}, store.PageRequest{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Fatalf("%d jobs, want 1: %+v", len(page.Items), page.Items)
	}
	j := page.Items[0]
	want := fmt.Sprintf(`"EventActionArn":%q`, kept.ARN)
	if j.Type != resource.JobTypeExportRevisionsToS3 || j.State != resource.JobStateInProgress || !strings.Contains(string(j.Details), want) {
		t.Fatalf("job %s %s, details %s; want an IN_PROGRESS revision export with %s", j.Type, j.State, j.Details, want)
	}
}
