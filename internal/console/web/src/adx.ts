// adx.ts: the AWS Data Exchange operations the console calls.
import { call, listAll, p, type Query } from "./api";

export interface DataSet {
  Arn: string; AssetType: string; CreatedAt: string; Description: string; Id: string; Name: string;
  Origin: string; OriginDetails?: { DataGrantId?: string; ProductId?: string }; SourceId?: string; UpdatedAt: string;
  Tags?: Record<string, string>;
}
export interface Revision {
  Arn: string; Comment?: string; CreatedAt: string; DataSetId: string; Finalized: boolean; Id: string;
  RevocationComment?: string; Revoked: boolean; RevokedAt?: string; SourceId?: string; UpdatedAt: string;
  Tags?: Record<string, string>;
}
export interface Asset {
  Arn: string; AssetDetails?: any; AssetType: string; CreatedAt: string; DataSetId: string; Id: string; Name: string;
  RevisionId: string; SourceId?: string; UpdatedAt: string;
}
export interface JobError { Code: string; Message: string; ResourceId?: string; ResourceType?: string; Details?: any }
export interface Job {
  Arn: string; CreatedAt: string; Details: any; Errors?: JobError[]; Id: string; State: string; Type: string; UpdatedAt: string;
  Progress?: { BytesDone: number; BytesTotal: number };
}
export interface Grant {
  AcceptanceState: string; AcceptedAt?: string; Arn: string; CreatedAt: string; DataSetId: string; Description?: string;
  EndsAt?: string; GrantDistributionScope?: string; Id: string; Name: string; ReceiverPrincipal: string;
  SenderPrincipal: string; SourceDataSetId?: string; UpdatedAt: string;
}
export interface Encryption { Type: string; KmsKeyArn?: string }
export interface EventAction {
  Action: { ExportRevisionToS3: { Encryption?: Encryption; RevisionDestination: { Bucket: string; KeyPattern?: string } } };
  Arn: string; CreatedAt: string; Event: { RevisionPublished: { DataSetId: string } }; Id: string; UpdatedAt: string;
}

export const jobStates = ["WAITING", "IN_PROGRESS", "COMPLETED", "ERROR", "CANCELLED", "TIMED_OUT"];
export const jobTypes = [
  "IMPORT_ASSETS_FROM_S3", "IMPORT_ASSET_FROM_SIGNED_URL", "EXPORT_ASSETS_TO_S3", "EXPORT_ASSET_TO_SIGNED_URL",
  "EXPORT_REVISIONS_TO_S3", "IMPORT_ASSETS_FROM_REDSHIFT_DATA_SHARES", "IMPORT_ASSET_FROM_API_GATEWAY_API",
  "CREATE_S3_DATA_ACCESS_FROM_S3_BUCKET", "IMPORT_ASSETS_FROM_LAKE_FORMATION_TAG_POLICY",
];
export const assetTypes = ["S3_SNAPSHOT", "REDSHIFT_DATA_SHARE", "API_GATEWAY_API", "S3_DATA_ACCESS", "LAKE_FORMATION_DATA_PERMISSION"];
export const running = (j: Job) => j.State === "WAITING" || j.State === "IN_PROGRESS";
export const finished = (j: Job) => !running(j);

const ds = (id: string) => p("v1", "data-sets", id);
const rev = (d: string, r: string) => p("v1", "data-sets", d, "revisions", r);
const asset = (d: string, r: string, a: string) => p("v1", "data-sets", d, "revisions", r, "assets", a);

export const listDataSets = (origin?: string) => listAll<DataSet>("/v1/data-sets", "DataSets", { origin });
export const getDataSet = (id: string) => call<DataSet>("GET", ds(id));
export const createDataSet = (b: { Name: string; Description: string; AssetType: string; Tags?: Record<string, string> }) =>
  call<DataSet>("POST", "/v1/data-sets", {}, b);
export const updateDataSet = (id: string, b: { Name?: string; Description?: string }) => call<DataSet>("PATCH", ds(id), {}, b);
export const deleteDataSet = (id: string) => call("DELETE", ds(id));

export const listRevisions = (d: string) => listAll<Revision>(ds(d) + "/revisions", "Revisions");
export const getRevision = (d: string, r: string) => call<Revision>("GET", rev(d, r));
export const createRevision = (d: string, b: { Comment?: string; Tags?: Record<string, string> }) => call<Revision>("POST", ds(d) + "/revisions", {}, b);
export const updateRevision = (d: string, r: string, b: { Comment?: string; Finalized?: boolean }) => call<Revision>("PATCH", rev(d, r), {}, b);
export const revokeRevision = (d: string, r: string, comment: string) => call<Revision>("POST", rev(d, r) + "/revoke", {}, { RevocationComment: comment });
export const deleteRevision = (d: string, r: string) => call("DELETE", rev(d, r));

export const listAssets = (d: string, r: string) => listAll<Asset>(rev(d, r) + "/assets", "Assets");
export const getAsset = (d: string, r: string, a: string) => call<Asset>("GET", asset(d, r, a));
export const renameAsset = (d: string, r: string, a: string, name: string) => call<Asset>("PATCH", asset(d, r, a), {}, { Name: name });
export const deleteAsset = (d: string, r: string, a: string) => call("DELETE", asset(d, r, a));

export const tagsOf = async (arn: string) => (await call<{ tags: Record<string, string> }>("GET", p("tags", arn))).tags ?? {};
export const tag = (arn: string, tags: Record<string, string>) => call("POST", p("tags", arn), {}, { tags });
export const untag = (arn: string, keys: string[]) => call("DELETE", p("tags", arn), { tagKeys: keys });

export async function listJobs(q: Query, nextToken?: string): Promise<{ Jobs: Job[]; NextToken?: string }> {
  return call("GET", "/v1/jobs", { ...q, maxResults: "50", nextToken });
}
export const getJob = (id: string) => call<Job>("GET", p("v1", "jobs", id));
export const createJob = (Type: string, Details: any) => call<Job>("POST", "/v1/jobs", {}, { Type, Details });
export const startJob = (id: string) => call("PATCH", p("v1", "jobs", id));
export const cancelJob = (id: string) => call("DELETE", p("v1", "jobs", id));

/** runJob creates a job and starts it. */
export async function runJob(Type: string, Details: any): Promise<Job> {
  const j = await createJob(Type, Details);
  await startJob(j.Id);
  return j;
}

/** waitJob polls a job every ms until it has ended. */
export async function waitJob(id: string, onTick?: (j: Job) => void, ms = 500): Promise<Job> {
  for (;;) {
    const j = await getJob(id);
    onTick?.(j);
    if (finished(j)) return j;
    await new Promise((r) => setTimeout(r, ms));
  }
}

export const listGrants = () => listAll<Grant>("/v1/data-grants", "DataGrantSummaries");
export const listReceivedGrants = () => listAll<Grant>("/v1/received-data-grants", "DataGrantSummaries");
export const createGrant = (b: any) => call<Grant>("POST", "/v1/data-grants", {}, b);
export const deleteGrant = (id: string) => call("DELETE", p("v1", "data-grants", id));
export const acceptGrant = (arn: string) => call<Grant>("POST", p("v1", "data-grants", arn, "accept"));

export const listEventActions = (dataSetId?: string) => listAll<EventAction>("/v1/event-actions", "EventActions", { eventSourceId: dataSetId });
export const createEventAction = (b: any) => call<EventAction>("POST", "/v1/event-actions", {}, b);
export const updateEventAction = (id: string, Action: any) => call<EventAction>("PATCH", p("v1", "event-actions", id), {}, { Action });
export const deleteEventAction = (id: string) => call("DELETE", p("v1", "event-actions", id));

/** assetSize is an S3 snapshot's size in bytes. */
export const assetSize = (a: Asset): number | undefined => a.AssetDetails?.S3SnapshotAsset?.Size;

/** jobScope is the data set and revision a job's details name. */
export function jobScope(j: Job): { dataSetId?: string; revisionId?: string; assetName?: string } {
  const d: any = Object.values(j.Details ?? {})[0] ?? {};
  const revisionId = d.RevisionId ?? d.RevisionDestinations?.[0]?.RevisionId;
  return { dataSetId: d.DataSetId, revisionId, assetName: d.AssetName };
}
