package jobtypes_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/eventactions"
	"github.com/wharf-dev/wharf/internal/exchange"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/jobtypes"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/s3test"
	"github.com/wharf-dev/wharf/internal/store"
)

// entitled is a data set of account other, shared with account (the
// env's) through an accepted data grant.
type entitled struct {
	svc       *exchange.Service
	source    resource.DataSet
	finalized resource.Revision
	asset     resource.Asset
	data      []byte
	open      resource.Revision
	openAsset resource.Asset
	grant     exchange.DataGrantView
	dataSetID string // the entitled data set, in account
}

func (e *env) entitled(size int) entitled {
	e.t.Helper()
	x := entitled{svc: exchange.New(e.st, region)}
	x.source = e.newDataSet(other, resource.OriginOwned, resource.AssetTypeS3Snapshot)
	x.finalized = e.newRevision(x.source, true, false)
	x.data = pattern(7, size)
	x.asset = e.seededIn(x.finalized, "shared/data.bin", x.data)
	x.open = e.newRevision(x.source, false, false)
	x.openAsset = e.seededIn(x.open, "draft.bin", []byte("draft"))
	g, err := x.svc.CreateDataGrant(e.ctx, other, exchange.CreateDataGrantInput{
		Name: ptr("share"), GrantDistributionScope: ptr(resource.GrantScopeNone),
		ReceiverPrincipal: ptr(account), SourceDataSetID: &x.source.ID})
	e.must(err)
	_, err = x.svc.AcceptDataGrant(e.ctx, account, g.ARN)
	e.must(err)
	x.grant, x.dataSetID = g, g.DataSetID
	return x
}

// seededIn adds an asset with its bytes to r, without a job.
func (e *env) seededIn(r resource.Revision, name string, data []byte) resource.Asset {
	e.t.Helper()
	now := resource.Now()
	a := resource.Asset{AccountID: r.AccountID, DataSetID: r.DataSetID, RevisionID: r.ID, ID: resource.NewID(),
		Name: name, AssetType: resource.AssetTypeS3Snapshot, CreatedAt: now, UpdatedAt: now,
		Details: json.RawMessage(fmt.Sprintf(`{"S3SnapshotAsset":{"Size":%d}}`, len(data)))}
	e.must(e.st.InsertAsset(e.ctx, a))
	key, err := assetstore.AssetKey(a.AccountID, a.DataSetID, a.ID)
	e.must(err)
	_, err = e.assets.Put(e.ctx, key, bytes.NewReader(data), int64(len(data)))
	e.must(err)
	return a
}

// The receiver of a data grant exports the source's finalized assets, with
// the bytes kept under the source account; what it may not do is refused.
func TestEntitledExport(t *testing.T) {
	t.Parallel()
	for _, driver := range []string{sqliteDB, postgresDB} {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, options{driver: driver})
			x := e.entitled(1234)
			bucket := e.srv.NewBucket(t)
			e.run(resource.JobTypeExportAssetsToS3, exportDetails(x.dataSetID, x.finalized.ID, nil,
				dst{AssetId: x.asset.ID, Bucket: bucket}), resource.JobStateCompleted)
			sameBytes(t, "exported through the grant", e.srv.GetObject(t, bucket, x.asset.Name), x.data)
			// The whole revision too.
			e.run(resource.JobTypeExportRevisionsToS3, revisionExportDetails(x.dataSetID, nil,
				revDst{Bucket: bucket, KeyPattern: ptr("whole/${DataSet.Id}/${Asset.Name}"), RevisionId: x.finalized.ID}),
				resource.JobStateCompleted)
			sameBytes(t, "revision exported through the grant",
				e.srv.GetObject(t, bucket, "whole/"+x.dataSetID+"/"+x.asset.Name), x.data)

			refused := []struct {
				name, jobType, want string
				details             json.RawMessage
			}{
				{"unfinalized revision", resource.JobTypeExportAssetsToS3, fault.ResourceNotFound,
					exportDetails(x.dataSetID, x.open.ID, nil, dst{AssetId: x.openAsset.ID, Bucket: bucket})},
				{"import", resource.JobTypeImportAssetsFromS3, fault.AccessDenied,
					importDetails(x.dataSetID, x.finalized.ID, src{bucket, x.asset.Name})},
				{"the source's id", resource.JobTypeExportAssetsToS3, fault.ResourceNotFound,
					exportDetails(x.source.ID, x.finalized.ID, nil, dst{AssetId: x.asset.ID, Bucket: bucket})},
				{"unfinalized revision, whole", resource.JobTypeExportRevisionsToS3, fault.ResourceNotFound,
					revisionExportDetails(x.dataSetID, nil, revDst{Bucket: bucket, RevisionId: x.open.ID})},
			}
			for _, c := range refused {
				_, err := e.createJob(c.jobType, c.details)
				if fe := wantFault(t, err, c.want); fe == nil {
					t.Fatalf("%s: CreateJob was not refused", c.name)
				}
			}

			// A job created while the grant lasts can't start once it is deleted.
			v, err := e.createJob(resource.JobTypeExportAssetsToS3, exportDetails(x.dataSetID, x.finalized.ID, nil,
				dst{AssetId: x.asset.ID, Bucket: bucket, Key: "second"}))
			e.must(err)
			e.must(x.svc.DeleteDataGrant(e.ctx, other, x.grant.ID))
			wantFault(t, e.svc.StartJob(e.ctx, account, v.ID), fault.ResourceNotFound)
			if keys := e.srv.Keys(t, bucket); !slices.Equal(keys, []string{x.asset.Name, "whole/" + x.dataSetID + "/" + x.asset.Name}) {
				t.Fatalf("bucket holds %v after the refused export", keys)
			}
		})
	}
}

// A grant that ends refuses new exports with AccessDeniedException.
func TestEntitledExportAfterTheGrantEnds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	x := e.entitled(10)
	g, err := e.st.GetDataGrant(e.ctx, other, x.grant.ID)
	e.must(err)
	ended := resource.Now().Add(-time.Millisecond)
	g.EndsAt = &ended
	e.must(e.st.InTx(e.ctx, func(q store.Queries) error {
		if err := q.DeleteDataGrant(e.ctx, other, g.ID); err != nil {
			return err
		}
		return q.InsertDataGrant(e.ctx, g)
	}))
	bucket := e.srv.NewBucket(t)
	_, err = e.createJob(resource.JobTypeExportAssetsToS3, exportDetails(x.dataSetID, x.finalized.ID, nil,
		dst{AssetId: x.asset.ID, Bucket: bucket}))
	wantFault(t, err, fault.AccessDenied)
}

// Deleting the grant stops a running export: it ends in ERROR with
// ACCESS_DENIED_EXCEPTION, leaving no multipart upload behind.
func TestEntitledExportStopsWhenTheGrantIsDeleted(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	slow := slowProxy(t, srv, 2*mib)
	e := newEnv(t, options{accountProfile: &slow, deps: func(d *jobtypes.Deps) { d.AccessCheckInterval = 20 * time.Millisecond }})
	x := e.entitled(12 * mib)
	bucket := srv.NewBucket(t)
	v, err := e.createJob(resource.JobTypeExportAssetsToS3, exportDetails(x.dataSetID, x.finalized.ID, nil,
		dst{AssetId: x.asset.ID, Bucket: bucket}))
	e.must(err)
	e.must(e.svc.StartJob(e.ctx, account, v.ID))
	e.waitFor(v.ID, "progress", func(j resource.Job) bool { return j.BytesDone > 0 })
	e.must(x.svc.DeleteDataGrant(e.ctx, other, x.grant.ID))
	j := e.waitEnd(v.ID, resource.JobStateError)
	errs := jobErrors(t, j)
	if len(errs) != 1 || errs[0].Code != jobs.CodeAccessDenied {
		t.Fatalf("errors %s, want one ACCESS_DENIED_EXCEPTION", j.Errors)
	}
	if j.BytesDone >= j.BytesTotal {
		t.Errorf("progress %d of %d: want the export stopped mid-way", j.BytesDone, j.BytesTotal)
	}
	if keys := srv.Keys(t, bucket); len(keys) != 0 {
		t.Errorf("destination holds %v", keys)
	}
	if ups := srv.Uploads(t, bucket); len(ups) != 0 {
		t.Errorf("uploads left at the destination: %v", ups)
	}
}

// A receiver's event action on its entitled data set exports each revision
// the owner publishes later, as the receiver.
func TestEntitledEventAction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	x := e.entitled(10)
	actions := eventactions.New(e.st, x.svc, e.svc)
	bucket := e.srv.NewBucket(t)
	_, err := actions.Create(e.ctx, account, eventactions.CreateInput{
		Action: &eventactions.Action{ExportRevisionToS3: &eventactions.AutoExport{
			RevisionDestination: &eventactions.RevisionDestination{Bucket: &bucket, KeyPattern: ptr("${Revision.Id}/${Asset.Name}")}}},
		Event: &eventactions.Event{RevisionPublished: &eventactions.RevisionPublished{DataSetId: &x.dataSetID}},
	})
	e.must(err)
	// The owner publishes the open revision.
	_, err = x.svc.UpdateRevision(e.ctx, other, exchange.UpdateRevisionInput{DataSetID: x.source.ID, RevisionID: x.open.ID, Finalized: ptrBool(true)})
	e.must(err)
	list, err := e.svc.ListJobs(e.ctx, account, jobs.ListJobsInput{})
	e.must(err)
	if len(list.Items) != 1 || list.Items[0].DataSetID != x.dataSetID {
		t.Fatalf("the receiver's jobs: %+v", list.Items)
	}
	e.waitEnd(list.Items[0].ID, resource.JobStateCompleted)
	want := x.open.ID + "/" + x.openAsset.Name
	if keys := e.srv.Keys(t, bucket); !slices.Equal(keys, []string{want}) {
		t.Fatalf("bucket holds %v, want %s", keys, want)
	}
	sameBytes(t, "auto-exported", e.srv.GetObject(t, bucket, want), []byte("draft"))
}

func ptrBool(b bool) *bool { return &b }
