import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError } from '../api/client';
import { getSession, resetSession, setSignedOut } from '../session';
import type { Mounted } from '../test-utils';
import { click, fakeAccountApi, mount, submit, type, USER } from '../test-utils';
import { LoginPage } from './LoginPage';

let page: Mounted;

beforeEach(() => {
  resetSession();
  setSignedOut();
});

afterEach(() => {
  page?.unmount();
  window.history.replaceState(null, '', '/');
});

async function signIn(path: string, api = fakeAccountApi({ login: async () => ({ user: USER, csrf_token: 'tok' }) })) {
  window.history.replaceState(null, '', path);
  page = await mount(<LoginPage api={api} />);
  await type(page.byTestId('login-email'), ' ada@example.com ');
  await type(page.byTestId('login-password'), 'the password');
  await submit(page.byTestId('login-form'));
  return api;
}

describe('LoginPage', () => {
  it('signs in and goes to the dashboard', async () => {
    const api = await signIn('/login');
    expect(api.login).toHaveBeenCalledWith('ada@example.com', 'the password');
    expect(window.location.pathname).toBe('/dashboard');
    expect(getSession()).toEqual({ state: 'signed-in', user: USER });
  });

  it('goes to ?next= when it is a path on this site', async () => {
    await signIn(`/login?next=${encodeURIComponent('/settings/tokens?x=1')}`);
    expect(`${window.location.pathname}${window.location.search}`).toBe('/settings/tokens?x=1');
  });

  it('ignores a ?next= that leaves the site', async () => {
    await signIn(`/login?next=${encodeURIComponent('//evil.example/phish')}`);
    expect(window.location.pathname).toBe('/dashboard');
    expect(window.location.host).not.toBe('evil.example');
  });

  it('shows a wrong password in the banner and stays', async () => {
    const api = fakeAccountApi({
      login: async () => {
        throw new ApiError(401, 'unauthenticated', 'wrong email or password');
      },
    });
    await signIn('/login', api);
    expect(page.text('login-error-message')).toBe('Wrong email or password.');
    expect(window.location.pathname).toBe('/login');
    expect(getSession().state).toBe('signed-out');
  });

  it('offers a new verification link when the email is not verified', async () => {
    const api = fakeAccountApi({
      login: async () => {
        throw new ApiError(403, 'permission_denied', 'verify your email first: follow the link we sent to ada@example.com', {
          reason: 'email_not_verified',
        });
      },
      resendVerification: async () => ({ message: 'ok' }),
    });
    await signIn('/login', api);
    expect(page.text('login-error-message')).toMatch(/^Verify your email first/);
    await click(page.byTestId('resend-submit'));
    expect(api.resendVerification).toHaveBeenCalledWith('ada@example.com');
    expect(page.byTestId('resend-sent')).not.toBeNull();
  });

  it('checks the fields before sending, and shows why the visitor is here', async () => {
    setSignedOut('You signed out.');
    const api = fakeAccountApi();
    window.history.replaceState(null, '', '/login?email=ada%40example.com');
    page = await mount(<LoginPage api={api} />);
    expect(page.text('login-notice')).toBe('You signed out.');
    expect(page.byTestId<HTMLInputElement>('login-email')!.value).toBe('ada@example.com');
    await submit(page.byTestId('login-form'));
    expect(api.login).not.toHaveBeenCalled();
    expect(page.text('login-password-error')).toBe('Enter your password.');
    expect(page.byTestId('forgot-password-link')?.getAttribute('href')).toBe('/forgot-password');
  });
});
