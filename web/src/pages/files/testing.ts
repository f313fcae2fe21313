// Helpers for the file pages' tests: a fake of the files API, entries and listings as the server sends
// them, and waiting for a condition.
import { act } from 'preact/test-utils';
import { vi } from 'vitest';
import type { FileEntry, FilesApi, Listing, Publication, Share } from '../../api/files';
import { filesApi } from '../../api/files';
import { flush } from '../../test-utils';

/** The files API with every call a mock that fails unless `overrides` gives it. */
export function fakeFilesApi(overrides: Partial<FilesApi> = {}): FilesApi {
  const api = {} as Record<string, unknown>;
  for (const name of Object.keys(filesApi)) {
    api[name] = vi.fn(async () => {
      throw new Error(`unexpected call to ${name}`);
    });
  }
  for (const [name, impl] of Object.entries(overrides)) api[name] = vi.fn(impl as (...args: unknown[]) => unknown);
  return api as unknown as FilesApi;
}

export function fileEntry(path: string, over: Partial<FileEntry> = {}): FileEntry {
  return {
    name: path.split('/').pop()!,
    path,
    kind: 'file',
    size: 1234,
    modified_at: 1_795_927_000,
    uploaded_by: 'ada@example.com',
    content_type: 'application/octet-stream',
    ...over,
  };
}

export function folderEntry(path: string, over: Partial<FileEntry> = {}): FileEntry {
  return fileEntry(path, { kind: 'folder', size: null, uploaded_by: null, content_type: null, ...over });
}

export function listing(path: string, entries: FileEntry[], over: Partial<Listing> = {}): Listing {
  return { path, kind: 'folder', writable: true, entries, total: entries.length, next_cursor: null, ...over };
}

export function share(over: Partial<Share> = {}): Share {
  return {
    id: 7,
    path: 'datasets/mnist',
    kind: 'folder',
    account: 'bob-lab',
    link: null,
    expires_at: null,
    created_at: 1_795_927_000,
    created_by: 'ada@example.com',
    ...over,
  };
}

export function publication(over: Partial<Publication> = {}): Publication {
  return {
    id: 3,
    kind: 'model',
    name: 'resnet',
    version: '1.0',
    description: 'ResNet-50 trained on ImageNet',
    account: 'ada-lab',
    published_by: 'ada@example.com',
    published_at: 1_795_927_000,
    path: 'public/models/ada-lab/resnet/1.0',
    files: 12,
    bytes: 3 * 1024 * 1024,
    ...over,
  };
}

/** Waits (real timers) until `check` returns true; fails after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await act(async () => {
      await new Promise((resolve) => setTimeout(resolve, 5));
    });
  }
  await flush();
}
