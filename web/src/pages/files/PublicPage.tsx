// Public models and datasets (/public?kind=model&q=text): what every account published, newest first,
// with a search box and Models / Datasets tabs. Browse a publication's files, copy it into the
// account's space, or delete one the account published.
import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { FilesApi, Publication, PublicationKind } from '../../api/files';
import { filesApi } from '../../api/files';
import type { Confirmation } from '../../dialog';
import { ConfirmDialog, confirmationProps, useConfirmation } from '../../dialog';
import { formatDateTime, formatUnixDate, isoFromUnix, plural } from '../../format';
import { FilterSearch, Segmented, useDebouncedText } from '../../forms';
import { navigate, useLocation } from '../../router';
import type { SignedInPageProps } from '../../session';
import { DataTable, RowButton } from '../../table';
import { useDocumentTitle } from '../../title';
import { LoadedList, useLoad } from '../settings/common';
import { CopyDialog } from './dialogs';
import { browserHref, formatSize } from './paths';

export type PublicApi = Pick<FilesApi, 'listPublications' | 'deletePublication' | 'copyPath'>;

/** Typing in the search box waits this long for a pause before asking the server. */
export const SEARCH_DEBOUNCE_MS = 300;

const KINDS: ReadonlyArray<{ value: '' | PublicationKind; label: string }> = [
  { value: '', label: 'All' },
  { value: 'model', label: 'Models' },
  { value: 'dataset', label: 'Datasets' },
];

function filtersFrom(search: string): { kind: '' | PublicationKind; q: string } {
  const params = new URLSearchParams(search);
  const kind = params.get('kind');
  return { kind: kind === 'model' || kind === 'dataset' ? kind : '', q: params.get('q') ?? '' };
}

function searchFor(kind: string, q: string): string {
  const params = new URLSearchParams();
  if (kind) params.set('kind', kind);
  if (q.trim()) params.set('q', q.trim());
  const text = params.toString();
  return text ? `?${text}` : '';
}

export interface PublicPageProps extends SignedInPageProps {
  api?: PublicApi;
}

export function PublicPage({ user, api = filesApi }: PublicPageProps): VNode {
  useDocumentTitle('Public models and datasets');
  const { search } = useLocation();
  const { kind, q } = filtersFrom(search);
  const [typed, setTyped] = useDebouncedText(q, (text) => navigate(`/public${searchFor(kind, text)}`, { replace: true }), SEARCH_DEBOUNCE_MS);
  const publications = useLoad((options) => api.listPublications(kind ? { kind, q } : { q }, options), [api, kind, q]);
  const [copying, setCopying] = useState<Publication | null>(null);
  const deleting = useConfirmation<Publication>();
  const filtered = kind !== '' || q.trim() !== '';

  return (
    <section class="page page--wide files-page" data-testid="public-page">
      <header class="page__header">
        <div>
          <h1 class="page__title">Public models and datasets</h1>
          <p class="page__subtitle">Published by every account on this PaddleCloud. Jobs read them at <code>$PADDLE_CLOUD_PUBLIC</code>.</p>
        </div>
      </header>
      <div class="filters" role="search" aria-label="Find publications" data-testid="public-filters">
        <Segmented
          label="Kind"
          options={KINDS}
          value={kind}
          onChange={(value) => navigate(`/public${searchFor(value, typed)}`, { replace: true })}
          testIdPrefix="public-kind"
        />
        <FilterSearch label="Search" placeholder="Name or description" value={typed} onValue={setTyped} testId="public-search" />
      </div>
      <LoadedList
        loaded={publications}
        items={publications.data}
        error={{ testId: 'public-error', prefix: 'Could not load the publications.', retry: true }}
        loading={
          <p class="loading" data-testid="public-loading">
            Loading…
          </p>
        }
        empty={
          <div class="empty" data-testid="public-empty">
            <p class="empty__title">{filtered ? 'Nothing matches.' : 'Nothing has been published yet.'}</p>
            <p class="empty__text">
              Publish a folder of your datasets or models with its <strong>Publish</strong> button: a copy becomes public under a
              name and version.
            </p>
          </div>
        }
      >
        {(items) => <PublicationTable items={items} account={user.account_id} onCopy={setCopying} onDelete={deleting.ask} />}
      </LoadedList>
      {copying && (
        <CopyDialog
          from={copying.path}
          title={`Copy ${copying.name} ${copying.version} to my space`}
          api={api}
          onClose={() => setCopying(null)}
        />
      )}
      <DeletePublicationDialog
        deleting={deleting}
        api={api}
        onDeleted={(target) => {
          publications.update((current) => current?.filter((pub) => pub.id !== target.id));
          publications.reload();
        }}
      />
    </section>
  );
}

function DeletePublicationDialog({
  deleting,
  api,
  onDeleted,
}: {
  deleting: Confirmation<Publication>;
  api: PublicApi;
  onDeleted: (pub: Publication) => void;
}): VNode | null {
  if (!deleting.target) return null;
  return (
    <ConfirmDialog
      title={`Delete ${deleting.target.name} ${deleting.target.version}?`}
      confirmLabel="Delete"
      pendingLabel="Deleting…"
      danger
      testId="publication-delete-dialog"
      {...confirmationProps(deleting, async (target) => {
        await api.deletePublication(target.id);
        onDeleted(target);
      })}
    >
      <p>Its files at <code>{deleting.target.path}</code> are removed from the public space; copies others made stay theirs.</p>
    </ConfirmDialog>
  );
}

interface PublicationActions {
  /** The signed-in account: it may delete what it published. */
  account: string;
  onCopy: (pub: Publication) => void;
  onDelete: (pub: Publication) => void;
}

const PUBLICATION_COLUMNS = ['Name', 'Kind', 'Account', { label: 'Files', class: 'num' }, { label: 'Size', class: 'num' }, 'Published'];

function PublicationTable({ items, ...actions }: PublicationActions & { items: readonly Publication[] }): VNode {
  return (
    <>
      <DataTable columns={PUBLICATION_COLUMNS} actions class="publications-table" testId="public-table">
        {items.map((pub) => (
          <PublicationRow key={pub.id} pub={pub} {...actions} />
        ))}
      </DataTable>
      <p class="muted public__count" data-testid="public-count">
        {plural(items.length, 'publication')}
      </p>
    </>
  );
}

function PublicationRow({ pub, account, onCopy, onDelete }: PublicationActions & { pub: Publication }): VNode {
  return (
    <tr data-testid="publication" data-id={pub.id} data-name={pub.name} data-kind={pub.kind}>
      <td class="table__wrap publications-table__name">
        <strong data-testid="publication-name">{pub.name}</strong>{' '}
        <span class="tag tag--primary" data-testid="publication-version">
          {pub.version}
        </span>
        {pub.description && (
          <span class="table__sub publications-table__description" data-testid="publication-description">
            {pub.description}
          </span>
        )}
      </td>
      <td>{pub.kind === 'model' ? 'Model' : pub.kind === 'dataset' ? 'Dataset' : pub.kind}</td>
      <td data-testid="publication-account">
        {pub.account}
        <span class="table__sub">{pub.published_by}</span>
      </td>
      <td class="num" data-testid="publication-files">
        {pub.files.toLocaleString()}
      </td>
      <td class="num" data-testid="publication-size">
        {formatSize(pub.bytes)}
      </td>
      <td>
        <time dateTime={isoFromUnix(pub.published_at)} title={formatDateTime(isoFromUnix(pub.published_at))}>
          {formatUnixDate(pub.published_at)}
        </time>
      </td>
      <td class="table__actions">
        <a class="button button--small button--secondary" href={browserHref(pub.path)} data-testid="publication-browse">
          Browse files
        </a>{' '}
        <RowButton onClick={() => onCopy(pub)} testId="publication-copy">
          Copy to my space
        </RowButton>
        {pub.account === account && (
          <>
            {' '}
            <RowButton danger onClick={() => onDelete(pub)} label={`Delete ${pub.name} ${pub.version}`} testId="publication-delete">
              Delete
            </RowButton>
          </>
        )}
      </td>
    </tr>
  );
}
