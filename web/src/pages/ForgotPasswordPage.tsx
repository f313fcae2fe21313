import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { AccountApi } from '../api/account';
import { accountApi } from '../api/account';
import { bindField, ErrorBanner, Form, SubmitButton, SuccessBanner, TextField, useForm } from '../forms';
import type { PageProps } from '../router';
import { useLocation } from '../router';
import { useDocumentTitle } from '../title';
import { validateEmail } from '../validation';
import { AuthCard } from './AuthLayout';

export type ForgotPasswordApi = Pick<AccountApi, 'requestPasswordReset'>;

export interface ForgotPasswordPageProps extends Partial<PageProps> {
  api?: ForgotPasswordApi;
}

/** Asks for a reset link. The answer is the same whether or not the address has an account. */
export function ForgotPasswordPage({ api = accountApi }: ForgotPasswordPageProps): VNode {
  useDocumentTitle('Forgot password');
  const { search } = useLocation();
  const [email, setEmail] = useState(() => new URLSearchParams(search).get('email') ?? '');
  const [sentTo, setSentTo] = useState<string | null>(null);
  const form = useForm(['email'] as const, 'forgot');

  const onSubmit = () =>
    form.submit(
      async () => {
        await api.requestPasswordReset(email.trim());
        setSentTo(email.trim());
      },
      () => {
        const problem = validateEmail(email);
        return problem ? { email: problem } : {};
      },
    );

  if (sentTo) {
    return (
      <AuthCard title="Check your mail" testId="forgot-password-done">
        <SuccessBanner testId="forgot-password-sent">
          If <strong>{sentTo}</strong> belongs to a PaddleCloud user, we sent it a link to choose a new password. The link
          works once, for 1 hour.
        </SuccessBanner>
        <p class="muted">No mail after a few minutes? Check the address and the spam folder, then try again.</p>
        <p class="actions">
          <button type="button" class="button button--secondary" onClick={() => setSentTo(null)}>
            Try again
          </button>
          <a href="/login">Back to sign in</a>
        </p>
      </AuthCard>
    );
  }

  return (
    <AuthCard
      title="Forgot your password?"
      intro="Enter the email you sign in with. We will mail you a link to choose a new password."
      testId="forgot-password-page"
      footer={<a href="/login">Back to sign in</a>}
    >
      {form.banner && <ErrorBanner error={form.banner} />}
      <Form onSubmit={() => void onSubmit()} testId="forgot-password-form" label="Request a password reset">
        <TextField
          id="forgot-email"
          label="Email"
          type="email"
          autoComplete="email"
          {...bindField(form, 'email', email, setEmail)}
        />
        <SubmitButton pending={form.pending} pendingLabel="Sending…" testId="forgot-password-submit">
          Send reset link
        </SubmitButton>
      </Form>
    </AuthCard>
  );
}
