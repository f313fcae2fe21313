// Serving instances (docs/serving.md, "Serving instances (the platform)"): a model served over the
// Open Inference Protocol (KServe v2) by a number of replicas, behind the platform's inference gateway
// at `/serving/<account>/<name>/...`. Times are unix seconds.
import type { PodLog } from './jobs';
import type { RequestOptions } from './client';
import { delete as del, get, getCsrfToken, patch, post } from './client';

export type ServingRuntime = 'onnx' | 'python' | 'command';
export type ServingState = 'inactive' | 'starting' | 'ready' | 'degraded' | 'failed';

export interface ServingReplica {
  index: number;
  name: string;
  /** "Pending", "Starting", "Ready", "Failed", ... */
  phase: string;
  reason: string;
  message: string;
  restarts: number;
  started_at: number | null;
  draining: boolean;
}

/** The gateway's view of the last 10 s; the numbers are null while no request came. */
export interface ServingStats {
  qps: number | null;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
  error_rate: number | null;
  in_flight: number;
}

export interface ServingInstance {
  name: string;
  owner: string;
  /** The cloud path it was launched from. */
  model: string;
  runtime: ServingRuntime | (string & {});
  command: string;
  model_file: string;
  /** Per replica: `cpu` as a number of cores or a quantity ("500m"), `cpu_milli` the same in millicores. */
  resources: { cpu: number | string; cpu_milli?: number; memory?: string; memory_bytes: number; gpus: number };
  replicas: { desired: number; ready: number };
  public: boolean;
  state: ServingState | (string & {});
  reason: string;
  message: string;
  /** The gateway's base URL (a path on the platform's origin). */
  url: string;
  infer_url: string;
  created_at: number;
  updated_at: number;
  replica_list: ServingReplica[];
  stats: ServingStats | null;
}

/** POST /api/v1/serving. */
export interface ServingLaunch {
  name: string;
  model: string;
  runtime: ServingRuntime;
  model_file?: string;
  model_py?: string;
  command?: string;
  replicas?: number;
  /** Per replica: "1", "500m". */
  cpu?: string;
  /** Per replica: "1Gi". */
  memory?: string;
  gpus?: number;
  public?: boolean;
}

export interface ServingSeries {
  min: Array<number | null>;
  max: Array<number | null>;
  mean: Array<number | null>;
}

/** GET /api/v1/serving/{name}/metrics: buckets at `t` (unix ms). */
export interface ServingMetrics {
  from: number;
  to: number;
  bucket_ms: number;
  t: number[];
  /** requests_per_s, errors_per_s, p50_ms, p95_ms, p99_ms, in_flight, rx_bytes_per_s, tx_bytes_per_s. */
  series: Record<string, ServingSeries>;
}

export interface MetricsQuery {
  from?: number;
  to?: number;
  points?: number;
  replica?: number;
}

const seg = encodeURIComponent;
const instancePath = (name: string) => `/api/v1/serving/${seg(name)}`;

export async function listInstances(options?: RequestOptions): Promise<ServingInstance[]> {
  const answer = await get<{ instances: ServingInstance[] }>('/api/v1/serving', options);
  return answer.instances;
}

export function getInstance(name: string, options?: RequestOptions): Promise<ServingInstance> {
  return get<ServingInstance>(instancePath(name), options);
}

export function launchInstance(launch: ServingLaunch, options?: RequestOptions): Promise<ServingInstance> {
  return post<ServingInstance>('/api/v1/serving', launch, options);
}

export function setPublic(name: string, isPublic: boolean, options?: RequestOptions): Promise<ServingInstance> {
  return patch<ServingInstance>(instancePath(name), { public: isPublic }, options);
}

export function scaleInstance(name: string, replicas: number, options?: RequestOptions): Promise<ServingInstance> {
  return post<ServingInstance>(`${instancePath(name)}/scale`, { replicas }, options);
}

export function deactivateInstance(name: string, options?: RequestOptions): Promise<ServingInstance> {
  return post<ServingInstance>(`${instancePath(name)}/deactivate`, undefined, options);
}

export function activateInstance(name: string, options?: RequestOptions): Promise<ServingInstance> {
  return post<ServingInstance>(`${instancePath(name)}/activate`, undefined, options);
}

export async function deleteInstance(name: string, options?: RequestOptions): Promise<void> {
  await del<unknown>(instancePath(name), options);
}

export function getMetrics(name: string, query: MetricsQuery = {}, options?: RequestOptions): Promise<ServingMetrics> {
  const q: Record<string, number> = {};
  for (const [key, value] of Object.entries(query)) if (value !== undefined) q[key] = value;
  return get<ServingMetrics>(`${instancePath(name)}/metrics`, { ...options, query: q });
}

/** `length` bytes of a replica's log from byte `offset`. */
export function getReplicaLogRange(name: string, index: number, offset: number, length: number, options?: RequestOptions): Promise<PodLog> {
  return get<PodLog>(`${instancePath(name)}/replicas/${index}/logs`, { ...options, query: { offset, length } });
}

/** The SSE stream of a replica's log: the last `tail` lines, then new text as `log` events. */
export function replicaLogStreamUrl(name: string, index: number, tail = 200): string {
  return `${instancePath(name)}/replicas/${index}/logs/stream?tail=${tail}`;
}

/** An answer of the inference gateway as it came: the protocol's own JSON, not the API's envelope. */
export interface GatewayAnswer {
  status: number;
  text: string;
  /** From sending to the end of the answer, in milliseconds. */
  ms: number;
}

/**
 * Calls the inference gateway with the browser's session (a signed-in session of the account may call
 * its instances; docs/serving.md). Throws only when there is no answer.
 */
export async function callGateway(path: string, body?: unknown, signal?: AbortSignal): Promise<GatewayAnswer> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const csrf = getCsrfToken();
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    if (csrf !== undefined) headers['X-CSRF-Token'] = csrf;
  }
  const init: RequestInit = { method: body === undefined ? 'GET' : 'POST', headers, credentials: 'same-origin' };
  if (body !== undefined) init.body = typeof body === 'string' ? body : JSON.stringify(body);
  if (signal) init.signal = signal;
  const started = performance.now();
  const response = await fetch(path, init);
  const text = await response.text();
  return { status: response.status, text, ms: performance.now() - started };
}

export const servingApi = {
  listInstances,
  getInstance,
  launchInstance,
  setPublic,
  scaleInstance,
  deactivateInstance,
  activateInstance,
  deleteInstance,
  getMetrics,
  getReplicaLogRange,
  callGateway,
};
export type ServingApi = typeof servingApi;
