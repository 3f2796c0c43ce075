// The jobs page: every job of the account, newest first, filtered by data
// set, revision, state and type; it refreshes itself while jobs run.
import { useEffect, useRef, useState } from "preact/hooks";
import { jobScope, jobStates, jobTypes, listJobs, running, type Job } from "../adx";
import { Link, setQuery } from "../router";
import { Empty, ErrorBox, Field, Loading, Progress, StateBadge, Time, usePoll, useTitle } from "../ui";
import { SignedOut } from "../api";

export function Jobs({ query }: { query: URLSearchParams }) {
  useTitle("Jobs");
  const filter = {
    dataSetId: query.get("dataSetId") || undefined,
    revisionId: query.get("revisionId") || undefined,
    state: query.get("state") || undefined,
    type: query.get("type") || undefined,
  };
  const [ds, setDs] = useState(filter.dataSetId ?? "");
  const [rev, setRev] = useState(filter.revisionId ?? "");
  useEffect(() => { setDs(filter.dataSetId ?? ""); setRev(filter.revisionId ?? ""); }, [filter.dataSetId, filter.revisionId]);
  return (
    <section aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title">Jobs</h1>
      </div>
      <form
        class="toolbar"
        role="search"
        aria-label="Filter jobs"
        onSubmit={(e) => {
          e.preventDefault();
          setQuery({ dataSetId: ds.trim(), revisionId: rev.trim() });
        }}
      >
        <Field label="Data set id">
          <input name="dataSetId" value={ds} onInput={(e) => setDs((e.target as HTMLInputElement).value)} onChange={() => setQuery({ dataSetId: ds.trim() })} />
        </Field>
        <Field label="Revision id">
          <input name="revisionId" value={rev} onInput={(e) => setRev((e.target as HTMLInputElement).value)} onChange={() => setQuery({ revisionId: rev.trim() })} />
        </Field>
        <Field label="State">
          <select name="state" value={filter.state ?? ""} onChange={(e) => setQuery({ state: (e.target as HTMLSelectElement).value })}>
            <option value="">Any state</option>
            {jobStates.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </Field>
        <Field label="Type">
          <select name="type" value={filter.type ?? ""} onChange={(e) => setQuery({ type: (e.target as HTMLSelectElement).value })}>
            <option value="">Any type</option>
            {jobTypes.map((s) => <option key={s} value={s}>{s}</option>)}
          </select>
        </Field>
        <button type="submit">Filter</button>
      </form>
      <JobList filter={filter} />
    </section>
  );
}

type Filter = { dataSetId?: string; revisionId?: string; state?: string; type?: string };

/** JobList lists jobs, newest first, polling while any runs. */
export function JobList({ filter, tick = 0, onSettled, compact }: { filter: Filter; tick?: number; onSettled?: () => void; compact?: boolean }) {
  const [jobs, setJobs] = useState<Job[] | undefined>(undefined);
  const [next, setNext] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const key = JSON.stringify(filter);
  const extra = useRef<Job[]>([]);
  const states = useRef(new Map<string, string>());
  // primed: the list has been loaded once; a job first seen after that is new.
  const primed = useRef(false);

  const refresh = async () => {
    try {
      const page = await listJobs(filter);
      const seen = new Set(page.Jobs.map((j) => j.Id));
      const all = [...page.Jobs, ...extra.current.filter((j) => !seen.has(j.Id))];
      let settled = false;
      for (const j of all) {
        const before = states.current.get(j.Id);
        // A job that ended since the last look, or a new one that ended
        // before this list first saw it (a quick import).
        if (before ? before !== j.State && !running(j) : primed.current && !running(j)) settled = true;
        states.current.set(j.Id, j.State);
      }
      primed.current = true;
      setJobs(all);
      if (extra.current.length === 0) setNext(page.NextToken);
      setError(undefined);
      if (settled) onSettled?.();
    } catch (e) {
      if (!(e instanceof SignedOut)) setError(e);
    }
  };
  useEffect(() => {
    extra.current = [];
    states.current = new Map();
    primed.current = false;
    setJobs(undefined);
    refresh();
  }, [key]);
  useEffect(() => {
    if (tick > 0) refresh();
  }, [tick]);
  const recent = (j: Job) => Date.now() - Date.parse(j.CreatedAt) < 10 * 60 * 1000;
  const fast = (jobs ?? []).some((j) => j.State === "IN_PROGRESS" || (j.State === "WAITING" && recent(j)));
  usePoll(refresh, jobs !== undefined, fast ? 1000 : 10000);

  const more = async () => {
    try {
      const page = await listJobs(filter, next);
      extra.current = [...extra.current, ...page.Jobs];
      for (const j of page.Jobs) if (!states.current.has(j.Id)) states.current.set(j.Id, j.State);
      setJobs([...(jobs ?? []), ...page.Jobs]);
      setNext(page.NextToken);
    } catch (e) {
      if (!(e instanceof SignedOut)) setError(e);
    }
  };

  return (
    <div class="jobs" data-live={fast ? "fast" : "slow"}>
      <ErrorBox error={error} />
      {!jobs && !error ? <Loading /> : null}
      {jobs && jobs.length === 0 ? (
        <Empty title={Object.values(filter).some(Boolean) ? "No job matches these filters." : "No jobs yet."}>
          Jobs appear here when you upload files, import from S3, export or download assets from a revision's page.
        </Empty>
      ) : null}
      {jobs && jobs.length > 0 ? (
        <div class="table-wrap">
          <table class="list" aria-label="Jobs">
            <thead>
              <tr>
                <th scope="col">Job</th>
                <th scope="col">Type</th>
                <th scope="col">State</th>
                {compact ? null : <th scope="col">Data set / revision</th>}
                <th scope="col">Progress</th>
                <th scope="col">Created</th>
              </tr>
            </thead>
            <tbody>
              {jobs.map((j) => {
                const sc = jobScope(j);
                return (
                  <tr key={j.Id} data-id={j.Id} data-state={j.State} data-type={j.Type}>
                    <td data-label="Job">
                      <Link href={`/console/jobs/${j.Id}`}><code>{j.Id.slice(0, 12)}…</code></Link>
                      {sc.assetName ? <div class="small muted">{sc.assetName}</div> : null}
                    </td>
                    <td data-label="Type" class="small">{j.Type}</td>
                    <td data-label="State"><StateBadge state={j.State} />{j.Errors && j.Errors.length > 0 ? <div class="small error-text">{j.Errors[0].Code}</div> : null}</td>
                    {compact ? null : (
                      <td data-label="Data set / revision" class="small">
                        {sc.dataSetId ? <Link href={`/console/data-sets/${sc.dataSetId}`}><code>{sc.dataSetId.slice(0, 10)}…</code></Link> : "—"}
                        {sc.dataSetId && sc.revisionId ? <> / <Link href={`/console/data-sets/${sc.dataSetId}/revisions/${sc.revisionId}`}><code>{sc.revisionId.slice(0, 10)}…</code></Link></> : null}
                      </td>
                    )}
                    <td data-label="Progress">
                      {j.Progress && (j.State === "IN_PROGRESS" || j.Progress.BytesTotal > 0) ? <Progress done={j.Progress.BytesDone} total={j.Progress.BytesTotal} label={`Progress of job ${j.Id}`} /> : <span class="muted">—</span>}
                    </td>
                    <td data-label="Created"><Time iso={j.CreatedAt} /></td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      {next ? (
        <div class="actions">
          <button type="button" onClick={more}>Load more jobs</button>
        </div>
      ) : null}
    </div>
  );
}

