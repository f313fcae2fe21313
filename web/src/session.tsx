// Who is signed in: a small store the whole app reads, filled from GET /api/v1/session at start-up and
// updated on sign-in, sign-out and when the server says the session has ended.
//
// Pages that need a user are wrapped with `requireUser` (signed-out visitors go to /login?next=...);
// the sign-in and registration pages with `guestOnly` (signed-in visitors go on to the app).

import type { ComponentType, VNode } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { AccountApi, User } from './api/account';
import { accountApi } from './api/account';
import { ApiError, onSessionEnded, setCsrfToken } from './api/client';
import { ErrorBanner } from './forms';
import type { PageProps } from './router';
import { navigate, useLocation } from './router';
import { safeNextPath } from './validation';

export type Session =
  | { state: 'loading' }
  /** `notice`: why, shown on the sign-in page ("You signed out.", "Your session has ended ..."). */
  | { state: 'signed-out'; notice?: string }
  | { state: 'signed-in'; user: User }
  /** The server could not say (unreachable, or failing). */
  | { state: 'error'; error: ApiError };

let current: Session = { state: 'loading' };
const listeners = new Set<() => void>();

function set(next: Session): void {
  current = next;
  for (const listener of [...listeners]) listener();
}

export function getSession(): Session {
  return current;
}

/** The signed-in user, or undefined. */
export function currentUser(): User | undefined {
  return current.state === 'signed-in' ? current.user : undefined;
}

/** Asks the server who is signed in (GET /api/v1/session). */
export async function loadSession(api: Pick<AccountApi, 'whoIsSignedIn'> = accountApi): Promise<Session> {
  try {
    const me = await api.whoIsSignedIn();
    set(me ? { state: 'signed-in', user: me.user } : { state: 'signed-out' });
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      setCsrfToken(undefined);
      set({ state: 'signed-out' });
    } else {
      set({ state: 'error', error: err instanceof ApiError ? err : new ApiError(0, 'unknown', String(err)) });
    }
  }
  return current;
}

export function setSignedIn(user: User): void {
  set({ state: 'signed-in', user });
}

/** Replaces the signed-in user's record (after a profile change or a role change). */
export function updateUser(user: User): void {
  if (current.state === 'signed-in') set({ state: 'signed-in', user });
}

export function setSignedOut(notice?: string): void {
  setCsrfToken(undefined);
  set(notice === undefined ? { state: 'signed-out' } : { state: 'signed-out', notice });
}

/** Signs out on the server (best effort), forgets the user and goes to the sign-in page. */
export async function signOut(api: Pick<AccountApi, 'logout'> = accountApi): Promise<void> {
  try {
    await api.logout();
  } catch {
    // Already signed out on the server (expired, or signed out elsewhere): nothing more to do.
  }
  setSignedOut('You signed out.');
  navigate('/login');
}

/** For tests: back to the state before start-up. */
export function resetSession(): void {
  current = { state: 'loading' };
  for (const listener of [...listeners]) listener();
}

// A signed-in call answered 401: the session expired, was revoked or ended by a password change.
onSessionEnded(() => {
  if (current.state === 'signed-in') setSignedOut('Your session has ended; sign in again.');
});

/** The current session; re-renders the caller when it changes. */
export function useSession(): Session {
  const [session, setSession] = useState(current);
  useEffect(() => {
    const update = () => setSession(current);
    listeners.add(update);
    update();
    return () => {
      listeners.delete(update);
    };
  }, []);
  return session;
}

// ---- Route guards ----------------------------------------------------------------------------------

export interface SignedInPageProps extends PageProps {
  user: User;
}

function SessionProblem({ error }: { error: ApiError }): VNode {
  const [retrying, setRetrying] = useState(false);
  return (
    <section class="page" data-testid="session-error">
      <ErrorBanner error={error} prefix="Cannot check who is signed in." />
      <button
        type="button"
        class="button"
        disabled={retrying}
        onClick={() => {
          setRetrying(true);
          void loadSession().finally(() => setRetrying(false));
        }}
      >
        {retrying ? 'Retrying…' : 'Try again'}
      </button>
    </section>
  );
}

function Checking(): VNode {
  return (
    <p class="loading" data-testid="session-loading" aria-live="polite">
      Loading…
    </p>
  );
}

/** The login URL that comes back to `path` afterwards. */
export function loginPathFor(path: string): string {
  return path === '/' || path === '/dashboard' ? '/login' : `/login?next=${encodeURIComponent(path)}`;
}

/** Wraps a page that needs a signed-in user: signed-out visitors are sent to /login?next=<here>. */
export function requireUser(Page: ComponentType<SignedInPageProps>): ComponentType<PageProps> {
  function SignedInOnly(props: PageProps): VNode {
    const session = useSession();
    const { path, search } = useLocation();
    const signedOut = session.state === 'signed-out';
    useEffect(() => {
      if (signedOut) navigate(loginPathFor(`${path}${search}`), { replace: true });
    }, [signedOut, path, search]);
    if (session.state === 'signed-in') return <Page {...props} user={session.user} />;
    if (session.state === 'error') return <SessionProblem error={session.error} />;
    return <Checking />;
  }
  SignedInOnly.displayName = `requireUser(${Page.displayName ?? Page.name})`;
  return SignedInOnly;
}

/** Wraps the sign-in and registration pages: a signed-in visitor goes on to ?next= or /dashboard. */
export function guestOnly(Page: ComponentType<PageProps>): ComponentType<PageProps> {
  function GuestOnly(props: PageProps): VNode {
    const session = useSession();
    const { search } = useLocation();
    const signedIn = session.state === 'signed-in';
    useEffect(() => {
      if (signedIn) navigate(safeNextPath(new URLSearchParams(search).get('next')), { replace: true });
    }, [signedIn, search]);
    if (session.state === 'loading' || signedIn) return <Checking />;
    return <Page {...props} />;
  }
  GuestOnly.displayName = `guestOnly(${Page.displayName ?? Page.name})`;
  return GuestOnly;
}

/** "/": the dashboard for a signed-in user, the sign-in page otherwise. */
export function HomeRedirect(): VNode {
  const session = useSession();
  useEffect(() => {
    if (session.state === 'signed-in') navigate('/dashboard', { replace: true });
    else if (session.state === 'signed-out') navigate('/login', { replace: true });
  }, [session.state]);
  if (session.state === 'error') return <SessionProblem error={session.error} />;
  return <Checking />;
}

/** "/jobs": the job list lives at /dashboard (the page signed-in users land on). */
export function JobsRedirect(): VNode {
  const { search } = useLocation();
  useEffect(() => {
    navigate(`/dashboard${search}`, { replace: true });
  }, [search]);
  return <Checking />;
}
