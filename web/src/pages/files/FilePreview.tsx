// The preview pane of a file: CSV/TSV as a table, JSON pretty-printed, text as it is (first 64 KiB),
// images inline, anything else as a hex dump of its first 512 bytes. Never rendered as HTML.
import type { VNode } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApiError } from '../../api/client';
import type { FileEntry, FileHead, FilesApi } from '../../api/files';
import { downloadUrl } from '../../api/files';
import { formatUnix } from '../../format';
import { ErrorBanner, isAbort, toApiError } from '../../forms';
import { WrittenBy } from './FileTable';
import { formatSize } from './paths';
import type { PreviewKind } from './preview';
import { decodeText, HEX_BYTES, hexDump, parseDelimited, prettyJson, PREVIEW_BYTES, PREVIEW_ROWS, previewKind } from './preview';

type Shown =
  | { kind: 'table'; rows: string[][]; more: boolean }
  | { kind: 'json'; text: string }
  | { kind: 'text'; text: string; truncated: boolean; note?: string }
  | { kind: 'hex'; dump: string; contentType: string | null; size: number | undefined; empty: boolean };

/** What the first bytes of a file show as, given the kind its name and type suggest. */
export function showBytes(kind: PreviewKind, head: FileHead): Shown {
  const hex = (): Shown => ({
    kind: 'hex',
    dump: hexDump(head.bytes, HEX_BYTES),
    contentType: head.contentType,
    size: head.size,
    empty: head.bytes.length === 0,
  });
  if (kind === 'binary') return hex();
  const text = decodeText(head.bytes);
  if (text === undefined) return hex();
  if (kind === 'csv' || kind === 'tsv') {
    const { rows, more } = parseDelimited(text, kind === 'tsv' ? '\t' : ',', PREVIEW_ROWS, head.truncated);
    return { kind: 'table', rows, more };
  }
  if (kind === 'json') {
    const pretty = head.truncated ? undefined : prettyJson(text);
    if (pretty !== undefined) return { kind: 'json', text: pretty };
    return {
      kind: 'text',
      text,
      truncated: head.truncated,
      ...(head.truncated ? {} : { note: 'Not valid JSON: shown as text.' }),
    };
  }
  return { kind: 'text', text, truncated: head.truncated };
}

export interface FilePreviewProps {
  entry: FileEntry;
  api: Pick<FilesApi, 'readHead'>;
  onClose: () => void;
  /** The file's bytes (default: /api/v1/download/<path>); `inline` for an <img>. */
  href?: (inline: boolean) => string;
}

export function FilePreview({ entry, api, onClose, href }: FilePreviewProps): VNode {
  const url = href ?? ((inline: boolean) => downloadUrl(entry.path, inline));
  const kind = previewKind(entry.name, entry.content_type);
  const [shown, setShown] = useState<Shown | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [imageFailed, setImageFailed] = useState(false);
  const ref = useRef<HTMLElement>(null);

  // Below a long listing the preview would open out of sight.
  useEffect(() => {
    const element = ref.current;
    if (element && typeof element.scrollIntoView === 'function') element.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }, [entry.path]);

  useEffect(() => {
    setShown(null);
    setError(null);
    setImageFailed(false);
    if (kind === 'image') return;
    const controller = new AbortController();
    api.readHead(url(false), kind === 'binary' ? HEX_BYTES : PREVIEW_BYTES, { signal: controller.signal }).then(
      (head) => setShown(showBytes(kind, head)),
      (err) => {
        if (!isAbort(err)) setError(toApiError(err));
      },
    );
    return () => controller.abort();
  }, [entry.path, entry.modified_at, kind]);

  return (
    <aside ref={ref} class="preview" aria-label={`Preview of ${entry.name}`} data-testid="preview" data-path={entry.path} data-kind={kind}>
      <header class="preview__header">
        <div class="preview__title-block">
          <h2 class="preview__title" data-testid="preview-name">
            {entry.name}
          </h2>
          <p class="preview__meta" data-testid="preview-meta">
            {formatSize(entry.size)}
            {entry.content_type ? ` · ${entry.content_type}` : ''}
            {entry.modified_at !== null ? ` · ${formatUnix(entry.modified_at)}` : ''}
            {entry.uploaded_by || entry.written_by_job ? ' · ' : ''}
            <WrittenBy entry={entry} />
          </p>
        </div>
        <div class="preview__actions">
          <a class="button button--small button--secondary" href={url(false)} download={entry.name} data-testid="preview-download">
            Download
          </a>
          <button type="button" class="button button--small button--secondary" onClick={onClose} aria-label="Close the preview" data-testid="preview-close">
            Close
          </button>
        </div>
      </header>
      <div class="preview__body">
        {kind === 'image' ? (
          imageFailed ? (
            <p class="muted" data-testid="preview-image-error">
              The image cannot be shown.
            </p>
          ) : (
            <img class="preview__image" src={url(true)} alt={entry.name} onError={() => setImageFailed(true)} data-testid="preview-image" />
          )
        ) : error ? (
          <ErrorBanner error={error} prefix="Cannot preview this file." testId="preview-error" />
        ) : !shown ? (
          <p class="loading" data-testid="preview-loading">
            Loading…
          </p>
        ) : (
          <PreviewBody shown={shown} />
        )}
      </div>
    </aside>
  );
}

function PreviewBody({ shown }: { shown: Shown }): VNode {
  switch (shown.kind) {
    case 'table': {
      const [head, ...rows] = shown.rows;
      if (!head) {
        return (
          <p class="muted" data-testid="preview-empty">
            The file is empty.
          </p>
        );
      }
      const width = Math.max(head.length, ...rows.map((row) => row.length));
      const pad = (row: string[]) => [...row, ...Array<string>(Math.max(0, width - row.length)).fill('')];
      return (
        <>
          <div class="table-wrap preview__table-wrap">
            <table class="table preview__table" data-testid="preview-table">
              <thead>
                <tr>
                  {pad(head).map((cell, index) => (
                    <th scope="col" key={index}>
                      {cell}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {rows.map((row, r) => (
                  <tr key={r} data-testid="preview-row">
                    {pad(row).map((cell, c) => (
                      <td key={c}>{cell}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {shown.more && (
            <p class="preview__note" data-testid="preview-more">
              The first {rows.length} rows.
            </p>
          )}
        </>
      );
    }
    case 'json':
      return (
        <pre class="preview__text" data-testid="preview-json">
          {shown.text}
        </pre>
      );
    case 'text':
      return (
        <>
          {shown.note && <p class="preview__note">{shown.note}</p>}
          <pre class="preview__text" data-testid="preview-text">
            {shown.text}
          </pre>
          {shown.truncated && (
            <p class="preview__note" data-testid="preview-more">
              The first {formatSize(PREVIEW_BYTES)}.
            </p>
          )}
        </>
      );
    case 'hex':
      return (
        <>
          <p class="preview__note" data-testid="preview-hex-meta">
            No preview for this type ({shown.contentType ?? 'unknown type'}, {formatSize(shown.size ?? null)}).
            {shown.empty ? ' The file is empty.' : ` Its first ${Math.min(HEX_BYTES, shown.size ?? HEX_BYTES)} bytes:`}
          </p>
          {!shown.empty && (
            <pre class="preview__text preview__hex" data-testid="preview-hex">
              {shown.dump}
            </pre>
          )}
        </>
      );
  }
}
