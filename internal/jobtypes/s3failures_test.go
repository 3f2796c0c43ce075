package jobtypes_test

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/jobtypes"
	"github.com/wharf-dev/wharf/internal/proctest"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/s3access"
	"github.com/wharf-dev/wharf/internal/s3test"
)

// engineWatch captures an env's engine log and metrics.
type engineWatch struct {
	log     proctest.Buffer
	metrics *prometheus.Registry
}

// watched returns options whose engine logs (from INFO) and counts into w.
func watched(o options) (options, *engineWatch) {
	w := &engineWatch{metrics: prometheus.NewRegistry()}
	o.config = func(c *jobs.Config) {
		c.Logger = slog.New(slog.NewTextHandler(&w.log, &slog.HandlerOptions{Level: slog.LevelInfo}))
		c.Metrics = w.metrics
	}
	return o, w
}

// noFalseAlarms fails t if the engine logged an ERROR or counted a failed
// clean-up: the jobs failed for reasons of S3, not of Wharf.
func (w *engineWatch) noFalseAlarms(t *testing.T) {
	t.Helper()
	if n := cleanupFailures(t, w.metrics); n != 0 {
		t.Errorf("wharf_job_cleanup_failures_total = %v, want 0\nlog:\n%s", n, w.log.String())
	}
	if log := w.log.String(); strings.Contains(log, "level=ERROR") {
		t.Errorf("the engine logged an ERROR:\n%s", log)
	}
}

// cleanupFailures sums wharf_job_cleanup_failures_total over its labels.
func cleanupFailures(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range families {
		if f.GetName() == "wharf_job_cleanup_failures_total" {
			for _, m := range f.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// closedEndpoint is a profile whose endpoint refuses connections: a port
// found free, where nothing listens.
func closedEndpoint(t *testing.T, srv *s3test.Server) s3access.Profile {
	t.Helper()
	port, err := proctest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	p := profileOf(srv)
	p.Endpoint = fmt.Sprintf("http://127.0.0.1:%d", port)
	return p
}

// wrongSecret is srv's profile with a secret key it does not know.
func wrongSecret(srv *s3test.Server) s3access.Profile {
	p := profileOf(srv)
	p.SecretAccessKey = "not-the-secret-key-of-this-server"
	return p
}

// oneError returns the job's only error, failing t otherwise.
func oneError(t *testing.T, job resource.Job) jobs.JobError {
	t.Helper()
	errs := jobErrors(t, job)
	if len(errs) != 1 {
		t.Fatalf("errors %s, want one", job.Errors)
	}
	return errs[0]
}

// wantMessage fails t unless je has code and its message says every part.
func wantMessage(t *testing.T, je jobs.JobError, code string, parts ...string) {
	t.Helper()
	if je.Code != code {
		t.Errorf("code %s, want %s (message %q)", je.Code, code, je.Message)
	}
	for _, p := range parts {
		if !strings.Contains(je.Message, p) {
			t.Errorf("message %q does not say %q", je.Message, p)
		}
	}
}

// An import's S3 failures name their cause: S3's error code and message, or
// the endpoint that could not be reached, with the bucket and key; and the
// job's clean-up, with nothing to remove, neither logs an ERROR nor counts
// a failure.
func TestImportNamesS3Failures(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	bucket := srv.NewBucket(t)
	srv.PutObject(t, bucket, "in/data.csv", []byte("a,b\n"))
	uri := "s3://" + bucket + "/in/data.csv"

	t.Run("refused credentials", func(t *testing.T) {
		t.Parallel()
		p := wrongSecret(srv)
		o, w := watched(options{accountProfile: &p})
		e := newEnv(t, o)
		je := oneError(t, e.importJob(resource.JobStateError, src{bucket, "in/data.csv"}))
		// HEAD answers a bare 403; the run asks again with a GET to learn
		// S3's code.
		wantMessage(t, je, jobs.CodeAccessDenied, "S3 refused to read "+uri, "SignatureDoesNotMatch", "HTTP 403")
		if je.ResourceID != uri || len(errorSources(t, je)) != 1 {
			t.Errorf("error %+v: want it to name the source", je)
		}
		w.noFalseAlarms(t)
	})

	t.Run("endpoint refuses connections", func(t *testing.T) {
		t.Parallel()
		p := closedEndpoint(t, srv)
		o, w := watched(options{accountProfile: &p})
		e := newEnv(t, o)
		je := oneError(t, e.importJob(resource.JobStateError, src{bucket, "in/data.csv"}, src{bucket, "in/other.csv"}))
		wantMessage(t, je, jobs.CodeValidation, "the S3 endpoint "+p.Endpoint+" could not be reached",
			"2 source objects", uri, "s3://"+bucket+"/in/other.csv", "connection refused")
		if got := errorSources(t, je); len(got) != 2 {
			t.Errorf("details %v: want both sources", got)
		}
		w.noFalseAlarms(t)
	})

	t.Run("missing source", func(t *testing.T) {
		t.Parallel()
		o, w := watched(options{assets: s3Assets})
		e := newEnv(t, o)
		je := oneError(t, e.importJob(resource.JobStateError, src{bucket, "in/absent.csv"}))
		wantMessage(t, je, jobs.CodeResourceNotFound, "in/absent.csv", bucket)
		w.noFalseAlarms(t)
	})
}

// An export's S3 failures name their cause, with the destination: AES256 on
// a server without KMS, refused credentials, an endpoint that refuses
// connections; the clean-up raises no false alarm.
func TestExportNamesS3Failures(t *testing.T) {
	t.Parallel()

	t.Run("AES256 without KMS", func(t *testing.T) {
		t.Parallel()
		plain := s3test.StartWithoutKMS(t, "export-without-kms")
		p := profileOf(plain)
		o, w := watched(options{accountProfile: &p})
		e := newEnv(t, o)
		a := e.seeded("data.csv", []byte("a,b\n1,2\n"))
		bucket := plain.NewBucket(t)
		job := e.exportJob(resource.JobStateError, &encryption{Type: "AES256"}, dst{AssetId: a.ID, Bucket: bucket, Key: "out/data.csv"})
		je := oneError(t, job)
		wantMessage(t, je, jobs.CodeValidation, "S3 refused to write s3://"+bucket+"/out/data.csv",
			"NotImplemented", "KMS is not configured", "HTTP 501", a.ID)
		if je.ResourceID != a.ID || je.ResourceType != string(resource.KindAsset) {
			t.Errorf("error %+v: want it to name the asset", je)
		}
		if keys := plain.Keys(t, bucket); len(keys) != 0 {
			t.Errorf("objects written: %v", keys)
		}
		w.noFalseAlarms(t)
	})

	t.Run("refused credentials", func(t *testing.T) {
		t.Parallel()
		srv := s3test.Start(t)
		p := wrongSecret(srv)
		o, w := watched(options{accountProfile: &p})
		e := newEnv(t, o)
		a := e.seeded("data.csv", []byte("a,b\n"))
		bucket := srv.NewBucket(t)
		je := oneError(t, e.exportJob(resource.JobStateError, nil, dst{AssetId: a.ID, Bucket: bucket, Key: "k.csv"}))
		wantMessage(t, je, jobs.CodeAccessDenied, "S3 refused to write s3://"+bucket+"/k.csv", "SignatureDoesNotMatch")
		w.noFalseAlarms(t)
	})

	t.Run("endpoint refuses connections", func(t *testing.T) {
		t.Parallel()
		srv := s3test.Start(t)
		p := closedEndpoint(t, srv)
		o, w := watched(options{accountProfile: &p})
		e := newEnv(t, o)
		a := e.seeded("data.csv", []byte("a,b\n"))
		je := oneError(t, e.exportJob(resource.JobStateError, nil, dst{AssetId: a.ID, Bucket: "some-bucket", Key: "k.csv"}))
		wantMessage(t, je, jobs.CodeValidation, "the S3 endpoint "+p.Endpoint+" could not be reached",
			"s3://some-bucket/k.csv", "connection refused")
		w.noFalseAlarms(t)
	})

	t.Run("no S3 credentials", func(t *testing.T) {
		t.Parallel()
		o, w := watched(options{deps: func(d *jobtypes.Deps) { d.S3 = nopResolver{} }})
		e := newEnv(t, o)
		a := e.seeded("data.csv", []byte("a,b\n"))
		je := oneError(t, e.exportJob(resource.JobStateError, nil, dst{AssetId: a.ID, Bucket: "some-bucket"}))
		wantMessage(t, je, jobs.CodeAccessDenied, "no S3 credentials")
		// A WAITING job cancelled: it never ran, so nothing to clean up.
		v, err := e.createJob(resource.JobTypeExportAssetsToS3, exportDetails(e.dataSet.ID, e.revision.ID, nil,
			dst{AssetId: a.ID, Bucket: "some-bucket"}))
		e.must(err)
		e.must(e.svc.CancelJob(e.ctx, account, v.ID))
		w.noFalseAlarms(t)
	})
}
