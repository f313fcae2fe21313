// Shared by the job pages: live clocks and polling that pause while the tab is hidden, state badges,
// pod labels and the "stop this job?" confirmation.
import type { VNode } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Job, JobsApi, Pod } from '../../api/jobs';
import { ConfirmDialog } from '../../dialog';
import { useAction } from '../../forms';

/** How often the pages ask again while something on them is Pending or Running. */
export const ACTIVE_REFRESH_MS = 2_000;

/** True while the page is visible (not a background tab, not a minimised window). */
export function usePageVisible(): boolean {
  const [visible, setVisible] = useState(() => document.visibilityState !== 'hidden');
  useEffect(() => {
    const update = () => setVisible(document.visibilityState !== 'hidden');
    document.addEventListener('visibilitychange', update);
    update();
    return () => document.removeEventListener('visibilitychange', update);
  }, []);
  return visible;
}

/** The current time in unix seconds, updated every `intervalMs` while the page is visible. */
export function useNow(intervalMs = 1_000): number {
  const [now, setNow] = useState(() => Date.now() / 1000);
  const visible = usePageVisible();
  useEffect(() => {
    if (!visible) return;
    setNow(Date.now() / 1000);
    const timer = setInterval(() => setNow(Date.now() / 1000), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs, visible]);
  return now;
}

/**
 * Calls `refresh` every `intervalMs` (counted from the end of the previous call) while `enabled` and the
 * page is visible; when the page becomes visible again it refreshes at once. `refresh` gets a signal
 * that is aborted when polling stops.
 */
export function usePolling(refresh: (signal: AbortSignal) => Promise<unknown>, intervalMs: number, enabled: boolean): void {
  const visible = usePageVisible();
  const refreshRef = useRef(refresh);
  refreshRef.current = refresh;
  const hiddenSince = useRef<boolean>(false);

  useEffect(() => {
    if (!visible) {
      hiddenSince.current = true;
      return;
    }
    if (!enabled) return;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const controller = new AbortController();
    const tick = async () => {
      try {
        await refreshRef.current(controller.signal);
      } catch {
        // The caller shows its own errors; keep polling.
      }
      if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
    };
    if (hiddenSince.current) {
      // Back from a background tab: catch up now.
      hiddenSince.current = false;
      void tick();
    } else {
      timer = setTimeout(() => void tick(), intervalMs);
    }
    return () => {
      stopped = true;
      clearTimeout(timer);
      controller.abort();
    };
  }, [visible, enabled, intervalMs]);
}

export type Tone = 'pending' | 'running' | 'ok' | 'bad' | 'neutral';

export function stateTone(state: string): Tone {
  switch (state) {
    case 'Pending':
      return 'pending';
    case 'Running':
      return 'running';
    case 'Succeeded':
      return 'ok';
    case 'Failed':
      return 'bad';
    default:
      return 'neutral';
  }
}

/** A job's state as shown: "Stopping" while a stop was asked for and the pods are still ending. */
export function shownState(job: Pick<Job, 'state' | 'stop_requested'>): string {
  return job.stop_requested && (job.state === 'Pending' || job.state === 'Running') ? 'Stopping' : job.state;
}

/** The state badge; the reason is its tooltip and, unless `compact`, a line under it. */
export function StateBadge({
  job,
  compact = false,
  testId = 'job-state',
}: {
  job: Pick<Job, 'state' | 'reason' | 'stop_requested'>;
  compact?: boolean;
  testId?: string;
}): VNode {
  const state = shownState(job);
  const tone = state === 'Stopping' ? 'pending' : stateTone(job.state);
  const reason = job.reason && job.reason !== job.state.toLowerCase() ? job.reason : '';
  return (
    <span class="state">
      <span
        class={`badge badge--${tone}`}
        title={reason || undefined}
        data-testid={testId}
        data-state={job.state}
      >
        <span class="badge__dot" aria-hidden="true" />
        {state}
      </span>
      {!compact && reason && (
        <span class="state__reason" data-testid={`${testId}-reason`}>
          {reason}
        </span>
      )}
    </span>
  );
}

/** "trainer-0", "pserver-1". */
export function podLabel(pod: Pick<Pod, 'role' | 'index'>): string {
  return `${pod.role}-${pod.index}`;
}

/** The small coloured dot of a pod's phase. */
export function PhaseDot({ phase }: { phase: string }): VNode {
  return <span class={`phase-dot phase-dot--${stateTone(phase)}`} aria-hidden="true" />;
}

/** Confirms stopping a job, then stops it; `onStopped` gets the job as the server answered. */
export function StopJobDialog({
  job,
  api,
  onStopped,
  onCancel,
}: {
  job: Pick<Job, 'id' | 'name'>;
  api: Pick<JobsApi, 'stopJob'>;
  onStopped: (job: Job) => void;
  onCancel: () => void;
}): VNode {
  const action = useAction();
  const confirm = async () => {
    let stopped: Job | undefined;
    const ok = await action.run(async () => {
      stopped = await api.stopJob(job.id);
    });
    if (ok && stopped) onStopped(stopped);
  };
  return (
    <ConfirmDialog
      title={`Stop ${job.name}?`}
      confirmLabel="Stop job"
      pendingLabel="Stopping…"
      danger
      pending={action.pending}
      error={action.error}
      onConfirm={() => void confirm()}
      onCancel={onCancel}
      testId="stop-dialog"
    >
      <p>
        Every pod of <strong>{job.name}</strong> gets SIGTERM, and SIGKILL if it has not exited after a grace period.
        Its logs and history stay.
      </p>
    </ConfirmDialog>
  );
}
