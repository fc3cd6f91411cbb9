import { domainToASCII, domainToUnicode } from 'node:url';

/** A user as the domain sees it: never carries the password hash out of the auth service. */
export interface User {
  id: string;
  email: string;
  name: string;
  isAdmin: boolean;
  settings: Record<string, unknown>;
  createdAt: Date;
}

export interface UserWithPasswordHash extends User {
  passwordHash: string;
}

// Format characters (zero-width space and joiners, word joiner, BOM, soft hyphen, bidi marks...) are invisible, so
// two addresses differing only by them look identical: they are dropped, never kept as part of an identity.
const INVISIBLE = /[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu;
// `İ` lower-cases to `i` + combining dot above, which renders as a plain `i`.
const DOTTED_I = /([ij])\u0307/g;

/**
 * The one spelling of an email address used for signup, login and every lookup, so that look-alike spellings of one
 * address are one account: NFKC (fullwidth `ａ` → `a`), invisible characters removed, trimmed, lower-cased, and the
 * domain in its ASCII (IDNA) form, one spelling per mailbox. An ASCII address is unchanged apart from case and
 * surrounding spaces, so rows stored before this rule (lower-cased ASCII) already are in this form.
 * Total: an address it cannot make sense of is returned normalised as far as it goes, for `emailAddressProblem`.
 */
export function normalizeEmail(email: string): string {
  const folded = email.normalize('NFKC').replace(INVISIBLE, '').trim().toLowerCase().normalize('NFKC')
    .replace(DOTTED_I, '$1');
  const at = folded.lastIndexOf('@');
  if (at < 0) return folded;
  const domain = folded.slice(at + 1);
  return `${folded.slice(0, at)}@${domainToASCII(domain) || domain}`;
}

type ConfusableScript = 'Latin' | 'Cyrillic' | 'Greek';
const SCRIPTS: ReadonlyArray<[ConfusableScript, RegExp]> = [
  ['Latin', /\p{Script=Latin}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Greek', /\p{Script=Greek}/u],
];
/** Latin letters drawn to pass for `i` and `j`: refused rather than folded, since they may name another mailbox. */
const DOTLESS = /[\u0131\u0237]/u;

/**
 * Why a normalised address is refused as a look-alike, or null. The rule is deliberately simple: the local part,
 * and each label of the domain, may use letters of at most one of Latin, Cyrillic and Greek (the scripts whose
 * letters pass for each other); letters of other scripts, digits and punctuation are free. The domain must be
 * ASCII or valid IDNA. Not caught: a whole part written in one look-alike script (`аррӏе` all Cyrillic), and
 * look-alikes inside one script beyond dotless i/j.
 */
export function emailAddressProblem(normalized: string): string | null {
  const at = normalized.lastIndexOf('@');
  if (at < 0) return null;
  const local = normalized.slice(0, at);
  const asciiDomain = normalized.slice(at + 1);
  if (!/^[\x21-\x7e]*$/.test(asciiDomain) || domainToASCII(asciiDomain) === '') return 'the domain is not a valid domain name';
  if (DOTLESS.test(normalized)) return 'it contains a dotless i or j';
  for (const part of [local, ...domainToUnicode(asciiDomain).split('.')]) {
    const scripts = SCRIPTS.filter(([, pattern]) => pattern.test(part)).map(([name]) => name);
    if (scripts.length > 1) return `it mixes ${scripts.join(' and ')} letters`;
  }
  return null;
}
