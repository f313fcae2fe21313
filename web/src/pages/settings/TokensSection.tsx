import type { VNode } from 'preact';
import { useRef, useState } from 'preact/hooks';
import type { ApiToken, CreatedApiToken, TokenScope } from '../../api/account';
import { RevokeDialog, useConfirmation } from '../../dialog';
import { bindField, SelectField, TextField, useForm } from '../../forms';
import { formatUnix, formatUnixDate } from '../../format';
import { DataTable, RevokeCell } from '../../table';
import { collectErrors, required } from '../../validation';
import type { SectionProps } from './common';
import { copyText, FormPanel, ListPanel, Section, useLoad } from './common';

const FIELDS = ['name', 'expires_in_days', 'scope'] as const;
type Field = (typeof FIELDS)[number];

export const TOKEN_EXPIRY_OPTIONS = [
  { value: '7', label: '7 days' },
  { value: '30', label: '30 days' },
  { value: '90', label: '90 days' },
  { value: '365', label: '1 year' },
  { value: '', label: 'Never' },
] as const;

export const TOKEN_SCOPE_OPTIONS = [
  { value: 'full', label: 'Full access (CLI, SDK, scripts)' },
  { value: 'invoke', label: 'Invoke only: call serving instances, nothing else' },
] as const;

function expiryText(token: ApiToken, now: number): string {
  if (token.expires_at === null) return 'Never';
  return token.expires_at <= now ? `Expired ${formatUnixDate(token.expires_at)}` : formatUnixDate(token.expires_at);
}

export function TokensSection({ api }: SectionProps): VNode {
  const tokens = useLoad((options) => api.listTokens(options));
  const [created, setCreated] = useState<CreatedApiToken | null>(null);
  const revoking = useConfirmation<ApiToken>();
  const revoke = async (token: ApiToken) => {
    await api.revokeToken(token.id);
    if (created?.id === token.id) setCreated(null);
    tokens.reload();
  };

  return (
    <Section
      title="API tokens"
      description={
        <>
          Tokens let the <code>paddlecloud</code> command line, the Python SDK and your scripts act as you: send one as{' '}
          <code>Authorization: Bearer &lt;token&gt;</code>. Treat a token like a password; revoke it when it is no longer
          needed.
        </>
      }
      testId="tokens-section"
    >
      {created && <NewTokenSecret token={created} onDone={() => setCreated(null)} />}
      <CreateTokenPanel
        api={api}
        onCreated={(token) => {
          setCreated(token);
          tokens.reload();
        }}
      />
      <ListPanel title="Your tokens" loaded={tokens} what="tokens" empty="You have no API tokens.">
        {(items) => <TokenTable tokens={items} onRevoke={revoking.ask} />}
      </ListPanel>
      <RevokeDialog confirmation={revoking} revoke={revoke} title="Revoke this token?" confirmLabel="Revoke token">
        {(token) => (
          <p>
            Programs using <strong>{token.name}</strong> (<code>{token.prefix}…</code>) can no longer sign in with it. This
            cannot be undone.
          </p>
        )}
      </RevokeDialog>
    </Section>
  );
}

/** The static part of the form's panel. */
const TOKEN_FORM = {
  title: 'Create a token',
  submitLabel: 'Create token',
  pendingLabel: 'Creating…',
  testIds: { panel: 'token-create-panel', error: 'token-error', form: 'token-form', submit: 'token-submit' },
};

function CreateTokenPanel({ api, onCreated }: Pick<SectionProps, 'api'> & { onCreated: (token: CreatedApiToken) => void }): VNode {
  const [name, setName] = useState('');
  const [expiry, setExpiry] = useState('90');
  const [scope, setScope] = useState<string>('full');
  const form = useForm<Field>(FIELDS, 'token');
  const onSubmit = () =>
    form.submit(
      async () => {
        const token = await api.createToken({
          name: name.trim(),
          ...(expiry ? { expires_in_days: Number(expiry) } : {}),
          scope: scope as TokenScope,
        });
        setName('');
        onCreated(token);
      },
      () =>
        collectErrors<Field>({ name: required(name, 'a name for the token'), expires_in_days: undefined, scope: undefined }),
    );
  return (
    <FormPanel {...TOKEN_FORM} form={form} onSubmit={onSubmit}>
      <TextField
        id="token-name"
        label="Name"
        placeholder="e.g. laptop CLI"
        autoComplete="off"
        maxLength={100}
        {...bindField(form, 'name', name, setName)}
      />
      <SelectField
        id="token-expires_in_days"
        label="Expires after"
        options={TOKEN_EXPIRY_OPTIONS}
        {...bindField(form, 'expires_in_days', expiry, setExpiry)}
      />
      <SelectField
        id="token-scope"
        label="Access"
        options={TOKEN_SCOPE_OPTIONS}
        {...bindField(form, 'scope', scope, setScope)}
      />
    </FormPanel>
  );
}

function TokenTable({ tokens, onRevoke }: { tokens: readonly ApiToken[]; onRevoke: (token: ApiToken) => void }): VNode {
  const now = Date.now() / 1000;
  return (
    <DataTable columns={['Name', 'Token', 'Access', 'Created', 'Last used', 'Expires']} actions testId="tokens-table">
      {tokens.map((token) => (
        <tr key={token.id} data-testid={`token-row-${token.name}`}>
          <td>{token.name}</td>
          <td>
            <code>{token.prefix}…</code>
          </td>
          <td data-testid="token-scope">{token.scope === 'invoke' ? 'Invoke only' : 'Full'}</td>
          <td>{formatUnixDate(token.created_at)}</td>
          <td data-testid="token-last-used">{formatUnix(token.last_used_at, 'Never')}</td>
          <td>{expiryText(token, now)}</td>
          <RevokeCell onRevoke={() => onRevoke(token)} testId="token-revoke" />
        </tr>
      ))}
    </DataTable>
  );
}

/** The secret of a token just created: shown once, with a copy button. */
function NewTokenSecret({ token, onDone }: { token: CreatedApiToken; onDone: () => void }): VNode {
  const input = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState<boolean | null>(null);
  return (
    <div class="secret" role="region" aria-label="New token" data-testid="token-secret-panel">
      <h3 class="secret__title">Your new token “{token.name}”</h3>
      <p class="secret__warning" data-testid="token-secret-warning">
        Copy it now: it is shown only this once. PaddleCloud keeps only a hash and cannot show it again.
      </p>
      <div class="secret__row">
        <input
          ref={input}
          class="field__input secret__value"
          type="text"
          readOnly
          value={token.token}
          aria-label="Token secret"
          spellcheck={false}
          onFocus={(event) => event.currentTarget.select()}
          data-testid="token-secret"
        />
        <button
          type="button"
          class="button"
          onClick={() => void copyText(token.token, input.current).then(setCopied)}
          data-testid="token-copy"
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      {copied === false && (
        <p class="field__error">Copying did not work here: select the token and copy it yourself.</p>
      )}
      <p class="secret__meta">
        {token.expires_at ? `Expires ${formatUnixDate(token.expires_at)}.` : 'Does not expire.'}{' '}
        <button type="button" class="link-button" onClick={onDone} data-testid="token-secret-done">
          I have saved it
        </button>
      </p>
    </div>
  );
}
