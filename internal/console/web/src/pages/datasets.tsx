// The data sets page: owned and entitled, filtered by origin, searched by name.
import { useEffect, useState } from "preact/hooks";
import { assetTypes, createDataSet, listDataSets } from "../adx";
import { Link, navigate, setQuery } from "../router";
import { Copy, Empty, ErrorBox, Field, Loading, Time, parseTags, useAction, useLoad, useTitle } from "../ui";

export function DataSets({ query }: { query: URLSearchParams }) {
  useTitle("Data sets");
  const origin = query.get("origin") || "";
  const q = query.get("q") || "";
  const { data, error, loading } = useLoad(() => listDataSets(origin || undefined), [origin]);
  const [creating, setCreating] = useState(query.get("create") === "1");
  useEffect(() => {
    // The end-to-end test reads this mark: navigation to a listed page.
    if (data) performance.mark("wharf:listed");
  }, [data]);
  const shown = (data ?? []).filter((d) => !q || d.Name.toLowerCase().includes(q.toLowerCase()));

  return (
    <section aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title">Data sets</h1>
        <button type="button" class="primary" onClick={() => setCreating(!creating)} aria-expanded={creating}>
          Create data set
        </button>
      </div>
      {creating ? <CreateDataSet onCancel={() => setCreating(false)} /> : null}
      <div class="toolbar" role="search">
        <Field label="Origin">
          <select value={origin} onChange={(e) => setQuery({ origin: (e.target as HTMLSelectElement).value })} name="origin">
            <option value="">Owned and entitled</option>
            <option value="OWNED">Owned</option>
            <option value="ENTITLED">Entitled</option>
          </select>
        </Field>
        <Field label="Name contains">
          <input type="search" name="q" value={q} onInput={(e) => setQuery({ q: (e.target as HTMLInputElement).value })} placeholder="Search by name" />
        </Field>
      </div>
      <ErrorBox error={error} />
      {loading && !data ? <Loading /> : null}
      {data && shown.length === 0 ? (
        q ? (
          <Empty title={`No data set's name contains “${q}”.`}>Clear the search to see every data set.</Empty>
        ) : origin === "ENTITLED" ? (
          <Empty title="No entitled data sets.">
            Data sets that other accounts grant you appear here once you accept their grant on the <Link href="/console/data-grants?view=received">received data grants</Link> page.
          </Empty>
        ) : (
          <Empty title="No data sets yet.">
            Create one with “Create data set”, then add a revision and upload its assets. Data sets granted to you appear here once you accept the grant on the <Link href="/console/data-grants?view=received">data grants</Link> page.
          </Empty>
        )
      ) : null}
      {shown.length > 0 ? (
        <div class="table-wrap">
          <table class="list" aria-label="Data sets">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Origin</th>
                <th scope="col">Asset type</th>
                <th scope="col">Updated</th>
                <th scope="col">Id</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((d) => (
                <tr key={d.Id} data-id={d.Id}>
                  <td data-label="Name">
                    <Link href={`/console/data-sets/${d.Id}`} class="name">
                      {d.Name}
                    </Link>
                    {d.Description ? <div class="muted small clamp">{d.Description}</div> : null}
                  </td>
                  <td data-label="Origin">
                    <span class={"badge origin-" + d.Origin.toLowerCase()}>{d.Origin}</span>
                  </td>
                  <td data-label="Asset type">{d.AssetType}</td>
                  <td data-label="Updated">
                    <Time iso={d.UpdatedAt} />
                  </td>
                  <td data-label="Id">
                    <Copy text={d.Id} label="data set id" short />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function CreateDataSet({ onCancel }: { onCancel: () => void }) {
  const act = useAction();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [assetType, setAssetType] = useState("S3_SNAPSHOT");
  const [tags, setTags] = useState("");
  return (
    <form
      class="card form"
      aria-label="Create data set"
      onSubmit={async (e) => {
        e.preventDefault();
        let id = "";
        const ok = await act.run(async () => {
          const d = await createDataSet({ Name: name, Description: description, AssetType: assetType, Tags: parseTags(tags) });
          id = d.Id;
        });
        if (ok) navigate(`/console/data-sets/${id}`);
      }}
    >
      <h2>Create data set</h2>
      <Field label="Name">
        <input name="name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} required autoFocus />
      </Field>
      <Field label="Description">
        <textarea name="description" rows={3} value={description} onInput={(e) => setDescription((e.target as HTMLTextAreaElement).value)} required />
      </Field>
      <Field label="Asset type">
        <select name="assetType" value={assetType} onChange={(e) => setAssetType((e.target as HTMLSelectElement).value)}>
          {assetTypes.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Tags" hint="One key=value a line (optional).">
        <textarea name="tags" rows={2} value={tags} onInput={(e) => setTags((e.target as HTMLTextAreaElement).value)} />
      </Field>
      <ErrorBox error={act.error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={act.busy}>
          Create
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
