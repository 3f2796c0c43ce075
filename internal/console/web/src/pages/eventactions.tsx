// Event actions: export each newly published revision of a data set to S3.
import { useState } from "preact/hooks";
import { createEventAction, deleteEventAction, listDataSets, listEventActions, updateEventAction, type Encryption, type EventAction } from "../adx";
import { Link } from "../router";
import { Confirm, Copy, Empty, ErrorBox, Field, Loading, Time, useAction, useLoad, useTitle } from "../ui";

export interface EncState { type: string; kms: string }

export function encryptionOf(e: EncState): Encryption | undefined {
  if (!e.type) return undefined;
  return e.type === "aws:kms" ? { Type: e.type, KmsKeyArn: e.kms } : { Type: e.type };
}

/** EncryptionFields choose the server-side encryption of exported objects. */
export function EncryptionFields({ value, onChange }: { value: EncState; onChange: (v: EncState) => void }) {
  return (
    <div class="grid2">
      <Field label="Encryption">
        <select name="encryption" value={value.type} onChange={(e) => onChange({ ...value, type: (e.target as HTMLSelectElement).value })}>
          <option value="">The bucket's default</option>
          <option value="AES256">AES256 (SSE-S3)</option>
          <option value="aws:kms">aws:kms (SSE-KMS)</option>
        </select>
      </Field>
      {value.type === "aws:kms" ? (
        <Field label="KMS key ARN">
          <input name="kmsKeyArn" value={value.kms} onInput={(e) => onChange({ ...value, kms: (e.target as HTMLInputElement).value })} required />
        </Field>
      ) : null}
    </div>
  );
}

export function EventActions() {
  useTitle("Event actions");
  return (
    <section aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title">Event actions</h1>
      </div>
      <p class="muted">An event action exports every revision of a data set to S3 as soon as the revision is finalized (published).</p>
      <EventActionList />
    </section>
  );
}

const defaultPattern = "${Revision.CreatedAt}/${Asset.Name}";

/** EventActionList lists event actions (of one data set when given), with create, edit and delete. */
export function EventActionList({ dataSetId }: { dataSetId?: string }) {
  const { data, error, loading, reload } = useLoad(() => listEventActions(dataSetId), [dataSetId]);
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState("");
  const act = useAction();
  return (
    <div>
      <div class="actions">
        <button type="button" class="primary" onClick={() => setCreating(!creating)} aria-expanded={creating}>Create event action</button>
      </div>
      {creating ? <EventActionForm dataSetId={dataSetId} onDone={(changed) => { setCreating(false); if (changed) reload(true); }} /> : null}
      <ErrorBox error={error} />
      <ErrorBox error={act.error} />
      {loading && !data ? <Loading /> : null}
      {data && data.length === 0 ? (
        <Empty title="No event actions.">Create one to export each revision to an S3 bucket automatically when it is published.</Empty>
      ) : null}
      {data && data.length > 0 ? (
        <div class="table-wrap">
          <table class="list" aria-label="Event actions">
            <thead>
              <tr>
                <th scope="col">Data set</th>
                <th scope="col">Bucket</th>
                <th scope="col">Key pattern</th>
                <th scope="col">Encryption</th>
                <th scope="col">Created</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {data.map((ea) => {
                const x = ea.Action.ExportRevisionToS3;
                return editing === ea.Id ? (
                  <tr key={ea.Id}>
                    <td colSpan={6}>
                      <EventActionForm ea={ea} onDone={(changed) => { setEditing(""); if (changed) reload(true); }} />
                    </td>
                  </tr>
                ) : (
                  <tr key={ea.Id} data-id={ea.Id}>
                    <td data-label="Data set">
                      <Link href={`/console/data-sets/${ea.Event.RevisionPublished.DataSetId}`}><code>{ea.Event.RevisionPublished.DataSetId}</code></Link>
                      <div><Copy text={ea.Id} label="event action id" short /></div>
                    </td>
                    <td data-label="Bucket"><code>{x.RevisionDestination.Bucket}</code></td>
                    <td data-label="Key pattern"><code>{x.RevisionDestination.KeyPattern || defaultPattern}</code></td>
                    <td data-label="Encryption">{x.Encryption ? `${x.Encryption.Type}${x.Encryption.KmsKeyArn ? " " + x.Encryption.KmsKeyArn : ""}` : <span class="muted">bucket default</span>}</td>
                    <td data-label="Created"><Time iso={ea.CreatedAt} /></td>
                    <td data-label="Actions">
                      <button type="button" onClick={() => setEditing(ea.Id)}>Edit</button>{" "}
                      <Confirm label="Delete" confirm="Delete this event action?" busy={act.busy} onConfirm={async () => { if (await act.run(() => deleteEventAction(ea.Id))) reload(true); }} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}

function EventActionForm({ ea, dataSetId, onDone }: { ea?: EventAction; dataSetId?: string; onDone: (changed: boolean) => void }) {
  const x = ea?.Action.ExportRevisionToS3;
  const dataSets = useLoad(() => (ea || dataSetId ? Promise.resolve([]) : listDataSets()), []);
  const [ds, setDs] = useState(ea?.Event.RevisionPublished.DataSetId ?? dataSetId ?? "");
  const [bucket, setBucket] = useState(x?.RevisionDestination.Bucket ?? "");
  const [pattern, setPattern] = useState(x?.RevisionDestination.KeyPattern ?? defaultPattern);
  const [enc, setEnc] = useState<EncState>({ type: x?.Encryption?.Type ?? "", kms: x?.Encryption?.KmsKeyArn ?? "" });
  const act = useAction();
  return (
    <form
      class="card form"
      aria-label={ea ? "Edit event action" : "Create event action"}
      onSubmit={async (e) => {
        e.preventDefault();
        const Action = { ExportRevisionToS3: { RevisionDestination: { Bucket: bucket, KeyPattern: pattern || undefined }, Encryption: encryptionOf(enc) } };
        const ok = await act.run(() => (ea ? updateEventAction(ea.Id, Action) : createEventAction({ Action, Event: { RevisionPublished: { DataSetId: ds } } })));
        if (ok) onDone(true);
      }}
    >
      <h2 class="h3">{ea ? "Edit event action" : "Create event action"}</h2>
      <div class="grid2">
        {ea || dataSetId ? (
          <Field label="Data set"><input name="eventDataSet" value={ds} readOnly /></Field>
        ) : (
          <Field label="Data set">
            <select name="eventDataSet" value={ds} onChange={(e) => setDs((e.target as HTMLSelectElement).value)} required>
              <option value="">Choose a data set</option>
              {(dataSets.data ?? []).map((d) => <option key={d.Id} value={d.Id}>{d.Name} ({d.Origin})</option>)}
            </select>
          </Field>
        )}
        <Field label="Bucket"><input name="eventBucket" value={bucket} onInput={(e) => setBucket((e.target as HTMLInputElement).value)} required /></Field>
        <Field label="Key pattern" hint="Must contain ${Asset.Name} or ${Asset.Id}.">
          <input name="eventKeyPattern" value={pattern} onInput={(e) => setPattern((e.target as HTMLInputElement).value)} />
        </Field>
      </div>
      <EncryptionFields value={enc} onChange={setEnc} />
      <ErrorBox error={act.error} />
      <div class="actions">
        <button type="submit" class="primary" disabled={act.busy}>{ea ? "Save" : "Create"}</button>
        <button type="button" onClick={() => onDone(false)}>Cancel</button>
      </div>
    </form>
  );
}
