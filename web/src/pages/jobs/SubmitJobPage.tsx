// Submit a training job (/jobs/new; /jobs/new?from=<id> starts from an earlier job's spec). A field the
// server rejects (`details.field`, e.g. "mem_per_trainer" or "env.FOO") gets its error inline.
import type { ComponentChildren, VNode } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Breadcrumbs } from '../../breadcrumbs';
import { ApiError } from '../../api/client';
import type { JobsApi } from '../../api/jobs';
import { jobsApi } from '../../api/jobs';
import { plural } from '../../format';
import { ErrorBanner, Form, InfoBanner, isAbort, SubmitButton, TextAreaField, TextField, toApiError, useForm } from '../../forms';
import { navigate, useLocation } from '../../router';
import type { SignedInPageProps } from '../../session';
import { useDocumentTitle } from '../../title';
import { filesOfEntry } from '../files/uploads';
import { CapacityNote } from './capacity';
import type { JobForm } from './spec';
import { codeOrigin, EMPTY_JOB_FORM, envField, formFromSpec, JOB_FIELDS, specFromForm, validateJobForm } from './spec';
import type { ChosenFile, PackFile } from './tar';
import { formatBytes, packTar, selectFiles, TarError, totalBytes } from './tar';

export type SubmitJobApi = Pick<JobsApi, 'submitJob' | 'getJob' | 'uploadPackage' | 'getCapacity'>;

/** The folder chosen as the job's code. */
interface ChosenCode {
  folder: string;
  files: PackFile[];
  bytes: number;
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

export interface SubmitJobPageProps extends SignedInPageProps {
  api?: SubmitJobApi;
}

const CPU_HINT = 'Cores: 1, 0.5 or 500m (millicores).';
const MEM_HINT = 'Bytes with a unit: 512Mi, 2Gi.';

/** The field name (and id suffix) of an environment row: "env.NAME", or "env#<row>" while unnamed. */
function envRowField(key: string, index: number): string {
  return key.trim() === '' ? `env#${index}` : envField(key);
}

export function SubmitJobPage({ api = jobsApi }: SubmitJobPageProps): VNode {
  useDocumentTitle('Submit a job');
  const { search } = useLocation();
  const from = new URLSearchParams(search).get('from');
  const [values, setValues] = useState<JobForm>(EMPTY_JOB_FORM);
  const [copiedFrom, setCopiedFrom] = useState<string | null>(null);
  /** The earlier job whose uploaded code is run again, until another folder is chosen or it is removed. */
  const [codeFrom, setCodeFrom] = useState<{ id: number; name: string; origin: string } | null>(null);
  const [code, setCode] = useState<ChosenCode | null>(null);
  const [dragging, setDragging] = useState(false);
  const [upload, setUpload] = useState<{ sent: number; total: number } | null>(null);
  const [cancelled, setCancelled] = useState(false);
  const uploadController = useRef<AbortController | null>(null);
  useEffect(() => () => uploadController.current?.abort(), []);
  const fields = [
    ...JOB_FIELDS,
    'package',
    ...values.env.flatMap((row, index) => [envRowField(row.key, index), `env#${index}`]),
  ];
  const form = useForm<string>(fields, 'job');

  // Submitting again: start from that job's spec.
  useEffect(() => {
    if (!from || !/^\d+$/.test(from)) return;
    const controller = new AbortController();
    api.getJob(Number(from), { signal: controller.signal }).then(
      (job) => {
        setValues(formFromSpec(job.spec));
        setCopiedFrom(job.name);
        const origin = codeOrigin(job.spec);
        setCodeFrom(origin ? { id: job.id, name: job.name, origin } : null);
      },
      (err) => {
        if (!isAbort(err)) form.setBanner(toApiError(err));
      },
    );
    return () => controller.abort();
  }, [api, from]);

  const set = <K extends keyof JobForm>(key: K, value: JobForm[K]) => {
    setValues((current) => ({ ...current, [key]: value }));
    form.clearError(key);
  };

  const setEnv = (index: number, change: Partial<{ key: string; value: string }>) => {
    const row = values.env[index];
    if (row) {
      form.clearError(envRowField(row.key, index));
      form.clearError(`env#${index}`);
      form.clearError('env');
    }
    setValues((current) => ({
      ...current,
      env: current.env.map((item, i) => (i === index ? { ...item, ...change } : item)),
    }));
  };

  const chooseCode = (chosen: ChosenFile[]) => {
    form.clearError('package');
    setCancelled(false);
    setCode(chosen.length > 0 ? chosenCode(chosen) : null);
    if (chosen.length > 0) setCodeFrom(null);
  };

  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setDragging(false);
    const items = [...(event.dataTransfer?.items ?? [])];
    const entries = items.map((item) => item.webkitGetAsEntry?.()).filter((entry): entry is FileSystemEntry => !!entry);
    const folder = entries.find((entry) => entry.isDirectory);
    if (!folder) {
      form.setBanner(new ApiError(400, 'not_a_folder', 'Drop a folder (its files become the job’s code).'));
      return;
    }
    filesOfEntry(folder).then(chooseCode, (err) => form.setBanner(new ApiError(0, 'read_error', `Could not read the folder: ${String(err)}`)));
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

  const onSubmit = () =>
    form.submit(
      async () => {
        setCancelled(false);
        const spec = specFromForm(values);
        if (code) {
          spec.package = await uploadCode(code);
          delete spec.workdir;
        } else if (codeFrom) {
          spec.code_from_job = codeFrom.id;
          delete spec.workdir;
        }
        const job = await api.submitJob(spec);
        navigate(`/jobs/${job.id}`);
      },
      () => validateJobForm(values),
    );

  const field = (key: Exclude<keyof JobForm, 'env'>, label: string, extra: Partial<Parameters<typeof TextField>[0]> = {}) => (
    <TextField
      id={`job-${key}`}
      label={label}
      value={values[key]}
      onValue={(value) => set(key, value)}
      error={form.errors[key]}
      autoComplete="off"
      spellcheck={false}
      {...extra}
    />
  );
  const count = (key: Exclude<keyof JobForm, 'env'>, label: string, min: number, max: number, hint?: string) =>
    field(key, label, { type: 'number', min, max, inputMode: 'numeric', ...(hint ? { hint } : {}) });

  return (
    <section class="page" data-testid="submit-job-page">
      <Breadcrumbs items={[{ label: 'Job Dashboard', href: '/dashboard' }, { label: 'Submit a job', href: '/jobs/new' }]} />
      <header class="page__header">
        <div>
          <h1 class="page__title">Submit a job</h1>
          <p class="page__subtitle">
            Every trainer and parameter server runs the entry command, with PaddlePaddle’s variables set: <code>PADDLE_TRAINING_ROLE</code>,{' '}
            <code>PADDLE_TRAINER_ID</code>, <code>PADDLE_PSERVERS_IP_PORT_LIST</code> and more.
          </p>
        </div>
      </header>

      {copiedFrom && (
        <InfoBanner testId="job-copied">
          Starting from the spec of <strong>{copiedFrom}</strong>.
        </InfoBanner>
      )}
      {form.banner && <ErrorBanner error={form.banner} testId="job-form-error" />}

      <Form onSubmit={() => void onSubmit()} class="form job-form" testId="job-form" label="Submit a job">
        <FormSection title="Job">
          {field('name', 'Name', {
            hint: "Lower-case letters, digits and '-', starting with a letter (e.g. mnist-dist).",
            maxLength: 40,
            autoCapitalize: 'none',
          })}
          <TextAreaField
            id="job-entry"
            label="Entry command"
            value={values.entry}
            onValue={(value) => set('entry', value)}
            error={form.errors['entry']}
            hint="Run by /bin/sh -c in every pod, e.g. python3 train.py --epochs 10."
            placeholder="python3 train.py"
            rows={3}
            spellcheck={false}
            code
          />
          {code || codeFrom
            ? null
            : field('workdir', 'Working folder', {
                note: 'optional',
                hint: 'A folder of your account’s files (e.g. workspace/mnist); the pods start in it. Empty: the job’s own folder.',
                placeholder: 'workspace/mnist',
              })}
        </FormSection>

        <FormSection title="Code" note="optional">
          <div
            class={['code-drop', dragging ? 'code-drop--active' : '', form.errors['package'] ? 'field--invalid' : ''].filter(Boolean).join(' ')}
            data-testid="job-code"
            onDragOver={(event) => {
              event.preventDefault();
              setDragging(true);
            }}
            onDragLeave={() => setDragging(false)}
            onDrop={onDrop}
          >
            <p class="code-drop__text">
              Upload a folder with your training code; every pod starts in a copy of it. Drop the folder here or{' '}
              <label class="button button--small button--secondary code-drop__choose" for="job-package">
                {code ? 'Choose another folder…' : 'Choose a folder…'}
              </label>
              <input
                class="code-drop__input"
                id="job-package"
                type="file"
                multiple
                {...({ webkitdirectory: true } as Record<string, unknown>)}
                disabled={form.pending}
                aria-describedby="job-package-hint"
                onChange={(event) => {
                  const input = event.currentTarget;
                  chooseCode([...(input.files ?? [])].map((file) => ({ relativePath: file.webkitRelativePath || file.name, file })));
                  input.value = '';
                }}
                data-testid="job-package-input"
              />
            </p>
            {code ? (
              <p class="code-drop__summary" data-testid="job-code-summary">
                <strong data-testid="job-code-folder">{code.folder}</strong>:{' '}
                <span data-testid="job-code-files">{plural(code.files.length, 'file')}</span>,{' '}
                <span data-testid="job-code-size">{formatBytes(code.bytes)}</span>{' '}
                <button
                  type="button"
                  class="button button--small button--secondary"
                  disabled={form.pending}
                  onClick={() => chooseCode([])}
                  data-testid="job-code-clear"
                >
                  Remove
                </button>
              </p>
            ) : codeFrom ? (
              <p class="code-drop__summary" data-testid="job-code-from">
                The code of job <strong>{codeFrom.name}</strong> (#{codeFrom.id}, {codeFrom.origin}) runs again, as a copy.{' '}
                <button
                  type="button"
                  class="button button--small button--secondary"
                  disabled={form.pending}
                  onClick={() => setCodeFrom(null)}
                  data-testid="job-code-from-clear"
                >
                  Don’t use it
                </button>
              </p>
            ) : (
              <p class="field__hint" id="job-package-hint">
                Skipped: <code>.git/</code>, <code>__pycache__/</code> and <code>*.pyc</code>. Without code, the pods start in the working folder.
              </p>
            )}
            {upload && (
              <div class="code-upload" data-testid="job-upload">
                <progress max={Math.max(upload.total, 1)} value={upload.sent} aria-label="Upload progress" data-testid="job-upload-progress" />
                <span class="code-upload__label">
                  Uploading {formatBytes(upload.sent)} of {formatBytes(upload.total)} (
                  {upload.total > 0 ? Math.floor((100 * upload.sent) / upload.total) : 0}%)
                </span>
                <button
                  type="button"
                  class="button button--small button--secondary"
                  onClick={() => {
                    setCancelled(true);
                    uploadController.current?.abort();
                  }}
                  data-testid="job-upload-cancel"
                >
                  Cancel upload
                </button>
              </div>
            )}
            {cancelled && !upload && (
              <p class="field__hint" data-testid="job-upload-cancelled">
                Upload cancelled; nothing was submitted.
              </p>
            )}
            {form.errors['package'] && (
              <p class="field__error" id="job-package-error" data-testid="job-package-error">
                {form.errors['package']}
              </p>
            )}
          </div>
        </FormSection>

        <FormSection title="Trainers">
          <div class="field-row">
            {count('num_trainer', 'Count', 1, 256)}
            {field('cpu_per_trainer', 'CPU each', { hint: CPU_HINT })}
            {field('mem_per_trainer', 'Memory each', { hint: MEM_HINT })}
            {count('gpu_per_trainer', 'GPUs each', 0, 16)}
          </div>
        </FormSection>

        <FormSection title="Parameter servers">
          <div class="field-row">
            {count('num_ps', 'Count', 0, 64, '0 for none.')}
            {field('cpu_per_ps', 'CPU each', { hint: CPU_HINT })}
            {field('mem_per_ps', 'Memory each', { hint: MEM_HINT })}
          </div>
          <CapacityNote api={api} form={values} />
        </FormSection>

        <FormSection title="Environment" note="optional">
          {values.env.length > 0 && (
            <div class="env-rows" data-testid="job-env-rows">
              {values.env.map((row, index) => {
                const rowField = envRowField(row.key, index);
                const error = form.errors[`env#${index}`] ?? form.errors[rowField];
                return (
                  <div class={error ? 'env-row field--invalid' : 'env-row'} key={index} data-testid="job-env-row">
                    <input
                      class="field__input env-row__key"
                      id={`job-${rowField}`}
                      aria-label={`Name of variable ${index + 1}`}
                      placeholder="NAME"
                      value={row.key}
                      spellcheck={false}
                      autoComplete="off"
                      onInput={(event) => setEnv(index, { key: event.currentTarget.value })}
                      aria-invalid={error ? 'true' : undefined}
                      data-testid={`job-env-key-${index}`}
                    />
                    <span class="env-row__eq" aria-hidden="true">
                      =
                    </span>
                    <input
                      class="field__input env-row__value"
                      aria-label={`Value of variable ${index + 1}`}
                      placeholder="value"
                      value={row.value}
                      spellcheck={false}
                      autoComplete="off"
                      onInput={(event) => setEnv(index, { value: event.currentTarget.value })}
                      data-testid={`job-env-value-${index}`}
                    />
                    <button
                      type="button"
                      class="button button--small button--secondary"
                      aria-label={`Remove variable ${index + 1}`}
                      onClick={() => {
                        // Row positions shift: forget the errors of every row.
                        values.env.forEach((item, i) => {
                          form.clearError(envRowField(item.key, i));
                          form.clearError(`env#${i}`);
                        });
                        setValues((current) => ({ ...current, env: current.env.filter((_, i) => i !== index) }));
                      }}
                      data-testid={`job-env-remove-${index}`}
                    >
                      Remove
                    </button>
                    {error && (
                      <p class="field__error env-row__error" data-testid={`job-env-error-${index}`}>
                        {error}
                      </p>
                    )}
                  </div>
                );
              })}
            </div>
          )}
          {form.errors['env'] && (
            <p class="field__error" data-testid="job-env-error">
              {form.errors['env']}
            </p>
          )}
          <p>
            <button
              type="button"
              class="button button--small button--secondary"
              onClick={() => setValues((current) => ({ ...current, env: [...current.env, { key: '', value: '' }] }))}
              data-testid="job-env-add"
            >
              Add variable
            </button>
          </p>
        </FormSection>

        <FormSection title="Failures">
          <div class="field-row">
            {count('max_restarts', 'Restarts per pod', 0, 100, 'How often a failed pod is started again.')}
            {count(
              'fault_tolerant',
              'Tolerated trainer failures',
              0,
              256,
              'Trainers that may fail for good while the job carries on.',
            )}
          </div>
        </FormSection>

        <div class="actions">
          <SubmitButton pending={form.pending} pendingLabel="Submitting…" testId="job-submit">
            Submit job
          </SubmitButton>
          <a href="/dashboard">Cancel</a>
        </div>
      </Form>
    </section>
  );
}

function FormSection({ title, note, children }: { title: string; note?: string; children: ComponentChildren }): VNode {
  return (
    <fieldset class="form-section">
      <legend class="form-section__title">
        {title}
        {note && <span class="field__note"> ({note})</span>}
      </legend>
      {children}
    </fieldset>
  );
}
