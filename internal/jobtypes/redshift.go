package jobtypes

import (
	"context"
	"fmt"
	"regexp"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// ImportFromRedshift runs IMPORT_ASSETS_FROM_REDSHIFT_DATA_SHARES jobs: each
// datashare ARN becomes a REDSHIFT_DATA_SHARE asset named after the
// datashare, AssetDetails {"RedshiftDataShareAsset":{"Arn":<the ARN>}}.
//
// Wharf checks the ARN's form only: no Redshift cluster or namespace is
// contacted, so whether the datashare exists, is authorized to ADX or is in
// the caller's account is not checked.
//
// Limits: 1 to 10 datashares per job ("Amazon Redshift datashare assets per
// import job from Redshift") and 20 assets per revision ("Amazon Redshift
// datashare assets per revision"), both ServiceLimitExceededException at
// CreateJob and StartJob; the revision quota is checked again when the
// assets are committed (a JobError SERVICE_QUOTA_EXCEEDED_EXCEPTION then).
type ImportFromRedshift struct {
	deps Deps
}

var _ jobs.Runner = (*ImportFromRedshift)(nil)

// dataShareARN is a Redshift datashare ARN:
// arn:aws:redshift:<region>:<account>:datashare:<producer namespace
// GUID>/<datashare name>, the name a Redshift identifier (a letter or
// underscore, then letters, digits, underscores or dollar signs, at most
// 127 characters).
var dataShareARN = regexp.MustCompile(`^arn:aws:redshift:` + regionPattern + `:\d{12}:datashare:` +
	`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/([A-Za-z_][A-Za-z0-9_$]{0,126})$`)

// DataShareName returns the datashare name an ARN ends with, or a
// ValidationException naming field if arn is not a datashare ARN.
func DataShareName(field, arn string) (string, error) {
	m := dataShareARN.FindStringSubmatch(arn)
	if m == nil {
		return "", fault.Validationf("%s %q is not a Redshift datashare ARN: the form is "+
			"arn:aws:redshift:<region>:<12-digit account>:datashare:<producer namespace id>/<datashare name>", field, arn)
	}
	return m[1], nil
}

type redshiftShare struct{ arn, name string }

func parseRedshift(job resource.Job) ([]redshiftShare, error) {
	var d struct {
		AssetSources *[]struct{ DataShareArn *string }
		RevisionId   *string
	}
	if err := decodeMember(job, &d); err != nil {
		return nil, err
	}
	if err := requireRevision(job, d.RevisionId); err != nil {
		return nil, err
	}
	if d.AssetSources == nil {
		return nil, fault.Validationf("Details.ImportAssetsFromRedshiftDataShares.AssetSources is required")
	}
	n := len(*d.AssetSources)
	if n == 0 {
		return nil, fault.Validationf("Details.ImportAssetsFromRedshiftDataShares.AssetSources must list at least one datashare")
	}
	if n > MaxRedshiftAssetsPerJob {
		e := fault.LimitExceeded(LimitRedshiftAssetsPerJob, MaxRedshiftAssetsPerJob)
		e.Message = fmt.Sprintf("an import job from Amazon Redshift takes at most %d datashares (got %d)", MaxRedshiftAssetsPerJob, n)
		return nil, e
	}
	shares := make([]redshiftShare, n)
	seen := make(map[string]int, n)
	for i, s := range *d.AssetSources {
		field := fmt.Sprintf("AssetSources[%d].DataShareArn", i)
		if s.DataShareArn == nil {
			return nil, fault.Validationf("%s is required", field)
		}
		name, err := DataShareName(field, *s.DataShareArn)
		if err != nil {
			return nil, err
		}
		if j, dup := seen[*s.DataShareArn]; dup {
			return nil, fault.Validationf("AssetSources[%d] and AssetSources[%d] both name %s", j, i, *s.DataShareArn)
		}
		seen[*s.DataShareArn] = i
		shares[i] = redshiftShare{arn: *s.DataShareArn, name: name}
	}
	return shares, nil
}

var redshiftQuota = jobs.Quota{Name: LimitRedshiftAssetsPerRevision, Value: MaxRedshiftAssetsPerRevision}

// Validate implements jobs.Runner.
func (r *ImportFromRedshift) Validate(ctx context.Context, q store.Queries, job resource.Job) error {
	shares, err := parseRedshift(job)
	if err != nil {
		return err
	}
	return referenceTarget(ctx, q, job, resource.AssetTypeRedshiftDataShare, len(shares), redshiftQuota)
}

// Run implements jobs.Runner.
func (r *ImportFromRedshift) Run(ctx context.Context, job resource.Job, progress jobs.Progress) (jobs.Result, error) {
	shares, err := parseRedshift(job)
	if err != nil {
		return jobs.Result{}, err
	}
	if err := referenceTarget(ctx, r.deps.Store, job, resource.AssetTypeRedshiftDataShare, len(shares), redshiftQuota); err != nil {
		return jobs.Result{}, err
	}
	assets := make([]resource.Asset, len(shares))
	for i, s := range shares {
		assets[i] = resource.Asset{
			ID:        jobs.AssetID(job.ID, i),
			Name:      s.name,
			AssetType: resource.AssetTypeRedshiftDataShare,
			Details:   mustJSON(map[string]any{"RedshiftDataShareAsset": map[string]string{"Arn": s.arn}}),
		}
	}
	return referenceResult(assets, redshiftQuota), nil
}

// Cleanup implements jobs.Runner: the job writes nothing outside the
// database.
func (r *ImportFromRedshift) Cleanup(context.Context, resource.Job) error { return nil }
