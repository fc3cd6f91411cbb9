/**
 * The report's fonts are PDF's built-in Helvetica, which can only show Windows-1252 (WinAnsi) characters. Every
 * piece of user or analysis text passes through `reportText` before it is drawn: control and invisible formatting
 * characters are removed, accented letters outside the set lose their accents, anything else becomes `?`, and the
 * length is capped so one field cannot run the report to hundreds of pages.
 */

/** The characters of Windows-1252 above 0x7F that are not Latin-1. */
const CP1252_EXTRAS = new Set('€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ');

function isDrawable(char: string): boolean {
  const code = char.codePointAt(0) ?? 0;
  return (code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff) || CP1252_EXTRAS.has(char);
}

const REPLACEMENTS: Readonly<Record<string, string>> = {
  '\u2190': '<-', '\u2192': '->', '\u2191': '^', '\u2193': 'v', '\u2264': '<=', '\u2265': '>=', '\u2212': '-',
  '\u2248': '~', '\u2713': '+', '\u2714': '+', '\u2717': 'x', '\u2718': 'x', '\u2032': "'", '\u2033': '"',
  '\u0141': 'L', '\u0142': 'l', '\u0110': 'D', '\u0111': 'd', '\u0131': 'i', '\u0126': 'H', '\u0127': 'h',
  '\u2010': '-', '\u2011': '-', '\u2012': '-', '\u2043': '-', '\u00ad': '',
};

export function reportText(value: unknown, maxLength = 2000): string {
  const raw = typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
  let out = '';
  let length = 0;
  for (const char of raw.normalize('NFC')) {
    if (length >= maxLength) {
      out = `${out.trimEnd()}…`;
      break;
    }
    const mapped = mapChar(char);
    out += mapped;
    length += mapped.length;
  }
  // Runs of whitespace (from removed controls, tabs, newlines) collapse to one space.
  return out.replace(/[ \u00a0]{2,}/g, ' ').trim();
}

function mapChar(char: string): string {
  if (isDrawable(char)) return char;
  const code = char.codePointAt(0) ?? 0;
  // Line breaks and tabs become spaces; other C0/C1 controls vanish.
  if (code === 0x09 || code === 0x0a || code === 0x0d || code === 0x85 || code === 0x2028 || code === 0x2029) return ' ';
  if (code < 0x20 || (code >= 0x7f && code < 0xa0)) return '';
  // Zero-width, bidirectional overrides and other invisible format characters could reorder or hide text.
  if (/\p{Cf}/u.test(char)) return '';
  if (/\p{Zs}/u.test(char)) return ' ';
  const replacement = REPLACEMENTS[char];
  if (replacement !== undefined) return replacement;
  const stripped = char.normalize('NFKD').replace(/\p{M}/gu, '');
  if (stripped && [...stripped].every(isDrawable)) return stripped;
  return '?';
}

/** Score band colours shared by the bars and badges: the same thresholds as the feedback rules. */
export function bandColour(percent: number): string {
  if (percent >= 80) return '#2f9e5b';
  if (percent >= 50) return '#e0a21b';
  return '#d64545';
}

export function clampPercent(value: unknown): number {
  const n = typeof value === 'number' && Number.isFinite(value) ? value : 0;
  return Math.min(100, Math.max(0, n));
}

export function formatDate(value: unknown): string {
  if (value === undefined || value === null || value === '') return '-';
  const date = value instanceof Date ? value : new Date(String(value));
  if (Number.isNaN(date.getTime())) return reportText(value, 40);
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
