import type { VNode } from 'preact';
import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BoardApi, BoardSource, DataQuery, DataSeries, GraphData, SourceBoard } from '../../api/board';
import { boardApi } from '../../api/board';
import { ApiError } from '../../api/client';
import type { Mounted } from '../../test-utils';
import { click, fakeEventSource as fakeStream, fakeJobsApi, flush, makeJob, mount, USER } from '../../test-utils';
import { BoardPage, JobBoardPage } from './BoardPage';
import { DRAW_BOARD_SNIPPET } from './EmptyBoard';
import { exactSeries, T0 } from './test-series';

/** uPlot draws on a canvas, which happy-dom lacks: a stand-in records what the page asks of it. */
const fake = vi.hoisted(() => ({ plots: [] as FakePlotShape[] }));
interface FakePlotShape {
  opts: {
    series: Array<{ label?: string; width?: number; stroke?: string }>;
    bands: Array<{ series: [number, number] }>;
    scales: { x: { time?: boolean }; y: { distr?: number } };
    axes: Array<{ values?: (u: unknown, splits: Array<number | null>) => string[] }>;
    hooks: { setSelect: Array<(u: unknown) => void>; setCursor: Array<(u: unknown) => void> };
  };
  cursor: { idx: number | null };
  data: unknown[][];
  select: { left: number; width: number; top: number; height: number };
  destroyed: boolean;
  element: HTMLElement;
}
vi.mock('uplot', () => {
  class FakePlot {
    static pxRatio = 1;
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
    }
    setSelect(select: FakePlotShape['select']) {
      this.select = select;
    }
    /** One pixel is one unit of x. */
    posToVal(px: number) {
      return px;
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

// The live re-read throttle of the tests: long enough that two events sent back to back fall in one window even on a loaded machine.
const THROTTLE_MS = 1000;

const series = exactSeries;

function board(source: string, graphs: Array<[string, string[]]>): SourceBoard {
  return {
    source,
    graphs: graphs.map(([name, curves]) => ({
      name,
      curves: curves.map((curve) => ({ curve, pod: 'trainer-0', points: 3, first_step: 0, last_step: 2, last_value: 0.5, last_wall_time: T0 + 2 })),
    })),
    skipped: { corrupt_records: 0, out_of_order: 0, over_limit: 0 },
  };
}

const SOURCES: BoardSource[] = [
  { source: 'job:12', kind: 'job', name: 'fit-a-line', state: 'Running', created_at: T0, last_point_at: T0 + 2, curves: 3 },
  { source: 'run:4', kind: 'run', name: 'lr-sweep', created_at: T0, last_point_at: T0 + 1, curves: 1 },
];

/** The board API: `boards` per source, `data(query)` per graph. */
function fakeBoardApi(boards: Record<string, SourceBoard | ApiError>, data: (query: DataQuery) => GraphData) {
  const api: BoardApi = {
    listSources: vi.fn(async () => ({ sources: SOURCES })),
    getSourceBoard: vi.fn(async (source: string) => {
      const answer = boards[source];
      if (!answer) throw new ApiError(404, 'not_found', 'no such board');
      if (answer instanceof ApiError) throw answer;
      return answer;
    }),
    getGraphData: vi.fn(async (query: DataQuery) => data(query)),
  };
  return api;
}


const costData = (query: DataQuery): GraphData => ({
  graph: query.graph,
  series: query.sources.map((source) =>
    series({ source, pod: source.startsWith('run:') ? '' : 'trainer-0', values: [0.5, 'NaN', 0.25], ...(query.smoothing ? { smoothed: [0.5, 'NaN', 0.4] } : {}) }),
  ),
});

/** Mounts the page at `url` and lets the lists, then the graphs, load and the charts draw. */
async function mountAt(url: string, vnode: VNode): Promise<Mounted> {
  window.history.replaceState(null, '', url);
  const mounted = await mount(vnode);
  await settle();
  return mounted;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await flush();
    // The charts' effects, queued after the data arrived outside act(), run after the next frame.
    await act(() => new Promise<void>((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0))));
  }
  await flush();
}

let page: Mounted | undefined;
beforeEach(() => {
  fake.plots.length = 0;
});
afterEach(() => {
  page?.unmount();
  page = undefined;
  window.history.replaceState(null, '', '/');
});

const charts = () => [...page!.container.querySelectorAll<HTMLElement>('[data-testid="board-chart"]')];
const chartOf = (graph: string) => charts().find((el) => el.dataset['graph'] === graph);
const plotOf = (graph: string) => {
  const element = chartOf(graph)?.querySelector('[data-testid="board-plot"]');
  const found = fake.plots.filter((p) => !p.destroyed && p.element === element);
  expect(found).toHaveLength(1);
  return found[0]!;
};
const legend = (graph: string) => [...(chartOf(graph)?.querySelectorAll('[data-testid="board-legend-item"]') ?? [])].map((li) => li.textContent);
const runningJob = makeJob({ id: 12, name: 'fit-a-line', state: 'Running' });
const jobs = (job = runningJob) => fakeJobsApi({ getJob: async () => job });

describe('JobBoardPage', () => {
  it('draws one chart per graph, smoothed by default, with NaN as a gap', async () => {
    const api = fakeBoardApi({ 'job:12': board('job:12', [['cost', ['cost']], ['train_cost, test_cost', ['train_cost', 'test_cost']]]) }, costData);
    const stream = fakeStream();
    page = await mountAt('/jobs/12/board', <JobBoardPage user={USER} params={{ id: '12' }} api={api} jobs={jobs()} openEventSource={stream.open} />);

    expect(document.title).toBe('Board of fit-a-line · Jobs · PaddleCloud');
    expect(page.text('board-title')).toBe('Board of fit-a-line');
    expect(page.text('crumb-current')).toBe('Board');
    expect(charts().map((el) => el.dataset['graph'])).toEqual(['cost', 'train_cost, test_cost']);
    expect(api.getGraphData).toHaveBeenCalledWith({ sources: ['job:12'], graph: 'cost', from_step: undefined, to_step: undefined, points: 500, smoothing: 0.6 }, expect.anything());
    // Two finite points (the NaN counts for nothing).
    expect(chartOf('cost')?.dataset['points']).toBe('2');
    expect(chartOf('cost')?.querySelector('[data-testid="board-summary"]')?.textContent).toBe('cost: last 0.25 at step 2.');
    expect(legend('cost')).toEqual(['cost']);
    const plot = plotOf('cost');
    expect(plot.opts.series.map((s) => [s.label, s.width])).toEqual([
      [undefined, undefined],
      ['cost', 1],
      ['cost (smoothed)', 2.5],
    ]);
    expect(plot.data[1]).toEqual([0.5, null, 0.25]);
    expect(page.byTestId('board-skipped')).toBeNull();
    expect(stream.opened).toEqual(['/api/v1/board/stream?source=job%3A12']);
    expect(page.byTestId('board-export-csv')?.getAttribute('href')).toBe('/api/v1/jobs/12/board/export?format=csv');
    expect(page.byTestId('board-export-json')?.getAttribute('href')).toBe('/api/v1/jobs/12/board/export?format=json');

    // Hovering reads out the exact values under the cursor.
    plot.cursor.idx = 2;
    await act(async () => plot.opts.hooks.setCursor[0]!(plot));
    expect(chartOf('cost')?.querySelector('[data-testid="board-readout"]')?.textContent).toBe('step 2 · cost 0.25, cost (smoothed) 0.4');
  });

  it('explains draw_board when the job has drawn nothing yet, with a snippet to copy', async () => {
    const writeText = vi.fn(async () => undefined);
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } });
    const api = fakeBoardApi({ 'job:12': board('job:12', []) }, costData);
    page = await mountAt('/jobs/12/board', <JobBoardPage user={USER} params={{ id: '12' }} api={api} jobs={jobs()} openEventSource={fakeStream().open} />);

    expect(page.byTestId('board-empty')).not.toBeNull();
    expect(page.text('board-empty-live')).toContain('appear here as soon as the training code draws them');
    expect(page.text('board-snippet-text')).toContain('draw_board(cost)');
    expect(page.text('board-snippet-logwriter-text')).toContain('LogWriter');
    await click(page.byTestId('board-snippet-copy'));
    expect(writeText).toHaveBeenCalledWith(DRAW_BOARD_SNIPPET);
    expect(page.text('board-snippet-copy')).toBe('Copied');
    vi.unstubAllGlobals();
  });

  it('says the job is not found when it answers 404', async () => {
    const api = fakeBoardApi({}, costData);
    const missing = fakeJobsApi({
      getJob: async () => {
        throw new ApiError(404, 'not_found', 'no such job');
      },
    });
    page = await mountAt('/jobs/99/board', <JobBoardPage user={USER} params={{ id: '99' }} api={api} jobs={missing} openEventSource={fakeStream().open} />);
    expect(page.byTestId('job-not-found')).not.toBeNull();
  });

  it('re-reads the smoothed data when the slider moves, and keeps the settings in the address', async () => {
    const api = fakeBoardApi({ 'job:12': board('job:12', [['cost', ['cost']]]) }, costData);
    page = await mountAt('/jobs/12/board', <JobBoardPage user={USER} params={{ id: '12' }} api={api} jobs={jobs()} openEventSource={fakeStream().open} />);

    const slider = page.byTestId<HTMLInputElement>('board-smoothing')!;
    expect(slider.value).toBe('0.6');
    expect(slider.closest('label')?.textContent).toContain('Smoothing');
    await act(async () => {
      slider.value = '0.85';
      slider.dispatchEvent(new Event('input', { bubbles: true }));
      slider.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await settle();
    expect(window.location.search).toBe('?smoothing=0.85');
    expect(page.text('board-smoothing-value')).toBe('0.85');
    expect(api.getGraphData).toHaveBeenLastCalledWith(expect.objectContaining({ smoothing: 0.85 }), expect.anything());

    // No smoothing: the raw curve alone, drawn at full strength.
    await act(async () => {
      slider.value = '0';
      slider.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await settle();
    expect(api.getGraphData).toHaveBeenLastCalledWith(expect.objectContaining({ smoothing: undefined }), expect.anything());
    expect(plotOf('cost').opts.series.map((s) => [s.label, s.width])).toEqual([
      [undefined, undefined],
      ['cost', 1.5],
    ]);

    // Wall time on x (a time scale), log on y.
    await click(page.byTestId('board-x-wall'));
    await click(page.byTestId('board-y-log'));
    await settle();
    expect(window.location.search).toBe('?smoothing=0&x=wall&y=log');
    // Comparing from here keeps the settings.
    expect(page.byTestId('board-compare-link')?.getAttribute('href')).toBe('/board?source=job%3A12&smoothing=0&x=wall&y=log');
    expect(plotOf('cost').opts.scales.x.time).toBe(true);
    expect(plotOf('cost').opts.scales.y.distr).toBe(3);
    expect(plotOf('cost').data[0]).toEqual([T0, T0 + 1, T0 + 2]);
  });

  it('zooms into the steps of a drag, on any x axis, and resets', async () => {
    const api = fakeBoardApi({ 'job:12': board('job:12', [['cost', ['cost']]]) }, (query) => ({
      graph: query.graph,
      series: [series({ values: [1, 2, 3, 4, 5], step: [0, 10, 20, 30, 40] })],
    }));
    page = await mountAt('/jobs/12/board?x=relative', <JobBoardPage user={USER} params={{ id: '12' }} api={api} jobs={jobs()} openEventSource={fakeStream().open} />);

    // Relative time: the points are 0, 10, …, 40 s after the first; select 5..25 s.
    const plot = plotOf('cost');
    expect(plot.data[0]).toEqual([0, 10, 20, 30, 40]);
    plot.select = { left: 5, width: 20, top: 0, height: 100 };
    await act(async () => plot.opts.hooks.setSelect[0]!(plot));
    await settle();
    expect(api.getGraphData).toHaveBeenLastCalledWith(expect.objectContaining({ from_step: 10, to_step: 20 }), expect.anything());
    expect(chartOf('cost')?.dataset['zoomed']).toBe('true');
    expect(page.text('board-zoom')).toBe('steps 10–20');

    await click(page.byTestId('board-zoom-reset'));
    await settle();
    expect(api.getGraphData).toHaveBeenLastCalledWith(expect.objectContaining({ from_step: undefined, to_step: undefined }), expect.anything());
    expect(chartOf('cost')?.dataset['zoomed']).toBe('false');

    // From the keyboard: the middle half of the steps shown.
    await click(page.byTestId('board-zoom-in'));
    await settle();
    expect(api.getGraphData).toHaveBeenLastCalledWith(expect.objectContaining({ from_step: 10, to_step: 30 }), expect.anything());
  });

  it('draws a min..max band behind bucketed data and flags infinities and log-scale left-outs', async () => {
    const bucketed: DataSeries = {
      ...series({ values: [-1, 2] }),
      exact: false,
      bucket_steps: 100,
      step: [0, 100],
      min: [-5, 1],
      max: [3, 'Infinity'],
      count: [100, 100],
    };
    const api = fakeBoardApi({ 'job:12': board('job:12', [['cost', ['cost']]]) }, () => ({ graph: 'cost', series: [bucketed] }));
    page = await mountAt('/jobs/12/board?smoothing=0&y=log', <JobBoardPage user={USER} params={{ id: '12' }} api={api} jobs={jobs()} openEventSource={fakeStream().open} />);

    const plot = plotOf('cost');
    expect(plot.opts.bands.map((band) => band.series)).toEqual([[3, 2]]);
    expect(chartOf('cost')?.dataset['points']).toBe('200');
    expect(chartOf('cost')?.querySelector('[data-testid="board-infinities"]')?.textContent).toContain('cost: +∞ at step 100');
    expect(chartOf('cost')?.querySelector('[data-testid="board-log-note"]')?.textContent).toBe('1 value ≤ 0 left out: a log scale cannot show them.');
    // A log axis has splits without a label (null).
    expect(plot.opts.axes[1]!.values!(plot, [null, 0.1, 1, null])).toEqual(['', '0.1', '1', '']);
  });

  it('appends live points: re-reads a graph at most once a second, and reads the graphs again for a new one', async () => {
    const boards: Record<string, SourceBoard> = { 'job:12': board('job:12', [['cost', ['cost']]]) };
    const api = fakeBoardApi(boards, costData);
    const stream = fakeStream();
    page = await mountAt('/jobs/12/board', <JobBoardPage user={USER} params={{ id: '12' }} api={api} jobs={jobs()} openEventSource={stream.open} throttleMs={THROTTLE_MS} />);
    const reads = () => vi.mocked(api.getGraphData).mock.calls.filter(([query]) => query.graph === 'cost').length;
    expect(reads()).toBe(1);

    const points = (graph: string, step: number) => ({ source: 'job:12', graph, curve: graph, pod: 'trainer-0', step: [step], value: [0.1], wall_time: [T0 + step] });
    await stream.emit('points', points('cost', 3));
    await settle();
    expect(reads()).toBe(2);
    expect(page.byTestId('board-live')?.dataset['live']).toBe('true');
    await stream.emit('points', points('cost', 4));
    await stream.emit('points', points('cost', 5));
    await settle();
    expect(reads()).toBe(2);
    await act(() => new Promise<void>((resolve) => setTimeout(resolve, THROTTLE_MS + 20)));
    await settle();
    expect(reads()).toBe(3);

    // A graph not seen before: the graphs are read again and it appears.
    boards['job:12'] = board('job:12', [['cost', ['cost']], ['acc', ['acc']]]);
    await stream.emit('points', points('acc', 0));
    await settle();
    expect(api.getSourceBoard).toHaveBeenCalledTimes(2);
    expect(charts().map((el) => el.dataset['graph'])).toEqual(['cost', 'acc']);

    // The job ends: the stream closes and the job is read again.
    await stream.emit('end', { source: 'job:12' });
    expect(stream.closed()).toBe(true);
    expect(page.byTestId('board-live')?.dataset['live']).toBe('false');
  });

  it('keeps a zoomed view while live points land outside it', async () => {
    const api = fakeBoardApi({ 'job:12': board('job:12', [['cost', ['cost']]]) }, costData);
    const stream = fakeStream();
    page = await mountAt('/jobs/12/board', <JobBoardPage user={USER} params={{ id: '12' }} api={api} jobs={jobs()} openEventSource={stream.open} throttleMs={THROTTLE_MS} />);
    const plot = plotOf('cost');
    plot.select = { left: 0, width: 1.5, top: 0, height: 100 };
    // Narrower than a drag: a click, not a zoom.
    await act(async () => plot.opts.hooks.setSelect[0]!(plot));
    expect(chartOf('cost')?.dataset['zoomed']).toBe('false');
    plot.select = { left: 0, width: 10, top: 0, height: 100 };
    await act(async () => plot.opts.hooks.setSelect[0]!(plot));
    await settle();
    const calls = vi.mocked(api.getGraphData).mock.calls.length;

    await stream.emit('points', { source: 'job:12', graph: 'cost', curve: 'cost', pod: 'trainer-0', step: [50], value: [1], wall_time: [T0 + 50] });
    await settle();
    expect(vi.mocked(api.getGraphData).mock.calls.length).toBe(calls);
    await act(() => new Promise<void>((resolve) => setTimeout(resolve, THROTTLE_MS + 20)));
    await stream.emit('points', { source: 'job:12', graph: 'cost', curve: 'cost', pod: 'trainer-0', step: [7], value: [1], wall_time: [T0 + 7] });
    await settle();
    expect(api.getGraphData).toHaveBeenLastCalledWith(expect.objectContaining({ from_step: 0, to_step: 10 }), expect.anything());
  });
});

describe('BoardPage', () => {
  it('lists the sources and compares the ones picked, naming each in the legend', async () => {
    const api = fakeBoardApi({ 'job:12': board('job:12', [['cost', ['cost']]]), 'run:4': board('run:4', [['cost', ['cost']]]) }, costData);
    const stream = fakeStream();
    page = await mountAt('/board', <BoardPage user={USER} params={{}} api={api} openEventSource={stream.open} />);

    expect(document.title).toBe('Board · PaddleCloud');
    const rows = [...page.container.querySelectorAll<HTMLElement>('[data-testid="board-source"]')];
    expect(rows.map((row) => row.dataset['name'])).toEqual(['fit-a-line', 'lr-sweep']);
    expect(page.byTestId<HTMLButtonElement>('board-compare')?.disabled).toBe(true);
    for (const row of rows) await click(row.querySelector<HTMLInputElement>('[data-testid="board-source-check"]'));
    expect(page.text('board-compare')).toBe('Compare 2 boards');
    await click(page.byTestId('board-compare'));
    await settle();

    expect(window.location.pathname).toBe('/board');
    expect(window.location.search).toBe('?source=job%3A12&source=run%3A4');
    expect(api.getGraphData).toHaveBeenCalledWith(expect.objectContaining({ sources: ['job:12', 'run:4'], graph: 'cost' }), expect.anything());
    expect(legend('cost')).toEqual(['cost · fit-a-line', 'cost · lr-sweep']);
    const colors = plotOf('cost').opts.series.slice(1).map((s) => s.stroke);
    expect(new Set(colors.map((c) => c!.slice(0, 7))).size).toBe(2);
    expect(stream.opened).toEqual(['/api/v1/board/stream?source=job%3A12&source=run%3A4']);
    expect([...page.container.querySelectorAll('[data-testid="board-export-csv"]')].map((a) => a.getAttribute('href'))).toEqual([
      '/api/v1/jobs/12/board/export?format=csv',
      '/api/v1/board/runs/4/board/export?format=csv',
    ]);
  });

  it('says which compared source has no graphs yet, and which could not be read', async () => {
    const skipping = { ...board('job:12', [['cost', ['cost']]]), skipped: { corrupt_records: 1, out_of_order: 2, over_limit: 0 } };
    const api = fakeBoardApi({ 'job:12': skipping, 'run:4': board('run:4', []), 'job:13': new ApiError(500, 'internal', 'the store broke') }, costData);
    page = await mountAt('/board?source=job:12&source=run:4&source=job:13', <BoardPage user={USER} params={{}} api={api} openEventSource={fakeStream().open} />);

    expect(page.text('board-empty-sources')).toBe('No graphs yet from lr-sweep.');
    expect(page.text('board-skipped')).toBe('fit-a-line: 3 points skipped (1 corrupt record, 2 not after their curve’s last step).');
    expect(page.text('board-error')).toContain('Could not load the board of job:13:');
    expect(page.text('board-error-message')).toBe('The store broke.');
    expect(charts()).toHaveLength(1);
  });
});

describe('the end of live updates', () => {
  it('comes when every compared job has ended: a job stopped already counts as ended', async () => {
    const api = fakeBoardApi({ 'job:12': board('job:12', [['cost', ['cost']]]), 'job:13': board('job:13', [['cost', ['cost']]]) }, costData);
    api.listSources = vi.fn(async () => ({ sources: [SOURCES[0]!, { ...SOURCES[0]!, source: 'job:13', name: 'fit-a-line-2', state: 'Stopped' }] }));
    const stream = fakeStream();
    page = await mountAt('/board?source=job:12&source=job:13', <BoardPage user={USER} params={{}} api={api} openEventSource={stream.open} />);

    await stream.emit('open', null);
    expect(page.byTestId('board-live')?.dataset['live']).toBe('true');
    await stream.emit('end', { source: 'job:12' });
    await settle();
    expect(stream.closed()).toBe(true);
    expect(page.text('board-live')).toBe('Finished: these are all the points.');
  });

  it('is there from the start for a job that has ended, and a run keeps the stream open', async () => {
    const finished = makeJob({ id: 12, name: 'fit-a-line', state: 'Succeeded' });
    const api = fakeBoardApi({ 'job:12': board('job:12', [['cost', ['cost']]]) }, costData);
    const stream = fakeStream();
    page = await mountAt('/jobs/12/board', <JobBoardPage user={USER} params={{ id: '12' }} api={api} jobs={jobs(finished)} openEventSource={stream.open} />);
    expect(page.text('board-live')).toBe('Finished: these are all the points.');
    page.unmount();

    const runs = fakeBoardApi({ 'job:12': board('job:12', [['cost', ['cost']]]), 'run:4': board('run:4', [['cost', ['cost']]]) }, costData);
    const runStream = fakeStream();
    page = await mountAt('/board?source=job:12&source=run:4', <BoardPage user={USER} params={{}} api={runs} openEventSource={runStream.open} />);
    await runStream.emit('open', null);
    await runStream.emit('end', { source: 'job:12' });
    expect(runStream.closed()).toBe(false);
    expect(page.byTestId('board-live')?.dataset['live']).toBe('true');
  });
});

describe('the board over the real API client (mocked fetch)', () => {
  it('asks the API’s paths and says “not found” for a source that answers 404', async () => {
    const asked: string[] = [];
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        asked.push(url);
        if (url === '/api/v1/board/sources') return new Response(JSON.stringify({ sources: [] }), { status: 200 });
        return new Response(JSON.stringify({ error: { code: 'not_found', message: 'no such run' } }), { status: 404 });
      }),
    );
    page = await mountAt('/board?source=run:7', <BoardPage user={USER} params={{}} api={boardApi} openEventSource={fakeStream().open} />);
    expect(asked.sort()).toEqual(['/api/v1/board/runs/7/board', '/api/v1/board/sources']);
    expect(page.byTestId('board-not-found')).not.toBeNull();
    vi.unstubAllGlobals();
  });

  it('reads the data with repeated sources and decodes non-finite values', async () => {
    const asked: string[] = [];
    const answers: Record<string, unknown> = {
      '/api/v1/board/sources': { sources: SOURCES },
      '/api/v1/jobs/12/board': board('job:12', [['cost', ['cost']]]),
    };
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        asked.push(url);
        if (url.startsWith('/api/v1/board/data?')) return new Response(JSON.stringify({ graph: 'cost', series: [series({ values: ['Infinity', 'NaN', 2] })] }), { status: 200 });
        return new Response(JSON.stringify(answers[url]), { status: 200 });
      }),
    );
    page = await mountAt('/board?source=job:12&smoothing=0', <BoardPage user={USER} params={{}} api={boardApi} openEventSource={fakeStream().open} />);
    expect(asked).toContain('/api/v1/board/data?source=job%3A12&graph=cost&points=500');
    expect(plotOf('cost').data[1]).toEqual([null, null, 2]);
    expect(chartOf('cost')?.querySelector('[data-testid="board-infinities"]')?.textContent).toBe('cost: +∞ at step 0');
    vi.unstubAllGlobals();
  });
});
