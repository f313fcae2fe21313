// The caller's notebook (docs/notebooks.md is the contract): a private Jupyter, reached through the
// platform's proxy on a separate origin. The browser opens it through a one-time handoff
// (`notebookHandoffUrl`), a server path the browser navigates to, never fetched.
import type { RequestOptions } from './client';
import { get, post } from './client';

export type NotebookState = 'stopped' | 'starting' | 'running' | 'failed';

/** Kubernetes quantities: cpu "1", "500m"; memory "2Gi". */
export interface NotebookResources {
  cpu: string;
  memory: string;
  gpus: number;
}

/** GET /api/v1/notebook. Times are unix seconds (null: not yet, or not any more). */
export interface Notebook {
  state: NotebookState | (string & {});
  /**
   * stopped: "" (never started), "user", "idle", "max_age", "server"; starting: the replica's wait
   * reason ("waiting for 2 CPUs"); failed: "Error", "StartError"...
   */
  reason: string;
  /** The reason in words. */
  message: string;
  resources: NotebookResources;
  defaults: NotebookResources;
  started_at: number | null;
  ready_at: number | null;
  last_activity_at: number | null;
  /** 0: never stopped for idleness. */
  idle_timeout_seconds: number;
  /** 0: no limit. */
  max_age_seconds: number;
  /** The Jupyter UI's path on the notebook origin, "/user/7/tree". */
  url: string;
  restarts: number;
  log_tail: string;
}

/** What a start or restart asks for; absent fields take the defaults (or the last start's). */
export type ResourcesInput = Partial<NotebookResources>;

export function getNotebook(options?: RequestOptions): Promise<Notebook> {
  return get<Notebook>('/api/v1/notebook', options);
}

export function startNotebook(resources?: ResourcesInput, options?: RequestOptions): Promise<Notebook> {
  return post<Notebook>('/api/v1/notebook/start', resources, options);
}

export function stopNotebook(options?: RequestOptions): Promise<Notebook> {
  return post<Notebook>('/api/v1/notebook/stop', undefined, options);
}

export function restartNotebook(resources?: ResourcesInput, options?: RequestOptions): Promise<Notebook> {
  return post<Notebook>('/api/v1/notebook/restart', resources, options);
}

/** The platform URL that signs the browser in on the notebook origin and redirects to `next` there. */
export function notebookHandoffUrl(next: string): string {
  return `/api/v1/notebook/handoff?next=${encodeURIComponent(next)}`;
}

export const notebookApi = { getNotebook, startNotebook, stopNotebook, restartNotebook };
export type NotebookApi = typeof notebookApi;
