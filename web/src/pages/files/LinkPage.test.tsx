import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../../api/client';
import type { Mounted } from '../../test-utils';
import { click, mount } from '../../test-utils';
import { LinkPage } from './LinkPage';
import { fakeFilesApi, fileEntry, folderEntry, listing } from './testing';

let page: Mounted | undefined;
afterEach(() => {
  page?.unmount();
  page = undefined;
});

describe('LinkPage', () => {
  it('lists the shared folder with folder links and download links', async () => {
    const api = fakeFilesApi({
      getLinkPath: async (_token, path) =>
        listing(path, path === '' ? [folderEntry('images'), fileEntry('train.csv', { size: 2048 })] : [fileEntry('images/0.png')], {
          writable: false,
        }),
    });
    page = await mount(<LinkPage params={{ token: 'tok_abc', '*': '' }} api={api} />);
    expect(api.getLinkPath).toHaveBeenCalledWith('tok_abc', '', { sort: 'name', order: 'asc', limit: 200 }, expect.anything());
    const link = (name: string) => page!.container.querySelector(`[data-testid="file-row"][data-name="${name}"] [data-testid="file-link"]`);
    expect(link('images')?.getAttribute('href')).toBe('/s/tok_abc/images');
    expect(link('train.csv')?.getAttribute('href')).toBe('/api/v1/links/tok_abc/download/train.csv');
    expect(page.byTestId('link-download-all')?.getAttribute('href')).toBe('/api/v1/links/tok_abc/download/');
    expect(page.text('crumb-current')).toBe('Shared files');
    await click(page.byTestId('sort-size'));
    expect(api.getLinkPath).toHaveBeenLastCalledWith('tok_abc', '', { sort: 'size', order: 'desc', limit: 200 }, expect.anything());
    page.unmount();

    page = await mount(<LinkPage params={{ token: 'tok_abc', '*': 'images' }} api={api} />);
    expect(page.text('crumb-current')).toBe('images');
    expect(page.container.querySelector('[data-testid="crumb"]')?.getAttribute('href')).toBe('/s/tok_abc');
    expect(page.container.querySelector('[data-testid="file-download"]')?.getAttribute('href')).toBe('/api/v1/links/tok_abc/download/images/0.png');
  });

  it('shows a shared file with its download', async () => {
    const api = fakeFilesApi({ getLinkPath: async () => ({ ...fileEntry('model.tar.gz', { size: 5000 }), writable: false }) });
    page = await mount(<LinkPage params={{ token: 't1', '*': '' }} api={api} />);
    expect(page.text('link-title')).toBe('model.tar.gz');
    expect(page.byTestId('link-file-download')?.getAttribute('href')).toBe('/api/v1/links/t1/download/');
  });

  it('says when the link has expired or was revoked', async () => {
    const api = fakeFilesApi({
      getLinkPath: async () => {
        throw new ApiError(404, 'not_found', 'no such link');
      },
    });
    page = await mount(<LinkPage params={{ token: 'old', '*': '' }} api={api} />);
    expect(page.text('link-gone')).toContain('This link has expired or was revoked.');
    expect(page.byTestId('file-table')).toBeNull();
  });
});
