import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, getCsrfToken, setCsrfToken } from './api/client';
import type { PageProps } from './router';
import { Router } from './router';
import type { SignedInPageProps } from './session';
import {
  getSession,
  guestOnly,
  HomeRedirect,
  loadSession,
  loginPathFor,
  requireUser,
  resetSession,
  setSignedIn,
  setSignedOut,
  signOut,
} from './session';
import type { Mounted } from './test-utils';
import { flush, mount, USER } from './test-utils';

const Private = ({ user }: SignedInPageProps) => <p data-testid="private">hello {user.email}</p>;
const Login = (_: PageProps) => <p data-testid="login">login</p>;
const routes = [
  { path: '/', component: HomeRedirect },
  { path: '/settings/:section', component: requireUser(Private) },
  { path: '/dashboard', component: requireUser(Private) },
  { path: '/login', component: guestOnly(Login) },
];

let app: Mounted;

beforeEach(() => {
  resetSession();
});

afterEach(() => {
  app?.unmount();
  setCsrfToken(undefined);
  vi.unstubAllGlobals();
  window.history.replaceState(null, '', '/');
});

async function open(path: string) {
  window.history.replaceState(null, '', path);
  app = await mount(<Router routes={routes} notFound={() => null} />);
}

describe('loadSession', () => {
  it('remembers the user and the CSRF token from GET /api/v1/session', async () => {
    const fetchMock = vi.fn(async (_input: RequestInfo | URL) =>
      new Response(JSON.stringify({ signed_in: true, user: USER, auth_method: 'session', csrf_token: 'tok' }), {
        status: 200,
      }),
    );
    vi.stubGlobal('fetch', fetchMock);
    await loadSession();
    expect(String(fetchMock.mock.calls[0]?.[0])).toBe('/api/v1/session');
    expect(getSession()).toEqual({ state: 'signed-in', user: USER });
    expect(getCsrfToken()).toBe('tok');
  });

  it('is signed out for a visitor, without an error response', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ signed_in: false }), { status: 200 })));
    await loadSession();
    expect(getSession()).toEqual({ state: 'signed-out' });
    expect(getCsrfToken()).toBeUndefined();
  });

  it('is signed out on 401 (a revoked bearer token) and an error otherwise', async () => {
    await loadSession({
      whoIsSignedIn: async () => {
        throw new ApiError(401, 'unauthenticated', 'sign in first');
      },
    });
    expect(getSession()).toEqual({ state: 'signed-out' });
    await loadSession({
      whoIsSignedIn: async () => {
        throw new ApiError(0, 'unreachable', 'offline');
      },
    });
    expect(getSession()).toMatchObject({ state: 'error', error: { code: 'unreachable' } });
  });
});

describe('route guards', () => {
  it('waits while the session is loading, then shows the page to a signed-in user', async () => {
    await open('/settings/tokens');
    expect(app.byTestId('session-loading')).not.toBeNull();
    setSignedIn(USER);
    await flush();
    expect(app.text('private')).toBe('hello ada@example.com');
  });

  it('sends a signed-out visitor to /login?next=<here>', async () => {
    setSignedOut();
    await open('/settings/tokens?x=1');
    expect(window.location.pathname).toBe('/login');
    expect(new URLSearchParams(window.location.search).get('next')).toBe('/settings/tokens?x=1');
    expect(app.byTestId('login')).not.toBeNull();
  });

  it('redirects to /login without ?next= for the dashboard and "/"', async () => {
    expect(loginPathFor('/dashboard')).toBe('/login');
    setSignedOut();
    await open('/dashboard');
    expect(`${window.location.pathname}${window.location.search}`).toBe('/login');
    app.unmount();
    await open('/');
    expect(window.location.pathname).toBe('/login');
  });

  it('sends the user back to /login when the session ends while on a page', async () => {
    setSignedIn(USER);
    await open('/settings/members');
    expect(app.byTestId('private')).not.toBeNull();
    setSignedOut('Your session has ended; sign in again.');
    await flush();
    expect(window.location.pathname).toBe('/login');
    expect(new URLSearchParams(window.location.search).get('next')).toBe('/settings/members');
  });

  it('sends a signed-in user away from /login to ?next= or the dashboard', async () => {
    setSignedIn(USER);
    await open('/login?next=%2Fsettings%2Fkeys');
    expect(window.location.pathname).toBe('/settings/keys');
    app.unmount();
    await open('/');
    expect(window.location.pathname).toBe('/dashboard');
  });
});

describe('signOut', () => {
  it('ends the session on the server, forgets the token and goes to /login', async () => {
    setSignedIn(USER);
    setCsrfToken('tok');
    const logout = vi.fn(async () => {
      setCsrfToken(undefined);
    });
    window.history.replaceState(null, '', '/settings');
    await signOut({ logout });
    expect(logout).toHaveBeenCalledTimes(1);
    expect(getSession()).toEqual({ state: 'signed-out', notice: 'You signed out.' });
    expect(getCsrfToken()).toBeUndefined();
    expect(window.location.pathname).toBe('/login');
  });

  it('still signs out locally when the server call fails', async () => {
    setSignedIn(USER);
    await signOut({
      logout: async () => {
        throw new ApiError(401, 'unauthenticated', 'your session has ended');
      },
    });
    expect(getSession().state).toBe('signed-out');
  });
});
