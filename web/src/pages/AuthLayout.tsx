// Pieces shared by the signed-out pages: the centred card and the "resend verification" action.
import type { ComponentChildren, VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { AccountApi } from '../api/account';
import { accountApi } from '../api/account';
import { ErrorBanner, Form, SubmitButton, SuccessBanner, TextField, useForm } from '../forms';
import { validateEmail } from '../validation';

export function AuthCard({
  title,
  intro,
  testId,
  children,
  footer,
}: {
  title: string;
  intro?: ComponentChildren;
  testId: string;
  children: ComponentChildren;
  footer?: ComponentChildren;
}): VNode {
  return (
    <section class="page auth" data-testid={testId}>
      <div class="auth__card">
        <h1 class="page__title auth__title">{title}</h1>
        {intro && <p class="auth__intro">{intro}</p>}
        {children}
      </div>
      {footer && <p class="auth__footer">{footer}</p>}
    </section>
  );
}

export type ResendApi = Pick<AccountApi, 'resendVerification'>;

/**
 * Mails a new verification link. With `email` it is a single button; without, it asks for the address.
 * The server answers the same for any address, so the confirmation never tells whether it exists.
 */
export function ResendVerification({
  email,
  api = accountApi,
  label = 'Send a new verification link',
}: {
  email?: string;
  api?: ResendApi;
  label?: string;
}): VNode {
  const [address, setAddress] = useState(email ?? '');
  const [sentTo, setSentTo] = useState<string | null>(null);
  const form = useForm(['email'] as const, 'resend');

  const send = () =>
    form.submit(
      async () => {
        await api.resendVerification(address.trim());
        setSentTo(address.trim());
      },
      () => {
        const problem = validateEmail(address);
        return problem ? { email: problem } : {};
      },
    );

  return (
    <div class="resend" data-testid="resend">
      {sentTo && (
        <SuccessBanner testId="resend-sent">
          If <strong>{sentTo}</strong> is waiting for verification, a new link is on its way. Links work once, for 48 hours.
        </SuccessBanner>
      )}
      {form.banner && <ErrorBanner error={form.banner} testId="resend-error" />}
      <Form onSubmit={() => void send()} label="Resend verification">
        {email === undefined && (
          <TextField
            id="resend-email"
            label="Email"
            type="email"
            autoComplete="email"
            value={address}
            onValue={(value) => {
              setAddress(value);
              form.clearError('email');
            }}
            error={form.errors.email}
          />
        )}
        {email !== undefined && form.errors.email && (
          <p class="field__error" data-testid="resend-email-error">
            {form.errors.email}
          </p>
        )}
        <SubmitButton pending={form.pending} pendingLabel="Sending…" testId="resend-submit" variant="secondary">
          {sentTo ? 'Send another link' : label}
        </SubmitButton>
      </Form>
    </div>
  );
}
