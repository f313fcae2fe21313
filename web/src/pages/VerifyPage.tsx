import type { VNode } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { AccountApi, User } from '../api/account';
import { accountApi } from '../api/account';
import type { ApiError } from '../api/client';
import { ErrorBanner, isAbort, toApiError, useLinkToken } from '../forms';
import type { PageProps } from '../router';
import { useDocumentTitle } from '../title';
import { AuthCard, ResendVerification } from './AuthLayout';

export type VerifyApi = Pick<AccountApi, 'verifyEmail' | 'resendVerification'>;

type State = { step: 'verifying' } | { step: 'done'; user: User } | { step: 'failed'; error: ApiError } | { step: 'no-token' };

export interface VerifyPageProps extends Partial<PageProps> {
  api?: VerifyApi;
}

/** The page behind the mailed link /verify?token=...: verifies the address once. */
export function VerifyPage({ api = accountApi }: VerifyPageProps): VNode {
  useDocumentTitle('Verify your email');
  const token = useLinkToken();
  const [state, setState] = useState<State>(token ? { step: 'verifying' } : { step: 'no-token' });
  const started = useRef(false);

  useEffect(() => {
    // The token works once: never send it twice, even if the effect were to run again.
    if (!token || started.current) return;
    started.current = true;
    api.verifyEmail(token).then(
      (answer) => setState({ step: 'done', user: answer.user }),
      (err) => {
        if (!isAbort(err)) setState({ step: 'failed', error: toApiError(err) });
      },
    );
  }, [api, token]);

  if (state.step === 'verifying') {
    return (
      <AuthCard title="Verifying your email…" testId="verify-page">
        <p class="loading" data-testid="verify-pending" aria-live="polite">
          One moment.
        </p>
      </AuthCard>
    );
  }

  if (state.step === 'done') return <Verified user={state.user} />;

  if (state.step === 'no-token') {
    return (
      <AuthCard title="Verify your email" testId="verify-page">
        <ErrorBanner
          testId="verify-error"
          error="This page needs the link from the verification mail. Open the link from the mail, or ask for a new one."
        />
        <ResendVerification api={api} />
      </AuthCard>
    );
  }

  return <VerifyFailed error={state.error} api={api} />;
}

function Verified({ user }: { user: User }): VNode {
  return (
    <AuthCard title="Registration succeeded" testId="verify-page">
      <div class="banner banner--ok" role="status" data-testid="verify-success">
        Registration succeeded: you can sign in now.
      </div>
      <p>
        <strong>{user.email}</strong> is verified and the account <code data-testid="verify-account">{user.account_id}</code>{' '}
        is ready. We also mailed you a confirmation.
      </p>
      <p>
        <a class="button" href={`/login?email=${encodeURIComponent(user.email)}`} data-testid="verify-sign-in">
          Sign in
        </a>
      </p>
    </AuthCard>
  );
}

/** A link that did not work: used already (sign in), or expired or unknown (ask for a new one). */
function VerifyFailed({ error, api }: { error: ApiError; api: VerifyApi }): VNode {
  return (
    <AuthCard title="This link did not work" testId="verify-page">
      <ErrorBanner error={error} testId="verify-error" />
      {error.status === 409 ? (
        <p>
          <a class="button" href="/login" data-testid="verify-sign-in">
            Sign in
          </a>
        </p>
      ) : (
        <>
          <p class="muted">Ask for a new verification link; it replaces this one.</p>
          <ResendVerification api={api} />
        </>
      )}
    </AuthCard>
  );
}
