import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import { ErrorBanner, Form, SubmitButton, SuccessBanner, TextField, useForm } from '../../forms';
import { formatUnixDate } from '../../format';
import { updateUser } from '../../session';
import { validateDisplayName } from '../../validation';
import type { SectionProps } from './common';
import { Section } from './common';

export function ProfileSection({ user, api }: SectionProps): VNode {
  const [displayName, setDisplayName] = useState(user.display_name);
  const [saved, setSaved] = useState(false);
  const form = useForm(['display_name'] as const, 'profile');

  const onSubmit = () =>
    form.submit(
      async () => {
        setSaved(false);
        const answer = await api.updateMe(displayName.trim());
        updateUser(answer.user);
        setDisplayName(answer.user.display_name);
        setSaved(true);
      },
      () => {
        const problem = validateDisplayName(displayName, { optional: false });
        return problem ? { display_name: problem } : {};
      },
    );

  return (
    <Section title="Profile" description="How you appear to the other users of your account." testId="profile-section">
      <dl class="facts facts--wide">
        <dt>Email</dt>
        <dd data-testid="profile-email">{user.email}</dd>
        <dt>Account ID</dt>
        <dd>
          <code data-testid="profile-account-id">{user.account_id}</code>
        </dd>
        <dt>Role</dt>
        <dd data-testid="profile-role">{user.role === 'master' ? 'Master user' : 'Member'}</dd>
        <dt>Member since</dt>
        <dd>{formatUnixDate(user.created_at)}</dd>
      </dl>
      {saved && <SuccessBanner testId="profile-saved">Your display name is saved.</SuccessBanner>}
      {form.banner && <ErrorBanner error={form.banner} />}
      <Form onSubmit={() => void onSubmit()} testId="profile-form" label="Profile">
        <TextField
          id="profile-display_name"
          label="Display name"
          autoComplete="name"
          value={displayName}
          onValue={(value) => {
            setDisplayName(value);
            setSaved(false);
            form.clearError('display_name');
          }}
          error={form.errors.display_name}
        />
        <SubmitButton pending={form.pending} pendingLabel="Saving…" testId="profile-submit">
          Save
        </SubmitButton>
      </Form>
    </Section>
  );
}
