// Resource monitoring, quotas and accounting: typed calls for a job's usage series and its live
// stream, the account's quota and members' limits, and the account's CPU and GPU time
// (docs/monitoring.md is the contract). Times are unix milliseconds unless a name says `_s`.
import type { RequestOptions } from './client';
import { get, put } from './client';

/** One metric over the buckets of `t`: null where nothing was sampled. */
export interface MetricSeries {
  min: Array<number | null>;
  max: Array<number | null>;
  mean: Array<number | null>;
}

/** Metric name (`cpu_cores`, `memory_working_set_bytes`, …) to its series. */
export type Metrics = Record<string, MetricSeries>;

export interface PodResources {
  cpu: number;
  memory_bytes: number;
  gpus: number;
}

export interface PodUsage {
  name: string;
  role: string;
  phase: string;
  requests: PodResources;
  limits: PodResources;
  metrics: Metrics;
  /** When the pod's cgroup had a process OOM-killed. */
  oom_kill_times: number[];
  /** Why some metrics could not be read; empty when all were. */
  not_measured: string;
}

/** GET /api/v1/jobs/{job}/usage. */
export interface JobUsage {
  job: number;
  state: string;
  interval_ms: number;
  from: number;
  to: number;
  bucket_ms: number;
  t: number[];
  pods: PodUsage[];
  /** The pods summed per bucket. */
  job_total: { metrics: Metrics };
  /** The job's pods share one network namespace: measured for the whole job. */
  network: { metrics: Metrics; not_measured: string };
}

/** One `sample` event of the usage stream: a value per metric (null when it could not be read). */
export interface UsageSample {
  t: number;
  pods: Record<string, Record<string, number | null>>;
  network?: Record<string, number | null>;
}

export interface UsageQuery {
  from?: number;
  to?: number;
  points?: number;
}

const jobUsagePath = (job: number) => `/api/v1/jobs/${encodeURIComponent(String(job))}/usage`;

export function getJobUsage(job: number, query: UsageQuery = {}, options?: RequestOptions): Promise<JobUsage> {
  return get<JobUsage>(jobUsagePath(job), { ...options, query: { from: query.from, to: query.to, points: query.points } });
}

/** The SSE stream of a running job's usage: `sample` events, then `end`. */
export function jobUsageStreamUrl(job: number): string {
  return `${jobUsagePath(job)}/stream`;
}

// ---- Quota ---------------------------------------------------------------------------------------

/** What the account may use at once; null: no quota set (the cluster's capacity is the bound). */
export interface Quota {
  cpu: number | null;
  memory_bytes: number | null;
  gpus: number | null;
  running_jobs: number | null;
  storage_bytes: number | null;
}

export interface InUse {
  cpu: number;
  memory_bytes: number;
  gpus: number;
  running_jobs: number;
  storage_bytes?: number;
}

/** A member's limits; null: no limit beyond the account's quota. */
export interface MemberLimits {
  cpu: number | null;
  memory_bytes: number | null;
  gpus: number | null;
  running_jobs: number | null;
}

export interface MemberQuota {
  user_id: number;
  email: string;
  limits: MemberLimits;
  in_use: InUse;
}

/** The cluster's CPU (cores), memory and GPUs: the bound of a resource the account has no quota for. */
export interface QuotaCapacity {
  cpu: number;
  memory_bytes: number;
  gpus: number;
}

/** GET /api/v1/account/quota: the master sees every member, a member only themself. */
export interface AccountQuota {
  quota: Quota;
  in_use: InUse;
  members: MemberQuota[];
  capacity?: QuotaCapacity;
}

/** PUT /api/v1/account/members/{user}/limits: quantities in the server's unit grammar ("8", "500m", "32Gi"); null removes a limit. */
export interface LimitsInput {
  cpu: string | null;
  memory: string | null;
  gpus: number | null;
  running_jobs: number | null;
}

export function getQuota(options?: RequestOptions): Promise<AccountQuota> {
  return get<AccountQuota>('/api/v1/account/quota', options);
}

export function setMemberLimits(userId: number, limits: LimitsInput, options?: RequestOptions): Promise<unknown> {
  return put<unknown>(`/api/v1/account/members/${encodeURIComponent(String(userId))}/limits`, limits, options);
}

// ---- Accounting ----------------------------------------------------------------------------------

export type UsageWindow = '1d' | '7d' | '30d';

export interface UserUsage {
  user_id: number;
  email: string;
  cpu_seconds: number;
  gpu_seconds: number;
}

export interface DailyUsage {
  /** A UTC day, "2026-11-06". */
  day: string;
  cpu_seconds: number;
  gpu_seconds: number;
}

/** GET /api/v1/account/usage: the master sees the account and every user; a member their own. */
export interface AccountUsage {
  window: UsageWindow;
  from_s: number;
  to_s: number;
  cpu_seconds: number;
  gpu_seconds: number;
  users: UserUsage[];
  /** The last 30 UTC days, oldest first. */
  daily: DailyUsage[];
}

export function getAccountUsage(window: UsageWindow, options?: RequestOptions): Promise<AccountUsage> {
  return get<AccountUsage>('/api/v1/account/usage', { ...options, query: { window } });
}

export const usageApi = {
  getJobUsage,
  getQuota,
  setMemberLimits,
  getAccountUsage,
};

export type UsageApi = typeof usageApi;
