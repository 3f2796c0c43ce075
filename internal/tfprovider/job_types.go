package tfprovider

import (
	"fmt"
	"sort"
	"strings"
)

// Job types the job resource accepts (the seed's list).
const (
	typeImportFromS3            = "IMPORT_ASSETS_FROM_S3"
	typeImportFromSignedURL     = "IMPORT_ASSET_FROM_SIGNED_URL"
	typeImportFromRedshift      = "IMPORT_ASSETS_FROM_REDSHIFT_DATA_SHARES"
	typeImportFromAPIGateway    = "IMPORT_ASSET_FROM_API_GATEWAY_API"
	typeExportToS3              = "EXPORT_ASSETS_TO_S3"
	typeExportToSignedURL       = "EXPORT_ASSET_TO_SIGNED_URL"
	typeExportRevisionsToS3     = "EXPORT_REVISIONS_TO_S3"
	typeImportFromLakeFormation = "IMPORT_ASSETS_FROM_LAKE_FORMATION_TAG_POLICY"
)

var jobTypes = []string{
	typeImportFromS3, typeImportFromSignedURL, typeImportFromRedshift, typeImportFromAPIGateway,
	typeExportToS3, typeExportToSignedURL, typeExportRevisionsToS3, typeImportFromLakeFormation,
}

// jobTypeArgs says which of the job resource's type-specific arguments a
// job type takes. Every type-specific argument belongs to at least one type;
// an argument set for a type that doesn't take it is refused at plan time.
type jobTypeArgs struct {
	required []string
	optional []string
	// oneOf lists groups of which at least one argument must be set.
	oneOf [][]string
	// together lists groups set all or none.
	together [][]string
}

// Names of the type-specific arguments.
const (
	argRevisionID              = "revision_id"
	argS3AssetSources          = "s3_asset_sources"
	argS3AssetDestinations     = "s3_asset_destinations"
	argEncryptionType          = "s3_asset_destination_encryption_type"
	argEncryptionKMSKeyARN     = "s3_asset_destination_encryption_kms_key_arn"
	argS3RevisionDestinations  = "s3_revision_destinations"
	argAssetName               = "asset_name"
	argMD5Hash                 = "md5_hash"
	argSourceFile              = "source_file"
	argAssetID                 = "asset_id"
	argRedshiftDataShareARNs   = "redshift_data_share_arns"
	argAPIID                   = "api_id"
	argAPIName                 = "api_name"
	argAPIStage                = "api_stage"
	argAPIDescription          = "api_description"
	argAPIKey                  = "api_key"
	argAPIProtocolType         = "api_protocol_type"
	argAPISpecificationMD5Hash = "api_specification_md5_hash"
	argAPISpecificationFile    = "api_specification_file"
	argCatalogID               = "catalog_id"
	argRoleARN                 = "role_arn"
	argDatabaseLFTagExpression = "database_lf_tag_expression"
	argDatabasePermissions     = "database_permissions"
	argTableLFTagExpression    = "table_lf_tag_expression"
	argTablePermissions        = "table_permissions"
)

var jobTypeTable = map[string]jobTypeArgs{
	typeImportFromS3: {
		required: []string{argRevisionID, argS3AssetSources},
	},
	typeExportToS3: {
		required: []string{argRevisionID, argS3AssetDestinations},
		optional: []string{argEncryptionType, argEncryptionKMSKeyARN},
	},
	typeImportFromSignedURL: {
		required: []string{argRevisionID, argAssetName},
		optional: []string{argMD5Hash, argSourceFile},
		oneOf:    [][]string{{argMD5Hash, argSourceFile}},
	},
	typeExportToSignedURL: {
		required: []string{argRevisionID, argAssetID},
	},
	typeExportRevisionsToS3: {
		required: []string{argS3RevisionDestinations},
		optional: []string{argEncryptionType, argEncryptionKMSKeyARN},
	},
	typeImportFromRedshift: {
		required: []string{argRevisionID, argRedshiftDataShareARNs},
	},
	typeImportFromAPIGateway: {
		required: []string{argRevisionID, argAPIID, argAPIName, argAPIStage},
		optional: []string{argAPIDescription, argAPIKey, argAPIProtocolType, argAPISpecificationMD5Hash, argAPISpecificationFile},
		oneOf:    [][]string{{argAPISpecificationMD5Hash, argAPISpecificationFile}},
	},
	typeImportFromLakeFormation: {
		required: []string{argRevisionID, argCatalogID, argRoleARN},
		optional: []string{argDatabaseLFTagExpression, argDatabasePermissions, argTableLFTagExpression, argTablePermissions},
		oneOf:    [][]string{{argDatabaseLFTagExpression, argTableLFTagExpression}},
		together: [][]string{
			{argDatabaseLFTagExpression, argDatabasePermissions},
			{argTableLFTagExpression, argTablePermissions},
		},
	},
}

// typeSpecificArgs is every argument some types take and others refuse.
var typeSpecificArgs = func() []string {
	seen := map[string]bool{}
	for _, spec := range jobTypeTable {
		for _, a := range append(append([]string{}, spec.required...), spec.optional...) {
			seen[a] = true
		}
	}
	var out []string
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}()

// typesTaking lists the job types that take argument arg.
func typesTaking(arg string) []string {
	var out []string
	for _, t := range jobTypes {
		spec := jobTypeTable[t]
		if contains(spec.required, arg) || contains(spec.optional, arg) {
			out = append(out, t)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// argProblem is one refusal of a job configuration, at argument Arg.
type argProblem struct {
	Arg     string
	Summary string
	Detail  string
}

// checkJobArgs checks which type-specific arguments are set (set[arg] is
// true for a configured value, known or not yet known) against job type
// typ. Every message names the argument and the type.
func checkJobArgs(typ string, set map[string]bool) []argProblem {
	spec, ok := jobTypeTable[typ]
	if !ok {
		return nil // the type's own validator reports it
	}
	var problems []argProblem
	for _, arg := range typeSpecificArgs {
		if !set[arg] || contains(spec.required, arg) || contains(spec.optional, arg) {
			continue
		}
		detail := fmt.Sprintf("%s is used by %s jobs only; remove it, or change type.", arg, strings.Join(typesTaking(arg), ", "))
		if arg == argRevisionID && typ == typeExportRevisionsToS3 {
			detail = "An EXPORT_REVISIONS_TO_S3 job names its revisions in s3_revision_destinations[*].revision_id; remove revision_id."
		}
		problems = append(problems, argProblem{
			Arg:     arg,
			Summary: fmt.Sprintf("Argument %s is not valid for type %s", arg, typ),
			Detail:  detail,
		})
	}
	for _, arg := range spec.required {
		if !set[arg] {
			problems = append(problems, argProblem{
				Arg:     arg,
				Summary: fmt.Sprintf("Argument %s is required for type %s", arg, typ),
				Detail:  fmt.Sprintf("A job of type %s needs %s.", typ, arg),
			})
		}
	}
	for _, group := range spec.oneOf {
		any := false
		for _, arg := range group {
			any = any || set[arg]
		}
		if !any {
			problems = append(problems, argProblem{
				Arg:     group[0],
				Summary: fmt.Sprintf("One of %s is required for type %s", strings.Join(group, ", "), typ),
				Detail:  fmt.Sprintf("A job of type %s needs at least one of %s.", typ, strings.Join(group, ", ")),
			})
		}
	}
	for _, group := range spec.together {
		n := 0
		for _, arg := range group {
			if set[arg] {
				n++
			}
		}
		if n != 0 && n != len(group) {
			for _, arg := range group {
				if !set[arg] {
					problems = append(problems, argProblem{
						Arg:     arg,
						Summary: fmt.Sprintf("Argument %s is required with %s for type %s", arg, strings.Join(group, ", "), typ),
						Detail:  fmt.Sprintf("For type %s, set %s together or not at all.", typ, strings.Join(group, " and ")),
					})
				}
			}
		}
	}
	return problems
}

// splitRevisionID accepts a revision id in either form: the plain id, or
// hashicorp/aws's aws_dataexchange_revision id DATA_SET_ID:REVISION_ID.
// dataSetID is "" for the plain form.
func splitRevisionID(id string) (dataSetID, revisionID string) {
	if ds, rev, ok := strings.Cut(id, ":"); ok {
		return ds, rev
	}
	return "", id
}

// sameRevision reports whether two revision ids, in either form, name the
// same revision (a plain id matches a composite one with that revision).
func sameRevision(a, b string) bool {
	dsA, revA := splitRevisionID(a)
	dsB, revB := splitRevisionID(b)
	if revA != revB {
		return false
	}
	return dsA == "" || dsB == "" || dsA == dsB
}
