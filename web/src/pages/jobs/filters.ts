// The job list's filters: kept in the address bar (so a filtered list survives a reload and can be
// shared or bookmarked) and turned into the query of GET /api/v1/jobs.
import type { JobListQuery } from '../../api/jobs';

export const STATUS_FILTERS = [
  { value: '', label: 'All' },
  { value: 'running', label: 'Running' },
  { value: 'succeeded', label: 'Succeeded' },
  { value: 'failed', label: 'Failed' },
  { value: 'stopped', label: 'Stopped' },
] as const;

export type StatusFilter = (typeof STATUS_FILTERS)[number]['value'];

export interface JobFilters {
  /** '' = every state; "running" includes Pending jobs. */
  status: StatusFilter;
  /** Substring of the job name. */
  name: string;
  /** First day (local, "YYYY-MM-DD") a job may have been submitted on; '' = no bound. */
  from: string;
  /** Last day (inclusive) a job may have been submitted on; '' = no bound. */
  to: string;
  /** Every user's jobs of the account (the master user only). */
  all: boolean;
}

export const NO_FILTERS: JobFilters = { status: '', name: '', from: '', to: '', all: false };

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function isStatus(value: string): value is StatusFilter {
  return STATUS_FILTERS.some((option) => option.value === value);
}

/** Unix seconds of local midnight at the start of a "YYYY-MM-DD" day; undefined when it is not a date. */
export function localDayStart(day: string, addDays = 0): number | undefined {
  const match = DATE.exec(day);
  if (!match) return undefined;
  const [year, month, date] = [Number(match[1]), Number(match[2]) - 1, Number(match[3])];
  const value = new Date(year, month, date + addDays);
  // Reject days that do not exist (2026-02-31 rolls over into March).
  const check = new Date(year, month, date);
  if (check.getFullYear() !== year || check.getMonth() !== month || check.getDate() !== date) return undefined;
  return Math.floor(value.getTime() / 1000);
}

/** Reads the filters from a location's search string ("?status=failed&name=mnist"). */
export function filtersFromSearch(search: string): JobFilters {
  const params = new URLSearchParams(search);
  const status = params.get('status') ?? '';
  const from = params.get('from') ?? '';
  const to = params.get('to') ?? '';
  return {
    status: isStatus(status) ? status : '',
    name: params.get('name') ?? '',
    from: localDayStart(from) !== undefined ? from : '',
    to: localDayStart(to) !== undefined ? to : '',
    all: params.get('all') === 'true',
  };
}

/** The search string for the filters: only those set, '' when none is. */
export function filtersToSearch(filters: JobFilters): string {
  const params = new URLSearchParams();
  if (filters.status) params.set('status', filters.status);
  if (filters.name.trim()) params.set('name', filters.name.trim());
  if (filters.from) params.set('from', filters.from);
  if (filters.to) params.set('to', filters.to);
  if (filters.all) params.set('all', 'true');
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** True when the filters narrow the list (the "show all users" switch does not count: it widens it). */
export function isFiltered(filters: JobFilters): boolean {
  return filters.status !== '' || filters.name.trim() !== '' || filters.from !== '' || filters.to !== '';
}

/** The message when the date range is empty ("to" before "from"); undefined when it is fine. */
export function dateRangeError(filters: JobFilters): string | undefined {
  const from = localDayStart(filters.from);
  const to = localDayStart(filters.to);
  if (from !== undefined && to !== undefined && to < from) return 'The “to” day is before the “from” day.';
  return undefined;
}

export interface ListOptions {
  /** Only the master user may list every user's jobs; the switch is ignored for others. */
  master: boolean;
  limit: number;
  cursor?: string | null | undefined;
}

/**
 * The query of GET /api/v1/jobs for the filters: the days become unix seconds at local midnight, the
 * "to" day inclusive (started_before is the midnight after it); empty filters are left out.
 */
export function jobListQuery(filters: JobFilters, { master, limit, cursor }: ListOptions): JobListQuery {
  const query: JobListQuery = {};
  if (filters.status) query.status = filters.status;
  const name = filters.name.trim();
  if (name) query.name = name;
  const after = localDayStart(filters.from);
  if (after !== undefined) query.started_after = String(after);
  const before = filters.to ? localDayStart(filters.to, 1) : undefined;
  if (before !== undefined) query.started_before = String(before);
  if (filters.all && master) query.all = 'true';
  query.limit = String(limit);
  if (cursor) query.cursor = cursor;
  return query;
}
