// An asset: its details, and rename, delete, download and export.
import { useState } from "preact/hooks";
import { assetSize, deleteAsset, getAsset, renameAsset, type Asset, type Job } from "../adx";
import { Link, navigate } from "../router";
import { Confirm, Copy, ErrorBox, Field, Json, Loading, StateBadge, Time, formatBytes, useAction, useLoad, useTitle } from "../ui";
import { download } from "../transfer";
import { Tags } from "./dataset";

/** AssetActions are an asset's rename, download and delete buttons. */
export function AssetActions({ a, onChange, onJob, onDelete }: { a: Asset; onChange: () => void; onJob?: () => void; onDelete?: () => void }) {
  const act = useAction();
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(a.Name);
  const [job, setJob] = useState<Job | undefined>(undefined);
  const downloading = act.busy && !!job;
  return (
    <div class="row-actions">
      {renaming ? (
        <form
          class="inline-form"
          aria-label={`Rename ${a.Name}`}
          onSubmit={async (e) => {
            e.preventDefault();
            if (await act.run(() => renameAsset(a.DataSetId, a.RevisionId, a.Id, name))) {
              setRenaming(false);
              onChange();
            }
          }}
        >
          <Field label="New name">
            <input name="assetName" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} autoFocus required />
          </Field>
          <button type="submit" class="primary" disabled={act.busy}>Save</button>
          <button type="button" onClick={() => setRenaming(false)}>Cancel</button>
        </form>
      ) : (
        <>
          <button
            type="button"
            disabled={act.busy}
            aria-label={`Download ${a.Name}`}
            onClick={() =>
              act.run(async () => {
                setJob(undefined);
                await download(a.DataSetId, a.RevisionId, a.Id, a.Name, (j) => {
                  setJob(j);
                  onJob?.();
                });
              })
            }
          >
            {downloading ? "Preparing…" : "Download"}
          </button>
          <button type="button" aria-label={`Rename ${a.Name}`} onClick={() => { setName(a.Name); setRenaming(true); }}>
            Rename
          </button>
          <Confirm
            label="Delete"
            confirm={`Delete ${a.Name}?`}
            busy={act.busy}
            onConfirm={async () => {
              if (await act.run(() => deleteAsset(a.DataSetId, a.RevisionId, a.Id))) (onDelete ?? onChange)();
            }}
          />
        </>
      )}
      {job && job.State !== "COMPLETED" ? <StateBadge state={job.State} /> : null}
      <ErrorBox error={act.error} />
    </div>
  );
}

export function AssetPage({ dataSetId, revisionId, assetId }: { dataSetId: string; revisionId: string; assetId: string }) {
  const { data: a, error, reload } = useLoad(() => getAsset(dataSetId, revisionId, assetId), [dataSetId, revisionId, assetId]);
  useTitle(a?.Name ?? "Asset");
  const revHref = `/console/data-sets/${dataSetId}/revisions/${revisionId}`;
  return (
    <section aria-labelledby="page-title">
      <nav class="crumbs" aria-label="Breadcrumb">
        <Link href="/console/data-sets">Data sets</Link> <span aria-hidden="true">›</span>{" "}
        <Link href={`/console/data-sets/${dataSetId}`}>Data set</Link> <span aria-hidden="true">›</span>{" "}
        <Link href={revHref}>Revision</Link>
      </nav>
      <ErrorBox error={error} />
      {!a && !error ? <Loading /> : null}
      {a ? (
        <div class="card head-card">
          <h1 id="page-title">{a.Name}</h1>
          <AssetActions a={a} onChange={() => reload(true)} onDelete={() => navigate(revHref)} />
          <dl class="facts">
            <dt>Id</dt><dd><Copy text={a.Id} label="asset id" short /></dd>
            <dt>ARN</dt><dd><Copy text={a.Arn} label="asset ARN" /></dd>
            <dt>Type</dt><dd>{a.AssetType}</dd>
            <dt>Size</dt><dd>{formatBytes(assetSize(a))}{assetSize(a) !== undefined ? <span class="muted small"> ({assetSize(a)} bytes)</span> : null}</dd>
            <dt>Created</dt><dd><Time iso={a.CreatedAt} /></dd>
            <dt>Updated</dt><dd><Time iso={a.UpdatedAt} /></dd>
            {a.SourceId ? (<><dt>Source</dt><dd><Copy text={a.SourceId} label="source asset id" short /></dd></>) : null}
          </dl>
          <h2 class="h3">Details</h2>
          <Json value={a.AssetDetails ?? {}} />
          <Tags arn={a.Arn} editable />
          <p class="small"><Link href={revHref}>Export this asset to S3</Link> from its revision's page (select it in the assets list).</p>
        </div>
      ) : null}
    </section>
  );
}
