import type { VNode } from 'preact';
import { useState } from 'preact/hooks';
import type { Invitation, User } from '../../api/account';
import type { Confirmation } from '../../dialog';
import { ConfirmDialog, confirmationProps, useConfirmation } from '../../dialog';
import { bindField, ErrorBanner, SuccessBanner, TextField, useAction, useForm } from '../../forms';
import { formatUnixDate } from '../../format';
import { navigate } from '../../router';
import { setSignedOut, updateUser } from '../../session';
import { DataTable, RowButton } from '../../table';
import { validateEmail } from '../../validation';
import type { SectionProps } from './common';
import { FormPanel, ListPanel, Panel, Section, useLoad } from './common';

type MemberAction = { kind: 'remove'; member: User } | { kind: 'transfer'; member: User } | { kind: 'leave' };

export function MembersSection({ user, api }: SectionProps): VNode {
  const master = user.role === 'master';
  const members = useLoad((options) => api.listMembers(options));
  const confirming = useConfirmation<MemberAction>();
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
            {(members.data?.items ?? []).map((member) => (
              <MemberRow key={member.id} member={member} user={user} onAsk={confirming.ask} />
            ))}
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
      <MemberDialog confirming={confirming} act={act} account={user.account_id} />
    </Section>
  );
}

/** A member; for the master user, with buttons to hand over the master role and to remove (not on their own row). */
function MemberRow({ member, user, onAsk }: { member: User; user: User; onAsk: (action: MemberAction) => void }): VNode {
  const self = member.id === user.id;
  return (
    <tr data-testid={`member-${member.email}`}>
      <td>
        {member.display_name}
        {self && <span class="muted"> (you)</span>}
      </td>
      <td>{member.email}</td>
      <td>
        <span class={member.role === 'master' ? 'tag tag--primary' : 'tag'}>{member.role === 'master' ? 'Master user' : 'Member'}</span>
      </td>
      <td>{formatUnixDate(member.created_at)}</td>
      {user.role === 'master' && (
        <td class="table__actions">
          {!self && (
            <>
              <RowButton onClick={() => onAsk({ kind: 'transfer', member })} testId="member-make-master">
                Make master
              </RowButton>
              <RowButton danger onClick={() => onAsk({ kind: 'remove', member })} testId="member-remove">
                Remove
              </RowButton>
            </>
          )}
        </td>
      )}
    </tr>
  );
}

/** The confirmation of the asked action: remove a member, hand over the master role, or leave. */
function MemberDialog({
  confirming,
  act,
  account,
}: {
  confirming: Confirmation<MemberAction>;
  act: (action: MemberAction) => Promise<void>;
  account: string;
}): VNode | null {
  const asked = confirming.target;
  const dialog = confirmationProps(confirming, act);
  if (asked?.kind === 'remove') {
    return (
      <ConfirmDialog title="Remove this member?" confirmLabel="Remove member" pendingLabel="Removing…" danger {...dialog}>
        <p>
          <strong>{asked.member.email}</strong> loses access to the account <code>{account}</code> at once: their sessions, API
          tokens and keys stop working.
        </p>
      </ConfirmDialog>
    );
  }
  if (asked?.kind === 'transfer') {
    return (
      <ConfirmDialog title="Hand over the master role?" confirmLabel="Make master user" pendingLabel="Handing over…" {...dialog}>
        <p>
          <strong>{asked.member.email}</strong> becomes the master user of <code>{account}</code>. You become a member: you can
          no longer invite or remove people, or read the audit log, unless they hand the role back.
        </p>
      </ConfirmDialog>
    );
  }
  if (asked?.kind === 'leave') {
    return (
      <ConfirmDialog title={`Leave ${account}?`} confirmLabel="Leave account" pendingLabel="Leaving…" danger {...dialog}>
        <p>You will be signed out and your user deleted. This cannot be undone.</p>
      </ConfirmDialog>
    );
  }
  return null;
}

function InviteMembers({ api }: Pick<SectionProps, 'api'>): VNode {
  const invitations = useLoad((options) => api.listInvitations(options));
  const [sent, setSent] = useState<string | null>(null);
  return (
    <>
      <InvitePanel
        api={api}
        sent={sent}
        onSent={(email) => {
          setSent(email);
          invitations.reload();
        }}
      />
      <ListPanel title="Open invitations" loaded={invitations} what="invitations" empty="No open invitations.">
        {(open) => (
          <InvitationTable
            api={api}
            invitations={open}
            onWithdrawn={() => {
              setSent(null);
              invitations.reload();
            }}
          />
        )}
      </ListPanel>
    </>
  );
}

/** The static part of the form's panel. */
const INVITE_FORM = {
  title: 'Invite someone',
  submitLabel: 'Send invitation',
  pendingLabel: 'Sending…',
  testIds: { panel: 'invite-panel', error: 'invite-member-error', form: 'invite-form', submit: 'invite-member-submit' },
};

function InvitePanel({ api, sent, onSent }: Pick<SectionProps, 'api'> & { sent: string | null; onSent: (email: string | null) => void }): VNode {
  const [email, setEmail] = useState('');
  const form = useForm(['email'] as const, 'invite-member');
  const onSubmit = () =>
    form.submit(
      async () => {
        onSent(null);
        const invitation = await api.invite(email.trim());
        setEmail('');
        onSent(invitation.email);
      },
      () => {
        const problem = validateEmail(email);
        return problem ? { email: problem } : {};
      },
    );
  return (
    <FormPanel
      {...INVITE_FORM}
      form={form}
      onSubmit={onSubmit}
      notice={
        sent && (
          <SuccessBanner testId="invite-sent">
            Invitation sent to <strong>{sent}</strong>. The link in the mail works for 7 days.
          </SuccessBanner>
        )
      }
    >
      <TextField
        id="invite-member-email"
        label="Email"
        type="email"
        autoComplete="off"
        placeholder="name@example.com"
        {...bindField(form, 'email', email, setEmail)}
      />
    </FormPanel>
  );
}

function InvitationTable({
  api,
  invitations,
  onWithdrawn,
}: Pick<SectionProps, 'api'> & { invitations: readonly Invitation[]; onWithdrawn: () => void }): VNode {
  const withdraw = useAction();
  const [withdrawing, setWithdrawing] = useState<number | null>(null);
  const onWithdraw = (invitation: Invitation) => {
    setWithdrawing(invitation.id);
    void withdraw
      .run(async () => {
        await api.revokeInvitation(invitation.id);
        onWithdrawn();
      })
      .finally(() => setWithdrawing(null));
  };
  return (
    <>
      {withdraw.error && <ErrorBanner error={withdraw.error} testId="invitations-withdraw-error" />}
      <DataTable columns={['Email', 'Invited by', 'Sent', 'Expires']} actions testId="invitations-table">
        {invitations.map((invitation) => (
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
    </>
  );
}
