// The members' limits on the quota page: the master user edits each member's CPU, memory, GPUs and
// running jobs (empty: no limit beyond the account's quota); a member sees their own, read-only.
import type { VNode } from 'preact';
import { Fragment } from 'preact';
import { useState } from 'preact/hooks';
import type { AccountQuota, InUse, MemberLimits, MemberQuota, UsageApi } from '../../api/usage';
import { bindField, ErrorBanner, Form, SubmitButton, SuccessBanner, TextField, useForm } from '../../forms';
import { formatCores, formatSize, plural } from '../../format';
import type { LimitField, LimitsForm } from './limits';
import { LIMIT_FIELDS, LIMIT_LABELS, limitsInput, limitsToForm, validateLimits } from './limits';

export function MemberLimitsPanel({
  quota,
  master,
  userId,
  api,
  onSaved,
}: {
  quota: AccountQuota;
  master: boolean;
  userId: number;
  api: Pick<UsageApi, 'setMemberLimits'>;
  onSaved: () => void;
}): VNode {
  const own = quota.members.find((member) => member.user_id === userId);
  return (
    <section class="card quota-panel" aria-labelledby="quota-limits-title" data-testid="member-limits">
      <h2 class="card__title" id="quota-limits-title">
        {master ? 'Members’ limits' : 'Your limits'}
      </h2>
      <p class="muted quota-note">
        A limit caps what one member’s jobs may use at once, within the account’s quota; a job over it waits.
        {master ? ' Leave a field empty for no limit.' : ' The master user sets them.'}
      </p>
      {master ? (
        quota.members.length === 0 ? (
          <p class="muted">No members yet.</p>
        ) : (
          quota.members.map((member) => <MemberLimitsForm key={member.user_id} member={member} api={api} onSaved={onSaved} />)
        )
      ) : own ? (
        <OwnLimits member={own} />
      ) : (
        <p class="muted">No limits of your own: the account’s quota applies.</p>
      )}
    </section>
  );
}

function inUseText(used: InUse): string {
  return `${formatCores(used.cpu)}, ${formatSize(used.memory_bytes)}, ${plural(used.gpus, 'GPU')}, ${plural(used.running_jobs, 'running job')}`;
}

function limitText(field: LimitField, limits: MemberLimits): string {
  const value = { cpu: limits.cpu, memory: limits.memory_bytes, gpus: limits.gpus, running_jobs: limits.running_jobs }[field];
  if (value === null) return 'no limit';
  if (field === 'cpu') return formatCores(value);
  if (field === 'memory') return formatSize(value);
  return field === 'gpus' ? plural(value, 'GPU') : plural(value, 'job');
}

function OwnLimits({ member }: { member: MemberQuota }): VNode {
  return (
    <dl class="facts" data-testid="own-limits">
      {LIMIT_FIELDS.map((field) => (
        <Fragment key={field}>
          <dt>{LIMIT_LABELS[field]}</dt>
          <dd data-testid={`own-limit-${field}`}>{limitText(field, member.limits)}</dd>
        </Fragment>
      ))}
      <dt>In use now</dt>
      <dd data-testid="own-in-use">{inUseText(member.in_use)}</dd>
    </dl>
  );
}

const HINTS: Record<LimitField, string> = {
  cpu: 'cores: 8, 0.5, 500m',
  memory: '512Mi, 32Gi',
  gpus: 'a count',
  running_jobs: 'a count',
};

/** One member's limits as a form of its own; the server's error about a field shows under it. */
function MemberLimitsForm({ member, api, onSaved }: { member: MemberQuota; api: Pick<UsageApi, 'setMemberLimits'>; onSaved: () => void }): VNode {
  const prefix = `limits-${member.user_id}`;
  const form = useForm<LimitField>(LIMIT_FIELDS, prefix);
  const [values, setValues] = useState<LimitsForm>(() => limitsToForm(member.limits));
  const [saved, setSaved] = useState(false);
  const save = () =>
    void form.submit(
      async () => {
        setSaved(false);
        await api.setMemberLimits(member.user_id, limitsInput(values));
        setSaved(true);
        onSaved();
      },
      () => validateLimits(values),
    );
  const titleId = `${prefix}-title`;
  return (
    <section class="member-limits" aria-labelledby={titleId} data-testid="member-limits-form" data-user-id={member.user_id}>
      <h3 class="quota-subtitle" id={titleId}>
        {member.email}
      </h3>
      <p class="muted member-limits__use" data-testid={`${prefix}-in-use`}>
        In use now: {inUseText(member.in_use)}
      </p>
      <Form onSubmit={save} class="form form--inline member-limits__form" label={`Limits of ${member.email}`} testId={`${prefix}-form`}>
        {LIMIT_FIELDS.map((field) => (
          <TextField
            key={field}
            id={`${prefix}-${field}`}
            label={LIMIT_LABELS[field]}
            placeholder="no limit"
            hint={HINTS[field]}
            inputMode={field === 'gpus' || field === 'running_jobs' ? 'numeric' : 'text'}
            autoComplete="off"
            {...bindField(form, field, values[field], (value) => {
              setSaved(false);
              setValues((current) => ({ ...current, [field]: value }));
            })}
          />
        ))}
        <SubmitButton pending={form.pending} pendingLabel="Saving…" testId={`${prefix}-save`}>
          Save limits
        </SubmitButton>
      </Form>
      {form.banner && <ErrorBanner error={form.banner} prefix="Could not save the limits." testId={`${prefix}-error`} />}
      {saved && <SuccessBanner testId={`${prefix}-saved`}>The limits of {member.email} are saved.</SuccessBanner>}
    </section>
  );
}
