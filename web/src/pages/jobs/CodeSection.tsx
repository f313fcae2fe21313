// The Code section of the submit form: a folder chosen or dropped as the job's code (packed and uploaded
// on submit), or the uploaded code of an earlier job run again.
import type { VNode } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../../api/client';
import type { JobSpec, JobsApi } from '../../api/jobs';
import { plural } from '../../format';
import type { FormState } from '../../forms';
import { FileInput } from '../files/UploadPanel';
import { filesOfEntry } from '../files/uploads';
import type { ChosenFile, PackFile } from './tar';
import { formatBytes, packTar, selectFiles, TarError, totalBytes } from './tar';

/** The folder chosen as the job's code. */
interface ChosenCode {
  folder: string;
  files: PackFile[];
  bytes: number;
}

/** An earlier job whose uploaded code is run again. */
export interface CodeFrom {
  id: number;
  name: string;
  origin: string;
}

interface UploadProgress {
  sent: number;
  total: number;
}

function chosenCode(chosen: ChosenFile[]): ChosenCode {
  const files = selectFiles(chosen);
  return { folder: chosen[0]?.relativePath.split('/')[0] ?? '', files, bytes: totalBytes(files) };
}

/** An error of packing or uploading the code, shown in the Code section (the server's field "package"). */
function packageError(err: unknown): unknown {
  if (err instanceof TarError) return new ApiError(400, 'invalid_package', err.message, { field: 'package' });
  if (!(err instanceof ApiError) || err.field !== undefined || err.status === 401) return err;
  const message =
    err.status === 413 ? 'The code is too large: a package holds at most 1 GiB and 100,000 files and folders.' : err.message;
  return new ApiError(err.status, err.code, message, { ...err.details, field: 'package' });
}

/** The folder of a drop; undefined when no folder was dropped. */
function droppedFolder(event: DragEvent): FileSystemEntry | undefined {
  const items = [...(event.dataTransfer?.items ?? [])];
  const entries = items.map((item) => item.webkitGetAsEntry?.()).filter((entry): entry is FileSystemEntry => !!entry);
  return entries.find((entry) => entry.isDirectory);
}

export interface JobCode {
  code: ChosenCode | null;
  codeFrom: CodeFrom | null;
  setCodeFrom: (from: CodeFrom | null) => void;
  dragging: boolean;
  setDragging: (dragging: boolean) => void;
  upload: UploadProgress | null;
  cancelled: boolean;
  choose: (chosen: ChosenFile[]) => void;
  drop: (event: DragEvent) => void;
  cancelUpload: () => void;
  /** Sets the spec's package (uploading the chosen folder) or code_from_job; resolves when done. */
  attach: (spec: JobSpec) => Promise<void>;
}

/** The state of the Code section; errors go to `form` (field "package", or its banner). */
export function useJobCode(api: Pick<JobsApi, 'uploadPackage'>, form: FormState<string>): JobCode {
  const [codeFrom, setCodeFrom] = useState<CodeFrom | null>(null);
  const [code, setCode] = useState<ChosenCode | null>(null);
  const [dragging, setDragging] = useState(false);
  const [upload, setUpload] = useState<UploadProgress | null>(null);
  const [cancelled, setCancelled] = useState(false);
  const uploadController = useRef<AbortController | null>(null);
  useEffect(() => () => uploadController.current?.abort(), []);

  const choose = (chosen: ChosenFile[]) => {
    form.clearError('package');
    setCancelled(false);
    setCode(chosen.length > 0 ? chosenCode(chosen) : null);
    if (chosen.length > 0) setCodeFrom(null);
  };

  const drop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    const folder = droppedFolder(event);
    if (!folder) {
      form.setBanner(new ApiError(400, 'not_a_folder', 'Drop a folder (its files become the job’s code).'));
      return;
    }
    filesOfEntry(folder).then(choose, (err) => form.setBanner(new ApiError(0, 'read_error', `Could not read the folder: ${String(err)}`)));
  };

  /** Packs and uploads the chosen folder; resolves with the package id. */
  const uploadCode = async (chosen: ChosenCode): Promise<string> => {
    const controller = new AbortController();
    uploadController.current = controller;
    try {
      const archive = packTar(chosen.files);
      setUpload({ sent: 0, total: archive.size });
      const info = await api.uploadPackage(archive, {
        signal: controller.signal,
        onProgress: (sent, total) => setUpload({ sent, total }),
      });
      return info.package;
    } catch (err) {
      throw packageError(err);
    } finally {
      uploadController.current = null;
      setUpload(null);
    }
  };

  const attach: JobCode['attach'] = async (spec) => {
    setCancelled(false);
    if (code) {
      spec.package = await uploadCode(code);
      delete spec.workdir;
    } else if (codeFrom) {
      spec.code_from_job = codeFrom.id;
      delete spec.workdir;
    }
  };

  const cancelUpload = () => {
    setCancelled(true);
    uploadController.current?.abort();
  };

  return { code, codeFrom, setCodeFrom, dragging, setDragging, upload, cancelled, choose, drop, cancelUpload, attach };
}

/** The drop zone with its "Choose a folder…" button, what is chosen, the upload's progress and the error. */
export function CodeSection({ state, pending, error }: { state: JobCode; pending: boolean; error: string | undefined }): VNode {
  return (
    <div
      class={['code-drop', state.dragging ? 'code-drop--active' : '', error ? 'field--invalid' : ''].filter(Boolean).join(' ')}
      data-testid="job-code"
      onDragOver={(event) => {
        event.preventDefault();
        state.setDragging(true);
      }}
      onDragLeave={() => state.setDragging(false)}
      onDrop={state.drop}
    >
      <p class="code-drop__text">
        Upload a folder with your training code; every pod starts in a copy of it. Drop the folder here or{' '}
        <label class="button button--small button--secondary code-drop__choose" for="job-package">
          {state.code ? 'Choose another folder…' : 'Choose a folder…'}
        </label>
        <FileInput
          class="code-drop__input"
          id="job-package"
          folder
          disabled={pending}
          describedBy="job-package-hint"
          onChosen={state.choose}
          testId="job-package-input"
        />
      </p>
      <ChosenCodeSummary state={state} pending={pending} />
      {state.upload && <UploadBar upload={state.upload} onCancel={state.cancelUpload} />}
      {state.cancelled && !state.upload && (
        <p class="field__hint" data-testid="job-upload-cancelled">
          Upload cancelled; nothing was submitted.
        </p>
      )}
      {error && (
        <p class="field__error" id="job-package-error" data-testid="job-package-error">
          {error}
        </p>
      )}
    </div>
  );
}

/** The chosen folder, or the earlier job's code, each with a button to drop it; else what is skipped. */
function ChosenCodeSummary({ state, pending }: { state: JobCode; pending: boolean }): VNode {
  const { code, codeFrom } = state;
  if (code) {
    return (
      <p class="code-drop__summary" data-testid="job-code-summary">
        <strong data-testid="job-code-folder">{code.folder}</strong>:{' '}
        <span data-testid="job-code-files">{plural(code.files.length, 'file')}</span>,{' '}
        <span data-testid="job-code-size">{formatBytes(code.bytes)}</span>{' '}
        <button
          type="button"
          class="button button--small button--secondary"
          disabled={pending}
          onClick={() => state.choose([])}
          data-testid="job-code-clear"
        >
          Remove
        </button>
      </p>
    );
  }
  if (codeFrom) {
    return (
      <p class="code-drop__summary" data-testid="job-code-from">
        The code of job <strong>{codeFrom.name}</strong> (#{codeFrom.id}, {codeFrom.origin}) runs again, as a copy.{' '}
        <button
          type="button"
          class="button button--small button--secondary"
          disabled={pending}
          onClick={() => state.setCodeFrom(null)}
          data-testid="job-code-from-clear"
        >
          Don’t use it
        </button>
      </p>
    );
  }
  return (
    <p class="field__hint" id="job-package-hint">
      Skipped: <code>.git/</code>, <code>__pycache__/</code> and <code>*.pyc</code>. Without code, the pods start in the working folder.
    </p>
  );
}

function UploadBar({ upload, onCancel }: { upload: UploadProgress; onCancel: () => void }): VNode {
  return (
    <div class="code-upload" data-testid="job-upload">
      <progress max={Math.max(upload.total, 1)} value={upload.sent} aria-label="Upload progress" data-testid="job-upload-progress" />
      <span class="code-upload__label">
        Uploading {formatBytes(upload.sent)} of {formatBytes(upload.total)} (
        {upload.total > 0 ? Math.floor((100 * upload.sent) / upload.total) : 0}%)
      </span>
      <button type="button" class="button button--small button--secondary" onClick={onCancel} data-testid="job-upload-cancel">
        Cancel upload
      </button>
    </div>
  );
}
