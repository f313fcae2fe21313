// A job's code, packed in the browser: the files of a chosen folder as a POSIX ustar archive for
// POST /api/v1/jobs/packages. File contents are not read here: the archive is a Blob made of 512-byte
// headers, the files' own Blobs and zero padding, so the browser streams it from disk when it uploads.
//
// Format (POSIX.1-1988 ustar): per entry a 512-byte header (name[100], mode[8], uid[8], gid[8],
// size[12], mtime[12], chksum[8], typeflag[1], linkname[100], magic "ustar\0", version "00",
// uname[32], gname[32], devmajor[8], devminor[8], prefix[155]), the data padded to 512 bytes; two zero
// blocks end the archive. A path longer than 100 bytes is split at a '/' into prefix and name.

export const BLOCK = 512;
/** The server's limits for one package. */
export const MAX_PACKAGE_BYTES = 1024 ** 3;
export const MAX_PACKAGE_ENTRIES = 100_000;

/** A file to pack: its path inside the package ("src/train.py") and its bytes. */
export interface PackFile {
  path: string;
  data: Blob;
  /** Milliseconds since the epoch (File.lastModified). */
  lastModified?: number;
}

/** A file chosen in the browser (File from <input webkitdirectory> or a dropped folder). */
export interface ChosenFile {
  /** "fit_a_line/train.py": the chosen folder's own name first. */
  relativePath: string;
  file: Blob & { lastModified?: number };
}

const encoder = new TextEncoder();

/** Folders and files never worth uploading: version control, Python's byte code. */
export function skippedPath(path: string): boolean {
  const parts = path.split('/');
  if (parts.some((part) => part === '.git' || part === '__pycache__')) return true;
  return (parts[parts.length - 1] ?? '').endsWith('.pyc');
}

/**
 * The path inside the package: the relative path without the chosen folder's own name (the first
 * segment); undefined for a path outside any folder, or one with '.', '..' or empty segments.
 */
export function packagePath(relativePath: string): string | undefined {
  const parts = relativePath.replace(/\\/g, '/').split('/');
  if (parts.length < 2) return undefined;
  const rest = parts.slice(1);
  if (rest.some((part) => part === '' || part === '.' || part === '..')) return undefined;
  return rest.join('/');
}

/** The files to pack from a chosen folder, sorted by path, with the skipped ones left out. */
export function selectFiles(chosen: readonly ChosenFile[]): PackFile[] {
  const files: PackFile[] = [];
  for (const { relativePath, file } of chosen) {
    const path = packagePath(relativePath);
    if (path === undefined || skippedPath(path)) continue;
    files.push({ path, data: file, ...(file.lastModified !== undefined ? { lastModified: file.lastModified } : {}) });
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The total size of the files' contents in bytes. */
export function totalBytes(files: readonly PackFile[]): number {
  return files.reduce((sum, file) => sum + file.data.size, 0);
}

/** Files run as programs keep the executable bit; everything else is 0644. */
export function fileMode(path: string): number {
  return path.endsWith('.sh') ? 0o755 : 0o644;
}

export class TarError extends Error {
  override readonly name = 'TarError';
}

/** Splits a path into ustar's prefix (<= 155 bytes) and name (<= 100 bytes) at a '/'. */
export function splitPath(path: string): { name: string; prefix: string } {
  if (encoder.encode(path).length <= 100) return { name: path, prefix: '' };
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (encoder.encode(prefix).length > 155) break;
    if (name !== '' && encoder.encode(name).length <= 100) return { name, prefix };
  }
  throw new TarError(`The path ${path} is too long for a tar archive (at most 100 bytes after a folder prefix of 155).`);
}

function putString(block: Uint8Array, offset: number, length: number, text: string): void {
  const bytes = encoder.encode(text);
  if (bytes.length > length) throw new TarError(`"${text}" does not fit in ${length} bytes`);
  block.set(bytes, offset);
}

/** An octal number in `length - 1` digits, zero-padded, then NUL. */
function putOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  const digits = Math.floor(value).toString(8).padStart(length - 1, '0');
  if (digits.length > length - 1) throw new TarError(`${value} does not fit in a tar header field`);
  putString(block, offset, length, `${digits}\0`);
}

export interface HeaderFields {
  path: string;
  size: number;
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** '0' regular file, '5' folder. */
  type: '0' | '5';
}

/** One 512-byte ustar header. */
export function tarHeader({ path, size, mode, mtime, type }: HeaderFields): Uint8Array<ArrayBuffer> {
  const block = new Uint8Array(BLOCK);
  const { name, prefix } = splitPath(path);
  putString(block, 0, 100, name);
  putOctal(block, 100, 8, mode);
  putOctal(block, 108, 8, 0); // uid
  putOctal(block, 116, 8, 0); // gid
  putOctal(block, 124, 12, size);
  putOctal(block, 136, 12, Math.max(0, mtime));
  block.fill(0x20, 148, 156); // the checksum counts its own field as spaces
  putString(block, 156, 1, type);
  putString(block, 257, 6, 'ustar\0');
  putString(block, 263, 2, '00');
  putOctal(block, 329, 8, 0); // devmajor
  putOctal(block, 337, 8, 0); // devminor
  putString(block, 345, 155, prefix);
  let sum = 0;
  for (const byte of block) sum += byte;
  // Six octal digits, NUL, space (as GNU tar and libarchive write it).
  putString(block, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return block;
}

/** The folders a set of file paths lives in, parents first ("a", "a/b" for "a/b/c.py"). */
function foldersOf(files: readonly PackFile[]): string[] {
  const folders = new Set<string>();
  for (const { path } of files) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) folders.add(parts.slice(0, i).join('/'));
  }
  return [...folders].sort();
}

/**
 * The ustar archive of `files` (paths relative to the package root): a folder entry for every folder,
 * then each file; throws TarError for a path that cannot be stored or when the server's limits are passed.
 */
export function packTar(files: readonly PackFile[], now = Date.now()): Blob {
  const folders = foldersOf(files);
  if (folders.length + files.length > MAX_PACKAGE_ENTRIES) {
    throw new TarError(`The folder has ${folders.length + files.length} entries; a package holds at most ${MAX_PACKAGE_ENTRIES}.`);
  }
  const bytes = totalBytes(files);
  if (bytes > MAX_PACKAGE_BYTES) {
    throw new TarError(`The folder holds ${formatBytes(bytes)}; a package holds at most ${formatBytes(MAX_PACKAGE_BYTES)}.`);
  }
  const nowSeconds = Math.floor(now / 1000);
  const parts: BlobPart[] = [];
  for (const folder of folders) {
    parts.push(tarHeader({ path: `${folder}/`, size: 0, mode: 0o755, mtime: nowSeconds, type: '5' }));
  }
  for (const file of files) {
    const size = file.data.size;
    const mtime = file.lastModified !== undefined ? Math.floor(file.lastModified / 1000) : nowSeconds;
    parts.push(tarHeader({ path: file.path, size, mode: fileMode(file.path), mtime, type: '0' }));
    parts.push(file.data);
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (pad > 0) parts.push(new Uint8Array(pad));
  }
  parts.push(new Uint8Array(2 * BLOCK));
  return new Blob(parts, { type: 'application/x-tar' });
}

/** "12 KiB", "3.4 MiB": sizes in the summary of a chosen folder. */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}
