// Shared by the settings sections (and other pages' lists): loading a list and showing it, section
// frames, and copying text.
import type { ComponentChildren, VNode } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { AccountApi, User } from '../../api/account';
import type { ApiError, RequestOptions } from '../../api/client';
import { ErrorBanner, Form, isAbort, SubmitButton, toApiError } from '../../forms';

export interface SectionProps {
  user: User;
  api: AccountApi;
}

export interface Loaded<T> {
  data: T | undefined;
  error: ApiError | null;
  loading: boolean;
  /** Loads again (after a change); the current data stays shown meanwhile. */
  reload: () => void;
  /** Changes the data shown until the next load ends (e.g. drops a row just deleted). */
  update: (change: (data: T | undefined) => T | undefined) => void;
}

/** Loads `load()` when mounted, when one of `deps` changes and on `reload()`; aborts a load no longer wanted. */
export function useLoad<T>(load: (options: RequestOptions) => Promise<T>, deps: readonly unknown[] = []): Loaded<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const [generation, setGeneration] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    const controller = new AbortController();
    setLoading(true);
    loadRef.current({ signal: controller.signal }).then(
      (value) => {
        setData(value);
        setError(null);
        setLoading(false);
      },
      (err) => {
        if (isAbort(err)) return;
        setError(toApiError(err));
        setLoading(false);
      },
    );
    return () => controller.abort();
  }, [generation, ...deps]);

  const reload = useCallback(() => setGeneration((g) => g + 1), []);
  return { data, error, loading, reload, update: setData };
}

/**
 * A loaded list: its load error (test id `error.testId`), `loading` until the first answer, then `empty`
 * when it has no items or `children(items)`. `items` is undefined while there is no answer.
 */
export function LoadedList<T>({
  loaded,
  items,
  error,
  loading,
  empty,
  children,
}: {
  loaded: { error: ApiError | null; loading: boolean; reload: () => void };
  items: readonly T[] | undefined;
  error: { testId: string; prefix?: string; retry?: boolean };
  loading: ComponentChildren;
  empty: ComponentChildren;
  children: (items: readonly T[]) => ComponentChildren;
}): VNode {
  return (
    <>
      {loaded.error && (
        <ErrorBanner error={loaded.error} prefix={error.prefix} testId={error.testId} onRetry={error.retry ? loaded.reload : undefined} />
      )}
      {items === undefined ? (loaded.loading ? loading : null) : items.length === 0 ? empty : children(items)}
    </>
  );
}

/**
 * A settings panel titled `title` with the loaded list of `what` ("tokens"): "Loading tokens…" first,
 * `empty` as a muted line (test id `tokens-empty`) when there are no items, its load error as
 * `tokens-error`.
 */
export function ListPanel<T>({
  title,
  loaded,
  what,
  empty,
  children,
}: {
  title: string;
  loaded: Loaded<{ items: T[] }>;
  what: string;
  empty: string;
  children: (items: readonly T[]) => ComponentChildren;
}): VNode {
  return (
    <Panel title={title} testId={`${what}-panel`}>
      <LoadedList
        loaded={loaded}
        items={loaded.data?.items}
        error={{ testId: `${what}-error` }}
        loading={<p class="loading">Loading {what}…</p>}
        empty={
          <p class="muted" data-testid={`${what}-empty`}>
            {empty}
          </p>
        }
      >
        {children}
      </LoadedList>
    </Panel>
  );
}

/**
 * A settings panel that is one inline form: its title (also the form's name), a notice (e.g. what the
 * last submit did), the form's banner, the fields and the submit button. `testIds` name the panel,
 * the banner, the form and the button.
 */
export function FormPanel({
  title,
  form,
  onSubmit,
  submitLabel,
  pendingLabel,
  testIds,
  notice,
  children,
}: {
  title: string;
  form: { banner: ApiError | null; pending: boolean };
  onSubmit: () => Promise<void>;
  submitLabel: string;
  pendingLabel: string;
  testIds: { panel: string; error: string; form: string; submit: string };
  notice?: ComponentChildren;
  children: ComponentChildren;
}): VNode {
  return (
    <Panel title={title} testId={testIds.panel}>
      {notice}
      {form.banner && <ErrorBanner error={form.banner} testId={testIds.error} />}
      <Form onSubmit={() => void onSubmit()} class="form form--inline" testId={testIds.form} label={title}>
        {children}
        <SubmitButton pending={form.pending} pendingLabel={pendingLabel} testId={testIds.submit}>
          {submitLabel}
        </SubmitButton>
      </Form>
    </Panel>
  );
}

export function Section({
  title,
  description,
  testId,
  children,
}: {
  title: string;
  description?: ComponentChildren;
  testId: string;
  children: ComponentChildren;
}): VNode {
  return (
    <section class="settings-section" data-testid={testId} aria-labelledby={`${testId}-title`}>
      <h2 class="settings-section__title" id={`${testId}-title`}>
        {title}
      </h2>
      {description && <p class="settings-section__description">{description}</p>}
      {children}
    </section>
  );
}

/** A titled block inside a section. */
export function Panel({ title, children, testId }: { title?: string; children: ComponentChildren; testId?: string }): VNode {
  return (
    <div class="panel" data-testid={testId}>
      {title && <h3 class="panel__title">{title}</h3>}
      {children}
    </div>
  );
}

/** Copies text to the clipboard; falls back to selecting it in `fallbackInput` and execCommand. */
export async function copyText(text: string, fallbackInput?: HTMLInputElement | null): Promise<boolean> {
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Denied or unavailable (e.g. not a secure context): try the fallback.
  }
  if (!fallbackInput) return false;
  fallbackInput.focus();
  fallbackInput.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

/** The JSON object text of an audit event's details as "key: value" pairs. */
export function describeDetails(details: string | Record<string, unknown> | null | undefined): string {
  let value: unknown = details;
  if (typeof details === 'string') {
    if (details.trim() === '' || details.trim() === '{}') return '';
    try {
      value = JSON.parse(details);
    } catch {
      return details;
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value == null ? '' : String(value);
  return Object.entries(value as Record<string, unknown>)
    .map(([key, v]) => `${key.replaceAll('_', ' ')}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}
