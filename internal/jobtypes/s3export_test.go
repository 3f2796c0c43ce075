package jobtypes_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wharf-dev/wharf/internal/assetstore"
	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/jobtypes"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/s3test"
)

// seeded adds an asset with its bytes to e's revision, without a job.
func (e *env) seeded(name string, data []byte) resource.Asset {
	e.t.Helper()
	now := resource.Now()
	a := resource.Asset{AccountID: account, DataSetID: e.dataSet.ID, RevisionID: e.revision.ID, ID: resource.NewID(),
		Name: name, AssetType: resource.AssetTypeS3Snapshot, CreatedAt: now, UpdatedAt: now,
		Details: json.RawMessage(fmt.Sprintf(`{"S3SnapshotAsset":{"Size":%d}}`, len(data)))}
	e.must(e.st.InsertAsset(e.ctx, a))
	key, err := assetstore.AssetKey(a.AccountID, a.DataSetID, a.ID)
	e.must(err)
	_, err = e.assets.Put(e.ctx, key, bytes.NewReader(data), int64(len(data)))
	e.must(err)
	return a
}

// imported imports n objects of the given size into e's revision through a
// job and returns the assets (sorted by name) and their bytes by name.
func (e *env) imported(n, size int) ([]resource.Asset, map[string][]byte) {
	e.t.Helper()
	bucket := e.srv.NewBucket(e.t)
	data := map[string][]byte{}
	var sources []src
	for i := range n {
		key := fmt.Sprintf("in/object-%02d.bin", i)
		data[key] = pattern(i, size)
		e.srv.PutObject(e.t, bucket, key, data[key])
		sources = append(sources, src{bucket, key})
	}
	v, err := e.createJob(resource.JobTypeImportAssetsFromS3, importDetails(e.dataSet.ID, e.revision.ID, sources...))
	e.must(err)
	e.must(e.svc.StartJob(e.ctx, account, v.ID))
	e.waitEnd(v.ID, resource.JobStateCompleted)
	return e.revisionAssets(e.revision), data
}

func TestExportValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{noStart: true})
	bucket := "dest-bucket"
	ds, rev := e.dataSet.ID, e.revision.ID
	a := e.insertAsset(e.revision, "report.csv", resource.AssetTypeS3Snapshot)
	b := e.insertAsset(e.revision, "other.csv", resource.AssetTypeS3Snapshot)
	api := e.insertAsset(e.revision, "api", resource.AssetTypeAPIGatewayAPI)
	otherRev := e.newRevision(e.dataSet, false, false)
	elsewhere := e.insertAsset(otherRev, "x", resource.AssetTypeS3Snapshot)
	revoked := e.newRevision(e.dataSet, false, true)
	revokedAsset := e.insertAsset(revoked, "r", resource.AssetTypeS3Snapshot)
	finalized := e.newRevision(e.dataSet, true, false)
	finalizedAsset := e.insertAsset(finalized, "f", resource.AssetTypeS3Snapshot)
	entitled := e.newDataSet(account, resource.OriginEntitled, resource.AssetTypeS3Snapshot)
	entitledRev := e.newRevision(entitled, true, false)
	entitledAsset := e.insertAsset(entitledRev, "e", resource.AssetTypeS3Snapshot)
	foreign := e.newDataSet(other, resource.OriginOwned, resource.AssetTypeS3Snapshot)
	foreignRev := e.newRevision(foreign, false, false)
	foreignAsset := e.insertAsset(foreignRev, "f", resource.AssetTypeS3Snapshot)

	one := dst{AssetId: a.ID, Bucket: bucket}
	many := func(n int) []dst {
		var d []dst
		for i := range n {
			d = append(d, dst{AssetId: a.ID, Bucket: bucket, Key: fmt.Sprintf("k%d", i)})
		}
		return d
	}
	raw := func(format string, args ...any) json.RawMessage {
		return json.RawMessage(`{"ExportAssetsToS3":` + fmt.Sprintf(format, args...) + `}`)
	}
	for _, c := range []struct {
		name    string
		details json.RawMessage
		want    string // exception name; "" for none
		message string
	}{
		{"101 destinations", exportDetails(ds, rev, nil, many(101)...), fault.ServiceLimitExceeded, "at most 100"},
		{"100 destinations", exportDetails(ds, rev, nil, many(100)...), "", ""},
		{"no destinations", raw(`{"AssetDestinations":[],"DataSetId":%q,"RevisionId":%q}`, ds, rev), fault.Validation, "at least one"},
		{"destinations missing", raw(`{"DataSetId":%q,"RevisionId":%q}`, ds, rev), fault.Validation, "AssetDestinations is required"},
		{"asset id missing", raw(`{"AssetDestinations":[{"Bucket":"abc"}],"DataSetId":%q,"RevisionId":%q}`, ds, rev), fault.Validation, "AssetId is required"},
		{"bad asset id", exportDetails(ds, rev, nil, dst{AssetId: "../x", Bucket: bucket}), fault.Validation, "not a valid id"},
		{"bucket missing", raw(`{"AssetDestinations":[{"AssetId":%q}],"DataSetId":%q,"RevisionId":%q}`, a.ID, ds, rev), fault.Validation, "Bucket is required"},
		{"bad bucket", exportDetails(ds, rev, nil, dst{AssetId: a.ID, Bucket: "Bad_Bucket"}), fault.Validation, "not a valid S3 bucket name"},
		{"empty key", raw(`{"AssetDestinations":[{"AssetId":%q,"Bucket":"abc","Key":""}],"DataSetId":%q,"RevisionId":%q}`, a.ID, ds, rev), fault.Validation, "1 to 1024 bytes"},
		{"unknown asset", exportDetails(ds, rev, nil, dst{AssetId: resource.NewID(), Bucket: bucket}), fault.ResourceNotFound, "asset"},
		{"asset of another revision", exportDetails(ds, rev, nil, dst{AssetId: elsewhere.ID, Bucket: bucket}), fault.ResourceNotFound, "asset " + elsewhere.ID},
		{"api gateway asset", exportDetails(ds, rev, nil, dst{AssetId: api.ID, Bucket: bucket}), fault.Validation, "only S3_SNAPSHOT"},
		{"default key collides", exportDetails(ds, rev, nil, one, dst{AssetId: b.ID, Bucket: bucket, Key: "report.csv"}), fault.Validation, "both write s3://dest-bucket/report.csv"},
		{"same asset twice to two keys", exportDetails(ds, rev, nil, one, dst{AssetId: a.ID, Bucket: bucket, Key: "copy.csv"}), "", ""},
		{"kms without key", exportDetails(ds, rev, &encryption{Type: "aws:kms"}, one), fault.Validation, "KmsKeyArn is required"},
		{"AES256 with key", exportDetails(ds, rev, &encryption{Type: "AES256", KmsKeyArn: "arn:aws:kms:k"}, one), fault.Validation, "can't be given"},
		{"unknown encryption", exportDetails(ds, rev, &encryption{Type: "aws:kms:dsse", KmsKeyArn: "k"}, one), fault.Validation, "not one of AES256, aws:kms"},
		{"encryption without type", raw(`{"AssetDestinations":[{"AssetId":%q,"Bucket":"abc"}],"DataSetId":%q,"RevisionId":%q,"Encryption":{}}`, a.ID, ds, rev), fault.Validation, "Encryption.Type is required"},
		{"AES256", exportDetails(ds, rev, &encryption{Type: "AES256"}, one), "", ""},
		{"aws:kms", exportDetails(ds, rev, &encryption{Type: "aws:kms", KmsKeyArn: "arn:aws:kms:k"}, one), "", ""},
		{"revoked revision", exportDetails(ds, revoked.ID, nil, dst{AssetId: revokedAsset.ID, Bucket: bucket}), fault.Conflict, "is revoked"},
		{"finalized revision", exportDetails(ds, finalized.ID, nil, dst{AssetId: finalizedAsset.ID, Bucket: bucket}), "", ""},
		{"entitled data set", exportDetails(entitled.ID, entitledRev.ID, nil, dst{AssetId: entitledAsset.ID, Bucket: bucket}), fault.AccessDenied, "entitled"},
		{"another account's data set", exportDetails(foreign.ID, foreignRev.ID, nil, dst{AssetId: foreignAsset.ID, Bucket: bucket}), fault.ResourceNotFound, "data set " + foreign.ID},
	} {
		t.Run(c.name, func(t *testing.T) {
			fe := e.wantCreate(t, resource.JobTypeExportAssetsToS3, c.details, c.want, c.message)
			if c.want == fault.ServiceLimitExceeded && (fe.LimitName != jobtypes.LimitExportDestinations || fe.LimitValue != 100) {
				t.Errorf("limit %q %g", fe.LimitName, fe.LimitValue)
			}
		})
	}
}

func TestExportMissingBucket(t *testing.T) {
	t.Parallel()
	for _, assets := range []string{localAssets, s3Assets} {
		t.Run(assets, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, options{assets: assets})
			in, _ := e.imported(3, 100)
			bucket := e.srv.NewBucket(t)
			const missing = "wharf-no-such-bucket-x2"
			job := e.exportJob(resource.JobStateError, nil,
				dst{AssetId: in[0].ID, Bucket: bucket}, dst{AssetId: in[1].ID, Bucket: missing}, dst{AssetId: in[2].ID, Bucket: bucket})
			errs := jobErrors(t, job)
			if len(errs) != 1 {
				t.Fatalf("errors %s, want one", job.Errors)
			}
			je := errs[0]
			if je.Code != jobs.CodeResourceNotFound || !strings.Contains(je.Message, `bucket "`+missing+`" does not exist`) ||
				je.ResourceType != string(resource.KindAsset) || je.ResourceID != in[1].ID {
				t.Errorf("error %+v", je)
			}
			// The buckets are checked before anything is written.
			if keys := e.srv.Keys(t, bucket); len(keys) != 0 {
				t.Errorf("the job wrote %v", keys)
			}
		})
	}
}

// The destination key defaults to the asset's name as it is when the job
// runs.
func TestExportDefaultKeyIsTheNameAtRunTime(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	in, data := e.imported(1, 321)
	a := in[0]
	bucket := e.srv.NewBucket(t)
	v, err := e.createJob(resource.JobTypeExportAssetsToS3, exportDetails(e.dataSet.ID, e.revision.ID, nil, dst{AssetId: a.ID, Bucket: bucket}))
	e.must(err)
	renamed := a
	renamed.Name = "renamed/after-create.bin"
	renamed.UpdatedAt = resource.Now()
	e.must(e.st.UpdateAsset(e.ctx, renamed))
	e.must(e.svc.StartJob(e.ctx, account, v.ID))
	e.waitEnd(v.ID, resource.JobStateCompleted)
	if keys := e.srv.Keys(t, bucket); !slices.Equal(keys, []string{renamed.Name}) {
		t.Fatalf("destination holds %v, want %s", keys, renamed.Name)
	}
	sameBytes(t, "exported", e.srv.GetObject(t, bucket, renamed.Name), data[a.Name])
}

// An endpoint's refusal that the user can fix (here, an unknown KMS key) is
// reported as such.
func TestExportUnknownKMSKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{assets: s3Assets})
	if !e.srv.HasKMS() {
		t.Skipf("%s has no KMS", e.srv.Kind)
	}
	in, _ := e.imported(1, 100)
	bucket := e.srv.NewBucket(t)
	job := e.exportJob(resource.JobStateError, &encryption{Type: "aws:kms", KmsKeyArn: "arn:aws:kms:no-such-key"},
		dst{AssetId: in[0].ID, Bucket: bucket})
	errs := jobErrors(t, job)
	if len(errs) != 1 || errs[0].Code == jobs.CodeInternalServer || errs[0].ResourceID != in[0].ID {
		t.Fatalf("errors %s: want one the user can act on, naming the asset", job.Errors)
	}
	t.Logf("reported as %+v", errs[0])
}

// A run cancelled mid-copy returns promptly and Cleanup leaves no multipart
// upload at the destinations.
func TestExportCancelledMidCopy(t *testing.T) {
	t.Parallel()
	for _, assets := range []string{localAssets, s3Assets} {
		t.Run(assets, func(t *testing.T) {
			t.Parallel()
			srv := s3test.Start(t)
			slow := slowProxy(t, srv, 2*mib)
			e := newEnv(t, options{assets: assets, noStart: true, accountProfile: &slow,
				deps: func(d *jobtypes.Deps) { d.Parallelism = 2 }})
			var in []resource.Asset
			for i := range 3 {
				in = append(in, e.seeded(fmt.Sprintf("big-%d", i), pattern(i, 12*mib)))
			}
			bucket := srv.NewBucket(t)
			var dsts []dst
			for _, a := range in {
				dsts = append(dsts, dst{AssetId: a.ID, Bucket: bucket})
			}
			job := e.createdJob(resource.JobTypeExportAssetsToS3, exportDetails(e.dataSet.ID, e.revision.ID, nil, dsts...))
			ctx, cancel := context.WithCancelCause(e.ctx)
			defer cancel(nil)
			log := progressLog{onFirst: func() { time.AfterFunc(200*time.Millisecond, func() { cancel(errStop) }) }}
			runner := e.runners[resource.JobTypeExportAssetsToS3]
			res, err := runner.Run(ctx, job, log.report)
			if !errors.Is(err, errStop) && !errors.Is(err, context.Canceled) {
				t.Fatalf("Run returned %v, %+v; want the cancellation", err, res)
			}
			if got := log.last(); got[0] >= got[1] {
				t.Errorf("last progress %v: want the run stopped mid-copy", got)
			}
			e.must(runner.Cleanup(e.ctx, job))
			if ups := srv.Uploads(t, bucket); len(ups) != 0 {
				t.Errorf("uploads left at the destination: %v", ups)
			}
		})
	}
}

// Cleanup aborts the multipart uploads at the job's destination keys
// (explicit or defaulting to the asset's name), and no others.
func TestExportCleanupAbortsUploads(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{noStart: true})
	a := e.insertAsset(e.revision, "named/by-default.csv", resource.AssetTypeS3Snapshot)
	b := e.insertAsset(e.revision, "b", resource.AssetTypeS3Snapshot)
	bucket := e.srv.NewBucket(t)
	job := e.createdJob(resource.JobTypeExportAssetsToS3, exportDetails(e.dataSet.ID, e.revision.ID, nil,
		dst{AssetId: a.ID, Bucket: bucket}, dst{AssetId: b.ID, Bucket: bucket, Key: "explicit/key"},
		dst{AssetId: b.ID, Bucket: "wharf-no-such-bucket-x3", Key: "k"}))
	createUpload(t, e.srv, bucket, "named/by-default.csv")
	createUpload(t, e.srv, bucket, "explicit/key")
	createUpload(t, e.srv, bucket, "explicit/key") // two uploads at one key
	createUpload(t, e.srv, bucket, "explicit/key-not-ours")
	e.srv.PutObject(t, bucket, "explicit/key", []byte("finished objects stay"))
	runner := e.runners[resource.JobTypeExportAssetsToS3]
	for range 2 { // idempotent
		e.must(runner.Cleanup(e.ctx, job))
		ups := e.srv.Uploads(t, bucket)
		if len(ups) != 1 || !strings.HasPrefix(ups[0], "explicit/key-not-ours ") {
			t.Fatalf("uploads after Cleanup: %v, want only the one at explicit/key-not-ours", ups)
		}
	}
	if keys := e.srv.Keys(t, bucket); !slices.Equal(keys, []string{"explicit/key"}) {
		t.Errorf("objects after Cleanup: %v", keys)
	}
}
