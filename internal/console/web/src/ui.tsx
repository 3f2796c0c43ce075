// ui.tsx: the small parts every page uses.
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError, SignedOut } from "./api";

/** useLoad runs load now and again whenever deps change. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [loading, setLoading] = useState(true);
  const seq = useRef(0);
  const run = useCallback(async (quiet = false) => {
    const n = ++seq.current;
    if (!quiet) setLoading(true);
    try {
      const v = await load();
      if (n === seq.current) {
        setData(v);
        setError(undefined);
      }
    } catch (e) {
      if (n === seq.current && !(e instanceof SignedOut)) setError(e);
    } finally {
      if (n === seq.current) setLoading(false);
    }
  }, deps);
  useEffect(() => {
    setData(undefined);
    run();
  }, [run]);
  return { data, error, loading, reload: run, setData };
}

/** usePoll calls tick every ms milliseconds while active (and the tab is visible). */
export function usePoll(tick: () => unknown, active: boolean, ms = 1000) {
  const ref = useRef(tick);
  ref.current = tick;
  useEffect(() => {
    if (!active) return;
    let stop = false;
    let timer = 0;
    const loop = async () => {
      if (stop) return;
      if (document.visibilityState !== "hidden") {
        try {
          await ref.current();
        } catch {
          /* the page shows its own errors */
        }
      }
      if (!stop) timer = window.setTimeout(loop, ms);
    };
    timer = window.setTimeout(loop, ms);
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [active, ms]);
}

/** useAction runs a change, remembering whether it runs and how it failed. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const run = async (fn: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
      return true;
    } catch (e) {
      if (!(e instanceof SignedOut)) setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run, setError };
}

/** ErrorBox shows an error as the API returned it. */
export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  if (error instanceof ApiError) {
    return (
      <div class="error" role="alert">
        <strong class="error-code">{error.code}</strong>
        {error.message ? <span class="error-message">: {error.message}</span> : null}
      </div>
    );
  }
  return (
    <div class="error" role="alert">
      <strong class="error-code">Error</strong>
      <span class="error-message">: {String((error as any)?.message ?? error)}</span>
    </div>
  );
}

export function Loading({ what = "Loading" }: { what?: string }) {
  return (
    <p class="loading" aria-live="polite">
      {what}…
    </p>
  );
}

/** Empty says there is nothing here and what to do next. */
export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{title}</p>
      {children ? <p>{children}</p> : null}
    </div>
  );
}

/** Time is a local time, with the UTC time on hover. */
export function Time({ iso }: { iso?: string }) {
  if (!iso) return <span class="muted">—</span>;
  const d = new Date(iso);
  if (isNaN(d.getTime())) return <span>{iso}</span>;
  const local = d.toLocaleString(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
  });
  return (
    <time dateTime={iso} title={"UTC " + d.toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z")}>
      {local}
    </time>
  );
}

async function copyText(text: string) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const ta = document.createElement("textarea");
  ta.value = text;
  ta.setAttribute("readonly", "");
  ta.className = "offscreen";
  document.body.appendChild(ta);
  ta.select();
  document.execCommand("copy");
  ta.remove();
}

/** Copy is an id or ARN with a button that copies it. */
export function Copy({ text, label, short }: { text: string; label: string; short?: boolean }) {
  const [done, setDone] = useState(false);
  return (
    <span class="copy">
      <code class={short ? "id" : "arn"} title={text}>
        {text}
      </code>
      <button
        type="button"
        class="copy-btn"
        aria-label={`Copy ${label}`}
        title={`Copy ${label}`}
        data-copy={text}
        onClick={async () => {
          try {
            await copyText(text);
            setDone(true);
            setTimeout(() => setDone(false), 1500);
          } catch {
            /* nothing to do */
          }
        }}
      >
        {done ? "Copied" : "Copy"}
      </button>
    </span>
  );
}

export function formatBytes(n?: number): string {
  if (n === undefined || n === null || isNaN(n)) return "—";
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** Progress is a progress bar with its figures. */
export function Progress({ done, total, label }: { done: number; total: number; label: string }) {
  const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0;
  return (
    <div class="progress-wrap">
      <progress class="progress" max={total > 0 ? total : undefined} value={total > 0 ? done : undefined} aria-label={label} data-done={done} data-total={total}>
        {pct}%
      </progress>
      <span class="progress-text">
        {total > 0 ? `${formatBytes(done)} of ${formatBytes(total)} (${pct}%)` : done > 0 ? formatBytes(done) : "waiting"}
      </span>
    </div>
  );
}

export function StateBadge({ state }: { state: string }) {
  return <span class={"badge state-" + state.toLowerCase()}>{state}</span>;
}

/** Field is a labelled form control. */
export function Field({ label, children, hint }: { label: string; children: ComponentChildren; hint?: string }) {
  return (
    <label class="field">
      <span class="field-label">{label}</span>
      {children}
      {hint ? <span class="hint">{hint}</span> : null}
    </label>
  );
}

/** Confirm is a button that asks again before it acts. */
export function Confirm({ label, confirm, onConfirm, busy, danger = true }: { label: string; confirm: string; onConfirm: () => void; busy?: boolean; danger?: boolean }) {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" class={danger ? "danger" : ""} disabled={busy} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span class="confirm" role="group" aria-label={confirm}>
      <span>{confirm}</span>
      <button type="button" class={danger ? "danger" : "primary"} disabled={busy} onClick={() => { setAsking(false); onConfirm(); }} autoFocus>
        Yes, {label.toLowerCase()}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

/** Json shows a structure as indented JSON. */
export function Json({ value }: { value: unknown }) {
  return <pre class="json">{JSON.stringify(value, null, 2)}</pre>;
}

/** parseTags reads "key=value" lines. */
export function parseTags(text: string): Record<string, string> | undefined {
  const tags: Record<string, string> = {};
  let any = false;
  for (const line of text.split("\n")) {
    const t = line.trim();
    if (!t) continue;
    const i = t.indexOf("=");
    const k = (i < 0 ? t : t.slice(0, i)).trim();
    const v = i < 0 ? "" : t.slice(i + 1).trim();
    tags[k] = v;
    any = true;
  }
  return any ? tags : undefined;
}

export function useTitle(title: string) {
  useEffect(() => {
    document.title = title ? `${title} · Wharf console` : "Wharf console";
  }, [title]);
}
