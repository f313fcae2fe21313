// One job (/jobs/:id): what was asked for (the spec), its pods, the events timeline, stop, and the log
// console. Reloaded every 2 s while the job is Pending or Running.
import type { ComponentChildren, VNode } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import { Breadcrumbs } from '../../breadcrumbs';
import type { ApiError } from '../../api/client';
import type { Job, JobEvent, JobSpec, JobsApi, Pod } from '../../api/jobs';
import { isActive, jobsApi } from '../../api/jobs';
import { ErrorBanner, isAbort, toApiError } from '../../forms';
import { formatClock, formatDateTime, formatUnix, formatUptime, isoFromUnix, plural } from '../../format';
import type { SignedInPageProps } from '../../session';
import { DataTable } from '../../table';
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

/** A job id from the address bar: a positive whole number, else null (the page then says there is no such job). */
export function parseJobId(text: string | undefined): number | null {
  return text && /^[1-9]\d{0,15}$/.test(text) ? Number(text) : null;
}

/** The job and its events, loaded when `id` changes and every 2 s while the job is active. */
function useJobDetail(api: JobDetailApi, id: number | null) {
  const [job, setJob] = useState<Job | null>(null);
  const [events, setEvents] = useState<JobEvent[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
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
  return { job, setJob, events, error, load };
}

/** Which console is open: the pod it opened on (a new request reopens it even for the same pod). */
type OpenLogs = { pod: string | undefined; n: number } | null;

export function JobDetailPage({ params, api = jobsApi, openEventSource }: JobDetailPageProps): VNode {
  const id = parseJobId(params['id']);
  const { job, setJob, events, error, load } = useJobDetail(api, id);
  const [stopping, setStopping] = useState(false);
  const [logs, setLogs] = useState<OpenLogs>(null);
  useDocumentTitle(job ? `${job.name} · Jobs` : 'Job');
  const openLogs = (pod?: string) => setLogs((open) => ({ pod, n: (open?.n ?? 0) + 1 }));

  if (id === null || (error?.status === 404 && job === null)) return <JobNotFound id={params['id']} />;
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
  return (
    <section class={logs ? 'page page--wide page--with-console' : 'page page--wide'} data-testid="job-page" data-job-id={job.id}>
      <Breadcrumbs items={[{ label: 'Job Dashboard', href: '/dashboard' }, { label: job.name, href: `/jobs/${job.id}` }]} />
      <JobHeader job={job} onLogs={() => openLogs()} onStop={() => setStopping(true)} />
      {error && <ErrorBanner error={error} prefix="Could not refresh the job." testId="job-error" />}
      <div class="job-grid">
        <RunPanel job={job} />
        <SpecPanel job={job} />
      </div>
      <PodsPanel pods={job.pods ?? []} onLog={openLogs} />
      <JobPanel name="events" title="Events">
        <Timeline events={events} />
      </JobPanel>
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

export function JobNotFound({ id }: { id: string | undefined }): VNode {
  return (
    <section class="page" data-testid="job-not-found">
      <h1 class="page__title">No such job</h1>
      <p class="muted">There is no job {id ? <code>{id}</code> : null} in your account, or you may not see it.</p>
      <p>
        <a class="button" href="/dashboard">
          Back to jobs
        </a>
      </p>
    </section>
  );
}

function JobHeader({ job, onLogs, onStop }: { job: Job; onLogs: () => void; onStop: () => void }): VNode {
  const canStop = isActive(job.state) && !job.stop_requested;
  return (
    <header class="page__header job-header">
      <div class="job-header__title">
        <h1 class="page__title" data-testid="job-name">
          {job.name}
        </h1>
        <StateBadge job={job} testId="job-detail-state" />
      </div>
      <div class="actions">
        <button type="button" class="button button--secondary" onClick={onLogs} data-testid="job-open-logs">
          Logs
        </button>
        <a class="button button--secondary" href={`/jobs/${job.id}/perf`} data-testid="job-perf">
          Performance
        </a>
        <a class="button button--secondary" href={`/jobs/${job.id}/board`} data-testid="job-board">
          Board
        </a>
        <a class="button button--secondary" href={`/jobs/new?from=${job.id}`} data-testid="job-resubmit">
          Submit again
        </a>
        {canStop && (
          <button type="button" class="button button--danger" onClick={onStop} data-testid="job-detail-stop">
            Stop
          </button>
        )}
      </div>
    </header>
  );
}

function RunPanel({ job }: { job: Job }): VNode {
  const now = useNow(1_000);
  const pending = isActive(job.state) ? 'not yet' : '—';
  return (
    <JobPanel name="run" title="Run" testId="job-run">
      <dl class="facts">
        <dt>Job ID</dt>
        <dd>{job.id}</dd>
        <dt>Submitted by</dt>
        <dd data-testid="job-user">{job.user || '—'}</dd>
        <dt>Submitted</dt>
        <dd>{formatUnix(job.submitted_at)}</dd>
        <dt>Started</dt>
        <dd data-testid="job-started-at">{formatUnix(job.started_at, pending)}</dd>
        <dt>Finished</dt>
        <dd data-testid="job-finished-at">{formatUnix(job.finished_at, pending)}</dd>
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
    </JobPanel>
  );
}

const POD_COLUMNS = [
  'Pod',
  'Phase',
  { label: 'Exit code', class: 'num' },
  { label: 'Restarts', class: 'num' },
  'Started',
  'Finished',
  'Endpoint',
];

function PodsPanel({ pods, onLog }: { pods: Pod[]; onLog: (pod: string) => void }): VNode {
  return (
    <JobPanel name="pods" title="Pods">
      {pods.length === 0 ? (
        <p class="muted">No pods yet.</p>
      ) : (
        <DataTable columns={POD_COLUMNS} actions testId="job-pods">
          {pods.map((pod) => (
            <PodRow key={pod.name} pod={pod} onLog={() => onLog(pod.name)} />
          ))}
        </DataTable>
      )}
    </JobPanel>
  );
}

function SpecPanel({ job }: { job: Job }): VNode {
  const spec = job.spec;
  const trainers = spec.num_trainer ?? 1;
  const ps = spec.num_ps ?? 0;
  return (
    <JobPanel name="spec" title="Spec" testId="job-spec">
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
          <CodeOrigin spec={spec} />
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
          <EnvList env={spec.env ?? {}} />
        </dd>
      </dl>
    </JobPanel>
  );
}

/** A titled card of the job page; its heading (id `job-<name>-title`) names it. */
function JobPanel({ name, title, testId, children }: { name: string; title: string; testId?: string; children: ComponentChildren }): VNode {
  return (
    <section class="card job-panel" aria-labelledby={`job-${name}-title`} data-testid={testId}>
      <h2 class="card__title" id={`job-${name}-title`}>
        {title}
      </h2>
      {children}
    </section>
  );
}

/** Where the job's code came from: uploaded (and run again by "Submit again"), or a working folder. */
function CodeOrigin({ spec }: { spec: JobSpec }): VNode {
  const origin = codeOrigin(spec);
  if (origin) {
    return (
      <>
        uploaded: <code>{origin}</code> (“Submit again” runs a copy of it)
      </>
    );
  }
  if (spec.workdir) {
    return (
      <>
        none uploaded; runs in <code>{spec.workdir}</code>
      </>
    );
  }
  return <span class="muted">none uploaded; runs in the job’s own empty folder</span>;
}

function EnvList({ env }: { env: Record<string, string> }): VNode {
  const entries = Object.entries(env);
  if (entries.length === 0) return <span class="muted">only the platform’s variables</span>;
  return (
    <ul class="env-list">
      {entries.map(([key, value]) => (
        <li key={key}>
          <code>
            {key}={value}
          </code>
        </li>
      ))}
    </ul>
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
