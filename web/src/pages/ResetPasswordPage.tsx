import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { AccountApi } from '../api/account';
import { accountApi } from '../api/account';
import { ErrorBanner, Form, NewPasswordFields, SubmitButton, SuccessBanner, useForm, useLinkToken } from '../forms';
import type { PageProps } from '../router';
import { loadSession } from '../session';
import { useDocumentTitle } from '../title';
import { collectErrors, validateNewPassword, validatePasswordConfirmation } from '../validation';
import { AuthCard } from './AuthLayout';

export type ResetPasswordApi = Pick<AccountApi, 'resetPassword'>;

const FIELDS = ['password', 'confirmation'] as const;
type Field = (typeof FIELDS)[number];

export interface ResetPasswordPageProps extends Partial<PageProps> {
  api?: ResetPasswordApi;
}

/** The page behind the mailed link /reset-password?token=...: sets a new password. */
export function ResetPasswordPage({ api = accountApi }: ResetPasswordPageProps): VNode {
  useDocumentTitle('Choose a new password');
  const token = useLinkToken();
  const [done, setDone] = useState(false);
  if (!token) {
    return (
      <AuthCard title="Choose a new password" testId="reset-password-page">
        <ErrorBanner
          testId="reset-password-error"
          error="This page needs the link from the password-reset mail. Open the link from the mail, or ask for a new one."
        />
        <p>
          <a class="button" href="/forgot-password">
            Ask for a new link
          </a>
        </p>
      </AuthCard>
    );
  }
  if (done) {
    return (
      <AuthCard title="Password changed" testId="reset-password-done">
        <SuccessBanner testId="reset-password-success">Your new password is set.</SuccessBanner>
        <p>For your safety, every session of your user was ended: sign in again with the new password.</p>
        <p>
          <a class="button" href="/login" data-testid="reset-password-sign-in">
            Sign in
          </a>
        </p>
      </AuthCard>
    );
  }
  return <ResetPasswordForm api={api} token={token} onDone={() => setDone(true)} />;
}

function ResetPasswordForm({ api, token, onDone }: { api: ResetPasswordApi; token: string; onDone: () => void }): VNode {
  const [password, setPassword] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const form = useForm<Field>(FIELDS, 'reset');
  const onSubmit = () =>
    form.submit(
      async () => {
        await api.resetPassword(token, password);
        onDone();
        // Every session ended, this browser's too if it had one.
        void loadSession().catch(() => undefined);
      },
      () =>
        collectErrors<Field>({
          password: validateNewPassword(password),
          confirmation: validatePasswordConfirmation(password, confirmation),
        }),
    );
  // An expired, used or unknown link is not the new password's fault: offer a new link.
  const linkProblem = form.banner !== null && (form.banner.field === 'token' || [404, 409].includes(form.banner.status));
  return (
    <AuthCard title="Choose a new password" testId="reset-password-page">
      {form.banner && (
        <ErrorBanner error={form.banner} testId="reset-password-error">
          {linkProblem && <a href="/forgot-password">Ask for a new link</a>}
        </ErrorBanner>
      )}
      <Form onSubmit={() => void onSubmit()} testId="reset-password-form" label="Choose a new password">
        <NewPasswordFields
          form={form}
          idPrefix="reset"
          field="password"
          label="New password"
          repeatLabel="Repeat the new password"
          password={password}
          setPassword={setPassword}
          confirmation={confirmation}
          setConfirmation={setConfirmation}
        />
        <SubmitButton pending={form.pending} pendingLabel="Saving…" testId="reset-password-submit">
          Set new password
        </SubmitButton>
      </Form>
    </AuthCard>
  );
}
