import { afterEach, describe, expect, it, vi } from 'vitest';
import * as api from './client';
import { ApiError, errorFromResponse, getHealth, getReadiness, getVersion, parseErrorBody } from './client';

function jsonResponse(status: number, body: unknown, statusText = ''): Response {
  return new Response(JSON.stringify(body), {
    status,
    statusText,
    headers: { 'Content-Type': 'application/json' },
  });
}

function mockFetch(impl: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>) {
  const fn = vi.fn(impl);
  vi.stubGlobal('fetch', fn);
  return fn;
}

async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected the promise to reject');
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('parseErrorBody', () => {
  it('reads code, message and details', () => {
    expect(
      parseErrorBody({ error: { code: 'invalid_argument', message: 'bad name', details: { field: 'name' } } }),
    ).toEqual({ code: 'invalid_argument', message: 'bad name', details: { field: 'name' } });
  });

  it('rejects bodies that are not the error envelope', () => {
    expect(parseErrorBody(null)).toBeUndefined();
    expect(parseErrorBody('oops')).toBeUndefined();
    expect(parseErrorBody({ error: 'oops' })).toBeUndefined();
    expect(parseErrorBody({ error: { message: 'no code' } })).toBeUndefined();
    expect(parseErrorBody({ status: 'ready', checks: {} })).toBeUndefined();
  });

  it('derives a message from the code when the server sent none', () => {
    expect(parseErrorBody({ error: { code: 'quota_exceeded' } })?.message).toBe('quota exceeded');
  });
});

describe('errorFromResponse', () => {
  it('maps the error envelope, including details.field', () => {
    const err = errorFromResponse(
      422,
      'Unprocessable Entity',
      JSON.stringify({ error: { code: 'invalid_argument', message: 'name is empty', details: { field: 'name', max: 3 } } }),
    );
    expect(err.status).toBe(422);
    expect(err.code).toBe('invalid_argument');
    expect(err.message).toBe('name is empty');
    expect(err.field).toBe('name');
    expect(err.details).toEqual({ field: 'name', max: 3 });
    expect(err.isNetworkError).toBe(false);
  });

  it('has no field when details has none', () => {
    const err = errorFromResponse(404, '', JSON.stringify({ error: { code: 'not_found', message: 'no job' } }));
    expect(err.field).toBeUndefined();
    expect(err.details).toBeUndefined();
  });

  it('falls back to a code from the status for non-JSON bodies', () => {
    const err = errorFromResponse(502, 'Bad Gateway', '<html>upstream down</html>');
    expect(err.status).toBe(502);
    expect(err.code).toBe('bad_gateway');
    expect(err.message).toBe('The server answered HTTP 502 Bad Gateway');
  });

  it('falls back for JSON that is not the envelope, and for unknown statuses', () => {
    expect(errorFromResponse(418, '', '{"tea":true}').code).toBe('http_418');
    expect(errorFromResponse(500, '', '').code).toBe('internal');
  });
});

describe('request helpers', () => {
  it('sends JSON with same-origin credentials and returns the parsed body', async () => {
    const fetchMock = mockFetch(async () => jsonResponse(201, { id: 'j1' }));
    const body = await api.post<{ id: string }>('/api/v1/jobs', { name: 'mnist' });
    expect(body).toEqual({ id: 'j1' });
    const [url, init] = fetchMock.mock.calls[0]!;
    expect(url).toBe('/api/v1/jobs');
    expect(init?.method).toBe('POST');
    expect(init?.credentials).toBe('same-origin');
    expect(init?.body).toBe('{"name":"mnist"}');
    expect((init?.headers as Record<string, string>)['Content-Type']).toBe('application/json');
  });

  it('supports GET with a query, PUT and DELETE', async () => {
    const fetchMock = mockFetch(async () => new Response(null, { status: 204 }));
    await api.get('/api/v1/jobs', { query: { limit: 10, status: 'running', cursor: undefined } });
    await api.put('/api/v1/jobs/j1', { replicas: 2 });
    await expect(api.delete('/api/v1/jobs/j1')).resolves.toBeUndefined();
    const calls = fetchMock.mock.calls.map(([url, init]) => `${init?.method} ${String(url)}`);
    expect(calls).toEqual([
      'GET /api/v1/jobs?limit=10&status=running',
      'PUT /api/v1/jobs/j1',
      'DELETE /api/v1/jobs/j1',
    ]);
    expect(fetchMock.mock.calls[0]![1]?.body).toBeUndefined();
  });

  it('throws the parsed ApiError for an error answer', async () => {
    mockFetch(async () =>
      jsonResponse(409, { error: { code: 'already_exists', message: 'job exists', details: { field: 'name' } } }),
    );
    const err = await rejection(api.post('/api/v1/jobs', { name: 'x' }));
    expect(err).toMatchObject({ status: 409, code: 'already_exists', message: 'job exists', field: 'name' });
  });

  it('turns a network failure into an unreachable ApiError', async () => {
    mockFetch(async () => {
      throw new TypeError('Failed to fetch');
    });
    const err = await rejection(getVersion());
    expect(err.status).toBe(0);
    expect(err.code).toBe('unreachable');
    expect(err.isNetworkError).toBe(true);
    expect(err.cause).toBeInstanceOf(TypeError);
  });

  it('reports a 2xx answer that is not JSON as invalid_response', async () => {
    mockFetch(async () => new Response('<!doctype html>', { status: 200 }));
    const err = await rejection(getVersion());
    expect(err).toMatchObject({ status: 200, code: 'invalid_response' });
  });

  it('lets an abort through unchanged', async () => {
    mockFetch(async () => {
      throw new DOMException('The operation was aborted.', 'AbortError');
    });
    await expect(getHealth()).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('service endpoints', () => {
  it('getHealth and getVersion read their endpoints', async () => {
    const fetchMock = mockFetch(async (input) =>
      String(input) === '/healthz'
        ? jsonResponse(200, { status: 'ok', uptime_seconds: 12.5, started_at: '2026-11-29T04:10:00Z' })
        : jsonResponse(200, { name: 'paddlecloud', version: '0.1.0', commit: 'abc' }),
    );
    await expect(getHealth()).resolves.toEqual({
      status: 'ok',
      uptime_seconds: 12.5,
      started_at: '2026-11-29T04:10:00Z',
    });
    await expect(getVersion()).resolves.toMatchObject({ version: '0.1.0' });
    expect(fetchMock.mock.calls.map(([url]) => String(url))).toEqual(['/healthz', '/api/v1/version']);
  });

  it('getReadiness returns the body for 200 and for 503', async () => {
    mockFetch(async () => jsonResponse(200, { status: 'ready', checks: { database: 'ok' } }));
    await expect(getReadiness()).resolves.toEqual({ status: 'ready', checks: { database: 'ok' } });

    mockFetch(async () =>
      jsonResponse(503, { status: 'not_ready', checks: { database: 'locked', migrations: 'ok' } }),
    );
    await expect(getReadiness()).resolves.toEqual({
      status: 'not_ready',
      checks: { database: 'locked', migrations: 'ok' },
    });
  });

  it('getReadiness still throws for a 503 that is an error envelope or not JSON, and for other statuses', async () => {
    mockFetch(async () => jsonResponse(503, { error: { code: 'shutting_down', message: 'bye' } }));
    expect(await rejection(getReadiness())).toMatchObject({ status: 503, code: 'shutting_down' });

    mockFetch(async () => new Response('Service Unavailable', { status: 503 }));
    expect(await rejection(getReadiness())).toMatchObject({ status: 503, code: 'unavailable' });

    mockFetch(async () => jsonResponse(500, { error: { code: 'internal', message: 'boom' } }));
    expect(await rejection(getReadiness())).toMatchObject({ status: 500, code: 'internal' });
  });
});

describe('CSRF token', () => {
  afterEach(() => {
    api.setCsrfToken(undefined);
  });

  const headersOf = (init: RequestInit | undefined) => (init?.headers ?? {}) as Record<string, string>;

  it('is sent on unsafe methods only, once known', async () => {
    const fetchMock = mockFetch(async () => new Response(null, { status: 204 }));
    await api.post('/api/v1/jobs', {});
    expect(headersOf(fetchMock.mock.calls[0]![1])['X-CSRF-Token']).toBeUndefined();

    api.setCsrfToken('tok-1');
    expect(api.getCsrfToken()).toBe('tok-1');
    await api.get('/api/v1/me/tokens');
    await api.post('/api/v1/me/tokens', { name: 'x' });
    await api.patch('/api/v1/me', { display_name: 'Ada' });
    await api.put('/api/v1/x', {});
    await api.delete('/api/v1/me/tokens/1');
    const sent = fetchMock.mock.calls.slice(1).map(([, init]) => `${init?.method} ${headersOf(init)['X-CSRF-Token']}`);
    expect(sent).toEqual(['GET undefined', 'POST tok-1', 'PATCH tok-1', 'PUT tok-1', 'DELETE tok-1']);
  });

  it('is forgotten with undefined or an empty string', () => {
    api.setCsrfToken('tok');
    api.setCsrfToken('');
    expect(api.getCsrfToken()).toBeUndefined();
  });

  it('is refreshed from /api/v1/session and the request retried once when the server rejects it', async () => {
    api.setCsrfToken('stale');
    const fetchMock = mockFetch(async (input, init) => {
      const url = String(input);
      if (url === '/api/v1/session')
        return jsonResponse(200, { signed_in: true, user: { id: 1 }, auth_method: 'session', csrf_token: 'fresh' });
      const token = headersOf(init)['X-CSRF-Token'];
      if (token !== 'fresh') {
        return jsonResponse(403, {
          error: { code: 'permission_denied', message: "missing or wrong CSRF token: send the session's token in X-CSRF-Token" },
        });
      }
      return jsonResponse(201, { id: 7 });
    });
    await expect(api.post('/api/v1/me/tokens', { name: 'x' })).resolves.toEqual({ id: 7 });
    expect(fetchMock.mock.calls.map(([url, init]) => `${init?.method} ${String(url)}`)).toEqual([
      'POST /api/v1/me/tokens',
      'GET /api/v1/session',
      'POST /api/v1/me/tokens',
    ]);
    expect(api.getCsrfToken()).toBe('fresh');
  });

  it('does not retry when the refresh brings no new token, nor for other 403s', async () => {
    api.setCsrfToken('same');
    const fetchMock = mockFetch(async (input) =>
      String(input) === '/api/v1/session'
        ? jsonResponse(200, { signed_in: true, user: { id: 1 }, csrf_token: 'same' })
        : jsonResponse(403, { error: { code: 'permission_denied', message: 'missing or wrong CSRF token' } }),
    );
    const err = await rejection(api.post('/api/v1/me/tokens', {}));
    expect(api.isCsrfError(err)).toBe(true);
    expect(fetchMock).toHaveBeenCalledTimes(2);

    const other = mockFetch(async () =>
      jsonResponse(403, { error: { code: 'permission_denied', message: 'only the master user can do this' } }),
    );
    const denied = await rejection(api.delete('/api/v1/account/members/2'));
    expect(api.isCsrfError(denied)).toBe(false);
    expect(other).toHaveBeenCalledTimes(1);
  });

  it('recognises the CSRF error by details.reason too', () => {
    expect(api.isCsrfError(new ApiError(403, 'permission_denied', 'denied', { reason: 'csrf' }))).toBe(true);
    expect(api.isCsrfError(new ApiError(400, 'invalid_argument', 'csrf'))).toBe(false);
  });
});

describe('429 answers', () => {
  it('carry retryAfter from details.retry_after', async () => {
    mockFetch(async () =>
      jsonResponse(429, {
        error: { code: 'resource_exhausted', message: 'too many failed sign-ins; try again in 30 s', details: { retry_after: '30' } },
      }),
    );
    const err = await rejection(api.post('/api/v1/auth/login', { email: 'a@b.c', password: 'x' }));
    expect(err.status).toBe(429);
    expect(err.retryAfter).toBe(30);
  });

  it('fall back to the Retry-After header', () => {
    const err = errorFromResponse(429, 'Too Many Requests', '{"error":{"code":"resource_exhausted","message":"slow down"}}', '12');
    expect(err.retryAfter).toBe(12);
    expect(errorFromResponse(429, '', 'busy', '5').retryAfter).toBe(5);
    expect(errorFromResponse(429, '', 'busy', 'Wed, 21 Oct 2026 07:28:00 GMT').retryAfter).toBeUndefined();
  });

  it('parseSeconds accepts whole seconds only', () => {
    expect(api.parseSeconds('30')).toBe(30);
    expect(api.parseSeconds(2.2)).toBe(3);
    expect(api.parseSeconds('-1')).toBeUndefined();
    expect(api.parseSeconds('soon')).toBeUndefined();
    expect(api.parseSeconds(undefined)).toBeUndefined();
  });
});

describe('error details', () => {
  it('exposes details.reason', () => {
    const err = errorFromResponse(
      403,
      '',
      JSON.stringify({ error: { code: 'permission_denied', message: 'verify first', details: { reason: 'email_not_verified' } } }),
    );
    expect(err.reason).toBe('email_not_verified');
    expect(err.field).toBeUndefined();
  });
});

describe('onSessionEnded', () => {
  it('fires for a 401 from a signed-in call, not from /api/v1/auth/*', async () => {
    const listener = vi.fn();
    const stop = api.onSessionEnded(listener);
    mockFetch(async () => jsonResponse(401, { error: { code: 'unauthenticated', message: 'your session has ended; sign in again' } }));
    await rejection(api.get('/api/v1/me/tokens'));
    expect(listener).toHaveBeenCalledTimes(1);
    expect(listener.mock.calls[0]![0]).toMatchObject({ status: 401, code: 'unauthenticated' });

    await rejection(api.post('/api/v1/auth/login', { email: 'a@b.c', password: 'wrong' }));
    expect(listener).toHaveBeenCalledTimes(1);

    stop();
    await rejection(api.get('/api/v1/me/tokens'));
    expect(listener).toHaveBeenCalledTimes(1);
  });
});

describe('requestFile', () => {
  afterEach(() => {
    api.setCsrfToken(undefined);
  });

  it('returns the bytes and the file name, sending JSON and the CSRF token', async () => {
    api.setCsrfToken('tok');
    const fetchMock = mockFetch(
      async () =>
        new Response(new Uint8Array([0x50, 0x4b, 3, 4]), {
          status: 201,
          headers: { 'Content-Type': 'application/zip', 'Content-Disposition': 'attachment; filename="keys-ada.zip"' },
        }),
    );
    const download = await api.requestFile('POST', '/api/v1/me/certificates', { valid_days: 30 });
    expect(download.filename).toBe('keys-ada.zip');
    expect(new Uint8Array(await download.blob.arrayBuffer())).toEqual(new Uint8Array([0x50, 0x4b, 3, 4]));
    const init = fetchMock.mock.calls[0]![1]!;
    expect((init.headers as Record<string, string>)['X-CSRF-Token']).toBe('tok');
    expect(init.body).toBe('{"valid_days":30}');
  });

  it('throws the error envelope of a failed answer', async () => {
    mockFetch(async () => jsonResponse(400, { error: { code: 'invalid_argument', message: 'valid_days must be from 1 to 825', details: { field: 'valid_days' } } }));
    const err = await rejection(api.requestFile('POST', '/api/v1/me/certificates', { valid_days: 0 }));
    expect(err.field).toBe('valid_days');
  });

  it.each([
    ['attachment; filename="a b.zip"', 'a b.zip'],
    ['attachment; filename=plain.zip', 'plain.zip'],
    ["attachment; filename*=UTF-8''na%C3%AFve.zip; filename=\"naive.zip\"", 'naïve.zip'],
    ['attachment', undefined],
    [null, undefined],
  ])('filenameFromDisposition(%j) -> %j', (header, expected) => {
    expect(api.filenameFromDisposition(header)).toBe(expected);
  });
});
