import { act } from 'preact/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PublicationQuery } from '../../api/files';
import type { Mounted } from '../../test-utils';
import { click, flush, mount, submit, type, USER } from '../../test-utils';
import { PublicPage, SEARCH_DEBOUNCE_MS } from './PublicPage';
import { fakeFilesApi, folderEntry, publication } from './testing';

let page: Mounted | undefined;
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  window.history.replaceState(null, '', '/public');
});
afterEach(() => {
  page?.unmount();
  page = undefined;
  vi.useRealTimers();
});

const ALL = [
  publication({ id: 1, kind: 'model', name: 'resnet', account: 'ada-lab', description: 'Image classifier' }),
  publication({ id: 2, kind: 'dataset', name: 'mnist', version: '2', account: 'acme', path: 'public/datasets/acme/mnist/2', files: 4, bytes: 11 * 1024 * 1024 }),
];

function publicApi() {
  return fakeFilesApi({
    listPublications: async (query: PublicationQuery = {}) =>
      ALL.filter((p) => (!query.kind || p.kind === query.kind) && (!query.q || `${p.name} ${p.description}`.includes(query.q))),
    deletePublication: async () => undefined,
    copyPath: async (_from, to) => folderEntry(to),
  });
}

const rows = () => [...page!.container.querySelectorAll<HTMLElement>('[data-testid="publication"]')];
const names = () => rows().map((r) => r.dataset['name']);
const inRow = (name: string, id: string) =>
  page!.container.querySelector<HTMLElement>(`[data-testid="publication"][data-name="${name}"] [data-testid="${id}"]`);

describe('PublicPage', () => {
  it('lists publications with their details and links to their files', async () => {
    const api = publicApi();
    page = await mount(<PublicPage user={USER} params={{}} api={api} />);
    expect(api.listPublications).toHaveBeenCalledWith({ q: '' }, expect.anything());
    expect(names()).toEqual(['resnet', 'mnist']);
    expect(inRow('mnist', 'publication-version')?.textContent).toBe('2');
    expect(inRow('mnist', 'publication-account')?.textContent).toContain('acme');
    expect(inRow('mnist', 'publication-files')?.textContent).toBe('4');
    expect(inRow('mnist', 'publication-size')?.textContent).toBe('11 MiB');
    expect(inRow('resnet', 'publication-description')?.textContent).toBe('Image classifier');
    expect(inRow('mnist', 'publication-browse')?.getAttribute('href')).toBe('/files/public/datasets/acme/mnist/2');
    // Only the account's own publications can be deleted.
    expect(inRow('resnet', 'publication-delete')).not.toBeNull();
    expect(inRow('mnist', 'publication-delete')).toBeNull();
  });

  it('filters by kind and by the search text (after a pause in typing)', async () => {
    const api = publicApi();
    page = await mount(<PublicPage user={USER} params={{}} api={api} />);
    await click(page.byTestId('public-kind-model'));
    expect(window.location.search).toBe('?kind=model');
    expect(api.listPublications).toHaveBeenLastCalledWith({ kind: 'model', q: '' }, expect.anything());
    expect(names()).toEqual(['resnet']);
    expect(page.byTestId('public-kind-model')?.getAttribute('aria-pressed')).toBe('true');

    await click(page.byTestId('public-kind-all'));
    const calls = vi.mocked(api.listPublications).mock.calls.length;
    await type(page.byTestId<HTMLInputElement>('public-search'), 'mni');
    await act(async () => {
      await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS - 10);
    });
    expect(api.listPublications).toHaveBeenCalledTimes(calls);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(10);
    });
    await flush();
    expect(window.location.search).toBe('?q=mni');
    expect(api.listPublications).toHaveBeenLastCalledWith({ q: 'mni' }, expect.anything());
    expect(names()).toEqual(['mnist']);

    await type(page.byTestId<HTMLInputElement>('public-search'), 'nothing-like-it');
    await act(async () => {
      await vi.advanceTimersByTimeAsync(SEARCH_DEBOUNCE_MS);
    });
    await flush();
    expect(page.text('public-empty')).toContain('Nothing matches.');
  });

  it('copies a publication into the account’s space', async () => {
    const api = publicApi();
    page = await mount(<PublicPage user={USER} params={{}} api={api} />);
    await click(inRow('mnist', 'publication-copy'));
    expect(page.byTestId<HTMLInputElement>('copy-to')?.value).toBe('datasets/mnist');
    await type(page.byTestId<HTMLInputElement>('copy-to'), 'datasets/mnist-v2');
    await submit(page.byTestId('copy-dialog-form'));
    expect(api.copyPath).toHaveBeenCalledWith('public/datasets/acme/mnist/2', 'datasets/mnist-v2');
    expect(page.byTestId('copy-open')?.getAttribute('href')).toBe('/datasets/mnist-v2');
  });

  it('deletes an own publication after confirmation', async () => {
    const api = publicApi();
    page = await mount(<PublicPage user={USER} params={{}} api={api} />);
    await click(inRow('resnet', 'publication-delete'));
    await click(page.byTestId('publication-delete-dialog-confirm'));
    expect(api.deletePublication).toHaveBeenCalledWith(1);
    expect(page.byTestId('publication-delete-dialog')).toBeNull();
  });
});
