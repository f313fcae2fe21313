// The Job Dashboard (/dashboard): the jobs of the signed-in user (or, for the master user, of the
// whole account) with filters, live states, stop, log and perf actions; the log console docks at the bottom.
import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Account, AccountApi } from '../api/account';
import { accountApi } from '../api/account';
import * as client from '../api/client';
import type { Readiness } from '../api/client';
import type { Job, JobsApi } from '../api/jobs';
import { isActive, jobsApi } from '../api/jobs';
import { ErrorBanner, FilterSearch, isAbort, Segmented, useDebouncedText } from '../forms';
import { formatAge, formatDateTime, formatStartTime, formatUptime, isoFromUnix, plural } from '../format';
import type { MenuAction } from '../menu';
import { ActionsMenu } from '../menu';
import { navigate, useLocation } from '../router';
import type { SignedInPageProps } from '../session';
import type { Column } from '../table';
import { DataTable, LoadMore } from '../table';
import { useDocumentTitle } from '../title';
import { ACTIVE_REFRESH_MS, StateBadge, StopJobDialog, useNow, usePolling } from './jobs/common';
import type { JobFilters } from './jobs/filters';
import { dateRangeError, filtersFromSearch, filtersToSearch, isFiltered, NO_FILTERS, STATUS_FILTERS } from './jobs/filters';
import type { OpenEventSource } from './jobs/LogConsole';
import { LogConsole } from './jobs/LogConsole';
import { useJobList } from './jobs/useJobList';

export type DashboardApi = Pick<AccountApi, 'getAccount'> &
  Pick<typeof client, 'getReadiness'> &
  Pick<JobsApi, 'listJobs' | 'stopJob' | 'getJob'>;

const defaultApi: DashboardApi = {
  getAccount: accountApi.getAccount,
  getReadiness: client.getReadiness,
  listJobs: jobsApi.listJobs,
  stopJob: jobsApi.stopJob,
  getJob: jobsApi.getJob,
};

/** How often the list is reloaded when nothing on it is running (new jobs from the CLI or SDK). */
export const IDLE_REFRESH_MS = 15_000;
/** Typing in the name search waits this long for a pause before asking the server. */
export const NAME_DEBOUNCE_MS = 300;

export interface DashboardPageProps extends SignedInPageProps {
  api?: DashboardApi;
  openEventSource?: OpenEventSource;
}

export function DashboardPage({ user, api = defaultApi, openEventSource }: DashboardPageProps): VNode {
  useDocumentTitle('Job Dashboard');
  const master = user.role === 'master';
  const filters = filtersFromSearch(useLocation().search);
  const dateError = dateRangeError(filters);
  const list = useJobList(api, filters, master, dateError === undefined);
  const [logJob, setLogJob] = useState<Job | null>(null);
  const [stopping, setStopping] = useState<Job | null>(null);
  const anyActive = list.items.some((job) => isActive(job.state));
  usePolling(list.refresh, anyActive ? ACTIVE_REFRESH_MS : IDLE_REFRESH_MS, !list.loading && dateError === undefined);
  const setFilters = (change: Partial<JobFilters>) => {
    navigate(`/dashboard${filtersToSearch({ ...filters, ...change })}`, { replace: true });
  };

  return (
    <section class={logJob ? 'page page--wide page--with-console' : 'page page--wide'} data-testid="dashboard-page">
      <header class="page__header">
        <div>
          <h1 class="page__title">Job Dashboard</h1>
          <AccountSummary user={user} api={api} />
        </div>
        <a class="button" href="/jobs/new" data-testid="new-job">
          Submit a job
        </a>
      </header>
      <FiltersBar filters={filters} master={master} onChange={setFilters} dateError={dateError} />
      {list.error && (
        <ErrorBanner
          error={list.error}
          prefix={list.items.length > 0 ? 'Could not refresh the jobs.' : 'Could not load the jobs.'}
          testId="jobs-error"
          onRetry={() => void list.refresh()}
        />
      )}
      {list.loading ? (
        <p class="loading" data-testid="jobs-loading">
          Loading jobs…
        </p>
      ) : list.items.length > 0 ? (
        <JobsTable jobs={list.items} showUsers={master && filters.all} logJob={logJob} onStop={setStopping} onLog={setLogJob} />
      ) : !list.error && dateError === undefined ? (
        <NoJobs filters={filters} others={master && filters.all} onClear={() => setFilters({ ...NO_FILTERS, all: filters.all })} />
      ) : null}
      {list.nextCursor && !list.loading && <LoadMore pending={list.loadingMore} onMore={list.loadMore} testId="jobs-load-more" />}
      {stopping && (
        <StopJobDialog
          job={stopping}
          api={api}
          onStopped={(job) => {
            list.replace(job);
            setStopping(null);
            void list.refresh();
          }}
          onCancel={() => {
            setStopping(null);
            void list.refresh();
          }}
        />
      )}
      {logJob && (
        <LogConsole key={logJob.id} job={logJob} api={api} onClose={() => setLogJob(null)} {...(openEventSource ? { openEventSource } : {})} />
      )}
    </section>
  );
}

/** No job matches the filters (with a way to clear them), or none was submitted yet. */
function NoJobs({ filters, others, onClear }: { filters: JobFilters; others: boolean; onClear: () => void }): VNode {
  if (!isFiltered(filters)) return <EmptyState others={others} />;
  return (
    <div class="empty" data-testid="jobs-empty-filtered">
      <p class="empty__title">No jobs match these filters.</p>
      <button type="button" class="button button--secondary" onClick={onClear}>
        Clear filters
      </button>
    </div>
  );
}

function JobsTable({
  jobs,
  showUsers,
  logJob,
  onStop,
  onLog,
}: {
  jobs: Job[];
  showUsers: boolean;
  logJob: Job | null;
  onStop: (job: Job) => void;
  onLog: (job: Job) => void;
}): VNode {
  const now = useNow(1_000);
  const columns: Column[] = [
    'Job',
    ...(showUsers ? [{ label: 'User', class: 'table__secondary' }] : []),
    { label: 'Started', class: 'table__secondary' },
    { label: 'Age', class: 'table__secondary' },
    { label: 'Success', class: 'num table__secondary', title: 'Trainer runs that succeeded' },
    { label: 'Fails', class: 'num table__secondary', title: 'Trainer runs that failed, restarts included' },
    'State',
  ];
  return (
    <DataTable columns={columns} actions class="jobs-table" testId="jobs-table">
      {jobs.map((job) => (
        <JobRow
          key={job.id}
          job={job}
          now={now}
          showUser={showUsers}
          logOpen={logJob?.id === job.id}
          onStop={() => onStop(job)}
          onLog={() => onLog(job)}
        />
      ))}
    </DataTable>
  );
}

function resourcesText(job: Job): string {
  const trainers = plural(job.spec.num_trainer ?? 1, 'trainer');
  const ps = job.spec.num_ps ?? 0;
  return ps > 0 ? `${trainers} · ${plural(ps, 'pserver')}` : trainers;
}

function ageTitle(job: Job, now: number): string {
  const parts = [`Submitted ${formatDateTime(isoFromUnix(job.submitted_at))}`];
  if (job.started_at !== null) {
    const end = job.finished_at ?? now;
    parts.push(`${job.finished_at !== null ? 'ran' : 'running'} for ${formatUptime(end - job.started_at)}`);
  }
  return parts.join('; ');
}

function JobRow({
  job,
  now,
  showUser,
  logOpen,
  onStop,
  onLog,
}: {
  job: Job;
  now: number;
  showUser: boolean;
  logOpen: boolean;
  onStop: () => void;
  onLog: () => void;
}): VNode {
  return (
    <tr
      class={logOpen ? 'jobs-table__row jobs-table__row--selected' : 'jobs-table__row'}
      data-testid="job-row"
      data-job-id={job.id}
      data-job-name={job.name}
      data-state={job.state}
    >
      <td class="jobs-table__name">
        <a href={`/jobs/${job.id}`} data-testid="job-link">
          {job.name}
        </a>
        <span class="table__sub">{resourcesText(job)}</span>
      </td>
      {showUser && (
        <td class="jobs-table__user table__secondary" data-testid="job-user">
          {job.user}
        </td>
      )}
      <td class="table__secondary" data-testid="job-started">
        {job.started_at !== null ? (
          <time dateTime={isoFromUnix(job.started_at)} title={formatDateTime(isoFromUnix(job.started_at))}>
            {formatStartTime(job.started_at, now)}
          </time>
        ) : (
          <span class="muted">{isActive(job.state) ? 'not yet' : '—'}</span>
        )}
      </td>
      <td class="table__secondary" data-testid="job-age" title={ageTitle(job, now)}>
        {formatAge(now - job.submitted_at)}
      </td>
      <td class="num table__secondary" data-testid="job-succeeded">
        {job.succeeded}
      </td>
      <td class={job.failed > 0 ? 'num num--bad table__secondary' : 'num table__secondary'} data-testid="job-failed">
        {job.failed}
      </td>
      <td class="jobs-table__state">
        <StateBadge job={job} />
      </td>
      <td class="table__actions">
        <span class="row-actions">
          <button
            type="button"
            class="button button--small button--secondary"
            onClick={onLog}
            aria-pressed={logOpen ? 'true' : 'false'}
            aria-label={`Logs of ${job.name}`}
            data-testid="job-log"
          >
            Log
          </button>
          <a
            class="button button--small button--secondary row-actions__wide"
            href={`/jobs/${job.id}/perf`}
            aria-label={`Performance of ${job.name}`}
            data-testid="job-perf"
          >
            Perf
          </a>
          <a
            class="button button--small button--secondary row-actions__wide"
            href={`/jobs/${job.id}/board`}
            aria-label={`Board of ${job.name}`}
            data-testid="job-board"
          >
            Board
          </a>
          <JobMenu job={job} onStop={onStop} />
        </span>
      </td>
    </tr>
  );
}

/**
 * The rest of a job's actions: its page, its performance and board (the Perf and Board buttons' links, which
 * narrow screens hide), submitting it again and, while it runs, stopping it.
 */
function JobMenu({ job, onStop }: { job: Job; onStop: () => void }): VNode {
  const actions: MenuAction[] = [
    { label: 'Details', testId: 'job-details', href: `/jobs/${job.id}` },
    { label: 'Performance', testId: 'job-menu-perf', href: `/jobs/${job.id}/perf` },
    { label: 'Board', testId: 'job-menu-board', href: `/jobs/${job.id}/board` },
    { label: 'Submit again…', testId: 'job-again', href: `/jobs/new?from=${job.id}` },
  ];
  if (isActive(job.state) && !job.stop_requested) actions.push({ label: 'Stop…', testId: 'job-stop', onSelect: onStop, danger: true });
  return <ActionsMenu label={`Actions for ${job.name}`} actions={actions} testId="job-menu" />;
}

// ---- Filters ------------------------------------------------------------------------------------

function FiltersBar({
  filters,
  master,
  onChange,
  dateError,
}: {
  filters: JobFilters;
  master: boolean;
  onChange: (change: Partial<JobFilters>) => void;
  dateError: string | undefined;
}): VNode {
  const [name, setName] = useDebouncedText(filters.name, (typed) => onChange({ name: typed.trim() }), NAME_DEBOUNCE_MS);

  return (
    <div class="filters" role="search" aria-label="Filter jobs" data-testid="job-filters">
      <Segmented
        label="Status"
        options={STATUS_FILTERS}
        value={filters.status}
        onChange={(status) => onChange({ status })}
        testIdPrefix="filter-status"
      />
      <FilterSearch label="Name" placeholder="Search by name" value={name} onValue={setName} testId="filter-name" />
      <DateRange filters={filters} onChange={onChange} invalid={dateError !== undefined} />
      {master && (
        <label class="filters__toggle">
          <input
            type="checkbox"
            checked={filters.all}
            onChange={(event) => onChange({ all: event.currentTarget.checked })}
            data-testid="filter-all"
          />{' '}
          Show all users’ jobs
        </label>
      )}
      {isFiltered(filters) && (
        <button
          type="button"
          class="link-button filters__clear"
          onClick={() => {
            setName('');
            onChange({ ...NO_FILTERS, all: filters.all });
          }}
          data-testid="filter-clear"
        >
          Clear filters
        </button>
      )}
      {dateError && (
        <p class="field__error filters__error" role="alert" data-testid="filter-date-error">
          {dateError}
        </p>
      )}
    </div>
  );
}

/** The "Submitted from … to …" dates of the filter bar. */
function DateRange({
  filters,
  onChange,
  invalid,
}: {
  filters: JobFilters;
  onChange: (change: Partial<JobFilters>) => void;
  invalid: boolean;
}): VNode {
  const date = (label: string, key: 'from' | 'to', bounds: { min?: string; max?: string }) => (
    <label class="filters__field">
      <span class="filters__label">{label}</span>
      <input
        class="field__input filters__date"
        type="date"
        value={filters[key]}
        {...bounds}
        onChange={(event) => onChange({ [key]: event.currentTarget.value })}
        aria-invalid={invalid ? 'true' : undefined}
        data-testid={`filter-${key}`}
      />
    </label>
  );
  return (
    <>
      {date('Submitted from', 'from', { max: filters.to || undefined })}
      {date('to', 'to', { min: filters.from || undefined })}
    </>
  );
}

// ---- No jobs yet --------------------------------------------------------------------------------

function EmptyState({ others }: { others: boolean }): VNode {
  const origin = window.location.origin;
  const sdk =
    'from paddlecloud import create_cloud_job\n' +
    'create_cloud_job("mnist", entry="python3 train.py", num_trainer=2, num_ps=1,\n' +
    '                 cpu_per_trainer="500m", mem_per_trainer="1Gi")';
  const curl =
    `curl -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \\\n` +
    `  -d '{"name":"mnist","entry":"python3 train.py","num_trainer":2,"num_ps":1}' \\\n` +
    `  ${origin}/api/v1/jobs`;
  return (
    <div class="empty" data-testid="jobs-empty">
      <p class="empty__title">{others ? 'Nobody in this account has submitted a job yet.' : 'You have not submitted a job yet.'}</p>
      <p class="empty__text">
        A job runs your entry command in a number of trainers and parameter servers, each with the CPU, memory and
        GPUs you ask for. Follow it here: its state, its pods and their logs, live.
      </p>
      <p>
        <a class="button" href="/jobs/new" data-testid="empty-submit">
          Submit a job
        </a>
      </p>
      <p class="empty__text">
        Or from Python with the <code>paddlecloud</code> SDK, in a notebook or anywhere after{' '}
        <code>paddlecloud login</code> (it reads the stored token):
      </p>
      <pre class="snippet" data-testid="empty-sdk">
        <code>{sdk}</code>
      </pre>
      <p class="empty__text">
        Or from any shell with an <a href="/settings/tokens">API token</a>:
      </p>
      <pre class="snippet" data-testid="empty-curl">
        <code>{curl}</code>
      </pre>
    </div>
  );
}

// ---- The account in one line --------------------------------------------------------------------

function AccountSummary({
  user,
  api,
}: {
  user: SignedInPageProps['user'];
  api: Pick<DashboardApi, 'getAccount' | 'getReadiness'>;
}): VNode {
  const [account, setAccount] = useState<Account | null | 'error'>(null);
  const [readiness, setReadiness] = useState<Readiness | null | 'error'>(null);

  useEffect(() => {
    const controller = new AbortController();
    const options = { signal: controller.signal };
    api.getAccount(options).then(setAccount, (err) => {
      if (!isAbort(err)) setAccount('error');
    });
    api.getReadiness(options).then(setReadiness, (err) => {
      if (!isAbort(err)) setReadiness('error');
    });
    return () => controller.abort();
  }, [api]);

  const ready = readiness !== null && readiness !== 'error' && readiness.status === 'ready';
  const tone = readiness === null ? 'unknown' : ready ? 'ok' : 'bad';
  const serverText =
    readiness === null ? 'Checking…' : readiness === 'error' ? 'Unreachable' : ready ? 'Ready' : 'Not ready';

  return (
    <p class="page__subtitle summary" data-testid="account-summary">
      <span>
        Account{' '}
        <code class="code--plain" data-testid="dashboard-account-id">
          {user.account_id}
        </code>
      </span>
      <span data-testid="dashboard-role">{user.role === 'master' ? 'Master user' : 'Member'}</span>
      <a href="/settings/members" data-testid="dashboard-members">
        {account === null ? '…' : account === 'error' ? 'Members' : plural(account.members, 'member')}
      </a>
      <a href="/status" class={`summary__server summary__server--${tone}`} title="Server status">
        Server{' '}
        <span data-testid="dashboard-server-state" data-tone={tone}>
          {serverText}
        </span>
      </a>
    </p>
  );
}
