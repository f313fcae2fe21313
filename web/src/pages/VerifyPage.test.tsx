import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../api/client';
import type { Mounted } from '../test-utils';
import { fakeAccountApi, mount, USER } from '../test-utils';
import { VerifyPage } from './VerifyPage';

let page: Mounted;
afterEach(() => {
  page?.unmount();
  window.history.replaceState(null, '', '/');
});

describe('VerifyPage', () => {
  it('verifies the token once, removes it from the address bar and says registration succeeded', async () => {
    window.history.replaceState(null, '', '/verify?token=abc123');
    const api = fakeAccountApi({ verifyEmail: async () => ({ user: USER }) });
    page = await mount(<VerifyPage api={api} />);
    expect(api.verifyEmail).toHaveBeenCalledTimes(1);
    expect(api.verifyEmail).toHaveBeenCalledWith('abc123');
    expect(`${window.location.pathname}${window.location.search}`).toBe('/verify');
    expect(page.text('verify-success')).toBe('Registration succeeded: you can sign in now.');
    expect(page.byTestId('verify-sign-in')?.getAttribute('href')).toBe('/login?email=ada%40example.com');
  });

  it('offers a new link for an expired or unknown link', async () => {
    window.history.replaceState(null, '', '/verify?token=old');
    const api = fakeAccountApi({
      verifyEmail: async () => {
        throw new ApiError(400, 'invalid_argument', 'this verification link has expired; ask for a new one', { field: 'token' });
      },
    });
    page = await mount(<VerifyPage api={api} />);
    expect(page.text('verify-error-message')).toBe('This verification link has expired; ask for a new one.');
    expect(page.byTestId('resend-email')).not.toBeNull();
  });

  it('points to sign-in when the link was already used', async () => {
    window.history.replaceState(null, '', '/verify?token=used');
    const api = fakeAccountApi({
      verifyEmail: async () => {
        throw new ApiError(409, 'conflict', 'this verification link was already used; sign in', { field: 'token' });
      },
    });
    page = await mount(<VerifyPage api={api} />);
    expect(page.byTestId('verify-sign-in')?.getAttribute('href')).toBe('/login');
    expect(page.byTestId('resend')).toBeNull();
  });

  it('explains a visit without a token and sends nothing', async () => {
    window.history.replaceState(null, '', '/verify');
    const api = fakeAccountApi();
    page = await mount(<VerifyPage api={api} />);
    expect(api.verifyEmail).not.toHaveBeenCalled();
    expect(page.text('verify-error')).toMatch(/needs the link from the verification mail/);
  });
});
