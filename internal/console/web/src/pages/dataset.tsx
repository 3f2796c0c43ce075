// A data set: its details and tags, its revisions, event actions and data grants.
import { useState } from "preact/hooks";
import { createRevision, deleteDataSet, getDataSet, listRevisions, tag, tagsOf, untag, updateDataSet, type DataSet } from "../adx";
import { Link, navigate, setQuery } from "../router";
import { Confirm, Copy, Empty, ErrorBox, Field, Loading, Time, useAction, useLoad, useTitle } from "../ui";
import { EventActionList } from "./eventactions";
import { SentGrants } from "./grants";

export function DataSetPage({ id, query }: { id: string; query: URLSearchParams }) {
  const { data: ds, error, reload, setData } = useLoad(() => getDataSet(id), [id]);
  useTitle(ds?.Name ?? "Data set");
  const tab = query.get("tab") || "revisions";
  if (error && !ds) {
    return (
      <section>
        <Crumbs />
        <h1>Data set</h1>
        <ErrorBox error={error} />
      </section>
    );
  }
  if (!ds) return <Loading />;
  const tabs: [string, string][] = [["revisions", "Revisions"], ["event-actions", "Event actions"], ["data-grants", "Data grants"]];
  return (
    <section aria-labelledby="page-title">
      <Crumbs />
      <Header ds={ds} onChange={(d) => setData({ ...ds, ...d })} reload={() => reload(true)} />
      <div class="tabs" role="tablist" aria-label="Data set parts">
        {tabs.map(([t, label]) => (
          <button key={t} type="button" role="tab" aria-selected={tab === t} class={tab === t ? "tab active" : "tab"} onClick={() => setQuery({ tab: t === "revisions" ? undefined : t })}>
            {label}
          </button>
        ))}
        <Link href={`/console/jobs?dataSetId=${ds.Id}`} class="tab-link">
          Jobs of this data set
        </Link>
      </div>
      <div role="tabpanel">
        {tab === "revisions" ? <Revisions ds={ds} /> : null}
        {tab === "event-actions" ? <EventActionList dataSetId={ds.Id} /> : null}
        {tab === "data-grants" ? <SentGrants dataSetId={ds.Id} /> : null}
      </div>
    </section>
  );
}

function Crumbs() {
  return (
    <nav class="crumbs" aria-label="Breadcrumb">
      <Link href="/console/data-sets">Data sets</Link>
    </nav>
  );
}

function Header({ ds, onChange, reload }: { ds: DataSet; onChange: (d: Partial<DataSet>) => void; reload: () => void }) {
  const [editing, setEditing] = useState(false);
  const act = useAction();
  const owned = ds.Origin === "OWNED";
  return (
    <div class="card head-card">
      {!owned ? (
        <p class="notice" role="note">
          This data set is entitled: another account shares it with you through a data grant. You can read and export it; Wharf refuses changes to it.
        </p>
      ) : null}
      {editing ? (
        <EditDataSet ds={ds} onDone={(d) => { setEditing(false); if (d) onChange(d); }} />
      ) : (
        <>
          <div class="page-head">
            <h1 id="page-title">{ds.Name}</h1>
            <div class="actions">
              <button type="button" onClick={() => setEditing(true)}>
                Edit
              </button>
              <Confirm
                label="Delete"
                confirm="Delete this data set?"
                busy={act.busy}
                onConfirm={async () => {
                  if (await act.run(() => deleteDataSet(ds.Id))) navigate("/console/data-sets");
                }}
              />
            </div>
          </div>
          <p class="description">{ds.Description}</p>
        </>
      )}
      <ErrorBox error={act.error} />
      <dl class="facts">
        <dt>Id</dt>
        <dd><Copy text={ds.Id} label="data set id" short /></dd>
        <dt>ARN</dt>
        <dd><Copy text={ds.Arn} label="data set ARN" /></dd>
        <dt>Origin</dt>
        <dd>
          <span class={"badge origin-" + ds.Origin.toLowerCase()}>{ds.Origin}</span>
          {ds.OriginDetails?.DataGrantId ? <span class="muted small"> through data grant <code>{ds.OriginDetails.DataGrantId}</code></span> : null}
        </dd>
        <dt>Asset type</dt>
        <dd>{ds.AssetType}</dd>
        {ds.SourceId ? (<><dt>Source</dt><dd><Copy text={ds.SourceId} label="source data set id" short /></dd></>) : null}
        <dt>Created</dt>
        <dd><Time iso={ds.CreatedAt} /></dd>
        <dt>Updated</dt>
        <dd><Time iso={ds.UpdatedAt} /></dd>
      </dl>
      <Tags arn={ds.Arn} editable onChange={reload} />
    </div>
  );
}

function EditDataSet({ ds, onDone }: { ds: DataSet; onDone: (d?: DataSet) => void }) {
  const [name, setName] = useState(ds.Name);
  const [description, setDescription] = useState(ds.Description);
  const act = useAction();
  return (
    <form
      class="form"
      aria-label="Edit data set"
      onSubmit={async (e) => {
        e.preventDefault();
        let out: DataSet | undefined;
        if (await act.run(async () => { out = await updateDataSet(ds.Id, { Name: name, Description: description }); })) onDone(out);
      }}
    >
      <Field label="Name">
        <input name="name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} autoFocus />
      </Field>
      <Field label="Description">
        <textarea name="description" rows={3} value={description} onInput={(e) => setDescription((e.target as HTMLTextAreaElement).value)} />
      </Field>
      <ErrorBox error={act.error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={act.busy}>Save</button>
        <button type="button" onClick={() => onDone()}>Cancel</button>
      </div>
    </form>
  );
}

/** Tags lists a resource's tags, with add and remove for its owner. */
export function Tags({ arn, editable, onChange }: { arn: string; editable: boolean; onChange?: () => void }) {
  const { data: tags, error, reload } = useLoad(() => tagsOf(arn), [arn]);
  const [k, setK] = useState("");
  const [v, setV] = useState("");
  const act = useAction();
  const keys = Object.keys(tags ?? {}).sort();
  return (
    <div class="tags" aria-label="Tags">
      <h2 class="h3">Tags</h2>
      <ErrorBox error={error} />
      {tags && keys.length === 0 ? <p class="muted small">No tags.{editable ? " Add one below." : ""}</p> : null}
      <ul class="tag-list">
        {keys.map((key) => (
          <li key={key} class="tag">
            <code>{key}</code>=<code>{tags![key]}</code>
            {editable ? (
              <button type="button" class="link-btn" aria-label={`Remove tag ${key}`} disabled={act.busy} onClick={async () => { if (await act.run(() => untag(arn, [key]))) { reload(true); onChange?.(); } }}>
                ×
              </button>
            ) : null}
          </li>
        ))}
      </ul>
      {editable ? (
        <form
          class="inline-form"
          aria-label="Add tag"
          onSubmit={async (e) => {
            e.preventDefault();
            if (await act.run(() => tag(arn, { [k]: v }))) {
              setK("");
              setV("");
              reload(true);
            }
          }}
        >
          <Field label="Key"><input name="tagKey" value={k} onInput={(e) => setK((e.target as HTMLInputElement).value)} required /></Field>
          <Field label="Value"><input name="tagValue" value={v} onInput={(e) => setV((e.target as HTMLInputElement).value)} /></Field>
          <button type="submit" disabled={act.busy}>Add tag</button>
        </form>
      ) : null}
      <ErrorBox error={act.error} />
    </div>
  );
}

function Revisions({ ds }: { ds: DataSet }) {
  const { data, error, loading } = useLoad(() => listRevisions(ds.Id), [ds.Id]);
  const [comment, setComment] = useState("");
  const act = useAction();
  const owned = ds.Origin === "OWNED";
  return (
    <div>
        <form
          class="inline-form card"
          aria-label="Create revision"
          onSubmit={async (e) => {
            e.preventDefault();
            let id = "";
            if (await act.run(async () => { id = (await createRevision(ds.Id, { Comment: comment || undefined })).Id; })) {
              navigate(`/console/data-sets/${ds.Id}/revisions/${id}`);
            }
          }}
        >
          <Field label="Comment (optional)">
            <input name="revisionComment" value={comment} onInput={(e) => setComment((e.target as HTMLInputElement).value)} />
          </Field>
          <button type="submit" class="primary" disabled={act.busy}>Create revision</button>
        </form>
      <ErrorBox error={act.error} />
      <ErrorBox error={error} />
      {loading && !data ? <Loading /> : null}
      {data && data.length === 0 ? (
        <Empty title="No revisions yet.">
          {owned ? "Create a revision above, then upload files or import them from S3 into it." : "The owner has not published a revision in this data set yet."}
        </Empty>
      ) : null}
      {data && data.length > 0 ? (
        <div class="table-wrap">
          <table class="list" aria-label="Revisions">
            <thead>
              <tr>
                <th scope="col">Revision</th>
                <th scope="col">Comment</th>
                <th scope="col">State</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {data.map((r) => (
                <tr key={r.Id} data-id={r.Id}>
                  <td data-label="Revision">
                    <Link href={`/console/data-sets/${ds.Id}/revisions/${r.Id}`}><code>{r.Id}</code></Link>
                  </td>
                  <td data-label="Comment">{r.Comment || <span class="muted">—</span>}</td>
                  <td data-label="State"><RevisionState r={r} /></td>
                  <td data-label="Created"><Time iso={r.CreatedAt} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

export function RevisionState({ r }: { r: { Finalized: boolean; Revoked: boolean } }) {
  if (r.Revoked) return <span class="badge state-error">Revoked</span>;
  if (r.Finalized) return <span class="badge state-completed">Finalized</span>;
  return <span class="badge state-waiting">Draft</span>;
}
