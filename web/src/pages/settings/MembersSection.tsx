import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { Invitation, User } from '../../api/account';
import { ConfirmDialog, confirmationProps, useConfirmation } from '../../dialog';
import { ErrorBanner, Form, SubmitButton, SuccessBanner, TextField, useAction, useForm } from '../../forms';
import { formatUnixDate } from '../../format';
import { navigate } from '../../router';
import { setSignedOut, updateUser } from '../../session';
import { DataTable, RowButton } from '../../table';
import { validateEmail } from '../../validation';
import type { SectionProps } from './common';
import { Panel, Section, useLoad } from './common';

type MemberAction = { kind: 'remove'; member: User } | { kind: 'transfer'; member: User } | { kind: 'leave' };

export function MembersSection({ user, api }: SectionProps): VNode {
  const master = user.role === 'master';
  const members = useLoad((options) => api.listMembers(options));
  const confirming = useConfirmation<MemberAction>();
  const asked = confirming.target;
  const [notice, setNotice] = useState<string | null>(null);

  const act = async (current: MemberAction) => {
    if (current.kind === 'remove') {
      await api.removeMember(current.member.id);
      setNotice(`${current.member.email} was removed from the account.`);
      members.reload();
    } else if (current.kind === 'transfer') {
      await api.transferMaster(current.member.id);
      setNotice(`${current.member.email} is now the master user; you are a member.`);
      const me = await api.getMe();
      updateUser(me.user);
      members.reload();
    } else {
      await api.leaveAccount();
      setSignedOut(`You left the account ${user.account_id}.`);
      navigate('/login');
    }
  };
  const dialog = confirmationProps(confirming, act);

  return (
    <Section
      title="Members"
      description={
        master
          ? 'Everyone here signs in to this account and shares its jobs, data and quota. As the master user you invite and remove members and can hand the master role to another member.'
          : 'Everyone here signs in to this account and shares its jobs, data and quota. The master user manages the members.'
      }
      testId="members-section"
    >
      {notice && <SuccessBanner testId="members-notice">{notice}</SuccessBanner>}
      {members.error && <ErrorBanner error={members.error} testId="members-error" />}

      <Panel title="People in this account">
        {members.data === undefined && members.loading ? (
          <p class="loading">Loading members…</p>
        ) : (
          <DataTable columns={['Name', 'Email', 'Role', 'Joined']} actions={master} testId="members-table">
            {(members.data?.items ?? []).map((member) => {
              const self = member.id === user.id;
              return (
                <tr key={member.id} data-testid={`member-${member.email}`}>
                  <td>
                    {member.display_name}
                    {self && <span class="muted"> (you)</span>}
                  </td>
                  <td>{member.email}</td>
                  <td>
                    <span class={member.role === 'master' ? 'tag tag--primary' : 'tag'}>
                      {member.role === 'master' ? 'Master user' : 'Member'}
                    </span>
                  </td>
                  <td>{formatUnixDate(member.created_at)}</td>
                  {master && (
                    <td class="table__actions">
                      {!self && (
                        <>
                          <RowButton onClick={() => confirming.ask({ kind: 'transfer', member })} testId="member-make-master">
                            Make master
                          </RowButton>
                          <RowButton danger onClick={() => confirming.ask({ kind: 'remove', member })} testId="member-remove">
                            Remove
                          </RowButton>
                        </>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
          </DataTable>
        )}
      </Panel>

      {master && <InviteMembers api={api} />}

      {!master && (
        <Panel title="Leave this account" testId="leave-panel">
          <p class="muted">
            You lose access to the account's jobs and data and your user is deleted. To come back, ask the master user for a
            new invitation.
          </p>
          <button type="button" class="button button--danger" onClick={() => confirming.ask({ kind: 'leave' })} data-testid="leave-account">
            Leave {user.account_id}
          </button>
        </Panel>
      )}

      {asked?.kind === 'remove' && (
        <ConfirmDialog
          title="Remove this member?"
          confirmLabel="Remove member"
          pendingLabel="Removing…"
          danger
          {...dialog}
        >
          <p>
            <strong>{asked.member.email}</strong> loses access to the account <code>{user.account_id}</code> at once:
            their sessions, API tokens and keys stop working.
          </p>
        </ConfirmDialog>
      )}
      {asked?.kind === 'transfer' && (
        <ConfirmDialog
          title="Hand over the master role?"
          confirmLabel="Make master user"
          pendingLabel="Handing over…"
          {...dialog}
        >
          <p>
            <strong>{asked.member.email}</strong> becomes the master user of <code>{user.account_id}</code>. You become a
            member: you can no longer invite or remove people, or read the audit log, unless they hand the role back.
          </p>
        </ConfirmDialog>
      )}
      {asked?.kind === 'leave' && (
        <ConfirmDialog
          title={`Leave ${user.account_id}?`}
          confirmLabel="Leave account"
          pendingLabel="Leaving…"
          danger
          {...dialog}
        >
          <p>You will be signed out and your user deleted. This cannot be undone.</p>
        </ConfirmDialog>
      )}
    </Section>
  );
}

function InviteMembers({ api }: Pick<SectionProps, 'api'>): VNode {
  const invitations = useLoad((options) => api.listInvitations(options));
  const [email, setEmail] = useState('');
  const [sent, setSent] = useState<string | null>(null);
  const form = useForm(['email'] as const, 'invite-member');
  const withdraw = useAction();
  const [withdrawing, setWithdrawing] = useState<number | null>(null);

  const onSubmit = () =>
    form.submit(
      async () => {
        setSent(null);
        const invitation = await api.invite(email.trim());
        setSent(invitation.email);
        setEmail('');
        invitations.reload();
      },
      () => {
        const problem = validateEmail(email);
        return problem ? { email: problem } : {};
      },
    );

  const onWithdraw = (invitation: Invitation) => {
    setWithdrawing(invitation.id);
    void withdraw
      .run(async () => {
        await api.revokeInvitation(invitation.id);
        setSent(null);
        invitations.reload();
      })
      .finally(() => setWithdrawing(null));
  };

  const open = invitations.data?.items ?? [];

  return (
    <>
      <Panel title="Invite someone" testId="invite-panel">
        {sent && (
          <SuccessBanner testId="invite-sent">
            Invitation sent to <strong>{sent}</strong>. The link in the mail works for 7 days.
          </SuccessBanner>
        )}
        {form.banner && <ErrorBanner error={form.banner} testId="invite-member-error" />}
        <Form onSubmit={() => void onSubmit()} class="form form--inline" testId="invite-form" label="Invite someone">
          <TextField
            id="invite-member-email"
            label="Email"
            type="email"
            autoComplete="off"
            placeholder="name@example.com"
            value={email}
            onValue={(value) => {
              setEmail(value);
              form.clearError('email');
            }}
            error={form.errors.email}
          />
          <SubmitButton pending={form.pending} pendingLabel="Sending…" testId="invite-member-submit">
            Send invitation
          </SubmitButton>
        </Form>
      </Panel>

      <Panel title="Open invitations" testId="invitations-panel">
        {invitations.error && <ErrorBanner error={invitations.error} testId="invitations-error" />}
        {withdraw.error && <ErrorBanner error={withdraw.error} testId="invitations-withdraw-error" />}
        {invitations.data === undefined && invitations.loading ? (
          <p class="loading">Loading invitations…</p>
        ) : open.length === 0 ? (
          <p class="muted" data-testid="invitations-empty">
            No open invitations.
          </p>
        ) : (
          <DataTable columns={['Email', 'Invited by', 'Sent', 'Expires']} actions testId="invitations-table">
            {open.map((invitation) => (
              <tr key={invitation.id} data-testid={`invitation-${invitation.email}`}>
                <td>{invitation.email}</td>
                <td>{invitation.invited_by}</td>
                <td>{formatUnixDate(invitation.created_at)}</td>
                <td>{formatUnixDate(invitation.expires_at)}</td>
                <td class="table__actions">
                  <RowButton disabled={withdrawing !== null} onClick={() => onWithdraw(invitation)} testId="invitation-withdraw">
                    {withdrawing === invitation.id ? 'Withdrawing…' : 'Withdraw'}
                  </RowButton>
                </td>
              </tr>
            ))}
          </DataTable>
        )}
      </Panel>
    </>
  );
}
