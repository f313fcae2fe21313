// Uploads of files and whole folders into the account's space, resumable per docs/files.md:
// POST /api/v1/uploads opens a session, the bytes go in chunks (PUT with Content-Range), a lost
// connection continues from the server's offset (GET /api/v1/uploads/{id}), a 409 names the offset to
// continue from, and Cancel aborts the request and deletes the session.
//
// The queue lives outside the pages (one per browser tab), so uploads go on while the person browses
// other folders; at most `concurrency` files are sent at a time.
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from '../../api/client';
import type { FileEntry, FilesApi } from '../../api/files';
import { filesApi } from '../../api/files';
import { isAbort, toApiError } from '../../forms';
import { joinPath } from './paths';

export type UploadApi = Pick<FilesApi, 'createUpload' | 'uploadChunk' | 'getUpload' | 'cancelUpload'>;

export type UploadState = 'queued' | 'uploading' | 'done' | 'failed' | 'cancelled';

export interface UploadItem {
  key: number;
  /** The cloud path it is uploaded to. */
  path: string;
  /** What the person chose: the file name, or its path inside a chosen folder. */
  label: string;
  size: number;
  /** Bytes the server has (or is receiving now). */
  sent: number;
  state: UploadState;
  error: ApiError | null;
  /** The file as the server answered when it completed. */
  file: FileEntry | null;
}

/** A file to upload and where it goes. */
export interface UploadRequest {
  path: string;
  label: string;
  file: Blob;
}

export interface UploadOptions {
  concurrency?: number;
  chunkBytes?: number;
  /** Attempts after a lost connection (each continues from the server's offset). */
  retries?: number;
  retryDelayMs?: number;
}

export const CHUNK_BYTES = 8 * 1024 * 1024;
export const CONCURRENCY = 3;
export const RETRIES = 4;
export const RETRY_DELAY_MS = 1_000;
/** A 409 that names the same offset again and again means something else is writing: give up. */
const MAX_CONFLICTS = 5;

interface Running {
  item: UploadItem;
  blob: Blob;
  controller: AbortController;
  uploadId: string | null;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new DOMException('The upload was cancelled', 'AbortError'));
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new DOMException('The upload was cancelled', 'AbortError'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function offsetOf(err: ApiError): number | undefined {
  const value = err.details?.['offset'];
  const offset = typeof value === 'number' ? value : typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  return Number.isFinite(offset) ? offset : undefined;
}

/** Errors worth another attempt from the server's offset: no answer, or a passing server failure. */
function retryable(err: ApiError): boolean {
  return err.status === 0 || err.status === 502 || err.status === 503 || err.status === 504 || err.status === 408;
}

export class UploadQueue {
  private items: UploadItem[] = [];
  private running = new Map<number, Running>();
  private waiting: Array<{ key: number; blob: Blob }> = [];
  private nextKey = 1;
  private listeners = new Set<(items: readonly UploadItem[]) => void>();
  private doneListeners = new Set<(item: UploadItem) => void>();
  private readonly concurrency: number;
  private readonly chunkBytes: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;

  constructor(
    private readonly api: UploadApi,
    options: UploadOptions = {},
  ) {
    this.concurrency = options.concurrency ?? CONCURRENCY;
    this.chunkBytes = options.chunkBytes ?? CHUNK_BYTES;
    this.retries = options.retries ?? RETRIES;
    this.retryDelayMs = options.retryDelayMs ?? RETRY_DELAY_MS;
  }

  /** Every upload of this tab, oldest first. */
  list(): readonly UploadItem[] {
    return this.items;
  }

  /** True while something is queued or being sent. */
  get busy(): boolean {
    return this.items.some((item) => item.state === 'queued' || item.state === 'uploading');
  }

  subscribe(listener: (items: readonly UploadItem[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls `listener` with each upload that completes. */
  onDone(listener: (item: UploadItem) => void): () => void {
    this.doneListeners.add(listener);
    return () => this.doneListeners.delete(listener);
  }

  add(requests: readonly UploadRequest[]): void {
    for (const request of requests) {
      const key = this.nextKey++;
      this.items = [
        ...this.items,
        { key, path: request.path, label: request.label, size: request.file.size, sent: 0, state: 'queued', error: null, file: null },
      ];
      this.waiting.push({ key, blob: request.file });
    }
    this.emit();
    this.pump();
  }

  /** Stops an upload: a queued one is dropped, a running one aborted and its session deleted. */
  cancel(key: number): void {
    const waiting = this.waiting.findIndex((entry) => entry.key === key);
    if (waiting !== -1) {
      this.waiting.splice(waiting, 1);
      this.update(key, { state: 'cancelled' });
      return;
    }
    const run = this.running.get(key);
    if (run) {
      run.controller.abort();
    }
  }

  /** Sends a failed upload again (a new session: the server discards failed ones). */
  retry(key: number): void {
    const item = this.items.find((entry) => entry.key === key);
    const blob = this.blobs.get(key);
    if (!item || !blob || (item.state !== 'failed' && item.state !== 'cancelled')) return;
    this.update(key, { state: 'queued', sent: 0, error: null });
    this.waiting.push({ key, blob });
    this.pump();
  }

  /** Forgets the uploads that have ended (done, failed, cancelled). */
  clearFinished(): void {
    this.items = this.items.filter((item) => item.state === 'queued' || item.state === 'uploading');
    for (const key of [...this.blobs.keys()]) {
      if (!this.items.some((item) => item.key === key)) this.blobs.delete(key);
    }
    this.emit();
  }

  /** Aborts everything (tests; a page that owns its own queue). */
  dispose(): void {
    for (const entry of this.waiting) this.update(entry.key, { state: 'cancelled' });
    this.waiting = [];
    for (const run of this.running.values()) run.controller.abort();
  }

  // Kept for retry(): the file of each upload still listed.
  private blobs = new Map<number, Blob>();

  private emit(): void {
    for (const listener of [...this.listeners]) listener(this.items);
  }

  private update(key: number, change: Partial<UploadItem>): UploadItem | undefined {
    let updated: UploadItem | undefined;
    this.items = this.items.map((item) => {
      if (item.key !== key) return item;
      updated = { ...item, ...change };
      return updated;
    });
    this.emit();
    return updated;
  }

  private pump(): void {
    while (this.running.size < this.concurrency && this.waiting.length > 0) {
      const next = this.waiting.shift()!;
      const item = this.items.find((entry) => entry.key === next.key);
      if (!item) continue;
      this.blobs.set(next.key, next.blob);
      const run: Running = { item, blob: next.blob, controller: new AbortController(), uploadId: null };
      this.running.set(next.key, run);
      void this.run(run);
    }
  }

  private async run(run: Running): Promise<void> {
    const { key } = run.item;
    const signal = run.controller.signal;
    this.update(key, { state: 'uploading', sent: 0, error: null });
    try {
      const file = await this.send(run, signal);
      const done = this.update(key, { state: 'done', sent: run.blob.size, file });
      if (done) for (const listener of [...this.doneListeners]) listener(done);
    } catch (err) {
      if (isAbort(err) || signal.aborted) {
        this.update(key, { state: 'cancelled' });
        if (run.uploadId !== null) {
          // Best effort: the server also expires sessions nobody touches.
          this.api.cancelUpload(run.uploadId).catch(() => undefined);
        }
      } else {
        this.update(key, { state: 'failed', error: toApiError(err) });
      }
    } finally {
      this.running.delete(key);
      this.pump();
    }
  }

  /** Sends one file; resolves with its entry once the server has it all. */
  private async send(run: Running, signal: AbortSignal): Promise<FileEntry | null> {
    const { blob } = run;
    const size = blob.size;
    const session = await this.api.createUpload({ path: run.item.path, size }, { signal });
    run.uploadId = session.id;
    if (session.complete) return session.file ?? null;
    let offset = session.offset ?? 0;
    let failures = 0;
    let conflicts = 0;
    for (;;) {
      if (signal.aborted) throw new DOMException('The upload was cancelled', 'AbortError');
      const end = Math.min(offset + this.chunkBytes, size);
      const start = offset;
      this.update(run.item.key, { sent: start });
      try {
        const status = await this.api.uploadChunk(session.id, blob.slice(start, end), start, size, {
          signal,
          onProgress: (loaded) => this.update(run.item.key, { sent: Math.min(start + loaded, size) }),
        });
        failures = 0;
        if (status.complete) return status.file ?? null;
        if (status.offset <= start && end > start) {
          throw new ApiError(500, 'no_progress', 'The server did not take the bytes sent; try again.');
        }
        offset = status.offset;
        if (offset >= size) {
          // Everything was sent but the server did not say complete: ask where it stands.
          const state = await this.api.getUpload(session.id, { signal });
          if (state.complete) return state.file ?? null;
          throw new ApiError(500, 'incomplete', 'The server has every byte but did not complete the upload.');
        }
      } catch (err) {
        if (isAbort(err) || signal.aborted) throw err;
        const error = toApiError(err);
        const serverOffset = error.status === 409 ? offsetOf(error) : undefined;
        if (serverOffset !== undefined && serverOffset <= size) {
          conflicts = serverOffset === start ? conflicts + 1 : 0;
          if (conflicts >= MAX_CONFLICTS) throw error;
          if (serverOffset === start) await sleep(this.retryDelayMs, signal);
          offset = serverOffset;
          continue;
        }
        if (!retryable(error) && error.status !== 409) throw error;
        failures++;
        if (failures > this.retries) throw error;
        await sleep(this.retryDelayMs * failures, signal);
        try {
          const state = await this.api.getUpload(session.id, { signal });
          if (state.complete) return state.file ?? null;
          offset = state.offset;
        } catch (probe) {
          if (isAbort(probe) || signal.aborted) throw probe;
          // Still unreachable: the next attempt starts where the last answer said.
        }
      }
    }
  }
}

// ---- The tab's queue ------------------------------------------------------------------------------

let shared: UploadQueue | undefined;

/** The queue of this browser tab (created on first use). */
export function uploadQueue(): UploadQueue {
  if (!shared) {
    shared = new UploadQueue(filesApi);
    // Leaving the page would lose the uploads still being sent: ask first.
    window.addEventListener('beforeunload', (event) => {
      if (shared?.busy) event.preventDefault();
    });
  }
  return shared;
}

/** The uploads of `queue`; re-renders the caller on every change. */
export function useUploads(queue: UploadQueue): readonly UploadItem[] {
  const [items, setItems] = useState(() => queue.list());
  useEffect(() => {
    setItems(queue.list());
    return queue.subscribe(setItems);
  }, [queue]);
  return items;
}

// ---- Choosing files -------------------------------------------------------------------------------

/** A file chosen in the browser with its path relative to the drop or the chosen folder. */
export interface ChosenFile {
  relativePath: string;
  file: File;
}

/** Files from an <input type=file> (a folder picker names them by webkitRelativePath). */
export function chosenFromInput(files: FileList | readonly File[] | null): ChosenFile[] {
  return [...(files ?? [])].map((file) => ({ relativePath: file.webkitRelativePath || file.name, file }));
}

/** Every file under a dropped entry (folders are walked), named by its path from the drop. */
export async function filesOfEntry(entry: FileSystemEntry): Promise<ChosenFile[]> {
  const path = entry.fullPath.replace(/^\/+/, '') || entry.name;
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    return [{ relativePath: path, file }];
  }
  if (!entry.isDirectory) return [];
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const children: FileSystemEntry[] = [];
  // readEntries answers in batches (Chromium: 100) until an empty one.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    children.push(...batch);
  }
  const nested = await Promise.all(children.map(filesOfEntry));
  return nested.flat();
}

/** The files of a drop: whole folders are walked with webkitGetAsEntry; plain files as they are. */
export async function filesOfDrop(data: DataTransfer | null): Promise<ChosenFile[]> {
  if (!data) return [];
  const items = [...(data.items ?? [])].filter((item) => item.kind === 'file');
  const entries = items.map((item) => item.webkitGetAsEntry?.() ?? null);
  if (entries.length > 0 && entries.every((entry) => entry !== null)) {
    const nested = await Promise.all(entries.map((entry) => filesOfEntry(entry!)));
    return nested.flat();
  }
  return chosenFromInput(data.files);
}

/** Upload requests into `folder`, keeping each file's relative path (chosen folder name included). */
export function uploadRequests(folder: string, chosen: readonly ChosenFile[]): UploadRequest[] {
  return chosen
    .map(({ relativePath, file }) => {
      const relative = relativePath.replace(/\\/g, '/').split('/').filter((part) => part !== '' && part !== '.');
      return { relative, file };
    })
    .filter(({ relative }) => relative.length > 0 && !relative.includes('..'))
    .map(({ relative, file }) => ({ path: joinPath(folder, ...relative), label: relative.join('/'), file }));
}
