// A revision: its assets (rename, delete, download, export), uploads and
// imports into it, exports of it, and its jobs, live.
import { useState } from "preact/hooks";
import {
  assetSize, deleteRevision, getDataSet, getRevision, listAssets, revokeRevision, runJob, updateRevision,
  type Asset, type DataSet, type Revision,
} from "../adx";
import { Link, navigate } from "../router";
import { Confirm, Copy, Empty, ErrorBox, Field, Loading, Progress, StateBadge, Time, formatBytes, useAction, useLoad, useTitle } from "../ui";
import { upload, type UploadState } from "../transfer";
import { RevisionState, Tags } from "./dataset";
import { JobList } from "./jobs";
import { AssetActions } from "./asset";
import { EncryptionFields, encryptionOf, type EncState } from "./eventactions";

export function RevisionPage({ dataSetId, revisionId }: { dataSetId: string; revisionId: string }) {
  const dsLoad = useLoad(() => getDataSet(dataSetId), [dataSetId]);
  const revLoad = useLoad(() => getRevision(dataSetId, revisionId), [dataSetId, revisionId]);
  const assets = useLoad(() => listAssets(dataSetId, revisionId), [dataSetId, revisionId]);
  const [jobsTick, setJobsTick] = useState(0);
  useTitle("Revision " + revisionId);
  const ds = dsLoad.data;
  const r = revLoad.data;
  const jobStarted = () => setJobsTick((n) => n + 1);
  return (
    <section aria-labelledby="page-title">
      <nav class="crumbs" aria-label="Breadcrumb">
        <Link href="/console/data-sets">Data sets</Link> <span aria-hidden="true">›</span>{" "}
        <Link href={`/console/data-sets/${dataSetId}`}>{ds?.Name ?? dataSetId}</Link>
      </nav>
      <ErrorBox error={revLoad.error} />
      {!r && !revLoad.error ? <Loading /> : null}
      {r ? <Header r={r} ds={ds} onChange={(nr) => revLoad.setData({ ...r, ...nr })} /> : null}
      {r ? (
        <>
          <h2>Assets</h2>
          <ErrorBox error={assets.error} />
          {assets.loading && !assets.data ? <Loading /> : null}
          {assets.data ? <AssetTable ds={ds} r={r} assets={assets.data} reload={() => assets.reload(true)} onJob={jobStarted} /> : null}
          <div class="grid2">
            <Upload r={r} onDone={() => assets.reload(true)} onJob={jobStarted} />
            <ImportS3 r={r} onJob={jobStarted} />
          </div>
          <ExportRevision r={r} onJob={jobStarted} />
          <h2>Jobs of this revision</h2>
          <JobList filter={{ dataSetId, revisionId }} tick={jobsTick} onSettled={() => assets.reload(true)} compact />
        </>
      ) : null}
    </section>
  );
}

function Header({ r, ds, onChange }: { r: Revision; ds?: DataSet; onChange: (r: Partial<Revision>) => void }) {
  const act = useAction();
  const [editing, setEditing] = useState(false);
  const [comment, setComment] = useState(r.Comment ?? "");
  const [revoking, setRevoking] = useState(false);
  const [revocation, setRevocation] = useState("");
  return (
    <div class="card head-card">
      <div class="page-head">
        <h1 id="page-title">
          Revision <code class="title-id">{r.Id}</code> <RevisionState r={r} />
        </h1>
        <div class="actions">
          {!r.Finalized ? (
            <button type="button" class="primary" disabled={act.busy} onClick={() => act.run(async () => onChange(await updateRevision(r.DataSetId, r.Id, { Finalized: true })))}>
              Finalize
            </button>
          ) : (
            <button type="button" disabled={act.busy || r.Revoked} onClick={() => act.run(async () => onChange(await updateRevision(r.DataSetId, r.Id, { Finalized: false })))}>
              Un-finalize
            </button>
          )}
          {r.Finalized && !r.Revoked ? (
            <button type="button" class="danger" aria-expanded={revoking} onClick={() => setRevoking(!revoking)}>
              Revoke…
            </button>
          ) : null}
          <button type="button" onClick={() => setEditing(!editing)} aria-expanded={editing}>
            Edit comment
          </button>
          <Confirm
            label="Delete"
            confirm="Delete this revision?"
            busy={act.busy}
            onConfirm={async () => {
              if (await act.run(() => deleteRevision(r.DataSetId, r.Id))) navigate(`/console/data-sets/${r.DataSetId}`);
            }}
          />
        </div>
      </div>
      {ds && ds.Origin !== "OWNED" ? <p class="notice" role="note">This revision belongs to an entitled data set: you can read and export it; Wharf refuses changes to it.</p> : null}
      {editing ? (
        <form
          class="inline-form"
          aria-label="Edit comment"
          onSubmit={async (e) => {
            e.preventDefault();
            if (await act.run(async () => onChange(await updateRevision(r.DataSetId, r.Id, { Comment: comment })))) setEditing(false);
          }}
        >
          <Field label="Comment">
            <input name="comment" value={comment} onInput={(e) => setComment((e.target as HTMLInputElement).value)} autoFocus />
          </Field>
          <button type="submit" class="primary" disabled={act.busy}>Save</button>
          <button type="button" onClick={() => setEditing(false)}>Cancel</button>
        </form>
      ) : r.Comment ? (
        <p class="description">{r.Comment}</p>
      ) : null}
      {revoking ? (
        <form
          class="inline-form"
          aria-label="Revoke revision"
          onSubmit={async (e) => {
            e.preventDefault();
            if (await act.run(async () => onChange(await revokeRevision(r.DataSetId, r.Id, revocation)))) setRevoking(false);
          }}
        >
          <Field label="Revocation comment" hint="10 to 512 characters; subscribers see it.">
            <input name="revocationComment" value={revocation} onInput={(e) => setRevocation((e.target as HTMLInputElement).value)} autoFocus />
          </Field>
          <button type="submit" class="danger" disabled={act.busy}>Revoke revision</button>
          <button type="button" onClick={() => setRevoking(false)}>Cancel</button>
        </form>
      ) : null}
      <ErrorBox error={act.error} />
      <dl class="facts">
        <dt>Id</dt>
        <dd><Copy text={r.Id} label="revision id" short /></dd>
        <dt>ARN</dt>
        <dd><Copy text={r.Arn} label="revision ARN" /></dd>
        <dt>Created</dt>
        <dd><Time iso={r.CreatedAt} /></dd>
        <dt>Updated</dt>
        <dd><Time iso={r.UpdatedAt} /></dd>
        {r.Revoked ? (
          <>
            <dt>Revoked</dt>
            <dd><Time iso={r.RevokedAt} />: {r.RevocationComment}</dd>
          </>
        ) : null}
      </dl>
      <Tags arn={r.Arn} editable />
    </div>
  );
}

function AssetTable({ ds, r, assets, reload, onJob }: { ds?: DataSet; r: Revision; assets: Asset[]; reload: () => void; onJob: () => void }) {
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [exporting, setExporting] = useState(false);
  if (assets.length === 0) {
    return (
      <Empty title="This revision has no assets yet.">
        {ds && ds.Origin !== "OWNED"
          ? "The owner has added no assets to this revision."
          : "Upload files from this computer or import objects from S3 below. Once its assets are in, finalize the revision to publish it."}
      </Empty>
    );
  }
  const toggle = (id: string) => {
    const s = new Set(selected);
    if (s.has(id)) s.delete(id);
    else s.add(id);
    setSelected(s);
  };
  const chosen = assets.filter((a) => selected.has(a.Id));
  return (
    <>
      <div class="table-wrap">
        <table class="list" aria-label="Assets">
          <thead>
            <tr>
              <th scope="col"><span class="offscreen">Select</span></th>
              <th scope="col">Name</th>
              <th scope="col">Type</th>
              <th scope="col">Size</th>
              <th scope="col">Created</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {assets.map((a) => (
              <tr key={a.Id} data-id={a.Id} data-name={a.Name}>
                <td data-label="Select">
                  <input type="checkbox" aria-label={`Select ${a.Name}`} checked={selected.has(a.Id)} onChange={() => toggle(a.Id)} />
                </td>
                <td data-label="Name">
                  <Link href={`/console/data-sets/${a.DataSetId}/revisions/${a.RevisionId}/assets/${a.Id}`} class="name">{a.Name}</Link>
                  <details class="small">
                    <summary>Details</summary>
                    <dl class="facts">
                      <dt>Id</dt><dd><Copy text={a.Id} label="asset id" short /></dd>
                      <dt>ARN</dt><dd><Copy text={a.Arn} label="asset ARN" /></dd>
                      <dt>Updated</dt><dd><Time iso={a.UpdatedAt} /></dd>
                    </dl>
                    <pre class="json">{JSON.stringify(a.AssetDetails ?? {}, null, 2)}</pre>
                  </details>
                </td>
                <td data-label="Type">{a.AssetType}</td>
                <td data-label="Size" class="num">{formatBytes(assetSize(a))}</td>
                <td data-label="Created"><Time iso={a.CreatedAt} /></td>
                <td data-label="Actions">
                  <AssetActions a={a} onChange={reload} onJob={onJob} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div class="actions">
        <button type="button" disabled={chosen.length === 0} onClick={() => setExporting(!exporting)} aria-expanded={exporting}>
          Export {chosen.length || ""} selected to S3…
        </button>
      </div>
      {exporting && chosen.length > 0 ? <ExportAssets r={r} assets={chosen} onJob={onJob} onClose={() => setExporting(false)} /> : null}
    </>
  );
}

function ExportAssets({ r, assets, onJob, onClose }: { r: Revision; assets: Asset[]; onJob: () => void; onClose: () => void }) {
  const [bucket, setBucket] = useState("");
  const [keys, setKeys] = useState<Record<string, string>>({});
  const [enc, setEnc] = useState<EncState>({ type: "", kms: "" });
  const act = useAction();
  const [started, setStarted] = useState("");
  return (
    <form
      class="card form"
      aria-label="Export assets to S3"
      onSubmit={async (e) => {
        e.preventDefault();
        await act.run(async () => {
          const j = await runJob("EXPORT_ASSETS_TO_S3", {
            ExportAssetsToS3: {
              DataSetId: r.DataSetId,
              RevisionId: r.Id,
              AssetDestinations: assets.map((a) => ({ AssetId: a.Id, Bucket: bucket, Key: keys[a.Id] ?? a.Name })),
              Encryption: encryptionOf(enc),
            },
          });
          setStarted(j.Id);
          onJob();
        });
      }}
    >
      <h3>Export assets to S3</h3>
      <Field label="Bucket">
        <input name="exportBucket" value={bucket} onInput={(e) => setBucket((e.target as HTMLInputElement).value)} required />
      </Field>
      {assets.map((a) => (
        <Field key={a.Id} label={`Key for ${a.Name}`}>
          <input name={`key-${a.Id}`} value={keys[a.Id] ?? a.Name} onInput={(e) => setKeys({ ...keys, [a.Id]: (e.target as HTMLInputElement).value })} />
        </Field>
      ))}
      <EncryptionFields value={enc} onChange={setEnc} />
      <ErrorBox error={act.error} />
      {started ? <p class="ok" role="status">Export job <Link href={`/console/jobs/${started}`}><code>{started}</code></Link> started.</p> : null}
      <div class="actions">
        <button type="submit" class="primary" disabled={act.busy}>Export</button>
        <button type="button" onClick={onClose}>Close</button>
      </div>
    </form>
  );
}

function Upload({ r, onDone, onJob }: { r: Revision; onDone: () => void; onJob: () => void }) {
  const [files, setFiles] = useState<FileList | null>(null);
  const [uploads, setUploads] = useState<UploadState[]>([]);
  const [running, setRunning] = useState(false);
  const start = async () => {
    if (!files || files.length === 0) return;
    const list = Array.from(files);
    const states: UploadState[] = list.map((file) => ({ file, phase: "queued", done: 0 }));
    setUploads(states);
    setRunning(true);
    const update = (i: number) => (s: Partial<UploadState>) => {
      states[i] = { ...states[i], ...s };
      setUploads([...states]);
      if (s.job && s.phase === "uploading") onJob();
    };
    for (let i = 0; i < list.length; i++) {
      try {
        await upload(list[i], r.DataSetId, r.Id, update(i));
        onDone();
      } catch (e) {
        update(i)({ phase: "failed", error: e });
      }
    }
    setRunning(false);
  };
  return (
    <form class="card form" aria-label="Upload files" onSubmit={(e) => { e.preventDefault(); start(); }}>
      <h3>Upload files</h3>
      <p class="muted small">Each file becomes an asset named after it. The browser computes its MD5, sends it to a signed URL and starts the import job.</p>
      <Field label="Files">
        <input type="file" name="files" multiple onChange={(e) => setFiles((e.target as HTMLInputElement).files)} disabled={running} />
      </Field>
      <div class="actions">
        <button type="submit" class="primary" disabled={running || !files || files.length === 0}>
          {running ? "Uploading…" : "Upload"}
        </button>
      </div>
      {uploads.length > 0 ? (
        <ul class="uploads" aria-label="Uploads">
          {uploads.map((u) => (
            <li key={u.file.name} class="upload" data-file={u.file.name} data-phase={u.phase}>
              <div class="upload-head">
                <strong>{u.file.name}</strong> <span class="muted">{formatBytes(u.file.size)}</span>{" "}
                <span class={"badge phase-" + u.phase}>{phaseLabel(u.phase)}</span>
                {u.job ? <> <Link href={`/console/jobs/${u.job.Id}`}>job</Link> {u.job.State ? <StateBadge state={u.job.State} /> : null}</> : null}
              </div>
              {u.phase === "hashing" ? <Progress done={u.done} total={u.file.size} label={`Computing MD5 of ${u.file.name}`} /> : null}
              {u.phase === "uploading" || u.phase === "starting" || u.phase === "importing" || u.phase === "done" ? (
                <Progress done={u.phase === "uploading" ? u.done : u.file.size} total={u.file.size} label={`Upload of ${u.file.name}`} />
              ) : null}
              <ErrorBox error={u.error} />
            </li>
          ))}
        </ul>
      ) : null}
    </form>
  );
}

function phaseLabel(p: string): string {
  return ({ queued: "queued", hashing: "computing MD5", creating: "creating job", uploading: "uploading", starting: "starting job", importing: "importing", done: "imported", failed: "failed" } as Record<string, string>)[p] ?? p;
}

function ImportS3({ r, onJob }: { r: Revision; onJob: () => void }) {
  const [bucket, setBucket] = useState("");
  const [keys, setKeys] = useState("");
  const [started, setStarted] = useState("");
  const act = useAction();
  return (
    <form
      class="card form"
      aria-label="Import from S3"
      onSubmit={async (e) => {
        e.preventDefault();
        await act.run(async () => {
          const list = keys.split("\n").map((k) => k.trim()).filter(Boolean);
          const j = await runJob("IMPORT_ASSETS_FROM_S3", {
            ImportAssetsFromS3: { DataSetId: r.DataSetId, RevisionId: r.Id, AssetSources: list.map((Key) => ({ Bucket: bucket, Key })) },
          });
          setStarted(j.Id);
          onJob();
        });
      }}
    >
      <h3>Import from S3</h3>
      <Field label="Bucket">
        <input name="importBucket" value={bucket} onInput={(e) => setBucket((e.target as HTMLInputElement).value)} required />
      </Field>
      <Field label="Keys" hint="One object key a line.">
        <textarea name="importKeys" rows={3} value={keys} onInput={(e) => setKeys((e.target as HTMLTextAreaElement).value)} required />
      </Field>
      <ErrorBox error={act.error} />
      {started ? <p class="ok" role="status">Import job <Link href={`/console/jobs/${started}`}><code>{started}</code></Link> started.</p> : null}
      <div class="actions">
        <button type="submit" class="primary" disabled={act.busy}>Import</button>
      </div>
    </form>
  );
}

function ExportRevision({ r, onJob }: { r: Revision; onJob: () => void }) {
  const [bucket, setBucket] = useState("");
  const [pattern, setPattern] = useState("${Revision.Id}/${Asset.Name}");
  const [enc, setEnc] = useState<EncState>({ type: "", kms: "" });
  const [started, setStarted] = useState("");
  const act = useAction();
  return (
    <form
      class="card form"
      aria-label="Export revision to S3"
      onSubmit={async (e) => {
        e.preventDefault();
        await act.run(async () => {
          const j = await runJob("EXPORT_REVISIONS_TO_S3", {
            ExportRevisionsToS3: {
              DataSetId: r.DataSetId,
              RevisionDestinations: [{ RevisionId: r.Id, Bucket: bucket, KeyPattern: pattern || undefined }],
              Encryption: encryptionOf(enc),
            },
          });
          setStarted(j.Id);
          onJob();
        });
      }}
    >
      <h3>Export this revision to S3</h3>
      <div class="grid2">
        <Field label="Bucket">
          <input name="revisionBucket" value={bucket} onInput={(e) => setBucket((e.target as HTMLInputElement).value)} required />
        </Field>
        <Field label="Key pattern" hint="Must contain ${Asset.Name} or ${Asset.Id}; also ${Revision.Id}, ${Revision.CreatedAt}, ${DataSet.Name}…">
          <input name="keyPattern" value={pattern} onInput={(e) => setPattern((e.target as HTMLInputElement).value)} />
        </Field>
      </div>
      <EncryptionFields value={enc} onChange={setEnc} />
      <ErrorBox error={act.error} />
      {started ? <p class="ok" role="status">Export job <Link href={`/console/jobs/${started}`}><code>{started}</code></Link> started.</p> : null}
      <div class="actions">
        <button type="submit" class="primary" disabled={act.busy}>Export revision</button>
      </div>
    </form>
  );
}
