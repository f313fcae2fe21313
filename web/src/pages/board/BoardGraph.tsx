// One graph of the board: its data (GET /board/data for the sources that have it) at about one point
// per pixel, its zoom (kept in steps: a drag selects x, mapped to steps through the loaded data), read
// again on the live ticks that concern it, and its chart.
import type { VNode } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { BoardApi, GraphData, SourceId } from '../../api/board';
import type { ApiError } from '../../api/client';
import { ErrorBanner, isAbort, toApiError } from '../../forms';
import { plural } from '../../format';
import { pointsFor } from '../perf/series';
import { BoardChart } from './BoardChart';
import type { Tick } from './live';
import type { StepRange, ViewSettings } from './model';
import { buildChart, firstWallTimes, middleHalf, smoothingParam, stepRangeForX } from './model';

export interface BoardGraphProps {
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

export function BoardGraph(props: BoardGraphProps): VNode {
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
        <button
          type="button"
          class="button button--small button--secondary"
          disabled={!data || middleHalf(data) === null}
          onClick={() => setZoom(data && middleHalf(data))}
          aria-label={`Zoom in on ${graph}`}
          data-testid="board-zoom-in"
        >
          Zoom in
        </button>
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
