package jobtypes_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/wharf-dev/wharf/internal/fault"
	"github.com/wharf-dev/wharf/internal/jobs"
	"github.com/wharf-dev/wharf/internal/jobtypes"
	"github.com/wharf-dev/wharf/internal/resource"
	"github.com/wharf-dev/wharf/internal/store"
)

const (
	shareARN1 = "arn:aws:redshift:us-east-1:111111111111:datashare:3072dae5-022b-4d45-9cd3-01f010aae4b2/sales_share"
	shareARN2 = "arn:aws:redshift:us-west-2:111111111111:datashare:3072dae5-022b-4d45-9cd3-01f010aae4b2/_weird$Name2"
	roleARN   = "arn:aws:iam::111111111111:role/adx-lf"
	kmsKey1   = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	kmsKey2   = "arn:aws:kms:us-east-1:111111111111:key/mrk-1234abcd12ab34cd56ef1234567890ab"
)

// member wraps a Details member.
func member(name string, body any) json.RawMessage {
	b, err := json.Marshal(map[string]any{name: body})
	if err != nil {
		panic(err)
	}
	return b
}

func redshiftDetails(ds, rev string, arns ...string) json.RawMessage {
	sources := []map[string]string{}
	for _, a := range arns {
		sources = append(sources, map[string]string{"DataShareArn": a})
	}
	return member("ImportAssetsFromRedshiftDataShares", map[string]any{"AssetSources": sources, "DataSetId": ds, "RevisionId": rev})
}

func lfDetails(ds, rev string, extra map[string]any) json.RawMessage {
	m := map[string]any{"CatalogId": "111111111111", "RoleArn": roleARN, "DataSetId": ds, "RevisionId": rev,
		"Database": map[string]any{"Expression": []any{map[string]any{"TagKey": "domain", "TagValues": []string{"sales", "ops"}}},
			"Permissions": []string{"DESCRIBE"}},
		"Table": map[string]any{"Expression": []any{map[string]any{"TagKey": "tier", "TagValues": []string{"gold"}}},
			"Permissions": []string{"DESCRIBE", "SELECT"}},
	}
	for k, v := range extra {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return member("ImportAssetsFromLakeFormationTagPolicy", m)
}

func s3DataAccessDetails(ds, rev string, source map[string]any) json.RawMessage {
	return member("CreateS3DataAccessFromS3Bucket", map[string]any{"AssetSource": source, "DataSetId": ds, "RevisionId": rev})
}

func apiDetails(ds, rev string, extra map[string]any) json.RawMessage {
	m := map[string]any{"ApiId": "a1b2c3d4e5", "ApiName": "Weather API", "ApiSpecificationMd5Hash": "1B2M2Y8AsgTpgAmY7PhCfg==",
		"ProtocolType": "REST", "Stage": "prod", "ApiKey": "k3y", "ApiDescription": "forecasts", "DataSetId": ds, "RevisionId": rev}
	for k, v := range extra {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	return member("ImportAssetFromApiGatewayApi", m)
}

// sameJSON fails unless got and want are the same JSON value.
func sameJSON(t *testing.T, what string, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v in %s", what, err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad want: %v", what, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Errorf("%s:\n got %s\nwant %s", what, gb, wb)
	}
}

// TestReferenceJobs runs each reference type to completion on both store
// drivers and checks the assets member by member.
func TestReferenceJobs(t *testing.T) {
	t.Parallel()
	for _, driver := range []string{sqliteDB, postgresDB} {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, options{driver: driver})

			{ // redshift: e fails the parent test, so no subtest.
				ds := e.newDataSet(account, resource.OriginOwned, resource.AssetTypeRedshiftDataShare)
				rev := e.newRevision(ds, false, false)
				j := e.run(resource.JobTypeImportAssetsFromRedshiftDataShares, redshiftDetails(ds.ID, rev.ID, shareARN1, shareARN2), resource.JobStateCompleted)
				got := e.revisionAssets(rev)
				if len(got) != 2 {
					t.Fatalf("%d assets, want 2", len(got))
				}
				// Sorted by name: "_weird$Name2" < "sales_share".
				for i, want := range []struct{ id, name, arn string }{
					{jobs.AssetID(j.ID, 1), "_weird$Name2", shareARN2},
					{jobs.AssetID(j.ID, 0), "sales_share", shareARN1},
				} {
					a := got[i]
					if a.ID != want.id || a.Name != want.name || a.AssetType != resource.AssetTypeRedshiftDataShare {
						t.Errorf("asset %d: id %s name %q type %s, want %s %q REDSHIFT_DATA_SHARE", i, a.ID, a.Name, a.AssetType, want.id, want.name)
					}
					sameJSON(t, "AssetDetails", a.Details, fmt.Sprintf(`{"RedshiftDataShareAsset":{"Arn":%q}}`, want.arn))
				}
				sameJSON(t, "job Details", j.Details, string(redshiftDetails(ds.ID, rev.ID, shareARN1, shareARN2)))
			}

			{ // lake formation: e fails the parent test, so no subtest.
				ds := e.newDataSet(account, resource.OriginOwned, resource.AssetTypeLakeFormationDataPermission)
				rev := e.newRevision(ds, false, false)
				j := e.run(resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDetails(ds.ID, rev.ID, nil), resource.JobStateCompleted)
				got := e.revisionAssets(rev)
				if len(got) != 2 {
					t.Fatalf("%d assets, want 2", len(got))
				}
				db, tbl := got[0], got[1]
				if db.Name != "Database(s) included in LF-tag policy" || db.ID != jobs.AssetID(j.ID, 0) ||
					tbl.Name != "Table(s) included in LF-tag policy" || tbl.ID != jobs.AssetID(j.ID, 1) {
					t.Errorf("assets %s %q, %s %q", db.ID, db.Name, tbl.ID, tbl.Name)
				}
				for _, a := range got {
					if a.AssetType != resource.AssetTypeLakeFormationDataPermission {
						t.Errorf("AssetType %s", a.AssetType)
					}
				}
				sameJSON(t, "database asset", db.Details, `{"LakeFormationDataPermissionAsset":{
					"LakeFormationDataPermissionDetails":{"LFTagPolicy":{"CatalogId":"111111111111","ResourceType":"DATABASE",
						"ResourceDetails":{"Database":{"Expression":[{"TagKey":"domain","TagValues":["sales","ops"]}]}}}},
					"LakeFormationDataPermissionType":"LFTagPolicy","Permissions":["DESCRIBE"],"RoleArn":"`+roleARN+`"}}`)
				sameJSON(t, "table asset", tbl.Details, `{"LakeFormationDataPermissionAsset":{
					"LakeFormationDataPermissionDetails":{"LFTagPolicy":{"CatalogId":"111111111111","ResourceType":"TABLE",
						"ResourceDetails":{"Table":{"Expression":[{"TagKey":"tier","TagValues":["gold"]}]}}}},
					"LakeFormationDataPermissionType":"LFTagPolicy","Permissions":["DESCRIBE","SELECT"],"RoleArn":"`+roleARN+`"}}`)

				// A table policy alone makes one asset, index 0.
				j = e.run(resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDetails(ds.ID, rev.ID, map[string]any{"Database": nil}), resource.JobStateCompleted)
				a, err := e.st.GetAsset(e.ctx, account, ds.ID, rev.ID, jobs.AssetID(j.ID, 0))
				e.must(err)
				if a.Name != "Table(s) included in LF-tag policy" {
					t.Errorf("table-only job made %q", a.Name)
				}
			}

			{ // s3 data access: e fails the parent test, so no subtest.
				ds := e.newDataSet(account, resource.OriginOwned, resource.AssetTypeS3DataAccess)
				rev := e.newRevision(ds, false, false)
				source := map[string]any{"Bucket": "provider-data", "KeyPrefixes": []string{"2024/", "2025/"},
					"Keys": []string{"readme.txt"}, "KmsKeysToGrant": []map[string]string{{"KmsKeyArn": kmsKey1}, {"KmsKeyArn": kmsKey2}}}
				j := e.run(resource.JobTypeCreateS3DataAccessFromS3Bucket, s3DataAccessDetails(ds.ID, rev.ID, source), resource.JobStateCompleted)
				got := e.revisionAssets(rev)
				if len(got) != 1 {
					t.Fatalf("%d assets, want 1", len(got))
				}
				a := got[0]
				id := jobs.AssetID(j.ID, 0)
				if a.ID != id || a.Name != "provider-data" || a.AssetType != resource.AssetTypeS3DataAccess {
					t.Errorf("asset %s %q %s", a.ID, a.Name, a.AssetType)
				}
				name, alias, arn := jobtypes.S3AccessPoint(region, account, id)
				if name != "adx-"+id || !strings.HasPrefix(alias, name+"-") || !strings.HasSuffix(alias, "-s3alias") ||
					len(alias) != len(name)+1+34+len("-s3alias") || arn != "arn:aws:s3:us-east-1:111111111111:accesspoint/"+name {
					t.Errorf("access point %q %q %q", name, alias, arn)
				}
				sameJSON(t, "AssetDetails", a.Details, fmt.Sprintf(`{"S3DataAccessAsset":{"Bucket":"provider-data",
					"KeyPrefixes":["2024/","2025/"],"Keys":["readme.txt"],"S3AccessPointAlias":%q,"S3AccessPointArn":%q,
					"KmsKeysToGrant":[{"KmsKeyArn":%q},{"KmsKeyArn":%q}]}}`, alias, arn, kmsKey1, kmsKey2))

				// Only the bucket: the lists are left out.
				rev2 := e.newRevision(ds, false, false)
				j = e.run(resource.JobTypeCreateS3DataAccessFromS3Bucket, s3DataAccessDetails(ds.ID, rev2.ID, map[string]any{"Bucket": "provider-data"}), resource.JobStateCompleted)
				_, alias, arn = jobtypes.S3AccessPoint(region, account, jobs.AssetID(j.ID, 0))
				sameJSON(t, "bucket-only AssetDetails", e.revisionAssets(rev2)[0].Details,
					fmt.Sprintf(`{"S3DataAccessAsset":{"Bucket":"provider-data","S3AccessPointAlias":%q,"S3AccessPointArn":%q}}`, alias, arn))
			}
		})
	}
}

// TestReferenceValidation checks that bad requests are refused at CreateJob
// with the right exception, and create nothing.
func TestReferenceValidation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{noStart: true})
	type ids struct{ ds, rev string }
	target := func(assetType string) ids {
		ds := e.newDataSet(account, resource.OriginOwned, assetType)
		return ids{ds.ID, e.newRevision(ds, false, false).ID}
	}
	rs, lf, s3da, api := target(resource.AssetTypeRedshiftDataShare), target(resource.AssetTypeLakeFormationDataPermission),
		target(resource.AssetTypeS3DataAccess), target(resource.AssetTypeAPIGatewayAPI)
	snapshot := ids{e.dataSet.ID, e.revision.ID}
	foreignDS := e.newDataSet(other, resource.OriginOwned, resource.AssetTypeRedshiftDataShare)
	foreign := ids{foreignDS.ID, e.newRevision(foreignDS, false, false).ID}
	entitledDS := e.newDataSet(account, resource.OriginEntitled, resource.AssetTypeRedshiftDataShare)
	entitled := ids{entitledDS.ID, e.newRevision(entitledDS, false, false).ID}
	rsDS := e.newDataSet(account, resource.OriginOwned, resource.AssetTypeRedshiftDataShare)
	finalized := ids{rsDS.ID, e.newRevision(rsDS, true, false).ID}

	arns := func(n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("arn:aws:redshift:us-east-1:111111111111:datashare:3072dae5-022b-4d45-9cd3-01f010aae4b2/share_%d", i))
		}
		return out
	}
	badARN := func(arn string) json.RawMessage { return redshiftDetails(rs.ds, rs.rev, arn) }
	lfTag := func(key string, values ...string) []any {
		return []any{map[string]any{"TagKey": key, "TagValues": append([]string{}, values...)}}
	}
	src := func(kv ...any) map[string]any {
		m := map[string]any{"Bucket": "provider-data"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	for _, c := range []struct {
		name, jobType string
		details       json.RawMessage
		want, message string
	}{
		// Redshift.
		{"redshift ok but other account's data set", resource.JobTypeImportAssetsFromRedshiftDataShares, redshiftDetails(foreign.ds, foreign.rev, shareARN1), fault.ResourceNotFound, "not found"},
		{"redshift into entitled", resource.JobTypeImportAssetsFromRedshiftDataShares, redshiftDetails(entitled.ds, entitled.rev, shareARN1), fault.AccessDenied, "entitled"},
		{"redshift into S3_SNAPSHOT data set", resource.JobTypeImportAssetsFromRedshiftDataShares, redshiftDetails(snapshot.ds, snapshot.rev, shareARN1), fault.Validation, "holds S3_SNAPSHOT assets"},
		{"redshift into finalized", resource.JobTypeImportAssetsFromRedshiftDataShares, redshiftDetails(finalized.ds, finalized.rev, shareARN1), fault.Conflict, "finalized"},
		{"redshift 11 shares", resource.JobTypeImportAssetsFromRedshiftDataShares, redshiftDetails(rs.ds, rs.rev, arns(11)...), fault.ServiceLimitExceeded, "at most 10"},
		{"redshift no shares", resource.JobTypeImportAssetsFromRedshiftDataShares, redshiftDetails(rs.ds, rs.rev), fault.Validation, "at least one"},
		{"redshift duplicate", resource.JobTypeImportAssetsFromRedshiftDataShares, redshiftDetails(rs.ds, rs.rev, shareARN1, shareARN1), fault.Validation, "both name"},
		{"redshift sources missing", resource.JobTypeImportAssetsFromRedshiftDataShares, member("ImportAssetsFromRedshiftDataShares", map[string]any{"DataSetId": rs.ds, "RevisionId": rs.rev}), fault.Validation, "AssetSources is required"},
		{"redshift arn missing", resource.JobTypeImportAssetsFromRedshiftDataShares, member("ImportAssetsFromRedshiftDataShares", map[string]any{"AssetSources": []any{map[string]any{}}, "DataSetId": rs.ds, "RevisionId": rs.rev}), fault.Validation, "DataShareArn is required"},
		{"redshift revision missing", resource.JobTypeImportAssetsFromRedshiftDataShares, member("ImportAssetsFromRedshiftDataShares", map[string]any{"AssetSources": []any{map[string]any{"DataShareArn": shareARN1}}, "DataSetId": rs.ds}), fault.Validation, "RevisionId is required"},
		{"redshift arn of a cluster", resource.JobTypeImportAssetsFromRedshiftDataShares, badARN("arn:aws:redshift:us-east-1:111111111111:cluster:my-cluster"), fault.Validation, "not a Redshift datashare ARN"},
		{"redshift arn without name", resource.JobTypeImportAssetsFromRedshiftDataShares, badARN("arn:aws:redshift:us-east-1:111111111111:datashare:3072dae5-022b-4d45-9cd3-01f010aae4b2"), fault.Validation, "not a Redshift datashare ARN"},
		{"redshift arn bad namespace", resource.JobTypeImportAssetsFromRedshiftDataShares, badARN("arn:aws:redshift:us-east-1:111111111111:datashare:not-a-guid/s"), fault.Validation, "not a Redshift datashare ARN"},
		{"redshift arn short account", resource.JobTypeImportAssetsFromRedshiftDataShares, badARN("arn:aws:redshift:us-east-1:11111111111:datashare:3072dae5-022b-4d45-9cd3-01f010aae4b2/s"), fault.Validation, "not a Redshift datashare ARN"},
		{"redshift arn bad region", resource.JobTypeImportAssetsFromRedshiftDataShares, badARN("arn:aws:redshift:useast1:111111111111:datashare:3072dae5-022b-4d45-9cd3-01f010aae4b2/s"), fault.Validation, "not a Redshift datashare ARN"},
		{"redshift arn other service", resource.JobTypeImportAssetsFromRedshiftDataShares, badARN("arn:aws:s3:us-east-1:111111111111:datashare:3072dae5-022b-4d45-9cd3-01f010aae4b2/s"), fault.Validation, "not a Redshift datashare ARN"},
		{"redshift name starts with digit", resource.JobTypeImportAssetsFromRedshiftDataShares, badARN("arn:aws:redshift:us-east-1:111111111111:datashare:3072dae5-022b-4d45-9cd3-01f010aae4b2/1share"), fault.Validation, "not a Redshift datashare ARN"},
		{"redshift name with slash", resource.JobTypeImportAssetsFromRedshiftDataShares, badARN("arn:aws:redshift:us-east-1:111111111111:datashare:3072dae5-022b-4d45-9cd3-01f010aae4b2/a/b"), fault.Validation, "not a Redshift datashare ARN"},
		{"redshift name too long", resource.JobTypeImportAssetsFromRedshiftDataShares, badARN("arn:aws:redshift:us-east-1:111111111111:datashare:3072dae5-022b-4d45-9cd3-01f010aae4b2/" + strings.Repeat("a", 128)), fault.Validation, "not a Redshift datashare ARN"},
		{"redshift arn not a string", resource.JobTypeImportAssetsFromRedshiftDataShares, member("ImportAssetsFromRedshiftDataShares", map[string]any{"AssetSources": []any{map[string]any{"DataShareArn": 5}}, "DataSetId": rs.ds, "RevisionId": rs.rev}), fault.Validation, "DataShareArn"},

		// Lake Formation.
		{"lf into redshift data set", resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDetails(rs.ds, rs.rev, nil), fault.Validation, "holds REDSHIFT_DATA_SHARE assets"},
		{"lf catalog missing", resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDetails(lf.ds, lf.rev, map[string]any{"CatalogId": nil}), fault.Validation, "CatalogId is required"},
		{"lf catalog 11 digits", resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDetails(lf.ds, lf.rev, map[string]any{"CatalogId": "11111111111"}), fault.Validation, "not a Data Catalog id"},
		{"lf catalog letters", resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDetails(lf.ds, lf.rev, map[string]any{"CatalogId": "11111111111a"}), fault.Validation, "not a Data Catalog id"},
		{"lf role missing", resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDetails(lf.ds, lf.rev, map[string]any{"RoleArn": nil}), fault.Validation, "RoleArn is required"},
		{"lf role is a user", resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDetails(lf.ds, lf.rev, map[string]any{"RoleArn": "arn:aws:iam::111111111111:user/bob"}), fault.Validation, "not an IAM role ARN"},
		{"lf role without name", resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDetails(lf.ds, lf.rev, map[string]any{"RoleArn": "arn:aws:iam::111111111111:role/"}), fault.Validation, "not an IAM role ARN"},
		{"lf no policy", resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDetails(lf.ds, lf.rev, map[string]any{"Database": nil, "Table": nil}), fault.Validation, "needs a Database or a Table"},
		{"lf empty expression", resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDetails(lf.ds, lf.rev, map[string]any{"Database": map[string]any{"Expression": []any{}, "Permissions": []string{"DESCRIBE"}}}), fault.Validation, "1 to 50 LF-tags"},
		{"lf expression missing", resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDetails(lf.ds, lf.rev, map[string]any{"Table": map[string]any{"Permissions": []string{"SELECT"}}}), fault.Validation, "Table.Expression is required"},
		{"lf empty tag key", resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDetails(lf.ds, lf.rev, map[string]any{"Table": map[string]any{"Expression": lfTag("", "v"), "Permissions": []string{"SELECT"}}}), fault.Validation, "not an LF-tag key"},
		{"lf bad tag key", resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDetails(lf.ds, lf.rev, map[string]any{"Table": map[string]any{"Expression": lfTag("a*b", "v"), "Permissions": []string{"SELECT"}}}), fault.Validation, "not an LF-tag key"},
		{"lf no tag values", resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDetails(lf.ds, lf.rev, map[string]any{"Table": map[string]any{"Expression": lfTag("k"), "Permissions": []string{"SELECT"}}}), fault.Validation, "1 to 50 values"},
		{"lf bad tag value", resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDetails(lf.ds, lf.rev, map[string]any{"Table": map[string]any{"Expression": lfTag("k", "a;b"), "Permissions": []string{"SELECT"}}}), fault.Validation, "not an LF-tag value"},
		{"lf duplicate tag key", resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDetails(lf.ds, lf.rev, map[string]any{"Table": map[string]any{"Expression": append(lfTag("k", "a"), lfTag("k", "b")...), "Permissions": []string{"SELECT"}}}), fault.Validation, "both have the TagKey"},
		{"lf select on database", resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDetails(lf.ds, lf.rev, map[string]any{"Database": map[string]any{"Expression": lfTag("k", "v"), "Permissions": []string{"SELECT"}}}), fault.Validation, `"SELECT" is not one of [DESCRIBE]`},
		{"lf no permissions", resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDetails(lf.ds, lf.rev, map[string]any{"Table": map[string]any{"Expression": lfTag("k", "v"), "Permissions": []string{}}}), fault.Validation, "at least one of"},
		{"lf permissions missing", resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDetails(lf.ds, lf.rev, map[string]any{"Table": map[string]any{"Expression": lfTag("k", "v")}}), fault.Validation, "Permissions is required"},
		{"lf unknown permission", resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDetails(lf.ds, lf.rev, map[string]any{"Table": map[string]any{"Expression": lfTag("k", "v"), "Permissions": []string{"ALL"}}}), fault.Validation, "is not one of [DESCRIBE SELECT]"},
		{"lf duplicate permission", resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDetails(lf.ds, lf.rev, map[string]any{"Table": map[string]any{"Expression": lfTag("k", "v"), "Permissions": []string{"SELECT", "SELECT"}}}), fault.Validation, "twice"},

		// S3 data access.
		{"s3da into snapshot data set", resource.JobTypeCreateS3DataAccessFromS3Bucket, s3DataAccessDetails(snapshot.ds, snapshot.rev, src()), fault.Validation, "holds S3_SNAPSHOT assets"},
		{"s3da source missing", resource.JobTypeCreateS3DataAccessFromS3Bucket, member("CreateS3DataAccessFromS3Bucket", map[string]any{"DataSetId": s3da.ds, "RevisionId": s3da.rev}), fault.Validation, "AssetSource is required"},
		{"s3da bucket missing", resource.JobTypeCreateS3DataAccessFromS3Bucket, s3DataAccessDetails(s3da.ds, s3da.rev, map[string]any{"Keys": []string{"k"}}), fault.Validation, "AssetSource.Bucket is required"},
		{"s3da bad bucket", resource.JobTypeCreateS3DataAccessFromS3Bucket, s3DataAccessDetails(s3da.ds, s3da.rev, map[string]any{"Bucket": "Provider_Data"}), fault.Validation, "not a valid S3 bucket name"},
		{"s3da empty key", resource.JobTypeCreateS3DataAccessFromS3Bucket, s3DataAccessDetails(s3da.ds, s3da.rev, src("Keys", []string{""})), fault.Validation, "AssetSource.Keys[0] must be 1 to 1024 bytes"},
		{"s3da long prefix", resource.JobTypeCreateS3DataAccessFromS3Bucket, s3DataAccessDetails(s3da.ds, s3da.rev, src("KeyPrefixes", []string{strings.Repeat("p", 1025)})), fault.Validation, "AssetSource.KeyPrefixes[0] must be 1 to 1024 bytes"},
		{"s3da duplicate key", resource.JobTypeCreateS3DataAccessFromS3Bucket, s3DataAccessDetails(s3da.ds, s3da.rev, src("Keys", []string{"a", "a"})), fault.Validation, "twice"},
		{"s3da empty kms list", resource.JobTypeCreateS3DataAccessFromS3Bucket, s3DataAccessDetails(s3da.ds, s3da.rev, src("KmsKeysToGrant", []any{})), fault.Validation, "1 to 10 KMS keys"},
		{"s3da 11 kms keys", resource.JobTypeCreateS3DataAccessFromS3Bucket, s3DataAccessDetails(s3da.ds, s3da.rev, src("KmsKeysToGrant", func() []any {
			var l []any
			for i := range 11 {
				l = append(l, map[string]string{"KmsKeyArn": fmt.Sprintf("arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890%02d", i)})
			}
			return l
		}())), fault.Validation, "1 to 10 KMS keys"},
		{"s3da kms arn missing", resource.JobTypeCreateS3DataAccessFromS3Bucket, s3DataAccessDetails(s3da.ds, s3da.rev, src("KmsKeysToGrant", []any{map[string]any{}})), fault.Validation, "KmsKeyArn is required"},
		{"s3da kms alias", resource.JobTypeCreateS3DataAccessFromS3Bucket, s3DataAccessDetails(s3da.ds, s3da.rev, src("KmsKeysToGrant", []any{map[string]any{"KmsKeyArn": "arn:aws:kms:us-east-1:111111111111:alias/mine"}})), fault.Validation, "not a KMS key ARN"},
		{"s3da kms duplicate", resource.JobTypeCreateS3DataAccessFromS3Bucket, s3DataAccessDetails(s3da.ds, s3da.rev, src("KmsKeysToGrant", []any{map[string]any{"KmsKeyArn": kmsKey1}, map[string]any{"KmsKeyArn": kmsKey1}})), fault.Validation, "twice"},

		// API Gateway: every check, then the missing upload.
		{"api into s3da data set", resource.JobTypeImportAssetFromAPIGatewayAPI, apiDetails(s3da.ds, s3da.rev, nil), fault.Validation, "holds S3_DATA_ACCESS assets"},
		{"api id missing", resource.JobTypeImportAssetFromAPIGatewayAPI, apiDetails(api.ds, api.rev, map[string]any{"ApiId": nil}), fault.Validation, "ApiId is required"},
		{"api id bad", resource.JobTypeImportAssetFromAPIGatewayAPI, apiDetails(api.ds, api.rev, map[string]any{"ApiId": "ABC"}), fault.Validation, "not an API Gateway API id"},
		{"api name blank", resource.JobTypeImportAssetFromAPIGatewayAPI, apiDetails(api.ds, api.rev, map[string]any{"ApiName": " "}), fault.Validation, "ApiName must be"},
		{"api md5 missing", resource.JobTypeImportAssetFromAPIGatewayAPI, apiDetails(api.ds, api.rev, map[string]any{"ApiSpecificationMd5Hash": nil}), fault.Validation, "ApiSpecificationMd5Hash is required"},
		{"api md5 hex", resource.JobTypeImportAssetFromAPIGatewayAPI, apiDetails(api.ds, api.rev, map[string]any{"ApiSpecificationMd5Hash": "d41d8cd98f00b204e9800998ecf8427e"}), fault.Validation, "not a base64-encoded MD5"},
		{"api protocol", resource.JobTypeImportAssetFromAPIGatewayAPI, apiDetails(api.ds, api.rev, map[string]any{"ProtocolType": "HTTP"}), fault.Validation, "not one of [REST]"},
		{"api stage missing", resource.JobTypeImportAssetFromAPIGatewayAPI, apiDetails(api.ds, api.rev, map[string]any{"Stage": nil}), fault.Validation, "Stage is required"},
		{"api stage bad", resource.JobTypeImportAssetFromAPIGatewayAPI, apiDetails(api.ds, api.rev, map[string]any{"Stage": "a/b"}), fault.Validation, "not an API Gateway stage name"},
		{"api empty key", resource.JobTypeImportAssetFromAPIGatewayAPI, apiDetails(api.ds, api.rev, map[string]any{"ApiKey": ""}), fault.Validation, "ApiKey can't be empty"},
		{"api valid but no signed URLs", resource.JobTypeImportAssetFromAPIGatewayAPI, apiDetails(api.ds, api.rev, nil), fault.Validation, "need signed URLs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.wantCreate(t, c.jobType, c.details, c.want, c.message)
		})
	}
	for _, r := range []ids{rs, lf, s3da, api, foreign, entitled} {
		if n, err := e.st.CountAssets(e.ctx, account, r.ds, r.rev); err != nil || n != 0 {
			t.Errorf("revision %s has %d assets (%v) after refused jobs", r.rev, n, err)
		}
	}
	p, err := e.st.ListJobs(e.ctx, account, store.JobFilter{}, store.PageRequest{Limit: 100})
	e.must(err)
	if len(p.Items) != 0 {
		t.Errorf("refused CreateJobs left %d jobs", len(p.Items))
	}
}

// TestReferenceQuotas checks the per-revision quotas at CreateJob, at
// StartJob and when the job runs.
func TestReferenceQuotas(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{noStart: true})
	fill := func(r resource.Revision, n int) {
		for i := range n {
			e.insertAsset(r, fmt.Sprintf("existing-%d", i), resource.AssetTypeRedshiftDataShare)
		}
	}
	rsDS := e.newDataSet(account, resource.OriginOwned, resource.AssetTypeRedshiftDataShare)
	lfDS := e.newDataSet(account, resource.OriginOwned, resource.AssetTypeLakeFormationDataPermission)
	s3DS := e.newDataSet(account, resource.OriginOwned, resource.AssetTypeS3DataAccess)
	apiDS := e.newDataSet(account, resource.OriginOwned, resource.AssetTypeAPIGatewayAPI)

	for _, c := range []struct {
		name, jobType string
		ds            resource.DataSet
		have          int
		details       func(ds, rev string) json.RawMessage
		limitName     string
		limitValue    float64
	}{
		{"redshift", resource.JobTypeImportAssetsFromRedshiftDataShares, rsDS, 19,
			func(ds, rev string) json.RawMessage { return redshiftDetails(ds, rev, shareARN1, shareARN2) },
			"Amazon Redshift datashare assets per revision", 20},
		{"lake formation", resource.JobTypeImportAssetsFromLakeFormationTagPolicy, lfDS, 19,
			func(ds, rev string) json.RawMessage { return lfDetails(ds, rev, nil) },
			"AWS Lake Formation data permission assets per revision", 20},
		{"s3 data access", resource.JobTypeCreateS3DataAccessFromS3Bucket, s3DS, 5,
			func(ds, rev string) json.RawMessage {
				return s3DataAccessDetails(ds, rev, map[string]any{"Bucket": "provider-data"})
			},
			"Amazon S3 data access assets per revision", 5},
		{"api gateway", resource.JobTypeImportAssetFromAPIGatewayAPI, apiDS, 20,
			func(ds, rev string) json.RawMessage { return apiDetails(ds, rev, nil) },
			"Amazon API Gateway API assets per revision", 20},
	} {
		t.Run(c.name, func(t *testing.T) {
			rev := e.newRevision(c.ds, false, false)
			fill(rev, c.have)
			_, err := e.createJob(c.jobType, c.details(c.ds.ID, rev.ID))
			fe := wantFault(t, err, fault.ServiceLimitExceeded)
			if fe.LimitName != c.limitName || fe.LimitValue != c.limitValue {
				t.Errorf("LimitName %q LimitValue %g, want %q %g", fe.LimitName, fe.LimitValue, c.limitName, c.limitValue)
			}
		})
	}

	// Room at CreateJob, none at StartJob.
	rev := e.newRevision(rsDS, false, false)
	fill(rev, 18)
	v, err := e.createJob(resource.JobTypeImportAssetsFromRedshiftDataShares, redshiftDetails(rsDS.ID, rev.ID, shareARN1, shareARN2))
	e.must(err)
	e.insertAsset(rev, "late", resource.AssetTypeRedshiftDataShare)
	fe := wantFault(t, e.svc.StartJob(e.ctx, account, v.ID), fault.ServiceLimitExceeded)
	if fe.LimitName != jobtypes.LimitRedshiftAssetsPerRevision {
		t.Errorf("StartJob: LimitName %q", fe.LimitName)
	}

	// Room at StartJob, none when the job runs: the job ends in ERROR
	// with the quota's JobError, and adds nothing.
	rev = e.newRevision(rsDS, false, false)
	fill(rev, 18)
	v, err = e.createJob(resource.JobTypeImportAssetsFromRedshiftDataShares, redshiftDetails(rsDS.ID, rev.ID, shareARN1, shareARN2))
	e.must(err)
	e.must(e.svc.StartJob(e.ctx, account, v.ID))
	e.insertAsset(rev, "late", resource.AssetTypeRedshiftDataShare)
	e.must(e.svc.Start(e.ctx))
	j := e.waitEnd(v.ID, resource.JobStateError)
	errs := jobErrors(t, j)
	if len(errs) != 1 || errs[0].Code != jobs.CodeServiceQuotaExceeded || errs[0].LimitName != jobtypes.LimitRedshiftAssetsPerRevision || errs[0].LimitValue != 20 {
		t.Errorf("Errors %+v", errs)
	}
	if n, _ := e.st.CountAssets(e.ctx, account, rsDS.ID, rev.ID); n != 19 {
		t.Errorf("revision has %d assets, want the 19 it had", n)
	}
}

// TestReferenceCancel checks that a cancelled job creates nothing.
func TestReferenceCancel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	ds := e.newDataSet(account, resource.OriginOwned, resource.AssetTypeRedshiftDataShare)
	rev := e.newRevision(ds, false, false)
	v, err := e.createJob(resource.JobTypeImportAssetsFromRedshiftDataShares, redshiftDetails(ds.ID, rev.ID, shareARN1))
	e.must(err)
	e.must(e.svc.CancelJob(e.ctx, account, v.ID))
	wantFault(t, e.svc.StartJob(e.ctx, account, v.ID), fault.Conflict)
	if got := e.revisionAssets(rev); len(got) != 0 {
		t.Errorf("cancelled job left %d assets", len(got))
	}
}
