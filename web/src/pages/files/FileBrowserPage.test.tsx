import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FileHead, FilesApi, ListQuery, PathAnswer } from '../../api/files';
import { ApiError } from '../../api/client';
import type { PageProps } from '../../router';
import { Router } from '../../router';
import type { Mounted } from '../../test-utils';
import { click, flush, mount, submit, type, USER } from '../../test-utils';
import { FileBrowserPage } from './FileBrowserPage';
import { fakeFilesApi, fileEntry, folderEntry, listing, until } from './testing';
import { UploadQueue } from './uploads';

let page: Mounted | undefined;
beforeEach(() => {
  window.history.replaceState(null, '', '/datasets/mnist');
});
afterEach(() => {
  page?.unmount();
  page = undefined;
});

const GiB = 1024 ** 3;

const MNIST = listing('datasets/mnist', [
  folderEntry('datasets/mnist/images'),
  fileEntry('datasets/mnist/train.csv', { size: 1536, content_type: 'text/csv', uploaded_by: 'grace@example.com' }),
  fileEntry('datasets/mnist/meta.json', { size: 20, content_type: 'application/json' }),
  fileEntry('datasets/mnist/weights.bin', { size: 2048, content_type: 'application/octet-stream' }),
  fileEntry('datasets/mnist/digit.png', { size: 300, content_type: 'image/png' }),
]);

function browserApi(answer: (path: string, query?: ListQuery) => PathAnswer | Promise<PathAnswer>, overrides: Partial<FilesApi> = {}) {
  return fakeFilesApi({
    getPath: async (path, query) => answer(path, query),
    getStorage: async () => ({ used_bytes: 3.2 * GiB, quota_bytes: 10 * GiB }),
    ...overrides,
  });
}

function head(text: string | Uint8Array, over: Partial<FileHead> = {}): FileHead {
  const bytes = typeof text === 'string' ? new TextEncoder().encode(text) : text;
  return { bytes, size: bytes.length, contentType: null, truncated: false, ...over };
}

const rows = () => [...page!.container.querySelectorAll<HTMLElement>('[data-testid="file-row"]')];
const row = (name: string) => page!.container.querySelector<HTMLElement>(`[data-testid="file-row"][data-name="${name}"]`);
const cell = (r: HTMLElement | null, id: string) => r?.querySelector(`[data-testid="${id}"]`)?.textContent?.trim();
const inRow = (name: string, id: string) => row(name)!.querySelector<HTMLElement>(`[data-testid="${id}"]`);

async function mountBrowser(api: FilesApi, rest = 'mnist', uploads = new UploadQueue(api)) {
  page = await mount(<FileBrowserPage user={USER} params={{ '*': rest }} root="datasets" api={api} uploads={uploads} />);
  return page;
}

describe('FileBrowserPage listing', () => {
  it('lists the folder: icons, sizes, modified, uploaded by; breadcrumbs and storage', async () => {
    const api = browserApi(() => MNIST);
    await mountBrowser(api);
    expect(api.getPath).toHaveBeenCalledWith('datasets/mnist', { sort: 'name', order: 'asc', limit: 200 }, expect.anything());
    expect(rows().map((r) => r.dataset['name'])).toEqual(['images', 'train.csv', 'meta.json', 'weights.bin', 'digit.png']);
    expect(row('images')?.querySelector('.file-icon--folder')).not.toBeNull();
    expect(row('train.csv')?.querySelector('.file-icon--file')).not.toBeNull();
    expect(inRow('images', 'file-link')?.getAttribute('href')).toBe('/datasets/mnist/images');
    expect(cell(row('train.csv'), 'file-size')).toBe('1.5 KiB');
    expect(cell(row('images'), 'file-size')).toBe('—');
    expect(cell(row('train.csv'), 'file-uploaded-by')).toBe('grace@example.com');
    expect(row('train.csv')?.querySelector('time')?.getAttribute('dateTime')).toBe(new Date(1_795_927_000_000).toISOString());
    expect(page!.text('storage-text')).toBe('3.2 GiB of 10 GiB');
    expect(page!.byTestId('storage-bar')?.getAttribute('value')).toBe(String(3.2 * GiB));
    const crumbs = [...page!.container.querySelectorAll<HTMLAnchorElement>('[data-testid="crumb"]')];
    expect(crumbs.map((a) => [a.textContent, a.getAttribute('href')])).toEqual([
      ['All files', '/files'],
      ['Datasets', '/datasets'],
    ]);
    expect(page!.text('crumb-current')).toBe('mnist');
    expect(page!.text('files-title')).toBe('mnist');
    expect(page!.text('files-count')).toBe('5 items');
    expect(inRow('train.csv', 'file-download')?.getAttribute('href')).toBe('/api/v1/download/datasets/mnist/train.csv');
    expect(inRow('images', 'file-download')?.getAttribute('href')).toBe('/api/v1/download/datasets/mnist/images');
    expect(inRow('images', 'file-share')).not.toBeNull();
    expect(inRow('images', 'file-publish')).not.toBeNull();
    expect(inRow('weights.bin', 'file-publish')).not.toBeNull();
    // One menu per row, the same for files and folders; closed until its button is pressed.
    for (const name of ['images', 'train.csv']) {
      expect(inRow(name, 'file-menu')?.getAttribute('aria-label')).toBe(`Actions for ${name}`);
      expect(inRow(name, 'file-menu')?.getAttribute('aria-expanded')).toBe('false');
      expect(inRow(name, 'file-menu-list')?.hidden).toBe(true);
    }
    expect([...inRow('images', 'file-menu-list')!.querySelectorAll('[role="menuitem"]')].map((item) => item.textContent)).toEqual([
      'Download (.tar)',
      'Share…',
      'Publish…',
      'Rename or move…',
      'Delete…',
    ]);
    expect([...inRow('train.csv', 'file-menu-list')!.querySelectorAll('[role="menuitem"]')].map((item) => item.textContent)).toEqual([
      'Download',
      'Share…',
      'Publish…',
      'Rename or move…',
      'Delete…',
    ]);
    expect(inRow('weights.bin', 'file-move')).not.toBeNull();
    expect(inRow('weights.bin', 'file-delete')).not.toBeNull();
    expect(document.title).toBe('mnist · PaddleCloud');
  });

  it('sorts by the clicked column, and the other way on a second click', async () => {
    const api = browserApi(() => MNIST);
    await mountBrowser(api);
    const th = (key: string) => page!.byTestId(`sort-${key}`)!.closest('th')!;
    expect(th('name').getAttribute('aria-sort')).toBe('ascending');

    await click(page!.byTestId('sort-size'));
    expect(api.getPath).toHaveBeenLastCalledWith('datasets/mnist', { sort: 'size', order: 'desc', limit: 200 }, expect.anything());
    expect(th('size').getAttribute('aria-sort')).toBe('descending');
    expect(th('name').getAttribute('aria-sort')).toBe('none');

    await click(page!.byTestId('sort-size'));
    expect(api.getPath).toHaveBeenLastCalledWith('datasets/mnist', { sort: 'size', order: 'asc', limit: 200 }, expect.anything());
    await click(page!.byTestId('sort-modified'));
    expect(api.getPath).toHaveBeenLastCalledWith('datasets/mnist', { sort: 'modified', order: 'desc', limit: 200 }, expect.anything());
    await click(page!.byTestId('sort-name'));
    expect(api.getPath).toHaveBeenLastCalledWith('datasets/mnist', { sort: 'name', order: 'asc', limit: 200 }, expect.anything());
  });

  it('pages with next_cursor', async () => {
    const api = browserApi((_path, query) =>
      query?.cursor === 'c2'
        ? listing('datasets/mnist', [fileEntry('datasets/mnist/z.txt')], { total: 2 })
        : listing('datasets/mnist', [fileEntry('datasets/mnist/a.txt')], { total: 2, next_cursor: 'c2' }),
    );
    await mountBrowser(api);
    await click(page!.byTestId('files-load-more'));
    expect(api.getPath).toHaveBeenLastCalledWith('datasets/mnist', { sort: 'name', order: 'asc', limit: 200, cursor: 'c2' });
    expect(rows().map((r) => r.dataset['name'])).toEqual(['a.txt', 'z.txt']);
    expect(page!.byTestId('files-load-more')).toBeNull();
  });

  it('follows folders and breadcrumbs', async () => {
    const api = browserApi((path) =>
      path === 'datasets'
        ? listing('datasets', [folderEntry('datasets/mnist')])
        : path === 'datasets/mnist/images'
          ? listing('datasets/mnist/images', [fileEntry('datasets/mnist/images/0.png')])
          : MNIST,
    );
    const queue = new UploadQueue(api);
    const Browser = (props: PageProps) => <FileBrowserPage {...props} user={USER} root="datasets" api={api} uploads={queue} />;
    page = await mount(<Router routes={[{ path: '/datasets/*', component: Browser }]} notFound={() => <p>missing</p>} />);
    await flush();
    await click(inRow('images', 'file-link'));
    expect(window.location.pathname).toBe('/datasets/mnist/images');
    expect(api.getPath).toHaveBeenLastCalledWith('datasets/mnist/images', expect.anything(), expect.anything());
    expect(rows().map((r) => r.dataset['name'])).toEqual(['0.png']);
    expect(page.text('crumb-current')).toBe('images');

    const datasets = [...page.container.querySelectorAll<HTMLAnchorElement>('[data-testid="crumb"]')].find((a) => a.textContent === 'Datasets');
    await click(datasets!);
    expect(window.location.pathname).toBe('/datasets');
    expect(rows().map((r) => r.dataset['name'])).toEqual(['mnist']);
    expect(page.text('files-title')).toBe('Datasets');
  });

  it('shows a missing folder, and opens a file’s own URL in its folder', async () => {
    const api = browserApi((path) => {
      if (path === 'datasets/gone') throw new ApiError(404, 'not_found', 'no such path');
      if (path === 'datasets/mnist/train.csv') return { ...MNIST.entries[1]!, writable: true };
      return MNIST;
    });
    await mountBrowser(api, 'gone');
    expect(page!.byTestId('files-not-found')?.textContent).toContain('There is no folder datasets/gone.');
    page!.unmount();

    const replace = vi.spyOn(window.history, 'replaceState');
    await mountBrowser(api, 'mnist/train.csv');
    expect(replace).toHaveBeenCalledWith(null, '', '/datasets/mnist?file=train.csv');
  });
});

describe('FileBrowserPage preview', () => {
  async function preview(name: string, readHead: FilesApi['readHead']) {
    const api = browserApi(() => MNIST, { readHead });
    await mountBrowser(api);
    await click(inRow(name, 'file-link'));
    expect(window.location.search).toBe(`?file=${encodeURIComponent(name)}`);
    await flush();
    return api;
  }

  it('shows CSV as a table, quoted fields included', async () => {
    const api = await preview('train.csv', async () => head('label,text\r\n7,"a, quoted ""value"""\n3,plain\n'));
    expect(api.readHead).toHaveBeenCalledWith('/api/v1/download/datasets/mnist/train.csv', 65536, expect.anything());
    const table = page!.byTestId('preview-table')!;
    expect([...table.querySelectorAll('th')].map((th) => th.textContent)).toEqual(['label', 'text']);
    expect([...table.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent))).toEqual([
      ['7', 'a, quoted "value"'],
      ['3', 'plain'],
    ]);
    expect(row('train.csv')?.className).toContain('files-table__row--selected');
    expect(page!.text('preview-name')).toBe('train.csv');

    await click(page!.byTestId('preview-close'));
    expect(page!.byTestId('preview')).toBeNull();
    expect(window.location.search).toBe('');
  });

  it('pretty-prints JSON and never renders content as HTML', async () => {
    await preview('meta.json', async () => head('{"classes":10,"html":"<img src=x onerror=alert(1)>"}'));
    expect(page!.text('preview-json')).toBe('{\n  "classes": 10,\n  "html": "<img src=x onerror=alert(1)>"\n}');
    expect(page!.byTestId('preview')!.querySelector('img')).toBeNull();
  });

  it('shows other files as a hex dump with size and content type', async () => {
    const api = await preview('weights.bin', async () =>
      head(new Uint8Array([0x00, 0x01, 0x41, 0x42]), { size: 2048, contentType: 'application/octet-stream', truncated: true }),
    );
    expect(api.readHead).toHaveBeenCalledWith('/api/v1/download/datasets/mnist/weights.bin', 512, expect.anything());
    expect(page!.text('preview-hex')).toBe('00000000  00 01 41 42                                       |..AB|');
    expect(page!.text('preview-hex-meta')).toContain('application/octet-stream, 2.0 KiB');
  });

  it('shows images inline', async () => {
    const api = await preview('digit.png', async () => head(''));
    expect(page!.byTestId('preview-image')?.getAttribute('src')).toBe('/api/v1/download/datasets/mnist/digit.png?inline=1');
    expect(api.readHead).not.toHaveBeenCalled();
  });

  it('shows text and says when it is only the start', async () => {
    const big = fileEntry('datasets/mnist/log.txt', { size: 100_000, content_type: 'text/plain' });
    const api = browserApi(() => listing('datasets/mnist', [big]), {
      readHead: async () => head('line 1\n<b>not bold</b>\n', { size: 100_000, truncated: true }),
    });
    await mountBrowser(api);
    await click(inRow('log.txt', 'file-link'));
    expect(page!.text('preview-text')).toBe('line 1\n<b>not bold</b>');
    expect(page!.byTestId('preview-text')!.querySelector('b')).toBeNull();
    expect(page!.text('preview-more')).toBe('The first 64 KiB.');
  });
});

describe('FileBrowserPage actions', () => {
  it('creates a folder in the current one and lists it', async () => {
    let entries = MNIST.entries;
    const api = browserApi(() => listing('datasets/mnist', entries), {
      createFolder: async (path) => {
        entries = [folderEntry(path), ...entries];
        return folderEntry(path);
      },
    });
    await mountBrowser(api);
    await click(page!.byTestId('new-folder'));
    await submit(page!.byTestId('folder-dialog-form'));
    expect(page!.text('folder-path-error')).toBe('Enter a name.');
    await type(page!.byTestId<HTMLInputElement>('folder-path'), 'labels');
    await submit(page!.byTestId('folder-dialog-form'));
    expect(api.createFolder).toHaveBeenCalledWith('datasets/mnist/labels');
    expect(page!.byTestId('folder-dialog')).toBeNull();
    expect(row('labels')).not.toBeNull();
  });

  it('shows the server’s conflict next to the name', async () => {
    const api = browserApi(() => MNIST, {
      createFolder: async () => {
        throw new ApiError(409, 'conflict', 'something exists at datasets/mnist/images', { field: 'path' });
      },
    });
    await mountBrowser(api);
    await click(page!.byTestId('new-folder'));
    await type(page!.byTestId<HTMLInputElement>('folder-path'), 'images');
    await submit(page!.byTestId('folder-dialog-form'));
    expect(page!.text('folder-path-error')).toBe('Something exists at datasets/mnist/images.');
  });

  it('renames or moves an entry', async () => {
    const api = browserApi(() => MNIST, { movePath: async (_from, to) => fileEntry(to) });
    await mountBrowser(api);
    await click(inRow('weights.bin', 'file-menu'));
    expect(inRow('weights.bin', 'file-menu-list')?.hidden).toBe(false);
    await click(inRow('weights.bin', 'file-move'));
    expect(inRow('weights.bin', 'file-menu-list')?.hidden).toBe(true);
    expect(page!.byTestId<HTMLInputElement>('move-path')?.value).toBe('datasets/mnist/weights.bin');
    await type(page!.byTestId<HTMLInputElement>('move-path'), 'models/mnist/weights.bin');
    await submit(page!.byTestId('move-dialog-form'));
    expect(api.movePath).toHaveBeenCalledWith('datasets/mnist/weights.bin', 'models/mnist/weights.bin');
    expect(page!.byTestId('move-dialog')).toBeNull();
  });

  it('deletes a folder recursively after confirmation', async () => {
    const api = browserApi(() => MNIST, { deletePath: async () => undefined });
    await mountBrowser(api);
    const loads = vi.mocked(api.getPath).mock.calls.length;
    await click(inRow('images', 'file-menu'));
    await click(inRow('images', 'file-delete'));
    expect(page!.byTestId('delete-dialog')?.textContent).toContain('and everything in it');
    await click(page!.byTestId('delete-dialog-confirm'));
    expect(api.deletePath).toHaveBeenCalledWith('datasets/mnist/images', true);
    expect(page!.byTestId('delete-dialog')).toBeNull();
    expect(vi.mocked(api.getPath).mock.calls.length).toBe(loads + 1);

    await click(inRow('weights.bin', 'file-delete'));
    await click(page!.byTestId('delete-dialog-confirm'));
    expect(api.deletePath).toHaveBeenLastCalledWith('datasets/mnist/weights.bin', false);
  });

  it('is read-only in public and shared folders: download and copy only', async () => {
    const pub = listing('public/models/acme/resnet/1.0', [fileEntry('public/models/acme/resnet/1.0/w.bin')], { writable: false });
    const api = browserApi(() => pub, { copyPath: async (_from, to) => folderEntry(to) });
    page = await mount(<FileBrowserPage user={USER} params={{ '*': 'public/models/acme/resnet/1.0' }} root="" api={api} uploads={new UploadQueue(api)} />);
    expect(page.byTestId('new-folder')).toBeNull();
    expect(page.byTestId('upload-drop')).toBeNull();
    expect(page.byTestId('storage')).toBeNull();
    expect(inRow('w.bin', 'file-move')).toBeNull();
    expect(inRow('w.bin', 'file-delete')).toBeNull();
    expect(inRow('w.bin', 'file-share')).toBeNull();
    expect(inRow('w.bin', 'file-download')).not.toBeNull();
    expect(page.text('files-readonly')).toContain('Read-only');

    await click(page.byTestId('copy-folder'));
    expect(page.byTestId<HTMLInputElement>('copy-to')?.value).toBe('models/resnet');
    await submit(page.byTestId('copy-dialog-form'));
    expect(api.copyPath).toHaveBeenCalledWith('public/models/acme/resnet/1.0', 'models/resnet');
    expect(page.byTestId('copy-open')?.getAttribute('href')).toBe('/models/resnet');
  });
});

describe('FileBrowserPage uploads', () => {
  it('uploads a chosen folder with relative paths, shows each file, and lists them when done', async () => {
    let entries = MNIST.entries;
    const created: Array<{ path: string; size?: number }> = [];
    const api = browserApi(() => listing('datasets/mnist', entries), {
      createUpload: async (input) => {
        created.push(input);
        return { id: `up_${created.length}`, path: input.path, size: input.size ?? null, offset: 0 };
      },
      uploadChunk: async (id, chunk, start, total, options) => {
        options?.onProgress?.(chunk.size);
        const path = created[Number(id.slice(3)) - 1]!.path;
        entries = [...entries, fileEntry(path, { size: total })];
        return { id, path, size: total, offset: start + chunk.size, complete: true, file: fileEntry(path) };
      },
    });
    await mountBrowser(api);
    const picker = page!.byTestId<HTMLInputElement>('upload-folder-input')!;
    expect(picker.hasAttribute('webkitdirectory')).toBe(true);
    const list = [
      ['labels/a.csv', 'x,y\n'],
      ['labels/deep/b.txt', 'hello'],
    ].map(([rel, content]) => {
      const file = new File([content!], rel!.split('/').pop()!);
      Object.defineProperty(file, 'webkitRelativePath', { value: rel });
      return file;
    });
    Object.defineProperty(picker, 'files', { value: list, configurable: true });
    await act(async () => {
      picker.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await until(() => [...page!.container.querySelectorAll('[data-testid="upload-item"]')].every((li) => li.getAttribute('data-state') === 'done'));
    expect(created).toEqual([
      { path: 'datasets/mnist/labels/a.csv', size: 4 },
      { path: 'datasets/mnist/labels/deep/b.txt', size: 5 },
    ]);
    const items = [...page!.container.querySelectorAll<HTMLElement>('[data-testid="upload-item"]')];
    expect(items.map((li) => [li.dataset['path'], li.dataset['progress']])).toEqual([
      ['datasets/mnist/labels/a.csv', '100'],
      ['datasets/mnist/labels/deep/b.txt', '100'],
    ]);
    expect(items[0]!.querySelector('[data-testid="upload-status"]')?.textContent).toBe('Done · 4 B');
    // The listing is loaded again after the uploads complete.
    await until(() => row('a.csv') !== null);
    expect(page!.text('uploads-summary')).toBe('all finished');
    await click(page!.byTestId('uploads-clear'));
    expect(page!.byTestId('uploads')).toBeNull();
  });

  it('uploads what is dropped, walking dropped folders', async () => {
    const created: string[] = [];
    const api = browserApi(() => MNIST, {
      createUpload: async (input) => {
        created.push(input.path);
        return { id: `up_${created.length}`, path: input.path, size: input.size ?? null, offset: 0 };
      },
      uploadChunk: async (id, chunk, start, total) => ({ id, path: '', size: total, offset: start + chunk.size, complete: true }),
    });
    await mountBrowser(api);
    const fileEntryOf = (fullPath: string, content: string) => ({
      isFile: true,
      isDirectory: false,
      name: fullPath.split('/').pop(),
      fullPath,
      file: (resolve: (file: File) => void) => resolve(new File([content], fullPath.split('/').pop()!)),
    });
    // A folder whose reader answers in two batches, then an empty one.
    const batches = [[fileEntryOf('/scans/a.png', 'png')], [{
      isFile: false,
      isDirectory: true,
      name: 'more',
      fullPath: '/scans/more',
      createReader: () => {
        let done = false;
        return { readEntries: (resolve: (e: unknown[]) => void) => { resolve(done ? [] : [fileEntryOf('/scans/more/b.txt', 'b')]); done = true; } };
      },
    }], []];
    const folder = {
      isFile: false,
      isDirectory: true,
      name: 'scans',
      fullPath: '/scans',
      createReader: () => ({ readEntries: (resolve: (e: unknown[]) => void) => resolve(batches.shift() ?? []) }),
    };
    const loose = fileEntryOf('/notes.md', '# notes');
    const items = [folder, loose].map((entry) => ({ kind: 'file', webkitGetAsEntry: () => entry }));
    const section = page!.byTestId('files-page')!;
    const event = new Event('drop', { bubbles: true, cancelable: true });
    Object.defineProperty(event, 'dataTransfer', { value: { types: ['Files'], items, files: [] } });
    await act(async () => {
      section.dispatchEvent(event);
    });
    expect(event.defaultPrevented).toBe(true);
    await until(() => created.length === 3);
    expect(created.sort()).toEqual(['datasets/mnist/notes.md', 'datasets/mnist/scans/a.png', 'datasets/mnist/scans/more/b.txt']);
  });

  it('shows a failed upload with the server’s message', async () => {
    const api = browserApi(() => MNIST, {
      createUpload: async () => {
        throw new ApiError(403, 'quota_exceeded', 'storage quota exceeded', { used_bytes: '10', quota_bytes: '20' });
      },
    });
    await mountBrowser(api);
    const picker = page!.byTestId<HTMLInputElement>('upload-files-input')!;
    Object.defineProperty(picker, 'files', { value: [new File(['0123456789'], 'big.bin')], configurable: true });
    await act(async () => {
      picker.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await until(() => page!.container.querySelector('[data-testid="upload-item"][data-state="failed"]') !== null);
    expect(page!.text('upload-status')).toBe('Failed: Storage quota exceeded.');
    expect(page!.byTestId('upload-retry')).not.toBeNull();
  });

  it('cancels a running upload', async () => {
    const api = browserApi(() => MNIST, {
      createUpload: async (input) => ({ id: 'up_1', path: input.path, size: input.size ?? null, offset: 0 }),
      uploadChunk: (_id, _chunk, _start, _total, options) =>
        new Promise((_resolve, reject) => {
          options?.signal?.addEventListener('abort', () => reject(new DOMException('cancelled', 'AbortError')));
        }),
      cancelUpload: async () => undefined,
    });
    await mountBrowser(api);
    const picker = page!.byTestId<HTMLInputElement>('upload-files-input')!;
    Object.defineProperty(picker, 'files', { value: [new File(['abc'], 'a.txt')], configurable: true });
    await act(async () => {
      picker.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await until(() => page!.container.querySelector('[data-testid="upload-item"][data-state="uploading"]') !== null);
    await click(page!.byTestId('upload-cancel'));
    await until(() => page!.container.querySelector('[data-testid="upload-item"][data-state="cancelled"]') !== null);
    expect(api.cancelUpload).toHaveBeenCalledWith('up_1');
  });
});
