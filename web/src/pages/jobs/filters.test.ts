import { describe, expect, it } from 'vitest';
import type { JobFilters } from './filters';
import {
  dateRangeError,
  filtersFromSearch,
  filtersToSearch,
  isFiltered,
  jobListQuery,
  localDayStart,
  NO_FILTERS,
} from './filters';

const qs = (filters: Partial<JobFilters>, options: { master?: boolean; limit?: number; cursor?: string | null } = {}) =>
  new URLSearchParams(
    jobListQuery({ ...NO_FILTERS, ...filters }, { master: options.master ?? false, limit: options.limit ?? 20, cursor: options.cursor }),
  ).toString();

describe('jobListQuery', () => {
  it('sends only the limit when nothing is filtered', () => {
    expect(qs({})).toBe('limit=20');
  });

  it('sends status, the trimmed name and the cursor', () => {
    expect(qs({ status: 'failed', name: '  mnist dist ' }, { cursor: '42' })).toBe(
      'status=failed&name=mnist+dist&limit=20&cursor=42',
    );
    expect(qs({ status: 'running', name: '   ' })).toBe('status=running&limit=20');
  });

  it('turns the days into local midnights, the "to" day inclusive', () => {
    const from = new Date(2026, 10, 1).getTime() / 1000; // Nov 1, 00:00 local
    const afterTo = new Date(2026, 10, 30).getTime() / 1000; // Nov 30, 00:00 local: the end of Nov 29
    expect(qs({ from: '2026-11-01', to: '2026-11-29' })).toBe(`started_after=${from}&started_before=${afterTo}&limit=20`);
    expect(qs({ to: '2026-12-31' })).toBe(`started_before=${new Date(2027, 0, 1).getTime() / 1000}&limit=20`);
  });

  it('asks for every user only for the master user', () => {
    expect(qs({ all: true }, { master: true })).toBe('all=true&limit=20');
    expect(qs({ all: true }, { master: false })).toBe('limit=20');
  });
});

describe('filters in the address bar', () => {
  it('round-trips through the search string', () => {
    const filters: JobFilters = { status: 'stopped', name: 'resnet', from: '2026-11-01', to: '2026-11-29', all: true };
    const search = filtersToSearch(filters);
    expect(search).toBe('?status=stopped&name=resnet&from=2026-11-01&to=2026-11-29&all=true');
    expect(filtersFromSearch(search)).toEqual(filters);
    expect(filtersToSearch(NO_FILTERS)).toBe('');
  });

  it('ignores values it does not know', () => {
    expect(filtersFromSearch('?status=exploded&from=yesterday&to=2026-02-31&all=1')).toEqual(NO_FILTERS);
  });

  it('says whether the list is narrowed, and when the range is empty', () => {
    expect(isFiltered(NO_FILTERS)).toBe(false);
    expect(isFiltered({ ...NO_FILTERS, all: true })).toBe(false);
    expect(isFiltered({ ...NO_FILTERS, name: 'x' })).toBe(true);
    expect(dateRangeError({ ...NO_FILTERS, from: '2026-11-02', to: '2026-11-01' })).toMatch(/before/);
    expect(dateRangeError({ ...NO_FILTERS, from: '2026-11-01', to: '2026-11-01' })).toBeUndefined();
  });

  it('knows which days exist', () => {
    expect(localDayStart('2026-02-28')).toBe(new Date(2026, 1, 28).getTime() / 1000);
    expect(localDayStart('2026-02-29')).toBeUndefined();
    expect(localDayStart('')).toBeUndefined();
  });
});
