// Submit a training job (/jobs/new; /jobs/new?from=<id> starts from an earlier job's spec). A field the
// server rejects (`details.field`, e.g. "mem_per_trainer" or "env.FOO") gets its error inline.
import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Breadcrumbs } from '../../breadcrumbs';
import type { JobsApi } from '../../api/jobs';
import { jobsApi } from '../../api/jobs';
import type { FormState } from '../../forms';
import { ErrorBanner, Form, FormSection, InfoBanner, isAbort, SubmitButton, TextAreaField, TextField, toApiError, useForm } from '../../forms';
import { navigate, useLocation } from '../../router';
import type { SignedInPageProps } from '../../session';
import { useDocumentTitle } from '../../title';
import { CapacityNote } from './capacity';
import type { CodeFrom, JobCode } from './CodeSection';
import { CodeSection, useJobCode } from './CodeSection';
import { envFields, EnvSection } from './EnvSection';
import type { JobForm } from './spec';
import { codeOrigin, EMPTY_JOB_FORM, formFromSpec, JOB_FIELDS, specFromForm, validateJobForm } from './spec';

export type SubmitJobApi = Pick<JobsApi, 'submitJob' | 'getJob' | 'uploadPackage' | 'getCapacity'>;

export interface SubmitJobPageProps extends SignedInPageProps {
  api?: SubmitJobApi;
}

const CPU_HINT = 'Cores: 1, 0.5 or 500m (millicores).';
const MEM_HINT = 'Bytes with a unit: 512Mi, 2Gi.';

type TextKey = Exclude<keyof JobForm, 'env'>;

export function SubmitJobPage({ api = jobsApi }: SubmitJobPageProps): VNode {
  useDocumentTitle('Submit a job');
  const [values, setValues] = useState<JobForm>(EMPTY_JOB_FORM);
  const form = useForm<string>([...JOB_FIELDS, 'package', ...envFields(values.env)], 'job');
  const code = useJobCode(api, form);
  const copiedFrom = useEarlierJob(api, form, setValues, code.setCodeFrom);
  const set = (key: TextKey, value: string) => {
    setValues((current) => ({ ...current, [key]: value }));
    form.clearError(key);
  };
  const onSubmit = () =>
    form.submit(
      async () => {
        const spec = specFromForm(values);
        await code.attach(spec);
        const job = await api.submitJob(spec);
        navigate(`/jobs/${job.id}`);
      },
      () => validateJobForm(values),
    );

  return (
    <section class="page" data-testid="submit-job-page">
      <SubmitJobHeader />
      {copiedFrom && (
        <InfoBanner testId="job-copied">
          Starting from the spec of <strong>{copiedFrom}</strong>.
        </InfoBanner>
      )}
      {form.banner && <ErrorBanner error={form.banner} testId="job-form-error" />}

      <Form onSubmit={() => void onSubmit()} class="form job-form" testId="job-form" label="Submit a job">
        <JobFields values={values} form={form} set={set} code={code} />
        <FormSection title="Code" note="optional">
          <CodeSection state={code} pending={form.pending} error={form.errors['package']} />
        </FormSection>
        <ResourceSections api={api} values={values} form={form} set={set} />
        <FormSection title="Environment" note="optional">
          <EnvSection env={values.env} form={form} setEnv={(update) => setValues((current) => ({ ...current, env: update(current.env) }))} />
        </FormSection>
        <FailureFields values={values} form={form} set={set} />
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

/** With `?from=<id>`, starts from that job's spec (and its uploaded code); returns that job's name. */
function useEarlierJob(
  api: Pick<JobsApi, 'getJob'>,
  form: FormState<string>,
  setValues: (values: JobForm) => void,
  setCodeFrom: (from: CodeFrom | null) => void,
): string | null {
  const { search } = useLocation();
  const from = new URLSearchParams(search).get('from');
  const [copiedFrom, setCopiedFrom] = useState<string | null>(null);
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
  return copiedFrom;
}

function SubmitJobHeader(): VNode {
  return (
    <>
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
    </>
  );
}

interface FieldsProps {
  values: JobForm;
  form: FormState<string>;
  set: (key: TextKey, value: string) => void;
}

/** Renders the text field `key` (id `job-<key>`) and, with `count`, a number field with bounds. */
function jobInputs({ values, form, set }: FieldsProps) {
  const field = (key: TextKey, label: string, extra: Partial<Parameters<typeof TextField>[0]> = {}) => (
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
  const count = (key: TextKey, label: string, min: number, max: number, hint?: string) =>
    field(key, label, { type: 'number', min, max, inputMode: 'numeric', ...(hint ? { hint } : {}) });
  return { field, count };
}

function JobFields(props: FieldsProps & { code: JobCode }): VNode {
  const { values, form, set, code } = props;
  const { field } = jobInputs(props);
  return (
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
      {code.code || code.codeFrom
        ? null
        : field('workdir', 'Working folder', {
            note: 'optional',
            hint: 'A folder of your account’s files (e.g. workspace/mnist); the pods start in it. Empty: the job’s own folder.',
            placeholder: 'workspace/mnist',
          })}
    </FormSection>
  );
}

function ResourceSections(props: FieldsProps & { api: SubmitJobApi }): VNode {
  const { field, count } = jobInputs(props);
  return (
    <>
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
        <CapacityNote api={props.api} form={props.values} />
      </FormSection>
    </>
  );
}

function FailureFields(props: FieldsProps): VNode {
  const { count } = jobInputs(props);
  return (
    <FormSection title="Failures">
      <div class="field-row">
        {count('max_restarts', 'Restarts per pod', 0, 100, 'How often a failed pod is started again.')}
        {count('fault_tolerant', 'Tolerated trainer failures', 0, 256, 'Trainers that may fail for good while the job carries on.')}
      </div>
    </FormSection>
  );
}
