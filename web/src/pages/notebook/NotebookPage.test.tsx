import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../api/client';
import type { Notebook, NotebookApi } from '../../api/notebook';
import type { AccountQuota } from '../../api/usage';
import type { Mounted } from '../../test-utils';
import { click, flush, mount, submit, type, USER } from '../../test-utils';
import { NotebookPage, STARTING_REFRESH_MS } from './NotebookPage';
import { useNotebookState } from './status';

const GiB = 2 ** 30;
const HANDOFF = '/api/v1/notebook/handoff?next=%2Fuser%2F1%2Ftree';

function notebook(over: Partial<Notebook> = {}): Notebook {
  return {
    state: 'stopped',
    reason: '',
    message: '',
    resources: { cpu: '1', memory: '2Gi', gpus: 0 },
    defaults: { cpu: '1', memory: '2Gi', gpus: 0 },
    started_at: null,
    ready_at: null,
    last_activity_at: null,
    idle_timeout_seconds: 3600,
    max_age_seconds: 0,
    url: '/user/1/tree',
    restarts: 0,
    log_tail: '',
    ...over,
  };
}

const STARTING = notebook({ state: 'starting', reason: 'waiting for 2 CPUs', started_at: 1_795_927_000 });
const RUNNING = notebook({ state: 'running', started_at: 1_795_927_000, ready_at: 1_795_927_004, last_activity_at: 1_795_927_100 });

/**
 * The notebook API over a server whose GET answers the next of `reads` (the last one again and
 * again); start, stop and restart answer `changed` (or throw it when it is an error).
 */
function fakeApi(reads: Notebook[], changed: Notebook | ApiError = STARTING) {
  const queue = [...reads];
  const change = vi.fn(async () => {
    if (changed instanceof ApiError) throw changed;
    return changed;
  });
  const api: NotebookApi = {
    getNotebook: vi.fn(async () => (queue.length > 1 ? queue.shift()! : queue[0]!)),
    startNotebook: change,
    stopNotebook: vi.fn(async () => notebook({ reason: 'user' })),
    restartNotebook: change,
  };
  return api;
}

const QUOTA: AccountQuota = {
  quota: { cpu: 8, memory_bytes: 32 * GiB, gpus: null, running_jobs: null, storage_bytes: null },
  in_use: { cpu: 3, memory_bytes: 6 * GiB, gpus: 0, running_jobs: 1 },
  members: [],
};
const quotaApi = { getQuota: vi.fn(async () => QUOTA) };

let page: Mounted | undefined;
let opened: string[] = [];
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  vi.setSystemTime(1_795_927_000_000);
  opened = [];
});
afterEach(() => {
  page?.unmount();
  page = undefined;
  vi.useRealTimers();
});

async function open(api: NotebookApi): Promise<Mounted> {
  page = await mount(<NotebookPage user={USER} params={{}} api={api} quota={quotaApi} openUrl={(url) => opened.push(url)} />);
  await flush();
  return page;
}

async function pass(ms: number): Promise<void> {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
  await flush();
}

describe('NotebookPage', () => {
  it('starts a notebook that was never started, shows each step of the start, and then goes on to Jupyter', async () => {
    const api = fakeApi([notebook(), STARTING]);
    await open(api);
    expect(document.title).toBe('Notebook · PaddleCloud');
    expect(api.startNotebook).toHaveBeenCalledWith();
    expect(page!.text('notebook-progress')).toContain('Starting your notebook…');
    expect(page!.byTestId('notebook-notice')).toBeNull();
    expect(page!.byTestId('notebook-progress')?.dataset['step']).toBe('resources');
    expect(page!.text('notebook-wait-reason')).toBe('(waiting for 2 CPUs)');
    expect(page!.byTestId('notebook-step-resources')?.getAttribute('aria-current')).toBe('step');

    await pass(2_000);
    expect(api.getNotebook).toHaveBeenCalledTimes(1 + 2_000 / STARTING_REFRESH_MS);
    expect(page!.text('notebook-elapsed')).toBe('2 s');
    expect(page!.text('notebook-step-now')).toBe('Waiting for resources');
    vi.mocked(api.getNotebook).mockResolvedValue({ ...STARTING, reason: 'Starting', message: 'Jupyter is starting' });
    await pass(STARTING_REFRESH_MS);
    expect(page!.byTestId('notebook-progress')?.dataset['step']).toBe('jupyter');
    expect(page!.byTestId('notebook-step-jupyter')?.getAttribute('aria-current')).toBe('step');
    expect(page!.byTestId('notebook-step-resources')?.className).toContain('--done');
    expect(opened).toEqual([]);

    vi.mocked(api.getNotebook).mockResolvedValue(RUNNING);
    await pass(STARTING_REFRESH_MS);
    expect(opened).toEqual([HANDOFF]);
    expect(page!.byTestId('notebook-opening')).not.toBeNull();
    expect(page!.byTestId<HTMLAnchorElement>('notebook-open')?.getAttribute('href')).toBe(HANDOFF);
    await pass(10 * STARTING_REFRESH_MS);
    expect(opened).toHaveLength(1);
  });

  it('says why a notebook stopped for idleness or age, and starts it again', async () => {
    for (const [stopped, said] of [
      [notebook({ reason: 'idle', idle_timeout_seconds: 3600 }), 'Stopped after 1 h without activity; your files are kept.'],
      [notebook({ reason: 'max_age', max_age_seconds: 8 * 3600 }), 'Stopped after running 8 h, the longest a notebook may run; your files are kept.'],
    ] as const) {
      const api = fakeApi([stopped, STARTING]);
      await open(api);
      expect(api.startNotebook).toHaveBeenCalledTimes(1);
      expect(page!.text('notebook-notice')).toBe(said);
      page!.unmount();
    }
    page = undefined;
  });

  it('does not start a notebook its user stopped: Start sends the resources of the form', async () => {
    const api = fakeApi([notebook({ reason: 'user', resources: { cpu: '2', memory: '4Gi', gpus: 0 } }), STARTING, RUNNING]);
    await open(api);
    expect(api.startNotebook).not.toHaveBeenCalled();
    expect(page!.byTestId('notebook-stopped')).not.toBeNull();
    expect(page!.text('notebook-stop-notice')).toBe('You stopped your notebook; your files are kept.');
    expect(page!.byTestId('notebook-state')?.dataset['state']).toBe('stopped');
    expect(page!.byTestId<HTMLInputElement>('notebook-cpu')?.value).toBe('2');
    expect(page!.byTestId<HTMLInputElement>('notebook-memory')?.value).toBe('4Gi');
    expect(page!.container.querySelector('label[for="notebook-cpu"]')?.textContent).toBe('CPU');
    expect(page!.text('notebook-quota')).toBe('Your account’s quota: 8 cores, 32 GiB memory. In use now: 3 cores, 6.0 GiB memory, 0 GPUs.');

    await type(page!.byTestId('notebook-memory'), '3Gi');
    await submit(page!.byTestId('notebook-start-form'));
    expect(api.startNotebook).toHaveBeenCalledWith({ cpu: '2', memory: '3Gi', gpus: 0 });
    expect(page!.byTestId('notebook-progress')).not.toBeNull();
    await pass(STARTING_REFRESH_MS);
    await pass(STARTING_REFRESH_MS);
    expect(opened).toEqual([HANDOFF]);
  });

  it('shows the server’s error next to the field it names, and other errors above the form', async () => {
    const api = fakeApi([notebook({ reason: 'user' })], new ApiError(400, 'invalid_argument', "field 'memory' must be at least 256Mi", { field: 'memory' }));
    await open(api);
    await submit(page!.byTestId('notebook-start-form'));
    expect(page!.text('notebook-memory-error')).toBe('Must be at least 256Mi.');
    expect(page!.byTestId('notebook-memory')?.getAttribute('aria-invalid')).toBe('true');
    expect(page!.byTestId('notebook-stopped')).not.toBeNull();

    api.startNotebook = vi.fn(async () => {
      throw new ApiError(403, 'quota_exceeded', 'the notebook asks 1 CPU but the account has 0.5 CPU left of its quota');
    });
    await submit(page!.byTestId('notebook-start-form'));
    expect(page!.text('notebook-start-form-error-message')).toBe('The notebook asks 1 CPU but the account has 0.5 CPU left of its quota.');
  });

  it('checks the form in the browser before asking the server', async () => {
    const api = fakeApi([notebook({ reason: 'user' })]);
    await open(api);
    await type(page!.byTestId('notebook-cpu'), 'lots');
    await type(page!.byTestId('notebook-gpus'), '-1');
    await submit(page!.byTestId('notebook-start-form'));
    expect(page!.text('notebook-cpu-error')).toBe('Enter a CPU amount such as 1, 0.5 or 500m.');
    expect(page!.text('notebook-gpus-error')).toBe('Enter a whole number of GPUs (0 for none).');
    expect(api.startNotebook).not.toHaveBeenCalled();
  });

  it('shows why an automatic start failed, with the Start form', async () => {
    const api = fakeApi([notebook({ reason: 'idle' })], new ApiError(403, 'quota_exceeded', 'the account’s running jobs leave no CPU for a notebook'));
    await open(api);
    expect(api.startNotebook).toHaveBeenCalledTimes(1);
    expect(page!.text('notebook-start-error-message')).toBe('The account’s running jobs leave no CPU for a notebook.');
    expect(page!.text('notebook-stop-notice')).toBe('Stopped after 1 h without activity; your files are kept.');
    expect(page!.byTestId('notebook-start-form')).not.toBeNull();
  });

  it('shows a running notebook’s card without leaving the page: Open Jupyter, resources, times and idle timeout', async () => {
    const api = fakeApi([RUNNING]);
    await open(api);
    expect(api.startNotebook).not.toHaveBeenCalled();
    expect(opened).toEqual([]);
    expect(page!.byTestId('notebook-state')?.dataset['state']).toBe('running');
    const openLink = page!.byTestId<HTMLAnchorElement>('notebook-open')!;
    expect(openLink.getAttribute('href')).toBe(HANDOFF);
    expect(openLink.className).toBe('button');
    expect(page!.text('notebook-resources')).toBe('1 CPU, 2Gi memory, 0 GPUs');
    expect(page!.text('notebook-started-at')).not.toBe('—');
    expect(page!.text('notebook-last-activity')).not.toBe('—');
    expect(page!.text('notebook-idle-timeout')).toBe('stops after 1 h without activity');
  });

  it('stops a running notebook after asking, and then offers Start without starting it', async () => {
    const api = fakeApi([RUNNING]);
    await open(api);
    await click(page!.byTestId('notebook-stop'));
    expect(page!.byTestId('notebook-stop-dialog')).not.toBeNull();
    await click(page!.byTestId('notebook-stop-dialog-confirm'));
    expect(api.stopNotebook).toHaveBeenCalledTimes(1);
    expect(page!.byTestId('notebook-stopped')).not.toBeNull();
    expect(page!.text('notebook-stop-notice')).toBe('You stopped your notebook; your files are kept.');
    expect(api.startNotebook).not.toHaveBeenCalled();
  });

  it('restarts a running notebook with other resources and goes on to Jupyter once it runs again', async () => {
    const api = fakeApi([RUNNING], STARTING);
    await open(api);
    await click(page!.byTestId('notebook-restart'));
    expect(page!.byTestId('notebook-restart-dialog')).not.toBeNull();
    expect(opened).toEqual([]);
    await type(page!.byTestId('notebook-gpus'), '1');
    await submit(page!.byTestId('notebook-restart-form'));
    expect(api.restartNotebook).toHaveBeenCalledWith({ cpu: '1', memory: '2Gi', gpus: 1 });
    expect(opened).toEqual([]);
    expect(page!.byTestId('notebook-progress')).not.toBeNull();
    vi.mocked(api.getNotebook).mockResolvedValue(RUNNING);
    await pass(STARTING_REFRESH_MS);
    expect(opened).toEqual([HANDOFF]);
  });

  it('shows a failed notebook’s reason and the end of its log, and restarts it', async () => {
    const failed = notebook({ state: 'failed', reason: 'Error', message: 'Jupyter exited with code 1', log_tail: 'Traceback (most recent call last):\nImportError: no module named notebook\n' });
    const api = fakeApi([failed, STARTING]);
    await open(api);
    expect(api.startNotebook).not.toHaveBeenCalled();
    expect(page!.text('notebook-failure')).toBe('Error: Jupyter exited with code 1');
    const log = page!.byTestId('notebook-log')!;
    expect(log.tagName).toBe('PRE');
    expect(log.textContent).toContain('ImportError: no module named notebook');
    expect(log.getAttribute('tabindex')).toBe('0');
    expect(log.getAttribute('role')).toBe('region');
    await submit(page!.byTestId('notebook-restart-form'));
    expect(api.restartNotebook).toHaveBeenCalledWith({ cpu: '1', memory: '2Gi', gpus: 0 });
    expect(page!.byTestId('notebook-progress')).not.toBeNull();
  });

  it('watches a start made elsewhere without leaving for Jupyter when it is ready', async () => {
    const api = fakeApi([STARTING, RUNNING]);
    await open(api);
    expect(api.startNotebook).not.toHaveBeenCalled();
    expect(page!.byTestId('notebook-progress')).not.toBeNull();
    await pass(STARTING_REFRESH_MS);
    expect(page!.byTestId('notebook-running')).not.toBeNull();
    expect(opened).toEqual([]);
  });

  it('drops a status read before a change, so a slow poll does not bring back the old state', async () => {
    let answer: (n: Notebook) => void = () => {};
    const api = fakeApi([RUNNING]);
    await open(api);
    api.getNotebook = vi.fn(() => new Promise<Notebook>((resolve) => (answer = resolve)));
    await pass(10_000);
    expect(api.getNotebook).toHaveBeenCalledTimes(1);
    await click(page!.byTestId('notebook-stop'));
    await click(page!.byTestId('notebook-stop-dialog-confirm'));
    expect(page!.byTestId('notebook-stopped')).not.toBeNull();
    await act(async () => answer(RUNNING));
    await flush();
    expect(page!.byTestId('notebook-stopped')).not.toBeNull();
  });

  it('tells the navigation the state it reads', async () => {
    let shown: string | null = null;
    function Probe() {
      shown = useNotebookState();
      return null;
    }
    const probe = await mount(<Probe />);
    await open(fakeApi([RUNNING]));
    expect(shown).toBe('running');
    probe.unmount();
  });

  it('says when the notebook cannot be read, and tries again', async () => {
    const api = fakeApi([RUNNING]);
    const read = api.getNotebook;
    api.getNotebook = vi.fn(async () => {
      throw new ApiError(503, 'unavailable', 'the cluster backend is not ready');
    });
    await open(api);
    expect(page!.text('notebook-error-message')).toBe('The cluster backend is not ready.');
    api.getNotebook = read;
    await click(page!.byTestId('notebook-error')!.querySelector('button'));
    expect(page!.byTestId('notebook-running')).not.toBeNull();
  });
});
