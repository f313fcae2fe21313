// Paddle Board pages (docs/board.md): a job's board (/jobs/:id/board), and /board, which lists the
// jobs that have board data and the standalone runs, to pick one or several and compare them
// (/board?source=job:12&source=run:4). The sources and the shared controls (smoothing, x axis, y scale)
// stay in the query string, so a view can be shared by its address.
import type { VNode } from 'preact';
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import type { BoardApi, BoardSource, SourceId } from '../../api/board';
import { boardApi } from '../../api/board';
import type { ApiError } from '../../api/client';
import type { JobsApi } from '../../api/jobs';
import { jobsApi } from '../../api/jobs';
import { Breadcrumbs } from '../../breadcrumbs';
import { ErrorBanner, isAbort, toApiError } from '../../forms';
import { formatUnix } from '../../format';
import { navigate, useLocation } from '../../router';
import type { SignedInPageProps } from '../../session';
import { useDocumentTitle } from '../../title';
import { StateBadge } from '../jobs/common';
import { JobNotFound, parseJobId } from '../jobs/JobDetailPage';
import type { OpenEventSource } from '../jobs/LogConsole';
import { useJob } from '../perf/PerfPage';
import { BoardView } from './BoardView';
import { EmptyBoard } from './EmptyBoard';
import type { ViewSettings } from './model';
import { MAX_SOURCES, readSettings, settingsSearch } from './model';

const openBrowserEventSource: OpenEventSource = (url) => new EventSource(url) as unknown as ReturnType<OpenEventSource>;

export interface BoardPageProps extends SignedInPageProps {
  api?: BoardApi;
  jobs?: Pick<JobsApi, 'getJob'>;
  openEventSource?: OpenEventSource;
  /** Passed to the view (tests shorten it). */
  throttleMs?: number;
}

/** The settings of the current address, and a setter that rewrites the address in place. */
function useSettings(path: string) {
  const { search } = useLocation();
  const settings = useMemo(() => readSettings(search), [search]);
  const change = useCallback(
    (update: Partial<ViewSettings>) => navigate(`${path}${settingsSearch({ ...settings, ...update })}`, { replace: true }),
    [path, settings],
  );
  return { settings, change };
}

/** /jobs/:id/board: the board of one job. */
export function JobBoardPage({ params, api = boardApi, jobs = jobsApi, openEventSource = openBrowserEventSource, throttleMs }: BoardPageProps): VNode {
  const id = parseJobId(params['id']);
  const { job, error, reload } = useJob(jobs, id);
  const { settings, change } = useSettings(`/jobs/${id}/board`);
  useDocumentTitle(job ? `Board of ${job.name} · Jobs` : 'Job board');
  const source = `job:${id}`;
  const names = useMemo(() => ({ [source]: job?.name ?? source }), [source, job?.name]);
  const states = useMemo(() => ({ [source]: job?.state }), [source, job?.state]);
  const sources = useMemo(() => [source], [source]);
  if (id === null || (job === null && error?.status === 404)) return <JobNotFound id={params['id']} />;
  if (job === null) {
    return (
      <section class="page" data-testid="board-page">
        {error ? (
          <ErrorBanner error={error} prefix="Could not load the job." testId="board-job-error" onRetry={() => void reload()} />
        ) : (
          <p class="loading" data-testid="board-loading">
            Loading…
          </p>
        )}
      </section>
    );
  }
  return (
    <section class="page page--wide" data-testid="board-page" data-job-id={job.id}>
      <Breadcrumbs
        items={[
          { label: 'Job Dashboard', href: '/dashboard' },
          { label: job.name, href: `/jobs/${job.id}` },
          { label: 'Board', href: `/jobs/${job.id}/board` },
        ]}
      />
      <header class="page__header job-header">
        <div class="job-header__title">
          <h1 class="page__title" data-testid="board-title">
            Board of {job.name}
          </h1>
          <StateBadge job={job} compact testId="board-job-state" />
        </div>
        <a class="button button--small button--secondary" href={`/board${settingsSearch({ ...settings, sources: [source] })}`} data-testid="board-compare-link">
          Compare with other boards
        </a>
      </header>
      <BoardView
        sources={sources}
        names={names}
        states={states}
        settings={settings}
        onSettings={change}
        api={api}
        openEventSource={openEventSource}
        onEnded={() => void reload()}
        {...(throttleMs !== undefined ? { throttleMs } : {})}
      />
    </section>
  );
}

/** The sources that have board data (GET /board/sources). */
function useSources(api: BoardApi) {
  const [sources, setSources] = useState<BoardSource[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const load = useCallback(
    async (signal?: AbortSignal) => {
      try {
        setSources((await api.listSources(signal ? { signal } : undefined)).sources);
        setError(null);
      } catch (err) {
        if (!isAbort(err)) setError(toApiError(err));
      }
    },
    [api],
  );
  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);
  return { sources, error, reload: load };
}

/** /board: the sources to pick from and, once some are picked, their boards side by side. */
export function BoardPage({ api = boardApi, openEventSource = openBrowserEventSource }: BoardPageProps): VNode {
  const { settings, change } = useSettings('/board');
  const { sources: listed, error, reload } = useSources(api);
  useDocumentTitle('Board');
  const chosen = settings.sources;
  const names = useMemo(() => Object.fromEntries((listed ?? []).map((s) => [s.source, s.name])), [listed]);
  const states = useMemo(() => Object.fromEntries((listed ?? []).map((s) => [s.source, s.state])), [listed]);
  const viewSettings = useMemo(() => ({ smoothing: settings.smoothing, x: settings.x, y: settings.y }), [settings]);
  return (
    <section class="page page--wide" data-testid="board-page">
      <header class="page__header">
        <h1 class="page__title" data-testid="board-title">
          Board
        </h1>
        <p class="page__subtitle">Training curves of your jobs and standalone runs. Pick several to compare them.</p>
      </header>
      {error && <ErrorBanner error={error} prefix="Could not list the boards." testId="board-sources-error" onRetry={() => void reload()} />}
      {listed === null ? (
        !error && (
          <p class="loading" data-testid="board-sources-loading">
            Loading…
          </p>
        )
      ) : listed.length === 0 && chosen.length === 0 ? (
        <EmptyBoard running={false} />
      ) : (
        <details class="card board-sources" open={chosen.length === 0} data-testid="board-sources">
          <summary class="board-sources__summary">{chosen.length === 0 ? 'Choose boards' : `Comparing ${chosen.length} — change`}</summary>
          <SourcePicker sources={listed} chosen={chosen} onCompare={(picked) => navigate(`/board${settingsSearch({ ...settings, sources: picked })}`)} />
        </details>
      )}
      {chosen.length > 0 && (
        <BoardView key={chosen.join(' ')} sources={chosen} names={names} states={states} settings={viewSettings} onSettings={change} api={api} openEventSource={openEventSource} />
      )}
    </section>
  );
}

/** The sources with a checkbox each; "Compare" shows the checked ones. */
function SourcePicker({ sources, chosen, onCompare }: { sources: readonly BoardSource[]; chosen: readonly SourceId[]; onCompare: (sources: SourceId[]) => void }): VNode {
  const [picked, setPicked] = useState<readonly SourceId[]>(chosen);
  useEffect(() => setPicked(chosen), [chosen.join(' ')]);
  const toggle = (source: SourceId, on: boolean) => setPicked(on ? [...picked.filter((s) => s !== source), source] : picked.filter((s) => s !== source));
  const tooMany = picked.length > MAX_SOURCES;
  return (
    <form
      class="board-picker"
      onSubmit={(event) => {
        event.preventDefault();
        if (picked.length > 0 && !tooMany) onCompare([...picked]);
      }}
    >
      <fieldset class="board-picker__list">
        <legend class="visually-hidden">Boards</legend>
        {sources.map((source) => (
          <div key={source.source} class="board-picker__item" data-testid="board-source" data-source={source.source} data-name={source.name}>
            <label class="board-picker__label">
              <input type="checkbox" checked={picked.includes(source.source)} onChange={(event) => toggle(source.source, event.currentTarget.checked)} data-testid="board-source-check" />
              <span class="board-picker__name">{source.name}</span>
              <span class="muted board-picker__facts">
                {source.kind === 'job' ? `job ${source.source.slice(4)}` : 'run'}
                {source.state ? ` · ${source.state}` : ''} · {source.curves} {source.curves === 1 ? 'curve' : 'curves'}
                {source.last_point_at !== null ? ` · last point ${formatUnix(source.last_point_at)}` : ''}
              </span>
            </label>
            <a class="board-picker__open" href={`/board?source=${encodeURIComponent(source.source)}`} aria-label={`Open the board of ${source.name}`} data-testid="board-source-open">
              Open
            </a>
          </div>
        ))}
      </fieldset>
      {tooMany && <p class="field__error">At most {MAX_SOURCES} boards can be compared at once.</p>}
      <button type="submit" class="button" disabled={picked.length === 0 || tooMany} data-testid="board-compare">
        {picked.length > 1 ? `Compare ${picked.length} boards` : 'Show board'}
      </button>
    </form>
  );
}
