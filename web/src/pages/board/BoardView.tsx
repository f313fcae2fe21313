// The board of one or several sources (a job's board, or /board comparing jobs and runs): the union of
// their graphs, one chart per graph (BoardGraph), the controls every chart shares (smoothing, x axis,
// y scale), the export links and the live state (live.ts).
import type { VNode } from 'preact';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import type { BoardApi, SourceBoard, SourceId } from '../../api/board';
import { boardExportUrl } from '../../api/board';
import type { ApiError } from '../../api/client';
import { ErrorBanner, isAbort, Segmented, toApiError } from '../../forms';
import { plural } from '../../format';
import type { OpenEventSource } from '../jobs/LogConsole';
import { BoardGraph } from './BoardGraph';
import { EmptyBoard } from './EmptyBoard';
import type { StreamState } from './live';
import { graphNames, isLive, useLiveTicks } from './live';
import type { ViewSettings } from './model';
import { clampSmoothing, MAX_SMOOTHING, sourceLabels, X_AXES, Y_SCALES } from './model';

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

