import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { AccountApi } from '../api/account';
import { accountApi } from '../api/account';
import { bindField, ErrorBanner, Form, SubmitButton, TextField, useForm } from '../forms';
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

interface Registered {
  email: string;
  accountId: string;
}

/** Registration: a new account and its master user; then "check your mail". */
export function RegisterPage({ api = accountApi }: RegisterPageProps): VNode {
  useDocumentTitle('Register');
  const [registered, setRegistered] = useState<Registered | null>(null);
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
      <RegisterForm api={api} onRegistered={setRegistered} />
    </AuthCard>
  );
}

function RegisterForm({ api, onRegistered }: { api: RegisterApi; onRegistered: (registered: Registered) => void }): VNode {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [accountId, setAccountId] = useState('');
  const [displayName, setDisplayName] = useState('');
  const form = useForm<Field>(FIELDS, 'register');
  const onSubmit = () =>
    form.submit(
      async () => {
        const answer = await api.register({
          email: email.trim(),
          password,
          account_id: accountId,
          ...(displayName.trim() ? { display_name: displayName.trim() } : {}),
        });
        onRegistered({ email: answer.user?.email ?? email.trim(), accountId: answer.user?.account_id ?? accountId });
      },
      () =>
        collectErrors<Field>({
          email: validateEmail(email),
          password: validateNewPassword(password, { email, accountId }),
          account_id: validateAccountId(accountId),
          display_name: validateDisplayName(displayName),
        }),
    );
  return (
    <>
      {form.banner && <ErrorBanner error={form.banner} />}
      <Form onSubmit={() => void onSubmit()} testId="register-form" label="Register">
        <TextField id="register-email" label="Email" type="email" autoComplete="email" {...bindField(form, 'email', email, setEmail)} />
        <TextField
          id="register-password"
          label="Password"
          type="password"
          autoComplete="new-password"
          {...bindField(form, 'password', password, setPassword)}
          hint={PASSWORD_HINT}
        />
        <TextField
          id="register-account_id"
          label="Account ID"
          autoComplete="off"
          autoCapitalize="none"
          spellcheck={false}
          maxLength={40}
          {...bindField(form, 'account_id', accountId, setAccountId)}
          hint={ACCOUNT_ID_HINT}
        />
        <TextField
          id="register-display_name"
          label="Display name"
          note="optional"
          autoComplete="name"
          {...bindField(form, 'display_name', displayName, setDisplayName)}
          hint="How others in the account see you. Defaults to the first part of your email."
        />
        <SubmitButton pending={form.pending} pendingLabel="Registering…" testId="register-submit">
          Register
        </SubmitButton>
      </Form>
    </>
  );
}
