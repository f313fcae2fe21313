// The listing of a folder (breadcrumbs above it): name with a folder or file icon, size, modified and
// uploaded by (or the job that wrote the file), sorted by the server when a column header is clicked. Shared by the file browser and the
// public link page.
import type { ComponentChildren, VNode } from 'preact';
import type { FileEntry, SortKey, SortOrder } from '../../api/files';
import { Breadcrumbs as Trail } from '../../breadcrumbs';
import { formatDateTime, formatStartTime, isoFromUnix } from '../../format';
import { ActionsHeader } from '../../table';
import type { Crumb } from './paths';
import { formatSize } from './paths';

export function FolderIcon(): VNode {
  return (
    <svg class="file-icon file-icon--folder" viewBox="0 0 20 20" width="18" height="18" aria-hidden="true" focusable="false">
      <path d="M2 5.5A1.5 1.5 0 0 1 3.5 4h4l1.8 2H16.5A1.5 1.5 0 0 1 18 7.5v7a1.5 1.5 0 0 1-1.5 1.5h-13A1.5 1.5 0 0 1 2 14.5z" />
    </svg>
  );
}

export function FileIcon(): VNode {
  return (
    <svg class="file-icon file-icon--file" viewBox="0 0 20 20" width="18" height="18" aria-hidden="true" focusable="false">
      <path d="M5 2.5h6.5L16 7v10a.5.5 0 0 1-.5.5h-10A.5.5 0 0 1 5 17z" />
      <path class="file-icon__fold" d="M11.5 2.5V7H16" />
    </svg>
  );
}

/** Who wrote a file: the uploader's email, else a link to the job whose pods wrote it, else `fallback`. */
export function WrittenBy({ entry, fallback = '' }: { entry: FileEntry; fallback?: string }): VNode {
  if (entry.uploaded_by) return <>{entry.uploaded_by}</>;
  if (entry.written_by_job) {
    return (
      <a href={`/jobs/${encodeURIComponent(entry.written_by_job)}`} data-testid="file-written-by-job">
        job {entry.written_by_job}
      </a>
    );
  }
  return <>{fallback}</>;
}

export function Breadcrumbs({
  crumbs,
  hrefFor,
  root,
}: {
  crumbs: readonly Crumb[];
  hrefFor: (path: string) => string;
  /** The first crumb, before the path's own (e.g. "All files"). */
  root?: { label: string; href: string } | undefined;
}): VNode {
  const items = [...(root ? [root] : []), ...crumbs.map((crumb) => ({ label: crumb.label, href: hrefFor(crumb.path) }))];
  return <Trail items={items} label="Folders" />;
}

/** `secondary` columns give way on narrow screens (name, size and the actions stay). */
const COLUMNS: ReadonlyArray<{ key: SortKey | null; label: string; num?: boolean; secondary?: boolean }> = [
  { key: 'name', label: 'Name' },
  { key: 'size', label: 'Size', num: true },
  { key: 'modified', label: 'Modified', secondary: true },
  { key: null, label: 'Uploaded by', secondary: true },
];

function columnClass({ num, secondary }: (typeof COLUMNS)[number]): string | undefined {
  return [num ? 'num' : '', secondary ? 'table__secondary' : ''].filter(Boolean).join(' ') || undefined;
}

function SortHeader({
  column,
  sort,
  order,
  onSort,
}: {
  column: (typeof COLUMNS)[number];
  sort: SortKey;
  order: SortOrder;
  onSort: (key: SortKey) => void;
}): VNode {
  const { key, label } = column;
  if (key === null) {
    return (
      <th scope="col" class={columnClass(column)}>
        {label}
      </th>
    );
  }
  const active = sort === key;
  return (
    <th scope="col" class={columnClass(column)} aria-sort={active ? (order === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <button type="button" class="sort-button" onClick={() => onSort(key)} data-testid={`sort-${key}`}>
        {label}
        <span class="sort-button__arrow" aria-hidden="true">
          {active ? (order === 'asc' ? '▲' : '▼') : ''}
        </span>
      </button>
    </th>
  );
}

export interface FileTableProps {
  entries: readonly FileEntry[];
  sort: SortKey;
  order: SortOrder;
  onSort: (key: SortKey) => void;
  /** Where a folder's name links to. */
  folderHref: (entry: FileEntry) => string;
  /** A file's name: a button that selects it (preview) or, with `fileHref`, a link. */
  onFile?: (entry: FileEntry) => void;
  fileHref?: (entry: FileEntry) => string;
  selected?: string | null;
  actions?: (entry: FileEntry) => ComponentChildren;
  now?: number;
}

export function FileTable({ entries, sort, order, onSort, folderHref, onFile, fileHref, selected, actions, now }: FileTableProps): VNode {
  return (
    <div class="table-wrap files-table-wrap">
      <table class="table files-table" data-testid="file-table">
        <thead>
          <tr>
            {COLUMNS.map((column) => (
              <SortHeader key={column.label} column={column} sort={sort} order={order} onSort={onSort} />
            ))}
            {actions && <ActionsHeader />}
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => {
            const folder = entry.kind === 'folder';
            return (
              <tr
                key={entry.path}
                class={selected === entry.path ? 'files-table__row files-table__row--selected' : 'files-table__row'}
                data-testid="file-row"
                data-name={entry.name}
                data-kind={entry.kind}
                data-path={entry.path}
              >
                <td class="files-table__name" title={entry.name}>
                  <span class="files-table__entry">
                    {folder ? <FolderIcon /> : <FileIcon />}
                    {folder ? (
                      <a href={folderHref(entry)} data-testid="file-link">
                        {entry.name}
                      </a>
                    ) : fileHref ? (
                      <a href={fileHref(entry)} download={entry.name} data-testid="file-link">
                        {entry.name}
                      </a>
                    ) : (
                      <button
                        type="button"
                        class="link-button files-table__file"
                        aria-pressed={selected === entry.path ? 'true' : 'false'}
                        onClick={() => onFile?.(entry)}
                        data-testid="file-link"
                      >
                        {entry.name}
                      </button>
                    )}
                  </span>
                </td>
                <td class="num" data-testid="file-size" title={entry.size !== null ? `${entry.size.toLocaleString()} bytes` : undefined}>
                  {folder ? '—' : formatSize(entry.size)}
                </td>
                <td class="table__secondary" data-testid="file-modified">
                  {entry.modified_at !== null ? (
                    <time dateTime={isoFromUnix(entry.modified_at)} title={formatDateTime(isoFromUnix(entry.modified_at))}>
                      {formatStartTime(entry.modified_at, now)}
                    </time>
                  ) : (
                    '—'
                  )}
                </td>
                <td class="files-table__by table__secondary" data-testid="file-uploaded-by">
                  <WrittenBy entry={entry} fallback="—" />
                </td>
                {actions && <td class="table__actions files-table__actions">{actions(entry)}</td>}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
