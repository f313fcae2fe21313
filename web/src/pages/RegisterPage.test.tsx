import { afterEach, describe, expect, it } from 'vitest';
import { ApiError } from '../api/client';
import type { Mounted } from '../test-utils';
import { click, fakeAccountApi, flush, mount, USER as SIGNED_IN, submit, type } from '../test-utils';
import { RegisterPage } from './RegisterPage';

/** The user just registered: not verified yet. */
const USER = { ...SIGNED_IN, verified: false };

let page: Mounted;
afterEach(() => page?.unmount());

async function fillForm(values: { email?: string; password?: string; accountId?: string; name?: string }) {
  await type(page.byTestId('register-email'), values.email ?? 'ada@example.com');
  await type(page.byTestId('register-password'), values.password ?? 'a sturdy passphrase');
  await type(page.byTestId('register-account_id'), values.accountId ?? 'ada-lab');
  await type(page.byTestId('register-display_name'), values.name ?? '');
}

describe('RegisterPage', () => {
  it('shows the server error for a field next to that field, not in the banner', async () => {
    const api = fakeAccountApi({
      register: async () => {
        throw new ApiError(409, 'conflict', "account ID 'ada-lab' is taken; choose another", { field: 'account_id' });
      },
    });
    page = await mount(<RegisterPage api={api} />);
    await fillForm({});
    await submit(page.byTestId('register-form'));

    expect(api.register).toHaveBeenCalledWith({ email: 'ada@example.com', password: 'a sturdy passphrase', account_id: 'ada-lab' });
    expect(page.text('register-account_id-error')).toBe("Account ID 'ada-lab' is taken; choose another.");
    const input = page.byTestId<HTMLInputElement>('register-account_id')!;
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(input.getAttribute('aria-describedby')).toContain('register-account_id-error');
    expect(page.byTestId('form-error')).toBeNull();
    expect(page.byTestId<HTMLButtonElement>('register-submit')!.disabled).toBe(false);

    // Editing the field clears its error.
    await type(input, 'ada-lab-2');
    expect(page.byTestId('register-account_id-error')).toBeNull();
  });

  it('shows other errors in a banner', async () => {
    const api = fakeAccountApi({
      register: async () => {
        throw new ApiError(429, 'resource_exhausted', 'too many emails from this address; try again in 60 s', {
          retry_after: '60',
        });
      },
    });
    page = await mount(<RegisterPage api={api} />);
    await fillForm({});
    await submit(page.byTestId('register-form'));
    expect(page.text('form-error')).toBe('Too many emails from this address; try again in 60 s.');
    expect(page.byTestId('form-error')?.getAttribute('role')).toBe('alert');
  });

  it('checks the fields in the browser before sending anything', async () => {
    const api = fakeAccountApi();
    page = await mount(<RegisterPage api={api} />);
    await fillForm({ email: 'ada@', password: 'short', accountId: 'Ada Lab' });
    await submit(page.byTestId('register-form'));
    expect(api.register).not.toHaveBeenCalled();
    expect(page.text('register-email-error')).toMatch(/name@example.com/);
    expect(page.text('register-password-error')).toMatch(/at least 10/);
    expect(page.text('register-account_id-error')).toMatch(/lower-case/);
    expect(page.byTestId('register-display_name-error')).toBeNull();
  });

  it('disables the submit button while the request is pending', async () => {
    let finish: (value: { user: typeof USER; verification_sent: boolean }) => void = () => {};
    const api = fakeAccountApi({ register: () => new Promise((resolve) => (finish = resolve)) });
    page = await mount(<RegisterPage api={api} />);
    await fillForm({});
    await submit(page.byTestId('register-form'));
    const button = page.byTestId<HTMLButtonElement>('register-submit')!;
    expect(button.disabled).toBe(true);
    expect(button.textContent).toBe('Registering…');
    await submit(page.byTestId('register-form'));
    expect(api.register).toHaveBeenCalledTimes(1);
    finish({ user: USER, verification_sent: true });
    await flush();
    expect(page.byTestId('register-done')).not.toBeNull();
  });

  it('then asks to check the mail, and can resend the link', async () => {
    const api = fakeAccountApi({
      register: async () => ({ user: USER, verification_sent: true }),
      resendVerification: async () => ({ message: 'on its way' }),
    });
    page = await mount(<RegisterPage api={api} />);
    await fillForm({ name: '  Ada  ' });
    await submit(page.byTestId('register-form'));
    expect(api.register).toHaveBeenCalledWith(expect.objectContaining({ display_name: 'Ada' }));
    expect(page.text('register-done-text')).toContain('ada@example.com');
    expect(page.text('register-done-text')).toContain('ada-lab');

    await click(page.byTestId('resend-submit'));
    expect(api.resendVerification).toHaveBeenCalledWith('ada@example.com');
    expect(page.text('resend-sent')).toContain('ada@example.com');
  });
});
