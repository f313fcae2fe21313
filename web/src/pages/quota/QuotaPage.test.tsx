import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { User } from '../../api/account';
import { ApiError } from '../../api/client';
import type { AccountQuota, AccountUsage, UsageWindow } from '../../api/usage';
import type { Mounted } from '../../test-utils';
import { click, flush, mount, submit, type, USER as MASTER } from '../../test-utils';
import type { QuotaApi } from './QuotaPage';
import { QUOTA_REFRESH_MS, QuotaPage } from './QuotaPage';

const MEMBER: User = { ...MASTER, id: 3, email: 'student@example.com', role: 'member' };
const GiB = 2 ** 30;

function quota(over: Partial<AccountQuota> = {}): AccountQuota {
  return {
    quota: { cpu: 64, memory_bytes: 256 * GiB, gpus: 8, running_jobs: 10, storage_bytes: 10 * GiB },
    in_use: { cpu: 6, memory_bytes: 6 * GiB, gpus: 0, running_jobs: 2, storage_bytes: 123_456 },
    members: [
      {
        user_id: 3,
        email: 'student@example.com',
        limits: { cpu: 8, memory_bytes: null, gpus: 0, running_jobs: null },
        in_use: { cpu: 2, memory_bytes: GiB, gpus: 0, running_jobs: 1 },
      },
    ],
    ...over,
  };
}

function usage(window: UsageWindow, cpu: number): AccountUsage {
  return {
    window,
    from_s: 0,
    to_s: 1,
    cpu_seconds: cpu,
    gpu_seconds: 0,
    users: [
      { user_id: 1, email: 'ada@example.com', cpu_seconds: cpu - 1800, gpu_seconds: 0 },
      { user_id: 3, email: 'student@example.com', cpu_seconds: 1800, gpu_seconds: 0 },
    ],
    daily: Array.from({ length: 30 }, (_, i) => ({ day: `2026-11-${String(i + 1).padStart(2, '0')}`, cpu_seconds: i === 29 ? 7200 : 0, gpu_seconds: i === 28 ? 3600 : 0 })),
  };
}

const CPU_SECONDS: Record<UsageWindow, number> = { '1d': 5400, '7d': 36_000, '30d': 360_000 };

function quotaApi(read: () => AccountQuota = () => quota(), over: Partial<QuotaApi> = {}): QuotaApi {
  return {
    getQuota: vi.fn(async () => read()),
    getAccountUsage: vi.fn(async (window: UsageWindow) => usage(window, CPU_SECONDS[window])),
    setMemberLimits: vi.fn(async () => ({})),
    ...over,
  };
}

let page: Mounted | undefined;
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
});
afterEach(() => {
  page?.unmount();
  page = undefined;
  vi.useRealTimers();
});

const bar = (key: string) => page!.byTestId(`quota-${key}`);

describe('QuotaPage', () => {
  it('draws quota against use, and the CPU and GPU time of a day, a week and a month per user', async () => {
    const api = quotaApi();
    page = await mount(<QuotaPage user={MASTER} params={{}} api={api} />);

    expect(document.title).toBe('Quota · PaddleCloud');
    expect(page.text('quota-cpu-text')).toBe('6 cores of 64 cores');
    expect(page.byTestId('quota-cpu-bar')?.getAttribute('value')).toBe('6');
    expect(page.byTestId('quota-cpu-bar')?.getAttribute('max')).toBe('64');
    expect(page.text('quota-memory-text')).toBe('6.0 GiB of 256 GiB');
    expect(page.text('quota-gpus-text')).toBe('0 GPUs of 8 GPUs');
    expect(page.text('quota-running_jobs-text')).toBe('2 jobs of 10 jobs');
    expect(page.byTestId('quota-storage-bar')?.getAttribute('max')).toBe(String(10 * GiB));

    expect(vi.mocked(api.getAccountUsage).mock.calls.map(([window]) => window)).toEqual(['1d', '7d', '30d']);
    expect(page.text('usage-cpu-1d')).toBe('1.5 h');
    expect(page.text('usage-cpu-7d')).toBe('10 h');
    expect(page.text('usage-cpu-30d')).toBe('100 h');
    expect(page.text('usage-gpu-1d')).toBe('0 h');
    const users = [...page.container.querySelectorAll<HTMLElement>('[data-testid="usage-user"]')];
    expect(users.map((row) => row.dataset['user'])).toEqual(['ada@example.com', 'student@example.com']);
    expect(users[0]!.querySelector('[data-testid="usage-user-cpu-1d"]')?.textContent).toBe('1 h');
    expect(page.container.querySelectorAll('[data-testid="daily-bar"]')).toHaveLength(30);
    const lastDay = page.container.querySelector('[data-testid="daily-bar"][data-day="2026-11-30"] [data-testid="daily-bar-cpu"]');
    expect(Number(lastDay?.getAttribute('height'))).toBeGreaterThan(100);
    expect(page.byTestId('daily-table')?.textContent).toContain('2026-11-302 h0 h');
  });

  it('draws a missing quota against the cluster’s capacity and says there is none', async () => {
    const api = quotaApi(() =>
      quota({
        quota: { cpu: null, memory_bytes: 256 * GiB, gpus: 8, running_jobs: null, storage_bytes: 10 * GiB },
        capacity: { cpu: 16, memory_bytes: 64 * GiB, gpus: 0 },
      }),
    );
    page = await mount(<QuotaPage user={MASTER} params={{}} api={api} />);
    expect(page.text('quota-cpu-text')).toBe('6 cores of the cluster’s 16 cores, no quota');
    expect(page.byTestId('quota-cpu-bar')?.getAttribute('max')).toBe('16');
    expect(page.text('quota-running_jobs-text')).toBe('2 jobs, no quota');
    expect(page.byTestId('quota-running_jobs-bar')).toBeNull();
  });

  it('refreshes the bars every 3 s while the page is visible', async () => {
    let cpu = 0;
    const api = quotaApi(() => quota({ in_use: { cpu, memory_bytes: 0, gpus: 0, running_jobs: cpu > 0 ? 1 : 0, storage_bytes: 0 } }));
    page = await mount(<QuotaPage user={MASTER} params={{}} api={api} />);
    expect(bar('cpu')?.dataset['used']).toBe('0');
    cpu = 2;
    await act(async () => {
      await vi.advanceTimersByTimeAsync(QUOTA_REFRESH_MS);
    });
    await flush();
    expect(bar('cpu')?.dataset['used']).toBe('2');
    expect(api.getQuota).toHaveBeenCalledTimes(2);

    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    await act(async () => {
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await act(async () => {
      await vi.advanceTimersByTimeAsync(5 * QUOTA_REFRESH_MS);
    });
    expect(api.getQuota).toHaveBeenCalledTimes(2);
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
    await act(async () => {
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await flush();
    expect(api.getQuota).toHaveBeenCalledTimes(3);
  });

  it('lets the master user set a member’s limits, empty meaning no limit', async () => {
    const api = quotaApi();
    page = await mount(<QuotaPage user={MASTER} params={{}} api={api} />);
    expect(page.byTestId<HTMLInputElement>('limits-3-cpu')?.value).toBe('8');
    expect(page.byTestId<HTMLInputElement>('limits-3-memory')?.value).toBe('');
    expect(page.text('limits-3-in-use')).toBe('In use now: 2 cores, 1.0 GiB, 0 GPUs, 1 running job');

    await type(page.byTestId('limits-3-memory'), '32Gi');
    await type(page.byTestId('limits-3-running_jobs'), '2');
    await type(page.byTestId('limits-3-cpu'), '');
    await submit(page.byTestId('limits-3-form'));
    expect(api.setMemberLimits).toHaveBeenCalledWith(3, { cpu: null, memory: '32Gi', gpus: 0, running_jobs: 2 });
    expect(page.byTestId('limits-3-saved')).not.toBeNull();
    expect(page.byTestId('own-limits')).toBeNull();
  });

  it('names the field of a value it cannot send, and shows the server’s error next to its field', async () => {
    const api = quotaApi(undefined, {
      setMemberLimits: vi.fn(async () => {
        throw new ApiError(400, 'invalid_argument', 'cpu: 100 is above the account’s quota of 64 CPUs', { field: 'cpu' });
      }),
    });
    page = await mount(<QuotaPage user={MASTER} params={{}} api={api} />);

    await type(page.byTestId('limits-3-cpu'), 'lots');
    await type(page.byTestId('limits-3-gpus'), '1.5');
    await submit(page.byTestId('limits-3-form'));
    expect(api.setMemberLimits).not.toHaveBeenCalled();
    expect(page.text('limits-3-cpu-error')).toBe('CPU must be a number of cores such as 8, 0.5 or 500m, or empty for no limit.');
    expect(page.text('limits-3-gpus-error')).toBe('GPUs must be a whole number of GPUs, or empty for no limit.');
    expect(page.byTestId('limits-3-cpu')?.getAttribute('aria-invalid')).toBe('true');

    await type(page.byTestId('limits-3-cpu'), '100');
    await type(page.byTestId('limits-3-gpus'), '');
    await submit(page.byTestId('limits-3-form'));
    expect(api.setMemberLimits).toHaveBeenCalledTimes(1);
    expect(page.text('limits-3-cpu-error')).toBe('100 is above the account’s quota of 64 CPUs.');
    expect(page.byTestId('limits-3-error')).toBeNull();
    expect(page.byTestId('limits-3-saved')).toBeNull();
  });

  it('shows a member their own usage and limits, read-only', async () => {
    const own = quota();
    const api = quotaApi(() => own, {
      getAccountUsage: vi.fn(async (window: UsageWindow) => ({ ...usage(window, 1800), users: [{ user_id: 3, email: MEMBER.email, cpu_seconds: 1800, gpu_seconds: 0 }] })),
    });
    page = await mount(<QuotaPage user={MEMBER} params={{}} api={api} />);
    expect(page.byTestId('limits-3-form')).toBeNull();
    expect(page.container.querySelector('input')).toBeNull();
    expect(page.text('own-limit-cpu')).toBe('8 cores');
    expect(page.text('own-limit-memory')).toBe('no limit');
    expect(page.text('own-limit-gpus')).toBe('0 GPUs');
    expect(page.text('own-in-use')).toBe('2 cores, 1.0 GiB, 0 GPUs, 1 running job');
    expect([...page.container.querySelectorAll<HTMLElement>('[data-testid="usage-user"]')].map((row) => row.dataset['user'])).toEqual([MEMBER.email]);
  });

  it('shows a failed load with a retry', async () => {
    let fail = true;
    const api = quotaApi(() => {
      if (fail) throw new ApiError(503, 'unavailable', 'the database is busy');
      return quota();
    });
    page = await mount(<QuotaPage user={MASTER} params={{}} api={api} />);
    expect(page.text('quota-error-message')).toBe('The database is busy.');
    fail = false;
    await click(page.byTestId('quota-error')!.querySelector('button'));
    expect(page.byTestId('quota-error')).toBeNull();
    expect(page.text('quota-cpu-text')).toBe('6 cores of 64 cores');
  });
});
