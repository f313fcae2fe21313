import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { AccountApi } from '../api/account';
import { accountApi } from '../api/account';
import { ErrorBanner, Form, SubmitButton, TextField, useForm } from '../forms';
import type { PageProps } from '../router';
import { useDocumentTitle } from '../title';
import {
  ACCOUNT_ID_HINT,
  collectErrors,
  PASSWORD_HINT,
  validateAccountId,
  validateDisplayName,
  validateEmail,
  validateNewPassword,
} from '../validation';
import { AuthCard, ResendVerification } from './AuthLayout';

export type RegisterApi = Pick<AccountApi, 'register' | 'resendVerification'>;

const FIELDS = ['email', 'password', 'account_id', 'display_name'] as const;
type Field = (typeof FIELDS)[number];

export interface RegisterPageProps extends Partial<PageProps> {
  api?: RegisterApi;
}

/** Registration: a new account and its master user; then "check your mail". */
export function RegisterPage({ api = accountApi }: RegisterPageProps): VNode {
  useDocumentTitle('Register');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [accountId, setAccountId] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [registered, setRegistered] = useState<{ email: string; accountId: string } | null>(null);
  const form = useForm<Field>(FIELDS, 'register');

  const edit = (field: Field, set: (value: string) => void) => (value: string) => {
    set(value);
    form.clearError(field);
  };

  const onSubmit = () =>
    form.submit(
      async () => {
        const answer = await api.register({
          email: email.trim(),
          password,
          account_id: accountId,
          ...(displayName.trim() ? { display_name: displayName.trim() } : {}),
        });
        setRegistered({ email: answer.user?.email ?? email.trim(), accountId: answer.user?.account_id ?? accountId });
      },
      () =>
        collectErrors<Field>({
          email: validateEmail(email),
          password: validateNewPassword(password, { email, accountId }),
          account_id: validateAccountId(accountId),
          display_name: validateDisplayName(displayName),
        }),
    );

  if (registered) {
    return (
      <AuthCard title="Check your mail" testId="register-done">
        <p data-testid="register-done-text">
          We sent a verification link to <strong>{registered.email}</strong>. Open it to finish registering the account{' '}
          <code>{registered.accountId}</code>. The link works once, for 48 hours.
        </p>
        <p class="muted">No mail after a few minutes? Look in the spam folder, or ask for a new link:</p>
        <ResendVerification email={registered.email} api={api} />
      </AuthCard>
    );
  }

  return (
    <AuthCard
      title="Create your account"
      intro="An account is your team's workspace: its jobs, data and quota. You become its master user and can invite others later."
      testId="register-page"
      footer={
        <>
          Already registered? <a href="/login">Sign in</a>
        </>
      }
    >
      {form.banner && <ErrorBanner error={form.banner} />}
      <Form onSubmit={() => void onSubmit()} testId="register-form" label="Register">
        <TextField
          id="register-email"
          label="Email"
          type="email"
          autoComplete="email"
          value={email}
          onValue={edit('email', setEmail)}
          error={form.errors.email}
        />
        <TextField
          id="register-password"
          label="Password"
          type="password"
          autoComplete="new-password"
          value={password}
          onValue={edit('password', setPassword)}
          hint={PASSWORD_HINT}
          error={form.errors.password}
        />
        <TextField
          id="register-account_id"
          label="Account ID"
          autoComplete="off"
          autoCapitalize="none"
          spellcheck={false}
          maxLength={40}
          value={accountId}
          onValue={edit('account_id', setAccountId)}
          hint={ACCOUNT_ID_HINT}
          error={form.errors.account_id}
        />
        <TextField
          id="register-display_name"
          label="Display name"
          note="optional"
          autoComplete="name"
          value={displayName}
          onValue={edit('display_name', setDisplayName)}
          hint="How others in the account see you. Defaults to the first part of your email."
          error={form.errors.display_name}
        />
        <SubmitButton pending={form.pending} pendingLabel="Registering…" testId="register-submit">
          Register
        </SubmitButton>
      </Form>
    </AuthCard>
  );
}
