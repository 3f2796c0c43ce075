// Data grants: the ones this account sent (create, delete) and received (accept).
import { useState } from "preact/hooks";
import { acceptGrant, createGrant, deleteGrant, listDataSets, listGrants, listReceivedGrants, type Grant } from "../adx";
import { Link, setQuery } from "../router";
import { Confirm, Copy, Empty, ErrorBox, Field, Loading, Time, useAction, useLoad, useTitle } from "../ui";

export function Grants({ query }: { query: URLSearchParams }) {
  useTitle("Data grants");
  const view = query.get("view") === "received" ? "received" : "sent";
  return (
    <section aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title">Data grants</h1>
      </div>
      <div class="tabs" role="tablist" aria-label="Data grants">
        <button type="button" role="tab" aria-selected={view === "sent"} class={view === "sent" ? "tab active" : "tab"} onClick={() => setQuery({ view: undefined })}>Sent</button>
        <button type="button" role="tab" aria-selected={view === "received"} class={view === "received" ? "tab active" : "tab"} onClick={() => setQuery({ view: "received" })}>Received</button>
      </div>
      <div role="tabpanel">{view === "sent" ? <SentGrants /> : <ReceivedGrants />}</div>
    </section>
  );
}

function AcceptanceBadge({ g }: { g: Grant }) {
  return g.AcceptanceState === "ACCEPTED" ? <span class="badge state-completed">ACCEPTED</span> : <span class="badge state-waiting">PENDING</span>;
}

/** SentGrants lists the grants this account sent (of one data set when given). */
export function SentGrants({ dataSetId }: { dataSetId?: string }) {
  const { data, error, loading, reload } = useLoad(() => listGrants(), []);
  const [creating, setCreating] = useState(false);
  const act = useAction();
  const shown = (data ?? []).filter((g) => !dataSetId || g.SourceDataSetId === dataSetId);
  return (
    <div>
      <div class="actions">
        <button type="button" class="primary" onClick={() => setCreating(!creating)} aria-expanded={creating}>Create data grant</button>
      </div>
      {creating ? <CreateGrant dataSetId={dataSetId} onDone={() => { setCreating(false); reload(true); }} /> : null}
      <ErrorBox error={error} />
      <ErrorBox error={act.error} />
      {loading && !data ? <Loading /> : null}
      {data && shown.length === 0 ? (
        <Empty title="No data grants sent.">Share a data set you own with another account: “Create data grant”, then give the receiver the grant's ARN or tell them to look under received grants.</Empty>
      ) : null}
      {shown.length > 0 ? (
        <div class="table-wrap">
          <table class="list" aria-label="Sent data grants">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Receiver</th>
                <th scope="col">Data set</th>
                <th scope="col">State</th>
                <th scope="col">Ends</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((g) => (
                <tr key={g.Id} data-id={g.Id}>
                  <td data-label="Name">{g.Name}<div><Copy text={g.Arn} label="data grant ARN" /></div></td>
                  <td data-label="Receiver"><code>{g.ReceiverPrincipal}</code></td>
                  <td data-label="Data set"><Link href={`/console/data-sets/${g.SourceDataSetId}`}><code>{g.SourceDataSetId}</code></Link></td>
                  <td data-label="State"><AcceptanceBadge g={g} /></td>
                  <td data-label="Ends"><Time iso={g.EndsAt} /></td>
                  <td data-label="Created"><Time iso={g.CreatedAt} /></td>
                  <td data-label="Actions">
                    <Confirm label="Delete" confirm="Delete this grant? The receiver loses the data set." busy={act.busy} onConfirm={async () => { if (await act.run(() => deleteGrant(g.Id))) reload(true); }} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

function CreateGrant({ dataSetId, onDone }: { dataSetId?: string; onDone: () => void }) {
  const owned = useLoad(() => listDataSets("OWNED"), []);
  const [name, setName] = useState("");
  const [receiver, setReceiver] = useState("");
  const [source, setSource] = useState(dataSetId ?? "");
  const [ends, setEnds] = useState("");
  const [description, setDescription] = useState("");
  const act = useAction();
  return (
    <form
      class="card form"
      aria-label="Create data grant"
      onSubmit={async (e) => {
        e.preventDefault();
        const ok = await act.run(() =>
          createGrant({
            Name: name,
            ReceiverPrincipal: receiver.trim(),
            SourceDataSetId: source,
            GrantDistributionScope: "NONE",
            EndsAt: ends ? new Date(ends).toISOString() : undefined,
            Description: description || undefined,
          }),
        );
        if (ok) onDone();
      }}
    >
      <h2>Create data grant</h2>
      <div class="grid2">
        <Field label="Name"><input name="grantName" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} required autoFocus /></Field>
        <Field label="Receiver account id" hint="12 digits"><input name="receiver" inputMode="numeric" value={receiver} onInput={(e) => setReceiver((e.target as HTMLInputElement).value)} required /></Field>
        <Field label="Data set">
          <select name="sourceDataSet" value={source} onChange={(e) => setSource((e.target as HTMLSelectElement).value)} required>
            <option value="">Choose a data set you own</option>
            {(owned.data ?? []).map((d) => <option key={d.Id} value={d.Id}>{d.Name} ({d.Id.slice(0, 8)}…)</option>)}
            {source && owned.data && !owned.data.some((d) => d.Id === source) ? <option value={source}>{source}</option> : null}
          </select>
        </Field>
        <Field label="Ends at (optional)"><input name="endsAt" type="datetime-local" value={ends} onInput={(e) => setEnds((e.target as HTMLInputElement).value)} /></Field>
      </div>
      <Field label="Description (optional)"><textarea name="grantDescription" rows={2} value={description} onInput={(e) => setDescription((e.target as HTMLTextAreaElement).value)} /></Field>
      <ErrorBox error={owned.error} />
      <ErrorBox error={act.error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={act.busy}>Create grant</button>
        <button type="button" onClick={onDone}>Cancel</button>
      </div>
    </form>
  );
}

function ReceivedGrants() {
  const { data, error, loading, reload } = useLoad(() => listReceivedGrants(), []);
  const act = useAction();
  return (
    <div>
      <ErrorBox error={error} />
      <ErrorBox error={act.error} />
      {loading && !data ? <Loading /> : null}
      {data && data.length === 0 ? (
        <Empty title="No data grants received.">When another account shares a data set with you, its grant appears here for you to accept; the data set then appears under Data sets as entitled.</Empty>
      ) : null}
      {data && data.length > 0 ? (
        <div class="table-wrap">
          <table class="list" aria-label="Received data grants">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Sender</th>
                <th scope="col">State</th>
                <th scope="col">Ends</th>
                <th scope="col">Received</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {data.map((g) => (
                <tr key={g.Id} data-id={g.Id} data-state={g.AcceptanceState}>
                  <td data-label="Name">{g.Name}<div><Copy text={g.Arn} label="data grant ARN" /></div></td>
                  <td data-label="Sender"><code>{g.SenderPrincipal}</code></td>
                  <td data-label="State"><AcceptanceBadge g={g} /></td>
                  <td data-label="Ends"><Time iso={g.EndsAt} /></td>
                  <td data-label="Received"><Time iso={g.CreatedAt} /></td>
                  <td data-label="Actions">
                    {g.AcceptanceState === "ACCEPTED" ? (
                      <Link href={`/console/data-sets/${g.DataSetId}`} class="button">Open data set</Link>
                    ) : (
                      <button type="button" class="primary" disabled={act.busy} onClick={async () => { if (await act.run(() => acceptGrant(g.Arn))) reload(true); }}>Accept</button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
