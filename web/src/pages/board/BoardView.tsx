// The board of one or several sources (a job's board, or /board comparing jobs and runs): the union of
// their graphs, one chart per graph, the controls every chart shares (smoothing, x axis, y scale), the
// export links and, while points come in, live updates from the board stream (docs/board.md, "API").
//
// Live updates: a `points` event marks its graph; a graph marked re-reads its data at most once a
// second, when its view is not zoomed or the new steps fall inside the zoom, so zoom and smoothing
// stay. A graph or curve not seen before reads the sources' graphs again, so it appears.
import type { VNode } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { BoardApi, GraphData, SourceBoard, SourceId, StreamPoints } from '../../api/board';
import { boardExportUrl, boardStreamUrl } from '../../api/board';
import { isActive } from '../../api/jobs';
import type { ApiError } from '../../api/client';
import { ErrorBanner, isAbort, Segmented, toApiError } from '../../forms';
import { plural } from '../../format';
import { usePolling } from '../jobs/common';
import type { EventSourceLike, OpenEventSource } from '../jobs/LogConsole';
import { pointsFor } from '../perf/series';
import { BoardChart } from './BoardChart';
import { EmptyBoard } from './EmptyBoard';
import type { BoardSettings, StepRange } from './model';
import { buildChart, clampSmoothing, firstWallTimes, MAX_SMOOTHING, smoothingParam, sourceLabels, stepRangeForX, X_AXES, Y_SCALES } from './model';

/** At most one re-read of a graph (and of the graph lists) a second while points stream in. */
export const LIVE_THROTTLE_MS = 1_000;
/** How often the page reads again when the stream failed for good. */
const POLL_MS = 5_000;
/** EventSource.CLOSED: the browser gave up on the stream. */
const CLOSED = 2;

export type ViewSettings = Omit<BoardSettings, 'sources'>;

export interface BoardViewProps {
  sources: readonly SourceId[];
  /** The sources' names (a job's name, a run's name); an id stands for a source not named here. */
  names: Readonly<Record<SourceId, string>>;
  /** A job's state, for what the empty board says; absent for runs. */
  states: Readonly<Record<SourceId, string | undefined>>;
  settings: ViewSettings;
  onSettings: (change: Partial<ViewSettings>) => void;
  api: BoardApi;
  openEventSource: OpenEventSource;
  /** A job's stream ended: its last points are stored. */
  onEnded?: (source: SourceId) => void;
  /** The least time between two re-reads of a graph while points stream in (tests shorten it). */
  throttleMs?: number;
}

/** New points of a graph since its last re-read: their step range. */
interface Tick {
  n: number;
  from: number;
  to: number;
}

/** Each source's graphs (GET /jobs/{job}/board, /board/runs/{run}/board), and each one's failure. */
function useSourceBoards(api: BoardApi, sources: readonly SourceId[]) {
  const [boards, setBoards] = useState<Readonly<Record<SourceId, SourceBoard>>>({});
  const [errors, setErrors] = useState<Readonly<Record<SourceId, ApiError>>>({});
  const [loaded, setLoaded] = useState(false);
  const key = sources.join(' ');
  const load = useCallback(
    async (signal?: AbortSignal) => {
      const results = await Promise.allSettled(sources.map((source) => api.getSourceBoard(source, signal ? { signal } : undefined)));
      if (signal?.aborted) return;
      const nextBoards: Record<SourceId, SourceBoard> = {};
      const nextErrors: Record<SourceId, ApiError> = {};
      results.forEach((result, i) => {
        if (result.status === 'fulfilled') nextBoards[sources[i]!] = result.value;
        else if (!isAbort(result.reason)) nextErrors[sources[i]!] = toApiError(result.reason);
      });
      setBoards(nextBoards);
      setErrors(nextErrors);
      setLoaded(true);
    },
    [api, key],
  );
  useEffect(() => {
    setLoaded(false);
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);
  return { boards, errors, loaded, reload: load };
}

/** The graphs of the sources, each once, in the order the sources list them. */
export function graphNames(sources: readonly SourceId[], boards: Readonly<Record<SourceId, SourceBoard>>): string[] {
  const names: string[] = [];
  for (const source of sources) for (const graph of boards[source]?.graphs ?? []) if (!names.includes(graph.name)) names.push(graph.name);
  return names;
}

/** True when the boards already know the event's graph, curve and pod. */
function knows(boards: Readonly<Record<SourceId, SourceBoard>>, event: StreamPoints): boolean {
  const graph = boards[event.source]?.graphs.find((g) => g.name === event.graph);
  return graph?.curves.some((c) => c.curve === event.curve && c.pod === event.pod) ?? false;
}

function parsePoints(data: string): StreamPoints | null {
  try {
    const value = JSON.parse(data) as Partial<StreamPoints> | null;
    return value && typeof value.source === 'string' && typeof value.graph === 'string' && Array.isArray(value.step) ? (value as StreamPoints) : null;
  } catch {
    return null;
  }
}

/** The source of an `end` event; null for anything else. */
function parseEnd(data: string): SourceId | null {
  try {
    const value = JSON.parse(data) as { source?: unknown } | null;
    return typeof value?.source === 'string' ? value.source : null;
  } catch {
    return null;
  }
}

/**
 * Returns `mark(key, steps)`, which calls `fire(key, range)` with the range of the steps marked under
 * the key: at once for the first mark, then at most once every `ms` for what was marked in between.
 */
function useThrottledRanges(fire: (key: string, range: StepRange) => void, ms: number) {
  const pending = useRef(new Map<string, StepRange | null>());
  const timers = useRef(new Map<string, ReturnType<typeof setTimeout>>());
  const fireRef = useRef(fire);
  fireRef.current = fire;
  useEffect(() => () => timers.current.forEach((timer) => clearTimeout(timer)), []);
  return useCallback(
    (key: string, steps: readonly number[]) => {
      let from = Infinity;
      let to = -Infinity;
      for (const step of steps) {
        from = Math.min(from, step);
        to = Math.max(to, step);
      }
      const before = pending.current.get(key) ?? null;
      pending.current.set(key, before ? { from: Math.min(before.from, from), to: Math.max(before.to, to) } : { from, to });
      if (timers.current.has(key)) return;
      const flush = () => {
        const range = pending.current.get(key) ?? null;
        pending.current.delete(key);
        if (!range) {
          timers.current.delete(key);
          return;
        }
        fireRef.current(key, range);
        timers.current.set(key, setTimeout(flush, ms));
      };
      flush();
    },
    [ms],
  );
}

/** The stream's state: 'live' while open, 'ended' once every source has ended, 'failed' when the browser gave up. */
type StreamState = 'connecting' | 'live' | 'ended' | 'failed';

/**
 * Subscribes to the sources' board stream while the view shows them. A source has ended when the
 * stream said so (`end`) or when `finished` says so (a job known to have ended: the stream stays open
 * for its last points and its `end`); the stream is closed once every source has ended. Runs never end.
 */
function useBoardStream(
  sources: readonly SourceId[],
  open: OpenEventSource,
  finished: (source: SourceId) => boolean,
  handlers: { points: (event: StreamPoints) => void; end: (source: SourceId) => void },
): StreamState {
  const [state, setState] = useState<StreamState>('connecting');
  const [ended, setEnded] = useState<ReadonlySet<SourceId>>(new Set());
  const current = useRef({ handlers, finished });
  current.current = { handlers, finished };
  const key = sources.join(' ');
  useEffect(() => {
    if (sources.length === 0) return;
    setState('connecting');
    setEnded(new Set());
    const endedHere = new Set<SourceId>();
    const source: EventSourceLike = open(boardStreamUrl(sources));
    source.addEventListener('open', () => setState('live'));
    source.addEventListener('error', () => {
      if (source.readyState === CLOSED) setState((now) => (now === 'ended' ? now : 'failed'));
    });
    source.addEventListener('points', (event) => {
      setState((now) => (now === 'connecting' ? 'live' : now));
      const points = parsePoints(event.data);
      if (points && points.step.length > 0) current.current.handlers.points(points);
    });
    source.addEventListener('end', (event) => {
      const done = parseEnd(event.data);
      if (done === null) return;
      endedHere.add(done);
      setEnded(new Set(endedHere));
      current.current.handlers.end(done);
      if (sources.every((s) => endedHere.has(s) || current.current.finished(s))) {
        source.close();
        setState('ended');
      }
    });
    return () => source.close();
  }, [key, open]);
  return sources.every((s) => ended.has(s) || finished(s)) ? 'ended' : state;
}

/** The live part of the view: ticks per graph from the stream, the lists re-read for anything new. */
function useLiveTicks(sources: readonly SourceId[], boards: Readonly<Record<SourceId, SourceBoard>>, reload: () => void, props: Pick<BoardViewProps, 'openEventSource' | 'onEnded' | 'throttleMs' | 'states'>) {
  const [ticks, setTicks] = useState<Readonly<Record<string, Tick>>>({});
  const boardsRef = useRef(boards);
  boardsRef.current = boards;
  const tick = useCallback((graph: string, range: StepRange) => setTicks((now) => ({ ...now, [graph]: { n: (now[graph]?.n ?? 0) + 1, ...range } })), []);
  const throttleMs = props.throttleMs ?? LIVE_THROTTLE_MS;
  const markGraph = useThrottledRanges(tick, throttleMs);
  const markNew = useThrottledRanges(() => reload(), throttleMs);
  // Every graph (zoomed or not) and the lists read again: when the stream ends (the last points are
  // stored) and, without the stream, now and then.
  const refreshAll = useCallback(async () => {
    reload();
    setTicks((now) => {
      const next: Record<string, Tick> = {};
      for (const graph of graphNames(sources, boardsRef.current)) next[graph] = { n: (now[graph]?.n ?? 0) + 1, from: 0, to: Number.MAX_SAFE_INTEGER };
      return next;
    });
  }, [reload, sources.join(' ')]);
  const statesRef = useRef(props.states);
  statesRef.current = props.states;
  const state = useBoardStream(sources, props.openEventSource, (source) => !isLive(statesRef.current[source], source), {
    points: (event) => {
      if (!knows(boardsRef.current, event)) markNew('lists', event.step);
      markGraph(event.graph, event.step);
    },
    end: (source) => {
      void refreshAll();
      props.onEnded?.(source);
    },
  });
  usePolling(refreshAll, POLL_MS, state === 'failed');
  return { ticks, state };
}

export function BoardView(props: BoardViewProps): VNode {
  const { sources, names, settings, api } = props;
  const { boards, errors, loaded, reload } = useSourceBoards(api, sources);
  const reloadLists = useCallback(() => void reload(), [reload]);
  const { ticks, state } = useLiveTicks(sources, boards, reloadLists, props);
  const [origins, setOrigins] = useState<Readonly<Record<SourceId, number>>>({});
  const noteOrigins = useCallback((seen: Record<SourceId, number>) => {
    setOrigins((now) => {
      const lower = Object.entries(seen).filter(([source, t]) => !(now[source]! <= t));
      return lower.length === 0 ? now : { ...now, ...Object.fromEntries(lower) };
    });
  }, []);
  const labels = useMemo(() => (sources.length > 1 ? sourceLabels(sources, names) : null), [sources.join(' '), names]);
  const failed = Object.entries(errors);
  const graphs = graphNames(sources, boards);
  const emptySources = sources.filter((source) => boards[source] && boards[source]!.graphs.length === 0);

  if (!loaded) {
    return (
      <p class="loading" data-testid="board-loading">
        Loading the board…
      </p>
    );
  }
  if (failed.length === sources.length && failed.every(([, error]) => error.status === 404)) {
    return (
      <div class="empty" data-testid="board-not-found">
        <p class="empty__title">Board not found</p>
        <p class="empty__text">There is no such job or run in your account, or you may not see it.</p>
      </div>
    );
  }
  return (
    <div class="board" data-testid="board-view" data-sources={sources.join(' ')}>
      {failed.map(([source, error]) => (
        <ErrorBanner key={source} error={error.status === 404 ? 'not found' : error} prefix={`Could not load the board of ${names[source] ?? source}:`} testId="board-error" onRetry={reloadLists} />
      ))}
      <BoardToolbar {...props} streamState={state} />
      <SkippedNote sources={sources} boards={boards} names={labels ?? names} />
      {graphs.length === 0 ? (
        failed.length < sources.length && <EmptyBoard running={sources.some((s) => isLive(props.states[s], s))} />
      ) : (
        <>
          {emptySources.length > 0 && (
            <p class="muted board__note" data-testid="board-empty-sources">
              No graphs yet from {emptySources.map((s) => labels?.[s] ?? names[s] ?? s).join(', ')}.
            </p>
          )}
          <div class="perf-charts board__charts" data-testid="board-charts">
            {graphs.map((graph) => (
              <BoardGraph
                key={graph}
                graph={graph}
                sources={sources.filter((s) => boards[s]?.graphs.some((g) => g.name === graph))}
                allSources={sources}
                labels={labels}
                settings={settings}
                tick={ticks[graph]}
                origins={origins}
                onOrigins={noteOrigins}
                api={api}
              />
            ))}
          </div>
        </>
      )}
    </div>
  );
}

/** "fit-a-line: 3 points skipped (2 corrupt records, 1 out of order)": what the server could not keep. */
function skippedText(board: SourceBoard, name: string | null): string | null {
  const { corrupt_records: corrupt, out_of_order: outOfOrder, over_limit: overLimit } = board.skipped;
  const total = corrupt + outOfOrder + overLimit;
  if (total === 0) return null;
  const why = [
    corrupt > 0 ? plural(corrupt, 'corrupt record') : '',
    outOfOrder > 0 ? `${outOfOrder} not after their curve’s last step` : '',
    overLimit > 0 ? `${overLimit} over the pod’s limit` : '',
  ].filter((part) => part !== '');
  return `${name ? `${name}: ` : ''}${plural(total, 'point')} skipped (${why.join(', ')}).`;
}

function SkippedNote({ sources, boards, names }: { sources: readonly SourceId[]; boards: Readonly<Record<SourceId, SourceBoard>>; names: Readonly<Record<SourceId, string>> }): VNode | null {
  const lines = sources.map((s) => (boards[s] ? skippedText(boards[s]!, sources.length > 1 ? (names[s] ?? s) : null) : null)).filter((line) => line !== null);
  if (lines.length === 0) return null;
  return (
    <p class="muted board__note" data-testid="board-skipped">
      {lines.join(' ')}
    </p>
  );
}

/** A run (it may draw any time), or a job that may still draw: Pending, Running, or a state not known yet. */
function isLive(state: string | undefined, source: SourceId): boolean {
  return source.startsWith('run:') || state === undefined || isActive(state);
}

function liveText(state: StreamState): string {
  if (state === 'live') return 'Live: new points appear as training draws them.';
  if (state === 'ended') return 'Finished: these are all the points.';
  if (state === 'failed') return 'Live updates stopped: reading the board again every few seconds.';
  return 'Connecting for live updates…';
}

/** The controls every chart shares, the live state and the export links. */
function BoardToolbar({ sources, names, settings, onSettings, streamState }: BoardViewProps & { streamState: StreamState }): VNode {
  const [smoothing, setSmoothing] = useState(settings.smoothing);
  useEffect(() => setSmoothing(settings.smoothing), [settings.smoothing]);
  return (
    <div class="board-toolbar" data-testid="board-toolbar">
      <label class="board-smoothing">
        <span class="board-smoothing__label">Smoothing</span>
        <input
          type="range"
          min={0}
          max={MAX_SMOOTHING}
          step={0.01}
          value={smoothing}
          onInput={(event) => setSmoothing(clampSmoothing(Number(event.currentTarget.value)))}
          onChange={(event) => onSettings({ smoothing: clampSmoothing(Number(event.currentTarget.value)) })}
          data-testid="board-smoothing"
        />
        <output class="board-smoothing__value" data-testid="board-smoothing-value">
          {smoothing.toFixed(2)}
        </output>
      </label>
      <Segmented label="X axis" options={X_AXES} value={settings.x} onChange={(x) => onSettings({ x })} testIdPrefix="board-x" />
      <Segmented label="Y scale" options={Y_SCALES} value={settings.y} onChange={(y) => onSettings({ y })} testIdPrefix="board-y" />
      <p class="muted board-toolbar__live" data-testid="board-live" data-live={streamState === 'live' ? 'true' : 'false'}>
        {liveText(streamState)}
      </p>
      <ExportLinks sources={sources} names={names} />
    </div>
  );
}

function ExportLinks({ sources, names }: { sources: readonly SourceId[]; names: Readonly<Record<SourceId, string>> }): VNode {
  return (
    <ul class="board-export" data-testid="board-export" aria-label="Export every raw point">
      {sources.map((source) => {
        const name = sources.length > 1 ? ` of ${names[source] ?? source}` : '';
        return (
          <li key={source} class="board-export__item">
            <a class="button button--small button--secondary" href={boardExportUrl(source, 'csv')} download data-testid="board-export-csv" data-source={source}>
              Export CSV{name}
            </a>
            <a class="button button--small button--secondary" href={boardExportUrl(source, 'json')} download data-testid="board-export-json" data-source={source}>
              Export JSON{name}
            </a>
          </li>
        );
      })}
    </ul>
  );
}

interface BoardGraphProps {
  graph: string;
  /** The sources that have this graph. */
  sources: readonly SourceId[];
  /** Every source of the view, in order (their colours). */
  allSources: readonly SourceId[];
  labels: Readonly<Record<SourceId, string>> | null;
  settings: ViewSettings;
  tick: Tick | undefined;
  origins: Readonly<Record<SourceId, number>>;
  onOrigins: (origins: Record<SourceId, number>) => void;
  api: BoardApi;
}

/** A graph's data at about a point per pixel of its chart, in its zoom, read again on live ticks that concern it. */
function useGraphData({ graph, sources, settings, tick, onOrigins, api }: BoardGraphProps, zoom: StepRange | null, area: { current: HTMLElement | null }) {
  const [data, setData] = useState<GraphData | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [version, setVersion] = useState(0);
  const seen = useRef(tick?.n ?? 0);
  useEffect(() => {
    if (!tick || tick.n === seen.current) return;
    seen.current = tick.n;
    if (zoom === null || (tick.to >= zoom.from && tick.from <= zoom.to)) setVersion((v) => v + 1);
  }, [tick?.n]);
  const smoothing = smoothingParam(settings.smoothing);
  const key = sources.join(' ');
  useEffect(() => {
    const controller = new AbortController();
    const query = { sources, graph, from_step: zoom?.from, to_step: zoom?.to, points: pointsFor(area.current?.clientWidth ?? 0), smoothing };
    api.getGraphData(query, { signal: controller.signal }).then(
      (loaded) => {
        setData(loaded);
        setError(null);
        if (!zoom) onOrigins(firstWallTimes(loaded));
      },
      (err) => {
        if (!isAbort(err)) setError(toApiError(err));
      },
    );
    return () => controller.abort();
  }, [api, graph, key, smoothing, zoom?.from, zoom?.to, version]);
  return { data, error, retry: () => setVersion((v) => v + 1) };
}

function BoardGraph(props: BoardGraphProps): VNode {
  const { graph, labels, settings, origins, allSources } = props;
  const [zoom, setZoom] = useState<StepRange | null>(null);
  const area = useRef<HTMLElement>(null);
  const { data, error, retry } = useGraphData(props, zoom, area);
  const model = useMemo(
    () => (data ? buildChart({ data, x: settings.x, y: settings.y, origins, sourceNames: labels, sources: allSources }) : null),
    [data, settings.x, settings.y, origins, labels, allSources.join(' ')],
  );
  const callbacks = {
    onSelect: (a: number, b: number) => {
      const range = data ? stepRangeForX(data, settings.x, origins, a, b) : null;
      if (range) setZoom(range);
    },
    onReset: () => setZoom(null),
  };
  return (
    <figure
      class="card perf-chart board-chart"
      ref={area}
      aria-label={graph}
      data-testid="board-chart"
      data-graph={graph}
      data-points={model?.points ?? 0}
      data-zoomed={zoom ? 'true' : 'false'}
    >
      <figcaption class="perf-chart__caption">
        <h2 class="card__title perf-chart__title" data-testid="board-chart-title">
          {graph}
        </h2>
        {zoom && (
          <>
            <span class="muted perf-chart__about" data-testid="board-zoom">
              steps {zoom.from}–{zoom.to}
            </span>
            <button type="button" class="button button--small button--secondary" onClick={() => setZoom(null)} data-testid="board-zoom-reset">
              Reset zoom
            </button>
          </>
        )}
      </figcaption>
      {error && <ErrorBanner error={error} prefix="Could not load this graph." testId="board-chart-error" onRetry={retry} />}
      {model && model.leftOut > 0 && (
        <p class="muted board-chart__note" data-testid="board-log-note">
          {plural(model.leftOut, 'value')} ≤ 0 left out: a log scale cannot show them.
        </p>
      )}
      {model && data ? (
        <BoardChart graph={graph} data={data} model={model} axis={settings.x} scale={settings.y} zoomed={zoom !== null} callbacks={callbacks} />
      ) : (
        !error && <ChartLoading />
      )}
    </figure>
  );
}

function ChartLoading(): VNode {
  return (
    <p class="loading" data-testid="board-chart-loading">
      Loading…
    </p>
  );
}
