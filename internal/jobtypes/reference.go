package jobtypes

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// Reference assets (Redshift datashares, API Gateway APIs, Lake Formation
// tag policies, S3 data access) name something that lives outside Wharf:
// their jobs move no bytes and leave nothing outside the database, so
// their runners share this file's checks and have nothing to clean up.

// AWS's default quotas on reference assets, with AWS's LimitName strings.
const (
	MaxRedshiftAssetsPerRevision      = 20
	MaxRedshiftAssetsPerJob           = 10
	MaxAPIGatewayAssetsPerRevision    = 20
	MaxLakeFormationAssetsPerRevision = 20
	MaxS3DataAccessAssetsPerRevision  = 5

	LimitRedshiftAssetsPerRevision      = "Amazon Redshift datashare assets per revision"
	LimitRedshiftAssetsPerJob           = "Amazon Redshift datashare assets per import job from Redshift"
	LimitAPIGatewayAssetsPerRevision    = "Amazon API Gateway API assets per revision"
	LimitLakeFormationAssetsPerRevision = "AWS Lake Formation data permission assets per revision"
	LimitS3DataAccessAssetsPerRevision  = "Amazon S3 data access assets per revision"
)

// referenceTarget checks that the job's account owns the job's data set,
// that the data set holds assetType assets, and that the revision takes
// new assets: n more within quota.
func referenceTarget(ctx context.Context, q store.Queries, job resource.Job, assetType string, n int, quota jobs.Quota) error {
	ds, err := authorize(ctx, q, job, importing)
	if err != nil {
		return err
	}
	if ds.AssetType != assetType {
		return fault.Validationf("data set %s holds %s assets: %s jobs import %s assets, into data sets created with AssetType %s",
			ds.ID, ds.AssetType, job.Type, assetType, assetType)
	}
	rev, err := loadRevision(ctx, q, job, true)
	if err != nil {
		return err
	}
	have, err := q.CountAssets(ctx, job.AccountID, job.DataSetID, job.RevisionID)
	if err != nil {
		return fmt.Errorf("jobtypes: count assets: %w", err)
	}
	if have+n > quota.Value {
		e := fault.LimitExceeded(quota.Name, float64(quota.Value))
		e.Message = fmt.Sprintf("revision %s has %d assets: %d more would exceed the limit %q (%d)",
			rev.ID, have, n, quota.Name, quota.Value)
		return e
	}
	return nil
}

// requireRevision checks the RevisionId member (DataSetId is checked by the
// jobs service).
func requireRevision(job resource.Job, revisionID *string) error {
	if revisionID == nil || job.RevisionID == "" {
		return fault.Validationf("Details.%s.RevisionId is required", jobs.DetailsMember(job.Type))
	}
	return nil
}

// referenceResult is a run's result: assets, checked against quota when
// they are committed.
func referenceResult(assets []resource.Asset, quota jobs.Quota) jobs.Result {
	return jobs.Result{Assets: assets, RevisionQuota: &quota}
}

// mustJSON encodes asset details made of strings and lists.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic("jobtypes: encoding asset details: " + err.Error())
	}
	return b
}

// Patterns shared by the reference types.
var (
	// regionPattern is an AWS region name (us-east-1, ap-southeast-2,
	// us-gov-west-1).
	regionPattern = `[a-z]{2}(?:-[a-z]+)+-[0-9]+`
	// iamRoleARN is the model's RoleArn pattern.
	iamRoleARN = regexp.MustCompile(`^arn:aws:iam::(\d{12}):role/.+$`)
	// accountID is the model's AwsAccountId.
	accountID = regexp.MustCompile(`^\d{12}$`)
)
