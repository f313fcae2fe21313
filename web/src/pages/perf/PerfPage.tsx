// A job's performance (/jobs/:id/perf): CPU, memory, GPU, network and disk over time, per pod and
// for the whole job, from GET /api/v1/jobs/{id}/usage (docs/monitoring.md). A range selector picks
// the window; dragging across a chart zooms in and asks again for that window at about one point per
// pixel. While the job runs, the usage stream's samples are appended as they come, and the zoom stays.
import type { VNode } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ApiError } from '../../api/client';
import type { Job, JobsApi } from '../../api/jobs';
import { jobsApi } from '../../api/jobs';
import type { JobUsage, UsageApi, UsageSample } from '../../api/usage';
import { jobUsageStreamUrl, usageApi } from '../../api/usage';
import { Breadcrumbs } from '../../breadcrumbs';
import { ErrorBanner, isAbort, Segmented, toApiError } from '../../forms';
import { formatUnix } from '../../format';
import type { SignedInPageProps } from '../../session';
import { useDocumentTitle } from '../../title';
import { StateBadge, usePolling } from '../jobs/common';
import { JobNotFound, parseJobId } from '../jobs/JobDetailPage';
import type { OpenEventSource } from '../jobs/LogConsole';
import type { ChartModel, RangeKey, TimeWindow } from './series';
import { appendSample, buildCharts, hasNoSamples, podShortName, pointsFor, RANGES, rangeStart, WHOLE_JOB_KEY } from './series';
import { UsageChart } from './UsageChart';

export type PerfApi = Pick<JobsApi, 'getJob'> & Pick<UsageApi, 'getJobUsage'>;

const defaultApi: PerfApi = { getJob: jobsApi.getJob, getJobUsage: usageApi.getJobUsage };

const openBrowserEventSource: OpenEventSource = (url) => new EventSource(url) as unknown as ReturnType<OpenEventSource>;

export interface PerfPageProps extends SignedInPageProps {
  api?: PerfApi;
  openEventSource?: OpenEventSource;
}

/** Sampling interval when the server has not said (docs/monitoring.md: `usage_interval`). */
const DEFAULT_INTERVAL_MS = 5_000;

function parseSample(data: string): UsageSample | null {
  try {
    const value = JSON.parse(data) as Partial<UsageSample> | null;
    return value && typeof value.t === 'number' && value.pods && typeof value.pods === 'object' ? (value as UsageSample) : null;
  } catch {
    return null;
  }
}

/** The width of one chart's plot (or of the charts' area before there is a chart). */
function chartWidth(area: HTMLElement | null): number {
  const plot = area?.querySelector<HTMLElement>('.perf-chart__plot');
  return plot?.clientWidth || area?.clientWidth || 0;
}

/** The job (its name, state and times), read again when `reload` is called. */
export function useJob(api: Pick<JobsApi, 'getJob'>, id: number | null) {
  const [job, setJob] = useState<Job | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const reload = useCallback(
    async (signal?: AbortSignal) => {
      if (id === null) return;
      try {
        setJob(await api.getJob(id, signal ? { signal } : undefined));
        setError(null);
      } catch (err) {
        if (!isAbort(err)) setError(toApiError(err));
      }
    },
    [api, id],
  );
  useEffect(() => {
    const controller = new AbortController();
    void reload(controller.signal);
    return () => controller.abort();
  }, [reload]);
  return { job, error, reload };
}

/**
 * The usage in the chosen window: the range preset, or the zoom when there is one. Read again when
 * either changes; an answer to an earlier question is dropped.
 */
function useUsage(api: PerfApi, id: number | null, job: Job | null, range: RangeKey, zoom: TimeWindow | null, area: { current: HTMLElement | null }) {
  const [usage, setUsage] = useState<JobUsage | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const asked = useRef(0);
  const times = job ? { started_at: job.started_at, submitted_at: job.submitted_at, finished_at: job.finished_at } : null;
  const load = useCallback(
    async (signal?: AbortSignal) => {
      if (id === null || times === null) return;
      const mine = ++asked.current;
      const window = zoom ?? { from: rangeStart(range, times, Date.now()) };
      const query = { ...window, points: pointsFor(chartWidth(area.current)) };
      try {
        const loaded = await api.getJobUsage(id, query, signal ? { signal } : undefined);
        if (mine !== asked.current) return;
        setUsage(loaded);
        setError(null);
      } catch (err) {
        if (!isAbort(err) && mine === asked.current) setError(toApiError(err));
      }
    },
    // `times` is rebuilt each render; its fields are what matter.
    [api, id, range, zoom, times?.started_at, times?.submitted_at, times?.finished_at],
  );
  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);
  return { usage, setUsage, error, load };
}

/** EventSource.CLOSED: the browser gave up on the stream (it reconnects by itself otherwise). */
const CLOSED = 2;

/**
 * While the job runs: its usage stream's samples appended to the usage; a sample from a pod not seen
 * yet reads the usage again (`reload.usage`), the stream's end the usage and the job (`reload.all`).
 * Returns true when the stream failed for good (the page then polls instead).
 */
function useLiveSamples(
  id: number | null,
  live: boolean,
  open: OpenEventSource,
  usage: JobUsage | null,
  setUsage: (usage: JobUsage) => void,
  reload: { usage: () => void; all: () => void },
): boolean {
  const [failed, setFailed] = useState(false);
  const current = useRef(usage);
  current.current = usage;
  const reloadRef = useRef(reload);
  reloadRef.current = reload;
  useEffect(() => {
    setFailed(false);
    if (id === null || !live) return;
    const source = open(jobUsageStreamUrl(id));
    source.addEventListener('error', () => {
      if (source.readyState === CLOSED) setFailed(true);
    });
    source.addEventListener('sample', (event) => {
      const sample = parseSample(event.data);
      if (!sample || !current.current) return;
      const next = appendSample(current.current, sample);
      if (next === null) reloadRef.current.usage();
      else if (next !== current.current) {
        current.current = next;
        setUsage(next);
      }
    });
    source.addEventListener('end', () => {
      source.close();
      reloadRef.current.all();
    });
    return () => source.close();
  }, [id, live, open, setUsage]);
  return failed;
}

export function PerfPage({ params, api = defaultApi, openEventSource = openBrowserEventSource }: PerfPageProps): VNode {
  const id = parseJobId(params['id']);
  const { job, error: jobError, reload: reloadJob } = useJob(api, id);
  const [range, setRange] = useState<RangeKey>('all');
  const [zoom, setZoom] = useState<TimeWindow | null>(null);
  const [hidden, setHidden] = useState<ReadonlySet<string>>(new Set());
  const area = useRef<HTMLDivElement>(null);
  const { usage, setUsage, error, load } = useUsage(api, id, job, range, zoom, area);
  useDocumentTitle(job ? `Performance of ${job.name} · Jobs` : 'Job performance');
  const state = usage?.state ?? job?.state;
  const streamFailed = useLiveSamples(id, state === 'Running', openEventSource, usage, setUsage, {
    usage: () => void load(),
    all: () => {
      void load();
      void reloadJob();
    },
  });
  usePolling(load, usage?.interval_ms || DEFAULT_INTERVAL_MS, state === 'Pending' || (state === 'Running' && streamFailed));
  // The usage saw the job start or end before the job did: read the job again (its badge, its times).
  useEffect(() => {
    if (usage && job && usage.state !== job.state) void reloadJob();
  }, [usage?.state]);

  const notFound = (err: ApiError | null) => err?.status === 404;
  if (id === null || (job === null && notFound(jobError)) || (usage === null && notFound(error))) return <JobNotFound id={params['id']} />;
  if (job === null) {
    return (
      <section class="page" data-testid="perf-page">
        {jobError ? (
          <ErrorBanner error={jobError} prefix="Could not load the job." testId="perf-error" onRetry={() => void reloadJob()} />
        ) : (
          <p class="loading" data-testid="perf-loading">
            Loading…
          </p>
        )}
      </section>
    );
  }
  const chooseRange = (value: RangeKey) => {
    setZoom(null);
    setRange(value);
  };
  return (
    <section class="page page--wide" data-testid="perf-page" data-job-id={job.id}>
      <PerfHeader job={job} state={state} usage={usage} />
      <div class="perf-toolbar" data-testid="perf-toolbar">
        <Segmented label="Time range" options={RANGES} value={range} onChange={chooseRange} testIdPrefix="perf-range" />
        <ZoomControls usage={usage} zoom={zoom} onZoom={setZoom} />
      </div>
      {error && <ErrorBanner error={error} prefix={usage ? 'Could not refresh the usage.' : 'Could not load the usage.'} testId="perf-error" onRetry={() => void load()} />}
      <div class="perf-charts-area" ref={area} aria-busy={usage === null && !error ? 'true' : undefined}>
        {usage === null ? (
          !error && (
            <p class="loading" data-testid="perf-loading">
              Loading usage…
            </p>
          )
        ) : (
          <PerfCharts usage={usage} zoom={zoom} onZoom={setZoom} hidden={hidden} onHidden={setHidden} />
        )}
      </div>
    </section>
  );
}

/** The trail, the title with the job's state, and whether the charts are live. */
function PerfHeader({ job, state, usage }: { job: Job; state: string | undefined; usage: JobUsage | null }): VNode {
  return (
    <>
      <Breadcrumbs
        items={[
          { label: 'Job Dashboard', href: '/dashboard' },
          { label: job.name, href: `/jobs/${job.id}` },
          { label: 'Performance', href: `/jobs/${job.id}/perf` },
        ]}
      />
      <header class="page__header job-header">
        <div class="job-header__title">
          <h1 class="page__title" data-testid="perf-title">
            Performance of {job.name}
          </h1>
          <StateBadge job={job} compact testId="perf-job-state" />
        </div>
        <p class="page__subtitle" data-testid="perf-live" data-live={state === 'Running' ? 'true' : 'false'}>
          {liveText(job, state, usage)}
        </p>
      </header>
    </>
  );
}

function liveText(job: Job, state: string | undefined, usage: JobUsage | null): string {
  const every = Math.round((usage?.interval_ms || DEFAULT_INTERVAL_MS) / 1000);
  if (state === 'Running') return `Live: a new sample every ${every} s.`;
  if (state === 'Pending') return 'The job has not started yet: its usage shows here once it runs.';
  return job.finished_at !== null ? `The job ended ${formatUnix(job.finished_at)}; its usage stays here.` : '';
}

/** "Zoom in" (the middle half of the view, for the keyboard) and "Reset zoom". */
function ZoomControls({ usage, zoom, onZoom }: { usage: JobUsage | null; zoom: TimeWindow | null; onZoom: (zoom: TimeWindow | null) => void }): VNode {
  const view = zoom ?? (usage && usage.t.length > 1 ? { from: usage.t[0]!, to: usage.t[usage.t.length - 1]! } : null);
  const minSpan = 2 * (usage?.interval_ms || DEFAULT_INTERVAL_MS);
  const canZoomIn = view !== null && view.to - view.from >= 2 * minSpan;
  const zoomIn = () => {
    if (!view) return;
    const quarter = (view.to - view.from) / 4;
    onZoom({ from: Math.round(view.from + quarter), to: Math.round(view.to - quarter) });
  };
  return (
    <div class="actions perf-zoom">
      <span class="muted perf-zoom__hint">Drag across a chart to zoom in.</span>
      <button type="button" class="button button--small button--secondary" disabled={!canZoomIn} onClick={zoomIn} data-testid="perf-zoom-in">
        Zoom in
      </button>
      {zoom && (
        <button type="button" class="button button--small button--secondary" onClick={() => onZoom(null)} data-testid="perf-zoom-reset">
          Reset zoom
        </button>
      )}
    </div>
  );
}

function PerfCharts({
  usage,
  zoom,
  onZoom,
  hidden,
  onHidden,
}: {
  usage: JobUsage;
  zoom: TimeWindow | null;
  onZoom: (zoom: TimeWindow) => void;
  hidden: ReadonlySet<string>;
  onHidden: (hidden: ReadonlySet<string>) => void;
}): VNode {
  if (hasNoSamples(usage)) {
    return (
      <div class="empty" data-testid="perf-empty">
        <p class="empty__title">{zoom ? 'No samples in this window.' : 'No samples yet.'}</p>
        <p class="empty__text">
          {usage.state === 'Pending' || usage.state === 'Running'
            ? `The server reads each running pod’s usage every ${Math.round((usage.interval_ms || DEFAULT_INTERVAL_MS) / 1000)} s; the charts appear with the first sample.`
            : 'Nothing was sampled while this job ran.'}
        </p>
      </div>
    );
  }
  const charts = buildCharts(usage, (key) => !hidden.has(key));
  return (
    <>
      <SeriesLegend usage={usage} hidden={hidden} onHidden={onHidden} />
      <div class="perf-charts" data-testid="perf-charts" data-zoomed={zoom ? 'true' : 'false'}>
        {charts.map((model) => {
          const id = model.spec.id;
          if (id === 'network' && usage.network.not_measured) {
            return <ChartNote key={id} model={model} text={`Not measured: ${usage.network.not_measured}`} testId={`chart-${id}-not-measured`} />;
          }
          if (model.points === 0) return <ChartNote key={id} model={model} text="No samples of this in the window." testId={`chart-${id}-empty`} />;
          return <UsageChart key={id} model={model} zoom={zoom} onZoom={onZoom} />;
        })}
      </div>
    </>
  );
}

/** A chart's place when there is nothing to draw: why. */
function ChartNote({ model, text, testId }: { model: ChartModel; text: string; testId: string }): VNode {
  return (
    <section class="card perf-chart" aria-labelledby={`chart-${model.spec.id}-title`} data-testid={`chart-${model.spec.id}`} data-points={0}>
      <h2 class="card__title" id={`chart-${model.spec.id}-title`}>
        {model.spec.title}
      </h2>
      <p class="muted" data-testid={testId}>
        {text}
      </p>
    </section>
  );
}

/** Which series the charts draw: each pod and the whole job, with the colour of their lines. */
function SeriesLegend({ usage, hidden, onHidden }: { usage: JobUsage; hidden: ReadonlySet<string>; onHidden: (hidden: ReadonlySet<string>) => void }): VNode {
  const toggle = (key: string, show: boolean) => {
    const next = new Set(hidden);
    if (show) next.delete(key);
    else next.add(key);
    onHidden(next);
  };
  const entry = (key: string, label: string, swatch: string, testId: string) => (
    <label class="perf-legend__item" key={testId}>
      <input type="checkbox" checked={!hidden.has(key)} onChange={(event) => toggle(key, event.currentTarget.checked)} data-testid={testId} />
      <span class={`perf-swatch ${swatch}`} aria-hidden="true" />
      {label}
    </label>
  );
  const unmeasured = usage.pods.filter((pod) => pod.not_measured);
  return (
    <fieldset class="perf-legend" data-testid="perf-legend">
      <legend class="perf-legend__title">Series (solid: mean, band: min to max)</legend>
      {entry(WHOLE_JOB_KEY, 'Whole job', 'perf-swatch--job', 'perf-series-job')}
      {usage.pods.map((pod, index) => entry(pod.name, podShortName(pod), `perf-swatch--${index % 8}`, `perf-series-${pod.name}`))}
      {unmeasured.length > 0 && (
        <ul class="perf-legend__notes muted" data-testid="perf-not-measured">
          {unmeasured.map((pod) => (
            <li key={pod.name}>
              {podShortName(pod)}: not measured: {pod.not_measured}
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}
