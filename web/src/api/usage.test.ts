import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, setCsrfToken } from './client';
import * as usage from './usage';

function mockFetch(impl: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>) {
  const fn = vi.fn(impl);
  vi.stubGlobal('fetch', fn);
  return fn;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(undefined);
});

describe('usage API', () => {
  it('asks for a job’s usage with from, to and points, and leaves out what is not given', async () => {
    const fetchMock = mockFetch(async () => json(200, { job: 12, t: [] }));
    await usage.getJobUsage(12, { from: 1_733_400_000_000, to: 1_733_403_600_000, points: 640 });
    await usage.getJobUsage(12, { points: 500 });
    await usage.getJobUsage(12);
    expect(fetchMock.mock.calls.map(([url]) => String(url))).toEqual([
      '/api/v1/jobs/12/usage?from=1733400000000&to=1733403600000&points=640',
      '/api/v1/jobs/12/usage?points=500',
      '/api/v1/jobs/12/usage',
    ]);
    expect(usage.jobUsageStreamUrl(12)).toBe('/api/v1/jobs/12/usage/stream');
  });

  it('reads the quota and the account’s usage per window', async () => {
    const fetchMock = mockFetch(async () => json(200, {}));
    await usage.getQuota();
    await usage.getAccountUsage('1d');
    await usage.getAccountUsage('30d');
    expect(fetchMock.mock.calls.map(([url, init]) => `${init?.method} ${String(url)}`)).toEqual([
      'GET /api/v1/account/quota',
      'GET /api/v1/account/usage?window=1d',
      'GET /api/v1/account/usage?window=30d',
    ]);
  });

  it('puts a member’s limits with the CSRF token, null removing a limit', async () => {
    setCsrfToken('tok');
    const fetchMock = mockFetch(async () => json(200, {}));
    await usage.setMemberLimits(3, { cpu: '8', memory: null, gpus: 1, running_jobs: null });
    const [url, init] = fetchMock.mock.calls[0]!;
    expect(`${init?.method} ${String(url)}`).toBe('PUT /api/v1/account/members/3/limits');
    expect(JSON.parse(String(init?.body))).toEqual({ cpu: '8', memory: null, gpus: 1, running_jobs: null });
    expect((init?.headers as Record<string, string>)['X-CSRF-Token']).toBe('tok');
  });

  it('passes on the field of a refused limit', async () => {
    mockFetch(async () =>
      json(400, { error: { code: 'invalid_argument', message: 'cpu: 100 is above the account’s quota of 64', details: { field: 'cpu' } } }),
    );
    const err = await usage.setMemberLimits(3, { cpu: '100', memory: null, gpus: null, running_jobs: null }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).field).toBe('cpu');
  });
});
