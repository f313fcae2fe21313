// /notebook: the signed-in user's private Jupyter (docs/notebooks.md). A visit starts a notebook that
// is stopped, unless its user stopped it or it failed; while it starts the page shows the step it is
// at, asking every 500 ms; once a start made from this visit is running, the browser goes on to Jupyter
// through the handoff (same tab). A notebook that was already running gets a card with Open Jupyter,
// Stop and Restart; a failed one its reason, the end of its log and Restart.
import type { VNode } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { ApiError } from '../../api/client';
import type { Notebook, NotebookApi, NotebookResources, ResourcesInput } from '../../api/notebook';
import { notebookApi, notebookHandoffUrl } from '../../api/notebook';
import type { UsageApi } from '../../api/usage';
import { usageApi } from '../../api/usage';
import { ConfirmDialog, DialogCloseButton, ModalDialog } from '../../dialog';
import { ErrorBanner, InfoBanner, isAbort, toApiError, useAction } from '../../forms';
import { formatUnix } from '../../format';
import type { SignedInPageProps } from '../../session';
import { useDocumentTitle } from '../../title';
import { useNow, usePolling } from '../jobs/common';
import { spokenDuration, START_STEPS, startStep, startsOnVisit, stopNotice } from './model';
import { ResourcesForm } from './ResourcesForm';
import { NAV_REFRESH_MS, notebookTone, publishNotebookState } from './status';

/** How often the page asks while the notebook starts. */
export const STARTING_REFRESH_MS = 500;

export interface NotebookPageProps extends SignedInPageProps {
  api?: NotebookApi;
  quota?: Pick<UsageApi, 'getQuota'>;
  /** Sends the browser to a URL (tests record it). */
  openUrl?: (url: string) => void;
}

const openInThisTab = (url: string) => window.location.assign(url);

type Change = (api: NotebookApi) => Promise<Notebook>;

/**
 * The notebook as last read or changed. A read that was asked before a change (a start, a stop) is
 * dropped, so a slow poll never shows the state from before the change. `change` runs a start, stop
 * or restart; `startedAt` is when this visit last asked to start it (ms), and `startedHere` becomes
 * true once the server took that start.
 */
function useNotebook(api: NotebookApi) {
  const [notebook, setNotebook] = useState<Notebook | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [startedAt, setStartedAt] = useState<number | null>(null);
  const [startedHere, setStartedHere] = useState(false);
  const changes = useRef(0);
  const show = (next: Notebook) => {
    setNotebook(next);
    setError(null);
    publishNotebookState(next.state);
  };
  const load = useCallback(
    async (signal?: AbortSignal) => {
      const asked = changes.current;
      try {
        const read = await api.getNotebook(signal ? { signal } : undefined);
        if (asked === changes.current) show(read);
      } catch (err) {
        if (!isAbort(err)) setError(toApiError(err));
      }
    },
    [api],
  );
  const change = async (run: Change, starts: boolean) => {
    changes.current++;
    setStartedAt(starts ? Date.now() : null);
    setStartedHere(false);
    try {
      show(await run(api));
      setStartedHere(starts);
    } catch (err) {
      setStartedAt(null);
      throw err;
    }
  };
  return { notebook, error, load, change, startedAt, startedHere };
}

export function NotebookPage({ api = notebookApi, quota = usageApi, openUrl = openInThisTab }: NotebookPageProps): VNode {
  useDocumentTitle('Notebook');
  const { notebook, error, load, change, startedAt, startedHere } = useNotebook(api);
  const autoStart = useAction();
  const [notice, setNotice] = useState<string | null>(null);
  const opened = useRef(false);
  const decided = useRef(false);

  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);

  // The first status decides whether this visit starts the notebook.
  useEffect(() => {
    if (!notebook || decided.current) return;
    decided.current = true;
    if (!startsOnVisit(notebook)) return;
    setNotice(stopNotice(notebook));
    void autoStart.run(() => change((a) => a.startNotebook(), true));
  }, [notebook]);

  const starting = notebook?.state === 'starting' || autoStart.pending;
  usePolling(load, starting ? STARTING_REFRESH_MS : NAV_REFRESH_MS, notebook !== null);

  const handoff = notebook ? notebookHandoffUrl(notebook.url) : '';
  const goToJupyter = notebook?.state === 'running' && startedHere;
  useEffect(() => {
    if (!goToJupyter || opened.current) return;
    opened.current = true;
    openUrl(handoff);
  }, [goToJupyter]);

  const start = (kind: 'start' | 'restart') => (resources: ResourcesInput) => {
    opened.current = false;
    autoStart.reset();
    return change((a) => (kind === 'start' ? a.startNotebook(resources) : a.restartNotebook(resources)), true);
  };
  const stop = () => change((a) => a.stopNotebook(), false);

  let body: VNode;
  if (notebook === null) {
    body = error ? (
      <ErrorBanner error={error} prefix="Could not read your notebook." testId="notebook-error" onRetry={() => void load()} />
    ) : (
      <p class="loading" data-testid="notebook-loading">
        Loading…
      </p>
    );
  } else if (goToJupyter) {
    body = <Opening href={handoff} />;
  } else if (starting) {
    body = <StartProgress notebook={notebook} since={startedAt ?? (notebook.started_at ?? Date.now() / 1000) * 1000} notice={notice} />;
  } else if (notebook.state === 'running') {
    body = <RunningCard notebook={notebook} href={handoff} quota={quota} onStop={stop} onRestart={start('restart')} />;
  } else if (notebook.state === 'failed') {
    body = <FailedCard notebook={notebook} quota={quota} onRestart={start('restart')} />;
  } else {
    body = <StoppedCard notebook={notebook} quota={quota} error={autoStart.error} onStart={start('start')} />;
  }
  return (
    <section class="page" data-testid="notebook-page" data-state={notebook?.state ?? ''}>
      <header class="page__header">
        <h1 class="page__title">Notebook</h1>
        <p class="page__subtitle">Your private Jupyter. Its files are your workspace; the code in it can submit jobs.</p>
      </header>
      {notebook && error && <ErrorBanner error={error} prefix="Could not refresh your notebook." testId="notebook-error" />}
      {body}
    </section>
  );
}

/** The steps of a start with the current one marked, the wait reason and the seconds so far. */
function StartProgress({ notebook, since, notice }: { notebook: Notebook; since: number; notice: string | null }): VNode {
  const now = useNow(1_000);
  const step = startStep(notebook);
  const at = START_STEPS.findIndex((s) => s.step === step);
  const elapsed = Math.max(0, Math.floor(now - since / 1000));
  return (
    <section class="card notebook-card" aria-labelledby="notebook-progress-title" data-testid="notebook-progress" data-step={step}>
      {notice && <InfoBanner testId="notebook-notice">{notice}</InfoBanner>}
      <h2 class="notebook-card__title" id="notebook-progress-title">
        Starting your notebook…
      </h2>
      <ol class="notebook-steps">
        {START_STEPS.map((s, i) => (
          <li
            key={s.step}
            class={`notebook-steps__step notebook-steps__step--${i < at ? 'done' : i === at ? 'current' : 'todo'}`}
            aria-current={i === at ? 'step' : undefined}
            data-testid={`notebook-step-${s.step}`}
          >
            {s.label}
            {s.step === 'resources' && i === at && notebook.reason && (
              <span class="muted" data-testid="notebook-wait-reason">
                {' '}
                ({notebook.reason})
              </span>
            )}
          </li>
        ))}
      </ol>
      <p class="muted">
        {/* Announced when the step changes, not at every second. */}
        <span role="status" data-testid="notebook-step-now">
          {START_STEPS[at]!.label}
        </span>{' '}
        · <span data-testid="notebook-elapsed">{elapsed} s</span>
      </p>
    </section>
  );
}

/** Shown while the browser goes on to Jupyter; the link is there should it not. */
function Opening({ href }: { href: string }): VNode {
  return (
    <section class="card notebook-card" data-testid="notebook-opening">
      <p role="status">Your notebook is ready. Opening Jupyter…</p>
      <a class="button" href={href} data-testid="notebook-open">
        Open Jupyter
      </a>
    </section>
  );
}

function resourcesText(r: NotebookResources): string {
  return `${r.cpu} CPU, ${r.memory} memory, ${r.gpus} GPU${r.gpus === 1 ? '' : 's'}`;
}

function StateHeading({ notebook, title }: { notebook: Notebook; title: string }): VNode {
  return (
    <div class="notebook-card__head">
      <h2 class="notebook-card__title" id="notebook-card-title">
        {title}
      </h2>
      <span class={`badge badge--${notebookTone(notebook.state)}`} data-testid="notebook-state" data-state={notebook.state}>
        <span class="badge__dot" aria-hidden="true" />
        {notebook.state}
      </span>
    </div>
  );
}

type Start = (resources: ResourcesInput) => Promise<void>;

function RunningCard({ notebook, href, quota, onStop, onRestart }: { notebook: Notebook; href: string; quota: Pick<UsageApi, 'getQuota'>; onStop: () => Promise<void>; onRestart: Start }): VNode {
  const [dialog, setDialog] = useState<'stop' | 'restart' | null>(null);
  const stopping = useAction();
  const idle = notebook.idle_timeout_seconds;
  return (
    <section class="card notebook-card" aria-labelledby="notebook-card-title" data-testid="notebook-running">
      <StateHeading notebook={notebook} title="Your notebook is running" />
      <dl class="facts">
        <dt>Resources</dt>
        <dd data-testid="notebook-resources">{resourcesText(notebook.resources)}</dd>
        <dt>Started</dt>
        <dd data-testid="notebook-started-at">{formatUnix(notebook.started_at)}</dd>
        <dt>Last activity</dt>
        <dd data-testid="notebook-last-activity">{formatUnix(notebook.last_activity_at)}</dd>
        <dt>Idle timeout</dt>
        <dd data-testid="notebook-idle-timeout">{idle > 0 ? `stops after ${spokenDuration(idle)} without activity` : 'never stops for idleness'}</dd>
        {notebook.max_age_seconds > 0 && (
          <>
            <dt>Longest run</dt>
            <dd>{spokenDuration(notebook.max_age_seconds)}</dd>
          </>
        )}
      </dl>
      <div class="actions notebook-card__actions">
        <a class="button" href={href} data-testid="notebook-open">
          Open Jupyter
        </a>
        <button type="button" class="button button--secondary" onClick={() => setDialog('restart')} data-testid="notebook-restart">
          Restart
        </button>
        <button type="button" class="button button--danger" onClick={() => setDialog('stop')} data-testid="notebook-stop">
          Stop
        </button>
      </div>
      {dialog === 'stop' && (
        <ConfirmDialog
          title="Stop your notebook?"
          confirmLabel="Stop notebook"
          pendingLabel="Stopping…"
          danger
          pending={stopping.pending}
          error={stopping.error}
          onConfirm={() => void stopping.run(onStop)}
          onCancel={() => setDialog(null)}
          testId="notebook-stop-dialog"
        >
          <p>Its kernels end and unsaved work in them is lost. Your files stay in your workspace.</p>
        </ConfirmDialog>
      )}
      {dialog === 'restart' && (
        <ModalDialog title="Restart your notebook?" testId="notebook-restart-dialog" onCancel={() => setDialog(null)}>
          <p class="dialog__body">Its kernels end and unsaved work in them is lost. It starts again with these resources.</p>
          <ResourcesForm
            initial={notebook.resources}
            defaults={notebook.defaults}
            submitLabel="Restart notebook"
            pendingLabel="Restarting…"
            onSubmit={onRestart}
            quota={quota}
            testId="notebook-restart-form"
            extraActions={<DialogCloseButton testId="notebook-restart-dialog" onClose={() => setDialog(null)} />}
          />
        </ModalDialog>
      )}
    </section>
  );
}

function FailedCard({ notebook, quota, onRestart }: { notebook: Notebook; quota: Pick<UsageApi, 'getQuota'>; onRestart: Start }): VNode {
  return (
    <section class="card notebook-card" aria-labelledby="notebook-card-title" data-testid="notebook-failed">
      <StateHeading notebook={notebook} title="Your notebook failed" />
      <p data-testid="notebook-failure">
        {notebook.reason && <strong data-testid="notebook-reason">{notebook.reason}: </strong>}
        {notebook.message || 'Jupyter stopped and did not come back.'}
      </p>
      {notebook.log_tail && (
        <>
          <h3 class="notebook-card__subtitle" id="notebook-log-title">
            The end of its log
          </h3>
          <pre class="notebook-log" tabIndex={0} role="region" aria-labelledby="notebook-log-title" data-testid="notebook-log">
            {notebook.log_tail}
          </pre>
        </>
      )}
      <ResourcesForm
        initial={notebook.resources}
        defaults={notebook.defaults}
        submitLabel="Restart"
        pendingLabel="Restarting…"
        onSubmit={onRestart}
        quota={quota}
        testId="notebook-restart-form"
      />
    </section>
  );
}

function StoppedCard({ notebook, quota, error, onStart }: { notebook: Notebook; quota: Pick<UsageApi, 'getQuota'>; error: ApiError | null; onStart: Start }): VNode {
  const notice = stopNotice(notebook);
  return (
    <section class="card notebook-card" aria-labelledby="notebook-card-title" data-testid="notebook-stopped">
      {error && <ErrorBanner error={error} prefix="Could not start your notebook." testId="notebook-start-error" />}
      <StateHeading notebook={notebook} title="Your notebook is stopped" />
      {notice && (
        <p class="muted" data-testid="notebook-stop-notice">
          {notice}
        </p>
      )}
      <ResourcesForm
        initial={notebook.resources}
        defaults={notebook.defaults}
        submitLabel="Start"
        pendingLabel="Starting…"
        onSubmit={onStart}
        quota={quota}
        testId="notebook-start-form"
      />
    </section>
  );
}
