import { afterEach, describe, expect, it, vi } from 'vitest';
import { setCsrfToken } from './client';
import * as notebook from './notebook';

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(undefined);
});

describe('notebook API', () => {
  it('reads, starts (with or without resources), stops and restarts the notebook', async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ state: 'starting' }), { status: 202 }));
    vi.stubGlobal('fetch', fetchMock);
    setCsrfToken('csrf-1');
    await notebook.getNotebook();
    await notebook.startNotebook();
    await notebook.startNotebook({ cpu: '2', memory: '4Gi', gpus: 0 });
    await notebook.stopNotebook();
    expect(await notebook.restartNotebook({ gpus: 1 })).toEqual({ state: 'starting' });
    const calls = fetchMock.mock.calls as unknown as Array<[string, RequestInit]>;
    expect(calls.map(([url, init]) => `${init.method} ${url} ${init.body ?? ''}`.trim())).toEqual([
      'GET /api/v1/notebook',
      'POST /api/v1/notebook/start',
      'POST /api/v1/notebook/start {"cpu":"2","memory":"4Gi","gpus":0}',
      'POST /api/v1/notebook/stop',
      'POST /api/v1/notebook/restart {"gpus":1}',
    ]);
    expect((calls[1]![1].headers as Record<string, string>)['X-CSRF-Token']).toBe('csrf-1');
  });

  it('builds the handoff URL with its next path encoded', () => {
    expect(notebook.notebookHandoffUrl('/user/7/tree')).toBe('/api/v1/notebook/handoff?next=%2Fuser%2F7%2Ftree');
    expect(notebook.notebookHandoffUrl('/user/7/notebooks/a b.ipynb')).toBe('/api/v1/notebook/handoff?next=%2Fuser%2F7%2Fnotebooks%2Fa%20b.ipynb');
  });
});
