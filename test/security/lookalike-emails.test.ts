// Issue 13, item 11: each look-alike the attack used, one by one: fullwidth letters and a zero-width space fold into
// the plain address (one account); a Cyrillic і (U+0456) and a dotless ı (U+0131) in a Latin address are refused.
// The HTTP behaviour (both families, 400 shapes, login into the plain account) is in src/auth/live-auth.routes.test.ts.
import { describe, expect, it } from 'vitest';
import { emailAddressProblem, normalizeEmail } from '../../src/users/user.ts';

describe('look-alike emails named in issue 13', () => {
  it.each([
    ['fullwidth letters', '\uFF41\uFF4C\uFF49\uFF43\uFF45@example.com'],
    ['a zero-width space', 'ali\u200Bce@example.com'],
    ['a BOM and a word joiner', '\uFEFFal\u2060ice@example.com'],
    ['a capital dotted İ', 'AL\u0130CE@EXAMPLE.COM'],
  ])('folds %s into the plain address', (_what, email) => {
    const normalized = normalizeEmail(email);
    expect(normalized).toBe('alice@example.com');
    expect(emailAddressProblem(normalized)).toBeNull();
  });

  it.each([
    ['a Cyrillic і', 'al\u0456ce@example.com', /mixes Latin and Cyrillic/],
    ['a Cyrillic а in the domain', 'alice@ex\u0430mple.com', /mixes Latin and Cyrillic/],
    ['a dotless ı', 'al\u0131ce@example.com', /dotless/],
    ['a Greek ο', 'b\u03BFb@example.com', /mixes Latin and Greek/],
  ])('refuses %s in a Latin address', (_what, email, problem) => {
    expect(emailAddressProblem(normalizeEmail(email))).toMatch(problem);
  });

  it('leaves a plain address and one written wholly in another script alone', () => {
    expect(emailAddressProblem(normalizeEmail('  Alice@Example.COM '))).toBeNull();
    expect(emailAddressProblem(normalizeEmail('иван@пример.рф'))).toBeNull();
  });
});
