import { useEffect, useState } from "preact/hooks";

/** Where the server mounts the console; every route below is a path under it. */
export const BASE = "/_/";

const NAVIGATED = "amp-console:navigate";

/** The current route: the path under BASE without its leading slash (e.g. `apps/tim-wasm`), and its query. */
export interface Route {
  path: string;
  query: URLSearchParams;
}

function current(): Route {
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : "";
  return { path: decodeURI(path).replace(/\/+$/, ""), query: new URLSearchParams(location.search) };
}

/** The route, updated on navigation and on the browser's back/forward. */
export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const update = () => setRoute(current());
    addEventListener("popstate", update);
    addEventListener(NAVIGATED, update);
    return () => {
      removeEventListener("popstate", update);
      removeEventListener(NAVIGATED, update);
    };
  }, []);
  return route;
}

/** `to` is a path under BASE, with an optional query (`signin?expired=1`). */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = `${BASE}${to.replace(/^\/+/, "")}`;
  if (options.replace) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  dispatchEvent(new Event(NAVIGATED));
  scrollTo(0, 0);
}

/** The route a person is on, as `navigate` takes it: where to come back to after signing in. */
export function here(): string {
  return `${location.pathname.slice(BASE.length)}${location.search}`;
}

/** An app name in a path segment: the API refuses names with `/`, but encode all the same. */
export const segment = (name: string) => encodeURIComponent(name);
