// /serving/<name>: one serving instance: its state, URL and actions (scale, deactivate/activate, public,
// delete), its replicas with their logs in the docked log console, live charts of requests, latency
// percentiles and errors (refreshed every 2 s), and "Try it" with client snippets.
import type { VNode } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { ApiError } from '../../api/client';
import type { ServingApi, ServingInstance, ServingMetrics } from '../../api/serving';
import { servingApi } from '../../api/serving';
import { ErrorBanner, isAbort, toApiError, useAction } from '../../forms';
import { formatSize, formatUnix } from '../../format';
import { navigate } from '../../router';
import type { SignedInPageProps } from '../../session';
import { DataTable } from '../../table';
import { useDocumentTitle } from '../../title';
import { ACTIVE_REFRESH_MS, usePolling } from '../jobs/common';
import type { OpenEventSource } from '../jobs/LogConsole';
import { UsageChart } from '../perf/UsageChart';
import type { InstanceAction } from './common';
import { CopyText, DeleteDialog, ReplicaLogs, ScaleDialog, ServingBadge, toggleActive } from './common';
import { formatErrorRate, formatLatency, formatQps, gatewayUrl, replicaResourcesText, servingCharts } from './model';
import { TryIt } from './TryIt';

/** The charts show this much of the past. */
export const CHART_WINDOW_MS = 5 * 60_000;

export interface InstancePageProps extends SignedInPageProps {
  api?: ServingApi;
  openEventSource?: OpenEventSource;
}

function useInstance(api: ServingApi, name: string) {
  const [instance, setInstance] = useState<ServingInstance | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const load = useCallback(
    async (signal?: AbortSignal) => {
      try {
        setInstance(await api.getInstance(name, signal ? { signal } : undefined));
        setError(null);
      } catch (err) {
        if (!isAbort(err)) setError(toApiError(err));
      }
    },
    [api, name],
  );
  useEffect(() => {
    setInstance(null);
    setError(null);
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);
  usePolling(load, ACTIVE_REFRESH_MS, instance !== null);
  return { instance, setInstance, error, load };
}

function useMetrics(api: ServingApi, name: string, enabled: boolean): ServingMetrics | null {
  const [metrics, setMetrics] = useState<ServingMetrics | null>(null);
  const load = useCallback(
    async (signal?: AbortSignal) => {
      const to = Date.now();
      try {
        setMetrics(await api.getMetrics(name, { from: to - CHART_WINDOW_MS, to, points: 300 }, signal ? { signal } : undefined));
      } catch {
        // The charts keep what they had; the page's own error shows a lost server.
      }
    },
    [api, name],
  );
  useEffect(() => {
    if (!enabled) return;
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load, enabled]);
  usePolling(load, ACTIVE_REFRESH_MS, enabled);
  return metrics;
}

export function InstancePage({ params, api = servingApi, openEventSource }: InstancePageProps): VNode {
  const name = params['name'] ?? '';
  useDocumentTitle(`${name} · Serving`);
  const { instance, setInstance, error, load } = useInstance(api, name);
  const metrics = useMetrics(api, name, instance !== null);
  const [dialog, setDialog] = useState<InstanceAction>(null);
  const [logsOf, setLogsOf] = useState<{ replica: number | undefined; n: number } | null>(null);
  const action = useAction();

  if (instance === null) {
    if (error?.status === 404) return <InstanceNotFound name={name} />;
    return (
      <section class="page" data-testid="serving-instance-page">
        {error ? <ErrorBanner error={error} prefix="Could not load the instance." testId="serving-error" onRetry={() => void load()} /> : <p class="loading">Loading…</p>}
      </section>
    );
  }
  const inactive = instance.state === 'inactive';
  const run = (change: () => Promise<ServingInstance>) => void action.run(async () => setInstance(await change()));
  return (
    <section class={logsOf ? 'page page--wide page--with-console' : 'page page--wide'} data-testid="serving-instance-page" data-state={instance.state}>
      <nav class="breadcrumbs" aria-label="Breadcrumbs">
        <a href="/serving">Serving</a> / <span aria-current="page">{instance.name}</span>
      </nav>
      <header class="page__header">
        <div>
          <h1 class="page__title">
            {instance.name} <ServingBadge instance={instance} testId="serving-instance-state" />
          </h1>
          <p class="page__subtitle">
            <code>{instance.model}</code> · {instance.runtime} · <span data-testid="serving-instance-replicas">{instance.replicas.ready}/{instance.replicas.desired}</span> replicas ready
          </p>
        </div>
        <div class="actions">
          {!inactive && (
            <button type="button" class="button button--secondary" onClick={() => setDialog('scale')} data-testid="serving-scale">
              Scale
            </button>
          )}
          <button type="button" class="button button--secondary" disabled={action.pending} onClick={() => run(() => toggleActive(api, instance))} data-testid={inactive ? 'serving-activate' : 'serving-deactivate'}>
            {inactive ? 'Activate' : 'Deactivate'}
          </button>
          <button type="button" class="button button--danger" onClick={() => setDialog('delete')} data-testid="serving-delete">
            Delete
          </button>
        </div>
      </header>
      {error && <ErrorBanner error={error} prefix="Could not refresh the instance." testId="serving-error" />}
      {action.error && <ErrorBanner error={action.error} testId="serving-action-error" />}
      {(instance.reason || instance.message) && (
        <p class={instance.state === 'failed' ? 'banner banner--error' : 'muted'} data-testid="serving-instance-reason">
          {instance.reason && <strong>{instance.reason}: </strong>}
          {instance.message}
        </p>
      )}
      <Facts instance={instance} pending={action.pending} onPublic={(value) => run(() => api.setPublic(instance.name, value))} />
      <Replicas instance={instance} onLogs={(replica) => setLogsOf((current) => ({ replica, n: (current?.n ?? 0) + 1 }))} />
      <div class="perf-charts" data-testid="serving-charts">
        {metrics ? servingCharts(metrics).map((model) => <UsageChart key={model.spec.id} model={model} zoom={null} onZoom={() => undefined} />) : <p class="loading">Loading the charts…</p>}
      </div>
      <TryIt instance={instance} api={api} />
      {dialog === 'scale' && (
        <ScaleDialog
          instance={instance}
          api={api}
          onCancel={() => setDialog(null)}
          onDone={(next) => {
            setInstance(next);
            setDialog(null);
          }}
        />
      )}
      {dialog === 'delete' && <DeleteDialog instance={instance} api={api} onCancel={() => setDialog(null)} onDone={() => navigate('/serving')} />}
      {logsOf && <ReplicaLogs key={logsOf.n} instance={instance} api={api} initialReplica={logsOf.replica} onClose={() => setLogsOf(null)} linkToInstance={false} openEventSource={openEventSource} />}
    </section>
  );
}

function Facts({ instance, pending, onPublic }: { instance: ServingInstance; pending: boolean; onPublic: (value: boolean) => void }): VNode {
  const { resources: r, stats } = instance;
  return (
    <section class="card" aria-label="Instance" data-testid="serving-facts">
      <dl class="facts">
        <dt>URL</dt>
        <dd>
          <CopyText text={gatewayUrl(window.location.origin, instance)} label="URL" testId="serving-instance-url" />
        </dd>
        <dt>Access</dt>
        <dd>
          <label class="filters__toggle">
            <input type="checkbox" checked={instance.public} disabled={pending} onChange={(e) => onPublic(e.currentTarget.checked)} data-testid="serving-public-toggle" /> Public (anyone
            with the URL; otherwise an API token of the account)
          </label>
        </dd>
        <dt>Each replica</dt>
        <dd data-testid="serving-instance-resources">
          {replicaResourcesText(r, formatSize)}
        </dd>
        <dt>Last 10 s</dt>
        <dd>
          <span data-testid="serving-instance-qps">{formatQps(stats?.qps)}</span> · p50 <span data-testid="serving-instance-p50">{formatLatency(stats?.p50_ms)}</span> · p95{' '}
          {formatLatency(stats?.p95_ms)} · p99 <span data-testid="serving-instance-p99">{formatLatency(stats?.p99_ms)}</span> · errors{' '}
          <span data-testid="serving-instance-error-rate">{formatErrorRate(stats?.error_rate)}</span> · {stats?.in_flight ?? 0} in flight
        </dd>
        <dt>Launched</dt>
        <dd>
          {formatUnix(instance.created_at)} by {instance.owner}
        </dd>
      </dl>
    </section>
  );
}

function Replicas({ instance, onLogs }: { instance: ServingInstance; onLogs: (replica: number | undefined) => void }): VNode {
  return (
    <section class="card" aria-labelledby="serving-replicas-title">
      <div class="notebook-card__head">
        <h2 class="card__title" id="serving-replicas-title">
          Replicas
        </h2>
        <button type="button" class="button button--small button--secondary" onClick={() => onLogs(undefined)} data-testid="serving-logs-all">
          Logs
        </button>
      </div>
      {instance.replica_list.length === 0 ? (
        <p class="muted" data-testid="serving-no-replicas">
          {instance.state === 'inactive' ? 'Deactivated: no replica runs. Activate it to serve again.' : 'No replica yet.'}
        </p>
      ) : (
        <DataTable columns={['Replica', 'Phase', { label: 'Restarts', class: 'num' }, 'Reason']} actions testId="serving-replica-table">
          {instance.replica_list.map((replica) => (
            <tr key={replica.index} data-testid="serving-replica" data-index={replica.index} data-phase={replica.phase}>
              <td>{replica.name}</td>
              <td data-testid="serving-replica-phase">
                {replica.phase}
                {replica.draining && <span class="table__sub">draining</span>}
              </td>
              <td class="num">{replica.restarts}</td>
              <td class="muted">{[replica.reason, replica.message].filter(Boolean).join(': ') || '—'}</td>
              <td class="table__actions">
                <button type="button" class="button button--small button--secondary" onClick={() => onLogs(replica.index)} aria-label={`Logs of ${replica.name}`} data-testid="serving-replica-logs">
                  Logs
                </button>
              </td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}

export function InstanceNotFound({ name }: { name: string }): VNode {
  return (
    <section class="page" data-testid="serving-not-found">
      <h1 class="page__title">No such serving instance</h1>
      <p class="muted">
        There is no serving instance <code>{name}</code> in your account, or you may not see it.
      </p>
      <p>
        <a class="button" href="/serving">
          Back to Serving
        </a>
      </p>
    </section>
  );
}
