// The Environment section of the submit form: rows of NAME = value, each with its own error.
import type { VNode } from 'preact';
import type { FormState } from '../../forms';
import type { JobForm } from './spec';
import { envField } from './spec';

type EnvRow = JobForm['env'][number];

/** The field name (and id suffix) of an environment row: "env.NAME", or "env#<row>" while unnamed. */
export function envRowField(key: string, index: number): string {
  return key.trim() === '' ? `env#${index}` : envField(key);
}

/** The form fields the rows' errors may come under. */
export function envFields(env: readonly EnvRow[]): string[] {
  return env.flatMap((row, index) => [envRowField(row.key, index), `env#${index}`]);
}

export function EnvSection({
  env,
  form,
  setEnv,
}: {
  env: readonly EnvRow[];
  form: FormState<string>;
  setEnv: (update: (env: EnvRow[]) => EnvRow[]) => void;
}): VNode {
  const forgetRow = (row: EnvRow, index: number) => {
    form.clearError(envRowField(row.key, index));
    form.clearError(`env#${index}`);
  };
  const change = (index: number, change: Partial<EnvRow>) => {
    const row = env[index];
    if (row) {
      forgetRow(row, index);
      form.clearError('env');
    }
    setEnv((current) => current.map((item, i) => (i === index ? { ...item, ...change } : item)));
  };
  const remove = (index: number) => {
    // Row positions shift: forget the errors of every row.
    env.forEach(forgetRow);
    setEnv((current) => current.filter((_, i) => i !== index));
  };
  return (
    <>
      {env.length > 0 && (
        <div class="env-rows" data-testid="job-env-rows">
          {env.map((row, index) => (
            <EnvRowFields
              key={index}
              row={row}
              index={index}
              error={form.errors[`env#${index}`] ?? form.errors[envRowField(row.key, index)]}
              onChange={(next) => change(index, next)}
              onRemove={() => remove(index)}
            />
          ))}
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
          onClick={() => setEnv((current) => [...current, { key: '', value: '' }])}
          data-testid="job-env-add"
        >
          Add variable
        </button>
      </p>
    </>
  );
}

function EnvRowFields({
  row,
  index,
  error,
  onChange,
  onRemove,
}: {
  row: EnvRow;
  index: number;
  error: string | undefined;
  onChange: (change: Partial<EnvRow>) => void;
  onRemove: () => void;
}): VNode {
  return (
    <div class={error ? 'env-row field--invalid' : 'env-row'} data-testid="job-env-row">
      <input
        class="field__input env-row__key"
        id={`job-${envRowField(row.key, index)}`}
        aria-label={`Name of variable ${index + 1}`}
        placeholder="NAME"
        value={row.key}
        spellcheck={false}
        autoComplete="off"
        onInput={(event) => onChange({ key: event.currentTarget.value })}
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
        onInput={(event) => onChange({ value: event.currentTarget.value })}
        data-testid={`job-env-value-${index}`}
      />
      <button
        type="button"
        class="button button--small button--secondary"
        aria-label={`Remove variable ${index + 1}`}
        onClick={onRemove}
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
}
