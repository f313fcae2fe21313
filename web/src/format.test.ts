import { describe, expect, it } from 'vitest';
import {
  formatAge,
  formatCores,
  formatDateTime,
  formatHours,
  formatPercent,
  formatRate,
  formatSize,
  formatStartTime,
  formatUptime,
  shortCommit,
} from './format';

describe('formatUptime', () => {
  it.each([
    [0, '0s'],
    [0.4, '0s'],
    [12.5, '12s'],
    [59.99, '59s'],
    [60, '1m'],
    [125, '2m 5s'],
    [3_600, '1h'],
    [3_660, '1h 1m'],
    [3 * 3_600 + 12 * 60 + 30, '3h 12m'],
    [3 * 3_600 + 45, '3h'],
    [86_400, '1d'],
    [2 * 86_400 + 3 * 3_600 + 15 * 60, '2d 3h'],
    [400 * 86_400 + 59, '400d'],
  ])('%s s -> %s', (seconds, expected) => {
    expect(formatUptime(seconds)).toBe(expected);
  });

  it('renders invalid input as a dash', () => {
    expect(formatUptime(-1)).toBe('—');
    expect(formatUptime(Number.NaN)).toBe('—');
    expect(formatUptime(Number.POSITIVE_INFINITY)).toBe('—');
  });
});

describe('formatDateTime', () => {
  it('renders a timestamp in the given zone', () => {
    expect(formatDateTime('2026-11-29T04:10:00Z', 'en-US', 'UTC')).toBe('Nov 29, 2026, 04:10:00');
  });

  it('passes through what it cannot parse', () => {
    expect(formatDateTime('not a date')).toBe('not a date');
  });
});

describe('shortCommit', () => {
  it('shortens full hashes and keeps other values', () => {
    expect(shortCommit('0123456789abcdef0123456789abcdef01234567')).toBe('0123456789ab');
    expect(shortCommit('unknown')).toBe('unknown');
    expect(shortCommit('abc1234')).toBe('abc1234');
  });
});

describe('formatAge', () => {
  it.each([
    [-5, '0s'],
    [0, '0s'],
    [42.9, '42s'],
    [59, '59s'],
    [60, '1m'],
    [17 * 60 + 30, '17m'],
    [3_599, '59m'],
    [3_600, '1h'],
    [3 * 3_600 + 12 * 60 + 5, '3h 12m'],
    [86_399, '23h 59m'],
    [86_400, '1d'],
    [2 * 86_400 + 3 * 3_600 + 59, '2d 3h'],
    [45 * 86_400 + 5 * 3_600, '45d'],
    [Number.NaN, '—'],
  ])('%s s -> %s', (seconds, expected) => {
    expect(formatAge(seconds)).toBe(expected);
  });
});

describe('formatStartTime', () => {
  const at = (iso: string) => Date.parse(iso) / 1000;
  it('shows the clock for today, the day for other days and the year for other years', () => {
    const now = at('2026-11-29T15:00:00Z');
    expect(formatStartTime(at('2026-11-29T14:03:07Z'), now, '—', 'en-GB', 'UTC')).toBe('14:03');
    expect(formatStartTime(at('2026-11-28T09:05:00Z'), now, '—', 'en-GB', 'UTC')).toBe('28 Nov, 09:05');
    expect(formatStartTime(at('2025-12-31T23:59:00Z'), now, '—', 'en-GB', 'UTC')).toBe('31 Dec 2025, 23:59');
    expect(formatStartTime(null, now)).toBe('—');
  });
});

describe('monitoring amounts', () => {
  it.each([
    [1, '1 core'],
    [0.25, '0.25 cores'],
    [1.234, '1.23 cores'],
    [0, '0 cores'],
    [0.0052, '0.005 cores'],
    [1.2e-7, '0 cores'],
    [12.34, '12.3 cores'],
    [64, '64 cores'],
    [null, '—'],
  ])('formatCores(%s) -> %s', (cores, text) => {
    expect(formatCores(cores)).toBe(text);
  });

  it.each([
    [0, '0 B/s'],
    [512, '512 B/s'],
    [1_250_000, '1.25 MB/s'],
    [999_999, '1000 kB/s'],
    [3.5e9, '3.5 GB/s'],
    [-1, '—'],
    [null, '—'],
  ])('formatRate(%s) -> %s', (rate, text) => {
    expect(formatRate(rate)).toBe(text);
  });

  it.each([
    [45.04, '45%'],
    [0.5, '0.5%'],
    [100, '100%'],
    [null, '—'],
  ])('formatPercent(%s) -> %s', (percent, text) => {
    expect(formatPercent(percent)).toBe(text);
  });

  it.each([
    [0, '0 h'],
    [42, '42 s'],
    [90, '1.5 min'],
    [5400.5, '1.5 h'],
    [360_000, '100 h'],
    [Number.NaN, '—'],
  ])('formatHours(%s) -> %s', (seconds, text) => {
    expect(formatHours(seconds)).toBe(text);
  });

  it('sizes bytes in binary units', () => {
    expect(formatSize(6_442_450_944)).toBe('6.0 GiB');
    expect(formatSize(1_073_741_824)).toBe('1.0 GiB');
    expect(formatSize(256 * 1024 * 1024)).toBe('256 MiB');
  });
});
