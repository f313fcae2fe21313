// The notebook's state as the navigation shows it: a small dot after "Notebook". The last state the
// app learned is kept here; the navigation asks for it every 10 s while it is shown (signed in), and
// the notebook page hands on every state it reads, so the dot follows a start as it happens.
import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { getNotebook } from '../../api/notebook';
import { isAbort } from '../../forms';
import type { Tone } from '../jobs/common';
import { usePolling } from '../jobs/common';

export const NAV_REFRESH_MS = 10_000;

let latest: string | null = null;
const listeners = new Set<() => void>();

/** Records the notebook's state (null: unknown); every indicator shows it. */
export function publishNotebookState(state: string | null): void {
  if (state === latest) return;
  latest = state;
  for (const listener of [...listeners]) listener();
}

/** The last state recorded; re-renders the caller when it changes. */
export function useNotebookState(): string | null {
  const [state, setState] = useState(latest);
  useEffect(() => {
    const update = () => setState(latest);
    listeners.add(update);
    update();
    return () => {
      listeners.delete(update);
    };
  }, []);
  return state;
}

const TONES: Record<string, Tone> = { running: 'ok', starting: 'pending', failed: 'bad' };

/** The colour of a notebook state: running green, starting amber, failed red, stopped grey. */
export function notebookTone(state: string): Tone {
  return TONES[state] ?? 'neutral';
}

/** The navigation's dot of the notebook's state, read now and every NAV_REFRESH_MS while it is shown. */
export function NotebookIndicator(): VNode | null {
  const state = useNotebookState();
  const refresh = async (signal: AbortSignal) => {
    try {
      publishNotebookState((await getNotebook({ signal })).state);
    } catch (err) {
      if (!isAbort(err)) publishNotebookState(null);
    }
  };
  useEffect(() => {
    const controller = new AbortController();
    void refresh(controller.signal);
    return () => controller.abort();
  }, []);
  usePolling(refresh, NAV_REFRESH_MS, true);
  if (state === null) return null;
  return (
    <span class="nav__status" data-testid="nav-notebook-status" data-state={state}>
      <span class={`phase-dot phase-dot--${notebookTone(state)}`} aria-hidden="true" />
      <span class="visually-hidden"> ({state})</span>
    </span>
  );
}
