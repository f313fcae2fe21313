// The upload queue through the real API module: fetch (POST/GET/DELETE of sessions) is mocked, and
// XMLHttpRequest (the chunk PUTs) is a fake that plays a server keeping an offset per session.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { setCsrfToken } from '../../api/client';
import { filesApi } from '../../api/files';
import { until } from './testing';
import type { UploadItem } from './uploads';
import { UploadQueue, uploadRequests } from './uploads';

interface Session {
  id: string;
  path: string;
  size: number;
  offset: number;
  bytes: number[];
}

type Respond = (xhr: FakeXHR, session: Session, start: number, body: Uint8Array) => 'handled' | void;

class FakeXHR {
  static sent: FakeXHR[] = [];
  static server: FakeServer;
  method = '';
  url = '';
  headers: Record<string, string> = {};
  status = 0;
  statusText = '';
  responseText = '';
  withCredentials = false;
  responseHeaders: Record<string, string> = {};
  upload: { onprogress: ((event: { loaded: number; total: number; lengthComputable: boolean }) => void) | null } = { onprogress: null };
  onload: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  aborted = false;

  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  getResponseHeader(name: string): string | null {
    return this.responseHeaders[name] ?? null;
  }
  send(body: Blob) {
    FakeXHR.sent.push(this);
    void body.arrayBuffer().then((buffer) => FakeXHR.server.put(this, new Uint8Array(buffer)));
  }
  abort() {
    this.aborted = true;
    this.onabort?.();
  }
  respond(status: number, body: unknown, headers: Record<string, string> = {}) {
    this.status = status;
    this.responseText = JSON.stringify(body);
    this.responseHeaders = headers;
    this.onload?.();
  }
}

class FakeServer {
  sessions = new Map<string, Session>();
  next = 1;
  /** Called for each PUT before the normal handling; 'handled' skips it. */
  hook: Respond | null = null;
  /** Answer the creation of an empty file's upload as complete (nothing to PUT). */
  completeEmpty = false;
  log: string[] = [];

  create(path: string, size: number): Session {
    const session = { id: `up_${this.next++}`, path, size, offset: 0, bytes: [] as number[] };
    this.sessions.set(session.id, session);
    return session;
  }

  put(xhr: FakeXHR, body: Uint8Array) {
    const id = decodeURIComponent(xhr.url.split('/').pop()!);
    const session = this.sessions.get(id)!;
    const range = xhr.headers['Content-Range'];
    const start = range ? Number(/^bytes (\d+)-/.exec(range)![1]) : 0;
    this.log.push(`PUT ${id} ${range ?? '(no range)'}`);
    if (this.hook?.(xhr, session, start, body) === 'handled') return;
    if (start !== session.offset) {
      xhr.respond(
        409,
        { error: { code: 'conflict', message: 'offset mismatch', details: { offset: String(session.offset) } } },
        { 'Upload-Offset': String(session.offset) },
      );
      return;
    }
    session.bytes.push(...body);
    session.offset += body.length;
    xhr.upload.onprogress?.({ loaded: body.length, total: body.length, lengthComputable: true });
    const complete = session.offset === session.size;
    xhr.respond(200, {
      id,
      path: session.path,
      size: session.size,
      offset: session.offset,
      complete,
      ...(complete ? { file: { name: session.path.split('/').pop(), path: session.path, kind: 'file', size: session.size } } : {}),
    });
  }
}

let server: FakeServer;
let fetchMock: ReturnType<typeof vi.fn>;

function json(status: number, body: unknown): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

beforeEach(() => {
  server = new FakeServer();
  FakeXHR.server = server;
  FakeXHR.sent = [];
  vi.stubGlobal('XMLHttpRequest', FakeXHR);
  fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    const method = init?.method ?? 'GET';
    server.log.push(`${method} ${url}`);
    if (method === 'POST' && url === '/api/v1/uploads') {
      const body = JSON.parse(String(init?.body)) as { path: string; size: number };
      if (body.size > 1000) {
        return json(403, { error: { code: 'quota_exceeded', message: 'storage quota exceeded', details: { used_bytes: '10', quota_bytes: '1000' } } });
      }
      const session = server.create(body.path, body.size);
      if (body.size === 0 && server.completeEmpty) {
        return json(201, { id: session.id, path: session.path, size: 0, offset: 0, expires_at: 1, complete: true, file: { path: session.path } });
      }
      return json(201, { id: session.id, path: session.path, size: session.size, offset: 0, expires_at: 1 });
    }
    const match = /^\/api\/v1\/uploads\/([^/]+)$/.exec(url);
    if (match) {
      const session = server.sessions.get(decodeURIComponent(match[1]!))!;
      if (method === 'DELETE') {
        server.sessions.delete(session.id);
        return json(204, null);
      }
      return json(200, { id: session.id, path: session.path, size: session.size, offset: session.offset, complete: false });
    }
    return json(404, { error: { code: 'not_found', message: 'no' } });
  });
  vi.stubGlobal('fetch', fetchMock);
  setCsrfToken('csrf-1');
});

afterEach(() => {
  vi.unstubAllGlobals();
  setCsrfToken(undefined);
});

function bytes(n: number): Blob {
  return new Blob([Uint8Array.from({ length: n }, (_, i) => i % 251)]);
}

function track(queue: UploadQueue) {
  const state: { items: readonly UploadItem[] } = { items: [] };
  queue.subscribe((items) => {
    state.items = items;
  });
  return state;
}

const puts = () => server.log.filter((line) => line.startsWith('PUT '));

describe('UploadQueue', () => {
  it('sends a file in chunks with Content-Range, reports progress and completes', async () => {
    const queue = new UploadQueue(filesApi, { chunkBytes: 4, retryDelayMs: 0 });
    const state = track(queue);
    const progress: number[] = [];
    queue.subscribe((items) => progress.push(items[0]!.sent));
    const done = vi.fn();
    queue.onDone(done);

    queue.add([{ path: 'datasets/x.bin', label: 'x.bin', file: bytes(10) }]);
    await until(() => state.items[0]?.state === 'done');

    expect(fetchMock.mock.calls[0]![0]).toBe('/api/v1/uploads');
    expect(JSON.parse(String(fetchMock.mock.calls[0]![1]!.body))).toEqual({ path: 'datasets/x.bin', size: 10 });
    expect(puts()).toEqual(['PUT up_1 bytes 0-3/10', 'PUT up_1 bytes 4-7/10', 'PUT up_1 bytes 8-9/10']);
    expect(FakeXHR.sent.every((xhr) => xhr.method === 'PUT' && xhr.url === '/api/v1/uploads/up_1')).toBe(true);
    expect(FakeXHR.sent[0]!.headers['X-CSRF-Token']).toBe('csrf-1');
    expect(server.sessions.get('up_1')!.bytes).toEqual([...Array.from({ length: 10 }, (_, i) => i)]);
    expect(progress).toContain(4);
    expect(progress).toContain(8);
    expect(state.items[0]).toMatchObject({ state: 'done', sent: 10, size: 10 });
    expect(done).toHaveBeenCalledWith(expect.objectContaining({ path: 'datasets/x.bin', state: 'done' }));
  });

  it('continues from the offset a 409 names', async () => {
    const queue = new UploadQueue(filesApi, { chunkBytes: 4, retryDelayMs: 0 });
    const state = track(queue);
    // The server already has 6 bytes (an earlier attempt that the client did not hear back from).
    server.hook = (xhr, session, start) => {
      if (session.offset === 0 && start === 0 && puts().length === 1) {
        session.bytes.push(0, 1, 2, 3, 4, 5);
        session.offset = 6;
        xhr.respond(409, { error: { code: 'conflict', message: 'offset is 6', details: { offset: '6' } } });
        return 'handled';
      }
    };
    queue.add([{ path: 'datasets/x.bin', label: 'x.bin', file: bytes(10) }]);
    await until(() => state.items[0]?.state === 'done');
    expect(puts()).toEqual(['PUT up_1 bytes 0-3/10', 'PUT up_1 bytes 6-9/10']);
    expect(server.sessions.get('up_1')!.bytes).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('after a lost connection asks the server where it stands and goes on from there', async () => {
    const queue = new UploadQueue(filesApi, { chunkBytes: 4, retryDelayMs: 0 });
    const state = track(queue);
    // The second chunk's connection drops after the server kept 2 of its bytes.
    server.hook = (xhr, session, start, body) => {
      if (start === 4 && puts().length === 2) {
        session.bytes.push(...body.subarray(0, 2));
        session.offset += 2;
        xhr.onerror?.();
        return 'handled';
      }
    };
    queue.add([{ path: 'datasets/x.bin', label: 'x.bin', file: bytes(10) }]);
    await until(() => state.items[0]?.state === 'done');
    expect(server.log.filter((line) => line.startsWith('PUT ') || line.startsWith('GET '))).toEqual([
      'PUT up_1 bytes 0-3/10',
      'PUT up_1 bytes 4-7/10',
      'GET /api/v1/uploads/up_1',
      'PUT up_1 bytes 6-9/10',
    ]);
    expect(server.sessions.get('up_1')!.bytes).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('gives up after a few lost connections and shows the error', async () => {
    const queue = new UploadQueue(filesApi, { chunkBytes: 4, retryDelayMs: 0, retries: 2 });
    const state = track(queue);
    server.hook = (xhr) => {
      xhr.onerror?.();
      return 'handled';
    };
    queue.add([{ path: 'datasets/x.bin', label: 'x.bin', file: bytes(10) }]);
    await until(() => state.items[0]?.state === 'failed');
    expect(puts()).toHaveLength(3);
    expect(state.items[0]!.error?.code).toBe('unreachable');
  });

  it('cancels: aborts the request and deletes the session', async () => {
    const queue = new UploadQueue(filesApi, { chunkBytes: 4, retryDelayMs: 0 });
    const state = track(queue);
    let held: FakeXHR | undefined;
    server.hook = (xhr) => {
      held = xhr;
      return 'handled';
    };
    queue.add([{ path: 'datasets/x.bin', label: 'x.bin', file: bytes(10) }]);
    await until(() => held !== undefined);
    expect(state.items[0]!.state).toBe('uploading');
    queue.cancel(state.items[0]!.key);
    await until(() => state.items[0]?.state === 'cancelled');
    expect(held!.aborted).toBe(true);
    await until(() => server.log.includes('DELETE /api/v1/uploads/up_1'));
    expect(server.sessions.has('up_1')).toBe(false);
  });

  it('shows the server’s refusal (quota exceeded) and sends at most `concurrency` files at once', async () => {
    const queue = new UploadQueue(filesApi, { chunkBytes: 4, retryDelayMs: 0, concurrency: 2 });
    const state = track(queue);
    const held: FakeXHR[] = [];
    server.hook = (xhr) => {
      held.push(xhr);
      return 'handled';
    };
    queue.add([
      { path: 'datasets/a', label: 'a', file: bytes(3) },
      { path: 'datasets/b', label: 'b', file: bytes(3) },
      { path: 'datasets/c', label: 'c', file: bytes(3) },
      { path: 'datasets/big', label: 'big', file: bytes(2000) },
    ]);
    await until(() => held.length === 2);
    expect(state.items.map((item) => item.state)).toEqual(['uploading', 'uploading', 'queued', 'queued']);
    server.hook = null;
    for (const xhr of held) FakeXHR.server.put(xhr, new Uint8Array([0, 1, 2]));
    await until(() => state.items.every((item) => item.state === 'done' || item.state === 'failed'));
    expect(state.items.map((item) => item.state)).toEqual(['done', 'done', 'done', 'failed']);
    expect(state.items[3]!.error?.message).toBe('storage quota exceeded');
  });

  it('uploads an empty file with one PUT and no Content-Range', async () => {
    const queue = new UploadQueue(filesApi, { chunkBytes: 4, retryDelayMs: 0 });
    const state = track(queue);
    queue.add([{ path: 'datasets/empty', label: 'empty', file: new Blob([]) }]);
    await until(() => state.items[0]?.state === 'done');
    expect(puts()).toEqual(['PUT up_1 (no range)']);
  });

  it('is done without a PUT when the server completes an empty file at once', async () => {
    server.completeEmpty = true;
    const queue = new UploadQueue(filesApi, { chunkBytes: 4, retryDelayMs: 0 });
    const state = track(queue);
    queue.add([{ path: 'datasets/empty', label: 'empty', file: new Blob([]) }]);
    await until(() => state.items[0]?.state === 'done');
    expect(puts()).toEqual([]);
  });
});

describe('uploadRequests', () => {
  it('keeps each file’s path relative to the chosen folder, under the current folder', () => {
    const file = new File(['x'], 'a.csv');
    expect(
      uploadRequests('datasets/mnist', [
        { relativePath: 'images/a.csv', file },
        { relativePath: 'top.txt', file },
        { relativePath: 'bad/../x', file },
      ]).map(({ path, label }) => [path, label]),
    ).toEqual([
      ['datasets/mnist/images/a.csv', 'images/a.csv'],
      ['datasets/mnist/top.txt', 'top.txt'],
    ]);
  });
});
