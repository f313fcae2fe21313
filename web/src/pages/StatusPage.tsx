import type { ComponentChildren, VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import * as client from '../api/client';
import type { Health, Readiness, RequestOptions, Version } from '../api/client';
import { ApiError } from '../api/client';
import { formatClock, formatDateTime, formatUptime, shortCommit } from '../format';
import type { PageProps } from '../router';
import { useDocumentTitle } from '../title';

/** The calls this page makes; injectable so tests can render it without a server. */
export interface StatusApi {
  getHealth(options?: RequestOptions): Promise<Health>;
  getReadiness(options?: RequestOptions): Promise<Readiness>;
  getVersion(options?: RequestOptions): Promise<Version>;
}

const defaultApi: StatusApi = client;

export const REFRESH_MS = 5_000;

/** The latest outcome of one call: its value, or why it failed. */
type Outcome<T> = { value: T } | { error: ApiError };

interface Snapshot {
  version: Outcome<Version>;
  health: Outcome<Health>;
  readiness: Outcome<Readiness>;
  updatedAt: Date;
}

function toApiError(reason: unknown): ApiError {
  if (reason instanceof ApiError) return reason;
  const message = reason instanceof Error ? reason.message : String(reason);
  return new ApiError(0, 'unknown', message, undefined, { cause: reason });
}

function outcome<T>(result: PromiseSettledResult<T>): Outcome<T> {
  return result.status === 'fulfilled' ? { value: result.value } : { error: toApiError(result.reason) };
}

function isAbort(err: unknown): boolean {
  return err instanceof Error && err.name === 'AbortError';
}

/** Loads all three endpoints now and every `refreshMs` after each load completes. */
function useStatus(api: StatusApi, refreshMs: number): Snapshot | null {
  const [snapshot, setSnapshot] = useState<Snapshot | null>(null);

  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let controller: AbortController | undefined;

    const load = async () => {
      controller = new AbortController();
      const options = { signal: controller.signal };
      const [version, health, readiness] = await Promise.allSettled([
        api.getVersion(options),
        api.getHealth(options),
        api.getReadiness(options),
      ]);
      if (stopped) return;
      const aborted = [version, health, readiness].some((r) => r.status === 'rejected' && isAbort(r.reason));
      if (!aborted) {
        setSnapshot({
          version: outcome(version),
          health: outcome(health),
          readiness: outcome(readiness),
          updatedAt: new Date(),
        });
      }
      timer = setTimeout(() => void load(), refreshMs);
    };

    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
      controller?.abort();
    };
  }, [api, refreshMs]);

  return snapshot;
}

type Tone = 'ok' | 'bad' | 'unknown';

function Indicator({ tone, children, testId }: { tone: Tone; children: ComponentChildren; testId: string }) {
  return (
    <span class={`indicator indicator--${tone}`} data-testid={testId} data-tone={tone}>
      <span class="indicator__dot" aria-hidden="true" />
      <span class="indicator__label">{children}</span>
    </span>
  );
}

function Card({ title, testId, children }: { title: string; testId: string; children: ComponentChildren }) {
  return (
    <section class="card" data-testid={testId} aria-labelledby={`${testId}-title`}>
      <h2 class="card__title" id={`${testId}-title`}>
        {title}
      </h2>
      {children}
    </section>
  );
}

function CardError({ error, testId }: { error: ApiError; testId: string }) {
  // An unreachable server is explained once, in the page banner.
  if (error.isNetworkError) {
    return (
      <p class="card__muted" data-testid={testId}>
        No answer
      </p>
    );
  }
  return (
    <p class="card__error" data-testid={testId}>
      {error.message}
    </p>
  );
}

function VersionCard({ outcome }: { outcome: Outcome<Version> }) {
  return (
    <Card title="Version" testId="version-card">
      {'error' in outcome ? (
        <CardError error={outcome.error} testId="version-error" />
      ) : (
        <dl class="facts">
          <dt>Version</dt>
          <dd class="facts__big" data-testid="version">
            {outcome.value.version}
          </dd>
          <dt>Commit</dt>
          <dd>
            <code data-testid="commit" title={outcome.value.commit}>
              {shortCommit(outcome.value.commit)}
            </code>
          </dd>
        </dl>
      )}
    </Card>
  );
}

function HealthCard({ outcome }: { outcome: Outcome<Health> }) {
  if ('error' in outcome) {
    return (
      <Card title="Health" testId="health-card">
        <Indicator tone="bad" testId="health-state">
          {outcome.error.isNetworkError ? 'Unreachable' : 'Down'}
        </Indicator>
        <CardError error={outcome.error} testId="health-error" />
      </Card>
    );
  }
  const health = outcome.value;
  const up = health.status === 'ok';
  return (
    <Card title="Health" testId="health-card">
      <Indicator tone={up ? 'ok' : 'bad'} testId="health-state">
        {up ? 'Up' : health.status}
      </Indicator>
      <dl class="facts">
        <dt>Uptime</dt>
        <dd class="facts__big" data-testid="uptime">
          {formatUptime(health.uptime_seconds)}
        </dd>
        <dt>Started</dt>
        <dd>
          <time dateTime={health.started_at} title={health.started_at} data-testid="started-at">
            {formatDateTime(health.started_at)}
          </time>
        </dd>
      </dl>
    </Card>
  );
}

function ReadinessCard({ outcome }: { outcome: Outcome<Readiness> }) {
  if ('error' in outcome) {
    return (
      <Card title="Readiness" testId="readiness-card">
        <Indicator tone="unknown" testId="readiness-state">
          Unknown
        </Indicator>
        <CardError error={outcome.error} testId="readiness-error" />
      </Card>
    );
  }
  const readiness = outcome.value;
  const ready = readiness.status === 'ready';
  const checks = Object.entries(readiness.checks ?? {});
  return (
    <Card title="Readiness" testId="readiness-card">
      <Indicator tone={ready ? 'ok' : 'bad'} testId="readiness-state">
        {ready ? 'Ready' : 'Not ready'}
      </Indicator>
      {checks.length > 0 && (
        <ul class="checks" data-testid="readiness-checks">
          {checks.map(([name, state]) => (
            <li class="checks__item" key={name} data-testid={`check-${name}`}>
              <span class="checks__name">{name}</span>
              <Indicator tone={state === 'ok' ? 'ok' : 'bad'} testId={`check-${name}-state`}>
                {state}
              </Indicator>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}

export interface StatusPageProps extends Partial<PageProps> {
  api?: StatusApi;
  refreshMs?: number;
}

/** The server's version, liveness and readiness, refreshed every few seconds. */
export function StatusPage({ api = defaultApi, refreshMs = REFRESH_MS }: StatusPageProps): VNode {
  useDocumentTitle('Status');
  const snapshot = useStatus(api, refreshMs);
  const seconds = Math.round(refreshMs / 1000);
  const unreachable = snapshot !== null && 'error' in snapshot.health && snapshot.health.error.isNetworkError;

  return (
    <section class="page" data-testid="status-page">
      <header class="page__header">
        <h1 class="page__title">Status</h1>
        {snapshot && (
          <p class="page__meta" data-testid="last-updated">
            Checked {formatClock(snapshot.updatedAt)} · refreshes every {seconds} s
          </p>
        )}
      </header>

      {unreachable && (
        <div class="banner banner--error" role="alert" data-testid="status-error">
          <strong>Cannot reach the PaddleCloud server.</strong> Retrying every {seconds} s.
        </div>
      )}

      {snapshot === null ? (
        <p class="loading" data-testid="status-loading" aria-live="polite">
          Loading status…
        </p>
      ) : (
        <div class="cards">
          <VersionCard outcome={snapshot.version} />
          <HealthCard outcome={snapshot.health} />
          <ReadinessCard outcome={snapshot.readiness} />
        </div>
      )}
    </section>
  );
}
