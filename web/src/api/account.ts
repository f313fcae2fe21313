// Accounts, sign-in and the signed-in user: typed calls to /api/v1/auth/*, /api/v1/me* and
// /api/v1/account* (see src/ops/openapi.json). Times are unix seconds.
import type { Download, RequestOptions } from './client';
import { delete as del, get, patch, post, requestFile, setCsrfToken } from './client';

export type Role = 'master' | 'member';

export interface User {
  id: number;
  account_id: string;
  email: string;
  display_name: string;
  role: Role;
  verified: boolean;
  created_at: number;
}

export interface Me {
  user: User;
  auth_method: 'session' | 'token' | 'certificate';
  csrf_token?: string;
}

export interface Account {
  id: string;
  display_name: string;
  created_at: number;
  members: number;
}

export interface ApiToken {
  id: number;
  name: string;
  /** The secret's first characters, to recognise it. */
  prefix: string;
  created_at: number;
  expires_at: number | null;
  /** "full": everything the user may do; "invoke": only calls to the account's serving instances. */
  scope?: TokenScope;
  last_used_at: number | null;
}

export type TokenScope = 'full' | 'invoke';

export interface CreatedApiToken extends ApiToken {
  /** The secret: only in the answer that created it. */
  token: string;
}

export interface Invitation {
  id: number;
  email: string;
  /** Email of the user who invited. */
  invited_by: string;
  created_at: number;
  expires_at: number;
  /** Present when described from a token. */
  account_id?: string;
}

export interface AuditEvent {
  id: number;
  at: number;
  /** Email of who acted, or "anonymous". */
  actor: string;
  /** e.g. "login.succeeded", "member.removed". */
  event: string;
  remote_address: string;
  /** A JSON object, sent as text or as an object. */
  details: string | Record<string, unknown>;
}

export interface AuditPage {
  items: AuditEvent[];
  /** Present when there may be older events. */
  next_cursor: string | null;
}

export interface Certificate {
  serial: string;
  subject: string;
  fingerprint_sha256: string;
  not_before: number;
  not_after: number;
  revoked_at: number | null;
  created_at: number;
}

export interface Items<T> {
  items: T[];
}

export interface RegisterInput {
  email: string;
  password: string;
  account_id: string;
  display_name?: string;
}

const seg = encodeURIComponent;

// ---- registration and sign-in (public) -----------------------------------------------------------

export function register(input: RegisterInput, options?: RequestOptions): Promise<{ user: User; verification_sent: boolean }> {
  return post('/api/v1/auth/register', input, options);
}

export function verifyEmail(token: string, options?: RequestOptions): Promise<{ user: User }> {
  return post('/api/v1/auth/verify', { token }, options);
}

export function resendVerification(email: string, options?: RequestOptions): Promise<{ message: string }> {
  return post('/api/v1/auth/verify/resend', { email }, options);
}

/** Signs in: the server sets the session cookie; the CSRF token is remembered for later calls. */
export async function login(
  email: string,
  password: string,
  options?: RequestOptions,
): Promise<{ user: User; csrf_token: string }> {
  const answer = await post<{ user: User; csrf_token: string }>('/api/v1/auth/login', { email, password }, options);
  setCsrfToken(answer.csrf_token);
  return answer;
}

/** Ends this browser's session; the CSRF token is forgotten whatever the answer. */
export async function logout(options?: RequestOptions): Promise<void> {
  try {
    await post<void>('/api/v1/auth/logout', undefined, options);
  } finally {
    setCsrfToken(undefined);
  }
}

export function requestPasswordReset(email: string, options?: RequestOptions): Promise<{ message: string }> {
  return post('/api/v1/auth/password-reset', { email }, options);
}

export function resetPassword(token: string, password: string, options?: RequestOptions): Promise<void> {
  return post('/api/v1/auth/password-reset/confirm', { token, password }, options);
}

export function describeInvitation(token: string, options?: RequestOptions): Promise<Invitation> {
  return post('/api/v1/auth/invitation', { token }, options);
}

export function acceptInvitation(
  input: { token: string; password: string; display_name?: string },
  options?: RequestOptions,
): Promise<{ user: User }> {
  return post('/api/v1/auth/invitation/accept', input, options);
}

// ---- the signed-in user ------------------------------------------------------------------------------

/** The signed-in user (401 when signed out); remembers the session's CSRF token. */
export async function getMe(options?: RequestOptions): Promise<Me> {
  const me = await get<Me>('/api/v1/me', options);
  setCsrfToken(me.csrf_token);
  return me;
}

/**
 * Who is signed in, asked at start-up: the user as getMe, or null for a visitor (GET /api/v1/session
 * answers visitors with 200, so a signed-out page load logs no error). Remembers the CSRF token.
 */
export async function whoIsSignedIn(options?: RequestOptions): Promise<Me | null> {
  const session = await get<Partial<Me> & { signed_in: boolean }>('/api/v1/session', options);
  setCsrfToken(session.signed_in ? session.csrf_token : undefined);
  if (!session.signed_in || !session.user || !session.auth_method) return null;
  return { user: session.user, auth_method: session.auth_method, csrf_token: session.csrf_token };
}

export function updateMe(displayName: string, options?: RequestOptions): Promise<{ user: User }> {
  return patch('/api/v1/me', { display_name: displayName }, options);
}

/** Ends the other sessions and, unless `keepTokens`, revokes the user's API tokens and SSL keys. */
export function changePassword(
  current: string,
  replacement: string,
  keepTokens = false,
  options?: RequestOptions,
): Promise<void> {
  return post(
    '/api/v1/me/password',
    { current_password: current, new_password: replacement, ...(keepTokens ? { keep_tokens: true } : {}) },
    options,
  );
}

export function listTokens(options?: RequestOptions): Promise<Items<ApiToken>> {
  return get('/api/v1/me/tokens', options);
}

export function createToken(
  input: { name: string; expires_in_days?: number; scope?: TokenScope },
  options?: RequestOptions,
): Promise<CreatedApiToken> {
  return post('/api/v1/me/tokens', input, options);
}

export function revokeToken(id: number, options?: RequestOptions): Promise<void> {
  return del(`/api/v1/me/tokens/${seg(String(id))}`, options);
}

export function listCertificates(options?: RequestOptions): Promise<Items<Certificate>> {
  return get('/api/v1/me/certificates', options);
}

/** Issues a client certificate and its key; the answer is a zip to save. */
export function createCertificate(validDays: number, options?: RequestOptions): Promise<Download> {
  return requestFile('POST', '/api/v1/me/certificates', { valid_days: validDays }, options);
}

export function revokeCertificate(serial: string, options?: RequestOptions): Promise<void> {
  return del(`/api/v1/me/certificates/${seg(serial)}`, options);
}

// ---- the account -------------------------------------------------------------------------------------

export function getAccount(options?: RequestOptions): Promise<Account> {
  return get('/api/v1/account', options);
}

export function listMembers(options?: RequestOptions): Promise<Items<User>> {
  return get('/api/v1/account/members', options);
}

export function removeMember(userId: number, options?: RequestOptions): Promise<void> {
  return del(`/api/v1/account/members/${seg(String(userId))}`, options);
}

export function transferMaster(userId: number, options?: RequestOptions): Promise<void> {
  return post('/api/v1/account/master', { user_id: userId }, options);
}

export function leaveAccount(options?: RequestOptions): Promise<void> {
  return post('/api/v1/account/leave', undefined, options);
}

export function listInvitations(options?: RequestOptions): Promise<Items<Invitation>> {
  return get('/api/v1/account/invitations', options);
}

export function invite(email: string, options?: RequestOptions): Promise<Invitation> {
  return post('/api/v1/account/invitations', { email }, options);
}

export function revokeInvitation(id: number, options?: RequestOptions): Promise<void> {
  return del(`/api/v1/account/invitations/${seg(String(id))}`, options);
}

export function listAudit(
  page: { limit?: number; cursor?: string; kind?: string; since?: number; until?: number } = {},
  options?: RequestOptions,
): Promise<AuditPage> {
  return get('/api/v1/account/audit', { ...options, query: { ...options?.query, ...page } });
}

/** Every call above, as one object: pages take it (or a test double) as their `api` prop. */
export const accountApi = {
  register,
  verifyEmail,
  resendVerification,
  login,
  logout,
  requestPasswordReset,
  resetPassword,
  describeInvitation,
  acceptInvitation,
  getMe,
  whoIsSignedIn,
  updateMe,
  changePassword,
  listTokens,
  createToken,
  revokeToken,
  listCertificates,
  createCertificate,
  revokeCertificate,
  getAccount,
  listMembers,
  removeMember,
  transferMaster,
  leaveAccount,
  listInvitations,
  invite,
  revokeInvitation,
  listAudit,
};

export type AccountApi = typeof accountApi;
