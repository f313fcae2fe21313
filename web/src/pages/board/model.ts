// The board page's data: the page's settings as they stand in its URL, the numbers of the board API
// decoded, and what one chart draws from a graph's data (GET /board/data): its x values, its lines
// with their min..max bands, the infinities it marks at its edges. Pure functions: the page and its
// tests share them.
import type { DataSeries, GraphData, SourceId, WireNumber } from '../../api/board';
import { parseSourceId } from '../../api/board';
import { formatUptime } from '../../format';
import { podColor } from '../perf/series';

// ---- Settings (the URL's query) ---------------------------------------------------------------------

export type XAxis = 'step' | 'relative' | 'wall';
export type YScale = 'linear' | 'log';

export const X_AXES: ReadonlyArray<{ value: XAxis; label: string }> = [
  { value: 'step', label: 'Step' },
  { value: 'relative', label: 'Relative time' },
  { value: 'wall', label: 'Wall time' },
];

export const Y_SCALES: ReadonlyArray<{ value: YScale; label: string }> = [
  { value: 'linear', label: 'Linear' },
  { value: 'log', label: 'Log' },
];

/** TensorBoard's default smoothing weight. */
export const DEFAULT_SMOOTHING = 0.6;
export const MAX_SMOOTHING = 0.99;
/** The most sources one view compares (the data API's limit). */
export const MAX_SOURCES = 20;

export interface BoardSettings {
  /** Valid, distinct, in the URL's order (only /board carries them; a job's board has its own). */
  sources: SourceId[];
  smoothing: number;
  x: XAxis;
  y: YScale;
}

/** The controls a view shares (the sources are the page's). */
export type ViewSettings = Omit<BoardSettings, 'sources'>;

/** A smoothing weight within 0..0.99 on a 0.01 grid; anything unreadable is the default. */
export function clampSmoothing(value: number): number {
  if (!Number.isFinite(value)) return DEFAULT_SMOOTHING;
  return Math.round(Math.min(MAX_SMOOTHING, Math.max(0, value)) * 100) / 100;
}

/** The settings in a query string ("?source=job:12&smoothing=0.8&x=wall"); what is missing or invalid is the default. */
export function readSettings(search: string): BoardSettings {
  const params = new URLSearchParams(search);
  const sources: SourceId[] = [];
  for (const source of params.getAll('source')) {
    if (parseSourceId(source) && !sources.includes(source) && sources.length < MAX_SOURCES) sources.push(source);
  }
  const smoothingText = params.get('smoothing');
  const x = params.get('x');
  const y = params.get('y');
  return {
    sources,
    smoothing: smoothingText === null || smoothingText.trim() === '' ? DEFAULT_SMOOTHING : clampSmoothing(Number(smoothingText)),
    x: X_AXES.some((axis) => axis.value === x) ? (x as XAxis) : 'step',
    y: y === 'log' ? 'log' : 'linear',
  };
}

/** The query string of the settings ("" or "?…"), defaults left out so plain links stay plain. */
export function settingsSearch(settings: BoardSettings): string {
  const params = new URLSearchParams();
  for (const source of settings.sources) params.append('source', source);
  if (settings.smoothing !== DEFAULT_SMOOTHING) params.set('smoothing', String(settings.smoothing));
  if (settings.x !== 'step') params.set('x', settings.x);
  if (settings.y !== 'linear') params.set('y', settings.y);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

/** The data API's `smoothing`: undefined for 0 (the raw curve only). */
export function smoothingParam(smoothing: number): number | undefined {
  const w = clampSmoothing(smoothing);
  return w > 0 ? w : undefined;
}

// ---- Numbers ----------------------------------------------------------------------------------------

/** A number of the board API: "NaN", "Infinity" and "-Infinity" are the non-finite values; anything else unreadable is NaN. */
export function decodeNumber(value: WireNumber | string | null | undefined): number {
  if (typeof value === 'number') return value;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  return NaN;
}

/** A value as the readout shows it: a float32's seven significant digits, ∞ and NaN spelled out. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+∞';
  if (value === -Infinity) return '−∞';
  return String(Number(value.toPrecision(7)));
}

// ---- Zoom -------------------------------------------------------------------------------------------

/** A zoom, always in steps (inclusive), whatever the x axis: it survives a change of axis. */
export interface StepRange {
  from: number;
  to: number;
}

/** The x value of entry `i` of a series on the axis. */
function xOf(series: DataSeries, i: number, axis: XAxis, origins: Readonly<Record<SourceId, number>>): number {
  if (axis === 'step') return series.step[i]!;
  const wall = series.wall_time[i]!;
  return axis === 'wall' ? wall : wall - (origins[series.source] ?? wall);
}

/**
 * The steps that an x range [a, b] selected on the chart covers. On the step axis the whole steps in
 * it; on a time axis, through the loaded data: from the first entry at or after `a` to the last at or
 * before `b` (to the end of its bucket when the entry is a bucket), across all series. Null when no
 * entry lies in the range.
 */
export function stepRangeForX(data: GraphData, axis: XAxis, origins: Readonly<Record<SourceId, number>>, a: number, b: number): StepRange | null {
  if (axis === 'step') {
    const from = Math.ceil(Math.min(a, b));
    const to = Math.floor(Math.max(a, b));
    return to >= from ? { from: Math.max(0, from), to } : null;
  }
  let from = Infinity;
  let to = -Infinity;
  for (const series of data.series) {
    for (let i = 0; i < series.step.length; i++) {
      const x = xOf(series, i, axis, origins);
      if (x < a || x > b) continue;
      from = Math.min(from, series.step[i]!);
      to = Math.max(to, series.step[i]! + (series.exact ? 0 : Math.max(1, series.bucket_steps) - 1));
    }
  }
  return from <= to ? { from, to } : null;
}

/** The middle half of the steps the data covers (zooming in from the keyboard); null below 4 steps. */
export function middleHalf(data: GraphData): StepRange | null {
  let first = Infinity;
  let last = -Infinity;
  for (const series of data.series) {
    const n = series.step.length;
    if (n === 0) continue;
    first = Math.min(first, series.step[0]!);
    last = Math.max(last, series.step[n - 1]! + (series.exact ? 0 : Math.max(1, series.bucket_steps) - 1));
  }
  const span = last - first;
  if (!(span >= 3)) return null;
  return { from: Math.ceil(first + span / 4), to: Math.floor(last - span / 4) };
}

/** True when a step of `steps` falls inside the zoom (live points that change a zoomed view). */
export function touchesRange(steps: readonly number[], range: StepRange): boolean {
  return steps.some((step) => step >= range.from && step <= range.to);
}

/** The earliest wall time of each source in the data (the origin of its relative time). */
export function firstWallTimes(data: GraphData): Record<SourceId, number> {
  const origins: Record<SourceId, number> = {};
  for (const series of data.series) {
    const first = series.wall_time[0];
    if (first === undefined || !Number.isFinite(first)) continue;
    origins[series.source] = Math.min(origins[series.source] ?? Infinity, first);
  }
  return origins;
}

// ---- Legend -----------------------------------------------------------------------------------------

/**
 * The legend label of each series: its curve; ` · <pod>` when the same curve of the same source comes
 * from several pods; ` · <source name>` when sources are compared.
 */
export function legendLabels(series: readonly Pick<DataSeries, 'source' | 'curve' | 'pod'>[], sourceNames: Readonly<Record<SourceId, string>> | null): string[] {
  const pods = new Map<string, Set<string>>();
  for (const s of series) {
    const key = JSON.stringify([s.source, s.curve]);
    pods.set(key, (pods.get(key) ?? new Set()).add(s.pod));
  }
  return series.map((s) => {
    let label = s.curve;
    if ((pods.get(JSON.stringify([s.source, s.curve]))?.size ?? 0) > 1 && s.pod !== '') label += ` · ${s.pod}`;
    if (sourceNames) label += ` · ${sourceNames[s.source] ?? s.source}`;
    return label;
  });
}

/**
 * The names that tell compared sources apart: the source's name, with its id added when two sources
 * share a name ("fit-a-line (job:12)").
 */
export function sourceLabels(sources: readonly SourceId[], names: Readonly<Record<SourceId, string>>): Record<SourceId, string> {
  const counts = new Map<string, number>();
  for (const source of sources) {
    const name = names[source] ?? source;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const labels: Record<SourceId, string> = {};
  for (const source of sources) {
    const name = names[source] ?? source;
    labels[source] = (counts.get(name) ?? 0) > 1 && name !== source ? `${name} (${source})` : name;
  }
  return labels;
}

// ---- Chart ------------------------------------------------------------------------------------------

export type LineRole = 'raw' | 'smoothed' | 'min' | 'max';

/** One uPlot series after x, in the order of `ChartModel.data`. */
export interface LineSpec {
  label: string;
  color: string;
  role: LineRole;
  width: number;
  dash?: number[];
  /** The index of the data series it draws (into GraphData.series). */
  of: number;
}

/** An infinite value, drawn as a marker at the top (+∞) or bottom (−∞) edge of the plot. */
export interface EdgeMarker {
  x: number;
  sign: 1 | -1;
  label: string;
}

export type Cell = number | null | undefined;

export interface ChartModel {
  /** uPlot's aligned data: x first, then one array per line; undefined where a series has no entry (spanned), null for a gap. */
  data: Cell[][];
  lines: LineSpec[];
  /** uPlot bands as [upper series, lower series] indices (1-based: 0 is x). */
  bands: Array<[number, number]>;
  markers: EdgeMarker[];
  /** Entries with a value ≤ 0 that a log scale leaves out. */
  leftOut: number;
  /** The raw points the chart stands for (the sum of the entries' counts). */
  points: number;
  /** Per data series, per x index: the series' entry there, or -1. */
  entries: number[][];
}

export interface ChartInput {
  data: GraphData;
  x: XAxis;
  y: YScale;
  origins: Readonly<Record<SourceId, number>>;
  /** Per source, its name in legends; null when a single source is shown. */
  sourceNames: Readonly<Record<SourceId, string>> | null;
  /** The compared sources in order (each gets a colour); ignored when not comparing. */
  sources: readonly SourceId[];
}

/** A line's values for drawing: NaN is a gap (null), ±∞ is left to the markers, ≤ 0 is left out on a log scale. */
function drawable(value: number, log: boolean): number | null {
  if (!Number.isFinite(value)) return null;
  if (log && value <= 0) return null;
  return value;
}

/** The colour of each series: per source when comparing, else per distinct curve (and pod). */
function seriesColors(input: ChartInput): string[] {
  const keys: string[] = [];
  return input.data.series.map((s) => {
    if (input.sourceNames) return podColor(Math.max(0, input.sources.indexOf(s.source)));
    const key = JSON.stringify([s.curve, s.pod]);
    if (!keys.includes(key)) keys.push(key);
    return podColor(keys.indexOf(key));
  });
}

/** The sorted distinct x values of all series, and where each x sits. */
function joinX(xs: number[][]): { all: number[]; at: Map<number, number> } {
  const all = [...new Set(xs.flat())].sort((p, q) => p - q);
  return { all, at: new Map(all.map((x, i) => [x, i])) };
}

/** The lines of one series: raw (faded when smoothed), its band, and the smoothed line. */
function linesOf(s: DataSeries, of: number, label: string, color: string, dash: number[] | undefined): LineSpec[] {
  const smoothed = s.smoothed !== undefined;
  const lines: LineSpec[] = [{ label, color: smoothed ? `${color}66` : color, role: 'raw', width: smoothed ? 1 : 1.5, of, ...(dash ? { dash } : {}) }];
  if (!s.exact) {
    lines.push({ label: `${label} min`, color: 'transparent', role: 'min', width: 0, of }, { label: `${label} max`, color: 'transparent', role: 'max', width: 0, of });
  }
  if (smoothed) lines.push({ label: `${label} (smoothed)`, color, role: 'smoothed', width: 2.5, of, ...(dash ? { dash } : {}) });
  return lines;
}

function wireOf(s: DataSeries, role: LineRole): WireNumber[] {
  if (role === 'raw') return s.mean;
  if (role === 'smoothed') return s.smoothed ?? [];
  return role === 'min' ? s.min : s.max;
}

/** The infinities of a series as edge markers: a +∞ in max (or the value), a −∞ in min. */
function markersOf(s: DataSeries, xs: number[], label: string): EdgeMarker[] {
  const markers: EdgeMarker[] = [];
  for (let i = 0; i < xs.length; i++) {
    if (decodeNumber(s.max[i]) === Infinity) markers.push({ x: xs[i]!, sign: 1, label: `${label}: +∞ at step ${s.step[i]}` });
    if (decodeNumber(s.min[i]) === -Infinity) markers.push({ x: xs[i]!, sign: -1, label: `${label}: −∞ at step ${s.step[i]}` });
  }
  return markers;
}

/** What one chart draws from a graph's data on the chosen axes. */
export function buildChart(input: ChartInput): ChartModel {
  const { data, x, origins } = input;
  const log = input.y === 'log';
  const xs = data.series.map((s) => s.step.map((_, i) => xOf(s, i, x, origins)));
  const { all, at } = joinX(xs);
  const labels = legendLabels(data.series, input.sourceNames);
  const colors = seriesColors(input);
  const curveIndex = new Map<SourceId, string[]>();
  const model: ChartModel = { data: [all], lines: [], bands: [], markers: [], leftOut: 0, points: 0, entries: [] };
  data.series.forEach((s, of) => {
    // Compared sources share a colour: their second and later curves are dashed to tell them apart.
    const curves = curveIndex.get(s.source) ?? [];
    if (!curves.includes(s.curve)) curves.push(s.curve);
    curveIndex.set(s.source, curves);
    const dash = input.sourceNames && curves.indexOf(s.curve) > 0 ? [6, 3] : undefined;
    let min = 0;
    for (const line of linesOf(s, of, labels[of]!, colors[of]!, dash)) {
      const column: Cell[] = new Array<Cell>(all.length).fill(undefined);
      const wire = wireOf(s, line.role);
      xs[of]!.forEach((xv, i) => {
        const value = decodeNumber(wire[i]);
        if (line.role === 'raw' && log && Number.isFinite(value) && value <= 0) model.leftOut++;
        column[at.get(xv)!] = drawable(value, log);
      });
      model.lines.push(line);
      model.data.push(column);
      if (line.role === 'min') min = model.lines.length;
      if (line.role === 'max') model.bands.push([model.lines.length, min]);
    }
    const entries = new Array<number>(all.length).fill(-1);
    xs[of]!.forEach((xv, i) => (entries[at.get(xv)!] = i));
    model.entries.push(entries);
    model.markers.push(...markersOf(s, xs[of]!, labels[of]!));
    model.points += s.count.reduce((sum, n) => sum + n, 0);
  });
  return model;
}

/** The x value as the axis and readout show it. */
export function formatX(value: number, axis: XAxis): string {
  if (axis === 'step') return `step ${Math.round(value)}`;
  if (axis === 'relative') return formatUptime(value);
  return new Date(value * 1000).toLocaleString();
}

/**
 * "step 120 · cost 0.25 (min 0.1, max 0.9, 8 points), cost (smoothed) 0.3": the exact values under
 * the cursor, for the series that have an entry there.
 */
export function readout(model: ChartModel, data: GraphData, axis: XAxis, index: number | null | undefined): string {
  if (index === null || index === undefined) return '';
  const x = model.data[0]![index];
  if (x === null || x === undefined) return '';
  const parts: string[] = [];
  for (const line of model.lines) {
    if (line.role === 'min' || line.role === 'max') continue;
    const i = model.entries[line.of]![index] ?? -1;
    if (i < 0) continue;
    const s = data.series[line.of]!;
    const value = decodeNumber(line.role === 'raw' ? s.mean[i] : s.smoothed?.[i]);
    let text = `${line.label} ${formatValue(value)}`;
    if (line.role === 'raw' && !s.exact) text += ` (min ${formatValue(decodeNumber(s.min[i]))}, max ${formatValue(decodeNumber(s.max[i]))}, ${s.count[i]} points)`;
    parts.push(text);
  }
  return parts.length > 0 ? `${formatX(x, axis)} · ${parts.join(', ')}` : '';
}
