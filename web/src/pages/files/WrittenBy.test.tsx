import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FileHead } from '../../api/files';
import type { Mounted } from '../../test-utils';
import { mount } from '../../test-utils';
import { FilePreview } from './FilePreview';
import { FileTable } from './FileTable';
import { fakeFilesApi, fileEntry } from './testing';

let page: Mounted | undefined;
afterEach(() => {
  page?.unmount();
  page = undefined;
});

const byJob = fileEntry('models/run/model.txt', { uploaded_by: null, written_by_job: '42', content_type: 'text/plain' });
const uploaded = fileEntry('models/run/notes.txt', { uploaded_by: 'ada@example.com', written_by_job: null });
const unknown = fileEntry('models/run/copy.txt', { uploaded_by: null, written_by_job: null });

function table() {
  return mount(
    <FileTable entries={[byJob, uploaded, unknown]} sort="name" order="asc" onSort={vi.fn()} folderHref={() => '/'} onFile={vi.fn()} />,
  );
}

const by = (name: string) =>
  page!.container.querySelector<HTMLElement>(`[data-testid="file-row"][data-name="${name}"] [data-testid="file-uploaded-by"]`)!;

describe('files a job wrote', () => {
  it('link to the job in the listing; an uploader is shown as before', async () => {
    page = await table();
    const link = by('model.txt').querySelector<HTMLAnchorElement>('a[data-testid="file-written-by-job"]')!;
    expect(link.textContent).toBe('job 42');
    expect(link.getAttribute('href')).toBe('/jobs/42');
    expect(by('notes.txt').textContent).toBe('ada@example.com');
    expect(by('notes.txt').querySelector('a')).toBeNull();
    expect(by('copy.txt').textContent).toBe('—');
  });

  it('link to the job in the preview', async () => {
    const head: FileHead = { bytes: new TextEncoder().encode('trained'), size: 7, contentType: 'text/plain', truncated: false };
    const api = fakeFilesApi({ readHead: vi.fn(async () => head) });
    page = await mount(<FilePreview entry={byJob} api={api} onClose={vi.fn()} />);
    const meta = page.byTestId('preview-meta')!;
    expect(meta.textContent).toContain(' · job 42');
    expect(meta.querySelector('a')!.getAttribute('href')).toBe('/jobs/42');
  });

  it('shows the uploader, not a job, in the preview of an uploaded file', async () => {
    const head: FileHead = { bytes: new TextEncoder().encode('x'), size: 1, contentType: null, truncated: false };
    page = await mount(<FilePreview entry={uploaded} api={fakeFilesApi({ readHead: vi.fn(async () => head) })} onClose={vi.fn()} />);
    expect(page.text('preview-meta')).toContain(' · ada@example.com');
    expect(page.byTestId('preview-meta')!.querySelector('a')).toBeNull();
  });
});
