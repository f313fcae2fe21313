import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Account, AccountApi } from '../api/account';
import { accountApi } from '../api/account';
import * as client from '../api/client';
import type { ApiError, Health, Readiness, Version } from '../api/client';
import { errorText, isAbort, toApiError } from '../forms';
import { formatUnixDate, formatUptime, plural, shortCommit } from '../format';
import type { SignedInPageProps } from '../session';
import { useDocumentTitle } from '../title';
import type { StatusApi } from './StatusPage';

export type DashboardApi = Pick<AccountApi, 'getAccount'> & StatusApi;

const defaultApi: DashboardApi = {
  getAccount: accountApi.getAccount,
  getHealth: client.getHealth,
  getReadiness: client.getReadiness,
  getVersion: client.getVersion,
};

type Loaded<T> = { value: T } | { error: ApiError } | null;

interface ServerSummary {
  version: Version | null;
  health: Health | null;
  readiness: Readiness | null;
  error: ApiError | null;
}

export interface DashboardPageProps extends SignedInPageProps {
  api?: DashboardApi;
}

/** The Job Dashboard route: for now the account's home (who you are, the account, the server). */
export function DashboardPage({ user, api = defaultApi }: DashboardPageProps): VNode {
  useDocumentTitle('Dashboard');
  const [account, setAccount] = useState<Loaded<Account>>(null);
  const [server, setServer] = useState<ServerSummary | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    const options = { signal: controller.signal };
    api.getAccount(options).then(
      (value) => setAccount({ value }),
      (err) => {
        if (!isAbort(err)) setAccount({ error: toApiError(err) });
      },
    );
    void Promise.allSettled([api.getVersion(options), api.getHealth(options), api.getReadiness(options)]).then(
      ([version, health, readiness]) => {
        if (controller.signal.aborted) return;
        const failed = [version, health, readiness].find((r) => r.status === 'rejected');
        setServer({
          version: version.status === 'fulfilled' ? version.value : null,
          health: health.status === 'fulfilled' ? health.value : null,
          readiness: readiness.status === 'fulfilled' ? readiness.value : null,
          error: failed && failed.status === 'rejected' ? toApiError(failed.reason) : null,
        });
      },
    );
    return () => controller.abort();
  }, [api]);

  const master = user.role === 'master';
  const name = user.display_name || user.email;

  return (
    <section class="page" data-testid="dashboard-page">
      <header class="page__header">
        <div>
          <h1 class="page__title" data-testid="dashboard-greeting">
            Welcome, {name}
          </h1>
          <p class="page__subtitle">
            Signed in as <strong data-testid="dashboard-email">{user.email}</strong>
          </p>
        </div>
      </header>

      <div class="cards">
        <section class="card" data-testid="account-card" aria-labelledby="account-card-title">
          <h2 class="card__title" id="account-card-title">
            Account
          </h2>
          <dl class="facts">
            <dt>Account ID</dt>
            <dd class="facts__big">
              <code class="code--plain" data-testid="dashboard-account-id">
                {user.account_id}
              </code>
            </dd>
            <dt>Your role</dt>
            <dd data-testid="dashboard-role">{master ? 'Master user' : 'Member'}</dd>
            <dt>Members</dt>
            <dd data-testid="dashboard-members">
              {account === null
                ? '…'
                : 'value' in account
                  ? plural(account.value.members, 'member')
                  : '—'}
            </dd>
            {account && 'value' in account && (
              <>
                <dt>Created</dt>
                <dd data-testid="dashboard-created">{formatUnixDate(account.value.created_at)}</dd>
              </>
            )}
          </dl>
          {account && 'error' in account && (
            <p class="card__error" data-testid="dashboard-account-error">
              {account.error.message}
            </p>
          )}
          <p class="card__links">
            <a href="/settings/members" data-testid="dashboard-members-link">
              {master ? 'Manage members' : 'See members'}
            </a>
          </p>
        </section>

        <ServerCard summary={server} />

        <section class="card" data-testid="access-card" aria-labelledby="access-card-title">
          <h2 class="card__title" id="access-card-title">
            Access
          </h2>
          <ul class="link-list">
            <li>
              <a href="/settings/tokens">Create an API token</a>
              <span class="muted"> for the command line and the Python SDK</span>
            </li>
            <li>
              <a href="/settings/keys">Download SSL keys</a>
              <span class="muted"> for client-certificate sign-in</span>
            </li>
            {master && (
              <li>
                <a href="/settings/members">Invite your team</a>
                <span class="muted"> to this account</span>
              </li>
            )}
            <li>
              <a href="/settings/password">Change your password</a>
            </li>
          </ul>
        </section>
      </div>
    </section>
  );
}

function ServerCard({ summary }: { summary: ServerSummary | null }): VNode {
  let tone: 'ok' | 'bad' | 'unknown' = 'unknown';
  let label = 'Checking…';
  if (summary) {
    if (summary.readiness) {
      tone = summary.readiness.status === 'ready' ? 'ok' : 'bad';
      label = summary.readiness.status === 'ready' ? 'Ready' : 'Not ready';
    } else {
      tone = 'bad';
      label = summary.error?.isNetworkError ? 'Unreachable' : 'Unknown';
    }
  }
  return (
    <section class="card" data-testid="server-card" aria-labelledby="server-card-title">
      <h2 class="card__title" id="server-card-title">
        Server
      </h2>
      <span class={`indicator indicator--${tone}`} data-testid="dashboard-server-state" data-tone={tone}>
        <span class="indicator__dot" aria-hidden="true" />
        <span class="indicator__label">{label}</span>
      </span>
      {summary && (
        <dl class="facts">
          <dt>Version</dt>
          <dd data-testid="dashboard-version">
            {summary.version ? (
              <>
                {summary.version.version} <code title={summary.version.commit}>{shortCommit(summary.version.commit)}</code>
              </>
            ) : (
              '—'
            )}
          </dd>
          <dt>Uptime</dt>
          <dd data-testid="dashboard-uptime">{summary.health ? formatUptime(summary.health.uptime_seconds) : '—'}</dd>
        </dl>
      )}
      {summary?.error && (
        <p class="card__error" data-testid="dashboard-server-error">
          {errorText(summary.error)}
        </p>
      )}
      <p class="card__links">
        <a href="/status">Server status details</a>
      </p>
    </section>
  );
}
