// The perf page's data: what the charts draw from a job's usage (GET /api/v1/jobs/{job}/usage),
// live samples appended to it, and the time windows of the range selector. Pure functions: the
// page and its tests share them.
import type { JobUsage, Metrics, MetricSeries, PodUsage, UsageSample } from '../../api/usage';
import { formatCores, formatPercent, formatRate, formatSize } from '../../format';

/** A time window in unix ms. */
export interface TimeWindow {
  from: number;
  to: number;
}

export type RangeKey = '15m' | '1h' | '6h' | '24h' | 'all';

export const RANGES: ReadonlyArray<{ value: RangeKey; label: string; ms: number | null }> = [
  { value: '15m', label: 'Last 15 min', ms: 15 * 60_000 },
  { value: '1h', label: '1 h', ms: 3_600_000 },
  { value: '6h', label: '6 h', ms: 6 * 3_600_000 },
  { value: '24h', label: '24 h', ms: 24 * 3_600_000 },
  { value: 'all', label: 'Whole job', ms: null },
];

/**
 * The `from` of a range preset: that long before the job's end (or now while it runs), never before
 * it started; undefined for the whole job (the server's default).
 */
export function rangeStart(range: RangeKey, job: { started_at: number | null; submitted_at: number; finished_at: number | null }, nowMs: number): number | undefined {
  const ms = RANGES.find((r) => r.value === range)?.ms ?? null;
  if (ms === null) return undefined;
  const end = job.finished_at !== null ? job.finished_at * 1000 : nowMs;
  const start = (job.started_at ?? job.submitted_at) * 1000;
  const from = end - ms;
  return from <= start ? undefined : from;
}

/** How many points to ask for: about one per pixel of the chart, within the server's 1..5000. */
export function pointsFor(widthPx: number): number {
  if (!Number.isFinite(widthPx) || widthPx <= 0) return 500;
  return Math.max(50, Math.min(5000, Math.round(widthPx)));
}

// ---- Live samples ----------------------------------------------------------------------------------

const WHOLE_JOB = '';

function pushed(series: MetricSeries | undefined, length: number, value: number | null): MetricSeries {
  const pad = (values: Array<number | null> | undefined) => {
    const out = values ? values.slice(0, length) : [];
    while (out.length < length) out.push(null);
    out.push(value);
    return out;
  };
  return { min: pad(series?.min), max: pad(series?.max), mean: pad(series?.mean) };
}

/** `metrics` with one more bucket: `values[name]` (null for a metric the sample lacks). */
function appendMetrics(metrics: Metrics, values: Record<string, number | null>, length: number): Metrics {
  const out: Metrics = {};
  for (const name of new Set([...Object.keys(metrics), ...Object.keys(values)])) {
    out[name] = pushed(metrics[name], length, values[name] ?? null);
  }
  return out;
}

function lastValue(values: Array<number | null> | undefined): number | null {
  for (let i = (values?.length ?? 0) - 1; i >= 0; i--) {
    const v = values![i];
    if (v !== null && v !== undefined) return v;
  }
  return null;
}

/** The pods' values summed per metric (null where no pod has one). */
function sumOfPods(sample: UsageSample): Record<string, number | null> {
  const sums: Record<string, number | null> = {};
  for (const values of Object.values(sample.pods)) {
    for (const [name, value] of Object.entries(values)) {
      if (value === null || value === undefined) sums[name] ??= null;
      else sums[name] = (sums[name] ?? 0) + value;
    }
  }
  return sums;
}

/**
 * The usage with one live sample appended as a bucket of its own (min = max = mean); an OOM kill
 * counter that went up marks an OOM kill at the sample's time. Returns null when the sample names a
 * pod the usage does not know (the caller reads the usage again) and the usage unchanged for a sample
 * not after its last bucket (a repeat).
 */
export function appendSample(usage: JobUsage, sample: UsageSample): JobUsage | null {
  if (Object.keys(sample.pods).some((name) => !usage.pods.some((pod) => pod.name === name))) return null;
  const length = usage.t.length;
  if (length > 0 && sample.t <= usage.t[length - 1]!) return usage;
  const pods: PodUsage[] = usage.pods.map((pod) => {
    const values = sample.pods[pod.name] ?? {};
    const before = lastValue(pod.metrics['oom_kills']?.mean);
    const after = values['oom_kills'];
    const killed = before !== null && after !== null && after !== undefined && after > before;
    return {
      ...pod,
      metrics: appendMetrics(pod.metrics, values, length),
      oom_kill_times: killed ? [...pod.oom_kill_times, sample.t] : pod.oom_kill_times,
    };
  });
  return {
    ...usage,
    to: Math.max(usage.to, sample.t),
    t: [...usage.t, sample.t],
    pods,
    job_total: { metrics: appendMetrics(usage.job_total.metrics, sumOfPods(sample), length) },
    network: { ...usage.network, metrics: appendMetrics(usage.network.metrics, sample.network ?? {}, length) },
  };
}

// ---- Charts -------------------------------------------------------------------------------------

export type ChartId = 'cpu' | 'memory' | 'gpu-utilization' | 'gpu-memory' | 'network' | 'disk-read' | 'disk-write';

export interface ChartSpec {
  id: ChartId | (string & {});
  title: string;
  /** What the chart shows, for the chart's description. */
  about: string;
  format: (value: number | null) => string;
}

/** One drawn line: a mean with its min..max band, or a dashed bound (a limit). */
export interface Line {
  key: string;
  label: string;
  color: string;
  values: Array<number | null>;
  band?: { min: Array<number | null>; max: Array<number | null> };
  dashed?: boolean;
}

/** An event marked on a chart (an OOM kill). */
export interface Mark {
  t: number;
  label: string;
}

export interface ChartModel {
  spec: ChartSpec;
  /** Bucket times, unix ms. */
  t: number[];
  lines: Line[];
  marks: Mark[];
  /** Buckets where a drawn line has a value. */
  points: number;
}

const PALETTE = ['#2563eb', '#db2777', '#059669', '#d97706', '#7c3aed', '#0891b2', '#dc2626', '#65a30d'];
export const WHOLE_JOB_COLOR = '#64748b';

/** The colour of the pod at `index` of the usage's pods. */
export function podColor(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

/** The legend's key of the whole-job series. */
export const WHOLE_JOB_KEY = WHOLE_JOB;

const SPECS: Record<ChartId, ChartSpec> = {
  cpu: { id: 'cpu', title: 'CPU', about: 'CPU used, in cores; dashed: the limit', format: formatCores },
  memory: { id: 'memory', title: 'Memory', about: 'memory working set; dashed: the limit; red marks: OOM kills', format: formatSize },
  'gpu-utilization': { id: 'gpu-utilization', title: 'GPU utilisation', about: 'mean utilisation of the pod’s GPUs', format: formatPercent },
  'gpu-memory': { id: 'gpu-memory', title: 'GPU memory', about: 'GPU memory used; dashed: the GPUs’ total', format: formatSize },
  network: { id: 'network', title: 'Network', about: 'bytes received and sent per second by the whole job', format: formatRate },
  'disk-read': { id: 'disk-read', title: 'Disk read', about: 'bytes read per second', format: formatRate },
  'disk-write': { id: 'disk-write', title: 'Disk write', about: 'bytes written per second', format: formatRate },
};

/** Per-pod charts: the metric drawn, and the bound drawn dashed (a constant limit or another metric). */
const POD_CHARTS: ReadonlyArray<{ id: ChartId; metric: string; limit?: (pod: PodUsage) => number | null; limitMetric?: string }> = [
  { id: 'cpu', metric: 'cpu_cores', limit: (pod) => pod.limits.cpu || null },
  { id: 'memory', metric: 'memory_working_set_bytes', limit: (pod) => pod.limits.memory_bytes || null },
  { id: 'gpu-utilization', metric: 'gpu_utilization_percent' },
  { id: 'gpu-memory', metric: 'gpu_memory_used_bytes', limitMetric: 'gpu_memory_total_bytes' },
  { id: 'disk-read', metric: 'disk_read_bytes_per_s' },
  { id: 'disk-write', metric: 'disk_write_bytes_per_s' },
];

/** True when a pod of the job asked for GPUs: only then are the GPU charts drawn. */
export function hasGpus(usage: JobUsage): boolean {
  return usage.pods.some((pod) => pod.requests.gpus > 0 || pod.limits.gpus > 0);
}

function countPoints(t: number[], lines: Line[]): number {
  let n = 0;
  for (let i = 0; i < t.length; i++) {
    if (lines.some((line) => !line.dashed && line.values[i] !== null && line.values[i] !== undefined)) n++;
  }
  return n;
}

const constant = (length: number, value: number) => new Array<number | null>(length).fill(value);

function meanLine(key: string, label: string, color: string, series: MetricSeries | undefined, length: number): Line {
  const empty = new Array<number | null>(length).fill(null);
  return {
    key,
    label,
    color,
    values: series?.mean ?? empty,
    band: { min: series?.min ?? empty, max: series?.max ?? empty },
  };
}

/** A short name for a pod in legends: "trainer-0" from "fit-12-trainer-0". */
export function podShortName(pod: Pick<PodUsage, 'name' | 'role'>): string {
  const at = pod.name.lastIndexOf(`${pod.role}-`);
  return at >= 0 ? pod.name.slice(at) : pod.name;
}

/** The lines of one per-pod chart for the pods (and whole job) that `shown` accepts. */
function podChart(usage: JobUsage, chart: (typeof POD_CHARTS)[number], shown: (key: string) => boolean): ChartModel {
  const length = usage.t.length;
  const lines: Line[] = [];
  const limits: Array<number | null> = [];
  usage.pods.forEach((pod, index) => {
    const limit = chart.limit?.(pod) ?? null;
    limits.push(limit);
    if (!shown(pod.name)) return;
    const name = podShortName(pod);
    lines.push(meanLine(pod.name, name, podColor(index), pod.metrics[chart.metric], length));
    if (limit !== null) lines.push({ key: `${pod.name}:limit`, label: `${name} limit`, color: podColor(index), values: constant(length, limit), dashed: true });
    const bound = chart.limitMetric ? pod.metrics[chart.limitMetric] : undefined;
    if (bound) lines.push({ key: `${pod.name}:limit`, label: `${name} total`, color: podColor(index), values: bound.mean, dashed: true });
  });
  if (shown(WHOLE_JOB)) {
    lines.push(meanLine(WHOLE_JOB, 'Whole job', WHOLE_JOB_COLOR, usage.job_total.metrics[chart.metric], length));
    if (limits.length > 0 && limits.every((limit) => limit !== null)) {
      const sum = limits.reduce<number>((total, limit) => total + limit!, 0);
      lines.push({ key: 'job:limit', label: 'Whole job limit', color: WHOLE_JOB_COLOR, values: constant(length, sum), dashed: true });
    }
  }
  const marks: Mark[] =
    chart.id === 'memory'
      ? usage.pods.flatMap((pod) => pod.oom_kill_times.map((t) => ({ t, label: `OOM kill in ${podShortName(pod)}` }))).sort((a, b) => a.t - b.t)
      : [];
  return { spec: SPECS[chart.id], t: usage.t, lines, marks, points: countPoints(usage.t, lines) };
}

function networkChart(usage: JobUsage): ChartModel {
  const length = usage.t.length;
  const lines = [
    meanLine('rx', 'Received', podColor(0), usage.network.metrics['network_rx_bytes_per_s'], length),
    meanLine('tx', 'Sent', podColor(1), usage.network.metrics['network_tx_bytes_per_s'], length),
  ];
  return { spec: SPECS.network, t: usage.t, lines, marks: [], points: countPoints(usage.t, lines) };
}

/**
 * The page's charts in order: CPU, memory, the GPU charts when a pod has GPUs, network (job-wide;
 * the page shows `usage.network.not_measured` instead when it is set) and disk. `shown(key)` says which series the legend shows
 * (a pod's name, or WHOLE_JOB_KEY).
 */
export function buildCharts(usage: JobUsage, shown: (key: string) => boolean): ChartModel[] {
  const gpus = hasGpus(usage);
  const charts: ChartModel[] = [];
  for (const chart of POD_CHARTS) {
    if (chart.id.startsWith('gpu') && !gpus) continue;
    charts.push(podChart(usage, chart, shown));
    if (chart.id === (gpus ? 'gpu-memory' : 'memory')) charts.push(networkChart(usage));
  }
  return charts;
}

/** True when nothing was sampled in the window: no bucket has any value. */
export function hasNoSamples(usage: JobUsage): boolean {
  const all = [...usage.pods.map((pod) => pod.metrics), usage.job_total.metrics, usage.network.metrics];
  return all.every((metrics) => Object.values(metrics).every((series) => series.mean.every((v) => v === null || v === undefined)));
}

/** "trainer-0: latest 0.98 cores, peak 1.2 cores" for each drawn mean line: the chart's text alternative. */
export function summarize(model: ChartModel): string {
  const parts: string[] = [];
  for (const line of model.lines) {
    if (line.dashed) continue;
    const latest = lastValue(line.values);
    if (latest === null) continue;
    let peak: number | null = null;
    for (const v of line.band?.max ?? line.values) if (v !== null && (peak === null || v > peak)) peak = v;
    parts.push(`${line.label}: latest ${model.spec.format(latest)}, peak ${model.spec.format(peak)}`);
  }
  return parts.length > 0 ? `${parts.join('; ')}.` : 'No samples in this window.';
}
