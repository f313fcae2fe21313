// Datasets and models: typed calls to the file service (docs/files.md). A *cloud path* is relative and
// '/'-separated ("datasets/mnist/train.csv"); in URLs each segment is percent-encoded on its own.
//
// Uploads are resumable: POST /api/v1/uploads opens a session, the bytes go in PUTs with a
// Content-Range (sent with XMLHttpRequest, whose upload.onprogress reports progress), GET tells the
// server's offset after a lost connection and DELETE cancels. Times are unix seconds.
import type { RequestOptions } from './client';
import { ApiError, delete as del, errorFromResponse, get, patch, post, upload } from './client';

export type EntryKind = 'file' | 'folder';

export interface FileEntry {
  name: string;
  /** The whole cloud path (inside a public link: relative to the shared folder). */
  path: string;
  kind: EntryKind | (string & {});
  /** Bytes; null for folders. */
  size: number | null;
  modified_at: number | null;
  /** Email of who uploaded the file; null for folders and files no one uploaded. */
  uploaded_by: string | null;
  /** Id of the job whose pods wrote the file (recorded when the job ended); null otherwise (the
   * server always sends it; entries the app makes up for folders leave it out). */
  written_by_job?: string | null;
  content_type: string | null;
}

/** GET /api/v1/files/{folder}. */
export interface Listing {
  path: string;
  kind: 'folder';
  writable: boolean;
  entries: FileEntry[];
  total: number;
  next_cursor: string | null;
}

/** GET /api/v1/files/{file}: the entry itself. */
export interface FileInfo extends FileEntry {
  writable: boolean;
  etag?: string;
}

export type PathAnswer = Listing | (FileInfo & { entries?: undefined });

export function isListing(answer: PathAnswer): answer is Listing {
  return answer.kind === 'folder' && Array.isArray((answer as Listing).entries);
}

export type SortKey = 'name' | 'size' | 'modified';
export type SortOrder = 'asc' | 'desc';

export interface ListQuery {
  sort?: SortKey;
  order?: SortOrder;
  limit?: number;
  cursor?: string;
}

export interface Storage {
  used_bytes: number;
  quota_bytes: number | null;
}

export interface UploadSession {
  id: string;
  path: string;
  size: number | null;
  offset: number;
  expires_at?: number;
  /** True when nothing is left to send (an empty file completes at once). */
  complete?: boolean;
  file?: FileEntry;
}

export interface UploadStatus {
  id: string;
  path: string;
  size: number | null;
  offset: number;
  complete: boolean;
  file?: FileEntry;
}

export interface Share {
  id: number;
  path: string;
  kind: EntryKind | (string & {});
  /** The account it is shared with; null for a public link. */
  account: string | null;
  /** "/s/<token>" for a public link, else null. */
  link: string | null;
  expires_at: number | null;
  created_at: number;
  created_by: string;
}

export type NewShare = { path: string; account: string } | { path: string; link: true; expires_at?: number };

export interface SharedWithMe {
  id: number;
  owner_account: string;
  path: string;
  /** Where it appears in this account's tree: "shared/<owner>/<path>". */
  mount: string;
  kind: EntryKind | (string & {});
  created_at: number;
  expires_at: number | null;
}

export type PublicationKind = 'model' | 'dataset';

export interface Publication {
  id: number;
  kind: PublicationKind | (string & {});
  name: string;
  version: string;
  description: string;
  account: string;
  published_by: string;
  published_at: number;
  /** "public/models/<account>/<name>/<version>". */
  path: string;
  files: number;
  bytes: number;
}

export interface NewPublication {
  kind: PublicationKind;
  name: string;
  version: string;
  description: string;
  /** A folder, or an archive (.tar, .tar.gz, .tgz, .zip) that is extracted. */
  path: string;
}

export interface PublicationQuery {
  kind?: PublicationKind;
  q?: string;
}

// ---- URLs ------------------------------------------------------------------------------------------

/** "datasets/a b/x.csv" -> "datasets/a%20b/x.csv" (empty segments dropped). */
export function encodePath(path: string): string {
  return path
    .split('/')
    .filter((segment) => segment !== '')
    .map(encodeURIComponent)
    .join('/');
}

const seg = encodeURIComponent;

export function filesUrl(path: string): string {
  return `/api/v1/files/${encodePath(path)}`;
}

/** The file's bytes (a folder: a tar stream); `inline` asks for inline display (images, plain text). */
export function downloadUrl(path: string, inline = false): string {
  return `/api/v1/download/${encodePath(path)}${inline ? '?inline=1' : ''}`;
}

export function linkFilesUrl(token: string, path: string): string {
  return `/api/v1/links/${seg(token)}/files/${encodePath(path)}`;
}

export function linkDownloadUrl(token: string, path: string): string {
  return `/api/v1/links/${seg(token)}/download/${encodePath(path)}`;
}

// ---- Files and folders -----------------------------------------------------------------------------

function listQuery(query: ListQuery | undefined): Record<string, string | number | undefined> {
  return { sort: query?.sort, order: query?.order, limit: query?.limit, cursor: query?.cursor };
}

/** A folder's listing, or a file's entry. */
export function getPath(path: string, query?: ListQuery, options?: RequestOptions): Promise<PathAnswer> {
  return get<PathAnswer>(filesUrl(path), { ...options, query: listQuery(query) });
}

export function getStorage(options?: RequestOptions): Promise<Storage> {
  return get<Storage>('/api/v1/storage', options);
}

export function createFolder(path: string, options?: RequestOptions): Promise<FileEntry> {
  return post<FileEntry>('/api/v1/folders', { path }, options);
}

/** Renames or moves `path` to `to`. */
export function movePath(path: string, to: string, options?: RequestOptions): Promise<FileEntry> {
  return patch<FileEntry>(filesUrl(path), { path: to }, options);
}

/** Deletes a file or folder; a non-empty folder needs `recursive`. */
export async function deletePath(path: string, recursive: boolean, options?: RequestOptions): Promise<void> {
  await del<void>(filesUrl(path), { ...options, query: recursive ? { recursive: 'true' } : {} });
}

/** Copies a readable file or folder into a writable space. */
export function copyPath(from: string, to: string, options?: RequestOptions): Promise<FileEntry> {
  return post<FileEntry>('/api/v1/copies', { from, to }, options);
}

/** The first bytes of a file, for a preview. */
export interface FileHead {
  bytes: Uint8Array;
  /** The whole file's size, when the server said. */
  size: number | undefined;
  contentType: string | null;
  /** True when the file has more bytes than `bytes`. */
  truncated: boolean;
}

/** "bytes 0-65535/1234567" -> 1234567. */
export function totalFromContentRange(header: string | null): number | undefined {
  const match = header ? /\/(\d+)\s*$/.exec(header) : null;
  return match ? Number(match[1]) : undefined;
}

/**
 * Reads at most `max` bytes from the start of a download URL (asks for `Range: bytes=0-(max-1)`; a
 * server that sends the whole file anyway is read only that far).
 */
export async function readHead(url: string, max: number, options: { signal?: AbortSignal } = {}): Promise<FileHead> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { Range: `bytes=0-${max - 1}` },
      credentials: 'same-origin',
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    if (err instanceof Error && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'unreachable', 'Cannot reach the PaddleCloud server', undefined, { cause: err });
  }
  const contentType = response.headers.get('Content-Type');
  if (response.status === 416) {
    // Range not satisfiable: an empty file.
    return { bytes: new Uint8Array(0), size: totalFromContentRange(response.headers.get('Content-Range')) ?? 0, contentType, truncated: false };
  }
  if (!response.ok) {
    throw errorFromResponse(response.status, response.statusText, await response.text().catch(() => ''));
  }
  const length = Number(response.headers.get('Content-Length') ?? Number.NaN);
  const size =
    response.status === 206
      ? totalFromContentRange(response.headers.get('Content-Range'))
      : Number.isFinite(length)
        ? length
        : undefined;
  const chunks: Uint8Array[] = [];
  let read = 0;
  let more = false;
  if (response.body) {
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      read += value.length;
      if (read >= max) {
        more = read > max;
        await reader.cancel().catch(() => undefined);
        break;
      }
    }
  } else {
    const all = new Uint8Array(await response.arrayBuffer());
    chunks.push(all);
    read = all.length;
  }
  const bytes = new Uint8Array(Math.min(read, max));
  let at = 0;
  for (const chunk of chunks) {
    const part = chunk.subarray(0, Math.min(chunk.length, bytes.length - at));
    bytes.set(part, at);
    at += part.length;
    if (at >= bytes.length) break;
  }
  const truncated = size !== undefined ? size > bytes.length : more;
  return { bytes, size, contentType, truncated };
}

// ---- Uploads ---------------------------------------------------------------------------------------

export function createUpload(input: { path: string; size?: number; sha256?: string }, options?: RequestOptions): Promise<UploadSession> {
  return post<UploadSession>('/api/v1/uploads', input, options);
}

export function getUpload(id: string, options?: RequestOptions): Promise<UploadStatus> {
  return get<UploadStatus>(`/api/v1/uploads/${seg(id)}`, options);
}

export async function cancelUpload(id: string, options?: RequestOptions): Promise<void> {
  await del<void>(`/api/v1/uploads/${seg(id)}`, options);
}

export interface ChunkOptions {
  signal?: AbortSignal;
  /** Bytes of this chunk sent so far. */
  onProgress?: (loaded: number) => void;
}

/** The Content-Range of the bytes [start, start+length) of a `total`-byte file. */
export function contentRange(start: number, length: number, total: number | null): string {
  return `bytes ${start}-${start + length - 1}/${total ?? '*'}`;
}

/** A 409 names the server's offset in details.offset and in the Upload-Offset header. */
function withUploadOffset(error: ApiError, header: (name: string) => string | null): ApiError {
  const headerOffset = header('Upload-Offset');
  if (error.status !== 409 || error.details?.['offset'] !== undefined || headerOffset === null) return error;
  return new ApiError(error.status, error.code, error.message, { ...error.details, offset: headerOffset });
}

/**
 * Sends the bytes `chunk` of an upload, starting at byte `start` of a `total`-byte file, with
 * PUT /api/v1/uploads/{id}. A stale CSRF token is refreshed from /api/v1/me and the chunk sent once more.
 */
export function uploadChunk(id: string, chunk: Blob, start: number, total: number | null, { signal, onProgress }: ChunkOptions = {}): Promise<UploadStatus> {
  return upload<UploadStatus>('PUT', `/api/v1/uploads/${seg(id)}`, chunk, {
    contentType: 'application/octet-stream',
    // An empty file has no byte range: without the header the (empty) body starts at 0.
    headers: chunk.size > 0 ? { 'Content-Range': contentRange(start, chunk.size, total) } : {},
    signal,
    onProgress: (event) => onProgress?.(event.loaded),
    withHeaders: withUploadOffset,
  });
}

// ---- Sharing ---------------------------------------------------------------------------------------

export async function listShares(options?: RequestOptions): Promise<Share[]> {
  return (await get<{ shares: Share[] }>('/api/v1/shares', options)).shares;
}

export function createShare(share: NewShare, options?: RequestOptions): Promise<Share> {
  return post<Share>('/api/v1/shares', share, options);
}

export async function deleteShare(id: number, options?: RequestOptions): Promise<void> {
  await del<void>(`/api/v1/shares/${seg(String(id))}`, options);
}

export async function listSharedWithMe(options?: RequestOptions): Promise<SharedWithMe[]> {
  return (await get<{ shares: SharedWithMe[] }>('/api/v1/shared-with-me', options)).shares;
}

/** A listing (or entry) inside a public link's folder; no sign-in needed. */
export function getLinkPath(token: string, path: string, query?: ListQuery, options?: RequestOptions): Promise<PathAnswer> {
  return get<PathAnswer>(linkFilesUrl(token, path), { ...options, query: listQuery(query) });
}

// ---- Publishing ------------------------------------------------------------------------------------

export async function listPublications(query: PublicationQuery = {}, options?: RequestOptions): Promise<Publication[]> {
  const q = query.q?.trim();
  const answer = await get<{ publications: Publication[] }>('/api/v1/publications', {
    ...options,
    query: { kind: query.kind, q: q ? q : undefined },
  });
  return answer.publications;
}

export function createPublication(publication: NewPublication, options?: RequestOptions): Promise<Publication> {
  return post<Publication>('/api/v1/publications', publication, options);
}

export async function deletePublication(id: number, options?: RequestOptions): Promise<void> {
  await del<void>(`/api/v1/publications/${seg(String(id))}`, options);
}

export const filesApi = {
  getPath,
  getStorage,
  createFolder,
  movePath,
  deletePath,
  copyPath,
  readHead,
  createUpload,
  getUpload,
  cancelUpload,
  uploadChunk,
  listShares,
  createShare,
  deleteShare,
  listSharedWithMe,
  getLinkPath,
  listPublications,
  createPublication,
  deletePublication,
};

export type FilesApi = typeof filesApi;
