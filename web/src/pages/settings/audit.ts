// The audit log in words: each event code ("token.revoked") with its details becomes a sentence
// ("Revoked the API token “laptop”"), and the filters the page offers map to the API's `kind`.
import type { AuditEvent } from '../../api/account';
import { formatUnix } from '../../format';

type Details = Record<string, unknown>;

const text = (value: unknown): string => (typeof value === 'string' ? value : value == null ? '' : JSON.stringify(value));
const quoted = (value: unknown): string => `“${text(value)}”`;

function tokenName(d: Details): string {
  return d['name'] ? `the API token ${quoted(d['name'])}` : d['id'] !== undefined ? `API token #${text(d['id'])}` : 'an API token';
}

function linkExpiry(d: Details): string {
  return typeof d['expires_at'] === 'number' ? `, expiring ${formatUnix(d['expires_at'])}` : '';
}

const SENTENCES: Record<string, (d: Details) => string> = {
  'account.registered': () => 'Registered the account',
  'email.verified': () => 'Verified the email address',
  'login.succeeded': () => 'Signed in',
  'login.failed': () => 'Failed to sign in (wrong email or password)',
  logout: () => 'Signed out',
  'password.changed': (d) => (d['kept_tokens'] ? 'Changed the password, keeping the API tokens' : 'Changed the password; API tokens and keys were revoked'),
  'password.change_failed': () => 'Tried to change the password with a wrong current password',
  'password.reset_requested': () => 'Asked for a password reset link',
  'password.reset': () => 'Reset the password; every session, token and key was revoked',
  'member.invited': (d) => `Invited ${text(d['email'])}`,
  'member.invitation_revoked': (d) => `Withdrew invitation #${text(d['invitation_id'])}`,
  'member.joined': () => 'Joined the account',
  'member.removed': (d) => `Removed the member ${text(d['email'])}`,
  'member.master_transferred': (d) => `Handed the master role to ${text(d['to'])}`,
  'member.left': () => 'Left the account',
  'token.created': (d) => `Created ${tokenName(d)}`,
  'token.revoked': (d) => `Revoked ${tokenName(d)}`,
  'certificate.created': (d) => `Created a client certificate (serial ${text(d['serial'])})`,
  'certificate.revoked': (d) => `Revoked the client certificate with serial ${text(d['serial'])}`,
  'share.created': (d) => `Shared ${text(d['path'])} with the account ${text(d['account'])}`,
  'share.revoked': (d) => `Stopped sharing ${text(d['path'])} with the account ${text(d['account'])}`,
  'share.link_created': (d) => `Created a public link to ${text(d['path'])}${linkExpiry(d)}`,
  'share.link_revoked': (d) => `Revoked the public link to ${text(d['path'])}`,
  'publication.created': (d) => `Published the ${text(d['kind'])} ${text(d['name'])} ${text(d['version'])}`,
  'publication.withdrawn': (d) => `Withdrew the published ${text(d['kind'])} ${text(d['name'])} ${text(d['version'])}`,
};

function detailsOf(event: AuditEvent): Details {
  const raw: unknown = event.details;
  if (raw && typeof raw === 'object' && !Array.isArray(raw)) return raw as Details;
  if (typeof raw === 'string') {
    try {
      const parsed: unknown = JSON.parse(raw);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Details;
    } catch {
      // Not JSON: no details to use.
    }
  }
  return {};
}

/** The event as a sentence; an event this page does not know yet is spelled out from its code. */
export function describeAuditEvent(event: AuditEvent): string {
  const details = detailsOf(event);
  const sentence = SENTENCES[event.event];
  if (sentence) return sentence(details);
  const words = event.event.replaceAll(/[._]/g, ' ');
  const extra = Object.entries(details)
    .map(([key, value]) => `${key.replaceAll('_', ' ')} ${text(value)}`)
    .join(', ');
  return `${words.charAt(0).toUpperCase()}${words.slice(1)}${extra ? ` (${extra})` : ''}`;
}

/** The page's kind filter: a label and the API kinds it stands for. */
export const AUDIT_KIND_FILTERS: ReadonlyArray<{ value: string; label: string; kinds: string }> = [
  { value: '', label: 'All events', kinds: '' },
  { value: 'sign-in', label: 'Sign-ins', kinds: 'login,logout' },
  { value: 'password', label: 'Passwords', kinds: 'password' },
  { value: 'token', label: 'API tokens', kinds: 'token' },
  { value: 'certificate', label: 'Keys (client certificates)', kinds: 'certificate' },
  { value: 'member', label: 'Members', kinds: 'member' },
  { value: 'sharing', label: 'Sharing, links and publishing', kinds: 'share,publication' },
  { value: 'account', label: 'Account and email', kinds: 'account,email' },
];

/** The page's time filter: seconds back from now, 0 for any time. */
export const AUDIT_PERIODS: ReadonlyArray<{ value: string; label: string; seconds: number }> = [
  { value: '', label: 'Any time', seconds: 0 },
  { value: '24h', label: 'Last 24 hours', seconds: 86_400 },
  { value: '7d', label: 'Last 7 days', seconds: 7 * 86_400 },
  { value: '30d', label: 'Last 30 days', seconds: 30 * 86_400 },
];

/** The API query of the chosen filters (`now` in unix seconds). */
export function auditQuery(kind: string, period: string, now: number): { kind?: string; since?: number } {
  const query: { kind?: string; since?: number } = {};
  const kinds = AUDIT_KIND_FILTERS.find((k) => k.value === kind)?.kinds ?? '';
  if (kinds) query.kind = kinds;
  const seconds = AUDIT_PERIODS.find((p) => p.value === period)?.seconds ?? 0;
  if (seconds > 0) query.since = now - seconds;
  return query;
}
