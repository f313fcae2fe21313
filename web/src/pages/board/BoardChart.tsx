// One graph of the board, drawn with uPlot: each curve's line (the mean of a bucket when the data is
// not exact) with its min..max band behind it, the smoothed curve bold over a faded raw curve, and the
// infinities as triangles at the plot's top or bottom edge. Dragging across the plot selects an x
// range to zoom into; a double-click resets. The readout under the plot gives the exact values under
// the cursor; the legend lists the curves.
import type { VNode } from 'preact';
import { useEffect, useId, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { GraphData } from '../../api/board';
import { formatUptime } from '../../format';
import type { ChartModel, EdgeMarker, XAxis, YScale } from './model';
import { decodeNumber, formatValue, readout } from './model';
import { followWidth } from '../../uplot-size';

export const CHART_HEIGHT = 240;

/** A drag narrower than this (CSS px) is a click, not a zoom. */
const MIN_DRAG_PX = 4;

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

/** Triangles at the top edge (+∞) and the bottom edge (−∞) of the plot. */
function markersPlugin(markers: () => readonly EdgeMarker[]): uPlot.Plugin {
  return {
    hooks: {
      draw: (u: uPlot) => {
        const { ctx, bbox } = u;
        const size = 6 * uPlot.pxRatio;
        ctx.save();
        ctx.fillStyle = cssVar('--color-bad', '#b91c1c');
        for (const marker of markers()) {
          const x = u.valToPos(marker.x, 'x', true);
          if (x < bbox.left || x > bbox.left + bbox.width) continue;
          const edge = marker.sign > 0 ? bbox.top : bbox.top + bbox.height;
          const tip = marker.sign > 0 ? edge + size : edge - size;
          ctx.beginPath();
          ctx.moveTo(x - size, edge);
          ctx.lineTo(x + size, edge);
          ctx.lineTo(x, tip);
          ctx.closePath();
          ctx.fill();
        }
        ctx.restore();
      },
    },
  };
}

function xAxisValues(axis: XAxis): uPlot.Axis['values'] {
  if (axis === 'relative') return (_u, splits) => splits.map((v) => (v === null || v === undefined ? '' : formatUptime(v)));
  if (axis === 'step') return (_u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : ''));
  return undefined;
}

export interface ChartCallbacks {
  /** A drag selected the x range [a, b] (in the axis' units). */
  onSelect: (a: number, b: number) => void;
  onReset: () => void;
  onCursor: (index: number | null | undefined) => void;
}

function options(model: ChartModel, axis: XAxis, scale: YScale, width: number, markers: () => readonly EdgeMarker[], on: ChartCallbacks): uPlot.Options {
  const muted = cssVar('--color-text-muted', '#5b6678');
  const grid = cssVar('--color-border', '#dde3ec');
  const series: uPlot.Series[] = [{}];
  for (const line of model.lines) {
    series.push({ label: line.label, stroke: line.color, width: line.width, points: { show: false }, ...(line.dash ? { dash: line.dash } : {}) });
  }
  const bands: uPlot.Band[] = model.bands.map(([upper, lower]) => ({ series: [upper, lower], fill: `${colorOfBand(model, upper)}26` }));
  return {
    width,
    height: CHART_HEIGHT,
    series,
    bands,
    legend: { show: false },
    cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
    scales: { x: { time: axis === 'wall' }, y: scale === 'log' ? { distr: 3 } : {} },
    axes: [
      { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, ...(xAxisValues(axis) ? { values: xAxisValues(axis)! } : {}) },
      // A log scale's splits hold nulls where no label goes.
      { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, size: 70, values: (_u, splits) => splits.map((v) => (v === null || v === undefined ? '' : formatValue(v))) },
    ],
    plugins: [markersPlugin(markers)],
    hooks: {
      setCursor: [(u: uPlot) => on.onCursor(u.cursor.idx)],
      setSelect: [
        (u: uPlot) => {
          const { left, width: dragged } = u.select;
          if (dragged < MIN_DRAG_PX) return;
          const a = u.posToVal(left, 'x');
          const b = u.posToVal(left + dragged, 'x');
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          if (b > a) on.onSelect(a, b);
        },
      ],
      ready: [(u: uPlot) => u.over.addEventListener('dblclick', () => on.onReset())],
    },
  };
}

/** The band's colour: that of the raw line of the same series. */
function colorOfBand(model: ChartModel, upper: number): string {
  const of = model.lines[upper - 1]!.of;
  const raw = model.lines.find((line) => line.of === of && line.role !== 'min' && line.role !== 'max');
  return (raw?.color ?? '#64748b').slice(0, 7);
}

/** What decides the chart's series: a change rebuilds the chart, anything else only sets its data. */
function shapeOf(model: ChartModel, axis: XAxis, scale: YScale): string {
  return JSON.stringify([axis, scale, model.lines.map((line) => [line.label, line.color, line.role, line.width, line.dash ?? null]), model.bands]);
}

/** "cost: last 0.25 at step 1199": the chart's text alternative. */
function summarize(data: GraphData, model: ChartModel): string {
  const parts: string[] = [];
  for (const line of model.lines) {
    if (line.role !== 'raw') continue;
    const s = data.series[line.of]!;
    for (let i = s.step.length - 1; i >= 0; i--) {
      const value = decodeNumber(s.last[i]);
      if (Number.isNaN(value)) continue;
      const where = s.exact ? `at step ${s.step[i]}` : `in steps ${s.step[i]}–${s.step[i]! + Math.max(1, s.bucket_steps) - 1}`;
      parts.push(`${line.label}: last ${formatValue(value)} ${where}`);
      break;
    }
  }
  return parts.length > 0 ? `${parts.join('; ')}.` : 'No finite values in this range.';
}

export interface BoardChartProps {
  graph: string;
  data: GraphData;
  model: ChartModel;
  axis: XAxis;
  scale: YScale;
  zoomed: boolean;
  callbacks: Omit<ChartCallbacks, 'onCursor'>;
}

export function BoardChart({ graph, data, model, axis, scale, zoomed, callbacks }: BoardChartProps): VNode {
  const plotRef = useRef<HTMLDivElement>(null);
  const readoutRef = useRef<HTMLParagraphElement>(null);
  const chart = useRef<uPlot | null>(null);
  const current = useRef({ data, model, callbacks });
  current.current = { data, model, callbacks };
  const shape = shapeOf(model, axis, scale);
  const summaryId = useId();

  useEffect(() => {
    const element = plotRef.current;
    if (!element) return;
    const width = element.clientWidth || 600;
    const on: ChartCallbacks = {
      onSelect: (a, b) => current.current.callbacks.onSelect(a, b),
      onReset: () => current.current.callbacks.onReset(),
      // The readout is written straight into its element: the cursor moves too often for re-renders.
      onCursor: (index) => {
        if (readoutRef.current) readoutRef.current.textContent = readout(current.current.model, current.current.data, axis, index);
      },
    };
    const plot = new uPlot(options(model, axis, scale, width, () => current.current.model.markers, on), model.data as uPlot.AlignedData, element);
    chart.current = plot;
    const stop = followWidth(plot, element, CHART_HEIGHT);
    return () => {
      stop();
      chart.current = null;
    };
    // The chart is rebuilt only when its shape changes; the effect below keeps its data current.
  }, [shape]);

  useEffect(() => {
    chart.current?.setData(model.data as uPlot.AlignedData);
  }, [model]);

  const raw = model.lines.filter((line) => line.role === 'raw');
  return (
    <div class="board-chart__body">
      <div
        class="perf-chart__plot board-chart__plot"
        ref={plotRef}
        role="img"
        aria-label={`${graph} chart${zoomed ? ' (zoomed)' : ''}`}
        aria-describedby={summaryId}
        data-testid="board-plot"
      />
      <p class="perf-chart__readout" ref={readoutRef} aria-hidden="true" data-testid="board-readout" />
      <ul class="board-legend" data-testid="board-legend">
        {raw.map((line) => (
          <li key={line.label} class="board-legend__item" data-testid="board-legend-item">
            <span class="perf-swatch" style={{ background: line.color.slice(0, 7) }} aria-hidden="true" />
            {line.label}
          </li>
        ))}
      </ul>
      <p class="perf-chart__summary" id={summaryId} data-testid="board-summary">
        {summarize(data, model)}
      </p>
      {model.markers.length > 0 && (
        <ul class="perf-chart__marks" data-testid="board-infinities">
          {model.markers.slice(0, 5).map((marker) => (
            <li key={`${marker.x}-${marker.label}`}>{marker.label}</li>
          ))}
          {model.markers.length > 5 && <li>and {model.markers.length - 5} more infinite values (marked at the plot’s edge)</li>}
        </ul>
      )}
    </div>
  );
}
