import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { AccountApi } from '../api/account';
import { accountApi } from '../api/account';
import { bindField, ErrorBanner, Form, InfoBanner, SubmitButton, TextField, useForm } from '../forms';
import type { PageProps } from '../router';
import { navigate, useLocation } from '../router';
import { setSignedIn, useSession } from '../session';
import { useDocumentTitle } from '../title';
import { collectErrors, required, safeNextPath, validateEmail } from '../validation';
import { AuthCard, ResendVerification } from './AuthLayout';

export type LoginApi = Pick<AccountApi, 'login' | 'resendVerification'>;

const FIELDS = ['email', 'password'] as const;
type Field = (typeof FIELDS)[number];

export interface LoginPageProps extends Partial<PageProps> {
  api?: LoginApi;
}

/** Sign-in with email and password; then on to ?next= (a path on this site) or the dashboard. */
export function LoginPage({ api = accountApi }: LoginPageProps): VNode {
  useDocumentTitle('Sign in');
  const { search } = useLocation();
  const query = new URLSearchParams(search);
  const session = useSession();
  const notice = session.state === 'signed-out' ? session.notice : undefined;
  const [email, setEmail] = useState(() => query.get('email') ?? '');
  const [password, setPassword] = useState('');
  const form = useForm<Field>(FIELDS, 'login');

  const onSubmit = () =>
    form.submit(
      async () => {
        const answer = await api.login(email.trim(), password);
        setSignedIn(answer.user);
        navigate(safeNextPath(query.get('next')), { replace: true });
      },
      () =>
        collectErrors<Field>({
          email: validateEmail(email),
          password: required(password, 'your password'),
        }),
    );

  const unverified = form.banner?.reason === 'email_not_verified';

  return (
    <AuthCard
      title="Sign in to PaddleCloud"
      testId="login-page"
      footer={
        <>
          New here? <a href="/register">Create an account</a>
        </>
      }
    >
      {notice && !form.banner && <InfoBanner testId="login-notice">{notice}</InfoBanner>}
      {form.banner && (
        <ErrorBanner error={form.banner} testId="login-error">
          {unverified && <ResendVerification email={email.trim()} api={api} />}
        </ErrorBanner>
      )}
      <Form onSubmit={() => void onSubmit()} testId="login-form" label="Sign in">
        <TextField
          id="login-email"
          label="Email"
          type="email"
          autoComplete="username"
          {...bindField(form, 'email', email, setEmail)}
        />
        <TextField
          id="login-password"
          label="Password"
          aside={
            <a href="/forgot-password" class="field__aside" data-testid="forgot-password-link">
              Forgot password?
            </a>
          }
          type="password"
          autoComplete="current-password"
          {...bindField(form, 'password', password, setPassword)}
        />
        <SubmitButton pending={form.pending} pendingLabel="Signing in…" testId="login-submit">
          Sign in
        </SubmitButton>
      </Form>
    </AuthCard>
  );
}
