import { describe, expect, it } from 'vitest';
import {
  collectErrors,
  hasErrors,
  required,
  safeNextPath,
  validateAccountId,
  validateDisplayName,
  validateEmail,
  validateNewPassword,
  validatePasswordConfirmation,
} from './validation';

describe('validateEmail', () => {
  it.each(['ada@example.com', ' ada@example.com ', 'a.b+c@sub.example.org'])('accepts %j', (email) => {
    expect(validateEmail(email)).toBeUndefined();
  });

  it.each(['', 'ada', 'ada@', '@example.com', 'ada@example', 'ada@.com', 'ada@example.', 'a@b@c.com', 'a b@c.com', '<a@b.com>'])(
    'rejects %j',
    (email) => {
      expect(validateEmail(email)).toMatch(/email/i);
    },
  );
});

describe('validateAccountId', () => {
  it.each(['abc', 'team-42', 'a'.repeat(40), 'a1-b2'])('accepts %j', (id) => {
    expect(validateAccountId(id)).toBeUndefined();
  });

  it.each([
    ['', /Choose/],
    ['ab', /3 to 40/],
    ['a'.repeat(41), /3 to 40/],
    ['Team', /lower-case/],
    ['team_a', /only lower-case letters, digits and '-'/],
    ['1team', /Start with a letter/],
    ['-team', /Start with a letter/],
    ['team-', /end with '-'/],
  ])('rejects %j', (id, message) => {
    expect(validateAccountId(id)).toMatch(message);
  });

  it('names what is wrong and suggests an ID that would do', () => {
    expect(validateAccountId('Alice Team')).toBe(
      "Use only lower-case letters, digits and '-': “Alice Team” has upper-case letters (A, T) and a space. Try “alice-team”.",
    );
    expect(validateAccountId('alice team')).toBe("Use only lower-case letters, digits and '-': “alice team” has a space. Try “alice-team”.");
    expect(validateAccountId('Team')).toBe("Use only lower-case letters, digits and '-': “Team” has an upper-case letter (T). Try “team”.");
    expect(validateAccountId('a_b.c d')).toBe("Use only lower-case letters, digits and '-': “a_b.c d” has a space and “_”, “.”. Try “a-b-c-d”.");
    expect(validateAccountId('X!')).toBe("Use only lower-case letters, digits and '-': “X!” has an upper-case letter (X) and “!”.");
    expect(validateAccountId('ab')).toBe('Use 3 to 40 characters (this has 2).');
    expect(validateAccountId('1team')).toBe('Start with a letter, not “1”.');
  });
});

describe('validateNewPassword', () => {
  it('accepts a long password', () => {
    expect(validateNewPassword('correct horse battery')).toBeUndefined();
  });

  it('counts characters, not bytes', () => {
    expect(validateNewPassword('ééééééééé')).toMatch(/at least 10/);
    expect(validateNewPassword('éééééééééx')).toBeUndefined();
  });

  it.each([
    ['', {}, /Choose a password/],
    ['short', {}, /at least 10/],
    ['aaaaaaaaaaaa', {}, /single character/],
    ['Ada@Example.com', { email: 'ada@example.com' }, /email/],
    ['ada.lovelace', { email: 'ada.lovelace@example.com' }, /email/],
    ['research-lab', { accountId: 'research-lab' }, /account ID/],
  ])('rejects %j with %j', (password, context, message) => {
    expect(validateNewPassword(password, context)).toMatch(message);
  });
});

describe('other checks', () => {
  it('required, confirmation and display name', () => {
    expect(required('  ', 'a name')).toBe('Enter a name.');
    expect(required('x', 'a name')).toBeUndefined();
    expect(validatePasswordConfirmation('abc', '')).toMatch(/Repeat/);
    expect(validatePasswordConfirmation('abc', 'abd')).toMatch(/do not match/);
    expect(validatePasswordConfirmation('abc', 'abc')).toBeUndefined();
    expect(validateDisplayName('')).toBeUndefined();
    expect(validateDisplayName('', { optional: false })).toMatch(/Enter a name/);
    expect(validateDisplayName('é'.repeat(51))).toMatch(/100 bytes/);
    expect(validateDisplayName('é'.repeat(50))).toBeUndefined();
  });

  it('collectErrors keeps only problems', () => {
    const errors = collectErrors({ email: 'bad', password: undefined });
    expect(errors).toEqual({ email: 'bad' });
    expect(hasErrors(errors)).toBe(true);
    expect(hasErrors(collectErrors({ email: undefined }))).toBe(false);
  });
});

describe('safeNextPath', () => {
  it.each([
    ['/settings/tokens', '/settings/tokens'],
    ['/settings?tab=1#x', '/settings?tab=1#x'],
    [null, '/dashboard'],
    ['', '/dashboard'],
    ['settings', '/dashboard'],
    ['//evil.example/x', '/dashboard'],
    ['/\\evil.example', '/dashboard'],
    ['https://evil.example/', '/dashboard'],
    ['/api/v1/me', '/dashboard'],
    ['/login', '/dashboard'],
    ['/register?x=1', '/dashboard'],
  ])('%j -> %j', (next, expected) => {
    expect(safeNextPath(next)).toBe(expected);
  });
});
