import { act } from 'preact/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../../api/client';
import type { NewPublication, NewShare, Share } from '../../api/files';
import type { Mounted } from '../../test-utils';
import { click, flush, mount, submit, type } from '../../test-utils';
import { endOfDay, PublishDialog, ShareDialog } from './dialogs';
import { fakeFilesApi, publication, share } from './testing';

let page: Mounted | undefined;
afterEach(() => {
  page?.unmount();
  page = undefined;
  vi.useRealTimers();
});

const MNIST = { path: 'datasets/mnist', name: 'mnist' };

async function setDate(input: HTMLInputElement | null, value: string) {
  await act(async () => {
    input!.value = value;
    input!.dispatchEvent(new Event('change', { bubbles: true }));
  });
}

describe('ShareDialog', () => {
  function shareApi(existing: Share[]) {
    let shares = [...existing];
    let next = 100;
    return fakeFilesApi({
      listShares: async () => shares,
      createShare: async (input: NewShare) => {
        const created = share({
          id: next++,
          path: input.path,
          account: 'account' in input ? input.account : null,
          link: 'link' in input ? '/s/tok_abc' : null,
          expires_at: 'expires_at' in input ? (input.expires_at ?? null) : null,
        });
        shares = [...shares, created];
        return created;
      },
      deleteShare: async (id) => {
        shares = shares.filter((s) => s.id !== id);
      },
    });
  }

  it('lists the shares of this path only, and shares with an account', async () => {
    const api = shareApi([share({ id: 1, account: 'carol-lab' }), share({ id: 2, path: 'datasets/other', account: 'dan-lab' })]);
    const onClose = vi.fn();
    page = await mount(<ShareDialog entry={MNIST} api={api} onClose={onClose} />);
    const items = () => [...page!.container.querySelectorAll<HTMLElement>('[data-testid="share-item"]')];
    expect(items().map((li) => li.querySelector('[data-testid="share-account"]')?.textContent)).toEqual(['carol-lab']);

    await submit(page.byTestId('share-dialog-form'));
    expect(page.text('share-account-error')).toBe('Enter the account ID to share with.');
    expect(api.createShare).not.toHaveBeenCalled();

    await type(page.byTestId<HTMLInputElement>('share-account'), ' bob-lab ');
    await submit(page.byTestId('share-dialog-form'));
    expect(api.createShare).toHaveBeenCalledWith({ path: 'datasets/mnist', account: 'bob-lab' });
    expect(page.text('share-created')).toBe('Shared with bob-lab.');
    await flush();
    expect(items().map((li) => li.querySelector('[data-testid="share-account"]')?.textContent)).toEqual(['carol-lab', 'bob-lab']);

    await click(page.byTestId('share-dialog-cancel'));
    expect(onClose).toHaveBeenCalled();
  });

  it('creates a public link with an expiry and shows the URL to copy', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(2026, 10, 29, 10, 0, 0));
    const writeText = vi.fn(async () => undefined);
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } });
    const api = shareApi([]);
    page = await mount(<ShareDialog entry={MNIST} api={api} onClose={() => undefined} />);
    expect(page.byTestId('share-none')).not.toBeNull();
    await click(page.byTestId('share-mode-link'));
    expect(page.text('share-dialog-submit')).toBe('Create link');
    await setDate(page.byTestId<HTMLInputElement>('share-expires_at'), '2026-11-01');
    await submit(page.byTestId('share-dialog-form'));
    expect(page.text('share-expires_at-error')).toBe('Choose a day from today on.');

    await setDate(page.byTestId<HTMLInputElement>('share-expires_at'), '2026-12-31');
    await submit(page.byTestId('share-dialog-form'));
    expect(api.createShare).toHaveBeenCalledWith({ path: 'datasets/mnist', link: true, expires_at: endOfDay('2026-12-31') });
    expect(endOfDay('2026-12-31')).toBe(Math.floor(new Date(2026, 11, 31, 23, 59, 59).getTime() / 1000));
    const created = page.byTestId('share-created')!;
    expect(created.querySelector('[data-testid="share-link-url"]')?.textContent).toBe(`${window.location.origin}/s/tok_abc`);
    await click(created.querySelector<HTMLElement>('[data-testid="share-link-copy"]'));
    expect(writeText).toHaveBeenCalledWith(`${window.location.origin}/s/tok_abc`);
    vi.unstubAllGlobals();
  });

  it('creates a link without expiry and revokes shares', async () => {
    const api = shareApi([share({ id: 1, account: 'carol-lab' })]);
    page = await mount(<ShareDialog entry={MNIST} api={api} onClose={() => undefined} />);
    await click(page.byTestId('share-mode-link'));
    await submit(page.byTestId('share-dialog-form'));
    expect(api.createShare).toHaveBeenCalledWith({ path: 'datasets/mnist', link: true });
    await flush();
    await click(page.container.querySelector<HTMLElement>('[data-share-id="1"] [data-testid="share-revoke"]'));
    expect(api.deleteShare).toHaveBeenCalledWith(1);
    await flush();
    expect([...page.container.querySelectorAll('[data-testid="share-item"]')].map((li) => li.getAttribute('data-share-id'))).toEqual(['100']);
  });

  it('shows the server’s refusal', async () => {
    const api = fakeFilesApi({
      listShares: async () => [],
      createShare: async () => {
        throw new ApiError(404, 'not_found', 'no account nobody-lab', { field: 'account' });
      },
    });
    page = await mount(<ShareDialog entry={MNIST} api={api} onClose={() => undefined} />);
    await type(page.byTestId<HTMLInputElement>('share-account'), 'nobody-lab');
    await submit(page.byTestId('share-dialog-form'));
    expect(page.text('share-account-error')).toBe('No account nobody-lab.');
  });
});

describe('PublishDialog', () => {
  it('publishes with kind, name, version and description', async () => {
    let sent: NewPublication | undefined;
    const api = fakeFilesApi({
      createPublication: async (input) => {
        sent = input;
        return publication({ name: input.name, version: input.version, kind: input.kind, path: 'public/models/ada-lab/resnet-50/2.1' });
      },
    });
    page = await mount(<PublishDialog entry={{ path: 'models/ResNet 50', name: 'ResNet 50', kind: 'folder' }} api={api} onClose={() => undefined} />);
    expect(page.byTestId<HTMLSelectElement>('publish-kind')?.value).toBe('model');
    expect(page.byTestId<HTMLInputElement>('publish-name')?.value).toBe('resnet-50');
    expect(page.byTestId<HTMLInputElement>('publish-version')?.value).toBe('1.0');

    await type(page.byTestId<HTMLInputElement>('publish-name'), 'ResNet!');
    await type(page.byTestId<HTMLInputElement>('publish-version'), '2 1');
    await submit(page.byTestId('publish-dialog-form'));
    expect(page.text('publish-name-error')).toMatch(/a-z, 0-9/);
    expect(page.text('publish-version-error')).toMatch(/A-Z, a-z, 0-9/);
    expect(api.createPublication).not.toHaveBeenCalled();

    await type(page.byTestId<HTMLInputElement>('publish-name'), 'resnet-50');
    await type(page.byTestId<HTMLInputElement>('publish-version'), '2.1');
    await type(page.byTestId<HTMLInputElement>('publish-description'), 'Trained 90 epochs');
    await submit(page.byTestId('publish-dialog-form'));
    expect(sent).toEqual({ kind: 'model', name: 'resnet-50', version: '2.1', description: 'Trained 90 epochs', path: 'models/ResNet 50' });
    expect(page.text('publish-done')).toContain('ada-lab/resnet-50');
    expect(page.byTestId('publish-browse')?.getAttribute('href')).toBe('/files/public/models/ada-lab/resnet-50/2.1');
    expect(page.byTestId('publish-public')?.getAttribute('href')).toBe('/public?kind=model');
  });

  it('suggests dataset for datasets/ and shows a name conflict', async () => {
    const api = fakeFilesApi({
      createPublication: async () => {
        throw new ApiError(409, 'conflict', 'mnist 1.0 is already published', { field: 'version' });
      },
    });
    page = await mount(<PublishDialog entry={{ path: 'datasets/mnist.tar.gz', name: 'mnist.tar.gz', kind: 'file' }} api={api} onClose={() => undefined} />);
    expect(page.byTestId<HTMLSelectElement>('publish-kind')?.value).toBe('dataset');
    expect(page.byTestId<HTMLInputElement>('publish-name')?.value).toBe('mnist');
    await submit(page.byTestId('publish-dialog-form'));
    expect(api.createPublication).toHaveBeenCalledWith({ kind: 'dataset', name: 'mnist', version: '1.0', description: '', path: 'datasets/mnist.tar.gz' });
    expect(page.text('publish-version-error')).toBe('Mnist 1.0 is already published.');
  });

  it('publishes a single model file, named without its extension', async () => {
    const api = fakeFilesApi({
      createPublication: async (input) => publication({ name: input.name, version: input.version, kind: input.kind, path: 'public/models/ada-lab/resnet50/1.0' }),
    });
    page = await mount(<PublishDialog entry={{ path: 'models/resnet50.pdparams', name: 'resnet50.pdparams', kind: 'file' }} api={api} onClose={() => undefined} />);
    expect(page.byTestId<HTMLInputElement>('publish-name')?.value).toBe('resnet50');
    expect(page.byTestId('publish-dialog')?.textContent).toContain('The file is published on its own');
    await submit(page.byTestId('publish-dialog-form'));
    expect(api.createPublication).toHaveBeenCalledWith({ kind: 'model', name: 'resnet50', version: '1.0', description: '', path: 'models/resnet50.pdparams' });
    expect(page.text('publish-done')).toContain('ada-lab/resnet50');
  });
});
