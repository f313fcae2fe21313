import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import { ErrorBanner, Form, NewPasswordFields, SubmitButton, SuccessBanner, TextField, useForm } from '../../forms';
import {
  collectErrors,
  required,
  validateNewPassword,
  validatePasswordConfirmation,
} from '../../validation';
import type { SectionProps } from './common';
import { Section } from './common';

const FIELDS = ['current_password', 'new_password', 'confirmation'] as const;
type Field = (typeof FIELDS)[number];

/** The browser-side checks of a password change. */
function validateChange(user: SectionProps['user'], current: string, replacement: string, confirmation: string) {
  return collectErrors<Field>({
    current_password: required(current, 'your current password'),
    new_password:
      validateNewPassword(replacement, { email: user.email, accountId: user.account_id }) ??
      (replacement === current ? 'Choose a password different from the current one.' : undefined),
    confirmation: validatePasswordConfirmation(replacement, confirmation),
  });
}

export function PasswordSection({ user, api }: SectionProps): VNode {
  const [current, setCurrent] = useState('');
  const [replacement, setReplacement] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const [keepTokens, setKeepTokens] = useState(false);
  const [changed, setChanged] = useState(false);
  const form = useForm<Field>(FIELDS, 'password');

  const edit = (field: Field, set: (value: string) => void) => (value: string) => {
    set(value);
    setChanged(false);
    form.clearError(field);
  };

  const onSubmit = () =>
    form.submit(
      async () => {
        await api.changePassword(current, replacement, keepTokens);
        setCurrent('');
        setReplacement('');
        setConfirmation('');
        setChanged(true);
      },
      () => validateChange(user, current, replacement, confirmation),
    );

  return (
    <Section
      title="Password"
      description="Changing your password signs you out in every other browser and device (this one stays signed in) and revokes your API tokens and SSL keys, unless you keep them. Running jobs keep their own tokens."
      testId="password-section"
    >
      {changed && (
        <SuccessBanner testId="password-changed">
          Your password is changed. Your other sessions were ended{keepTokens ? '' : ', and your API tokens and SSL keys revoked'}.
        </SuccessBanner>
      )}
      {form.banner && <ErrorBanner error={form.banner} />}
      <Form onSubmit={() => void onSubmit()} testId="password-form" label="Change password">
        {/* Lets password managers tie the new password to this user. */}
        <input class="visually-hidden" type="text" name="username" autoComplete="username" value={user.email} readOnly tabIndex={-1} aria-hidden="true" />
        <TextField
          id="password-current_password"
          label="Current password"
          type="password"
          autoComplete="current-password"
          value={current}
          onValue={edit('current_password', setCurrent)}
          error={form.errors.current_password}
        />
        <NewPasswordFields
          form={form}
          idPrefix="password"
          field="new_password"
          label="New password"
          repeatLabel="Repeat the new password"
          password={replacement}
          setPassword={edit('new_password', setReplacement)}
          confirmation={confirmation}
          setConfirmation={edit('confirmation', setConfirmation)}
        />
        <KeepTokensToggle keep={keepTokens} onKeep={setKeepTokens} />
        <SubmitButton pending={form.pending} pendingLabel="Changing…" testId="password-submit">
          Change password
        </SubmitButton>
      </Form>
    </Section>
  );
}

function KeepTokensToggle({ keep, onKeep }: { keep: boolean; onKeep: (keep: boolean) => void }): VNode {
  return (
    <label class="filters__toggle">
      <input type="checkbox" checked={keep} onChange={(event) => onKeep(event.currentTarget.checked)} data-testid="password-keep-tokens" />{' '}
      Keep my API tokens and SSL keys working
    </label>
  );
}
