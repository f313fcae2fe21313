// Training jobs: typed calls to /api/v1/jobs* (see src/ops/openapi.json: JobSpec, Job, Pod).
// Times are unix seconds. A job's pod logs are read whole (`getPodLog`), followed live as Server-Sent
// Events (`podLogStreamUrl`, opened with EventSource, which sends the session cookie) or downloaded.
import type { RequestOptions } from './client';
import { get, post, upload } from './client';

export type JobState = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Stopped';
export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';
export type PodRole = 'trainer' | 'pserver';

/** What to run: `num_trainer` trainers and `num_ps` parameter servers, each running `entry`. */
export interface JobSpec {
  name: string;
  /** Command run by /bin/sh -c in every pod. */
  entry: string;
  num_trainer?: number;
  /** Kubernetes CPU quantity: "1", "0.5", "500m". */
  cpu_per_trainer?: string;
  /** Kubernetes memory quantity: "512Mi", "2Gi". */
  mem_per_trainer?: string;
  gpu_per_trainer?: number;
  num_ps?: number;
  cpu_per_ps?: string;
  mem_per_ps?: string;
  image?: string;
  env?: Record<string, string>;
  /** A folder of the account's files; the pods start in it. */
  workdir?: string;
  package?: string;
  /** Run in a copy of the code of this earlier job (one that ran uploaded code). */
  code_from_job?: number;
  max_restarts?: number;
  /** How many trainers may fail for good before the job fails. */
  fault_tolerant?: number;
}

export interface Pod {
  name: string;
  role: PodRole | (string & {});
  index: number;
  phase: PodPhase | (string & {});
  reason: string;
  exit_code: number | null;
  restarts: number;
  started_at: number | null;
  finished_at: number | null;
  endpoint: string;
}

export interface Job {
  id: number;
  name: string;
  /** Email of the user who submitted it. */
  user: string;
  state: JobState | (string & {});
  /** Why it is in this state, e.g. "waiting for 2 CPUs". */
  reason: string;
  stop_requested: boolean;
  submitted_at: number;
  started_at: number | null;
  finished_at: number | null;
  /** Trainer runs that exited 0. */
  succeeded: number;
  /** Trainer runs that failed, restarts included. */
  failed: number;
  spec: JobSpec;
  /** Only in GET /api/v1/jobs/{id}. */
  pods?: Pod[];
}

export interface JobPage {
  items: Job[];
  next_cursor: string | null;
}

export interface JobEvent {
  id: number;
  at: number;
  /** The pod it is about; empty for job-wide events. */
  pod: string;
  /** e.g. "Scheduled", "Started", "Exited", "Restarted", "OOMKilled", "Stopped". */
  type: string;
  message: string;
}

export interface PodLog {
  pod: string;
  text: string;
  /** Byte offset of `text` in the log file. */
  offset: number;
  /** The log file's size in bytes. */
  size: number;
  /** False until the pod has written a log. */
  started: boolean;
}

/** The query parameters of GET /api/v1/jobs; see `jobListQuery` in pages/jobs/filters.ts. */
export type JobListQuery = Partial<
  Record<'status' | 'name' | 'started_after' | 'started_before' | 'all' | 'limit' | 'cursor', string>
>;

/** Jobs still to finish: the ones worth watching. */
export function isActive(state: string): boolean {
  return state === 'Pending' || state === 'Running';
}

const seg = encodeURIComponent;
const jobPath = (id: number) => `/api/v1/jobs/${seg(String(id))}`;

export function listJobs(query: JobListQuery, options?: RequestOptions): Promise<JobPage> {
  return get<JobPage>('/api/v1/jobs', { ...options, query });
}

export function getJob(id: number, options?: RequestOptions): Promise<Job> {
  return get<Job>(jobPath(id), options);
}

export function submitJob(spec: JobSpec, options?: RequestOptions): Promise<Job> {
  return post<Job>('/api/v1/jobs', spec, options);
}

/** Stops a Pending or Running job (202); 409 when it has already ended. */
export function stopJob(id: number, options?: RequestOptions): Promise<Job> {
  return post<Job>(`${jobPath(id)}/stop`, undefined, options);
}

export function listJobEvents(id: number, options?: RequestOptions): Promise<{ items: JobEvent[] }> {
  return get<{ items: JobEvent[] }>(`${jobPath(id)}/events`, options);
}

export function getPodLog(id: number, pod: string, tail = 200, options?: RequestOptions): Promise<PodLog> {
  return get<PodLog>(`${jobPath(id)}/pods/${seg(pod)}/logs`, { ...options, query: { tail } });
}

/** CPU, memory and GPUs of one side of the cluster's capacity. */
export interface Resources {
  cpu: string;
  cpu_milli: number;
  memory: string;
  memory_bytes: number;
  gpus: number;
}

/** GET /api/v1/cluster/capacity: aggregates over every account's pods, nothing about any one job. */
export interface Capacity {
  total: Resources;
  in_use: Resources;
  free: Resources;
}

export function getCapacity(options?: RequestOptions): Promise<Capacity> {
  return get<Capacity>('/api/v1/cluster/capacity', options);
}

/** `length` bytes of a pod's log from byte `offset` (earlier lines than the tail shown). */
export function getPodLogRange(id: number, pod: string, offset: number, length: number, options?: RequestOptions): Promise<PodLog> {
  return get<PodLog>(`${jobPath(id)}/pods/${seg(pod)}/logs`, { ...options, query: { offset, length } });
}

/** The SSE stream of a pod's log: the last `tail` lines, then new text as `log` events, then `end`. */
export function podLogStreamUrl(id: number, pod: string, tail = 200): string {
  return `${jobPath(id)}/pods/${seg(pod)}/logs/stream?tail=${tail}`;
}

/** The whole log file as an attachment. */
export function podLogDownloadUrl(id: number, pod: string): string {
  return `${jobPath(id)}/pods/${seg(pod)}/logs?download=true`;
}

/** The answer to POST /api/v1/jobs/packages: the id to name as `package` in the spec. */
export interface PackageInfo {
  package: string;
  files: number;
  bytes: number;
}

export interface UploadOptions {
  signal?: AbortSignal;
  /** Bytes sent so far of `total`. */
  onProgress?: (sent: number, total: number) => void;
}

/**
 * Uploads a job's code (a tar archive) to POST /api/v1/jobs/packages, reporting progress. A stale CSRF
 * token is refreshed from /api/v1/me and the upload tried once more; cancelling (the signal) rejects
 * with an AbortError.
 */
export function uploadPackage(archive: Blob, { signal, onProgress }: UploadOptions = {}): Promise<PackageInfo> {
  return upload<PackageInfo>('POST', '/api/v1/jobs/packages', archive, {
    contentType: 'application/x-tar',
    signal,
    onProgress: (event) => onProgress?.(event.loaded, event.lengthComputable ? event.total : archive.size),
    networkErrorMessage: 'The upload did not reach the PaddleCloud server',
  });
}

export const jobsApi = {
  listJobs,
  getJob,
  submitJob,
  uploadPackage,
  stopJob,
  listJobEvents,
  getPodLog,
  getPodLogRange,
  getCapacity,
};

export type JobsApi = typeof jobsApi;
