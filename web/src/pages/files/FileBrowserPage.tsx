// The file browser: /datasets/..., /models/..., /workspace/... for the account's own spaces and
// /files/... for any cloud path (public/..., shared/<owner>/..., or the top-level folders at /files).
// A folder's listing (sorted by the server, paged with "Load more"), the storage used, uploads, the
// actions of each entry (download, share, publish, rename or move, delete; in read-only places: copy
// to my space) and a preview of the selected file (?file=<name> in the address bar).
import type { VNode } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApiError } from '../../api/client';
import type { FileEntry, FilesApi, Listing, SortKey, SortOrder } from '../../api/files';
import { downloadUrl, filesApi, isListing } from '../../api/files';
import { ErrorBanner, isAbort, toApiError } from '../../forms';
import { navigate, useLocation } from '../../router';
import type { SignedInPageProps } from '../../session';
import type { MenuAction } from '../../menu';
import { ActionsMenu } from '../../menu';
import { useDocumentTitle } from '../../title';
import { useLoad } from '../settings/common';
import { CopyDialog, DeleteDialog, NewFolderDialog, PublishDialog, RenameDialog, ShareDialog } from './dialogs';
import { FilePreview } from './FilePreview';
import { Breadcrumbs, FileTable } from './FileTable';
import type { OwnSpace } from './paths';
import {
  baseName,
  breadcrumbs,
  browserHref,
  canPublish,
  canShare,
  joinPath,
  OWN_SPACES,
  parentPath,
  segments,
  spaceLabel,
  spaceOf,
  storageText,
} from './paths';
import { UploadDrop, UploadList, useFileDrop } from './UploadPanel';
import type { UploadQueue } from './uploads';
import { uploadQueue } from './uploads';

/** Entries per page of a listing. */
export const PAGE_SIZE = 200;
/** Completed uploads are counted for this long before the listing is loaded again. */
export const REFRESH_AFTER_UPLOAD_MS = 300;

export interface FileBrowserPageProps extends SignedInPageProps {
  /** The space whose page this is ("" for /files, where the route's rest is the whole path). */
  root?: OwnSpace | '';
  api?: FilesApi;
  uploads?: UploadQueue;
}

type DialogState =
  | { type: 'folder' }
  | { type: 'move' | 'delete' | 'share' | 'publish' | 'copy'; entry: FileEntry }
  | null;

interface Loaded {
  path: string;
  listing: Listing | null;
  entries: FileEntry[];
  nextCursor: string | null;
  error: ApiError | null;
  loading: boolean;
}

function isOwnSpace(path: string): boolean {
  return (OWN_SPACES as readonly string[]).includes(spaceOf(path));
}

/** Read-only places whose content can be copied into the account's space. */
function canCopy(path: string): boolean {
  const space = spaceOf(path);
  return (space === 'public' || space === 'shared') && segments(path).length >= (space === 'public' ? 5 : 3);
}

function folderEntry(path: string): FileEntry {
  return { name: baseName(path), path, kind: 'folder', size: null, modified_at: null, uploaded_by: null, content_type: null };
}

export function FileBrowserPage({ params, root = '', api = filesApi, uploads }: FileBrowserPageProps): VNode {
  const path = joinPath(root, params['*'] ?? '');
  const queue = uploads ?? uploadQueue();
  const { search } = useLocation();
  const selectedName = new URLSearchParams(search).get('file');
  const [sort, setSort] = useState<SortKey>('name');
  const [order, setOrder] = useState<SortOrder>('asc');
  const [generation, setGeneration] = useState(0);
  const [loaded, setLoaded] = useState<Loaded>({ path, listing: null, entries: [], nextCursor: null, error: null, loading: true });
  const [loadingMore, setLoadingMore] = useState(false);
  const [dialog, setDialog] = useState<DialogState>(null);
  const [fetchedFile, setFetchedFile] = useState<FileEntry | null>(null);
  const storage = useLoad((options) => api.getStorage(options));
  const pathRef = useRef(path);
  pathRef.current = path;

  const crumbs = breadcrumbs(path);
  const title = path === '' ? 'All files' : (crumbs[crumbs.length - 1]?.label ?? path);
  useDocumentTitle(title);

  const reload = () => setGeneration((g) => g + 1);

  // The listing: again when the folder, the order or the content changes.
  useEffect(() => {
    const controller = new AbortController();
    setLoaded((current) =>
      current.path === path
        ? { ...current, loading: true }
        : { path, listing: null, entries: [], nextCursor: null, error: null, loading: true },
    );
    api.getPath(path, { sort, order, limit: PAGE_SIZE }, { signal: controller.signal }).then(
      (answer) => {
        if (!isListing(answer)) {
          // A file's own URL: show its folder with the file selected.
          navigate(`${browserHref(parentPath(path))}?file=${encodeURIComponent(answer.name)}`, { replace: true });
          return;
        }
        setLoaded({ path, listing: answer, entries: answer.entries, nextCursor: answer.next_cursor, error: null, loading: false });
      },
      (err) => {
        if (isAbort(err)) return;
        setLoaded((current) => ({ ...current, path, error: toApiError(err), loading: false }));
      },
    );
    return () => controller.abort();
  }, [api, path, sort, order, generation]);

  // Completed uploads into this folder (or below it) show up in the listing.
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = queue.onDone((item) => {
      const folder = pathRef.current;
      if (!(item.path === folder || item.path.startsWith(`${folder}/`))) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        reload();
        storage.reload();
      }, REFRESH_AFTER_UPLOAD_MS);
    });
    return () => {
      off();
      clearTimeout(timer);
    };
  }, [queue]);

  const entries = loaded.path === path ? loaded.entries : [];
  const listing = loaded.path === path ? loaded.listing : null;
  const writable = listing?.writable ?? false;
  const selectedPath = selectedName ? joinPath(path, selectedName) : null;
  const selected = selectedPath ? (entries.find((entry) => entry.path === selectedPath) ?? null) : null;

  // A selected file that is not on the loaded page (a link, or further down): ask for its entry.
  useEffect(() => {
    setFetchedFile(null);
    if (!selectedPath || selected || loaded.loading || loaded.path !== path) return;
    const controller = new AbortController();
    api.getPath(selectedPath, {}, { signal: controller.signal }).then(
      (answer) => {
        if (!isListing(answer)) setFetchedFile(answer);
      },
      () => undefined,
    );
    return () => controller.abort();
  }, [selectedPath, selected === null, loaded.loading]);

  const previewed = selected ?? (fetchedFile?.path === selectedPath ? fetchedFile : null);

  const hrefHere = browserHref(path);
  const selectFile = (entry: FileEntry | null) => {
    navigate(entry ? `${hrefHere}?file=${encodeURIComponent(entry.name)}` : hrefHere, { replace: true });
  };

  const onSort = (key: SortKey) => {
    if (key === sort) setOrder(order === 'asc' ? 'desc' : 'asc');
    else {
      setSort(key);
      setOrder(key === 'name' ? 'asc' : 'desc');
    }
  };

  const loadMore = () => {
    const cursor = loaded.nextCursor;
    if (!cursor || loadingMore) return;
    setLoadingMore(true);
    api.getPath(path, { sort, order, limit: PAGE_SIZE, cursor }).then(
      (answer) => {
        if (pathRef.current !== path || !isListing(answer)) return;
        setLoaded((current) => ({
          ...current,
          entries: [...current.entries, ...answer.entries.filter((e) => !current.entries.some((c) => c.path === e.path))],
          nextCursor: answer.next_cursor,
        }));
      },
      (err) => setLoaded((current) => ({ ...current, error: toApiError(err) })),
    ).finally(() => setLoadingMore(false));
  };

  const changed = () => {
    setDialog(null);
    reload();
    storage.reload();
  };

  const actions = (entry: FileEntry) => (
    <EntryActions
      entry={entry}
      writable={writable}
      onAction={(type) => setDialog({ type, entry })}
    />
  );

  const drop = useFileDrop(path, queue);
  const ownSpace = isOwnSpace(path);
  const notFound = loaded.error?.status === 404 && loaded.path === path;

  return (
    <section class="page page--wide files-page" data-testid="files-page" data-path={path} {...(writable && path !== '' ? drop.handlers : {})}>
      <Breadcrumbs crumbs={crumbs} hrefFor={browserHref} root={{ label: 'All files', href: '/files' }} />
      <header class="page__header">
        <div>
          <h1 class="page__title" data-testid="files-title">
            {title}
          </h1>
          {listing && !writable && path !== '' && (
            <p class="page__subtitle" data-testid="files-readonly">
              Read-only{spaceOf(path) === 'shared' || spaceOf(path) === 'public' ? ': copy it to your space to change it.' : '.'}
            </p>
          )}
          {path === '' && <p class="page__subtitle">Your account’s datasets and models, your workspace, and what others published or shared.</p>}
        </div>
        {ownSpace && storage.data && <StorageBar used={storage.data.used_bytes} quota={storage.data.quota_bytes} />}
      </header>

      {listing && path !== '' && (
        <div class="files-toolbar" data-testid="files-toolbar">
          {writable && (
            <button type="button" class="button button--small" onClick={() => setDialog({ type: 'folder' })} data-testid="new-folder">
              New folder
            </button>
          )}
          {writable && canShare(path) && (
            <button type="button" class="button button--small button--secondary" onClick={() => setDialog({ type: 'share', entry: folderEntry(path) })} data-testid="share-folder">
              Share this folder
            </button>
          )}
          {writable && canPublish(path) && (
            <button type="button" class="button button--small button--secondary" onClick={() => setDialog({ type: 'publish', entry: folderEntry(path) })} data-testid="publish-folder">
              Publish this folder
            </button>
          )}
          {!writable && canCopy(path) && (
            <button type="button" class="button button--small button--secondary" onClick={() => setDialog({ type: 'copy', entry: folderEntry(path) })} data-testid="copy-folder">
              Copy to my space
            </button>
          )}
          {segments(path).length >= 2 && (
            <a class="button button--small button--secondary" href={downloadUrl(path)} download={`${baseName(path)}.tar`} data-testid="download-folder">
              Download folder (.tar)
            </a>
          )}
          <span class="files-toolbar__count muted" data-testid="files-count">
            {listing.total === 1 ? '1 item' : `${listing.total} items`}
          </span>
        </div>
      )}

      {writable && path !== '' && <UploadDrop folder={path} drop={drop} />}
      <UploadList queue={queue} />

      {loaded.error && loaded.path === path && (
        notFound ? (
          <div class="empty" data-testid="files-not-found">
            <p class="empty__title">There is no folder {path}.</p>
            <p class="empty__text">It may have been moved, deleted or no longer be shared with you.</p>
            <p>
              <a href={browserHref(spaceOf(path) === 'shared' ? '' : spaceOf(path))}>Go to {spaceOf(path) === 'shared' ? 'All files' : spaceLabel(spaceOf(path))}</a>
            </p>
          </div>
        ) : (
          <ErrorBanner
            error={loaded.error}
            prefix={listing ? 'Could not refresh the folder.' : 'Could not load the folder.'}
            testId="files-error"
            onRetry={reload}
          />
        )
      )}

      <div class={previewed ? 'browser browser--with-preview' : 'browser'}>
        <div class="browser__listing">
          {loaded.loading && !listing ? (
            <p class="loading" data-testid="files-loading">
              Loading…
            </p>
          ) : listing && entries.length === 0 ? (
            <div class="empty" data-testid="files-empty">
              <p class="empty__title">This folder is empty.</p>
              {writable && <p class="empty__text">Drop files or folders above, or use Upload files and Upload folder.</p>}
            </div>
          ) : listing ? (
            <FileTable
              entries={entries}
              sort={sort}
              order={order}
              onSort={onSort}
              folderHref={(entry) => browserHref(entry.path)}
              onFile={(entry) => selectFile(previewed?.path === entry.path ? null : entry)}
              selected={previewed?.path ?? null}
              actions={path === '' ? undefined : actions}
            />
          ) : null}
          {loaded.nextCursor && listing && (
            <p class="load-more">
              <button type="button" class="button button--secondary" onClick={loadMore} disabled={loadingMore} data-testid="files-load-more">
                {loadingMore ? 'Loading…' : 'Load more'}
              </button>
            </p>
          )}
        </div>
        {previewed && <FilePreview key={previewed.path} entry={previewed} api={api} onClose={() => selectFile(null)} />}
      </div>

      {dialog?.type === 'folder' && <NewFolderDialog parent={path} api={api} onCreated={changed} onClose={() => setDialog(null)} />}
      {dialog?.type === 'move' && (
        <RenameDialog
          entry={dialog.entry}
          api={api}
          onMoved={() => {
            if (previewed?.path === dialog.entry.path) selectFile(null);
            changed();
          }}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog?.type === 'delete' && (
        <DeleteDialog
          entry={dialog.entry}
          api={api}
          onDeleted={() => {
            if (previewed?.path === dialog.entry.path) selectFile(null);
            changed();
          }}
          onClose={() => setDialog(null)}
        />
      )}
      {dialog?.type === 'share' && <ShareDialog entry={dialog.entry} api={api} onClose={() => setDialog(null)} />}
      {dialog?.type === 'publish' && <PublishDialog entry={dialog.entry} api={api} onClose={() => setDialog(null)} />}
      {dialog?.type === 'copy' && (
        <CopyDialog
          from={dialog.entry.path}
          api={api}
          onClose={() => {
            setDialog(null);
            storage.reload();
          }}
        />
      )}
    </section>
  );
}

type EntryAction = 'move' | 'delete' | 'share' | 'publish' | 'copy';

/** One menu per row with every action the entry allows (the same place for files and folders). */
function EntryActions({ entry, writable, onAction }: { entry: FileEntry; writable: boolean; onAction: (type: EntryAction) => void }): VNode {
  const action = (type: EntryAction, label: string, danger = false): MenuAction => ({
    label,
    testId: `file-${type}`,
    onSelect: () => onAction(type),
    danger,
  });
  const actions: MenuAction[] = [
    {
      label: entry.kind === 'folder' ? 'Download (.tar)' : 'Download',
      testId: 'file-download',
      href: downloadUrl(entry.path),
      download: entry.kind === 'folder' ? `${entry.name}.tar` : entry.name,
    },
  ];
  if (writable && canShare(entry.path)) actions.push(action('share', 'Share…'));
  if (writable && canPublish(entry.path)) actions.push(action('publish', 'Publish…'));
  if (writable) actions.push(action('move', 'Rename or move…'), action('delete', 'Delete…', true));
  if (!writable && canCopy(entry.path)) actions.push(action('copy', 'Copy to my space…'));
  return <ActionsMenu label={`Actions for ${entry.name}`} actions={actions} testId="file-menu" />;
}

export function StorageBar({ used, quota }: { used: number; quota: number | null }): VNode {
  const full = quota ? used / quota : 0;
  return (
    <div class="storage" data-testid="storage">
      <span class="storage__label">
        Storage: <span data-testid="storage-text">{storageText(used, quota)}</span>
      </span>
      {quota ? (
        <meter
          class="storage__bar"
          min={0}
          max={quota}
          low={quota * 0.8}
          high={quota * 0.95}
          optimum={0}
          value={Math.min(used, quota)}
          aria-label={`Storage used: ${Math.round(full * 100)}%`}
          data-testid="storage-bar"
        />
      ) : null}
    </div>
  );
}

// ---- The pages of the routes ---------------------------------------------------------------------

export function DatasetsPage(props: SignedInPageProps): VNode {
  return <FileBrowserPage {...props} root="datasets" />;
}

export function ModelsPage(props: SignedInPageProps): VNode {
  return <FileBrowserPage {...props} root="models" />;
}

export function WorkspacePage(props: SignedInPageProps): VNode {
  return <FileBrowserPage {...props} root="workspace" />;
}

/** /files/...: any cloud path; the account's own spaces move to their own pages (/datasets/...). */
export function AllFilesPage(props: SignedInPageProps): VNode | null {
  const path = joinPath(props.params['*'] ?? '');
  const { search } = useLocation();
  const own = isOwnSpace(path);
  useEffect(() => {
    if (own) navigate(`${browserHref(path)}${search}`, { replace: true });
  }, [own, path, search]);
  if (own) return null;
  return <FileBrowserPage {...props} root="" />;
}
