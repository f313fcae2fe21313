// The file pages' dialogs: new folder, rename/move, delete, share, publish and copy. Each is a
// ModalDialog (the native modal <dialog>), shown while mounted; errors of a named field show next to
// it, anything else in the dialog's banner.
import type { ComponentChildren, VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { ApiError } from '../../api/client';
import type { FileEntry, FilesApi, Publication, PublicationKind, Share } from '../../api/files';
import { ConfirmDialog, DialogCloseButton, ModalDialog } from '../../dialog';
import { dateInputValue, formatUnix } from '../../format';
import type { FormState } from '../../forms';
import { bindField, ErrorBanner, Form, Segmented, SelectField, SubmitButton, SuccessBanner, TextAreaField, TextField, useAction, useForm } from '../../forms';
import type { FieldErrors } from '../../validation';
import { collectErrors } from '../../validation';
import { copyText, useLoad } from '../settings/common';
import {
  baseName,
  browserHref,
  joinPath,
  nameProblem,
  parentPath,
  pathProblem,
  PUBLICATION_NAME,
  PUBLICATION_VERSION,
  isArchive,
  publishKindFor,
  suggestedCopyTarget,
  suggestedName,
} from './paths';

// ---- The dialog frame ------------------------------------------------------------------------------

export interface FormDialogProps<F extends string> {
  title: string;
  testId: string;
  children: ComponentChildren;
  /** The submit button's label; without one the dialog only has its close button. */
  submitLabel?: string;
  pendingLabel?: string;
  /** The dialog's form state: submitting runs `validate`, then `onSubmit`, through it. */
  form?: FormState<F>;
  validate?: () => FieldErrors<F>;
  onSubmit?: () => Promise<void>;
  /** An error for no field of the dialog (by default the form's banner): the server's, or a text. */
  banner?: ApiError | string | null;
  danger?: boolean;
  /** The close button's label ("Cancel" by default). */
  closeLabel?: string;
  wide?: boolean;
  onClose: () => void;
}

export function FormDialog<F extends string>({
  title,
  testId,
  children,
  submitLabel,
  pendingLabel,
  form,
  validate,
  onSubmit,
  banner = form?.banner ?? null,
  danger = false,
  closeLabel = 'Cancel',
  wide = false,
  onClose,
}: FormDialogProps<F>): VNode {
  const pending = form?.pending ?? false;
  return (
    <ModalDialog title={title} testId={testId} wide={wide} pending={pending} onCancel={onClose}>
      <Form
        onSubmit={() => {
          if (form && onSubmit) void form.submit(onSubmit, validate);
        }}
        testId={`${testId}-form`}
        class="form dialog__form"
        label={title}
      >
        {children}
        {banner && <ErrorBanner error={banner} testId={`${testId}-error`} />}
        <div class="dialog__actions">
          <DialogCloseButton testId={testId} pending={pending} onClose={onClose}>
            {closeLabel}
          </DialogCloseButton>
          {submitLabel && (
            <SubmitButton pending={pending} pendingLabel={pendingLabel} testId={`${testId}-submit`} variant={danger ? 'danger' : 'primary'}>
              {submitLabel}
            </SubmitButton>
          )}
        </div>
      </Form>
    </ModalDialog>
  );
}

// ---- New folder ------------------------------------------------------------------------------------

export function NewFolderDialog({
  parent,
  api,
  onCreated,
  onClose,
}: {
  parent: string;
  api: Pick<FilesApi, 'createFolder'>;
  onCreated: (entry: FileEntry) => void;
  onClose: () => void;
}): VNode {
  const [name, setName] = useState('');
  const form = useForm(['path'] as const, 'folder');
  return (
    <FormDialog
      title="New folder"
      testId="folder-dialog"
      submitLabel="Create"
      pendingLabel="Creating…"
      form={form}
      validate={() => collectErrors({ path: nameProblem(name.trim()) })}
      onSubmit={async () => onCreated(await api.createFolder(joinPath(parent, name.trim())))}
      onClose={onClose}
    >
      <TextField
        id="folder-path"
        label="Name"
        {...bindField(form, 'path', name, setName)}
        hint={`Created in ${parent}/.`}
        autoComplete="off"
        spellcheck={false}
      />
    </FormDialog>
  );
}

// ---- Rename or move --------------------------------------------------------------------------------

export function RenameDialog({
  entry,
  api,
  onMoved,
  onClose,
}: {
  entry: FileEntry;
  api: Pick<FilesApi, 'movePath'>;
  onMoved: (entry: FileEntry) => void;
  onClose: () => void;
}): VNode {
  const [to, setTo] = useState(entry.path);
  const form = useForm(['path'] as const, 'move');
  return (
    <FormDialog
      title={`Rename or move ${entry.name}`}
      testId="move-dialog"
      submitLabel="Save"
      pendingLabel="Saving…"
      form={form}
      validate={() => collectErrors({ path: pathProblem(to) })}
      onSubmit={async () => {
        const target = to.trim().replace(/\/+$/, '');
        if (target === entry.path) {
          onClose();
          return;
        }
        onMoved(await api.movePath(entry.path, target));
      }}
      onClose={onClose}
    >
      <TextField
        id="move-path"
        label="New path"
        {...bindField(form, 'path', to, setTo)}
        hint="Change the last part to rename; change the folders to move it (e.g. datasets/archive/mnist)."
        autoComplete="off"
        spellcheck={false}
      />
    </FormDialog>
  );
}

// ---- Delete ----------------------------------------------------------------------------------------

export function DeleteDialog({
  entry,
  api,
  onDeleted,
  onClose,
}: {
  entry: FileEntry;
  api: Pick<FilesApi, 'deletePath'>;
  onDeleted: () => void;
  onClose: () => void;
}): VNode {
  const action = useAction();
  const folder = entry.kind === 'folder';
  return (
    <ConfirmDialog
      title={`Delete ${entry.name}?`}
      confirmLabel="Delete"
      pendingLabel="Deleting…"
      danger
      pending={action.pending}
      error={action.error}
      testId="delete-dialog"
      onCancel={onClose}
      onConfirm={() => {
        void action.run(() => api.deletePath(entry.path, folder)).then((ok) => {
          if (ok) onDeleted();
        });
      }}
    >
      <p>
        {folder ? (
          <>
            The folder <strong>{entry.path}</strong> and everything in it will be deleted.
          </>
        ) : (
          <>
            The file <strong>{entry.path}</strong> will be deleted.
          </>
        )}{' '}
        This cannot be undone.
      </p>
    </ConfirmDialog>
  );
}

// ---- Share -----------------------------------------------------------------------------------------

/** The full URL of a public link ("/s/<token>" -> "https://host/s/<token>"). */
export function linkUrl(link: string): string {
  return new URL(link, window.location.origin).toString();
}

/** Unix seconds at the end of a local day given as "2026-12-31". */
export function endOfDay(date: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!match) return undefined;
  const end = new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3]), 23, 59, 59);
  return Number.isNaN(end.getTime()) ? undefined : Math.floor(end.getTime() / 1000);
}

function CopyButton({ text, testId }: { text: string; testId: string }): VNode {
  const [copied, setCopied] = useState<boolean | null>(null);
  return (
    <button
      type="button"
      class="button button--small button--secondary"
      onClick={() => void copyText(text).then(setCopied)}
      data-testid={testId}
    >
      {copied === null ? 'Copy' : copied ? 'Copied' : 'Copy failed'}
    </button>
  );
}

/** One share in the share dialog or on the shared page: who gets it (or the link) and when it ends. */
export function ShareTarget({ share }: { share: Share }): VNode {
  if (share.link) {
    const url = linkUrl(share.link);
    return (
      <span class="share-target">
        <span class="tag tag--primary">Public link</span>{' '}
        <a href={share.link} class="share-target__url" data-testid="share-link-url" target="_blank" rel="noopener">
          {url}
        </a>{' '}
        <CopyButton text={url} testId="share-link-copy" />
      </span>
    );
  }
  return (
    <span class="share-target">
      <span class="tag">Account</span> <strong data-testid="share-account">{share.account}</strong>
    </span>
  );
}

const SHARE_MODES = [
  { value: 'account', label: 'Another account' },
  { value: 'link', label: 'Public link' },
] as const;

export function ShareDialog({
  entry,
  api,
  onClose,
}: {
  entry: Pick<FileEntry, 'path' | 'name'>;
  api: Pick<FilesApi, 'listShares' | 'createShare' | 'deleteShare'>;
  onClose: () => void;
}): VNode {
  const [mode, setMode] = useState<(typeof SHARE_MODES)[number]['value']>('account');
  const [account, setAccount] = useState('');
  const [expires, setExpires] = useState('');
  const [created, setCreated] = useState<Share | null>(null);
  const form = useForm(['account', 'expires_at', 'path'] as const, 'share');
  const shares = useLoad((options) => api.listShares(options));
  const revoke = useAction();
  const mine = (shares.data ?? []).filter((share) => share.path === entry.path);
  const today = dateInputValue(new Date());

  const onSubmit = async () => {
    const expiresAt = expires ? endOfDay(expires) : undefined;
    const share = await api.createShare(
      mode === 'account'
        ? { path: entry.path, account: account.trim() }
        : { path: entry.path, link: true, ...(expiresAt !== undefined ? { expires_at: expiresAt } : {}) },
    );
    setCreated(share);
    setAccount('');
    setExpires('');
    shares.reload();
  };

  const validate = () => {
    if (mode === 'account' && account.trim() === '') return { account: 'Enter the account ID to share with.' };
    if (mode === 'link' && expires) {
      const at = endOfDay(expires);
      if (at === undefined) return { expires_at: 'Enter a date.' };
      if (at * 1000 < Date.now()) return { expires_at: 'Choose a day from today on.' };
    }
    return {};
  };

  return (
    <FormDialog
      title={`Share ${entry.name}`}
      testId="share-dialog"
      submitLabel={mode === 'account' ? 'Share' : 'Create link'}
      pendingLabel="Sharing…"
      form={form}
      validate={validate}
      onSubmit={onSubmit}
      banner={form.banner ?? form.errors.path ?? null}
      closeLabel="Close"
      wide
      onClose={onClose}
    >
      <p class="dialog__lead">
        <code>{entry.path}</code> stays yours; whoever you share it with can read and copy it, not change it.
      </p>
      <Segmented label="Share with" options={SHARE_MODES} value={mode} onChange={setMode} testIdPrefix="share-mode" />
      {mode === 'account' ? (
        <TextField
          id="share-account"
          label="Account ID"
          {...bindField(form, 'account', account, setAccount)}
          hint="Everyone in that account can read it (in their Shared with me)."
          autoComplete="off"
          autoCapitalize="none"
          spellcheck={false}
        />
      ) : (
        <div class={form.errors.expires_at ? 'field field--invalid' : 'field'}>
          <label class="field__label" for="share-expires_at">
            Expires <span class="field__note">(optional)</span>
          </label>
          <input
            class="field__input share-dialog__date"
            id="share-expires_at"
            type="date"
            min={today}
            value={expires}
            onChange={(event) => {
              setExpires(event.currentTarget.value);
              form.clearError('expires_at');
            }}
            aria-invalid={form.errors.expires_at ? 'true' : undefined}
            data-testid="share-expires_at"
          />
          <p class="field__hint">Anyone with the link can download it, without signing in, until the end of that day.</p>
          {form.errors.expires_at && (
            <p class="field__error" data-testid="share-expires_at-error">
              {form.errors.expires_at}
            </p>
          )}
        </div>
      )}

      {created && (
        <SuccessBanner testId="share-created">
          {created.link ? (
            <>
              Link created: <ShareTarget share={created} />
            </>
          ) : (
            <>
              Shared with <strong>{created.account}</strong>.
            </>
          )}
        </SuccessBanner>
      )}

      <h3 class="dialog__subtitle">Shared now</h3>
      {shares.error && <ErrorBanner error={shares.error} prefix="Could not load the shares." testId="share-list-error" />}
      {revoke.error && <ErrorBanner error={revoke.error} prefix="Could not revoke." testId="share-revoke-error" />}
      {shares.loading && !shares.data ? (
        <p class="loading">Loading…</p>
      ) : shares.error && !shares.data ? null : mine.length === 0 ? (
        <p class="muted" data-testid="share-none">
          Not shared yet.
        </p>
      ) : (
        <ul class="share-list" data-testid="share-list">
          {mine.map((share) => (
            <li key={share.id} class="share-list__item" data-testid="share-item" data-share-id={share.id}>
              <ShareTarget share={share} />
              <span class="share-list__meta">
                {share.expires_at ? `until ${formatUnix(share.expires_at)}` : 'no expiry'} · by {share.created_by}
              </span>
              <button
                type="button"
                class="button button--small button--danger-outline"
                disabled={revoke.pending}
                onClick={() =>
                  void revoke.run(async () => {
                    await api.deleteShare(share.id);
                    if (created?.id === share.id) setCreated(null);
                    shares.reload();
                  })
                }
                data-testid="share-revoke"
              >
                Revoke
              </button>
            </li>
          ))}
        </ul>
      )}
    </FormDialog>
  );
}

// ---- Publish ---------------------------------------------------------------------------------------

export function PublishDialog({
  entry,
  api,
  onClose,
}: {
  entry: Pick<FileEntry, 'path' | 'name' | 'kind'>;
  api: Pick<FilesApi, 'createPublication'>;
  onClose: () => void;
}): VNode {
  const [kind, setKind] = useState<PublicationKind>(publishKindFor(entry.path));
  const [name, setName] = useState(suggestedName(entry.path, entry.kind));
  const [version, setVersion] = useState('1.0');
  const [description, setDescription] = useState('');
  const [published, setPublished] = useState<Publication | null>(null);
  const form = useForm(['kind', 'name', 'version', 'description', 'path'] as const, 'publish');

  if (published) {
    return (
      <FormDialog title="Published" testId="publish-dialog" closeLabel="Done" onClose={onClose}>
        <SuccessBanner testId="publish-done">
          Published <strong>{published.account}/{published.name}</strong> version <strong>{published.version}</strong>: every
          signed-in user can now find it on the Public page.
        </SuccessBanner>
        <p class="actions">
          <a href={browserHref(published.path)} data-testid="publish-browse">
            Browse its files
          </a>
          <a href={`/public?kind=${encodeURIComponent(published.kind)}`} data-testid="publish-public">
            See it on the Public page
          </a>
        </p>
      </FormDialog>
    );
  }

  return (
    <FormDialog
      title={`Publish ${entry.name}`}
      testId="publish-dialog"
      submitLabel="Publish"
      pendingLabel="Publishing…"
      form={form}
      validate={() =>
        collectErrors({
          name: PUBLICATION_NAME.test(name.trim()) ? undefined : 'Use 1 to 63 of a-z, 0-9, -, _ and ., starting with a letter or digit (e.g. resnet-50).',
          version: PUBLICATION_VERSION.test(version.trim()) ? undefined : 'Use 1 to 63 of A-Z, a-z, 0-9, -, _, . and + (e.g. 1.0).',
        })
      }
      onSubmit={async () =>
        setPublished(await api.createPublication({ kind, name: name.trim(), version: version.trim(), description: description.trim(), path: entry.path }))
      }
      banner={form.banner ?? form.errors.path ?? null}
      wide
      onClose={onClose}
    >
      <p class="dialog__lead">
        A copy of <code>{entry.path}</code> becomes public: every signed-in user can browse, download and copy it.{' '}
        {entry.kind === 'folder'
          ? 'The folder is published with everything in it.'
          : isArchive(entry.name)
            ? 'The archive (.tar, .tar.gz, .tgz, .zip) is unpacked.'
            : 'The file is published on its own, in a folder named by the version.'}
      </p>
      <SelectField
        id="publish-kind"
        label="Kind"
        value={kind}
        onValue={(value) => setKind(value as PublicationKind)}
        options={[
          { value: 'model', label: 'Model' },
          { value: 'dataset', label: 'Dataset' },
        ]}
        error={form.errors.kind}
      />
      <div class="field-row">
        <TextField
          id="publish-name"
          label="Name"
          {...bindField(form, 'name', name, setName)}
          autoComplete="off"
          autoCapitalize="none"
          spellcheck={false}
          maxLength={63}
        />
        <TextField
          id="publish-version"
          label="Version"
          {...bindField(form, 'version', version, setVersion)}
          autoComplete="off"
          spellcheck={false}
          maxLength={63}
        />
      </div>
      <TextAreaField
        id="publish-description"
        label="Description"
        note="optional"
        {...bindField(form, 'description', description, setDescription)}
        rows={3}
      />
    </FormDialog>
  );
}

// ---- Copy to my space ------------------------------------------------------------------------------

export function CopyDialog({
  from,
  title,
  api,
  onClose,
}: {
  from: string;
  title?: string;
  api: Pick<FilesApi, 'copyPath'>;
  onClose: () => void;
}): VNode {
  const [to, setTo] = useState(suggestedCopyTarget(from));
  const [copied, setCopied] = useState<FileEntry | null>(null);
  const form = useForm(['to', 'path', 'from'] as const, 'copy');

  if (copied) {
    const href = browserHref(copied.kind === 'folder' ? copied.path : parentPath(copied.path));
    return (
      <FormDialog title="Copied" testId="copy-dialog" closeLabel="Done" onClose={onClose}>
        <SuccessBanner testId="copy-done">
          Copied to <code>{copied.path}</code>.
        </SuccessBanner>
        <p>
          <a href={href} data-testid="copy-open" onClick={onClose}>
            Open {copied.kind === 'folder' ? baseName(copied.path) : parentPath(copied.path)}
          </a>
        </p>
      </FormDialog>
    );
  }

  return (
    <FormDialog
      title={title ?? `Copy ${baseName(from)} to my space`}
      testId="copy-dialog"
      submitLabel="Copy"
      pendingLabel="Copying…"
      form={form}
      validate={() => collectErrors({ to: pathProblem(to) })}
      onSubmit={async () => setCopied(await api.copyPath(from, to.trim().replace(/\/+$/, '')))}
      banner={form.banner ?? form.errors.from ?? null}
      onClose={onClose}
    >
      <p class="dialog__lead">
        Copies <code>{from}</code> into your account’s files (it counts towards the storage quota).
      </p>
      <TextField
        id="copy-to"
        label="Copy to"
        value={to}
        onValue={(value) => {
          setTo(value);
          form.clearError('to');
          form.clearError('path');
        }}
        error={form.errors.to ?? form.errors.path}
        hint="A new path in datasets/, models/ or workspace/."
        autoComplete="off"
        spellcheck={false}
      />
    </FormDialog>
  );
}
