// A member's limits as the quota page edits them: the form's text values, their checks (empty is
// "no limit"), and the body of PUT /api/v1/account/members/{user}/limits.
import type { LimitsInput, MemberLimits } from '../../api/usage';
import type { FieldErrors } from '../../validation';
import { collectErrors } from '../../validation';
import { cpuMilli, memoryBytes } from '../jobs/capacity';

/** The limit fields, named as the server names them in the PUT body and in `details.field`. */
export const LIMIT_FIELDS = ['cpu', 'memory', 'gpus', 'running_jobs'] as const;
export type LimitField = (typeof LIMIT_FIELDS)[number];
export type LimitsForm = Record<LimitField, string>;

export const LIMIT_LABELS: Record<LimitField, string> = {
  cpu: 'CPU',
  memory: 'Memory',
  gpus: 'GPUs',
  running_jobs: 'Running jobs',
};

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** Bytes as a memory quantity the server reads back the same: 32 GiB -> "32Gi", 512 MiB -> "512Mi". */
export function memoryQuantity(bytes: number): string {
  if (bytes > 0 && bytes % GiB === 0) return `${bytes / GiB}Gi`;
  if (bytes > 0 && bytes % MiB === 0) return `${bytes / MiB}Mi`;
  return String(bytes);
}

export function limitsToForm(limits: MemberLimits): LimitsForm {
  const text = (value: number | null) => (value === null ? '' : String(value));
  return {
    cpu: text(limits.cpu),
    memory: limits.memory_bytes === null ? '' : memoryQuantity(limits.memory_bytes),
    gpus: text(limits.gpus),
    running_jobs: text(limits.running_jobs),
  };
}

const isCount = (text: string) => /^\d{1,6}$/.test(text);

/** What is wrong with each field, in words that name it; empty fields are fine (no limit). */
export function validateLimits(form: LimitsForm): FieldErrors<LimitField> {
  const value = (field: LimitField) => form[field].trim();
  const check = (field: LimitField, ok: (text: string) => boolean, what: string) =>
    value(field) === '' || ok(value(field)) ? undefined : `${LIMIT_LABELS[field]} must be ${what}, or empty for no limit.`;
  return collectErrors<LimitField>({
    cpu: check('cpu', (text) => cpuMilli(text) !== null, 'a number of cores such as 8, 0.5 or 500m'),
    memory: check('memory', (text) => memoryBytes(text) !== null, 'an amount such as 512Mi or 32Gi'),
    gpus: check('gpus', isCount, 'a whole number of GPUs'),
    running_jobs: check('running_jobs', isCount, 'a whole number of jobs'),
  });
}

/** The PUT body: quantities as typed, counts as numbers, null for an empty field. */
export function limitsInput(form: LimitsForm): LimitsInput {
  const text = (field: LimitField) => (form[field].trim() === '' ? null : form[field].trim());
  const count = (field: LimitField) => {
    const t = text(field);
    return t === null ? null : Number(t);
  };
  return { cpu: text('cpu'), memory: text('memory'), gpus: count('gpus'), running_jobs: count('running_jobs') };
}
