// Uploading into the folder shown: drop files or whole folders, or choose them with the two buttons;
// below, every upload of this tab with its state, progress and a Cancel button.
import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import { ErrorBanner, errorText } from '../../forms';
import { formatSize } from './paths';
import type { ChosenFile, UploadItem, UploadQueue } from './uploads';
import { chosenFromInput, filesOfDrop, uploadRequests, useUploads } from './uploads';

const STATE_LABELS: Record<UploadItem['state'], string> = {
  queued: 'Queued',
  uploading: 'Uploading',
  done: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

export function percent(item: Pick<UploadItem, 'sent' | 'size' | 'state'>): number {
  if (item.state === 'done') return 100;
  if (item.size <= 0) return 0;
  return Math.min(100, Math.floor((100 * item.sent) / item.size));
}

/** Files dropped anywhere on the page go to `folder`; the drop zone lights up while dragging. */
export interface FileDrop {
  dragging: boolean;
  problem: string | null;
  /** Queues the chosen files for upload into the folder. */
  start: (chosen: readonly ChosenFile[]) => void;
  /** Handlers for the element that takes drops (the whole page). */
  handlers: {
    onDragOver: (event: DragEvent) => void;
    onDragLeave: (event: DragEvent) => void;
    onDrop: (event: DragEvent) => void;
  };
}

export function useFileDrop(folder: string, queue: UploadQueue): FileDrop {
  const [dragging, setDragging] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const start = (chosen: readonly ChosenFile[]) => {
    setProblem(null);
    const requests = uploadRequests(folder, chosen);
    if (requests.length === 0) {
      setProblem('Nothing to upload: no files were chosen (empty folders are not uploaded).');
      return;
    }
    queue.add(requests);
  };
  return {
    dragging,
    problem,
    start,
    handlers: {
      onDragOver: (event) => {
        if (!event.dataTransfer?.types.includes('Files')) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = 'copy';
        setDragging(true);
      },
      onDragLeave: (event) => {
        // Leaving for a child element is not leaving the page.
        const to = event.relatedTarget;
        if (!(to instanceof Node) || !(event.currentTarget as Node).contains(to)) setDragging(false);
      },
      onDrop: (event) => {
        if (!event.dataTransfer?.types.includes('Files')) return;
        event.preventDefault();
        setDragging(false);
        filesOfDrop(event.dataTransfer).then(start, (err) => setProblem(`Could not read what was dropped: ${String(err)}`));
      },
    },
  };
}

/** The upload area of a writable folder: where to drop, and the two pickers (files; a whole folder). */
export function UploadDrop({ folder, drop }: { folder: string; drop: FileDrop }): VNode {
  return (
    <div class={drop.dragging ? 'upload-drop upload-drop--active' : 'upload-drop'} data-testid="upload-drop">
      <p class="upload-drop__text">
        {drop.dragging ? 'Drop to upload to ' : 'Drop files or folders here to upload them to '}
        <code>{folder}/</code>, or{' '}
        <label class="button button--small button--secondary upload-drop__choose" for="upload-files">
          Upload files
        </label>
        <FileInput class="upload-drop__input" id="upload-files" onChosen={drop.start} testId="upload-files-input" />{' '}
        <label class="button button--small button--secondary upload-drop__choose" for="upload-folder">
          Upload folder
        </label>
        <FileInput class="upload-drop__input" id="upload-folder" folder onChosen={drop.start} testId="upload-folder-input" />
      </p>
      {drop.problem && <ErrorBanner error={drop.problem} testId="upload-problem" />}
    </div>
  );
}

export function UploadList({ queue }: { queue: UploadQueue }): VNode | null {
  const items = useUploads(queue);
  if (items.length === 0) return null;
  const finished = items.filter((item) => item.state === 'done' || item.state === 'failed' || item.state === 'cancelled').length;
  const active = items.length - finished;
  return (
    <section class="uploads" aria-label="Uploads" data-testid="uploads">
      <header class="uploads__header">
        <h2 class="uploads__title">
          Uploads{' '}
          <span class="muted" data-testid="uploads-summary">
            {active > 0 ? `${active} in progress` : 'all finished'}
          </span>
        </h2>
        {finished > 0 && (
          <button type="button" class="link-button" onClick={() => queue.clearFinished()} data-testid="uploads-clear">
            Clear finished
          </button>
        )}
      </header>
      <ul class="uploads__list">
        {items.map((item) => (
          <UploadRow key={item.key} item={item} queue={queue} />
        ))}
      </ul>
    </section>
  );
}

/** What an upload's row says of it: its progress, its error, or its state. */
function statusText(item: UploadItem): string {
  if (item.state === 'uploading') return `${percent(item)}% of ${formatSize(item.size)}`;
  if (item.state === 'failed' && item.error) return `Failed: ${errorText(item.error)}`;
  if (item.state === 'done') return `Done · ${formatSize(item.size)}`;
  return STATE_LABELS[item.state];
}

/** One upload: its name, progress bar and status, and Cancel (while it runs) or Retry (once it stopped). */
export function UploadRow({ item, queue }: { item: UploadItem; queue: UploadQueue }): VNode {
  return (
    <li class={`upload upload--${item.state}`} data-testid="upload-item" data-path={item.path} data-state={item.state} data-progress={percent(item)}>
      <span class="upload__name" title={item.path}>
        {item.label}
      </span>
      <progress class="upload__bar" max={100} value={percent(item)} aria-label={`Upload of ${item.label}`} data-testid="upload-progress" />
      <span class="upload__status" data-testid="upload-status">
        {statusText(item)}
      </span>
      <span class="upload__actions">
        {(item.state === 'queued' || item.state === 'uploading') && (
          <button
            type="button"
            class="button button--small button--secondary"
            onClick={() => queue.cancel(item.key)}
            aria-label={`Cancel the upload of ${item.label}`}
            data-testid="upload-cancel"
          >
            Cancel
          </button>
        )}
        {(item.state === 'failed' || item.state === 'cancelled') && (
          <button
            type="button"
            class="button button--small button--secondary"
            onClick={() => queue.retry(item.key)}
            aria-label={`Upload ${item.label} again`}
            data-testid="upload-retry"
          >
            Retry
          </button>
        )}
      </span>
    </li>
  );
}

/**
 * A file input for a visible label (its button) to open: the chosen files, named by their path under
 * the chosen folder, go to `onChosen`; then it is emptied so that choosing the same again counts.
 */
export function FileInput({
  id,
  class: className,
  folder = false,
  disabled,
  describedBy,
  onChosen,
  testId,
}: {
  id: string;
  class: string;
  /** Choose a whole folder rather than files. */
  folder?: boolean;
  disabled?: boolean;
  describedBy?: string;
  onChosen: (chosen: ChosenFile[]) => void;
  testId: string;
}): VNode {
  return (
    <input
      class={className}
      id={id}
      type="file"
      multiple
      {...((folder ? { webkitdirectory: true } : {}) as Record<string, unknown>)}
      disabled={disabled}
      aria-describedby={describedBy}
      onChange={(event) => {
        const input = event.currentTarget;
        onChosen(chosenFromInput(input.files));
        input.value = '';
      }}
      data-testid={testId}
    />
  );
}
