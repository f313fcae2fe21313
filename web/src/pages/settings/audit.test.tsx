import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AuditEvent } from '../../api/account';
import type { Mounted } from '../../test-utils';
import { choose, fakeAccountApi, mount, USER } from '../../test-utils';
import { auditQuery, describeAuditEvent } from './audit';
import { SettingsPage } from './SettingsPage';

const event = (code: string, details: AuditEvent['details'] = {}): AuditEvent => ({
  id: 1,
  at: 1_795_927_040,
  actor: 'ann@example.com',
  event: code,
  remote_address: '127.0.0.1',
  details,
});

describe('describeAuditEvent', () => {
  it('says what happened in words, not codes', () => {
    expect(describeAuditEvent(event('token.revoked', { id: 5, name: 'laptop' }))).toBe('Revoked the API token “laptop”');
    expect(describeAuditEvent(event('token.revoked', '{"id":5}'))).toBe('Revoked API token #5');
    expect(describeAuditEvent(event('share.link_created', { id: 2, path: 'datasets/mnist' }))).toBe(
      'Created a public link to datasets/mnist',
    );
    expect(describeAuditEvent(event('share.created', { path: 'models/out', account: 'bob-lab' }))).toBe(
      'Shared models/out with the account bob-lab',
    );
    expect(describeAuditEvent(event('publication.created', { kind: 'model', name: 'fal', version: '1' }))).toBe(
      'Published the model fal 1',
    );
    expect(describeAuditEvent(event('logout'))).toBe('Signed out');
  });

  it('spells out an event it does not know', () => {
    expect(describeAuditEvent(event('quota.raised', { new_limit: '20GiB' }))).toBe('Quota raised (new limit 20GiB)');
  });
});

describe('auditQuery', () => {
  it('maps the filters to the API’s kinds and time', () => {
    expect(auditQuery('', '', 1000)).toEqual({});
    expect(auditQuery('sharing', '24h', 100_000)).toEqual({ kind: 'share,publication', since: 100_000 - 86_400 });
    expect(auditQuery('sign-in', '', 0)).toEqual({ kind: 'login,logout' });
  });
});

describe('AuditSection', () => {
  let page: Mounted;
  afterEach(() => page?.unmount());

  it('shows sentences and asks the server again when a filter changes', async () => {
    const listAudit = vi.fn(async (query: { kind?: string } = {}) => ({
      items: query.kind ? [] : [event('token.created', { id: 3, name: 'ci' })],
      next_cursor: null,
    }));
    const api = fakeAccountApi({ listAudit });
    page = await mount(<SettingsPage user={USER} params={{ section: 'audit' }} api={api} />);
    const cell = page.byTestId('audit-event');
    expect(cell?.textContent).toBe('Created the API token “ci”');
    expect(cell?.getAttribute('data-event')).toBe('token.created');
    await choose(page.byTestId<HTMLSelectElement>('audit-filter-kind')!, 'sharing');
    expect(listAudit).toHaveBeenLastCalledWith(expect.objectContaining({ kind: 'share,publication' }));
    expect(page.text('audit-empty')).toMatch(/No events match/);
  });
});
