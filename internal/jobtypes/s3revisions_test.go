package jobtypes_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/jobtypes"
	"github.com/wharf-dev/wharf/internal/resource"
)

// revDst is a revision destination; KeyPattern nil is left out.
type revDst struct {
	Bucket     string
	KeyPattern *string `json:",omitempty"`
	RevisionId string
}

func revisionExportDetails(dataSetID string, enc *encryption, dsts ...revDst) json.RawMessage {
	m := map[string]any{"DataSetId": dataSetID, "RevisionDestinations": dsts}
	if enc != nil {
		m["Encryption"] = enc
	}
	b, err := json.Marshal(map[string]any{"ExportRevisionsToS3": m})
	if err != nil {
		panic(err)
	}
	return b
}

func ptr(s string) *string { return &s }

func TestRevisionExportValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{noStart: true})
	const bucket = "dest-bucket"
	ds, rev := e.dataSet.ID, e.revision.ID
	e.insertAsset(e.revision, "a.csv", resource.AssetTypeS3Snapshot)
	empty := e.newRevision(e.dataSet, false, false)
	revoked := e.newRevision(e.dataSet, false, true)
	e.insertAsset(revoked, "r", resource.AssetTypeS3Snapshot)
	finalized := e.newRevision(e.dataSet, true, false)
	e.insertAsset(finalized, "f", resource.AssetTypeS3Snapshot)
	entitled := e.newDataSet(account, resource.OriginEntitled, resource.AssetTypeS3Snapshot)
	entitledRev := e.newRevision(entitled, true, false)
	e.insertAsset(entitledRev, "e", resource.AssetTypeS3Snapshot)
	foreign := e.newDataSet(other, resource.OriginOwned, resource.AssetTypeS3Snapshot)
	foreignRev := e.newRevision(foreign, false, false)
	e.insertAsset(foreignRev, "f", resource.AssetTypeS3Snapshot)

	one := revDst{Bucket: bucket, RevisionId: rev}
	withPattern := func(p string) revDst { return revDst{Bucket: bucket, RevisionId: rev, KeyPattern: &p} }
	raw := func(format string, args ...any) json.RawMessage {
		return json.RawMessage(`{"ExportRevisionsToS3":` + fmt.Sprintf(format, args...) + `}`)
	}
	for _, c := range []struct {
		name    string
		details json.RawMessage
		want    string // exception name; "" for none
		message string
	}{
		{"default pattern", revisionExportDetails(ds, nil, one), "", ""},
		{"every reference", revisionExportDetails(ds, nil, withPattern("${DataSet.Id}/${DataSet.Name}/${Revision.Id}/${Revision.CreatedAt}/"+
			"${Revision.CreatedAt.Year}/${Revision.CreatedAt.Month}/${Revision.CreatedAt.Day}/${Asset.Id}/${Asset.Name}")), "", ""},
		{"finalized revision", revisionExportDetails(ds, nil, revDst{Bucket: bucket, RevisionId: finalized.ID}), "", ""},
		{"AES256", revisionExportDetails(ds, &encryption{Type: "AES256"}, one), "", ""},
		{"aws:kms", revisionExportDetails(ds, &encryption{Type: "aws:kms", KmsKeyArn: "arn:aws:kms:k"}, one), "", ""},
		{"pattern without an asset reference", revisionExportDetails(ds, nil, withPattern("${Revision.Id}/data")), fault.Validation, "must include ${Asset.Name} or ${Asset.Id}"},
		{"empty pattern", revisionExportDetails(ds, nil, withPattern("")), fault.Validation, "must include"},
		{"unknown reference", revisionExportDetails(ds, nil, withPattern("${Asset.Name}.${Asset.Size}")), fault.Validation, "not a dynamic reference"},
		{"two destinations", revisionExportDetails(ds, nil, one, one), fault.ServiceLimitExceeded, "one revision to one destination"},
		{"no destinations", raw(`{"DataSetId":%q,"RevisionDestinations":[]}`, ds), fault.Validation, "must list one destination"},
		{"destinations missing", raw(`{"DataSetId":%q}`, ds), fault.Validation, "RevisionDestinations is required"},
		{"revision id missing", raw(`{"DataSetId":%q,"RevisionDestinations":[{"Bucket":"abc"}]}`, ds), fault.Validation, "RevisionId is required"},
		{"bucket missing", raw(`{"DataSetId":%q,"RevisionDestinations":[{"RevisionId":%q}]}`, ds, rev), fault.Validation, "Bucket is required"},
		{"bad bucket", revisionExportDetails(ds, nil, revDst{Bucket: "No_Such", RevisionId: rev}), fault.Validation, "not a valid S3 bucket name"},
		{"kms without key", revisionExportDetails(ds, &encryption{Type: "aws:kms"}, one), fault.Validation, "KmsKeyArn is required"},
		{"unknown encryption", revisionExportDetails(ds, &encryption{Type: "none"}, one), fault.Validation, "not one of AES256, aws:kms"},
		{"unknown revision", revisionExportDetails(ds, nil, revDst{Bucket: bucket, RevisionId: resource.NewID()}), fault.ResourceNotFound, "revision"},
		{"revision without assets", revisionExportDetails(ds, nil, revDst{Bucket: bucket, RevisionId: empty.ID}), fault.Validation, "has no assets"},
		{"revoked revision", revisionExportDetails(ds, nil, revDst{Bucket: bucket, RevisionId: revoked.ID}), fault.Conflict, "is revoked"},
		{"entitled data set", revisionExportDetails(entitled.ID, nil, revDst{Bucket: bucket, RevisionId: entitledRev.ID}), fault.AccessDenied, "entitled"},
		{"another account's data set", revisionExportDetails(foreign.ID, nil, revDst{Bucket: bucket, RevisionId: foreignRev.ID}), fault.ResourceNotFound, "data set " + foreign.ID},
	} {
		t.Run(c.name, func(t *testing.T) {
			fe := e.wantCreate(t, resource.JobTypeExportRevisionsToS3, c.details, c.want, c.message)
			if c.want == fault.ServiceLimitExceeded && (fe.LimitName != jobtypes.LimitRevisionDestinations || fe.LimitValue != 1) {
				t.Errorf("limit %q %g", fe.LimitName, fe.LimitValue)
			}
		})
	}
}

// A revision export writes every asset at the key its pattern promises,
// with the job's encryption.
func TestRevisionExportWritesPatternKeys(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		assets string
		enc    string
	}{{localAssets, "AES256"}, {s3Assets, "aws:kms"}} {
		t.Run(c.assets+"/"+c.enc, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, options{assets: c.assets})
			enc := &encryption{Type: c.enc}
			if c.enc == "aws:kms" {
				if !e.srv.HasKMS() {
					t.Skipf("%s has no KMS", e.srv.Kind)
				}
				enc.KmsKeyArn = e.srv.KMSKeyID
			}
			in, data := e.imported(3, 70*1024)
			bucket := e.srv.NewBucket(t)
			pattern := "exports/${DataSet.Name}/${Revision.CreatedAt.Year}-${Revision.CreatedAt.Month}-${Revision.CreatedAt.Day}/${Revision.Id}/${Asset.Name}"
			job := e.run(resource.JobTypeExportRevisionsToS3, revisionExportDetails(e.dataSet.ID, enc,
				revDst{Bucket: bucket, RevisionId: e.revision.ID, KeyPattern: &pattern}), resource.JobStateCompleted)
			if job.BytesDone != 3*70*1024 || job.BytesTotal != job.BytesDone {
				t.Errorf("progress %d of %d", job.BytesDone, job.BytesTotal)
			}
			created := e.revision.CreatedAt.UTC()
			var want []string
			for _, a := range in {
				key := fmt.Sprintf("exports/%s/%04d-%02d-%02d/%s/%s", e.dataSet.Name, created.Year(), created.Month(), created.Day(), e.revision.ID, a.Name)
				want = append(want, key)
				sameBytes(t, key, e.srv.GetObject(t, bucket, key), data[a.Name])
				head := headObject(t, e.srv, bucket, key)
				if string(head.ServerSideEncryption) != c.enc {
					t.Errorf("%s: encryption %q, want %s", key, head.ServerSideEncryption, c.enc)
				}
				if c.enc == "aws:kms" && (head.SSEKMSKeyId == nil || !strings.Contains(*head.SSEKMSKeyId, e.srv.KMSKeyID)) {
					t.Errorf("%s: KMS key %v, want %s", key, head.SSEKMSKeyId, e.srv.KMSKeyID)
				}
			}
			slices.Sort(want)
			if keys := e.srv.Keys(t, bucket); !slices.Equal(keys, want) {
				t.Errorf("bucket holds %v, want %v", keys, want)
			}
		})
	}
}

// Two assets that resolve to one key fail the job before anything is
// written, even when the listing finds them on different pages.
func TestRevisionExportKeyCollision(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	for i := range 499 {
		e.insertAsset(e.revision, fmt.Sprintf("b-%03d", i), resource.AssetTypeS3Snapshot)
	}
	// Listed by name descending: the two "a" assets are the 500th and
	// 501st of 501, across the store page boundary.
	first := e.insertAsset(e.revision, "a", resource.AssetTypeS3Snapshot)
	second := e.insertAsset(e.revision, "a", resource.AssetTypeS3Snapshot)
	bucket := e.srv.NewBucket(t)
	job := e.run(resource.JobTypeExportRevisionsToS3, revisionExportDetails(e.dataSet.ID, nil,
		revDst{Bucket: bucket, RevisionId: e.revision.ID}), resource.JobStateError)
	errs := jobErrors(t, job)
	if len(errs) != 1 || errs[0].Code != jobs.CodeValidation || !strings.Contains(errs[0].Message, "both resolve to s3://"+bucket+"/a") ||
		!strings.Contains(errs[0].Message, first.ID) || !strings.Contains(errs[0].Message, second.ID) ||
		errs[0].ResourceType != string(resource.KindAsset) {
		t.Fatalf("errors %s", job.Errors)
	}
	if keys := e.srv.Keys(t, bucket); len(keys) != 0 {
		t.Errorf("the job wrote %v", keys)
	}
}

// EventActionArn is a ResponseDetails member only: a CreateJob request that
// sends one (any value) is taken, and the job doesn't carry it, so that no
// client can make its job look started by an event action.
func TestRevisionExportIgnoresClientEventActionArn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{noStart: true})
	e.insertAsset(e.revision, "a.csv", resource.AssetTypeS3Snapshot)
	for _, arn := range []string{
		"arn:aws:dataexchange:us-east-1:" + account + ":event-actions/" + resource.NewID(),
		"not an ARN",
	} {
		t.Run(arn, func(t *testing.T) {
			details := json.RawMessage(fmt.Sprintf(`{"ExportRevisionsToS3":{"DataSetId":%q,"EventActionArn":%q,`+
				`"RevisionDestinations":[{"Bucket":"dest-bucket","RevisionId":%q}]}}`, e.dataSet.ID, arn, e.revision.ID))
			v, err := e.createJob(resource.JobTypeExportRevisionsToS3, details)
			if err != nil {
				t.Fatalf("CreateJob: %v", err)
			}
			got, err := e.svc.GetJob(e.ctx, account, v.ID)
			if err != nil {
				t.Fatal(err)
			}
			for what, d := range map[string]json.RawMessage{"CreateJob": v.Details, "GetJob": got.Details} {
				if strings.Contains(string(d), "EventActionArn") {
					t.Errorf("%s's Details keep the client's EventActionArn: %s", what, d)
				}
				if !strings.Contains(string(d), `"dest-bucket"`) || !strings.Contains(string(d), e.dataSet.ID) {
					t.Errorf("%s's Details lost the request's members: %s", what, d)
				}
			}
		})
	}
}

// More assets than the limit (AWS: 10,000; 2 here, through Deps) is
// ServiceLimitExceededException at CreateJob, and at StartJob when assets
// were added since.
func TestRevisionExportAssetLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{noStart: true, deps: func(d *jobtypes.Deps) { d.MaxRevisionExportAssets = 2 }})
	e.insertAsset(e.revision, "a", resource.AssetTypeS3Snapshot)
	e.insertAsset(e.revision, "b", resource.AssetTypeS3Snapshot)
	details := revisionExportDetails(e.dataSet.ID, nil, revDst{Bucket: "dest-bucket", RevisionId: e.revision.ID})
	atLimit, err := e.createJob(resource.JobTypeExportRevisionsToS3, details)
	if err != nil {
		t.Fatalf("CreateJob of 2 assets: %v", err)
	}
	e.insertAsset(e.revision, "c", resource.AssetTypeS3Snapshot)
	checkLimit := func(what string, err error) {
		t.Helper()
		fe := wantFault(t, err, fault.ServiceLimitExceeded)
		if fe.LimitName != jobtypes.LimitRevisionExportAssets || fe.LimitValue != 2 || !strings.Contains(fe.Message, "at most 2 assets") {
			t.Errorf("%s: limit %q %g, message %q", what, fe.LimitName, fe.LimitValue, fe.Message)
		}
	}
	_, err = e.createJob(resource.JobTypeExportRevisionsToS3, details)
	checkLimit("CreateJob", err)
	checkLimit("StartJob", e.svc.StartJob(e.ctx, account, atLimit.ID))
	if j := e.job(atLimit.ID); j.State != resource.JobStateWaiting {
		t.Errorf("refused StartJob left the job %s", j.State)
	}
}
