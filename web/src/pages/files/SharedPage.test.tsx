import { afterEach, describe, expect, it } from 'vitest';
import type { Share } from '../../api/files';
import type { Mounted } from '../../test-utils';
import { click, flush, mount, USER } from '../../test-utils';
import { SharedPage } from './SharedPage';
import { fakeFilesApi, share } from './testing';

let page: Mounted | undefined;
afterEach(() => {
  page?.unmount();
  page = undefined;
});

describe('SharedPage', () => {
  it('lists what is shared with the account and opens it in the browser', async () => {
    let mine: Share[] = [share({ id: 7, account: 'bob-lab' }), share({ id: 8, account: null, link: '/s/tok9', expires_at: 1_800_000_000 })];
    const api = fakeFilesApi({
      listSharedWithMe: async () => [
        {
          id: 3,
          owner_account: 'acme',
          path: 'datasets/mnist',
          mount: 'shared/acme/datasets/mnist',
          kind: 'folder',
          created_at: 1_795_927_000,
          expires_at: null,
        },
      ],
      listShares: async () => mine,
      deleteShare: async (id) => {
        mine = mine.filter((s) => s.id !== id);
      },
    });
    page = await mount(<SharedPage user={USER} params={{}} api={api} />);
    const row = page.container.querySelector<HTMLElement>('[data-testid="shared-row"]')!;
    expect(row.querySelector('[data-testid="shared-owner"]')?.textContent).toBe('acme');
    expect(row.querySelector('[data-testid="shared-open"]')?.getAttribute('href')).toBe('/files/shared/acme/datasets/mnist');
    expect(row.querySelector('[data-testid="shared-open"]')?.textContent).toBe('datasets/mnist');
    expect(row.querySelector('[data-testid="shared-expires"]')?.textContent).toBe('never');

    const byUs = () => [...page!.container.querySelectorAll<HTMLElement>('[data-testid="share-row"]')];
    expect(byUs()).toHaveLength(2);
    expect(byUs()[0]!.querySelector('[data-testid="share-account"]')?.textContent).toBe('bob-lab');
    expect(byUs()[1]!.querySelector('[data-testid="share-link-url"]')?.textContent).toBe(`${window.location.origin}/s/tok9`);

    await click(byUs()[1]!.querySelector<HTMLElement>('[data-testid="share-row-revoke"]'));
    expect(page.byTestId('revoke-dialog')?.textContent).toContain('The public link stops working at once.');
    await click(page.byTestId('revoke-dialog-confirm'));
    expect(api.deleteShare).toHaveBeenCalledWith(8);
    await flush();
    expect(byUs()).toHaveLength(1);
  });

  it('says when nothing is shared', async () => {
    const api = fakeFilesApi({ listSharedWithMe: async () => [], listShares: async () => [] });
    page = await mount(<SharedPage user={USER} params={{}} api={api} />);
    expect(page.byTestId('shared-empty')).not.toBeNull();
    expect(page.byTestId('shares-empty')).not.toBeNull();
  });
});
