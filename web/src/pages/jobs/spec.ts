// The submit form's values, the checks made before sending (mirroring the server's rules where they are
// simple; CPU and memory quantities are left to the server, which names the field it rejects), and the
// JobSpec sent to POST /api/v1/jobs.
import type { JobSpec } from '../../api/jobs';
import type { FieldErrors } from '../../validation';
import { labelProblem } from '../../validation';

export interface EnvRow {
  key: string;
  value: string;
}

export interface JobForm {
  name: string;
  entry: string;
  num_trainer: string;
  cpu_per_trainer: string;
  mem_per_trainer: string;
  gpu_per_trainer: string;
  num_ps: string;
  cpu_per_ps: string;
  mem_per_ps: string;
  workdir: string;
  env: EnvRow[];
  max_restarts: string;
  fault_tolerant: string;
}

/** The fields the server may name in `details.field` (plus "env.<NAME>" for one variable). */
export const JOB_FIELDS = [
  'name',
  'entry',
  'num_trainer',
  'cpu_per_trainer',
  'mem_per_trainer',
  'gpu_per_trainer',
  'num_ps',
  'cpu_per_ps',
  'mem_per_ps',
  'workdir',
  'env',
  'max_restarts',
  'fault_tolerant',
] as const;

export const EMPTY_JOB_FORM: JobForm = {
  name: '',
  entry: '',
  num_trainer: '1',
  cpu_per_trainer: '1',
  mem_per_trainer: '1Gi',
  gpu_per_trainer: '0',
  num_ps: '0',
  cpu_per_ps: '1',
  mem_per_ps: '1Gi',
  workdir: '',
  env: [],
  max_restarts: '0',
  fault_tolerant: '0',
};

export const JOB_NAME_PATTERN = /^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function validateJobName(name: string): string | undefined {
  if (name === '') return 'Name the job.';
  return labelProblem(name, 1, 40) ?? (JOB_NAME_PATTERN.test(name) ? undefined : "Use 1 to 40 lower-case letters, digits or '-'.");
}

function wholeNumber(text: string, min: number, max: number): string | undefined {
  const value = text.trim();
  if (!/^\d+$/.test(value)) return `Enter a whole number from ${min} to ${max}.`;
  const n = Number(value);
  return n < min || n > max ? `Enter a whole number from ${min} to ${max}.` : undefined;
}

/** The platform sets these in every pod; the server refuses them. */
export function reservedEnvName(name: string): boolean {
  return name.startsWith('PADDLE_') || name === 'TRAINING_ROLE' || name === 'POD_IP';
}

/** The error field of an environment row: "env.<NAME>" as the server names it. */
export function envField(key: string): string {
  return `env.${key.trim()}`;
}

/** Checks made before sending; keys are the server's field names. */
export function validateJobForm(form: JobForm): FieldErrors<string> {
  const errors: FieldErrors<string> = {};
  const set = (field: string, message: string | undefined) => {
    if (message !== undefined && errors[field] === undefined) errors[field] = message;
  };
  set('name', validateJobName(form.name.trim()));
  set('entry', form.entry.trim() === '' ? 'Enter the command every pod runs, e.g. python3 train.py.' : undefined);
  set('num_trainer', wholeNumber(form.num_trainer, 1, 256));
  set('gpu_per_trainer', wholeNumber(form.gpu_per_trainer, 0, 16));
  set('num_ps', wholeNumber(form.num_ps, 0, 64));
  set('max_restarts', wholeNumber(form.max_restarts, 0, 100));
  set('fault_tolerant', wholeNumber(form.fault_tolerant, 0, 256));
  if (errors['num_trainer'] === undefined && errors['fault_tolerant'] === undefined) {
    if (Number(form.fault_tolerant) >= Number(form.num_trainer)) {
      set('fault_tolerant', 'Must be less than the number of trainers.');
    }
  }
  for (const [field, label] of [
    ['cpu_per_trainer', 'CPU'],
    ['mem_per_trainer', 'memory'],
    ['cpu_per_ps', 'CPU'],
    ['mem_per_ps', 'memory'],
  ] as const) {
    set(field, form[field].trim() === '' ? `Enter the ${label} of each pod.` : undefined);
  }
  const workdir = form.workdir.trim();
  if (workdir.startsWith('/') || workdir.split('/').includes('..')) {
    set('workdir', "Use a folder inside your files, like workspace/mnist (no leading '/' or '..').");
  }
  const seen = new Set<string>();
  form.env.forEach((row, index) => {
    const key = row.key.trim();
    if (key === '' && row.value === '') return;
    // Errors of a row are keyed as the server would name them ("env.NAME"); rows the server would not
    // see apart (unnamed, or a name repeated) by their position ("env#2").
    const field = key === '' || seen.has(key) ? `env#${index}` : envField(key);
    if (key === '') set(field, 'Name the variable.');
    else if (seen.has(key)) set(field, 'This variable is already set above.');
    else if (!ENV_NAME.test(key)) set(field, "Use letters, digits and '_', not starting with a digit.");
    else if (reservedEnvName(key)) set(field, 'The platform sets this variable.');
    seen.add(key);
  });
  return errors;
}

/** The spec sent to the server (numbers as numbers, an empty work folder left out). */
export function specFromForm(form: JobForm): JobSpec {
  const env: Record<string, string> = {};
  for (const row of form.env) if (row.key.trim() !== '') env[row.key.trim()] = row.value;
  const spec: JobSpec = {
    name: form.name.trim(),
    entry: form.entry.trim(),
    num_trainer: Number(form.num_trainer),
    cpu_per_trainer: form.cpu_per_trainer.trim(),
    mem_per_trainer: form.mem_per_trainer.trim(),
    gpu_per_trainer: Number(form.gpu_per_trainer),
    num_ps: Number(form.num_ps),
    cpu_per_ps: form.cpu_per_ps.trim(),
    mem_per_ps: form.mem_per_ps.trim(),
    env,
    max_restarts: Number(form.max_restarts),
    fault_tolerant: Number(form.fault_tolerant),
  };
  if (form.workdir.trim() !== '') spec.workdir = form.workdir.trim();
  return spec;
}

/** A job's spec as form values (to submit it again). */
export function formFromSpec(spec: JobSpec): JobForm {
  const text = (value: string | number | undefined, fallback: string) => (value === undefined ? fallback : String(value));
  return {
    name: spec.name,
    entry: spec.entry,
    num_trainer: text(spec.num_trainer, EMPTY_JOB_FORM.num_trainer),
    cpu_per_trainer: text(spec.cpu_per_trainer, EMPTY_JOB_FORM.cpu_per_trainer),
    mem_per_trainer: text(spec.mem_per_trainer, EMPTY_JOB_FORM.mem_per_trainer),
    gpu_per_trainer: text(spec.gpu_per_trainer, EMPTY_JOB_FORM.gpu_per_trainer),
    num_ps: text(spec.num_ps, EMPTY_JOB_FORM.num_ps),
    cpu_per_ps: text(spec.cpu_per_ps, EMPTY_JOB_FORM.cpu_per_ps),
    mem_per_ps: text(spec.mem_per_ps, EMPTY_JOB_FORM.mem_per_ps),
    workdir: spec.workdir ?? '',
    env: Object.entries(spec.env ?? {}).map(([key, value]) => ({ key, value })),
    max_restarts: text(spec.max_restarts, EMPTY_JOB_FORM.max_restarts),
    fault_tolerant: text(spec.fault_tolerant, EMPTY_JOB_FORM.fault_tolerant),
  };
}

/** Where a job's code came from, when it was uploaded ("package pkg_…", "a copy of job #7"); null when it ran in a working folder. */
export function codeOrigin(spec: JobSpec): string | null {
  if (spec.package) return `package ${spec.package}`;
  if (spec.code_from_job) return `a copy of job #${spec.code_from_job}`;
  return null;
}
