// A public link (/s/<token>/<path>): the shared folder (or file), browsable and downloadable without
// signing in. An expired or revoked link answers 404: the page says so.
import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ApiError } from '../../api/client';
import type { FileEntry, FilesApi, Listing, SortKey, SortOrder } from '../../api/files';
import { encodePath, filesApi, isListing, linkDownloadUrl } from '../../api/files';
import { formatUnix } from '../../format';
import { ErrorBanner, isAbort, toApiError } from '../../forms';
import type { PageProps } from '../../router';
import { useDocumentTitle } from '../../title';
import { Breadcrumbs, FileIcon, FileTable } from './FileTable';
import { formatSize, segments } from './paths';

export type LinkApi = Pick<FilesApi, 'getLinkPath'>;

export interface LinkPageProps extends PageProps {
  api?: LinkApi;
}

const PAGE_SIZE = 200;

interface State {
  key: string;
  listing: Listing | null;
  file: FileEntry | null;
  entries: FileEntry[];
  nextCursor: string | null;
  error: ApiError | null;
  loading: boolean;
}

export function LinkPage({ params, api = filesApi }: LinkPageProps): VNode {
  const token = params['token'] ?? '';
  const path = segments(params['*'] ?? '').join('/');
  const key = `${token}\n${path}`;
  const [sort, setSort] = useState<SortKey>('name');
  const [order, setOrder] = useState<SortOrder>('asc');
  const [generation, setGeneration] = useState(0);
  const [state, setState] = useState<State>({ key, listing: null, file: null, entries: [], nextCursor: null, error: null, loading: true });
  const [loadingMore, setLoadingMore] = useState(false);
  useDocumentTitle('Shared files');

  useEffect(() => {
    const controller = new AbortController();
    setState((current) =>
      current.key === key ? { ...current, loading: true } : { key, listing: null, file: null, entries: [], nextCursor: null, error: null, loading: true },
    );
    api.getLinkPath(token, path, { sort, order, limit: PAGE_SIZE }, { signal: controller.signal }).then(
      (answer) => {
        if (isListing(answer)) {
          setState({ key, listing: answer, file: null, entries: answer.entries, nextCursor: answer.next_cursor, error: null, loading: false });
        } else {
          setState({ key, listing: null, file: answer, entries: [], nextCursor: null, error: null, loading: false });
        }
      },
      (err) => {
        if (isAbort(err)) return;
        setState((current) => ({ ...current, key, error: toApiError(err), loading: false }));
      },
    );
    return () => controller.abort();
  }, [api, key, sort, order, generation]);

  const base = `/s/${encodeURIComponent(token)}`;
  const hrefFor = (rel: string) => (rel === '' ? base : `${base}/${encodePath(rel)}`);
  const current = state.key === key ? state : null;
  const gone = current?.error && (current.error.status === 404 || current.error.status === 410);

  const loadMore = () => {
    if (!current?.nextCursor || loadingMore) return;
    setLoadingMore(true);
    api
      .getLinkPath(token, path, { sort, order, limit: PAGE_SIZE, cursor: current.nextCursor })
      .then(
        (answer) => {
          if (!isListing(answer)) return;
          setState((s) => (s.key === key ? { ...s, entries: [...s.entries, ...answer.entries], nextCursor: answer.next_cursor } : s));
        },
        (err) => setState((s) => ({ ...s, error: toApiError(err) })),
      )
      .finally(() => setLoadingMore(false));
  };

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
            {current?.file?.name ?? (path === '' ? 'Shared files' : (segments(path).pop() ?? path))}
          </h1>
          <p class="page__subtitle">Shared with you through a public link: download what you need, no account needed.</p>
        </div>
        {current?.listing && (
          <a class="button button--secondary" href={linkDownloadUrl(token, path)} download data-testid="link-download-all">
            Download all (.tar)
          </a>
        )}
      </header>

      {current?.error &&
        (gone ? (
          <div class="empty" data-testid="link-missing">
            <p class="empty__title">There is no {path} in this shared folder, or the link has expired.</p>
            <p>
              <a href={base}>Back to the shared folder</a>
            </p>
          </div>
        ) : (
          <ErrorBanner
            error={current.error}
            prefix="Could not load the shared files."
            testId="link-error"
            onRetry={() => setGeneration((g) => g + 1)}
          />
        ))}

      {!current || (current.loading && !current.listing && !current.file) ? (
        <p class="loading" data-testid="link-loading">
          Loading…
        </p>
      ) : current.file ? (
        <div class="card link-file" data-testid="link-file">
          <p class="link-file__name">
            <FileIcon /> <strong>{current.file.name}</strong>
          </p>
          <p class="muted">
            {formatSize(current.file.size)}
            {current.file.modified_at !== null ? ` · ${formatUnix(current.file.modified_at)}` : ''}
          </p>
          <a class="button" href={linkDownloadUrl(token, path)} download={current.file.name} data-testid="link-file-download">
            Download
          </a>
        </div>
      ) : current.listing && current.entries.length === 0 ? (
        <div class="empty" data-testid="link-empty">
          <p class="empty__title">This folder is empty.</p>
        </div>
      ) : current.listing ? (
        <FileTable
          entries={current.entries}
          sort={sort}
          order={order}
          onSort={(column) => {
            if (column === sort) setOrder(order === 'asc' ? 'desc' : 'asc');
            else {
              setSort(column);
              setOrder(column === 'name' ? 'asc' : 'desc');
            }
          }}
          folderHref={(entry) => hrefFor(entry.path)}
          fileHref={(entry) => linkDownloadUrl(token, entry.path)}
          actions={(entry) => (
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
      ) : null}
      {current?.nextCursor && (
        <p class="load-more">
          <button type="button" class="button button--secondary" onClick={loadMore} disabled={loadingMore} data-testid="link-load-more">
            {loadingMore ? 'Loading…' : 'Load more'}
          </button>
        </p>
      )}
    </section>
  );
}
