// Sharing (/shared): what other accounts shared with this one (opened read-only in the file browser
// at shared/<owner>/<path>), and what this account shares: with other accounts or as public links,
// each with Revoke.
import type { VNode } from 'preact';
import type { FilesApi, Share, SharedWithMe } from '../../api/files';
import { RevokeDialog, useConfirmation } from '../../dialog';
import { formatDateTime, formatUnix, formatUnixDate, isoFromUnix } from '../../format';
import type { SignedInPageProps } from '../../session';
import { DataTable, RevokeCell } from '../../table';
import { useDocumentTitle } from '../../title';
import { LoadedList, useLoad } from '../settings/common';
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
      <LoadedList
        loaded={withMe}
        items={withMe.data}
        error={{ testId: 'shared-error', prefix: 'Could not load what is shared with you.', retry: true }}
        loading={<p class="loading">Loading…</p>}
        empty={
          <div class="empty" data-testid="shared-empty">
            <p class="empty__title">Nothing is shared with your account yet.</p>
            <p class="empty__text">When another account shares a dataset or model with yours, it appears here.</p>
          </div>
        }
      >
        {(shares) => <SharedWithMeTable shares={shares} />}
      </LoadedList>
      <h2 class="section-title" id="shared-by-us">
        Shared by us
      </h2>
      <p class="muted">What your account shares with other accounts and as public links. Share from a dataset’s or model’s Share button.</p>
      <LoadedList
        loaded={byUs}
        items={byUs.data}
        error={{ testId: 'shares-error', prefix: 'Could not load your shares.', retry: true }}
        loading={<p class="loading">Loading…</p>}
        empty={
          <p class="muted" data-testid="shares-empty">
            Your account shares nothing.
          </p>
        }
      >
        {(shares) => <SharedByUsTable shares={shares} onRevoke={revoking.ask} />}
      </LoadedList>
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

function SharedWithMeTable({ shares }: { shares: readonly SharedWithMe[] }): VNode {
  return (
    <DataTable columns={['Owner', 'Path', 'Since', 'Expires']} class="shared-table" testId="shared-table">
      {shares.map((share) => (
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
  );
}

function SharedByUsTable({ shares, onRevoke }: { shares: readonly Share[]; onRevoke: (share: Share) => void }): VNode {
  return (
    <DataTable columns={['Path', 'With', 'Shared', 'Expires']} actions class="shared-table" testId="shares-table" labelledBy="shared-by-us">
      {shares.map((share) => (
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
          <RevokeCell onRevoke={() => onRevoke(share)} testId="share-row-revoke" />
        </tr>
      ))}
    </DataTable>
  );
}
