// The state behind the file pages: a folder's listing (sorted, paged, loaded again after changes and
// uploads) and the selected file (?file=<name>), which may lie beyond the loaded page.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApiError, RequestOptions } from '../../api/client';
import type { FileEntry, FilesApi, ListQuery, Listing, PathAnswer, SortKey, SortOrder } from '../../api/files';
import { isListing } from '../../api/files';
import { isAbort, toApiError } from '../../forms';
import { navigate } from '../../router';
import { browserHref, joinPath } from './paths';
import type { UploadQueue } from './uploads';

/** Entries per page of a listing. */
export const PAGE_SIZE = 200;
/** Completed uploads are counted for this long before the listing is loaded again. */
export const REFRESH_AFTER_UPLOAD_MS = 300;

interface Loaded {
  key: string;
  listing: Listing | null;
  file: FileEntry | null;
  entries: FileEntry[];
  nextCursor: string | null;
  error: ApiError | null;
  loading: boolean;
}

export interface FolderListing {
  /** The listing of the current place (null until it loads, when it failed, or when it is a file). */
  listing: Listing | null;
  /** The current place when it is a file. */
  file: FileEntry | null;
  entries: FileEntry[];
  /** The error of the current place's last load. */
  error: ApiError | null;
  loading: boolean;
  /** The current place's load has ended (with an answer or an error). */
  settled: boolean;
  hasMore: boolean;
  loadingMore: boolean;
  loadMore: () => void;
  reload: () => void;
  sort: SortKey;
  order: SortOrder;
  /** Sorts by `key`, or turns the order around when it already sorts by it. */
  onSort: (key: SortKey) => void;
}

function emptyLoad(key: string): Loaded {
  return { key, listing: null, file: null, entries: [], nextCursor: null, error: null, loading: true };
}

/** `current` with the entries of `next` it does not have yet. */
function withPage(current: Loaded, next: Listing): Loaded {
  const fresh = next.entries.filter((e) => !current.entries.some((c) => c.path === e.path));
  return { ...current, entries: [...current.entries, ...fresh], nextCursor: next.next_cursor };
}

/**
 * The listing that `load` answers for the place `key` (a path), loaded again when the place, the order
 * or the content changes. A file's answer is kept as `file`, or handed to `onFile` instead.
 */
export function useListing(
  key: string,
  load: (query: ListQuery, options?: RequestOptions) => Promise<PathAnswer>,
  onFile?: (file: FileEntry) => void,
): FolderListing {
  const [sort, setSort] = useState<SortKey>('name');
  const [order, setOrder] = useState<SortOrder>('asc');
  const [generation, setGeneration] = useState(0);
  const [loaded, setLoaded] = useState<Loaded>(() => emptyLoad(key));
  const [loadingMore, setLoadingMore] = useState(false);
  const keyRef = useRef(key);
  keyRef.current = key;
  const failed = (err: unknown) => setLoaded((current) => ({ ...current, key, error: toApiError(err), loading: false }));
  useEffect(() => {
    const controller = new AbortController();
    setLoaded((current) => (current.key === key ? { ...current, loading: true } : emptyLoad(key)));
    load({ sort, order, limit: PAGE_SIZE }, { signal: controller.signal }).then(
      (answer) => {
        if (isListing(answer)) {
          setLoaded({ ...emptyLoad(key), listing: answer, entries: answer.entries, nextCursor: answer.next_cursor, loading: false });
        } else if (onFile) onFile(answer);
        else setLoaded({ ...emptyLoad(key), file: answer, loading: false });
      },
      (err) => {
        if (!isAbort(err)) failed(err);
      },
    );
    return () => controller.abort();
  }, [key, sort, order, generation]);

  const loadMore = () => {
    const cursor = loaded.nextCursor;
    if (!cursor || loadingMore) return;
    setLoadingMore(true);
    load({ sort, order, limit: PAGE_SIZE, cursor })
      .then((answer) => {
        if (keyRef.current === key && isListing(answer)) setLoaded((current) => withPage(current, answer));
      }, failed)
      .finally(() => setLoadingMore(false));
  };
  const onSort = (column: SortKey) => {
    if (column === sort) setOrder(order === 'asc' ? 'desc' : 'asc');
    else {
      setSort(column);
      setOrder(column === 'name' ? 'asc' : 'desc');
    }
  };
  const here = loaded.key === key;
  return {
    listing: here ? loaded.listing : null,
    file: here ? loaded.file : null,
    entries: here ? loaded.entries : [],
    error: here ? loaded.error : null,
    loading: !here || loaded.loading,
    settled: here && !loaded.loading,
    hasMore: here && loaded.nextCursor !== null,
    loadingMore,
    loadMore,
    reload: () => setGeneration((g) => g + 1),
    sort,
    order,
    onSort,
  };
}

/** Calls `refresh` a moment after uploads into the folder `path` (or below it) complete. */
export function useRefreshAfterUploads(queue: UploadQueue, path: string, refresh: () => void): void {
  const latest = useRef({ path, refresh });
  latest.current = { path, refresh };
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = queue.onDone((item) => {
      const folder = latest.current.path;
      if (!(item.path === folder || item.path.startsWith(`${folder}/`))) return;
      clearTimeout(timer);
      timer = setTimeout(() => latest.current.refresh(), REFRESH_AFTER_UPLOAD_MS);
    });
    return () => {
      off();
      clearTimeout(timer);
    };
  }, [queue]);
}

/**
 * The file `selectedName` of the folder `path`: from the loaded entries, or asked for when it is not on
 * the loaded page (a link, or further down). `select` changes it in the address bar.
 */
export function useSelectedFile(
  api: FilesApi,
  path: string,
  selectedName: string | null,
  folder: FolderListing,
): { previewed: FileEntry | null; select: (entry: FileEntry | null) => void } {
  const [fetchedFile, setFetchedFile] = useState<FileEntry | null>(null);
  const selectedPath = selectedName ? joinPath(path, selectedName) : null;
  const selected = selectedPath ? (folder.entries.find((entry) => entry.path === selectedPath) ?? null) : null;
  useEffect(() => {
    setFetchedFile(null);
    if (!selectedPath || selected || !folder.settled) return;
    const controller = new AbortController();
    api.getPath(selectedPath, {}, { signal: controller.signal }).then(
      (answer) => {
        if (!isListing(answer)) setFetchedFile(answer);
      },
      () => undefined,
    );
    return () => controller.abort();
  }, [selectedPath, selected === null, folder.loading]);
  const hrefHere = browserHref(path);
  const select = (entry: FileEntry | null) => {
    navigate(entry ? `${hrefHere}?file=${encodeURIComponent(entry.name)}` : hrefHere, { replace: true });
  };
  return { previewed: selected ?? (fetchedFile?.path === selectedPath ? fetchedFile : null), select };
}
