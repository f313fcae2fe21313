// The Launch modal: a name, the model (picked from the account's models/ and the public models, typed,
// or uploaded as a .tar.gz with progress into models/), the runtime (ONNX with its model file, Python
// with a model.py editor, or a command), the CPU in total split into replicas of a size, memory and
// GPUs per replica, and public or token-only. The server's error about a field shows next to it.
import type { VNode } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError } from '../../api/client';
import type { FilesApi } from '../../api/files';
import { filesApi, isListing } from '../../api/files';
import type { ServingApi, ServingInstance, ServingRuntime } from '../../api/serving';
import { DialogCloseButton, ModalDialog } from '../../dialog';
import { bindField, ErrorBanner, Form, FormSection, SelectField, SubmitButton, TextField, useForm } from '../../forms';
import type { UploadQueue } from '../files/uploads';
import { uploadQueue, useUploads } from '../files/uploads';
import { UploadRow } from '../files/UploadPanel';
import { CodeEditor } from './CodeEditor';
import type { LaunchField, LaunchForm } from './model';
import { checkLaunch, defaultModelFile, isModelEntry, LAUNCH_FIELDS, launchBody, MODEL_PY_TEMPLATE, resourceSplit, suggestedName } from './model';

export type LaunchFilesApi = Pick<FilesApi, 'getPath' | 'listPublications'>;

const INITIAL: LaunchForm = {
  name: '',
  model: '',
  runtime: 'onnx',
  model_file: '',
  model_py: MODEL_PY_TEMPLATE,
  command: '',
  cpu_total: '1',
  cpu: '1',
  memory: '1Gi',
  gpus: '0',
  public: false,
};

const RUNTIMES: ReadonlyArray<{ value: ServingRuntime; label: string; about: string }> = [
  { value: 'onnx', label: 'ONNX', about: 'the built-in C++ runtime serves an .onnx file' },
  { value: 'python', label: 'Python', about: 'model.py with load() and predict() over numpy arrays' },
  { value: 'command', label: 'Command', about: 'your own server of the v2 protocol on $PORT' },
];

/** The models the picker offers: the account's models/ and the public models. */
function useModelChoices(files: LaunchFilesApi, refreshKey: number): Array<{ value: string; label: string }> {
  const [choices, setChoices] = useState<Array<{ value: string; label: string }>>([]);
  useEffect(() => {
    const controller = new AbortController();
    const options = { signal: controller.signal };
    const own = files.getPath('models', undefined, options).then(
      (answer) => (isListing(answer) ? answer.entries.filter(isModelEntry).map((e) => ({ value: e.path, label: e.path })) : []),
      () => [],
    );
    const published = files.listPublications({ kind: 'model' }, options).then(
      (list) => list.map((p) => ({ value: p.path, label: `${p.path} (public)` })),
      () => [],
    );
    void Promise.all([own, published]).then(([a, b]) => {
      if (!controller.signal.aborted) setChoices([...a, ...b]);
    });
    return () => controller.abort();
  }, [files, refreshKey]);
  return choices;
}

/** The .onnx files of a model folder; an .onnx path is its own file; an archive is not looked into. */
function useOnnxFiles(files: LaunchFilesApi, model: string): string[] {
  const [names, setNames] = useState<string[]>([]);
  useEffect(() => {
    setNames([]);
    const path = model.trim().replace(/\/+$/, '');
    if (path === '' || /\.(tar\.gz|tgz|onnx)$/i.test(path)) return;
    const controller = new AbortController();
    const timer = setTimeout(() => {
      files.getPath(path, undefined, { signal: controller.signal }).then(
        (answer) => setNames(isListing(answer) ? answer.entries.filter((e) => e.kind === 'file').map((e) => e.name) : []),
        () => setNames([]),
      );
    }, 200);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [files, model]);
  return names;
}

/** Routes the server's `replicas` error to the CPU in total, which decides the replicas. */
function fieldOfForm(err: unknown): unknown {
  if (err instanceof ApiError && err.field === 'replicas') {
    return new ApiError(err.status, err.code, err.message, { ...err.details, field: 'cpu_total' });
  }
  return err;
}

export function LaunchDialog({
  api,
  files = filesApi,
  queue = uploadQueue(),
  onLaunched,
  onCancel,
}: {
  api: Pick<ServingApi, 'launchInstance'>;
  files?: LaunchFilesApi;
  queue?: UploadQueue;
  onLaunched: (instance: ServingInstance) => void;
  onCancel: () => void;
}): VNode {
  const form = useForm<LaunchField>(LAUNCH_FIELDS, 'serving');
  const [values, setValues] = useState<LaunchForm>(INITIAL);
  const [uploadKey, setUploadKey] = useState<number | null>(null);
  const uploads = useUploads(queue);
  const upload = uploads.find((item) => item.key === uploadKey) ?? null;
  const choices = useModelChoices(files, upload?.state === 'done' ? upload.key : 0);
  const onnxFiles = useOnnxFiles(files, values.model);
  const split = resourceSplit(values.cpu_total, values.cpu);

  const set = <K extends keyof LaunchForm>(key: K, value: LaunchForm[K]) => setValues((v) => ({ ...v, [key]: value }));
  const bind = (field: LaunchField & keyof LaunchForm) =>
    bindField(form, field, String(values[field]), (value) => set(field, value as never));
  const chooseModel = (path: string) => {
    setValues((v) => ({ ...v, model: path, model_file: '', name: v.name === '' ? suggestedName(path) : v.name }));
    form.clearError('model');
  };

  // An upload that completed becomes the model.
  useEffect(() => {
    if (upload?.state === 'done') chooseModel(upload.path);
  }, [upload?.state]);

  const modelFile = values.model_file || defaultModelFile(onnxFiles);
  const send = () =>
    void form.submit(
      async () => {
        try {
          onLaunched(await api.launchInstance(launchBody({ ...values, model_file: modelFile })));
        } catch (err) {
          throw fieldOfForm(err);
        }
      },
      () => checkLaunch(values),
    );

  const modelOptions = useMemo(() => [{ value: '', label: choices.length > 0 ? 'Choose a model…' : 'No models yet' }, ...choices], [choices]);
  return (
    <ModalDialog title="Launch a serving instance" testId="launch-dialog" wide pending={form.pending} onCancel={onCancel}>
      <Form onSubmit={send} testId="launch-form" label="Launch a serving instance">
        {form.banner && <ErrorBanner error={form.banner} testId="launch-error" />}
        <TextField id="serving-name" label="Name" hint="Part of its URL: 1 to 40 lower-case letters, digits and dashes." autoComplete="off" spellcheck={false} maxLength={40} {...bind('name')} />
        <FormSection title="Model">
          <SelectField id="serving-model-choice" label="Your models and public models" options={modelOptions} value={choices.some((c) => c.value === values.model) ? values.model : ''} onValue={(path) => path && chooseModel(path)} />
          <TextField id="serving-model" label="Model path" hint="A folder, an .onnx file or a .tar.gz in your space (models/…) or a public model (public/models/…)." autoComplete="off" spellcheck={false} {...bind('model')} />
          <div class="field">
            <label class="button button--secondary button--small" for="serving-upload">
              Upload a .tar.gz or .onnx…
            </label>
            <input
              id="serving-upload"
              class="visually-hidden"
              type="file"
              accept=".tar.gz,.tgz,.onnx,application/gzip"
              data-testid="serving-upload"
              onChange={(event) => {
                const file = event.currentTarget.files?.[0];
                event.currentTarget.value = '';
                if (!file) return;
                queue.add([{ path: `models/${file.name}`, label: file.name, file }]);
                setUploadKey(queue.list().at(-1)?.key ?? null);
              }}
            />
            <p class="field__hint">It goes into your models/ folder, then becomes the model.</p>
            {upload && (
              <ul class="uploads__list" data-testid="serving-upload-progress">
                <UploadRow item={upload} queue={queue} />
              </ul>
            )}
          </div>
        </FormSection>
        <FormSection title="Runtime">
          <div class="radio-group" role="radiogroup" aria-label="Runtime">
            {RUNTIMES.map((runtime) => (
              <label key={runtime.value} class="radio-group__item">
                <input type="radio" name="serving-runtime" value={runtime.value} checked={values.runtime === runtime.value} onChange={() => set('runtime', runtime.value)} data-testid={`serving-runtime-${runtime.value}`} />{' '}
                <strong>{runtime.label}</strong> <span class="muted">— {runtime.about}</span>
              </label>
            ))}
          </div>
          {values.runtime === 'onnx' && (
            <TextField
              id="serving-model_file"
              label="Model file"
              note="optional"
              placeholder={defaultModelFile(onnxFiles) || 'model.onnx'}
              hint={onnxFiles.length > 0 ? `.onnx files in the model: ${onnxFiles.filter((n) => n.toLowerCase().endsWith('.onnx')).join(', ') || 'none'}.` : 'Default: the only .onnx file in the model.'}
              autoComplete="off"
              spellcheck={false}
              {...bind('model_file')}
              value={modelFile}
            />
          )}
          {values.runtime === 'python' && (
            <CodeEditor id="serving-model_py" label="model.py" hint="Saved as model.py beside the model; it replaces one the model has." {...bindField(form, 'model_py', values.model_py, (v) => set('model_py', v))} />
          )}
          {values.runtime === 'command' && (
            <TextField id="serving-command" label="Command" placeholder="python3 serve.py" hint="Run by /bin/sh in the model's folder with $PORT and $MODEL_NAME set; it must serve the v2 protocol on $PORT." autoComplete="off" spellcheck={false} {...bind('command')} />
          )}
        </FormSection>
        <FormSection title="Resources">
          <div class="notebook-form__fields">
            <TextField id="serving-cpu_total" label="CPU in total" hint="Split into replicas: more replicas serve more calls at once." autoComplete="off" spellcheck={false} {...bind('cpu_total')} />
            <TextField id="serving-cpu" label="CPU per replica" hint="E.g. 1, 0.5 or 500m." autoComplete="off" spellcheck={false} {...bind('cpu')} />
            <TextField id="serving-memory" label="Memory per replica" hint="E.g. 1Gi or 512Mi." autoComplete="off" spellcheck={false} {...bind('memory')} />
            <TextField id="serving-gpus" label="GPUs per replica" type="number" min={0} inputMode="numeric" {...bind('gpus')} />
          </div>
          <p class="serving-split" role="status" data-testid="serving-split">
            {'replicas' in split ? split.text : '—'}
          </p>
        </FormSection>
        <label class="filters__toggle">
          <input type="checkbox" checked={values.public} onChange={(e) => set('public', e.currentTarget.checked)} data-testid="serving-public" /> Public: anyone with the URL may call it (otherwise an API token of
          your account is needed)
        </label>
        <div class="dialog__actions">
          <DialogCloseButton testId="launch-dialog" pending={form.pending} onClose={onCancel} />
          <SubmitButton pending={form.pending} pendingLabel="Launching…" testId="launch-submit">
            Launch
          </SubmitButton>
        </div>
      </Form>
    </ModalDialog>
  );
}
