// A tiny client-side router over the History API.
//
// - A route table maps path patterns ("/status", "/jobs/:id", "/files/*") to page components.
// - Clicks on ordinary same-origin <a href> links are intercepted and become history pushes, so
//   pages link with plain anchors; modified clicks (new tab etc.), target/download links, external
//   origins and server-owned paths (the API, health probes) keep the browser's default behaviour.
// - Back/forward (popstate) re-render the matching page. The server answers every non-API path
//   with index.html, so any in-app URL can be loaded or reloaded directly.

import type { ComponentType, VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export type RouteParams = Record<string, string>;

export interface PageProps {
  params: RouteParams;
}

export interface Route {
  /** Literal segments, `:name` for one segment, and a final `*` for the rest of the path. */
  path: string;
  component: ComponentType<PageProps>;
}

export interface RouteMatch {
  route: Route;
  params: RouteParams;
}

/** Path prefixes that belong to the server (the path itself and everything below it). */
export const SERVER_PATH_PREFIXES: readonly string[] = ['/api', '/healthz', '/readyz'];

/** "/status/" -> "/status", "" -> "/", duplicate slashes collapsed. */
export function normalizePath(path: string): string {
  const collapsed = `/${path}`.replace(/\/{2,}/g, '/');
  return collapsed.length > 1 && collapsed.endsWith('/') ? collapsed.slice(0, -1) : collapsed;
}

function splitSegments(path: string): string[] {
  return normalizePath(path).split('/').filter((segment) => segment !== '');
}

function decodeSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** Matches a path against a pattern; returns the captured params, or null when it does not match. */
export function matchPath(pattern: string, path: string): RouteParams | null {
  const want = splitSegments(pattern);
  const have = splitSegments(path);
  const params: RouteParams = {};
  for (let i = 0; i < want.length; i++) {
    const part = want[i]!;
    if (part === '*' && i === want.length - 1) {
      const rest = have.slice(i).map(decodeSegment);
      if (rest.includes(null)) return null;
      params['*'] = rest.join('/');
      return params;
    }
    const segment = have[i];
    if (segment === undefined) return null;
    if (part.startsWith(':')) {
      const value = decodeSegment(segment);
      if (value === null) return null;
      params[part.slice(1)] = value;
    } else if (part !== segment) {
      return null;
    }
  }
  return have.length === want.length ? params : null;
}

/** The first route (in table order) that matches the path. */
export function matchRoute(routes: readonly Route[], path: string): RouteMatch | null {
  for (const route of routes) {
    const params = matchPath(route.path, path);
    if (params) return { route, params };
  }
  return null;
}

/** The inference gateway's paths, `/serving/<account>/<name>[/...]`; `/serving/<name>` is a page of the app. */
const GATEWAY_PATH = /^\/serving\/[^/]+\/[^/]+/;

export function isServerPath(path: string): boolean {
  return SERVER_PATH_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`)) || GATEWAY_PATH.test(path);
}

// ---- Location store ---------------------------------------------------------------------------

const listeners = new Set<() => void>();

function notify(): void {
  for (const listener of listeners) listener();
}

export interface Location {
  path: string;
  search: string;
}

function readLocation(): Location {
  return { path: window.location.pathname, search: window.location.search };
}

/** Moves to an in-app URL without reloading the page. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = new URL(to, window.location.href);
  const target = `${url.pathname}${url.search}${url.hash}`;
  const current = `${window.location.pathname}${window.location.search}${window.location.hash}`;
  if (options.replace || target === current) {
    window.history.replaceState(null, '', target);
  } else {
    window.history.pushState(null, '', target);
    if (!url.hash) window.scrollTo(0, 0);
  }
  notify();
}

/** The current location; re-renders the caller on navigation and on back/forward. */
export function useLocation(): Location {
  const [location, setLocation] = useState(readLocation);
  useEffect(() => {
    const update = () => {
      const next = readLocation();
      setLocation((prev) => (prev.path === next.path && prev.search === next.search ? prev : next));
    };
    listeners.add(update);
    window.addEventListener('popstate', update);
    update();
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return location;
}

// ---- Link interception ------------------------------------------------------------------------

/** The in-app URL a click should navigate to, or null when the browser should handle the click. */
export function interceptedHref(event: MouseEvent): string | null {
  if (event.defaultPrevented || event.button !== 0) return null;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return null;
  const start = event.target;
  if (!(start instanceof Element)) return null;
  const anchor = start.closest('a');
  if (!anchor || !anchor.hasAttribute('href')) return null;
  if (anchor.hasAttribute('download')) return null;
  const target = anchor.getAttribute('target');
  if (target && target !== '_self') return null;
  if ((anchor.getAttribute('rel') ?? '').split(/\s+/).includes('external')) return null;

  const url = new URL(anchor.href, window.location.href);
  if (url.origin !== window.location.origin) return null;
  if (isServerPath(url.pathname)) return null;
  // A jump to an anchor on the same page is the browser's job.
  if (url.hash && url.pathname === window.location.pathname && url.search === window.location.search) {
    return null;
  }
  return `${url.pathname}${url.search}${url.hash}`;
}

export interface RouterProps {
  routes: readonly Route[];
  /** Rendered when no route matches. */
  notFound: ComponentType<PageProps>;
}

/** Renders the page for the current URL and turns in-app link clicks into navigations. */
export function Router({ routes, notFound: NotFound }: RouterProps): VNode {
  const { path } = useLocation();

  useEffect(() => {
    const onClick = (event: MouseEvent) => {
      const href = interceptedHref(event);
      if (href === null) return;
      event.preventDefault();
      navigate(href);
    };
    document.addEventListener('click', onClick);
    return () => document.removeEventListener('click', onClick);
  }, []);

  const match = matchRoute(routes, path);
  if (!match) return <NotFound params={{}} />;
  const Page = match.route.component;
  return <Page params={match.params} />;
}
