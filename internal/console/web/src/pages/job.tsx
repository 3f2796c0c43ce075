// A job: its state, type, details and errors, with its progress live until it ends.
import { cancelJob, getJob, jobScope, running, startJob } from "../adx";
import { Link } from "../router";
import { Copy, ErrorBox, Json, Loading, Progress, StateBadge, Time, useAction, useLoad, usePoll, useTitle } from "../ui";

export function JobPage({ id }: { id: string }) {
  const { data: j, error, reload } = useLoad(() => getJob(id), [id]);
  useTitle("Job " + id);
  const act = useAction();
  usePoll(() => reload(true), !!j && running(j), 1000);
  if (!j) {
    return (
      <section>
        <nav class="crumbs" aria-label="Breadcrumb"><Link href="/console/jobs">Jobs</Link></nav>
        <h1>Job</h1>
        <ErrorBox error={error} />
        {!error ? <Loading /> : null}
      </section>
    );
  }
  const sc = jobScope(j);
  const signedUrl = j.Details?.ExportAssetToSignedUrl?.SignedUrl;
  return (
    <section aria-labelledby="page-title">
      <nav class="crumbs" aria-label="Breadcrumb"><Link href="/console/jobs">Jobs</Link></nav>
      <div class="card head-card">
        <div class="page-head">
          <h1 id="page-title">
            {j.Type} <StateBadge state={j.State} />
          </h1>
          <div class="actions">
            {j.State === "WAITING" ? (
              <>
                <button type="button" class="primary" disabled={act.busy} onClick={() => act.run(async () => { await startJob(j.Id); await reload(true); })}>Start</button>
                <button type="button" class="danger" disabled={act.busy} onClick={() => act.run(async () => { await cancelJob(j.Id); await reload(true); })}>Cancel job</button>
              </>
            ) : null}
          </div>
        </div>
        <ErrorBox error={act.error} />
        <ErrorBox error={error} />
        <div class="job-progress" aria-live="polite">
          {j.Progress ? (
            <Progress done={j.State === "COMPLETED" && j.Progress.BytesTotal > 0 ? j.Progress.BytesTotal : j.Progress.BytesDone} total={j.Progress.BytesTotal} label="Job progress" />
          ) : null}
          <p class="small muted" data-state={j.State}>
            {running(j) ? "This page updates itself every second until the job ends." : `The job ended ${j.State}.`}
          </p>
        </div>
        <dl class="facts">
          <dt>Id</dt><dd><Copy text={j.Id} label="job id" short /></dd>
          <dt>ARN</dt><dd><Copy text={j.Arn} label="job ARN" /></dd>
          <dt>State</dt><dd><StateBadge state={j.State} /></dd>
          <dt>Type</dt><dd>{j.Type}</dd>
          {sc.dataSetId ? (<><dt>Data set</dt><dd><Link href={`/console/data-sets/${sc.dataSetId}`}><code>{sc.dataSetId}</code></Link></dd></>) : null}
          {sc.dataSetId && sc.revisionId ? (<><dt>Revision</dt><dd><Link href={`/console/data-sets/${sc.dataSetId}/revisions/${sc.revisionId}`}><code>{sc.revisionId}</code></Link></dd></>) : null}
          <dt>Created</dt><dd><Time iso={j.CreatedAt} /></dd>
          <dt>Updated</dt><dd><Time iso={j.UpdatedAt} /></dd>
        </dl>
        {signedUrl && j.State === "COMPLETED" ? (
          <p><a class="button" href={signedUrl} download>Download the exported asset</a> <span class="muted small">(the link expires at <Time iso={j.Details.ExportAssetToSignedUrl.SignedUrlExpiresAt} />)</span></p>
        ) : null}
        <h2 class="h3">Errors</h2>
        {j.Errors && j.Errors.length > 0 ? (
          <ul class="job-errors">
            {j.Errors.map((e, i) => (
              <li key={i} class="error">
                <strong class="error-code">{e.Code}</strong>: <span class="error-message">{e.Message}</span>
                {e.ResourceId ? <span class="small muted"> ({e.ResourceType} {e.ResourceId})</span> : null}
                {e.Details ? <Json value={e.Details} /> : null}
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted small">None.</p>
        )}
        <h2 class="h3">Details</h2>
        <Json value={j.Details} />
      </div>
    </section>
  );
}
