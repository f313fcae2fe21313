import type { VNode } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../api/client';
import type { JobUsage, MetricSeries, PodUsage, UsageQuery } from '../../api/usage';
import type { Mounted } from '../../test-utils';
import { click, fakeEventSource as fakeStream, fakeJobsApi, flush, makeJob, mount, USER } from '../../test-utils';
import type { PerfApi } from './PerfPage';
import { PerfPage } from './PerfPage';

/** uPlot draws on a canvas, which happy-dom lacks: a stand-in records what the page asks of it. */
const fake = vi.hoisted(() => ({ plots: [] as FakePlotShape[] }));
interface FakePlotShape {
  opts: {
    series: Array<{ label?: string; dash?: number[] }>;
    bands: unknown[];
    hooks: { setSelect: Array<(u: unknown) => void>; setCursor: Array<(u: unknown) => void> };
  };
  cursor: { idx: number | null };
  data: unknown[][];
  scales: Array<{ min: number; max: number }>;
  /** setData and setScale calls in order. */
  ops: string[];
  select: { left: number; width: number; top: number; height: number };
  destroyed: boolean;
  element: HTMLElement;
  posToVal: (px: number) => number;
}
vi.mock('uplot', () => {
  class FakePlot {
    static pxRatio = 1;
    scales: Array<{ min: number; max: number }> = [];
    ops: string[] = [];
    cursor = { idx: null as number | null };
    select = { left: 0, width: 0, top: 0, height: 0 };
    destroyed = false;
    constructor(
      public opts: FakePlotShape['opts'],
      public data: unknown[][],
      public element: HTMLElement,
    ) {
      fake.plots.push(this as unknown as FakePlotShape);
    }
    setData(data: unknown[][]) {
      this.data = data;
      this.ops.push('setData');
    }
    setScale(_key: string, limits: { min: number; max: number }) {
      this.scales.push(limits);
      this.ops.push(`setScale ${limits.min}..${limits.max}`);
    }
    setSelect(select: FakePlotShape['select']) {
      this.select = select;
    }
    /** One pixel is one second from T0. */
    posToVal(px: number) {
      return T0 / 1000 + px;
    }
    valToPos() {
      return 0;
    }
    setSize() {}
    destroy() {
      this.destroyed = true;
    }
  }
  return { default: FakePlot };
});

const T0 = 1_795_927_010_000;

const series = (mean: Array<number | null>): MetricSeries => ({
  min: mean.map((v) => (v === null ? null : v * 0.9)),
  max: mean.map((v) => (v === null ? null : v * 1.1)),
  mean,
});

function pod(name: string, role: string, over: Partial<PodUsage> = {}): PodUsage {
  return {
    name,
    role,
    phase: 'Running',
    requests: { cpu: 1, memory_bytes: 1_073_741_824, gpus: 0 },
    limits: { cpu: 1, memory_bytes: 1_073_741_824, gpus: 0 },
    metrics: {
      cpu_cores: series([0.5, null, 0.98]),
      memory_working_set_bytes: series([1e8, 2e8, 3e8]),
      oom_kills: series([0, 0, 0]),
      disk_read_bytes_per_s: series([0, 1000, 0]),
      disk_write_bytes_per_s: series([0, 0, 5000]),
    },
    oom_kill_times: [],
    not_measured: '',
    ...over,
  };
}

function usage(over: Partial<JobUsage> = {}): JobUsage {
  return {
    job: 3,
    state: 'Succeeded',
    interval_ms: 5000,
    from: T0,
    to: T0 + 10_000,
    bucket_ms: 5000,
    t: [T0, T0 + 5000, T0 + 10_000],
    pods: [pod('fit-3-trainer-0', 'trainer'), pod('fit-3-pserver-0', 'pserver')],
    job_total: { metrics: { cpu_cores: series([1, null, 1.96]), memory_working_set_bytes: series([2e8, 4e8, 6e8]) } },
    network: { metrics: { network_rx_bytes_per_s: series([1e6, 2e6, 3e6]), network_tx_bytes_per_s: series([1e5, 2e5, 3e5]) }, not_measured: '' },
    ...over,
  };
}

const finishedJob = makeJob({ id: 3, name: 'fit', state: 'Succeeded', started_at: T0 / 1000, finished_at: T0 / 1000 + 3_600 });
const runningJob = makeJob({ id: 3, name: 'fit', state: 'Running', started_at: T0 / 1000, finished_at: null });

function perfApi(answer: (query: UsageQuery) => JobUsage | Promise<JobUsage>, job = finishedJob) {
  const jobs = fakeJobsApi({ getJob: async () => job });
  const api: PerfApi = { getJob: jobs.getJob, getJobUsage: vi.fn(async (_id: number, query?: UsageQuery) => answer(query ?? {})) };
  return api;
}


/** Mounts the page and lets the job, then its usage, load and the charts draw. */
async function mountPerf(vnode: VNode): Promise<Mounted> {
  const mounted = await mount(vnode);
  await flush();
  // The charts' effects, queued after the usage arrived outside act(), run after the next frame.
  await act(() => new Promise<void>((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))));
  await flush();
  return mounted;
}

let page: Mounted | undefined;
afterEach(() => {
  page?.unmount();
  page = undefined;
  fake.plots.length = 0;
});

const chart = (id: string) => page!.byTestId(`chart-${id}`);
/** The live chart drawn into the chart's plot element. */
const plotOf = (id: string) => {
  const element = page!.byTestId(`chart-${id}-plot`);
  const found = fake.plots.filter((p) => !p.destroyed && p.element === element);
  expect(found).toHaveLength(1);
  return found[0]!;
};

describe('PerfPage', () => {
  it('draws CPU, memory, network and disk per pod and for the whole job, with limits and min/max bands', async () => {
    const api = perfApi(() => usage());
    page = await mountPerf(<PerfPage user={USER} params={{ id: '3' }} api={api} />);

    expect(api.getJobUsage).toHaveBeenCalledWith(3, { points: 500 }, expect.anything());
    expect(document.title).toBe('Performance of fit · Jobs · PaddleCloud');
    const crumbs = [...page.container.querySelectorAll('[data-testid="crumb"]')].map((a) => a.getAttribute('href'));
    expect(crumbs).toEqual(['/dashboard', '/jobs/3']);
    expect(page.text('crumb-current')).toBe('Performance');
    const ids = [...page.container.querySelectorAll<HTMLElement>('.perf-chart')].map((el) => el.dataset['testid']);
    expect(ids).toEqual(['chart-cpu', 'chart-memory', 'chart-network', 'chart-disk-read', 'chart-disk-write']);
    // The buckets with a value: the second bucket has CPU for nobody.
    expect(chart('cpu')?.dataset['points']).toBe('2');
    expect(chart('memory')?.dataset['points']).toBe('3');
    expect(page.text('chart-cpu-summary')).toContain('trainer-0: latest 0.98 cores, peak 1.08 cores');
    expect(page.byTestId('chart-cpu-plot')?.getAttribute('role')).toBe('img');
    expect(page.byTestId('chart-cpu-plot')?.getAttribute('aria-describedby')).toBe('chart-cpu-summary');

    const cpu = plotOf('cpu');
    const labels = cpu.opts.series.map((s) => s.label);
    expect(labels).toContain('trainer-0');
    expect(labels).toContain('Whole job');
    expect(cpu.opts.series.find((s) => s.label === 'trainer-0 limit')?.dash).toEqual([6, 4]);
    // trainer-0, pserver-0 and the whole job each have a band.
    expect(cpu.opts.bands).toHaveLength(3);
    expect(page.byTestId('chart-gpu-utilization')).toBeNull();

    // Hovering shows the values under the cursor, formatted.
    cpu.cursor.idx = 2;
    await act(async () => cpu.opts.hooks.setCursor[0]!(cpu));
    expect(page.text('chart-cpu-readout')).toMatch(/ · trainer-0 0\.98 cores, pserver-0 0\.98 cores, Whole job 1\.96 cores$/);
    cpu.cursor.idx = null;
    await act(async () => cpu.opts.hooks.setCursor[0]!(cpu));
    expect(page.text('chart-cpu-readout')).toBe('');
  });

  it('draws the GPU charts when a pod has GPUs, marks OOM kills, and says why the network was not measured', async () => {
    const gpuPod = pod('fit-3-trainer-0', 'trainer', {
      requests: { cpu: 1, memory_bytes: 1e9, gpus: 1 },
      limits: { cpu: 1, memory_bytes: 1e9, gpus: 1 },
      oom_kill_times: [T0 + 5000],
      metrics: {
        cpu_cores: series([0.5, null, 0.98]),
        memory_working_set_bytes: series([1e8, 2e8, 3e8]),
        gpu_utilization_percent: series([10, 50, 90]),
        gpu_memory_used_bytes: series([1e9, 2e9, 3e9]),
      },
    });
    const api = perfApi(() => usage({ pods: [gpuPod], network: { metrics: {}, not_measured: 'the job runs in the host network' } }));
    page = await mountPerf(<PerfPage user={USER} params={{ id: '3' }} api={api} />);

    expect(chart('gpu-utilization')).not.toBeNull();
    expect(chart('gpu-memory')).not.toBeNull();
    expect(page.text('chart-network-not-measured')).toBe('Not measured: the job runs in the host network');
    // No pod has disk numbers: a note instead of an empty chart.
    expect(page.text('chart-disk-read-empty')).toBe('No samples of this in the window.');
    expect(page.text('chart-memory-marks')).toMatch(/^OOM kill in trainer-0 at/);
  });

  it('asks again for a range, and for a dragged window at finer resolution; reset zoom goes back', async () => {
    const api = perfApi(() => usage());
    page = await mountPerf(<PerfPage user={USER} params={{ id: '3' }} api={api} />);

    await click(page.byTestId('perf-range-15m'));
    const end = finishedJob.finished_at! * 1000;
    expect(api.getJobUsage).toHaveBeenLastCalledWith(3, { from: end - 15 * 60_000, points: 500 }, expect.anything());
    expect(page.byTestId('perf-range-15m')?.getAttribute('aria-pressed')).toBe('true');

    // Drag from 100 px to 160 px: 100 s to 160 s after T0 (the stand-in's scale).
    const cpu = plotOf('cpu');
    cpu.select = { left: 100, width: 60, top: 0, height: 220 };
    await act(async () => cpu.opts.hooks.setSelect[0]!(cpu));
    await flush();
    expect(api.getJobUsage).toHaveBeenLastCalledWith(3, { from: T0 + 100_000, to: T0 + 160_000, points: 500 }, expect.anything());
    expect(page.byTestId('perf-charts')?.dataset['zoomed']).toBe('true');
    expect(plotOf('cpu').scales.at(-1)).toEqual({ min: T0 / 1000 + 100, max: T0 / 1000 + 160 });

    await click(page.byTestId('perf-zoom-reset'));
    expect(api.getJobUsage).toHaveBeenLastCalledWith(3, { from: end - 15 * 60_000, points: 500 }, expect.anything());
    expect(page.byTestId('perf-zoom-reset')).toBeNull();
  });

  it('zooms in from the keyboard to the middle half of the view', async () => {
    const api = perfApi(() => usage({ t: [T0, T0 + 40_000, T0 + 80_000] }));
    page = await mountPerf(<PerfPage user={USER} params={{ id: '3' }} api={api} />);
    await click(page.byTestId('perf-zoom-in'));
    expect(api.getJobUsage).toHaveBeenLastCalledWith(3, { from: T0 + 20_000, to: T0 + 60_000, points: 500 }, expect.anything());
  });

  it('appends live samples while the job runs, keeping the zoom, and reads again at the end', async () => {
    const api = perfApi(() => usage({ state: 'Running' }), runningJob);
    const stream = fakeStream();
    page = await mountPerf(<PerfPage user={USER} params={{ id: '3' }} api={api} openEventSource={stream.open} />);
    expect(stream.opened).toEqual(['/api/v1/jobs/3/usage/stream']);
    expect(page.byTestId('perf-live')?.dataset['live']).toBe('true');
    expect(chart('cpu')?.dataset['points']).toBe('2');

    await stream.emit('sample', { t: T0 + 15_000, pods: { 'fit-3-trainer-0': { cpu_cores: 1.2 }, 'fit-3-pserver-0': { cpu_cores: 0.3 } }, network: {} });
    expect(chart('cpu')?.dataset['points']).toBe('3');
    expect(plotOf('cpu').data[0]).toHaveLength(4);
    expect(page.text('chart-cpu-summary')).toContain('trainer-0: latest 1.2 cores');
    expect(page.text('chart-cpu-summary')).toContain('Whole job: latest 1.5 cores');
    // A repeated sample adds nothing.
    await stream.emit('sample', { t: T0 + 15_000, pods: { 'fit-3-trainer-0': { cpu_cores: 9 } } });
    expect(chart('cpu')?.dataset['points']).toBe('3');

    // Zoom (the stand-in server answers the same 3 buckets), then a sample: the view stays on the
    // zoomed window and nothing is asked again.
    const cpu = plotOf('cpu');
    cpu.select = { left: 0, width: 10, top: 0, height: 220 };
    await act(async () => cpu.opts.hooks.setSelect[0]!(cpu));
    await flush();
    const asked = vi.mocked(api.getJobUsage).mock.calls.length;
    await stream.emit('sample', { t: T0 + 20_000, pods: { 'fit-3-trainer-0': { cpu_cores: 1.1 } } });
    expect(vi.mocked(api.getJobUsage).mock.calls.length).toBe(asked);
    expect(chart('cpu')?.dataset['points']).toBe('3');
    expect(plotOf('cpu').data[0]).toHaveLength(4);
    expect(plotOf('cpu').ops.slice(-2)).toEqual(['setData', `setScale ${T0 / 1000}..${T0 / 1000 + 10}`]);
    expect(page.byTestId('perf-zoom-reset')).not.toBeNull();

    // A pod not seen yet: ask again.
    await stream.emit('sample', { t: T0 + 25_000, pods: { 'fit-3-trainer-1': { cpu_cores: 1 } } });
    expect(vi.mocked(api.getJobUsage).mock.calls.length).toBe(asked + 1);

    await stream.emit('end', {});
    expect(stream.closed()).toBe(true);
    expect(vi.mocked(api.getJobUsage).mock.calls.length).toBe(asked + 2);
    // The job is read again at the end (its end time, its state).
    expect(api.getJob).toHaveBeenCalledTimes(2);
  });

  it('reads the usage again every interval when the stream fails for good', async () => {
    const api = perfApi(() => usage({ state: 'Running' }), runningJob);
    const stream = fakeStream();
    page = await mountPerf(<PerfPage user={USER} params={{ id: '3' }} api={api} openEventSource={stream.open} />);
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const asked = vi.mocked(api.getJobUsage).mock.calls.length;
      // A reconnecting stream (readyState CONNECTING) is left to the browser.
      await stream.emit('error', null);
      await act(async () => {
        await vi.advanceTimersByTimeAsync(5_000);
      });
      expect(vi.mocked(api.getJobUsage).mock.calls.length).toBe(asked);
      await stream.fail();
      await act(async () => {
        await vi.advanceTimersByTimeAsync(5_000);
      });
      await flush();
      expect(vi.mocked(api.getJobUsage).mock.calls.length).toBe(asked + 1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('toggles a pod in the legend', async () => {
    const api = perfApi(() => usage());
    page = await mountPerf(<PerfPage user={USER} params={{ id: '3' }} api={api} />);
    const box = page.byTestId<HTMLInputElement>('perf-series-fit-3-trainer-0')!;
    expect(box.checked).toBe(true);
    await click(box);
    expect(plotOf('cpu').opts.series.map((s) => s.label)).not.toContain('trainer-0');
    expect(plotOf('cpu').opts.series.map((s) => s.label)).toContain('pserver-0');
    expect(page.text('chart-cpu-summary')).not.toContain('trainer-0');
  });

  it('says when there are no samples yet', async () => {
    const api = perfApi(
      () => usage({ state: 'Pending', t: [], pods: [], job_total: { metrics: {} }, network: { metrics: {}, not_measured: '' } }),
      makeJob({ id: 3, state: 'Pending', started_at: null }),
    );
    page = await mountPerf(<PerfPage user={USER} params={{ id: '3' }} api={api} />);
    expect(page.text('perf-empty')).toMatch(/^No samples yet\./);
    expect(page.byTestId('perf-charts')).toBeNull();
  });

  it('shows a failed load with a retry, and a job it may not see as not found', async () => {
    let fail = true;
    const api = perfApi(() => {
      if (fail) throw new ApiError(500, 'internal', 'the time-series store is unreadable');
      return usage();
    });
    page = await mountPerf(<PerfPage user={USER} params={{ id: '3' }} api={api} />);
    expect(page.text('perf-error-message')).toBe('The time-series store is unreadable.');
    fail = false;
    await click(page.byTestId('perf-error')!.querySelector('button'));
    expect(page.byTestId('perf-error')).toBeNull();
    expect(chart('cpu')).not.toBeNull();
    page.unmount();

    const hidden = fakeJobsApi({
      getJob: async () => {
        throw new ApiError(404, 'not_found', 'no such job');
      },
    });
    page = await mountPerf(<PerfPage user={USER} params={{ id: '4' }} api={{ getJob: hidden.getJob, getJobUsage: vi.fn() }} />);
    expect(page.byTestId('job-not-found')).not.toBeNull();
  });

  it.each(['abc', '1e3', '-1', '0', '3.5', '../3', '99999999999999999999'])('treats the job id %s as no job, asking nothing', async (id) => {
    const api = perfApi(() => usage());
    page = await mountPerf(<PerfPage user={USER} params={{ id }} api={api} />);
    expect(page.byTestId('job-not-found')).not.toBeNull();
    expect(api.getJob).not.toHaveBeenCalled();
    expect(api.getJobUsage).not.toHaveBeenCalled();
  });
});
