// Checks run in the browser before a form is sent. They mirror the server's rules so people see a
// problem next to the field at once; the server stays the authority (it also rejects common passwords).
// Each returns the message to show, or undefined when the value is fine.

/** Field name -> message; only fields with a problem have an entry. */
export type FieldErrors<F extends string = string> = Partial<Record<F, string>>;

export const PASSWORD_MIN_LENGTH = 10;
export const ACCOUNT_ID_MIN_LENGTH = 3;
export const ACCOUNT_ID_MAX_LENGTH = 40;
export const DISPLAY_NAME_MAX_BYTES = 100;

export const PASSWORD_HINT = `At least ${PASSWORD_MIN_LENGTH} characters; not a common password, your email or the account ID.`;
export const ACCOUNT_ID_HINT =
  `${ACCOUNT_ID_MIN_LENGTH}–${ACCOUNT_ID_MAX_LENGTH} lower-case letters, digits or '-'; ` +
  "starts with a letter, does not end with '-'. It names your team's workspace and cannot change.";

/** Code points, as the server counts password length. */
function characters(text: string): number {
  return [...text].length;
}

function utf8Bytes(text: string): number {
  return new TextEncoder().encode(text).length;
}

export function required(value: string, what: string): string | undefined {
  return value.trim() === '' ? `Enter ${what}.` : undefined;
}

/** The same shape check as the server: one '@', a dot in the domain, no spaces or brackets. */
export function validateEmail(email: string): string | undefined {
  const value = email.trim();
  if (value === '') return 'Enter your email address.';
  const at = value.indexOf('@');
  const domain = value.slice(at + 1);
  const ok =
    value.length <= 254 &&
    at > 0 &&
    at === value.lastIndexOf('@') &&
    domain.indexOf('.') > 0 &&
    !value.endsWith('.') &&
    !/[\s<>,"\u007f]/.test(value);
  return ok ? undefined : 'Enter an email address like name@example.com.';
}

function listText(parts: readonly string[]): string {
  return parts.length <= 1 ? (parts[0] ?? '') : `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

/** The characters a name of lower-case letters, digits and '-' may not have, for people: "upper-case letters (A, T) and a space". */
function unwantedCharacters(value: string): string {
  const unique = (pattern: RegExp) => [...new Set([...value].filter((c) => pattern.test(c)))];
  const upper = unique(/[A-Z]/);
  const spaces = [...value].filter((c) => /\s/.test(c)).length;
  const others = unique(/[^A-Za-z0-9\s-]/);
  const parts: string[] = [];
  if (upper.length > 0) parts.push(`${upper.length === 1 ? 'an upper-case letter' : 'upper-case letters'} (${upper.join(', ')})`);
  if (spaces > 0) parts.push(spaces === 1 ? 'a space' : `${spaces} spaces`);
  if (others.length > 0) parts.push(others.map((c) => `“${c}”`).join(', '));
  return listText(parts);
}

/**
 * The problem with a name like an account ID or a job name (a DNS label: `min`-`max` lower-case
 * letters, digits or '-', starting with a letter, not ending with '-'), saying what is wrong with this
 * one and, when it has characters it may not have, a name that would do.
 */
export function labelProblem(value: string, min: number, max: number): string | undefined {
  const unwanted = unwantedCharacters(value);
  if (unwanted !== '') {
    const suggestion = value
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^[^a-z]+/, '')
      .slice(0, max)
      .replace(/-+$/, '');
    const hint = suggestion.length >= min ? ` Try “${suggestion}”.` : '';
    return `Use only lower-case letters, digits and '-': “${value}” has ${unwanted}.${hint}`;
  }
  if (value.length < min || value.length > max) return `Use ${min} to ${max} characters (this has ${value.length}).`;
  if (!/^[a-z]/.test(value)) return `Start with a letter, not “${value[0]}”.`;
  if (value.endsWith('-')) return "Do not end with '-'.";
  return undefined;
}

export function validateAccountId(accountId: string): string | undefined {
  if (accountId === '') return 'Choose an account ID.';
  return labelProblem(accountId, ACCOUNT_ID_MIN_LENGTH, ACCOUNT_ID_MAX_LENGTH);
}

/** A new password: the checks the browser can make (the common-password list stays on the server). */
export function validateNewPassword(
  password: string,
  context: { email?: string; accountId?: string } = {},
): string | undefined {
  if (password === '') return 'Choose a password.';
  if (characters(password) < PASSWORD_MIN_LENGTH) return `Use at least ${PASSWORD_MIN_LENGTH} characters.`;
  if (utf8Bytes(password) > 1024) return 'Use at most 1024 bytes.';
  if ([...password].every((c) => c === password[0])) return 'Do not repeat a single character.';
  const lowered = password.toLowerCase();
  const email = context.email?.trim().toLowerCase();
  if (email && (lowered === email || lowered === email.split('@')[0])) return 'Do not use your email address.';
  if (context.accountId && lowered === context.accountId.toLowerCase()) return 'Do not use the account ID.';
  return undefined;
}

export function validatePasswordConfirmation(password: string, confirmation: string): string | undefined {
  if (confirmation === '') return 'Repeat the password.';
  return password === confirmation ? undefined : 'The passwords do not match.';
}

/** Optional; at most 100 bytes of UTF-8, as the server allows. */
export function validateDisplayName(name: string, { optional = true } = {}): string | undefined {
  if (name.trim() === '') return optional ? undefined : 'Enter a name.';
  return utf8Bytes(name) > DISPLAY_NAME_MAX_BYTES ? 'Use at most 100 bytes (about 100 letters).' : undefined;
}

/** The entries of `checks` that found a problem. */
export function collectErrors<F extends string>(checks: Record<F, string | undefined>): FieldErrors<F> {
  const errors: FieldErrors<F> = {};
  for (const [field, message] of Object.entries(checks) as Array<[F, string | undefined]>) {
    if (message !== undefined) errors[field] = message;
  }
  return errors;
}

export function hasErrors(errors: FieldErrors): boolean {
  return Object.keys(errors).length > 0;
}

/**
 * Where to go after signing in: `next` when it is a path on this site (not "//host", not a server
 * path such as /api/...), otherwise `fallback`.
 */
export function safeNextPath(next: string | null | undefined, fallback = '/dashboard'): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return fallback;
  let url: URL;
  try {
    url = new URL(next, 'http://in-app.invalid');
  } catch {
    return fallback;
  }
  if (url.origin !== 'http://in-app.invalid') return fallback;
  if (/^\/(api|healthz|readyz|metrics)(\/|$)/.test(url.pathname)) return fallback;
  if (/^\/(login|register)(\/|$)/.test(url.pathname)) return fallback;
  return `${url.pathname}${url.search}${url.hash}`;
}
