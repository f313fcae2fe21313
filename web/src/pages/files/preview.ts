// What a file preview shows, decided from the name, the content type and the first bytes: a table for
// CSV/TSV, pretty-printed JSON, plain text, an image, or a hex dump. User content is only ever shown
// as text (never parsed as HTML).

/** How much of a file the preview reads. */
export const PREVIEW_BYTES = 64 * 1024;
/** How much of a binary file the hex dump shows. */
export const HEX_BYTES = 512;
/** Rows of a CSV/TSV table. */
export const PREVIEW_ROWS = 100;

export type PreviewKind = 'image' | 'csv' | 'tsv' | 'json' | 'text' | 'binary';

function extension(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot <= 0 ? '' : name.slice(dot + 1).toLowerCase();
}

const IMAGE_EXTENSIONS = new Set(['png', 'jpg', 'jpeg', 'gif', 'webp', 'bmp', 'svg', 'ico', 'avif']);
const TEXT_EXTENSIONS = new Set([
  'txt', 'md', 'markdown', 'rst', 'log', 'py', 'ipynb', 'sh', 'bash', 'yaml', 'yml', 'toml', 'ini', 'cfg', 'conf',
  'xml', 'html', 'htm', 'css', 'js', 'mjs', 'ts', 'tsx', 'c', 'cc', 'cpp', 'h', 'hpp', 'go', 'rs', 'java', 'r',
  'sql', 'proto', 'prototxt', 'pbtxt', 'names', 'vocab', 'jsonl', 'ndjson', 'dockerfile', 'makefile', 'gitignore',
]);

/** The preview a file gets before its bytes are seen (images are not fetched: an <img> shows them). */
export function previewKind(name: string, contentType: string | null | undefined): PreviewKind {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const ext = extension(name);
  if (type.startsWith('image/') || IMAGE_EXTENSIONS.has(ext)) return 'image';
  if (ext === 'csv' || type === 'text/csv') return 'csv';
  if (ext === 'tsv' || type === 'text/tab-separated-values') return 'tsv';
  if (ext === 'json' || type === 'application/json' || type.endsWith('+json')) return 'json';
  if (type.startsWith('text/') || TEXT_EXTENSIONS.has(ext)) return 'text';
  return 'binary';
}

/**
 * The bytes as UTF-8 text, or undefined when they are not text (invalid UTF-8, or NUL bytes). A
 * character cut at the end of `bytes` (a truncated read) is dropped, not an error.
 */
export function decodeText(bytes: Uint8Array): string | undefined {
  if (bytes.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
  } catch {
    return undefined;
  }
}

/**
 * Parses delimited text (RFC 4180: quoted fields may hold the delimiter, line breaks and "" for a
 * quote) into at most `maxRows` rows. `truncated`: the text is the start of a longer file, so its last,
 * possibly cut, line is left out.
 */
export function parseDelimited(
  text: string,
  delimiter = ',',
  maxRows = PREVIEW_ROWS,
  truncated = false,
): { rows: string[][]; more: boolean } {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const endRow = () => {
    row.push(field);
    rows.push(row);
    row = [];
    field = '';
  };
  while (i < body.length) {
    const c = body[i]!;
    if (quoted) {
      if (c === '"') {
        if (body[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += c;
      i++;
      continue;
    }
    if (c === '"' && field === '') {
      quoted = true;
      i++;
    } else if (c === delimiter) {
      row.push(field);
      field = '';
      i++;
    } else if (c === '\r' || c === '\n') {
      endRow();
      i += c === '\r' && body[i + 1] === '\n' ? 2 : 1;
      if (rows.length > maxRows) break;
    } else {
      field += c;
      i++;
    }
  }
  const complete = i >= body.length;
  // The last line: kept when the file ended there, dropped when the read cut it.
  if (complete && !truncated && (field !== '' || row.length > 0)) endRow();
  const more = rows.length > maxRows || !complete || truncated;
  return { rows: rows.slice(0, maxRows), more };
}

/** JSON pretty-printed with two spaces, or undefined when the text is not (whole) JSON. */
export function prettyJson(text: string): string | undefined {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return undefined;
  }
}

/** A classic hex dump: offset, 16 bytes in hex, and the printable ASCII ("." for the rest). */
export function hexDump(bytes: Uint8Array, max = HEX_BYTES): string {
  const lines: string[] = [];
  const end = Math.min(bytes.length, max);
  for (let offset = 0; offset < end; offset += 16) {
    const slice = bytes.subarray(offset, Math.min(offset + 16, end));
    const hex = [...slice].map((b) => b.toString(16).padStart(2, '0'));
    const left = hex.slice(0, 8).join(' ');
    const right = hex.slice(8).join(' ');
    const ascii = [...slice].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${offset.toString(16).padStart(8, '0')}  ${left.padEnd(23)}  ${right.padEnd(23)}  |${ascii}|`);
  }
  return lines.join('\n');
}
