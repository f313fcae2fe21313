import { afterEach, describe, expect, it, vi } from 'vitest';
import type { User } from '../../api/account';
import type { Mounted } from '../../test-utils';
import { choose, click, fakeAccountApi, flush, mount, submit, type, USER as MASTER } from '../../test-utils';
import { SettingsPage } from './SettingsPage';

const MEMBER: User = { ...MASTER, id: 2, email: 'grace@example.com', display_name: 'Grace', role: 'member' };

let page: Mounted;
afterEach(() => {
  page?.unmount();
  vi.unstubAllGlobals();
});

const tabs = () => [...page.container.querySelectorAll('[data-testid="settings-tabs"] a')].map((a) => a.textContent);

describe('SettingsPage', () => {
  it('shows the audit log tab to the master user only', async () => {
    const api = fakeAccountApi();
    page = await mount(<SettingsPage user={MASTER} params={{}} api={api} />);
    expect(tabs()).toEqual(['Profile', 'Password', 'Members', 'API tokens', 'SSL keys', 'Audit log']);
    expect(page.byTestId('settings-tab-profile')?.getAttribute('aria-current')).toBe('page');
    page.unmount();
    page = await mount(<SettingsPage user={MEMBER} params={{ section: 'audit' }} api={api} />);
    expect(tabs()).not.toContain('Audit log');
    expect(page.byTestId('not-found')).not.toBeNull();
  });

  it('creates an API token and shows its secret once, with a copy button', async () => {
    const writeText = vi.fn(async () => {});
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } });
    const created = {
      id: 5,
      name: 'laptop',
      prefix: 'pct_abcdef',
      created_at: 1_795_927_040,
      expires_at: 1_795_927_040 + 30 * 86_400,
      last_used_at: null,
      token: 'pct_abcdef_the_secret',
    };
    const { token: _secret, ...listed } = created;
    let items: (typeof listed)[] = [];
    const api = fakeAccountApi({
      listTokens: async () => ({ items }),
      createToken: async () => {
        items = [listed];
        return created;
      },
    });
    page = await mount(<SettingsPage user={MASTER} params={{ section: 'tokens' }} api={api} />);
    expect(page.byTestId('tokens-empty')).not.toBeNull();

    await type(page.byTestId('token-name'), 'laptop');
    await choose(page.byTestId('token-expires_in_days'), '30');
    await submit(page.byTestId('token-form'));
    expect(api.createToken).toHaveBeenCalledWith({ name: 'laptop', expires_in_days: 30, scope: 'full' });
    expect(page.byTestId<HTMLInputElement>('token-secret')!.value).toBe('pct_abcdef_the_secret');
    expect(page.text('token-secret-warning')).toMatch(/shown only this once/);
    expect(page.byTestId('token-row-laptop')).not.toBeNull();
    expect(page.byTestId('token-row-laptop')?.textContent).not.toContain('the_secret');

    await click(page.byTestId('token-copy'));
    expect(writeText).toHaveBeenCalledWith('pct_abcdef_the_secret');
    expect(page.text('token-copy')).toBe('Copied');

    await click(page.byTestId('token-secret-done'));
    expect(page.byTestId('token-secret')).toBeNull();
    expect(page.container.textContent).not.toContain('the_secret');
  });

  it('creates a token without expiry when "Never" is chosen, and checks the name first', async () => {
    const api = fakeAccountApi({
      listTokens: async () => ({ items: [] }),
      createToken: async () => ({ id: 1, name: 'ci', prefix: 'pct_x', created_at: 1, expires_at: null, last_used_at: null, token: 'pct_x_y' }),
    });
    page = await mount(<SettingsPage user={MASTER} params={{ section: 'tokens' }} api={api} />);
    await submit(page.byTestId('token-form'));
    expect(api.createToken).not.toHaveBeenCalled();
    expect(page.text('token-name-error')).toBe('Enter a name for the token.');
    await type(page.byTestId('token-name'), 'ci');
    await choose(page.byTestId('token-expires_in_days'), '');
    await submit(page.byTestId('token-form'));
    expect(api.createToken).toHaveBeenCalledWith({ name: 'ci', scope: 'full' });
  });

  it('creates an invoke-only token for client applications and says so in the list', async () => {
    const created = { id: 2, name: 'app', prefix: 'pct_i', created_at: 1, expires_at: null, last_used_at: null,
                      scope: 'invoke' as const, token: 'pct_i_secret' };
    const { token: _secret, ...listed } = created;
    let items: (typeof listed)[] = [];
    const api = fakeAccountApi({
      listTokens: async () => ({ items }),
      createToken: async () => {
        items = [listed];
        return created;
      },
    });
    page = await mount(<SettingsPage user={MASTER} params={{ section: 'tokens' }} api={api} />);
    await type(page.byTestId('token-name'), 'app');
    await choose(page.byTestId('token-scope'), 'invoke');
    await submit(page.byTestId('token-form'));
    expect(api.createToken).toHaveBeenCalledWith({ name: 'app', expires_in_days: 90, scope: 'invoke' });
    expect(page.byTestId('token-row-app')?.textContent).toContain('Invoke only');
  });

  it('changes the password revoking tokens by default, or keeping them when asked', async () => {
    const api = fakeAccountApi({ changePassword: async () => {} });
    page = await mount(<SettingsPage user={MASTER} params={{ section: 'password' }} api={api} />);
    const fill = async () => {
      await type(page.container.querySelector('#password-current_password'), 'old passphrase here');
      await type(page.container.querySelector('#password-new_password'), 'a much better passphrase');
      await type(page.container.querySelector('#password-confirmation'), 'a much better passphrase');
    };
    await fill();
    await submit(page.byTestId('password-form'));
    expect(api.changePassword).toHaveBeenLastCalledWith('old passphrase here', 'a much better passphrase', false);
    expect(page.text('password-changed')).toMatch(/API tokens and SSL keys revoked/);

    await click(page.byTestId('password-keep-tokens'));
    await fill();
    await submit(page.byTestId('password-form'));
    expect(api.changePassword).toHaveBeenLastCalledWith('old passphrase here', 'a much better passphrase', true);
    expect(page.text('password-changed')).not.toMatch(/revoked/);
  });

  it('lets a member leave the account after confirming', async () => {
    window.history.replaceState(null, '', '/settings/members');
    const api = fakeAccountApi({
      listMembers: async () => ({ items: [MASTER, MEMBER] }),
      leaveAccount: async () => {},
    });
    page = await mount(<SettingsPage user={MEMBER} params={{ section: 'members' }} api={api} />);
    expect(page.byTestId('invite-panel')).toBeNull();
    expect(page.byTestId('member-remove')).toBeNull();
    await click(page.byTestId('leave-account'));
    expect(api.leaveAccount).not.toHaveBeenCalled();
    await click(page.byTestId('confirm-dialog-confirm'));
    await flush();
    expect(api.leaveAccount).toHaveBeenCalledTimes(1);
    expect(window.location.pathname).toBe('/login');
  });

  it('lets the master remove a member after confirming', async () => {
    let members = [MASTER, MEMBER];
    const api = fakeAccountApi({
      listMembers: async () => ({ items: members }),
      listInvitations: async () => ({ items: [] }),
      removeMember: async () => {
        members = [MASTER];
      },
    });
    page = await mount(<SettingsPage user={MASTER} params={{ section: 'members' }} api={api} />);
    expect(page.byTestId('invite-panel')).not.toBeNull();
    expect(page.container.querySelectorAll('[data-testid="member-remove"]')).toHaveLength(1);
    await click(page.byTestId('member-remove'));
    await click(page.byTestId('confirm-dialog-cancel'));
    expect(page.byTestId('confirm-dialog')).toBeNull();
    await click(page.byTestId('member-remove'));
    await click(page.byTestId('confirm-dialog-confirm'));
    expect(api.removeMember).toHaveBeenCalledWith(MEMBER.id);
    expect(page.text('members-notice')).toContain('grace@example.com');
    expect(page.byTestId('member-grace@example.com')).toBeNull();
  });
});
