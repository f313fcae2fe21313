// The quota page (/quota): what the account may use against what it uses now (refreshed every 3 s
// while the page is visible), the CPU and GPU time of the last day, week and month, per user for the
// master user (a member sees their own), the last 30 days as bars, and the members' limits: editable
// by the master user, read-only for a member (docs/monitoring.md).
import type { VNode } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { ApiError } from '../../api/client';
import type { AccountQuota, AccountUsage, UsageApi, UsageWindow } from '../../api/usage';
import { usageApi } from '../../api/usage';
import { ErrorBanner, isAbort, toApiError } from '../../forms';
import { formatCores, formatHours, formatSize, plural } from '../../format';
import type { SignedInPageProps } from '../../session';
import { DataTable } from '../../table';
import { useDocumentTitle } from '../../title';
import { usePolling } from '../jobs/common';
import { DailyChart } from './DailyChart';
import { MemberLimitsPanel } from './MemberLimitsPanel';

export type QuotaApi = Pick<UsageApi, 'getQuota' | 'setMemberLimits' | 'getAccountUsage'>;

const defaultApi: QuotaApi = {
  getQuota: usageApi.getQuota,
  setMemberLimits: usageApi.setMemberLimits,
  getAccountUsage: usageApi.getAccountUsage,
};

/** How often the bars are read again while the page is visible. */
export const QUOTA_REFRESH_MS = 3_000;
/** How often the CPU and GPU time is read again. */
export const USAGE_REFRESH_MS = 15_000;

export const WINDOWS: ReadonlyArray<{ value: UsageWindow; label: string }> = [
  { value: '1d', label: 'Last day' },
  { value: '7d', label: 'Last week' },
  { value: '30d', label: 'Last month' },
];

/** Loads with `read` at once and every `intervalMs` while the page is visible; keeps the last answer on a failed refresh. */
function useLive<T>(read: (signal: AbortSignal) => Promise<T>, intervalMs: number) {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const load = useCallback(
    async (signal: AbortSignal) => {
      try {
        setData(await read(signal));
        setError(null);
      } catch (err) {
        if (!isAbort(err)) setError(toApiError(err));
      }
    },
    [read],
  );
  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);
  usePolling(load, intervalMs, true);
  return { data, error, reload: () => void load(new AbortController().signal) };
}

type Usages = Record<UsageWindow, AccountUsage>;

export function QuotaPage({ user, api = defaultApi }: SignedInPageProps & { api?: QuotaApi }): VNode {
  useDocumentTitle('Quota');
  const master = user.role === 'master';
  const quota = useLive(useCallback((signal: AbortSignal) => api.getQuota({ signal }), [api]), QUOTA_REFRESH_MS);
  const usage = useLive(
    useCallback(async (signal: AbortSignal): Promise<Usages> => {
      const [day, week, month] = await Promise.all(WINDOWS.map((w) => api.getAccountUsage(w.value, { signal })));
      return { '1d': day!, '7d': week!, '30d': month! };
    }, [api]),
    USAGE_REFRESH_MS,
  );

  return (
    <section class="page page--wide" data-testid="quota-page">
      <header class="page__header">
        <div>
          <h1 class="page__title">Quota</h1>
          <p class="page__subtitle">
            {master
              ? 'What the account may use at once, what it uses now, and the CPU and GPU time of everyone in it.'
              : 'What the account may use at once, what it uses now, your CPU and GPU time and your limits.'}
          </p>
        </div>
      </header>
      <section class="card quota-panel" aria-labelledby="quota-now-title">
        <h2 class="card__title" id="quota-now-title">
          In use now
        </h2>
        {quota.error && <ErrorBanner error={quota.error} prefix={quota.data ? 'Could not refresh the quota.' : 'Could not load the quota.'} testId="quota-error" onRetry={quota.reload} />}
        {quota.data ? <QuotaBars quota={quota.data} /> : !quota.error && <p class="loading">Loading the quota…</p>}
      </section>
      <section class="card quota-panel" aria-labelledby="quota-time-title">
        <h2 class="card__title" id="quota-time-title">
          CPU and GPU time
        </h2>
        {usage.error && <ErrorBanner error={usage.error} prefix="Could not load the CPU and GPU time." testId="usage-error" onRetry={usage.reload} />}
        {usage.data ? <UsageTimes usages={usage.data} master={master} /> : !usage.error && <p class="loading">Loading the CPU and GPU time…</p>}
      </section>
      {quota.data && <MemberLimitsPanel quota={quota.data} master={master} userId={user.id} api={api} onSaved={quota.reload} />}
    </section>
  );
}

interface BarSpec {
  key: 'cpu' | 'memory' | 'gpus' | 'running_jobs' | 'storage';
  label: string;
  used: number;
  quota: number | null;
  /** The bound when there is no quota: the cluster's capacity (none for jobs and storage). */
  capacity: number | null;
  format: (value: number) => string;
}

function barsOf({ quota, in_use: used, capacity }: AccountQuota): BarSpec[] {
  const gpus = (n: number) => plural(n, 'GPU');
  const jobs = (n: number) => plural(n, 'job');
  return [
    { key: 'cpu', label: 'CPU', used: used.cpu, quota: quota.cpu, capacity: capacity?.cpu ?? null, format: formatCores },
    { key: 'memory', label: 'Memory', used: used.memory_bytes, quota: quota.memory_bytes, capacity: capacity?.memory_bytes ?? null, format: formatSize },
    { key: 'gpus', label: 'GPUs', used: used.gpus, quota: quota.gpus, capacity: capacity?.gpus ?? null, format: gpus },
    { key: 'running_jobs', label: 'Running jobs', used: used.running_jobs, quota: quota.running_jobs, capacity: null, format: jobs },
    { key: 'storage', label: 'Storage', used: used.storage_bytes ?? 0, quota: quota.storage_bytes, capacity: null, format: formatSize },
  ];
}

function QuotaBars({ quota }: { quota: AccountQuota }): VNode {
  return (
    <ul class="quota-bars" data-testid="quota-bars">
      {barsOf(quota).map((bar) => (
        <QuotaBar key={bar.key} bar={bar} />
      ))}
    </ul>
  );
}

function QuotaBar({ bar }: { bar: BarSpec }): VNode {
  const max = bar.quota ?? bar.capacity;
  const used = bar.format(bar.used);
  const text =
    bar.quota !== null
      ? `${used} of ${bar.format(bar.quota)}`
      : bar.capacity !== null
        ? `${used} of the cluster’s ${bar.format(bar.capacity)}, no quota`
        : `${used}, no quota`;
  const id = `quota-${bar.key}`;
  return (
    <li class="quota-bar" data-testid={id} data-used={bar.used} data-max={max ?? ''}>
      <span class="quota-bar__label" id={`${id}-label`}>
        {bar.label}
      </span>
      <span class="quota-bar__text" data-testid={`${id}-text`}>
        {text}
      </span>
      {max !== null && max > 0 && (
        <meter
          class="quota-bar__meter"
          min={0}
          max={max}
          low={max * 0.8}
          high={max * 0.95}
          optimum={0}
          value={Math.min(bar.used, max)}
          aria-labelledby={`${id}-label`}
          aria-valuetext={text}
          data-testid={`${id}-bar`}
        />
      )}
    </li>
  );
}

function UsageTimes({ usages, master }: { usages: Usages; master: boolean }): VNode {
  const month = usages['30d'];
  return (
    <>
      <DataTable columns={['Period', { label: 'CPU time', class: 'num' }, { label: 'GPU time', class: 'num' }]} testId="usage-times">
        {WINDOWS.map((w) => (
          <tr key={w.value} data-testid={`usage-${w.value}`}>
            <th scope="row">{w.label}</th>
            <td class="num" data-testid={`usage-cpu-${w.value}`} data-seconds={usages[w.value].cpu_seconds}>
              {formatHours(usages[w.value].cpu_seconds)}
            </td>
            <td class="num" data-testid={`usage-gpu-${w.value}`} data-seconds={usages[w.value].gpu_seconds}>
              {formatHours(usages[w.value].gpu_seconds)}
            </td>
          </tr>
        ))}
      </DataTable>
      <p class="muted quota-note">CPU time is measured from the pods’ samples (core-hours); GPU time is the time pods held GPUs (GPU-hours).</p>
      <h3 class="quota-subtitle" id="usage-users-title">
        {master ? 'Per user' : 'Yours'}
      </h3>
      <UsersTable usages={usages} />
      <DailyChart days={month.daily} />
    </>
  );
}

/** One row per user: CPU and GPU time in each window (users come from the month, which holds every one of the shorter windows). */
function UsersTable({ usages }: { usages: Usages }): VNode {
  const users = usages['30d'].users;
  if (users.length === 0) return <p class="muted">No usage in the last month.</p>;
  const of = (window: UsageWindow, userId: number) => usages[window].users.find((u) => u.user_id === userId);
  const columns = [
    'User',
    ...WINDOWS.map((w) => ({ label: `CPU, ${w.value}`, class: w.value === '30d' ? 'num' : 'num table__secondary' })),
    ...WINDOWS.map((w) => ({ label: `GPU, ${w.value}`, class: w.value === '30d' ? 'num' : 'num table__secondary' })),
  ];
  return (
    <DataTable columns={columns} testId="usage-users" labelledBy="usage-users-title">
      {users.map((user) => (
        <tr key={user.user_id} data-testid="usage-user" data-user={user.email}>
          <td>{user.email}</td>
          {WINDOWS.map((w) => (
            <td key={w.value} class={w.value === '30d' ? 'num' : 'num table__secondary'} data-testid={`usage-user-cpu-${w.value}`}>
              {formatHours(of(w.value, user.user_id)?.cpu_seconds ?? 0)}
            </td>
          ))}
          {WINDOWS.map((w) => (
            <td key={w.value} class={w.value === '30d' ? 'num' : 'num table__secondary'} data-testid={`usage-user-gpu-${w.value}`}>
              {formatHours(of(w.value, user.user_id)?.gpu_seconds ?? 0)}
            </td>
          ))}
        </tr>
      ))}
    </DataTable>
  );
}
