// main.tsx: the console's entry point: configuration, the shell and the routes.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import "./style.css";
import { setRegion, signedFetch, sessionKeys } from "./api";
import { Link, navigate, useLocation, currentLocation } from "./router";
import { clearSession, getSession } from "./session";
import { SignIn } from "./pages/signin";
import { DataSets } from "./pages/datasets";
import { DataSetPage } from "./pages/dataset";
import { RevisionPage } from "./pages/revision";
import { AssetPage } from "./pages/asset";
import { Jobs } from "./pages/jobs";
import { JobPage } from "./pages/job";
import { Grants } from "./pages/grants";
import { EventActions } from "./pages/eventactions";
import { Empty } from "./ui";

const base = "/console";

type Route = [RegExp, (m: string[], q: URLSearchParams) => preact.JSX.Element];

const routes: Route[] = [
  [/^\/data-sets\/?$/, (_, q) => <DataSets query={q} />],
  [/^\/data-sets\/([^/]+)\/?$/, (m, q) => <DataSetPage id={m[1]} query={q} />],
  [/^\/data-sets\/([^/]+)\/revisions\/([^/]+)\/?$/, (m) => <RevisionPage dataSetId={m[1]} revisionId={m[2]} />],
  [/^\/data-sets\/([^/]+)\/revisions\/([^/]+)\/assets\/([^/]+)\/?$/, (m) => <AssetPage dataSetId={m[1]} revisionId={m[2]} assetId={m[3]} />],
  [/^\/jobs\/?$/, (_, q) => <Jobs query={q} />],
  [/^\/jobs\/([^/]+)\/?$/, (m) => <JobPage id={m[1]} />],
  [/^\/data-grants\/?$/, (_, q) => <Grants query={q} />],
  [/^\/event-actions\/?$/, () => <EventActions />],
];

const nav = [
  ["/data-sets", "Data sets"],
  ["/jobs", "Jobs"],
  ["/data-grants", "Data grants"],
  ["/event-actions", "Event actions"],
];

function App({ ready }: { ready: boolean }) {
  const { path, query } = useLocation();
  const rel = path.startsWith(base) ? path.slice(base.length) || "/" : path;
  const session = getSession();

  useEffect(() => {
    if (rel === "/" || rel === "") navigate(base + "/data-sets", true);
  }, [rel]);

  if (!ready) return null;
  if (rel.startsWith("/signin")) {
    return <SignIn next={query.get("next") || ""} />;
  }
  if (!session) {
    // No session: sign in, then come back here.
    setTimeout(() => navigate(base + "/signin?next=" + encodeURIComponent(currentLocation()), true));
    return null;
  }
  let page: preact.JSX.Element | null = null;
  for (const [re, make] of routes) {
    const m = re.exec(rel);
    if (m) {
      page = make(m.map((s) => (s === undefined ? s : decodeURIComponent(s))), query);
      break;
    }
  }
  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <Link href={base + "/data-sets"} class="brand">
          Wharf
        </Link>
        <nav aria-label="Main">
          <ul>
            {nav.map(([href, label]) => (
              <li key={href}>
                <Link href={base + href} aria-current={rel.startsWith(href) ? "page" : undefined}>
                  {label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span class="account" title="The account this session acts as">
            Account <code>{session.AccountId}</code>
          </span>
          <SignOut />
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {page ?? (
          <Empty title="There is no page here.">
            Go to the <Link href={base + "/data-sets"}>data sets</Link>.
          </Empty>
        )}
      </main>
    </div>
  );
}

function SignOut() {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      class="signout"
      disabled={busy}
      onClick={async () => {
        setBusy(true);
        const s = getSession();
        try {
          if (s) await signedFetch(sessionKeys(s), "DELETE", "/console/api/session");
        } catch {
          /* signed out here either way */
        }
        clearSession();
        navigate(base + "/signin", true);
      }}
    >
      Sign out
    </button>
  );
}

async function start() {
  const root = document.getElementById("app")!;
  render(<App ready={false} />, root);
  try {
    const resp = await fetch(base + "/config.json", { cache: "no-store" });
    if (resp.ok) {
      const cfg = await resp.json();
      if (cfg.Region) setRegion(cfg.Region);
    }
  } catch {
    /* keep the default region */
  }
  render(<App ready={true} />, root);
}

start();
