// Building blocks shared by every form: labelled fields with hints and inline errors, the submit
// button that is disabled while a request is pending, error and success banners, and `useForm`, which
// runs the browser-side checks, sends the request and routes the server's errors (a named field's
// error next to that field, anything else to the banner).

import type { ComponentChildren, VNode } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api/client';
import type { FieldErrors } from './validation';
import { hasErrors, PASSWORD_HINT } from './validation';

/** "wrong email or password" -> "Wrong email or password." */
export function sentence(message: string): string {
  const text = message.trim();
  if (text === '') return text;
  const capital = text[0]!.toUpperCase() + text.slice(1);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
}

/**
 * A server message shown next to its field, without the field's name in front (the label says it):
 * "field 'mem_per_ps' must be at least 4Mi" -> "must be at least 4Mi", "mem_per_trainer: invalid ..." ->
 * "invalid ...". Other messages are returned as they are.
 */
export function withoutFieldName(message: string, field: string): string {
  const name = field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const stripped = message.replace(new RegExp(`^\\s*(?:field\\s+'${name}'\\s+|'?${name}'?\\s*:\\s*)`, 'i'), '');
  return stripped.trim() === '' ? message : stripped;
}

/** Any thrown value as an ApiError (network failures and bugs alike get a message to show). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ApiError(0, 'unknown', message, undefined, { cause: err });
}

export function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

/** The text of an error for people, including when to try again after a 429. */
export function errorText(error: ApiError): string {
  if (error.isNetworkError) return 'Cannot reach the PaddleCloud server. Check your connection and try again.';
  let text = sentence(error.message);
  if (error.status === 429 && error.retryAfter !== undefined && !/try again/i.test(text)) {
    text += ` Try again in ${error.retryAfter} s.`;
  }
  return text;
}

// ---- Banners ------------------------------------------------------------------------------------

export function ErrorBanner({
  error,
  prefix,
  testId = 'form-error',
  onRetry,
  children,
}: {
  error: ApiError | string;
  prefix?: string;
  testId?: string;
  /** Adds a "Try again" button that calls it (e.g. to load again). */
  onRetry?: () => void;
  children?: ComponentChildren;
}): VNode {
  const text = typeof error === 'string' ? error : errorText(error);
  return (
    <div class="banner banner--error" role="alert" data-testid={testId}>
      {prefix && <strong>{prefix} </strong>}
      <span data-testid={`${testId}-message`}>{text}</span>
      {(children || onRetry) && (
        <div class="banner__actions">
          {children}
          {onRetry && (
            <button type="button" class="button button--small button--secondary" onClick={() => onRetry()}>
              Try again
            </button>
          )}
        </div>
      )}
    </div>
  );
}

export function SuccessBanner({ testId, children }: { testId?: string; children: ComponentChildren }): VNode {
  return (
    <div class="banner banner--ok" role="status" data-testid={testId}>
      {children}
    </div>
  );
}

export function InfoBanner({ testId, children }: { testId?: string; children: ComponentChildren }): VNode {
  return (
    <div class="banner banner--info" role="status" data-testid={testId}>
      {children}
    </div>
  );
}

// ---- Fields -------------------------------------------------------------------------------------

/** The accessibility attributes of a field's control: invalid while it has an error, described by its hint and error. */
function describedBy(
  id: string,
  hint: ComponentChildren,
  error: string | undefined,
): { 'aria-invalid': 'true' | undefined; 'aria-describedby': string | undefined } {
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return { 'aria-invalid': error ? 'true' : undefined, 'aria-describedby': described || undefined };
}

/** The props of a text control (an input or a textarea) that the field's label, hint and error go with; test id `id`. */
function textControl({ id, value, onValue, hint, error }: FieldProps) {
  return {
    value,
    onInput: (event: { currentTarget: { value: string } }) => onValue(event.currentTarget.value),
    ...describedBy(id, hint, error),
    'data-testid': id,
  };
}

/** A field's label, with its note (e.g. "optional") after it. */
function FieldLabel({ id, label, note }: { id: string; label: ComponentChildren; note: string | undefined }): VNode {
  return (
    <label class="field__label" for={id}>
      {label}
      {note && <span class="field__note"> ({note})</span>}
    </label>
  );
}

/** The hint (`<id>-hint`) and the error (`<id>-error`) under a field's control. */
function FieldHelp({ id, hint, error }: { id: string; hint: ComponentChildren; error: string | undefined }): VNode {
  return (
    <>
      {hint && (
        <p class="field__hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="field__error" id={`${id}-error`} data-testid={`${id}-error`}>
          {error}
        </p>
      )}
    </>
  );
}

/** What every field has: a label, a value, and a hint and an error under the control. */
export interface FieldProps {
  /** Element id and test id of the control; the hint and error get `<id>-hint` and `<id>-error`. */
  id: string;
  label: ComponentChildren;
  value: string;
  onValue: (value: string) => void;
  hint?: ComponentChildren;
  error?: string | undefined;
}

/** A field's props apart from the rest (the control's own attributes). */
function splitField<P extends FieldProps>({ id, label, value, onValue, hint, error, ...rest }: P): [FieldProps, Omit<P, keyof FieldProps>] {
  return [{ id, label, value, onValue, hint, error }, rest];
}

/** The frame of every field: its label (with a note, and an aside beside it), the control, its hint and error. */
function FieldFrame({
  field,
  note,
  aside,
  children,
}: {
  field: FieldProps;
  note?: string | undefined;
  aside?: ComponentChildren;
  children: ComponentChildren;
}): VNode {
  const labelElement = <FieldLabel id={field.id} label={field.label} note={note} />;
  return (
    <div class={field.error ? 'field field--invalid' : 'field'}>
      {aside ? (
        <div class="field__label-row">
          {labelElement}
          {aside}
        </div>
      ) : (
        labelElement
      )}
      {children}
      <FieldHelp id={field.id} hint={field.hint} error={field.error} />
    </div>
  );
}

export interface TextFieldProps extends FieldProps {
  name?: string;
  autoComplete?: string;
  placeholder?: string;
  maxLength?: number;
  autoCapitalize?: 'none' | 'off' | 'on' | 'sentences' | 'words' | 'characters';
  spellcheck?: boolean;
  readOnly?: boolean;
  disabled?: boolean;
  /** Shown after the label, e.g. "optional". */
  note?: string;
  /** Beside the label, outside it (e.g. a "Forgot password?" link). */
  aside?: ComponentChildren;
  type?: 'text' | 'email' | 'password' | 'search' | 'url' | 'number';
  /** For type="number". */
  min?: number;
  max?: number;
  inputMode?: 'text' | 'numeric' | 'decimal' | 'none';
}

export function TextField({ note, aside, type = 'text', name, ...props }: TextFieldProps): VNode {
  const [field, rest] = splitField(props);
  return (
    <FieldFrame field={field} note={note} aside={aside}>
      <input
        {...rest}
        class="field__input"
        id={field.id}
        name={name ?? field.id}
        // Preact types `type` as a union keyed by role; every value here is a plain text-like input.
        type={type as 'text'}
        {...textControl(field)}
      />
    </FieldFrame>
  );
}

export interface TextAreaFieldProps extends FieldProps {
  note?: string;
  rows?: number;
  placeholder?: string;
  spellcheck?: boolean;
  /** Monospace, for commands and code. */
  code?: boolean;
}

/** A multi-line text field with the same label, hint and error layout as `TextField`. */
export function TextAreaField({ note, rows = 3, code = false, ...props }: TextAreaFieldProps): VNode {
  const [field, { placeholder, spellcheck }] = splitField(props);
  return (
    <FieldFrame field={field} note={note}>
      <textarea
        class={code ? 'field__input field__textarea field__textarea--code' : 'field__input field__textarea'}
        id={field.id}
        name={field.id}
        rows={rows}
        placeholder={placeholder}
        spellcheck={spellcheck}
        {...textControl(field)}
      />
    </FieldFrame>
  );
}

export interface SelectFieldProps extends FieldProps {
  options: ReadonlyArray<{ value: string; label: string }>;
  disabled?: boolean;
}

export function SelectField({ options, disabled, ...props }: SelectFieldProps): VNode {
  const [field] = splitField(props);
  return (
    <FieldFrame field={field}>
      <select
        class="field__input field__select"
        id={field.id}
        name={field.id}
        value={field.value}
        disabled={disabled}
        onChange={(event) => field.onValue(event.currentTarget.value)}
        {...describedBy(field.id, field.hint, field.error)}
        data-testid={field.id}
      >
        <OptionList options={options} />
      </select>
    </FieldFrame>
  );
}

export function SubmitButton({
  pending,
  children,
  pendingLabel,
  testId,
  variant = 'primary',
}: {
  pending: boolean;
  children: ComponentChildren;
  pendingLabel?: string;
  testId?: string;
  variant?: 'primary' | 'secondary' | 'danger';
}): VNode {
  return (
    <button
      type="submit"
      class={variant === 'primary' ? 'button' : `button button--${variant}`}
      disabled={pending}
      aria-busy={pending ? 'true' : undefined}
      data-testid={testId}
    >
      {pending ? (pendingLabel ?? 'Working…') : children}
    </button>
  );
}

/**
 * A row of toggle buttons of which one is on (a filter, a mode). Each button's test id is
 * `<testIdPrefix>-<value>`, "all" standing for the empty value.
 */
export function Segmented<V extends string>({
  label,
  options,
  value,
  onChange,
  testIdPrefix,
}: {
  label: string;
  options: ReadonlyArray<{ value: V; label: string }>;
  value: V;
  onChange: (value: V) => void;
  testIdPrefix: string;
}): VNode {
  return (
    <div class="segmented" role="group" aria-label={label}>
      {options.map((option) => (
        <button
          key={option.value}
          type="button"
          class={value === option.value ? 'segmented__item segmented__item--on' : 'segmented__item'}
          aria-pressed={value === option.value ? 'true' : 'false'}
          onClick={() => onChange(option.value)}
          data-testid={`${testIdPrefix}-${option.value || 'all'}`}
        >
          {option.label}
        </button>
      ))}
    </div>
  );
}

/** The search box of a filter bar. */
export function FilterSearch({
  label,
  placeholder,
  value,
  onValue,
  testId,
}: {
  label: string;
  placeholder: string;
  value: string;
  onValue: (value: string) => void;
  testId: string;
}): VNode {
  return (
    <label class="filters__field">
      <span class="filters__label">{label}</span>
      <input
        class="field__input filters__search"
        type="search"
        placeholder={placeholder}
        value={value}
        onInput={(event) => onValue(event.currentTarget.value)}
        data-testid={testId}
      />
    </label>
  );
}

/** A choice of a filter bar (a drop-down list). */
export function FilterSelect({
  label,
  value,
  onValue,
  options,
  testId,
}: {
  label: string;
  value: string;
  onValue: (value: string) => void;
  options: ReadonlyArray<{ value: string; label: string }>;
  testId: string;
}): VNode {
  return (
    <label class="filters__field">
      <span class="filters__label">{label}</span>
      <select class="field__input" value={value} onChange={(e) => onValue(e.currentTarget.value)} data-testid={testId}>
        <OptionList options={options} />
      </select>
    </label>
  );
}

/** The options of a <select>. */
function OptionList({ options }: { options: ReadonlyArray<{ value: string; label: string }> }): VNode {
  return (
    <>
      {options.map((option) => (
        <option key={option.value} value={option.value}>
          {option.label}
        </option>
      ))}
    </>
  );
}

/**
 * The text of a search box whose value applies after a pause in typing: `apply(text)` runs once the
 * text has stayed unchanged for `delayMs` and differs from `applied` (the value in effect, e.g. from
 * the address bar). When `applied` changes from elsewhere (a back button, a reset), the box follows.
 */
export function useDebouncedText(applied: string, apply: (text: string) => void, delayMs: number): [string, (text: string) => void] {
  const [text, setText] = useState(applied);
  const followed = useRef(applied);
  useEffect(() => {
    if (text.trim() === applied.trim()) return;
    const timer = setTimeout(() => apply(text), delayMs);
    return () => clearTimeout(timer);
    // `apply` is new on every render; the pending change only depends on the text.
  }, [text]);
  useEffect(() => {
    // Only a change of `applied` replaces the text: typing can come before this effect first runs.
    if (followed.current === applied) return;
    followed.current = applied;
    setText((current) => (current.trim() === applied.trim() ? current : applied));
  }, [applied]);
  return [text, setText];
}

// ---- Form state ---------------------------------------------------------------------------------

export interface FormState<F extends string> {
  pending: boolean;
  errors: FieldErrors<F>;
  /** An error that belongs to no field of this form. */
  banner: ApiError | null;
  /** Runs `validate` (browser-side checks), then `action`; see the module comment. */
  submit: (action: () => Promise<void>, validate?: () => FieldErrors<F>) => Promise<void>;
  /** Forgets the error of one field (call it when the person edits the field). */
  clearError: (field: F) => void;
  setBanner: (error: ApiError | null) => void;
  reset: () => void;
}

/** A failed submit's error: next to its field when it names one of `fields`, else for the banner. */
function routeError<F extends string>(err: unknown, fields: readonly F[]): { fields: FieldErrors<F> } | { banner: ApiError } {
  const error = toApiError(err);
  const field = error.field as F | undefined;
  if (field === undefined || !fields.includes(field)) return { banner: error };
  return { fields: { [field]: sentence(withoutFieldName(error.message, field)) } as FieldErrors<F> };
}

/**
 * Form state for the fields `fields` (named as the server names them, e.g. "account_id"): an error
 * the server sends with `details.field` set to one of them is shown next to that field. `idPrefix`
 * (the inputs' id is `<idPrefix>-<field>`) lets the first invalid field take the focus.
 */
export function useForm<F extends string>(fields: readonly F[], idPrefix?: string): FormState<F> {
  const [pending, setPending] = useState(false);
  const [errors, setErrors] = useState<FieldErrors<F>>({});
  const [banner, setBanner] = useState<ApiError | null>(null);
  const busy = useRef(false);
  const mounted = useRef(true);
  const fieldList = useRef(fields);
  fieldList.current = fields;

  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );

  const focusFirst = useCallback(
    (found: FieldErrors<F>) => {
      if (!idPrefix) return;
      const first = fieldList.current.find((field) => found[field] !== undefined);
      if (first === undefined) return;
      // After the re-render that shows the error.
      setTimeout(() => document.getElementById(`${idPrefix}-${first}`)?.focus(), 0);
    },
    [idPrefix],
  );

  const submit = useCallback(
    async (action: () => Promise<void>, validate?: () => FieldErrors<F>) => {
      if (busy.current) return;
      const found = validate?.() ?? {};
      setErrors(found);
      if (hasErrors(found)) {
        setBanner(null);
        focusFirst(found);
        return;
      }
      busy.current = true;
      setPending(true);
      setBanner(null);
      try {
        await action();
      } catch (err) {
        if (isAbort(err) || !mounted.current) return;
        const routed = routeError(err, fieldList.current);
        if ('banner' in routed) setBanner(routed.banner);
        else {
          setErrors(routed.fields);
          focusFirst(routed.fields);
        }
      } finally {
        busy.current = false;
        if (mounted.current) setPending(false);
      }
    },
    [focusFirst],
  );

  const clearError = useCallback((field: F) => {
    setErrors((prev) => {
      if (prev[field] === undefined) return prev;
      const next = { ...prev };
      delete next[field];
      return next;
    });
  }, []);

  const reset = useCallback(() => {
    setErrors({});
    setBanner(null);
  }, []);

  return { pending, errors, banner, submit, clearError, setBanner, reset };
}

/** A field's `value`, `onValue` and `error` props: editing it sets the value and forgets `form`'s error of `field`. */
export function bindField<F extends string>(
  form: FormState<F>,
  field: F,
  value: string,
  setValue: (value: string) => void,
): { value: string; onValue: (value: string) => void; error: string | undefined } {
  return {
    value,
    onValue: (next) => {
      setValue(next);
      form.clearError(field);
    },
    error: form.errors[field],
  };
}

/**
 * A new password (with the password rule as its hint) and its repetition, the inputs
 * `<idPrefix>-<field>` and `<idPrefix>-confirmation`; editing either forgets its error in `form`.
 */
export function NewPasswordFields<F extends string>({
  form,
  idPrefix,
  field,
  label,
  repeatLabel,
  password,
  setPassword,
  confirmation,
  setConfirmation,
}: {
  form: FormState<F | 'confirmation'>;
  idPrefix: string;
  /** The password's field as the server names it. */
  field: F;
  label: string;
  repeatLabel: string;
  password: string;
  setPassword: (value: string) => void;
  confirmation: string;
  setConfirmation: (value: string) => void;
}): VNode {
  return (
    <>
      <TextField
        id={`${idPrefix}-${field}`}
        label={label}
        type="password"
        autoComplete="new-password"
        {...bindField(form, field, password, setPassword)}
        hint={PASSWORD_HINT}
      />
      <TextField
        id={`${idPrefix}-confirmation`}
        label={repeatLabel}
        type="password"
        autoComplete="new-password"
        {...bindField(form, 'confirmation', confirmation, setConfirmation)}
      />
    </>
  );
}

/** A form's <form> element: no native validation bubbles (errors show inline), submit via `onSubmit`. */
export function Form({
  onSubmit,
  testId,
  children,
  class: className = 'form',
  label,
}: {
  onSubmit: () => void;
  testId?: string;
  children: ComponentChildren;
  class?: string;
  label?: string;
}): VNode {
  return (
    <form
      class={className}
      noValidate
      aria-label={label}
      data-testid={testId}
      onSubmit={(event) => {
        event.preventDefault();
        onSubmit();
      }}
    >
      {children}
    </form>
  );
}

/** A titled group of a form's fields (a <fieldset> with its legend), with a note such as "optional". */
export function FormSection({ title, note, children }: { title: string; note?: string; children: ComponentChildren }): VNode {
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

// ---- One-off actions (buttons, confirmations) ---------------------------------------------------

export interface ActionState {
  pending: boolean;
  error: ApiError | null;
  /** Runs `action` unless one is pending; resolves true when it succeeded. */
  run: (action: () => Promise<void>) => Promise<boolean>;
  reset: () => void;
}

export function useAction(): ActionState {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const busy = useRef(false);
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );
  const run = useCallback(async (action: () => Promise<void>) => {
    if (busy.current) return false;
    busy.current = true;
    setPending(true);
    setError(null);
    try {
      await action();
      return true;
    } catch (err) {
      if (!isAbort(err) && mounted.current) setError(toApiError(err));
      return false;
    } finally {
      busy.current = false;
      if (mounted.current) setPending(false);
    }
  }, []);
  const reset = useCallback(() => setError(null), []);
  return { pending, error, run, reset };
}

// ---- Links that carry a secret ------------------------------------------------------------------

/**
 * Reads `?token=` from the address bar and removes it there (history.replaceState), so the secret
 * does not stay in the history, bookmarks or a shared screen. Returns null when there is none.
 */
export function takeTokenFromUrl(): string | null {
  const url = new URL(window.location.href);
  const token = url.searchParams.get('token');
  if (token === null) return null;
  url.searchParams.delete('token');
  window.history.replaceState(window.history.state, '', `${url.pathname}${url.search}${url.hash}`);
  return token.trim() === '' ? null : token.trim();
}

/** The link's token, read once when the page opens (see takeTokenFromUrl). */
export function useLinkToken(): string | null {
  const [token] = useState(takeTokenFromUrl);
  return token;
}
