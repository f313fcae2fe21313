// What the notebook page decides from a notebook's status (docs/notebooks.md): whether a visit starts
// it, which step of a start it is at, and why it stopped, in words.
import type { Notebook } from '../../api/notebook';
import { sentence } from '../../forms';

/**
 * True when opening the page should start the notebook: it is stopped, and not by its user (never
 * started, stopped for idleness or age, or its replica was lost). A failed notebook waits for Restart.
 */
export function startsOnVisit(notebook: Pick<Notebook, 'state' | 'reason'>): boolean {
  return notebook.state === 'stopped' && notebook.reason !== 'user';
}

export type StartStep = 'resources' | 'jupyter' | 'ready';

export const START_STEPS: ReadonlyArray<{ step: StartStep; label: string }> = [
  { step: 'resources', label: 'Waiting for resources' },
  { step: 'jupyter', label: 'Jupyter starting' },
  { step: 'ready', label: 'Ready' },
];

/** A starting notebook's reasons while its replica waits for room on the cluster ("" / "Unknown": no replica yet). */
function waitsForResources(reason: string): boolean {
  return reason === '' || reason === 'Unknown' || /^waiting\b/i.test(reason);
}

/**
 * The step a start is at: waiting for resources while the replica waits to be placed ("waiting for 2
 * CPUs"; also before the start is answered), Jupyter starting once it was placed ("Starting", or its
 * readiness probe failing so far), ready when Jupyter answers.
 */
export function startStep(notebook: Pick<Notebook, 'state' | 'reason'> | null): StartStep {
  if (notebook?.state === 'running') return 'ready';
  if (notebook?.state === 'starting' && !waitsForResources(notebook.reason)) return 'jupyter';
  return 'resources';
}

/** 3600 -> "1 h", 5400 -> "1 h 30 min", 90 -> "1 min 30 s", 45 -> "45 s". */
export function spokenDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  const parts: Array<[number, string]> = [
    [Math.floor(s / 86_400), 'd'],
    [Math.floor((s % 86_400) / 3_600), 'h'],
    [Math.floor((s % 3_600) / 60), 'min'],
    [s % 60, 's'],
  ];
  const first = parts.findIndex(([value]) => value > 0);
  if (first === -1) return '0 s';
  return parts
    .slice(first, first + 2)
    .filter(([value]) => value > 0)
    .map(([value, unit]) => `${value} ${unit}`)
    .join(' ');
}

/** Why a stopped notebook stopped, for people; null when there is nothing to say (never started). */
export function stopNotice(notebook: Pick<Notebook, 'state' | 'reason' | 'message' | 'idle_timeout_seconds' | 'max_age_seconds'>): string | null {
  if (notebook.state !== 'stopped') return null;
  switch (notebook.reason) {
    case '':
      return null;
    case 'user':
      return 'You stopped your notebook; your files are kept.';
    case 'idle':
      return `Stopped after ${spokenDuration(notebook.idle_timeout_seconds)} without activity; your files are kept.`;
    case 'max_age':
      return `Stopped after running ${spokenDuration(notebook.max_age_seconds)}, the longest a notebook may run; your files are kept.`;
    default:
      return notebook.message ? sentence(notebook.message) : `Stopped (${notebook.reason}); your files are kept.`;
  }
}
