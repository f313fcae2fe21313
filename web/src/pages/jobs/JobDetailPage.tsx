// One job (/jobs/:id): what was asked for (the spec), its pods, the events timeline, stop, and the log
// console. Reloaded every 2 s while the job is Pending or Running.
import type { VNode } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { Breadcrumbs } from '../../breadcrumbs';
import type { ApiError } from '../../api/client';
import type { Job, JobEvent, JobsApi, Pod } from '../../api/jobs';
import { isActive, jobsApi } from '../../api/jobs';
import { ErrorBanner, isAbort, toApiError } from '../../forms';
import { formatClock, formatDateTime, formatUnix, formatUptime, isoFromUnix, plural } from '../../format';
import type { SignedInPageProps } from '../../session';
import { useDocumentTitle } from '../../title';
import { ACTIVE_REFRESH_MS, PhaseDot, podLabel, StateBadge, StopJobDialog, useNow, usePolling } from './common';
import type { OpenEventSource } from './LogConsole';
import { LogConsole } from './LogConsole';
import { codeOrigin } from './spec';

export type JobDetailApi = Pick<JobsApi, 'getJob' | 'listJobEvents' | 'stopJob'>;

export interface JobDetailPageProps extends SignedInPageProps {
  api?: JobDetailApi;
  openEventSource?: OpenEventSource;
}

function parseId(text: string | undefined): number | null {
  return text && /^[1-9]\d{0,15}$/.test(text) ? Number(text) : null;
}

export function JobDetailPage({ params, api = jobsApi, openEventSource }: JobDetailPageProps): VNode {
  const id = parseId(params['id']);
  const [job, setJob] = useState<Job | null>(null);
  const [events, setEvents] = useState<JobEvent[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [stopping, setStopping] = useState(false);
  // The console, and the pod it opened on (a new request reopens it even for the same pod).
  const [logs, setLogs] = useState<{ pod: string | undefined; n: number } | null>(null);
  const now = useNow(1_000);
  useDocumentTitle(job ? `${job.name} · Jobs` : 'Job');

  const load = useCallback(
    async (signal?: AbortSignal) => {
      if (id === null) return;
      const options = signal ? { signal } : undefined;
      try {
        const [loaded, history] = await Promise.all([api.getJob(id, options), api.listJobEvents(id, options)]);
        setJob(loaded);
        setEvents(history.items);
        setError(null);
      } catch (err) {
        if (!isAbort(err)) setError(toApiError(err));
      }
    },
    [api, id],
  );

  useEffect(() => {
    setJob(null);
    setEvents(null);
    setError(null);
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);

  usePolling(load, ACTIVE_REFRESH_MS, job !== null && isActive(job.state));

  if (id === null || (error?.status === 404 && job === null)) {
    return (
      <section class="page" data-testid="job-not-found">
        <h1 class="page__title">No such job</h1>
        <p class="muted">
          There is no job {params['id'] ? <code>{params['id']}</code> : null} in your account, or you may not see it.
        </p>
        <p>
          <a class="button" href="/dashboard">
            Back to jobs
          </a>
        </p>
      </section>
    );
  }

  if (job === null) {
    return (
      <section class="page" data-testid="job-page">
        {error ? (
          <ErrorBanner error={error} prefix="Could not load the job." testId="job-error" onRetry={() => void load()} />
        ) : (
          <p class="loading">Loading job…</p>
        )}
      </section>
    );
  }

  const canStop = isActive(job.state) && !job.stop_requested;
  const pods = job.pods ?? [];

  return (
    <section class={logs ? 'page page--wide page--with-console' : 'page page--wide'} data-testid="job-page" data-job-id={job.id}>
      <Breadcrumbs items={[{ label: 'Job Dashboard', href: '/dashboard' }, { label: job.name, href: `/jobs/${job.id}` }]} />
      <header class="page__header job-header">
        <div class="job-header__title">
          <h1 class="page__title" data-testid="job-name">
            {job.name}
          </h1>
          <StateBadge job={job} testId="job-detail-state" />
        </div>
        <div class="actions">
          <button
            type="button"
            class="button button--secondary"
            onClick={() => setLogs((open) => ({ pod: undefined, n: (open?.n ?? 0) + 1 }))}
            data-testid="job-open-logs"
          >
            Logs
          </button>
          <a class="button button--secondary" href={`/jobs/new?from=${job.id}`} data-testid="job-resubmit">
            Submit again
          </a>
          {canStop && (
            <button type="button" class="button button--danger" onClick={() => setStopping(true)} data-testid="job-detail-stop">
              Stop
            </button>
          )}
        </div>
      </header>

      {error && <ErrorBanner error={error} prefix="Could not refresh the job." testId="job-error" />}

      <div class="job-grid">
        <section class="card job-panel" aria-labelledby="job-run-title" data-testid="job-run">
          <h2 class="card__title" id="job-run-title">
            Run
          </h2>
          <dl class="facts">
            <dt>Job ID</dt>
            <dd>{job.id}</dd>
            <dt>Submitted by</dt>
            <dd data-testid="job-user">{job.user || '—'}</dd>
            <dt>Submitted</dt>
            <dd>{formatUnix(job.submitted_at)}</dd>
            <dt>Started</dt>
            <dd data-testid="job-started-at">{formatUnix(job.started_at, isActive(job.state) ? 'not yet' : '—')}</dd>
            <dt>Finished</dt>
            <dd data-testid="job-finished-at">{formatUnix(job.finished_at, isActive(job.state) ? 'not yet' : '—')}</dd>
            {job.started_at !== null && (
              <>
                <dt>Duration</dt>
                <dd data-testid="job-duration">{formatUptime((job.finished_at ?? now) - job.started_at)}</dd>
              </>
            )}
            <dt>Trainer runs</dt>
            <dd data-testid="job-counts">
              {job.succeeded} succeeded, {job.failed} failed
            </dd>
          </dl>
        </section>
        <SpecPanel job={job} />
      </div>

      <section class="card job-panel" aria-labelledby="job-pods-title">
        <h2 class="card__title" id="job-pods-title">
          Pods
        </h2>
        {pods.length === 0 ? (
          <p class="muted">No pods yet.</p>
        ) : (
          <div class="table-wrap">
            <table class="table" data-testid="job-pods">
              <thead>
                <tr>
                  <th scope="col">Pod</th>
                  <th scope="col">Phase</th>
                  <th scope="col" class="num">
                    Exit code
                  </th>
                  <th scope="col" class="num">
                    Restarts
                  </th>
                  <th scope="col">Started</th>
                  <th scope="col">Finished</th>
                  <th scope="col">Endpoint</th>
                  <th scope="col" class="table__actions">
                    <span class="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {pods.map((pod) => (
                  <PodRow key={pod.name} pod={pod} onLog={() => setLogs((open) => ({ pod: pod.name, n: (open?.n ?? 0) + 1 }))} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>

      <section class="card job-panel" aria-labelledby="job-events-title">
        <h2 class="card__title" id="job-events-title">
          Events
        </h2>
        <Timeline events={events} />
      </section>

      {stopping && (
        <StopJobDialog
          job={job}
          api={api}
          onStopped={(stopped) => {
            setJob((current) => (current ? { ...stopped, pods: current.pods ?? [] } : stopped));
            setStopping(false);
            void load();
          }}
          onCancel={() => {
            setStopping(false);
            void load();
          }}
        />
      )}

      {logs && (
        <LogConsole
          key={logs.n}
          job={job}
          api={api}
          initialPod={logs.pod}
          linkToJob={false}
          onClose={() => setLogs(null)}
          {...(openEventSource ? { openEventSource } : {})}
        />
      )}
    </section>
  );
}

function SpecPanel({ job }: { job: Job }): VNode {
  const spec = job.spec;
  const env = Object.entries(spec.env ?? {});
  const trainers = spec.num_trainer ?? 1;
  const ps = spec.num_ps ?? 0;
  return (
    <section class="card job-panel" aria-labelledby="job-spec-title" data-testid="job-spec">
      <h2 class="card__title" id="job-spec-title">
        Spec
      </h2>
      <dl class="facts">
        <dt>Entry</dt>
        <dd>
          <pre class="snippet snippet--inline" data-testid="job-entry">
            <code>{spec.entry}</code>
          </pre>
        </dd>
        <dt>Trainers</dt>
        <dd data-testid="job-trainers">
          {plural(trainers, 'trainer')} × {spec.cpu_per_trainer ?? '1'} CPU, {spec.mem_per_trainer ?? '1Gi'} memory
          {(spec.gpu_per_trainer ?? 0) > 0 ? `, ${plural(spec.gpu_per_trainer ?? 0, 'GPU')}` : ''}
        </dd>
        <dt>Parameter servers</dt>
        <dd data-testid="job-pservers">
          {ps === 0 ? 'none' : `${plural(ps, 'pserver')} × ${spec.cpu_per_ps ?? '1'} CPU, ${spec.mem_per_ps ?? '1Gi'} memory`}
        </dd>
        {spec.image ? (
          <>
            <dt>Image</dt>
            <dd>
              <code>{spec.image}</code>
            </dd>
          </>
        ) : null}
        <dt>Code</dt>
        <dd data-testid="job-code-origin">
          {codeOrigin(spec) ? (
            <>
              uploaded: <code>{codeOrigin(spec)}</code> (“Submit again” runs a copy of it)
            </>
          ) : spec.workdir ? (
            <>
              none uploaded; runs in <code>{spec.workdir}</code>
            </>
          ) : (
            <span class="muted">none uploaded; runs in the job’s own empty folder</span>
          )}
        </dd>
        <dt>Restarts</dt>
        <dd data-testid="job-restarts">
          {spec.max_restarts ? `up to ${plural(spec.max_restarts, 'restart')} per pod` : 'a failed pod is not restarted'}
        </dd>
        <dt>Fault tolerance</dt>
        <dd data-testid="job-fault-tolerance">
          {spec.fault_tolerant
            ? `the job carries on while at most ${plural(spec.fault_tolerant, 'trainer')} failed for good`
            : 'the job fails when a trainer fails for good'}
        </dd>
        <dt>Environment</dt>
        <dd data-testid="job-env">
          {env.length === 0 ? (
            <span class="muted">only the platform’s variables</span>
          ) : (
            <ul class="env-list">
              {env.map(([key, value]) => (
                <li key={key}>
                  <code>
                    {key}={value}
                  </code>
                </li>
              ))}
            </ul>
          )}
        </dd>
      </dl>
    </section>
  );
}

function PodRow({ pod, onLog }: { pod: Pod; onLog: () => void }): VNode {
  return (
    <tr data-testid="pod-row" data-pod={pod.name} data-phase={pod.phase}>
      <td>
        <span class="pod-name">{podLabel(pod)}</span>
        <span class="table__sub">{pod.name}</span>
      </td>
      <td data-testid="pod-phase">
        <span class="phase">
          <PhaseDot phase={pod.phase} /> {pod.phase}
        </span>
        {pod.reason && pod.reason !== pod.phase && <span class="table__sub">{pod.reason}</span>}
      </td>
      <td class="num" data-testid="pod-exit-code">
        {pod.exit_code ?? '—'}
      </td>
      <td class="num">{pod.restarts}</td>
      <td>
        <PodTime seconds={pod.started_at} />
      </td>
      <td>
        <PodTime seconds={pod.finished_at} />
      </td>
      <td>{pod.endpoint ? <code>{pod.endpoint}</code> : '—'}</td>
      <td class="table__actions">
        <button type="button" class="button button--small button--secondary" onClick={onLog} data-testid="pod-log">
          Log
        </button>
      </td>
    </tr>
  );
}

/** A pod's start or end: the clock time when it is today, the date and time otherwise. */
function PodTime({ seconds }: { seconds: number | null }): VNode {
  if (seconds === null) return <span class="muted">—</span>;
  const date = new Date(seconds * 1000);
  const today = date.toDateString() === new Date().toDateString();
  return (
    <time dateTime={isoFromUnix(seconds)} title={formatDateTime(isoFromUnix(seconds))}>
      {today ? formatClock(date) : formatUnix(seconds)}
    </time>
  );
}

function eventTone({ type, message }: JobEvent): string {
  if (/fail|oom|kill|error/i.test(type)) return 'bad';
  if (type === 'Exited') return /exit code 0\b/.test(message) ? 'ok' : 'bad';
  if (/succeed|finish|complete/i.test(type)) return 'ok';
  if (/stop/i.test(type)) return 'neutral';
  return 'info';
}

function Timeline({ events }: { events: JobEvent[] | null }): VNode {
  if (events === null) return <p class="loading">Loading events…</p>;
  if (events.length === 0) return <p class="muted">No events yet.</p>;
  return (
    <ol class="timeline" data-testid="job-events">
      {events.map((event) => (
        <li key={event.id} class={`timeline__item timeline__item--${eventTone(event)}`} data-testid="job-event" data-type={event.type}>
          <time class="timeline__time" dateTime={isoFromUnix(event.at)} title={formatDateTime(isoFromUnix(event.at))}>
            {formatClock(new Date(event.at * 1000))}
          </time>
          <span class="timeline__type">{event.type}</span>
          {event.pod && <span class="timeline__pod">{event.pod}</span>}
          {event.message && <span class="timeline__message">{event.message}</span>}
        </li>
      ))}
    </ol>
  );
}
