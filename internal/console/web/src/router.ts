// router.ts: history-API routing. Every page has a URL under /console/, so
// links can be shared and the back button works.
import { useEffect, useState } from "preact/hooks";
import { h, type ComponentChildren } from "preact";

const listeners = new Set<() => void>();

export function currentLocation(): string {
  return location.pathname + location.search;
}

export function navigate(to: string, replace = false) {
  if (to === currentLocation()) return;
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  listeners.forEach((l) => l());
}

window.addEventListener("popstate", () => listeners.forEach((l) => l()));

/** useLocation re-renders on every navigation. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const [, set] = useState(0);
  useEffect(() => {
    const l = () => set((n) => n + 1);
    listeners.add(l);
    return () => void listeners.delete(l);
  }, []);
  return { path: location.pathname, query: new URLSearchParams(location.search) };
}

/** setQuery replaces the query parameters of the current page. */
export function setQuery(changes: Record<string, string | undefined>) {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(changes)) {
    if (v) q.set(k, v);
    else q.delete(k);
  }
  const s = q.toString();
  navigate(location.pathname + (s ? "?" + s : ""), true);
}

/** Link is a real link that navigates without a reload. */
export function Link(props: { href: string; class?: string; children: ComponentChildren; [k: string]: any }) {
  const { href, children, ...rest } = props;
  return h(
    "a",
    {
      ...rest,
      href,
      onClick: (e: MouseEvent) => {
        if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(href);
        window.scrollTo(0, 0);
      },
    },
    children,
  );
}
