// A public link (/s/<token>/<path>): the shared folder (or file), browsable and downloadable without
// signing in. An expired or revoked link answers 404: the page says so.
import type { VNode } from 'preact';
import type { FileEntry, FilesApi } from '../../api/files';
import { encodePath, filesApi, linkDownloadUrl } from '../../api/files';
import { formatUnix } from '../../format';
import { ErrorBanner } from '../../forms';
import type { PageProps } from '../../router';
import { LoadMore } from '../../table';
import { useDocumentTitle } from '../../title';
import { Breadcrumbs, FileIcon, FileTable } from './FileTable';
import { formatSize, segments } from './paths';
import type { FolderListing } from './useFolder';
import { useListing } from './useFolder';

export type LinkApi = Pick<FilesApi, 'getLinkPath'>;

export interface LinkPageProps extends PageProps {
  api?: LinkApi;
}

export function LinkPage({ params, api = filesApi }: LinkPageProps): VNode {
  const token = params['token'] ?? '';
  const path = segments(params['*'] ?? '').join('/');
  const shared = useListing(`${token}\n${path}`, (...request) => api.getLinkPath(token, path, ...request));
  useDocumentTitle('Shared files');
  const base = `/s/${encodeURIComponent(token)}`;
  const hrefFor = (rel: string) => (rel === '' ? base : `${base}/${encodePath(rel)}`);
  const gone = shared.error && (shared.error.status === 404 || shared.error.status === 410);

  if (gone && path === '') {
    return (
      <section class="page files-page" data-testid="link-page">
        <div class="empty" data-testid="link-gone">
          <p class="empty__title">This link has expired or was revoked.</p>
          <p class="empty__text">Ask whoever sent it to you for a new link.</p>
        </div>
      </section>
    );
  }

  return (
    <section class="page page--wide files-page" data-testid="link-page">
      <Breadcrumbs
        crumbs={path.split('/').filter(Boolean).map((part, index, all) => ({ label: part, path: all.slice(0, index + 1).join('/') }))}
        hrefFor={hrefFor}
        root={{ label: 'Shared files', href: base }}
      />
      <header class="page__header">
        <div>
          <h1 class="page__title" data-testid="link-title">
            {shared.file?.name ?? (path === '' ? 'Shared files' : (segments(path).pop() ?? path))}
          </h1>
          <p class="page__subtitle">Shared with you through a public link: download what you need, no account needed.</p>
        </div>
        {shared.listing && (
          <a class="button button--secondary" href={linkDownloadUrl(token, path)} download data-testid="link-download-all">
            Download all (.tar)
          </a>
        )}
      </header>

      {shared.error &&
        (gone ? (
          <div class="empty" data-testid="link-missing">
            <p class="empty__title">There is no {path} in this shared folder, or the link has expired.</p>
            <p>
              <a href={base}>Back to the shared folder</a>
            </p>
          </div>
        ) : (
          <ErrorBanner error={shared.error} prefix="Could not load the shared files." testId="link-error" onRetry={shared.reload} />
        ))}
      <SharedContent shared={shared} token={token} path={path} hrefFor={hrefFor} />
      {shared.hasMore && <LoadMore pending={shared.loadingMore} onMore={shared.loadMore} testId="link-load-more" />}
    </section>
  );
}

/** The shared file (with its download button), or the folder's table, or that it is empty or loading. */
function SharedContent({
  shared,
  token,
  path,
  hrefFor,
}: {
  shared: FolderListing;
  token: string;
  path: string;
  hrefFor: (rel: string) => string;
}): VNode | null {
  const { file, listing } = shared;
  if (shared.loading && !listing && !file) {
    return (
      <p class="loading" data-testid="link-loading">
        Loading…
      </p>
    );
  }
  if (file) {
    return (
      <div class="card link-file" data-testid="link-file">
        <p class="link-file__name">
          <FileIcon /> <strong>{file.name}</strong>
        </p>
        <p class="muted">
          {formatSize(file.size)}
          {file.modified_at !== null ? ` · ${formatUnix(file.modified_at)}` : ''}
        </p>
        <a class="button" href={linkDownloadUrl(token, path)} download={file.name} data-testid="link-file-download">
          Download
        </a>
      </div>
    );
  }
  if (!listing) return null;
  if (shared.entries.length === 0) {
    return (
      <div class="empty" data-testid="link-empty">
        <p class="empty__title">This folder is empty.</p>
      </div>
    );
  }
  return (
    <FileTable
      entries={shared.entries}
      sort={shared.sort}
      order={shared.order}
      onSort={shared.onSort}
      folderHref={(entry) => hrefFor(entry.path)}
      fileHref={(entry) => linkDownloadUrl(token, entry.path)}
      actions={(entry: FileEntry) => (
        <a
          class="button button--small button--secondary"
          href={linkDownloadUrl(token, entry.path)}
          download={entry.kind === 'folder' ? `${entry.name}.tar` : entry.name}
          aria-label={`Download ${entry.name}`}
          data-testid="file-download"
        >
          Download
        </a>
      )}
    />
  );
}
