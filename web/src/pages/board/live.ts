// The board's live updates (docs/board.md, "API": GET /board/stream): a `points` event marks its
// graph, and a graph marked is read again at most once a second (BoardGraph skips a tick outside its
// zoom); a graph or curve not seen before reads the sources' graphs again, so it appears. When the
// stream fails for good, everything is read again every few seconds instead.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { SourceBoard, SourceId, StreamPoints } from '../../api/board';
import { boardStreamUrl } from '../../api/board';
import { isActive } from '../../api/jobs';
import { usePolling } from '../jobs/common';
import type { EventSourceLike, OpenEventSource } from '../jobs/LogConsole';
import type { StepRange } from './model';

/** At most one re-read of a graph (and of the graph lists) a second while points stream in. */
export const LIVE_THROTTLE_MS = 1_000;
/** How often the page reads again when the stream failed for good. */
const POLL_MS = 5_000;
/** EventSource.CLOSED: the browser gave up on the stream. */
const CLOSED = 2;

/** New points of a graph since its last re-read: their step range. */
export interface Tick {
  n: number;
  from: number;
  to: number;
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
export type StreamState = 'connecting' | 'live' | 'ended' | 'failed';

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
export interface LiveOptions {
  openEventSource: OpenEventSource;
  /** A job's state (absent for runs): a job known to have ended counts as ended. */
  states: Readonly<Record<SourceId, string | undefined>>;
  onEnded?: ((source: SourceId) => void) | undefined;
  throttleMs?: number | undefined;
}

export function useLiveTicks(sources: readonly SourceId[], boards: Readonly<Record<SourceId, SourceBoard>>, reload: () => void, props: LiveOptions) {
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

/** A run (it may draw any time), or a job that may still draw: Pending, Running, or a state not known yet. */
export function isLive(state: string | undefined, source: SourceId): boolean {
  return source.startsWith('run:') || state === undefined || isActive(state);
}

