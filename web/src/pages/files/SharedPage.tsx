// Sharing (/shared): what other accounts shared with this one (opened read-only in the file browser
// at shared/<owner>/<path>), and what this account shares: with other accounts or as public links,
// each with Revoke.
import type { VNode } from 'preact';
import type { FilesApi, Share } from '../../api/files';
import { RevokeDialog, useConfirmation } from '../../dialog';
import { formatDateTime, formatUnix, formatUnixDate, isoFromUnix } from '../../format';
import { ErrorBanner } from '../../forms';
import type { SignedInPageProps } from '../../session';
import { DataTable, RowButton } from '../../table';
import { useDocumentTitle } from '../../title';
import { useLoad } from '../settings/common';
import { filesApi } from '../../api/files';
import { ShareTarget } from './dialogs';
import { FileIcon, FolderIcon } from './FileTable';
import { browserHref } from './paths';

export type SharedApi = Pick<FilesApi, 'listSharedWithMe' | 'listShares' | 'deleteShare'>;

export interface SharedPageProps extends SignedInPageProps {
  api?: SharedApi;
}

function When({ at }: { at: number }): VNode {
  return (
    <time dateTime={isoFromUnix(at)} title={formatDateTime(isoFromUnix(at))}>
      {formatUnixDate(at)}
    </time>
  );
}

export function SharedPage({ api = filesApi }: SharedPageProps): VNode {
  useDocumentTitle('Shared with me');
  const withMe = useLoad((options) => api.listSharedWithMe(options));
  const byUs = useLoad((options) => api.listShares(options));
  const revoking = useConfirmation<Share>();

  return (
    <section class="page page--wide files-page" data-testid="shared-page">
      <header class="page__header">
        <div>
          <h1 class="page__title">Shared with me</h1>
          <p class="page__subtitle">
            Datasets and models other accounts shared with yours: read them here or in jobs at <code>$PADDLE_CLOUD_SHARED</code>, copy
            them to change them.
          </p>
        </div>
      </header>

      {withMe.error && (
        <ErrorBanner error={withMe.error} prefix="Could not load what is shared with you." testId="shared-error" onRetry={withMe.reload} />
      )}
      {withMe.loading && !withMe.data ? (
        <p class="loading">Loading…</p>
      ) : withMe.data && withMe.data.length === 0 ? (
        <div class="empty" data-testid="shared-empty">
          <p class="empty__title">Nothing is shared with your account yet.</p>
          <p class="empty__text">When another account shares a dataset or model with yours, it appears here.</p>
        </div>
      ) : withMe.data ? (
        <DataTable columns={['Owner', 'Path', 'Since', 'Expires']} class="shared-table" testId="shared-table">
          {withMe.data.map((share) => (
            <tr key={share.id} data-testid="shared-row" data-owner={share.owner_account} data-path={share.path}>
              <td data-testid="shared-owner">{share.owner_account}</td>
              <td class="files-table__name">
                {share.kind === 'file' ? <FileIcon /> : <FolderIcon />}
                <a href={browserHref(share.mount)} data-testid="shared-open">
                  {share.path}
                </a>
              </td>
              <td>
                <When at={share.created_at} />
              </td>
              <td data-testid="shared-expires">{share.expires_at ? <When at={share.expires_at} /> : <span class="muted">never</span>}</td>
            </tr>
          ))}
        </DataTable>
      ) : null}

      <h2 class="section-title" id="shared-by-us">
        Shared by us
      </h2>
      <p class="muted">What your account shares with other accounts and as public links. Share from a dataset’s or model’s Share button.</p>
      {byUs.error && (
        <ErrorBanner error={byUs.error} prefix="Could not load your shares." testId="shares-error" onRetry={byUs.reload} />
      )}
      {byUs.loading && !byUs.data ? (
        <p class="loading">Loading…</p>
      ) : byUs.data && byUs.data.length === 0 ? (
        <p class="muted" data-testid="shares-empty">
          Your account shares nothing.
        </p>
      ) : byUs.data ? (
        <DataTable
          columns={['Path', 'With', 'Shared', 'Expires']}
          actions
          class="shared-table"
          testId="shares-table"
          labelledBy="shared-by-us"
        >
          {byUs.data.map((share) => (
            <tr key={share.id} data-testid="share-row" data-share-id={share.id} data-path={share.path}>
              <td class="files-table__name">
                {share.kind === 'file' ? <FileIcon /> : <FolderIcon />}
                <a href={browserHref(share.path)}>{share.path}</a>
              </td>
              <td class="table__wrap">
                <ShareTarget share={share} />
              </td>
              <td>
                <When at={share.created_at} />
                <span class="table__sub">{share.created_by}</span>
              </td>
              <td>{share.expires_at ? formatUnix(share.expires_at) : <span class="muted">never</span>}</td>
              <td class="table__actions">
                <RowButton danger onClick={() => revoking.ask(share)} testId="share-row-revoke">
                  Revoke
                </RowButton>
              </td>
            </tr>
          ))}
        </DataTable>
      ) : null}

      <RevokeDialog
        confirmation={revoking}
        revoke={async (share) => {
          await api.deleteShare(share.id);
          byUs.reload();
        }}
        title={(share) => `Stop sharing ${share.path}?`}
        confirmLabel="Revoke"
        testId="revoke-dialog"
      >
        {(share) => (
          <p>{share.link ? 'The public link stops working at once.' : `The account ${share.account} can no longer read it.`}</p>
        )}
      </RevokeDialog>
    </section>
  );
}
