import type { VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { AccountApi, Invitation, User } from '../api/account';
import { accountApi } from '../api/account';
import type { ApiError } from '../api/client';
import {
  bindField,
  ErrorBanner,
  Form,
  isAbort,
  NewPasswordFields,
  SubmitButton,
  SuccessBanner,
  TextField,
  toApiError,
  useForm,
  useLinkToken,
} from '../forms';
import { formatUnixDate } from '../format';
import type { PageProps } from '../router';
import { useDocumentTitle } from '../title';
import {
  collectErrors,
  validateDisplayName,
  validateNewPassword,
  validatePasswordConfirmation,
} from '../validation';
import { AuthCard } from './AuthLayout';

export type InviteApi = Pick<AccountApi, 'describeInvitation' | 'acceptInvitation'>;

const FIELDS = ['display_name', 'password', 'confirmation'] as const;
type Field = (typeof FIELDS)[number];

type State =
  | { step: 'loading' }
  | { step: 'ready'; invitation: Invitation }
  | { step: 'joined'; user: User }
  | { step: 'failed'; error: ApiError | string };

export interface InvitePageProps extends Partial<PageProps> {
  api?: InviteApi;
}

/** The page behind the mailed link /invite?token=...: join an account as a member. */
export function InvitePage({ api = accountApi }: InvitePageProps): VNode {
  useDocumentTitle('Invitation');
  const token = useLinkToken();
  const [state, setState] = useState<State>(
    token
      ? { step: 'loading' }
      : { step: 'failed', error: 'This page needs the link from the invitation mail. Open the link from the mail.' },
  );
  useEffect(() => {
    if (!token) return;
    const controller = new AbortController();
    api.describeInvitation(token, { signal: controller.signal }).then(
      (invitation) => setState({ step: 'ready', invitation }),
      (err) => {
        if (!isAbort(err)) setState({ step: 'failed', error: toApiError(err) });
      },
    );
    return () => controller.abort();
  }, [api, token]);

  switch (state.step) {
    case 'loading':
      return (
        <AuthCard title="Invitation" testId="invite-page">
          <p class="loading" aria-live="polite" data-testid="invite-loading">
            Reading the invitation…
          </p>
        </AuthCard>
      );
    case 'failed':
      return <InvitationFailed error={state.error} />;
    case 'joined':
      return <Joined user={state.user} />;
    case 'ready':
      return <AcceptInvitation api={api} token={token ?? ''} invitation={state.invitation} onJoined={(user) => setState({ step: 'joined', user })} />;
  }
}

function InvitationFailed({ error }: { error: ApiError | string }): VNode {
  const accepted = typeof error !== 'string' && error.status === 409;
  return (
    <AuthCard title="This invitation did not work" testId="invite-page">
      <ErrorBanner error={error} testId="invite-error" />
      <p class="muted">
        {accepted ? 'Sign in with the email the invitation was sent to.' : 'Ask the master user of the account to invite you again.'}
      </p>
      {accepted && (
        <p>
          <a class="button" href="/login">
            Sign in
          </a>
        </p>
      )}
    </AuthCard>
  );
}

function Joined({ user }: { user: User }): VNode {
  return (
    <AuthCard title={`Welcome to ${user.account_id}`} testId="invite-done">
      <SuccessBanner testId="invite-success">
        You joined the account <code>{user.account_id}</code>.
      </SuccessBanner>
      <p>
        Sign in as <strong>{user.email}</strong> with the password you just chose.
      </p>
      <p>
        <a class="button" href={`/login?email=${encodeURIComponent(user.email)}`} data-testid="invite-sign-in">
          Sign in
        </a>
      </p>
    </AuthCard>
  );
}

function AcceptInvitation({
  api,
  token,
  invitation,
  onJoined,
}: {
  api: InviteApi;
  token: string;
  invitation: Invitation;
  onJoined: (user: User) => void;
}): VNode {
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const form = useForm<Field>(FIELDS, 'invite');
  const accountId = invitation.account_id ?? '';
  const onSubmit = () =>
    form.submit(
      async () => {
        const answer = await api.acceptInvitation({
          token,
          password,
          ...(displayName.trim() ? { display_name: displayName.trim() } : {}),
        });
        onJoined(answer.user);
      },
      () =>
        collectErrors<Field>({
          display_name: validateDisplayName(displayName),
          password: validateNewPassword(password, { email: invitation.email, accountId }),
          confirmation: validatePasswordConfirmation(password, confirmation),
        }),
    );
  return (
    <AuthCard title={`Join ${accountId}`} testId="invite-page">
      <p class="auth__intro" data-testid="invite-summary">
        <strong>{invitation.invited_by || 'The master user'}</strong> invited you to the PaddleCloud account <code>{accountId}</code>.
      </p>
      <p class="muted">
        You will sign in as <strong data-testid="invite-email">{invitation.email}</strong>. The invitation is valid until{' '}
        {formatUnixDate(invitation.expires_at)}.
      </p>
      {form.banner && <ErrorBanner error={form.banner} />}
      <Form onSubmit={() => void onSubmit()} testId="invite-form" label="Accept the invitation">
        <TextField
          id="invite-display_name"
          label="Display name"
          note="optional"
          autoComplete="name"
          {...bindField(form, 'display_name', displayName, setDisplayName)}
          hint="How others in the account see you."
        />
        <NewPasswordFields
          form={form}
          idPrefix="invite"
          field="password"
          label="Password"
          repeatLabel="Repeat the password"
          password={password}
          setPassword={setPassword}
          confirmation={confirmation}
          setConfirmation={setConfirmation}
        />
        <SubmitButton pending={form.pending} pendingLabel="Joining…" testId="invite-submit">
          Join {accountId}
        </SubmitButton>
      </Form>
    </AuthCard>
  );
}
