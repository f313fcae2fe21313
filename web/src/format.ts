// Human-friendly rendering of durations, times, sizes, rates and CPU amounts.

/**
 * Renders a duration in seconds with its two most significant units, dropping smaller ones:
 * 42 -> "42s", 125 -> "2m 5s", 11545 -> "3h 12m", 183600 -> "2d 3h". Negative or non-finite input -> "—".
 */
export function formatUptime(totalSeconds: number): string {
  if (!Number.isFinite(totalSeconds) || totalSeconds < 0) return '—';
  const s = Math.floor(totalSeconds);
  const days = Math.floor(s / 86_400);
  const hours = Math.floor((s % 86_400) / 3_600);
  const minutes = Math.floor((s % 3_600) / 60);
  const seconds = s % 60;
  const units: Array<[number, string]> = [
    [days, 'd'],
    [hours, 'h'],
    [minutes, 'm'],
    [seconds, 's'],
  ];
  const first = units.findIndex(([value]) => value > 0);
  if (first === -1) return '0s';
  return units
    .slice(first, first + 2)
    .filter(([value]) => value > 0)
    .map(([value, unit]) => `${value}${unit}`)
    .join(' ');
}

/**
 * Renders an ISO 8601 timestamp as a local date and time, e.g. "Nov 29, 2026, 04:10:00".
 * Returns the input unchanged when it is not a valid timestamp.
 */
export function formatDateTime(iso: string, locale?: string, timeZone?: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return new Intl.DateTimeFormat(locale, {
    dateStyle: 'medium',
    timeStyle: 'medium',
    hourCycle: 'h23',
    ...(timeZone ? { timeZone } : {}),
  }).format(date);
}

/** Renders a local clock time, e.g. "14:03:07". */
export function formatClock(date: Date, locale?: string): string {
  return new Intl.DateTimeFormat(locale, {
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(date);
}

/** Shortens a git commit hash for display; other values (e.g. "unknown") pass through. */
export function shortCommit(commit: string): string {
  return /^[0-9a-f]{13,40}$/i.test(commit) ? commit.slice(0, 12) : commit;
}

/** Renders unix seconds as a local date and time; null/undefined -> `empty`. */
export function formatUnix(seconds: number | null | undefined, empty = '—', locale?: string, timeZone?: string): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return empty;
  return formatDateTime(new Date(seconds * 1000).toISOString(), locale, timeZone);
}

/** Renders unix seconds as a local date, e.g. "Nov 29, 2026". */
export function formatUnixDate(seconds: number | null | undefined, empty = '—', locale?: string, timeZone?: string): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return empty;
  return new Intl.DateTimeFormat(locale, { dateStyle: 'medium', ...(timeZone ? { timeZone } : {}) }).format(
    new Date(seconds * 1000),
  );
}

/** Unix seconds as the ISO 8601 text for a <time dateTime> attribute. */
export function isoFromUnix(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

/** "1 member", "3 members". */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/**
 * A job's age as a table shows it, kubectl-style and short: 42 -> "42s", 1_050 -> "17m",
 * 11_545 -> "3h 12m", 10_800 -> "3h", 183_600 -> "2d 3h". Negative (clock skew) -> "0s"; not finite -> "—".
 */
export function formatAge(totalSeconds: number): string {
  if (!Number.isFinite(totalSeconds)) return '—';
  const s = Math.max(0, Math.floor(totalSeconds));
  if (s < 60) return `${s}s`;
  if (s < 3_600) return `${Math.floor(s / 60)}m`;
  const pair = (big: number, bigUnit: string, small: number, smallUnit: string) =>
    small > 0 ? `${big}${bigUnit} ${small}${smallUnit}` : `${big}${bigUnit}`;
  if (s < 86_400) return pair(Math.floor(s / 3_600), 'h', Math.floor((s % 3_600) / 60), 'm');
  const days = Math.floor(s / 86_400);
  if (days >= 30) return `${days}d`;
  return pair(days, 'd', Math.floor((s % 86_400) / 3_600), 'h');
}

/** A local date as the value of an <input type="date">: "2026-11-29". */
export function dateInputValue(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/**
 * A start time for a table: the clock time for today ("14:03"), else the day and time ("Nov 28, 14:03"),
 * with the year when it is not this year. null/undefined -> `empty`.
 */
export function formatStartTime(
  seconds: number | null | undefined,
  nowSeconds = Date.now() / 1000,
  empty = '—',
  locale?: string,
  timeZone?: string,
): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return empty;
  const date = new Date(seconds * 1000);
  const now = new Date(nowSeconds * 1000);
  const zone = timeZone ? { timeZone } : {};
  const day = (d: Date) => new Intl.DateTimeFormat('en-CA', { dateStyle: 'short', ...zone }).format(d);
  const time: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', ...zone };
  if (day(date) === day(now)) return new Intl.DateTimeFormat(locale, time).format(date);
  const year = (d: Date) => new Intl.DateTimeFormat('en', { year: 'numeric', ...zone }).format(d);
  return new Intl.DateTimeFormat(locale, {
    month: 'short',
    day: 'numeric',
    ...(year(date) === year(now) ? {} : { year: 'numeric' }),
    ...time,
  }).format(date);
}

/** Bytes for people: 512 -> "512 B", 1536 -> "1.5 KiB", 3.2 GiB -> "3.2 GiB", 10 GiB -> "10 GiB". */
export function formatSize(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  // 9.96 rounds up to "10.0": show it as "10".
  const shown = value < 10 ? value.toFixed(1) : String(Math.round(value));
  return `${shown === '10.0' ? '10' : shown} ${units[unit]}`;
}

/** Significant digits for a measured amount: 0.005, 0.12, 1.23, 12.3, 123 (never an exponent). */
function measured(value: number): string {
  const abs = Math.abs(value);
  if (abs < 0.01) return String(Number(value.toFixed(3)));
  if (abs < 10) return String(Number(value.toPrecision(abs < 1 ? 2 : 3)));
  return abs < 100 ? value.toFixed(1).replace(/\.0$/, '') : String(Math.round(value));
}

/** CPU in cores: 1 -> "1 core", 0.25 -> "0.25 cores", 1.234 -> "1.23 cores"; null -> "—". */
export function formatCores(cores: number | null | undefined): string {
  if (cores === null || cores === undefined || !Number.isFinite(cores)) return '—';
  const text = measured(cores);
  return `${text} ${text === '1' ? 'core' : 'cores'}`;
}

/** A rate in bytes per second, decimal units as networks count: 512 -> "512 B/s", 1_250_000 -> "1.25 MB/s". */
export function formatRate(bytesPerSecond: number | null | undefined): string {
  if (bytesPerSecond === null || bytesPerSecond === undefined || !Number.isFinite(bytesPerSecond) || bytesPerSecond < 0) return '—';
  const units = ['B/s', 'kB/s', 'MB/s', 'GB/s', 'TB/s'];
  let value = bytesPerSecond;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? Math.round(value) : measured(value)} ${units[unit]}`;
}

/** A percentage: 45.04 -> "45%", 0.5 -> "0.5%". */
export function formatPercent(percent: number | null | undefined): string {
  if (percent === null || percent === undefined || !Number.isFinite(percent)) return '—';
  return `${measured(percent)}%`;
}

/** Core-seconds or GPU-seconds as hours for people: 0 -> "0 h", 90 -> "1.5 min", 5400.5 -> "1.5 h", 360_000 -> "100 h". */
export function formatHours(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds === 0) return '0 h';
  if (seconds < 60) return `${measured(seconds)} s`;
  if (seconds < 3_600) return `${measured(seconds / 60)} min`;
  return `${measured(seconds / 3_600)} h`;
}
