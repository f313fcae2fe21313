import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, setCsrfToken } from './client';
import * as files from './files';

function mockFetch(impl: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>) {
  const fn = vi.fn(impl);
  vi.stubGlobal('fetch', fn);
  return fn;
}

function json(status: number, body: unknown): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

const headersOf = (init: RequestInit | undefined) => (init?.headers ?? {}) as Record<string, string>;

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(undefined);
});

describe('file service URLs', () => {
  it('encodes each path segment on its own', () => {
    expect(files.filesUrl('datasets/a b/c#d.csv')).toBe('/api/v1/files/datasets/a%20b/c%23d.csv');
    expect(files.filesUrl('')).toBe('/api/v1/files/');
    expect(files.downloadUrl('datasets/x.png', true)).toBe('/api/v1/download/datasets/x.png?inline=1');
    expect(files.linkFilesUrl('tok/1', 'sub dir')).toBe('/api/v1/links/tok%2F1/files/sub%20dir');
    expect(files.linkDownloadUrl('tok', '')).toBe('/api/v1/links/tok/download/');
    expect(files.contentRange(8, 4, 20)).toBe('bytes 8-11/20');
    expect(files.contentRange(0, 4, null)).toBe('bytes 0-3/*');
  });
});

describe('file service calls', () => {
  it('lists with sort, order, limit and cursor', async () => {
    const fetchMock = mockFetch(async () => json(200, { path: 'datasets', kind: 'folder', writable: true, entries: [], total: 0, next_cursor: null }));
    const answer = await files.getPath('datasets', { sort: 'size', order: 'desc', limit: 200, cursor: 'c1' });
    expect(fetchMock.mock.calls[0]![0]).toBe('/api/v1/files/datasets?sort=size&order=desc&limit=200&cursor=c1');
    expect(files.isListing(answer)).toBe(true);
  });

  it('sends the changes with the CSRF token', async () => {
    setCsrfToken('tok');
    const fetchMock = mockFetch(async (_input, init) => json(init?.method === 'DELETE' ? 204 : 201, { id: 1 }));
    await files.createFolder('datasets/new');
    await files.movePath('datasets/a', 'datasets/b');
    await files.deletePath('datasets/dir', true);
    await files.deletePath('datasets/file.csv', false);
    await files.copyPath('public/models/acme/r/1', 'models/r');
    await files.createShare({ path: 'datasets/mnist', link: true, expires_at: 1_800_000_000 });
    await files.createPublication({ kind: 'model', name: 'r', version: '1', description: '', path: 'models/r' });
    const calls = fetchMock.mock.calls.map(([url, init]) => [`${init?.method} ${String(url)}`, init?.body ? JSON.parse(String(init.body)) : undefined]);
    expect(calls).toEqual([
      ['POST /api/v1/folders', { path: 'datasets/new' }],
      ['PATCH /api/v1/files/datasets/a', { path: 'datasets/b' }],
      ['DELETE /api/v1/files/datasets/dir?recursive=true', undefined],
      ['DELETE /api/v1/files/datasets/file.csv', undefined],
      ['POST /api/v1/copies', { from: 'public/models/acme/r/1', to: 'models/r' }],
      ['POST /api/v1/shares', { path: 'datasets/mnist', link: true, expires_at: 1_800_000_000 }],
      ['POST /api/v1/publications', { kind: 'model', name: 'r', version: '1', description: '', path: 'models/r' }],
    ]);
    expect(fetchMock.mock.calls.every(([, init]) => headersOf(init)['X-CSRF-Token'] === 'tok')).toBe(true);
  });

  it('searches publications by kind and text', async () => {
    const fetchMock = mockFetch(async () => json(200, { publications: [] }));
    await files.listPublications({ kind: 'dataset', q: ' mnist ' });
    await files.listPublications({ q: '  ' });
    expect(fetchMock.mock.calls.map(([url]) => String(url))).toEqual(['/api/v1/publications?kind=dataset&q=mnist', '/api/v1/publications']);
  });
});

describe('readHead', () => {
  it('asks for a byte range and reads the size from Content-Range', async () => {
    const fetchMock = mockFetch(
      async () =>
        new Response('a,b\n1,2\n', {
          status: 206,
          headers: { 'Content-Type': 'text/csv', 'Content-Range': 'bytes 0-7/100000' },
        }),
    );
    const head = await files.readHead('/api/v1/download/datasets/t.csv', 65536);
    expect(headersOf(fetchMock.mock.calls[0]![1]).Range).toBe('bytes=0-65535');
    expect(new TextDecoder().decode(head.bytes)).toBe('a,b\n1,2\n');
    expect(head).toMatchObject({ size: 100000, contentType: 'text/csv', truncated: true });
  });

  it('reads only `max` bytes of a server that sends the whole file', async () => {
    mockFetch(async () => new Response(new Uint8Array(5000), { status: 200, headers: { 'Content-Length': '5000' } }));
    const head = await files.readHead('/x', 512);
    expect(head.bytes.length).toBe(512);
    expect(head).toMatchObject({ size: 5000, truncated: true });
  });

  it('treats 416 as an empty file and errors as ApiError', async () => {
    mockFetch(async () => new Response(null, { status: 416, headers: { 'Content-Range': 'bytes */0' } }));
    expect(await files.readHead('/x', 512)).toMatchObject({ size: 0, truncated: false });
    mockFetch(async () => json(404, { error: { code: 'not_found', message: 'no such file' } }));
    await expect(files.readHead('/x', 512)).rejects.toBeInstanceOf(ApiError);
  });
});
