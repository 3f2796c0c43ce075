package jobtypes

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"unicode/utf8"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

// ImportFromLakeFormation runs IMPORT_ASSETS_FROM_LAKE_FORMATION_TAG_POLICY
// jobs: the job's Database and Table LF-tag policies become
// LAKE_FORMATION_DATA_PERMISSION assets named, as AWS names them,
// "Database(s) included in LF-tag policy" and "Table(s) included in LF-tag
// policy" (one asset per policy the job holds, the database one first),
// with the LakeFormationDataPermissionAsset details AWS gives them:
//
//	{"LakeFormationDataPermissionAsset": {
//	  "LakeFormationDataPermissionDetails": {"LFTagPolicy": {
//	    "CatalogId": ..., "ResourceType": "DATABASE" | "TABLE",
//	    "ResourceDetails": {"Database" | "Table": {"Expression": [LFTag...]}}}},
//	  "LakeFormationDataPermissionType": "LFTagPolicy",
//	  "Permissions": [...], "RoleArn": ...}}
//
// Wharf checks the request's form only: Lake Formation and Glue are not
// contacted, so the role is not assumed and no LF-tag, database or table is
// looked up or granted.
//
// Limit: 20 assets per revision ("AWS Lake Formation data permission assets
// per revision").
type ImportFromLakeFormation struct {
	deps Deps
}

var _ jobs.Runner = (*ImportFromLakeFormation)(nil)

// Asset names, AWS's.
const (
	LakeFormationDatabaseAssetName = "Database(s) included in LF-tag policy"
	LakeFormationTableAssetName    = "Table(s) included in LF-tag policy"
)

// Lake Formation's LFTag limits (its API reference).
const (
	maxLFTagKeyLen        = 128
	maxLFTagValueLen      = 256
	maxLFTagValues        = 50
	maxLFTagsInExpression = 50
)

var (
	lfTagKey   = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@%]*$`)
	lfTagValue = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:*/=+\-@%]*$`)
)

// LFTag is one condition of an LF-tag expression, with its wire names.
type LFTag struct {
	TagKey    string   `json:"TagKey"`
	TagValues []string `json:"TagValues"`
}

type lfPolicyRequest struct {
	Expression *[]struct {
		TagKey    *string
		TagValues *[]string
	}
	Permissions *[]string
}

// lfPolicy is one checked policy of the job.
type lfPolicy struct {
	resourceType string // DATABASE or TABLE
	member       string // Database or Table
	name         string
	expression   []LFTag
	permissions  []string
}

type lfJob struct {
	catalogID, roleARN string
	policies           []lfPolicy
}

func parseLakeFormation(job resource.Job) (lfJob, error) {
	var d struct {
		CatalogId  *string
		Database   *lfPolicyRequest
		Table      *lfPolicyRequest
		RoleArn    *string
		RevisionId *string
	}
	if err := decodeMember(job, &d); err != nil {
		return lfJob{}, err
	}
	if err := requireRevision(job, d.RevisionId); err != nil {
		return lfJob{}, err
	}
	const member = "Details.ImportAssetsFromLakeFormationTagPolicy"
	switch {
	case d.CatalogId == nil:
		return lfJob{}, fault.Validationf("%s.CatalogId is required", member)
	case !accountID.MatchString(*d.CatalogId):
		return lfJob{}, fault.Validationf("%s.CatalogId %q is not a Data Catalog id: it is the 12-digit id of the catalog's account", member, *d.CatalogId)
	case d.RoleArn == nil:
		return lfJob{}, fault.Validationf("%s.RoleArn is required", member)
	case !iamRoleARN.MatchString(*d.RoleArn):
		return lfJob{}, fault.Validationf("%s.RoleArn %q is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)", member, *d.RoleArn)
	case d.Database == nil && d.Table == nil:
		return lfJob{}, fault.Validationf("%s needs a Database or a Table LF-tag policy (or both)", member)
	}
	out := lfJob{catalogID: *d.CatalogId, roleARN: *d.RoleArn}
	for _, p := range []struct {
		req          *lfPolicyRequest
		member, rt   string
		name         string
		allowedPerms []string
	}{
		{d.Database, "Database", "DATABASE", LakeFormationDatabaseAssetName, []string{"DESCRIBE"}},
		{d.Table, "Table", "TABLE", LakeFormationTableAssetName, []string{"DESCRIBE", "SELECT"}},
	} {
		if p.req == nil {
			continue
		}
		field := member + "." + p.member
		expr, err := checkLFExpression(field+".Expression", p.req.Expression)
		if err != nil {
			return lfJob{}, err
		}
		perms, err := checkLFPermissions(field+".Permissions", p.req.Permissions, p.allowedPerms)
		if err != nil {
			return lfJob{}, err
		}
		out.policies = append(out.policies, lfPolicy{resourceType: p.rt, member: p.member, name: p.name,
			expression: expr, permissions: perms})
	}
	return out, nil
}

func checkLFExpression(field string, expr *[]struct {
	TagKey    *string
	TagValues *[]string
}) ([]LFTag, error) {
	if expr == nil {
		return nil, fault.Validationf("%s is required", field)
	}
	if len(*expr) == 0 || len(*expr) > maxLFTagsInExpression {
		return nil, fault.Validationf("%s must hold 1 to %d LF-tags (got %d)", field, maxLFTagsInExpression, len(*expr))
	}
	out := make([]LFTag, len(*expr))
	keys := make(map[string]int, len(*expr))
	for i, t := range *expr {
		f := fmt.Sprintf("%s[%d]", field, i)
		if t.TagKey == nil {
			return nil, fault.Validationf("%s.TagKey is required", f)
		}
		k := *t.TagKey
		if n := utf8.RuneCountInString(k); n < 1 || n > maxLFTagKeyLen || !utf8.ValidString(k) || !lfTagKey.MatchString(k) {
			return nil, fault.Validationf("%s.TagKey %q is not an LF-tag key: 1 to %d letters, digits, spaces and _.:/=+-@%%", f, k, maxLFTagKeyLen)
		}
		if j, dup := keys[k]; dup {
			return nil, fault.Validationf("%s[%d] and %s[%d] both have the TagKey %q", field, j, field, i, k)
		}
		keys[k] = i
		if t.TagValues == nil {
			return nil, fault.Validationf("%s.TagValues is required", f)
		}
		vals := *t.TagValues
		if len(vals) == 0 || len(vals) > maxLFTagValues {
			return nil, fault.Validationf("%s.TagValues must hold 1 to %d values (got %d)", f, maxLFTagValues, len(vals))
		}
		for vi, v := range vals {
			if utf8.RuneCountInString(v) > maxLFTagValueLen || !utf8.ValidString(v) || !lfTagValue.MatchString(v) {
				return nil, fault.Validationf("%s.TagValues[%d] %q is not an LF-tag value: at most %d letters, digits, spaces and _.:*/=+-@%%", f, vi, v, maxLFTagValueLen)
			}
			if slices.Contains(vals[:vi], v) {
				return nil, fault.Validationf("%s.TagValues lists %q twice", f, v)
			}
		}
		out[i] = LFTag{TagKey: k, TagValues: slices.Clone(vals)}
	}
	return out, nil
}

func checkLFPermissions(field string, perms *[]string, allowed []string) ([]string, error) {
	if perms == nil {
		return nil, fault.Validationf("%s is required", field)
	}
	if len(*perms) == 0 {
		return nil, fault.Validationf("%s must list at least one of %v", field, allowed)
	}
	for i, p := range *perms {
		if !slices.Contains(allowed, p) {
			return nil, fault.Validationf("%s[%d] %q is not one of %v", field, i, p, allowed)
		}
		if slices.Contains((*perms)[:i], p) {
			return nil, fault.Validationf("%s lists %q twice", field, p)
		}
	}
	return slices.Clone(*perms), nil
}

var lakeFormationQuota = jobs.Quota{Name: LimitLakeFormationAssetsPerRevision, Value: MaxLakeFormationAssetsPerRevision}

// Validate implements jobs.Runner.
func (r *ImportFromLakeFormation) Validate(ctx context.Context, q store.Queries, job resource.Job) error {
	lf, err := parseLakeFormation(job)
	if err != nil {
		return err
	}
	return referenceTarget(ctx, q, job, resource.AssetTypeLakeFormationDataPermission, len(lf.policies), lakeFormationQuota)
}

// Run implements jobs.Runner.
func (r *ImportFromLakeFormation) Run(ctx context.Context, job resource.Job, progress jobs.Progress) (jobs.Result, error) {
	lf, err := parseLakeFormation(job)
	if err != nil {
		return jobs.Result{}, err
	}
	if err := referenceTarget(ctx, r.deps.Store, job, resource.AssetTypeLakeFormationDataPermission, len(lf.policies), lakeFormationQuota); err != nil {
		return jobs.Result{}, err
	}
	assets := make([]resource.Asset, len(lf.policies))
	for i, p := range lf.policies {
		details := map[string]any{"LakeFormationDataPermissionAsset": map[string]any{
			"LakeFormationDataPermissionDetails": map[string]any{"LFTagPolicy": map[string]any{
				"CatalogId":       lf.catalogID,
				"ResourceType":    p.resourceType,
				"ResourceDetails": map[string]any{p.member: map[string]any{"Expression": p.expression}},
			}},
			"LakeFormationDataPermissionType": "LFTagPolicy",
			"Permissions":                     p.permissions,
			"RoleArn":                         lf.roleARN,
		}}
		assets[i] = resource.Asset{
			ID:        jobs.AssetID(job.ID, i),
			Name:      p.name,
			AssetType: resource.AssetTypeLakeFormationDataPermission,
			Details:   mustJSON(details),
		}
	}
	return referenceResult(assets, lakeFormationQuota), nil
}

// Cleanup implements jobs.Runner: the job writes nothing outside the
// database.
func (r *ImportFromLakeFormation) Cleanup(context.Context, resource.Job) error { return nil }
