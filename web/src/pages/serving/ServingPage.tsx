// /serving: the account's serving instances (docs/serving.md) with their replicas, QPS, p99 latency,
// error rate and URL, refreshed every few seconds; row actions scale, deactivate/activate, delete and
// logs (the log console docks at the bottom); Launch opens the launch modal.
import type { VNode } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { ApiError } from '../../api/client';
import type { ServingApi, ServingInstance } from '../../api/serving';
import { servingApi } from '../../api/serving';
import { ErrorBanner, isAbort, toApiError } from '../../forms';
import { formatAge } from '../../format';
import { ActionsMenu } from '../../menu';
import { navigate } from '../../router';
import type { SignedInPageProps } from '../../session';
import type { Column } from '../../table';
import { DataTable } from '../../table';
import { useDocumentTitle } from '../../title';
import { useNow, usePolling } from '../jobs/common';
import type { OpenEventSource } from '../jobs/LogConsole';
import type { InstanceAction } from './common';
import { CopyText, DeleteDialog, instancePagePath, ReplicaLogs, ScaleDialog, ServingBadge, toggleActive } from './common';
import type { LaunchFilesApi } from './LaunchDialog';
import { LaunchDialog } from './LaunchDialog';
import { formatErrorRate, formatLatency, formatQps, gatewayUrl } from './model';

/** How often the table asks again. */
export const LIST_REFRESH_MS = 3_000;

export interface ServingPageProps extends SignedInPageProps {
  api?: ServingApi;
  files?: LaunchFilesApi;
  openEventSource?: OpenEventSource;
}

function useInstances(api: ServingApi) {
  const [instances, setInstances] = useState<ServingInstance[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const load = useCallback(
    async (signal?: AbortSignal) => {
      try {
        setInstances(await api.listInstances(signal ? { signal } : undefined));
        setError(null);
      } catch (err) {
        if (!isAbort(err)) setError(toApiError(err));
      }
    },
    [api],
  );
  useEffect(() => {
    const controller = new AbortController();
    void load(controller.signal);
    return () => controller.abort();
  }, [load]);
  usePolling(load, LIST_REFRESH_MS, instances !== null);
  const replace = (next: ServingInstance) => setInstances((list) => list?.map((i) => (i.name === next.name ? next : i)) ?? null);
  return { instances, error, load, replace };
}

export function ServingPage({ api = servingApi, files, openEventSource }: ServingPageProps): VNode {
  useDocumentTitle('Serving');
  const { instances, error, load, replace } = useInstances(api);
  const [launching, setLaunching] = useState(false);
  const [dialog, setDialog] = useState<{ kind: InstanceAction; instance: ServingInstance } | null>(null);
  const [logs, setLogs] = useState<ServingInstance | null>(null);
  const [actionError, setActionError] = useState<ApiError | null>(null);
  const toggle = async (instance: ServingInstance) => {
    setActionError(null);
    try {
      replace(await toggleActive(api, instance));
    } catch (err) {
      setActionError(toApiError(err));
    }
  };
  const launchButton = (
    <button type="button" class="button" onClick={() => setLaunching(true)} data-testid="serving-launch">
      Launch
    </button>
  );
  return (
    <section class={logs ? 'page page--wide page--with-console' : 'page page--wide'} data-testid="serving-page">
      <header class="page__header">
        <div>
          <h1 class="page__title">Serving</h1>
          <p class="page__subtitle">Trained models answering HTTP inference requests, with their load and latency.</p>
        </div>
        {instances?.length !== 0 && launchButton}
      </header>
      {error && <ErrorBanner error={error} prefix={instances ? 'Could not refresh the instances.' : 'Could not load the instances.'} testId="serving-error" onRetry={() => void load()} />}
      {actionError && <ErrorBanner error={actionError} testId="serving-action-error" />}
      {instances === null ? (
        !error && (
          <p class="loading" data-testid="serving-loading">
            Loading…
          </p>
        )
      ) : instances.length === 0 ? (
        <EmptyServing launch={launchButton} />
      ) : (
        <InstanceTable instances={instances} logsOf={logs?.name ?? null} onAction={(kind, instance) => setDialog({ kind, instance })} onToggle={(i) => void toggle(i)} onLogs={setLogs} />
      )}
      {launching && (
        <LaunchDialog
          api={api}
          {...(files ? { files } : {})}
          onCancel={() => setLaunching(false)}
          onLaunched={(instance) => {
            setLaunching(false);
            navigate(instancePagePath(instance.name));
          }}
        />
      )}
      {dialog?.kind === 'scale' && (
        <ScaleDialog
          instance={dialog.instance}
          api={api}
          onCancel={() => setDialog(null)}
          onDone={(next) => {
            replace(next);
            setDialog(null);
          }}
        />
      )}
      {dialog?.kind === 'delete' && (
        <DeleteDialog
          instance={dialog.instance}
          api={api}
          onCancel={() => setDialog(null)}
          onDone={() => {
            if (logs?.name === dialog.instance.name) setLogs(null);
            setDialog(null);
            void load();
          }}
        />
      )}
      {logs && <ReplicaLogs key={logs.name} instance={logs} api={api} onClose={() => setLogs(null)} linkToInstance openEventSource={openEventSource} />}
    </section>
  );
}

function EmptyServing({ launch }: { launch: VNode }): VNode {
  return (
    <div class="empty" data-testid="serving-empty">
      <p class="empty__title">No serving instances yet.</p>
      <p class="muted">
        A serving instance answers inference requests with a trained model: pick an ONNX model, a model.py you write here, or a command of your own, choose
        how many CPUs to spread over replicas, and get a URL that speaks the Open Inference Protocol (KServe v2), so KServe and Triton clients work
        unchanged. Its requests per second, latency and errors are drawn live.
      </p>
      {launch}
    </div>
  );
}

const COLUMNS: Column[] = [
  'Name',
  { label: 'Model', class: 'table__secondary' },
  { label: 'Replicas', class: 'num', title: 'Ready / desired' },
  { label: 'QPS', class: 'num table__secondary', title: 'Requests per second, last 10 s' },
  { label: 'p99', class: 'num table__secondary', title: '99th percentile latency, last 10 s' },
  { label: 'Errors', class: 'num table__secondary', title: 'Share of requests that failed, last 10 s' },
  { label: 'URL', class: 'table__secondary' },
  { label: 'Age', class: 'table__secondary' },
  'State',
];

function InstanceTable({
  instances,
  logsOf,
  onAction,
  onToggle,
  onLogs,
}: {
  instances: ServingInstance[];
  logsOf: string | null;
  onAction: (kind: InstanceAction, instance: ServingInstance) => void;
  onToggle: (instance: ServingInstance) => void;
  onLogs: (instance: ServingInstance) => void;
}): VNode {
  const now = useNow(1_000);
  return (
    <DataTable columns={COLUMNS} actions class="jobs-table serving-table" testId="serving-table">
      {instances.map((instance) => {
        const inactive = instance.state === 'inactive';
        return (
          <tr key={instance.name} class={logsOf === instance.name ? 'jobs-table__row jobs-table__row--selected' : 'jobs-table__row'} data-testid="serving-row" data-name={instance.name} data-state={instance.state}>
            <td class="jobs-table__name">
              <a href={instancePagePath(instance.name)} data-testid="serving-link">
                {instance.name}
              </a>
              <span class="table__sub">
                <span data-testid="serving-row-runtime">{instance.runtime}</span>
                {instance.public && ' · public'}
              </span>
            </td>
            <td class="table__secondary" data-testid="serving-row-model">
              <code>{instance.model}</code>
            </td>
            <td class="num" data-testid="serving-replicas">
              {instance.replicas.ready}/{instance.replicas.desired}
            </td>
            <td class="num table__secondary" data-testid="serving-qps">
              {formatQps(instance.stats?.qps)}
            </td>
            <td class="num table__secondary" data-testid="serving-p99">
              {formatLatency(instance.stats?.p99_ms)}
            </td>
            <td class={(instance.stats?.error_rate ?? 0) > 0 ? 'num num--bad table__secondary' : 'num table__secondary'} data-testid="serving-error-rate">
              {formatErrorRate(instance.stats?.error_rate)}
            </td>
            <td class="table__secondary table__wrap serving-table__url">
              <CopyText text={gatewayUrl(window.location.origin, instance)} shown={instance.url} label={`URL of ${instance.name}`} testId="serving-url" />
            </td>
            <td class="table__secondary" data-testid="serving-age">
              {formatAge(now - instance.created_at)}
            </td>
            <td>
              <ServingBadge instance={instance} />
            </td>
            <td class="table__actions">
              <span class="row-actions">
                <button type="button" class="button button--small button--secondary" onClick={() => onLogs(instance)} aria-pressed={logsOf === instance.name ? 'true' : 'false'} aria-label={`Logs of ${instance.name}`} data-testid="serving-logs">
                  Logs
                </button>
                <ActionsMenu
                  label={`Actions for ${instance.name}`}
                  testId="serving-menu"
                  actions={[
                    { label: 'Details', testId: 'serving-menu-details', href: instancePagePath(instance.name) },
                    ...(inactive ? [] : [{ label: 'Scale…', testId: 'serving-menu-scale', onSelect: () => onAction('scale', instance) }]),
                    { label: inactive ? 'Activate' : 'Deactivate', testId: inactive ? 'serving-menu-activate' : 'serving-menu-deactivate', onSelect: () => onToggle(instance) },
                    { label: 'Delete…', testId: 'serving-menu-delete', danger: true, onSelect: () => onAction('delete', instance) },
                  ]}
                />
              </span>
            </td>
          </tr>
        );
      })}
    </DataTable>
  );
}
