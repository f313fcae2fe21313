import { afterEach, describe, expect, it, vi } from 'vitest';
import type { User } from '../../api/account';
import { ApiError } from '../../api/client';
import type { Pod } from '../../api/jobs';
import type { Mounted } from '../../test-utils';
import { click, fakeJobsApi, makeJob, mount } from '../../test-utils';
import { JobDetailPage } from './JobDetailPage';
import type { EventSourceLike } from './LogConsole';

const USER: User = {
  id: 1,
  account_id: 'ada-lab',
  email: 'ada@example.com',
  display_name: 'Ada',
  role: 'member',
  verified: true,
  created_at: 1,
};

const pod = (name: string, role: string, index: number, over: Partial<Pod> = {}): Pod => ({
  name,
  role,
  index,
  phase: 'Succeeded',
  reason: 'Completed',
  exit_code: 0,
  restarts: 0,
  started_at: 1_795_927_010,
  finished_at: 1_795_927_020,
  endpoint: '127.0.0.1:40001',
  ...over,
});

let page: Mounted | undefined;
afterEach(() => {
  page?.unmount();
  page = undefined;
});

describe('JobDetailPage', () => {
  it('shows the spec, the pods and the events, and opens the console on a pod', async () => {
    const job = makeJob({
      id: 3,
      name: 'dist-demo',
      state: 'Succeeded',
      reason: 'every trainer finished',
      finished_at: 1_795_927_020,
      succeeded: 2,
      spec: {
        name: 'dist-demo',
        entry: 'python3 train.py',
        num_trainer: 2,
        cpu_per_trainer: '100m',
        mem_per_trainer: '64Mi',
        gpu_per_trainer: 1,
        num_ps: 1,
        cpu_per_ps: '100m',
        mem_per_ps: '64Mi',
        env: { LR: '0.1' },
        max_restarts: 2,
        fault_tolerant: 1,
      },
      pods: [
        pod('dist-demo-3-trainer-0', 'trainer', 0),
        pod('dist-demo-3-trainer-1', 'trainer', 1, { phase: 'Failed', exit_code: 1, restarts: 2, reason: 'Error' }),
        pod('dist-demo-3-pserver-0', 'pserver', 0),
      ],
    });
    const api = fakeJobsApi({
      getJob: async () => job,
      listJobEvents: async () => ({
        items: [
          { id: 1, at: 1_795_927_000, pod: '', type: 'Submitted', message: '2 trainer(s), 1 parameter server(s)' },
          { id: 2, at: 1_795_927_020, pod: '', type: 'Succeeded', message: 'every trainer finished' },
        ],
      }),
    });
    const urls: string[] = [];
    const open = (url: string): EventSourceLike => {
      urls.push(url);
      return { readyState: 0, addEventListener() {}, close() {} };
    };
    page = await mount(<JobDetailPage user={USER} params={{ id: '3' }} api={api} openEventSource={open} />);

    expect(page.text('job-name')).toBe('dist-demo');
    const crumbs = [...page.container.querySelectorAll<HTMLAnchorElement>('[data-testid="crumb"]')];
    expect(crumbs.map((a) => [a.textContent, a.getAttribute('href')])).toEqual([['Job Dashboard', '/dashboard']]);
    expect(page.text('crumb-current')).toBe('dist-demo');
    expect(page.text('job-detail-state')).toBe('Succeeded');
    expect(page.text('job-detail-state-reason')).toBe('every trainer finished');
    expect(page.text('job-trainers')).toBe('2 trainers × 100m CPU, 64Mi memory, 1 GPU');
    expect(page.text('job-pservers')).toBe('1 pserver × 100m CPU, 64Mi memory');
    expect(page.text('job-env')).toBe('LR=0.1');
    expect(page.text('job-restarts')).toBe('up to 2 restarts per pod');
    expect(page.text('job-fault-tolerance')).toMatch(/at most 1 trainer failed/);
    const rows = [...page.container.querySelectorAll<HTMLElement>('[data-testid="pod-row"]')];
    expect(rows.map((r) => r.dataset['phase'])).toEqual(['Succeeded', 'Failed', 'Succeeded']);
    expect(rows[1]!.querySelector('[data-testid="pod-exit-code"]')?.textContent).toBe('1');
    expect([...page.container.querySelectorAll('[data-testid="job-event"]')].map((e) => e.getAttribute('data-type'))).toEqual([
      'Submitted',
      'Succeeded',
    ]);
    expect(page.byTestId('job-detail-stop')).toBeNull();
    expect(page.byTestId('job-resubmit')?.getAttribute('href')).toBe('/jobs/new?from=3');
    expect(page.byTestId('job-perf')?.getAttribute('href')).toBe('/jobs/3/perf');
    expect(page.byTestId('job-board')?.getAttribute('href')).toBe('/jobs/3/board');

    await click(rows[1]!.querySelector<HTMLElement>('[data-testid="pod-log"]'));
    expect(urls).toEqual(['/api/v1/jobs/3/pods/dist-demo-3-trainer-1/logs/stream?tail=200']);
  });

  it('says so when there is no such job', async () => {
    const api = fakeJobsApi({
      getJob: async () => {
        throw new ApiError(404, 'not_found', "no job with id '99'");
      },
      listJobEvents: vi.fn(async () => ({ items: [] })),
    });
    page = await mount(<JobDetailPage user={USER} params={{ id: '99' }} api={api} />);
    expect(page.byTestId('job-not-found')).not.toBeNull();
  });
});
