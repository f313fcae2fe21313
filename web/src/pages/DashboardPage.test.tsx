import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { User } from '../api/account';
import type { Job, JobListQuery, JobPage } from '../api/jobs';
import type { Mounted } from '../test-utils';
import { click, fakeAccountApi, fakeJobsApi, flush, makeJob, mount, type, USER as MASTER } from '../test-utils';
import type { DashboardApi } from './DashboardPage';
import { DashboardPage, NAME_DEBOUNCE_MS } from './DashboardPage';
import type { EventSourceLike } from './jobs/LogConsole';

const MEMBER: User = { ...MASTER, id: 2, email: 'grace@example.com', role: 'member' };

const NOW = 1_795_930_000;

let page: Mounted | undefined;
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  vi.setSystemTime(NOW * 1000);
  window.history.replaceState(null, '', '/dashboard');
});
afterEach(() => {
  page?.unmount();
  page = undefined;
  vi.useRealTimers();
});

function dashboardApi(listJobs: (query: JobListQuery) => Promise<JobPage>, extra: Partial<DashboardApi> = {}) {
  const account = fakeAccountApi({
    getAccount: async () => ({ id: 'ada-lab', display_name: 'Ada Lab', created_at: 1, members: 3 }),
  });
  const jobs = fakeJobsApi({ listJobs: async (query) => listJobs(query) });
  const api: DashboardApi = {
    getAccount: account.getAccount,
    getReadiness: vi.fn(async () => ({ status: 'ready', checks: {} })),
    listJobs: jobs.listJobs,
    stopJob: jobs.stopJob,
    getJob: jobs.getJob,
    ...extra,
  };
  return api;
}

const rows = () => [...page!.container.querySelectorAll<HTMLElement>('[data-testid="job-row"]')];
const row = (name: string) => page!.container.querySelector<HTMLElement>(`[data-testid="job-row"][data-job-name="${name}"]`);
const cell = (r: HTMLElement | null, id: string) => r?.querySelector(`[data-testid="${id}"]`)?.textContent?.trim();

async function advance(ms: number) {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
  await flush();
}

describe('DashboardPage', () => {
  it('lists the jobs: name, age, success and fail counts, state with its reason, and actions', async () => {
    const jobs: Job[] = [
      makeJob({ id: 3, name: 'waiting', state: 'Pending', reason: 'waiting for 2 CPUs', started_at: null, submitted_at: NOW - 42 }),
      makeJob({ id: 2, name: 'training', state: 'Running', submitted_at: NOW - 17 * 60 - 5, succeeded: 1, failed: 2 }),
      makeJob({ id: 1, name: 'done', state: 'Succeeded', submitted_at: NOW - 3 * 3_600, finished_at: NOW - 3_000, succeeded: 2 }),
    ];
    const api = dashboardApi(async () => ({ items: jobs, next_cursor: null }));
    page = await mount(<DashboardPage user={MEMBER} params={{}} api={api} />);

    expect(api.listJobs).toHaveBeenCalledWith({ limit: '20' }, expect.anything());
    expect(rows().map((r) => r.dataset['jobName'])).toEqual(['waiting', 'training', 'done']);
    expect(cell(row('waiting'), 'job-age')).toBe('42s');
    expect(cell(row('training'), 'job-age')).toBe('17m');
    expect(cell(row('done'), 'job-age')).toBe('3h');
    expect(cell(row('training'), 'job-succeeded')).toBe('1');
    expect(cell(row('training'), 'job-failed')).toBe('2');
    expect(cell(row('waiting'), 'job-state')).toBe('Pending');
    expect(cell(row('waiting'), 'job-state-reason')).toBe('waiting for 2 CPUs');
    expect(row('waiting')?.querySelector('[data-testid="job-state"]')?.getAttribute('title')).toBe('waiting for 2 CPUs');
    expect(row('waiting')?.querySelector('[data-testid="job-stop"]')).not.toBeNull();
    expect(row('training')?.querySelector('[data-testid="job-stop"]')).not.toBeNull();
    expect(row('done')?.querySelector('[data-testid="job-stop"]')).toBeNull();
    expect(row('done')?.querySelector('[data-testid="job-log"]')).not.toBeNull();
    expect(row('training')?.querySelector('a')?.getAttribute('href')).toBe('/jobs/2');
    // stop / log / perf: the perf link of each row.
    expect(row('training')?.querySelector('[data-testid="job-perf"]')?.getAttribute('href')).toBe('/jobs/2/perf');
    expect(row('done')?.querySelector('[data-testid="job-perf"]')?.getAttribute('href')).toBe('/jobs/1/perf');
    expect(row('done')?.querySelector('[data-testid="job-perf"]')?.getAttribute('aria-label')).toBe('Performance of done');
    // ... and the board link beside it.
    expect(row('training')?.querySelector('[data-testid="job-board"]')?.getAttribute('href')).toBe('/jobs/2/board');
    expect(row('done')?.querySelector('[data-testid="job-board"]')?.getAttribute('aria-label')).toBe('Board of done');
    // Log stays a button of its own; the rest is in the row's actions menu.
    const menuItems = (name: string) =>
      [...row(name)!.querySelectorAll<HTMLElement>('[data-testid="job-menu-list"] [role="menuitem"]')].map((item) => [
        item.textContent,
        item.getAttribute('href'),
      ]);
    expect(row('training')?.querySelector('[data-testid="job-menu"]')?.getAttribute('aria-label')).toBe('Actions for training');
    expect(menuItems('training')).toEqual([
      ['Details', '/jobs/2'],
      ['Performance', '/jobs/2/perf'],
      ['Board', '/jobs/2/board'],
      ['Submit again…', '/jobs/new?from=2'],
      ['Stop…', null],
    ]);
    expect(menuItems('done')).toEqual([
      ['Details', '/jobs/1'],
      ['Performance', '/jobs/1/perf'],
      ['Board', '/jobs/1/board'],
      ['Submit again…', '/jobs/new?from=1'],
    ]);
    expect(page.container.querySelector('h1')?.textContent).toBe('Job Dashboard');
    expect(document.title).toBe('Job Dashboard · PaddleCloud');
    expect(page.byTestId('filter-all')).toBeNull();
    expect(page.container.querySelector('[data-testid="job-user"]')).toBeNull();
    expect(page.text('dashboard-account-id')).toBe('ada-lab');
    expect(page.text('dashboard-members')).toBe('3 members');
    expect(page.text('dashboard-server-state')).toBe('Ready');

    // The age keeps counting.
    await advance(60_000);
    expect(cell(row('waiting'), 'job-age')).toBe('1m');
  });

  it('refreshes every 2 s while a job is Pending or Running, and stops when none is', async () => {
    let state = 'Running';
    const api = dashboardApi(async () => ({ items: [makeJob({ id: 5, name: 'live', state })], next_cursor: null }));
    page = await mount(<DashboardPage user={MEMBER} params={{}} api={api} />);
    expect(api.listJobs).toHaveBeenCalledTimes(1);

    await advance(2_000);
    expect(api.listJobs).toHaveBeenCalledTimes(2);
    state = 'Succeeded';
    await advance(2_000);
    expect(api.listJobs).toHaveBeenCalledTimes(3);
    expect(cell(row('live'), 'job-state')).toBe('Succeeded');
    expect(row('live')?.querySelector('[data-testid="job-stop"]')).toBeNull();

    await advance(10_000);
    expect(api.listJobs).toHaveBeenCalledTimes(3);
  });

  it('pauses the refresh while the tab is hidden', async () => {
    const api = dashboardApi(async () => ({ items: [makeJob({ id: 5, name: 'live' })], next_cursor: null }));
    page = await mount(<DashboardPage user={MEMBER} params={{}} api={api} />);
    const visibility = vi.spyOn(document, 'visibilityState', 'get').mockReturnValue('hidden');
    await act(async () => {
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await advance(10_000);
    expect(api.listJobs).toHaveBeenCalledTimes(1);

    visibility.mockReturnValue('visible');
    await act(async () => {
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await flush();
    expect(api.listJobs).toHaveBeenCalledTimes(2);
  });

  it('filters by status, name (after a pause in typing) and keeps the filters in the address bar', async () => {
    const api = dashboardApi(async () => ({ items: [], next_cursor: null }));
    page = await mount(<DashboardPage user={MEMBER} params={{}} api={api} />);
    expect(page.byTestId('jobs-empty')).not.toBeNull();

    await click(page.byTestId('filter-status-failed'));
    expect(window.location.search).toBe('?status=failed');
    expect(api.listJobs).toHaveBeenLastCalledWith({ status: 'failed', limit: '20' }, expect.anything());
    expect(page.byTestId('filter-status-failed')?.getAttribute('aria-pressed')).toBe('true');
    expect(page.byTestId('jobs-empty-filtered')).not.toBeNull();

    const calls = vi.mocked(api.listJobs).mock.calls.length;
    await type(page.byTestId<HTMLInputElement>('filter-name'), 'mn');
    await type(page.byTestId<HTMLInputElement>('filter-name'), 'mnist');
    await advance(NAME_DEBOUNCE_MS - 50);
    expect(api.listJobs).toHaveBeenCalledTimes(calls);
    await advance(50);
    expect(api.listJobs).toHaveBeenCalledTimes(calls + 1);
    expect(api.listJobs).toHaveBeenLastCalledWith({ status: 'failed', name: 'mnist', limit: '20' }, expect.anything());
    expect(window.location.search).toBe('?status=failed&name=mnist');

    await click(page.byTestId('filter-clear'));
    expect(window.location.search).toBe('');
    expect(page.byTestId<HTMLInputElement>('filter-name')?.value).toBe('');
  });

  it('shows how to submit a first job', async () => {
    const api = dashboardApi(async () => ({ items: [], next_cursor: null }));
    page = await mount(<DashboardPage user={MEMBER} params={{}} api={api} />);
    expect(page.byTestId('empty-submit')?.getAttribute('href')).toBe('/jobs/new');
    expect(page.text('empty-sdk')).toContain('create_cloud_job(');
    expect(page.text('empty-curl')).toContain('/api/v1/jobs');
  });

  it('lets the master user see every user’s jobs, with a user column', async () => {
    const api = dashboardApi(async (query) => ({
      items: query.all ? [makeJob({ id: 9, name: 'theirs', user: 'grace@example.com' })] : [],
      next_cursor: null,
    }));
    page = await mount(<DashboardPage user={MASTER} params={{}} api={api} />);
    await click(page.byTestId('filter-all'));
    expect(api.listJobs).toHaveBeenLastCalledWith({ all: 'true', limit: '20' }, expect.anything());
    expect(cell(row('theirs'), 'job-user')).toBe('grace@example.com');
  });

  it('loads more with the cursor', async () => {
    const api = dashboardApi(async (query) =>
      query.cursor === '10'
        ? { items: [makeJob({ id: 9, name: 'older', state: 'Failed' })], next_cursor: null }
        : { items: [makeJob({ id: 10, name: 'newer', state: 'Stopped' })], next_cursor: '10' },
    );
    page = await mount(<DashboardPage user={MEMBER} params={{}} api={api} />);
    await click(page.byTestId('jobs-load-more'));
    expect(api.listJobs).toHaveBeenLastCalledWith({ limit: '20', cursor: '10' });
    expect(rows().map((r) => r.dataset['jobName'])).toEqual(['newer', 'older']);
    expect(page.byTestId('jobs-load-more')).toBeNull();
  });

  it('stops a job after confirmation', async () => {
    let job = makeJob({ id: 4, name: 'long' });
    const stopJob = vi.fn(async () => {
      job = { ...job, stop_requested: true, reason: 'stopping' };
      return job;
    });
    const api = dashboardApi(async () => ({ items: [job], next_cursor: null }), { stopJob });
    page = await mount(<DashboardPage user={MEMBER} params={{}} api={api} />);
    await click(row('long')!.querySelector<HTMLElement>('[data-testid="job-menu"]'));
    await click(row('long')!.querySelector<HTMLElement>('[data-testid="job-stop"]'));
    expect(page.container.querySelector('#stop-dialog-title')?.textContent).toBe('Stop long?');
    expect(stopJob).not.toHaveBeenCalled();
    await click(page.byTestId('stop-dialog-confirm'));
    expect(stopJob).toHaveBeenCalledWith(4);
    expect(page.byTestId('stop-dialog')).toBeNull();
    expect(cell(row('long'), 'job-state')).toBe('Stopping');
    expect(row('long')?.querySelector('[data-testid="job-stop"]')).toBeNull();
  });

  it('opens the log console for a job', async () => {
    const job = makeJob({ id: 4, name: 'long' });
    const getJob = vi.fn(async () => ({ ...job, pods: [] }));
    const api = dashboardApi(async () => ({ items: [job], next_cursor: null }), { getJob });
    const open = vi.fn((_url: string): EventSourceLike => ({ readyState: 0, addEventListener() {}, close() {} }));
    page = await mount(<DashboardPage user={MEMBER} params={{}} api={api} openEventSource={open} />);
    await click(row('long')!.querySelector<HTMLElement>('[data-testid="job-log"]'));
    expect(page.byTestId('log-console')?.dataset['jobId']).toBe('4');
    expect(getJob).toHaveBeenCalledWith(4, expect.anything());
    await click(page.byTestId('log-close'));
    expect(page.byTestId('log-console')).toBeNull();
  });
});
