// One chart of the perf page, drawn with uPlot: each line's mean with a faint min..max band around it
// (so a spike inside a bucket stays visible), dashed bounds, red marks for events (OOM kills).
// Dragging across the plot asks the page to zoom to that time window. The figure carries a text
// summary of the latest and peak values as its description, for screen readers.
import type { VNode } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatClock } from '../../format';
import type { ChartModel, TimeWindow } from './series';
import { summarize } from './series';
import { followWidth } from '../../uplot-size';

export const CHART_HEIGHT = 220;

/** A drag narrower than this (CSS px) is a click, not a zoom. */
const MIN_DRAG_PX = 4;

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

/** uPlot's data: x in seconds, then per line its mean, and min and max when it has a band. */
function alignedData(model: ChartModel): uPlot.AlignedData {
  const data: Array<Array<number | null>> = [model.t.map((ms) => ms / 1000)];
  for (const line of model.lines) {
    data.push(line.values);
    if (line.band) data.push(line.band.min, line.band.max);
  }
  return data as uPlot.AlignedData;
}

/** The series and the bands (min..max) of the model's lines, in the order of `alignedData`. */
function seriesOf(model: ChartModel): { series: uPlot.Series[]; bands: uPlot.Band[] } {
  const series: uPlot.Series[] = [{}];
  const bands: uPlot.Band[] = [];
  for (const line of model.lines) {
    series.push({ label: line.label, stroke: line.color, width: line.dashed ? 1 : 1.5, ...(line.dashed ? { dash: [6, 4] } : {}), points: { show: false } });
    if (!line.band) continue;
    const min = series.length;
    const hidden: uPlot.Series = { label: `${line.label} min`, stroke: 'transparent', width: 0, points: { show: false } };
    series.push(hidden, { ...hidden, label: `${line.label} max` });
    bands.push({ series: [min + 1, min], fill: `${line.color}26` });
  }
  return { series, bands };
}

/** Draws a red vertical line at each mark inside the x range. */
function marksPlugin(model: ChartModel): uPlot.Plugin {
  return {
    hooks: {
      draw: (u: uPlot) => {
        const { ctx, bbox } = u;
        ctx.save();
        ctx.strokeStyle = cssVar('--color-bad', '#b91c1c');
        ctx.lineWidth = 2 * uPlot.pxRatio;
        for (const mark of model.marks) {
          const x = u.valToPos(mark.t / 1000, 'x', true);
          if (x < bbox.left || x > bbox.left + bbox.width) continue;
          ctx.beginPath();
          ctx.moveTo(x, bbox.top);
          ctx.lineTo(x, bbox.top + bbox.height);
          ctx.stroke();
        }
        ctx.restore();
      },
    },
  };
}

/** "14:03:07 · trainer-0 0.98 cores, Whole job 1.5 cores": the values under the cursor. */
export function readout(model: ChartModel, index: number | null | undefined): string {
  if (index === null || index === undefined || model.t[index] === undefined) return '';
  const values = model.lines.filter((line) => !line.dashed).map((line) => `${line.label} ${model.spec.format(line.values[index] ?? null)}`);
  return `${formatClock(new Date(model.t[index]!))} · ${values.join(', ')}`;
}

function options(model: ChartModel, width: number, onZoom: (window: TimeWindow) => void, onCursor: (index: number | null | undefined) => void): uPlot.Options {
  const muted = cssVar('--color-text-muted', '#5b6678');
  const grid = cssVar('--color-border', '#dde3ec');
  const { series, bands } = seriesOf(model);
  const format = model.spec.format;
  return {
    width,
    height: CHART_HEIGHT,
    series,
    bands,
    legend: { show: false },
    cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
    scales: { x: { time: true } },
    axes: [
      { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } },
      {
        stroke: muted,
        grid: { stroke: grid, width: 1 },
        ticks: { stroke: grid, width: 1 },
        size: 80,
        values: (_u, splits) => splits.map((v) => format(v)),
      },
    ],
    plugins: [marksPlugin(model)],
    hooks: {
      setCursor: [(u: uPlot) => onCursor(u.cursor.idx)],
      setSelect: [
        (u: uPlot) => {
          const { left, width: dragged } = u.select;
          if (dragged < MIN_DRAG_PX) return;
          const from = Math.round(u.posToVal(left, 'x') * 1000);
          const to = Math.round(u.posToVal(left + dragged, 'x') * 1000);
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          if (to > from) onZoom({ from, to });
        },
      ],
    },
  };
}

/** What decides the chart's series: a change rebuilds the chart, anything else only sets its data. */
function shapeOf(model: ChartModel): string {
  return JSON.stringify([model.spec.id, model.lines.map((line) => [line.key, line.color, line.dashed ?? false, line.band !== undefined]), model.marks]);
}

export function UsageChart({ model, zoom, onZoom }: { model: ChartModel; zoom: TimeWindow | null; onZoom: (window: TimeWindow) => void }): VNode {
  const plotRef = useRef<HTMLDivElement>(null);
  const readoutRef = useRef<HTMLParagraphElement>(null);
  const chart = useRef<uPlot | null>(null);
  const onZoomRef = useRef(onZoom);
  onZoomRef.current = onZoom;
  const modelRef = useRef(model);
  modelRef.current = model;
  const shape = shapeOf(model);
  const id = `chart-${model.spec.id}`;

  useEffect(() => {
    const element = plotRef.current;
    if (!element) return;
    const width = element.clientWidth || 600;
    // The readout is written straight into its element: the cursor moves too often for re-renders.
    const showReadout = (index: number | null | undefined) => {
      if (readoutRef.current) readoutRef.current.textContent = readout(modelRef.current, index);
    };
    const plot = new uPlot(options(model, width, (window) => onZoomRef.current(window), showReadout), alignedData(model), element);
    chart.current = plot;
    const stop = followWidth(plot, element, CHART_HEIGHT);
    return () => {
      stop();
      chart.current = null;
    };
    // The chart is rebuilt only when its shape changes; the effect below keeps its data current.
  }, [shape]);

  useEffect(() => {
    const plot = chart.current;
    if (!plot) return;
    plot.setData(alignedData(model));
    // Live samples extend the data past a zoomed window: the view stays where the person put it.
    if (zoom) plot.setScale('x', { min: zoom.from / 1000, max: zoom.to / 1000 });
  }, [model, zoom]);

  return (
    <figure class="card perf-chart" aria-labelledby={`${id}-title`} data-testid={id} data-points={model.points}>
      <figcaption class="perf-chart__caption">
        <h2 class="card__title perf-chart__title" id={`${id}-title`}>
          {model.spec.title}
        </h2>
        <p class="perf-chart__about muted">{model.spec.about}</p>
      </figcaption>
      <div
        class="perf-chart__plot"
        ref={plotRef}
        role="img"
        aria-label={`${model.spec.title} chart: ${model.spec.about}`}
        aria-describedby={`${id}-summary`}
        data-testid={`${id}-plot`}
      />
      <p class="perf-chart__readout" ref={readoutRef} aria-hidden="true" data-testid={`${id}-readout`} />
      <p class="perf-chart__summary" id={`${id}-summary`} data-testid={`${id}-summary`}>
        {summarize(model)}
      </p>
      {model.marks.length > 0 && (
        <ul class="perf-chart__marks" data-testid={`${id}-marks`}>
          {model.marks.map((mark) => (
            <li key={`${mark.t}-${mark.label}`} data-testid="chart-mark">
              {mark.label} at <time dateTime={new Date(mark.t).toISOString()}>{formatClock(new Date(mark.t))}</time>
            </li>
          ))}
        </ul>
      )}
    </figure>
  );
}
