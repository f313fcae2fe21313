// The file browser: /datasets/..., /models/..., /workspace/... for the account's own spaces and
// /files/... for any cloud path (public/..., shared/<owner>/..., or the top-level folders at /files).
// A folder's listing (sorted by the server, paged with "Load more"), the storage used, uploads, the
// actions of each entry (download, share, publish, rename or move, delete; in read-only places: copy
// to my space) and a preview of the selected file (?file=<name> in the address bar).
import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ApiError } from '../../api/client';
import type { FileEntry, FilesApi, Listing } from '../../api/files';
import { downloadUrl, filesApi } from '../../api/files';
import { ErrorBanner } from '../../forms';
import { navigate, useLocation } from '../../router';
import type { SignedInPageProps } from '../../session';
import type { MenuAction } from '../../menu';
import { ActionsMenu } from '../../menu';
import { LoadMore } from '../../table';
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
import type { FolderListing } from './useFolder';
import { useListing, useRefreshAfterUploads, useSelectedFile } from './useFolder';

export { PAGE_SIZE, REFRESH_AFTER_UPLOAD_MS } from './useFolder';

export interface FileBrowserPageProps extends SignedInPageProps {
  /** The space whose page this is ("" for /files, where the route's rest is the whole path). */
  root?: OwnSpace | '';
  api?: FilesApi;
  uploads?: UploadQueue;
}

type DialogState = { type: 'folder' } | { type: EntryAction; entry: FileEntry } | null;

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
  const selectedName = new URLSearchParams(useLocation().search).get('file');
  const [dialog, setDialog] = useState<DialogState>(null);
  const storage = useLoad((options) => api.getStorage(options));
  const folder = useListing(
    path,
    (...request) => api.getPath(path, ...request),
    // A file's own URL: show its folder with the file selected.
    (file) => navigate(`${browserHref(parentPath(path))}?file=${encodeURIComponent(file.name)}`, { replace: true }),
  );
  const { previewed, select } = useSelectedFile(api, path, selectedName, folder);
  const changed = () => {
    folder.reload();
    storage.reload();
  };
  useRefreshAfterUploads(queue, path, changed);
  const crumbs = breadcrumbs(path);
  const title = path === '' ? 'All files' : (crumbs[crumbs.length - 1]?.label ?? path);
  useDocumentTitle(title);
  const drop = useFileDrop(path, queue);
  const writable = folder.listing?.writable ?? false;

  return (
    <section class="page page--wide files-page" data-testid="files-page" data-path={path} {...(writable && path !== '' ? drop.handlers : {})}>
      <Breadcrumbs crumbs={crumbs} hrefFor={browserHref} root={{ label: 'All files', href: '/files' }} />
      <FolderHeader path={path} title={title} listing={folder.listing} storage={storage.data} />
      {folder.listing && path !== '' && <FolderToolbar path={path} listing={folder.listing} onDialog={setDialog} />}
      {writable && path !== '' && <UploadDrop folder={path} drop={drop} />}
      <UploadList queue={queue} />
      {folder.error && <FolderError path={path} folder={folder} error={folder.error} />}
      <div class={previewed ? 'browser browser--with-preview' : 'browser'}>
        <div class="browser__listing">
          <FolderEntries
            folder={folder}
            writable={writable}
            selected={previewed?.path ?? null}
            onFile={(entry) => select(previewed?.path === entry.path ? null : entry)}
            actions={path === '' ? undefined : (entry) => <EntryActions entry={entry} writable={writable} onAction={(type) => setDialog({ type, entry })} />}
          />
        </div>
        {previewed && <FilePreview key={previewed.path} entry={previewed} api={api} onClose={() => select(null)} />}
      </div>
      <FileDialogs
        dialog={dialog}
        path={path}
        api={api}
        onClose={() => setDialog(null)}
        onChanged={(entry) => {
          if (entry && previewed?.path === entry.path) select(null);
          setDialog(null);
          changed();
        }}
        onCopied={() => {
          setDialog(null);
          storage.reload();
        }}
      />
    </section>
  );
}

function FolderHeader({
  path,
  title,
  listing,
  storage,
}: {
  path: string;
  title: string;
  listing: Listing | null;
  storage: { used_bytes: number; quota_bytes: number | null } | undefined;
}): VNode {
  const shared = spaceOf(path) === 'shared' || spaceOf(path) === 'public';
  return (
    <header class="page__header">
      <div>
        <h1 class="page__title" data-testid="files-title">
          {title}
        </h1>
        {listing && !listing.writable && path !== '' && (
          <p class="page__subtitle" data-testid="files-readonly">
            Read-only{shared ? ': copy it to your space to change it.' : '.'}
          </p>
        )}
        {path === '' && <p class="page__subtitle">Your account’s datasets and models, your workspace, and what others published or shared.</p>}
      </div>
      {isOwnSpace(path) && storage && <StorageBar used={storage.used_bytes} quota={storage.quota_bytes} />}
    </header>
  );
}

/** The folder's own actions (new folder, share, publish, copy, download) and its number of items. */
function FolderToolbar({ path, listing, onDialog }: { path: string; listing: Listing; onDialog: (dialog: DialogState) => void }): VNode {
  const writable = listing.writable;
  const button = (type: 'share' | 'publish' | 'copy', testId: string, label: string) => (
    <button type="button" class="button button--small button--secondary" onClick={() => onDialog({ type, entry: folderEntry(path) })} data-testid={testId}>
      {label}
    </button>
  );
  return (
    <div class="files-toolbar" data-testid="files-toolbar">
      {writable && (
        <button type="button" class="button button--small" onClick={() => onDialog({ type: 'folder' })} data-testid="new-folder">
          New folder
        </button>
      )}
      {writable && canShare(path) && button('share', 'share-folder', 'Share this folder')}
      {writable && canPublish(path) && button('publish', 'publish-folder', 'Publish this folder')}
      {!writable && canCopy(path) && button('copy', 'copy-folder', 'Copy to my space')}
      {segments(path).length >= 2 && (
        <a class="button button--small button--secondary" href={downloadUrl(path)} download={`${baseName(path)}.tar`} data-testid="download-folder">
          Download folder (.tar)
        </a>
      )}
      <span class="files-toolbar__count muted" data-testid="files-count">
        {listing.total === 1 ? '1 item' : `${listing.total} items`}
      </span>
    </div>
  );
}

/** A folder that is not there (with a way back), or a banner to try again. */
function FolderError({ path, folder, error }: { path: string; folder: FolderListing; error: ApiError }): VNode {
  if (error.status !== 404) {
    return (
      <ErrorBanner
        error={error}
        prefix={folder.listing ? 'Could not refresh the folder.' : 'Could not load the folder.'}
        testId="files-error"
        onRetry={folder.reload}
      />
    );
  }
  const space = spaceOf(path);
  return (
    <div class="empty" data-testid="files-not-found">
      <p class="empty__title">There is no folder {path}.</p>
      <p class="empty__text">It may have been moved, deleted or no longer be shared with you.</p>
      <p>
        <a href={browserHref(space === 'shared' ? '' : space)}>Go to {space === 'shared' ? 'All files' : spaceLabel(space)}</a>
      </p>
    </div>
  );
}

/** The listing's table (or "Loading…", or the empty folder), with "Load more". */
function FolderEntries({
  folder,
  writable,
  selected,
  onFile,
  actions,
}: {
  folder: FolderListing;
  writable: boolean;
  selected: string | null;
  onFile: (entry: FileEntry) => void;
  actions: ((entry: FileEntry) => VNode) | undefined;
}): VNode {
  const { listing, entries } = folder;
  return (
    <>
      {folder.loading && !listing ? (
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
          sort={folder.sort}
          order={folder.order}
          onSort={folder.onSort}
          folderHref={(entry) => browserHref(entry.path)}
          onFile={onFile}
          selected={selected}
          actions={actions}
        />
      ) : null}
      {folder.hasMore && listing && <LoadMore pending={folder.loadingMore} onMore={folder.loadMore} testId="files-load-more" />}
    </>
  );
}

/** The open dialog; `onChanged(entry)` after a change (the entry moved or deleted, if any). */
function FileDialogs({
  dialog,
  path,
  api,
  onClose,
  onChanged,
  onCopied,
}: {
  dialog: DialogState;
  path: string;
  api: FilesApi;
  onClose: () => void;
  onChanged: (entry?: FileEntry) => void;
  onCopied: () => void;
}): VNode | null {
  if (!dialog) return null;
  if (dialog.type === 'folder') return <NewFolderDialog parent={path} api={api} onCreated={() => onChanged()} onClose={onClose} />;
  const { entry } = dialog;
  switch (dialog.type) {
    case 'move':
      return <RenameDialog entry={entry} api={api} onMoved={() => onChanged(entry)} onClose={onClose} />;
    case 'delete':
      return <DeleteDialog entry={entry} api={api} onDeleted={() => onChanged(entry)} onClose={onClose} />;
    case 'share':
      return <ShareDialog entry={entry} api={api} onClose={onClose} />;
    case 'publish':
      return <PublishDialog entry={entry} api={api} onClose={onClose} />;
    case 'copy':
      return <CopyDialog from={entry.path} api={api} onClose={onCopied} />;
  }
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
