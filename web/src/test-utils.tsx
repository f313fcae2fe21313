// Helpers for component tests (happy-dom): render into a container, let promises settle, find
// elements by data-testid, type into inputs, and a fake of the account API.
import type { VNode } from 'preact';
import { render } from 'preact';
import { act } from 'preact/test-utils';
import { vi } from 'vitest';
import type { AccountApi, User } from './api/account';
import { accountApi } from './api/account';
import type { Job, JobsApi } from './api/jobs';
import { jobsApi } from './api/jobs';
import type { EventSourceLike } from './pages/jobs/LogConsole';

export interface Mounted {
  container: HTMLElement;
  byTestId: <T extends HTMLElement = HTMLElement>(id: string) => T | null;
  text: (id: string) => string | undefined;
  unmount: () => void;
}

/** Lets pending promises settle and Preact re-render. */
export async function flush(): Promise<void> {
  await act(async () => {
    for (let i = 0; i < 10; i++) await Promise.resolve();
  });
}

export async function mount(vnode: VNode): Promise<Mounted> {
  const container = document.createElement('div');
  document.body.appendChild(container);
  await act(async () => {
    render(vnode, container);
  });
  await flush();
  const byTestId = <T extends HTMLElement = HTMLElement>(id: string) =>
    container.querySelector<T>(`[data-testid="${id}"]`);
  return {
    container,
    byTestId,
    text: (id) => byTestId(id)?.textContent?.trim(),
    unmount: () => {
      act(() => {
        render(null, container);
      });
      container.remove();
    },
  };
}

/** Types `value` into an input (as a person would: an input event per change). */
export async function type(input: HTMLInputElement | null, value: string): Promise<void> {
  if (!input) throw new Error('no such input');
  await act(async () => {
    input.value = value;
    input.dispatchEvent(new Event('input', { bubbles: true }));
  });
}

export async function choose(select: HTMLSelectElement | null, value: string): Promise<void> {
  if (!select) throw new Error('no such select');
  await act(async () => {
    select.value = value;
    select.dispatchEvent(new Event('change', { bubbles: true }));
  });
}

export async function click(element: HTMLElement | null): Promise<void> {
  if (!element) throw new Error('no such element');
  await act(async () => {
    element.click();
  });
  await flush();
}

/** Submits the form that holds `element` (or the element itself when it is a form). */
export async function submit(element: HTMLElement | null): Promise<void> {
  if (!element) throw new Error('no such element');
  const form = element instanceof HTMLFormElement ? element : element.closest('form');
  if (!form) throw new Error('not inside a form');
  await act(async () => {
    form.dispatchEvent(new Event('submit', { bubbles: true, cancelable: true }));
  });
  await flush();
}

/** The signed-in user of the page tests: the master user of the account ada-lab. */
export const USER: User = {
  id: 1,
  account_id: 'ada-lab',
  email: 'ada@example.com',
  display_name: 'Ada',
  role: 'master',
  verified: true,
  created_at: 1_795_927_040,
};

/** The account API with every call a mock that fails unless `overrides` gives it. */
export function fakeAccountApi(overrides: Partial<AccountApi> = {}): AccountApi {
  const api = {} as Record<string, unknown>;
  for (const name of Object.keys(accountApi)) {
    api[name] = vi.fn(async () => {
      throw new Error(`unexpected call to ${name}`);
    });
  }
  for (const [name, impl] of Object.entries(overrides)) api[name] = vi.fn(impl as (...args: unknown[]) => unknown);
  return api as unknown as AccountApi;
}

/** The jobs API with every call a mock that fails unless `overrides` gives it. */
export function fakeJobsApi(overrides: Partial<JobsApi> = {}): JobsApi {
  const api = {} as Record<string, unknown>;
  for (const name of Object.keys(jobsApi)) {
    api[name] = vi.fn(async () => {
      throw new Error(`unexpected call to ${name}`);
    });
  }
  for (const [name, impl] of Object.entries(overrides)) api[name] = vi.fn(impl as (...args: unknown[]) => unknown);
  return api as unknown as JobsApi;
}

/** A job as the server sends it; `over` changes any field. */
export function makeJob(over: Partial<Job> = {}): Job {
  return {
    id: 1,
    name: 'mnist',
    user: 'ada@example.com',
    state: 'Running',
    reason: '',
    stop_requested: false,
    submitted_at: 1_795_927_000,
    started_at: 1_795_927_010,
    finished_at: null,
    succeeded: 0,
    failed: 0,
    spec: { name: 'mnist', entry: 'python3 train.py', num_trainer: 2, num_ps: 1 },
    ...over,
  };
}

/** A fake EventSource: `emit` delivers an event to the page. */
export function fakeEventSource() {
  const opened: string[] = [];
  const listeners = new Map<string, (event: MessageEvent<string>) => void>();
  let closed = false;
  const source = {
    readyState: 1,
    addEventListener: (type: string, listener: (event: MessageEvent<string>) => void) => listeners.set(type, listener),
    close: () => {
      closed = true;
    },
  };
  const open = (url: string): EventSourceLike => {
    opened.push(url);
    return source;
  };
  const emit = async (type: string, data: unknown) => {
    await act(async () => listeners.get(type)?.({ data: JSON.stringify(data) } as MessageEvent<string>));
    await flush();
  };
  /** The browser gives up on the stream (e.g. it answered 404). */
  const fail = async () => {
    source.readyState = 2;
    await emit('error', null);
  };
  return { open, opened, emit, fail, closed: () => closed };
}
