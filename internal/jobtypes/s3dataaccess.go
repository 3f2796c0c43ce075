package jobtypes

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// CreateS3DataAccess runs CREATE_S3_DATA_ACCESS_FROM_S3_BUCKET jobs: the
// job's AssetSource becomes one S3_DATA_ACCESS asset named after the bucket,
// with AssetDetails.S3DataAccessAsset holding the bucket, the keys, key
// prefixes and KMS keys to grant as the job gave them, and the S3 access
// point alias and ARN Wharf gives the asset (see S3AccessPoint).
//
// Wharf checks the request's form only: the bucket is not read, no access
// point is created and no KMS grant is made; the alias and ARN name no
// real access point.
//
// Limit: 5 assets per revision ("Amazon S3 data access assets per
// revision").
type CreateS3DataAccess struct {
	deps Deps
}

var _ jobs.Runner = (*CreateS3DataAccess)(nil)

// Wharf's limits on an S3 data access asset (AWS documents none) and the
// model's limit on KmsKeysToGrant.
const (
	MaxS3DataAccessKeys        = 1000
	MaxS3DataAccessKeyPrefixes = 1000
	maxKmsKeysToGrant          = 10
	maxKmsKeyARNLen            = 2048
)

// kmsKeyARN is a KMS key ARN (key ids are UUIDs, or mrk-<hex> for
// multi-Region keys).
var kmsKeyARN = regexp.MustCompile(`^arn:aws:kms:` + regionPattern + `:\d{12}:key/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`)

// KmsKeyToGrant is one entry of KmsKeysToGrant, with its wire name.
type KmsKeyToGrant struct {
	KmsKeyArn string `json:"KmsKeyArn"`
}

// S3DataAccessAsset is the S3DataAccessAsset member of AssetDetails.
type S3DataAccessAsset struct {
	Bucket             string          `json:"Bucket"`
	KeyPrefixes        []string        `json:"KeyPrefixes,omitempty"`
	Keys               []string        `json:"Keys,omitempty"`
	S3AccessPointAlias string          `json:"S3AccessPointAlias"`
	S3AccessPointArn   string          `json:"S3AccessPointArn"`
	KmsKeysToGrant     []KmsKeyToGrant `json:"KmsKeysToGrant,omitempty"`
}

// S3AccessPoint returns the access point name, alias and ARN Wharf gives the
// S3 data access asset assetID of account in region, mimicking AWS's
// forms: the name is "adx-" and the asset id; the alias is the name, a
// hyphen, 34 lowercase letters and digits derived from the asset id (AWS's
// are random; Wharf's are the same on every run of a job) and "-s3alias";
// the ARN is arn:aws:s3:<region>:<account>:accesspoint/<name>.
func S3AccessPoint(region, account, assetID string) (name, alias, arn string) {
	name = "adx-" + strings.ToLower(assetID)
	h := sha256.Sum256([]byte("wharf s3 access point alias\x00" + assetID))
	suffix := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:]))[:34]
	return name, name + "-" + suffix + "-s3alias", fmt.Sprintf("arn:aws:s3:%s:%s:accesspoint/%s", region, account, name)
}

type s3DataAccessRequest struct {
	bucket            string
	keyPrefixes, keys []string
	kmsKeys           []KmsKeyToGrant
}

func parseS3DataAccess(job resource.Job) (s3DataAccessRequest, error) {
	var d struct {
		AssetSource *struct {
			Bucket         *string
			KeyPrefixes    *[]string
			Keys           *[]string
			KmsKeysToGrant *[]struct{ KmsKeyArn *string }
		}
		RevisionId *string
	}
	if err := decodeMember(job, &d); err != nil {
		return s3DataAccessRequest{}, err
	}
	if err := requireRevision(job, d.RevisionId); err != nil {
		return s3DataAccessRequest{}, err
	}
	if d.AssetSource == nil {
		return s3DataAccessRequest{}, fault.Validationf("Details.CreateS3DataAccessFromS3Bucket.AssetSource is required")
	}
	src := d.AssetSource
	if err := checkBucket("AssetSource.Bucket", src.Bucket); err != nil {
		return s3DataAccessRequest{}, err
	}
	out := s3DataAccessRequest{bucket: *src.Bucket}
	var err error
	if src.KeyPrefixes != nil {
		if out.keyPrefixes, err = checkKeyList("AssetSource.KeyPrefixes", *src.KeyPrefixes, MaxS3DataAccessKeyPrefixes); err != nil {
			return s3DataAccessRequest{}, err
		}
	}
	if src.Keys != nil {
		if out.keys, err = checkKeyList("AssetSource.Keys", *src.Keys, MaxS3DataAccessKeys); err != nil {
			return s3DataAccessRequest{}, err
		}
	}
	if src.KmsKeysToGrant != nil {
		list := *src.KmsKeysToGrant
		if len(list) == 0 || len(list) > maxKmsKeysToGrant {
			return s3DataAccessRequest{}, fault.Validationf("AssetSource.KmsKeysToGrant must list 1 to %d KMS keys (got %d)", maxKmsKeysToGrant, len(list))
		}
		for i, k := range list {
			field := fmt.Sprintf("AssetSource.KmsKeysToGrant[%d].KmsKeyArn", i)
			switch {
			case k.KmsKeyArn == nil:
				return s3DataAccessRequest{}, fault.Validationf("%s is required", field)
			case len(*k.KmsKeyArn) < 1 || len(*k.KmsKeyArn) > maxKmsKeyARNLen:
				return s3DataAccessRequest{}, fault.Validationf("%s must be 1 to %d characters long", field, maxKmsKeyARNLen)
			case !kmsKeyARN.MatchString(*k.KmsKeyArn):
				return s3DataAccessRequest{}, fault.Validationf("%s %q is not a KMS key ARN (arn:aws:kms:<region>:<12-digit account>:key/<key id>)", field, *k.KmsKeyArn)
			}
			entry := KmsKeyToGrant{KmsKeyArn: *k.KmsKeyArn}
			if slices.Contains(out.kmsKeys, entry) {
				return s3DataAccessRequest{}, fault.Validationf("AssetSource.KmsKeysToGrant lists %s twice", entry.KmsKeyArn)
			}
			out.kmsKeys = append(out.kmsKeys, entry)
		}
	}
	return out, nil
}

// checkKeyList checks a list of S3 keys or key prefixes: each 1 to 1024
// bytes of UTF-8, none twice, at most limit.
func checkKeyList(field string, list []string, limit int) ([]string, error) {
	if len(list) > limit {
		return nil, fault.Validationf("%s may list at most %d entries (got %d)", field, limit, len(list))
	}
	for i, k := range list {
		if err := checkObjectKey(fmt.Sprintf("%s[%d]", field, i), k); err != nil {
			return nil, err
		}
		if slices.Contains(list[:i], k) {
			return nil, fault.Validationf("%s lists %q twice", field, k)
		}
	}
	return slices.Clone(list), nil
}

var s3DataAccessQuota = jobs.Quota{Name: LimitS3DataAccessAssetsPerRevision, Value: MaxS3DataAccessAssetsPerRevision}

// Validate implements jobs.Runner.
func (r *CreateS3DataAccess) Validate(ctx context.Context, q store.Queries, job resource.Job) error {
	if _, err := parseS3DataAccess(job); err != nil {
		return err
	}
	return referenceTarget(ctx, q, job, resource.AssetTypeS3DataAccess, 1, s3DataAccessQuota)
}

// Run implements jobs.Runner.
func (r *CreateS3DataAccess) Run(ctx context.Context, job resource.Job, progress jobs.Progress) (jobs.Result, error) {
	req, err := parseS3DataAccess(job)
	if err != nil {
		return jobs.Result{}, err
	}
	if err := referenceTarget(ctx, r.deps.Store, job, resource.AssetTypeS3DataAccess, 1, s3DataAccessQuota); err != nil {
		return jobs.Result{}, err
	}
	id := jobs.AssetID(job.ID, 0)
	_, alias, arn := S3AccessPoint(r.deps.Region, job.AccountID, id)
	details := S3DataAccessAsset{
		Bucket:             req.bucket,
		KeyPrefixes:        req.keyPrefixes,
		Keys:               req.keys,
		S3AccessPointAlias: alias,
		S3AccessPointArn:   arn,
		KmsKeysToGrant:     req.kmsKeys,
	}
	asset := resource.Asset{
		ID:        id,
		Name:      req.bucket,
		AssetType: resource.AssetTypeS3DataAccess,
		Details:   mustJSON(map[string]any{"S3DataAccessAsset": details}),
	}
	return referenceResult([]resource.Asset{asset}, s3DataAccessQuota), nil
}

// Cleanup implements jobs.Runner: the job writes nothing outside the
// database.
func (r *CreateS3DataAccess) Cleanup(context.Context, resource.Job) error { return nil }
