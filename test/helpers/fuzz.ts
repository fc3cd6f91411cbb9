import { readdir } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { expect } from 'vitest';
import { ERROR_CODES } from '../../src/errors/app-error.ts';
import type { DatabaseHandle } from '../../src/infra/db/database.ts';

/**
 * Shared pieces of the property/fuzz suites (test/security/fuzz*.test.ts): hostile inputs, the family error
 * shapes, and a snapshot of everything a request could leave behind (rows and stored files).
 */

/** One fixed seed: a failure reproduces on every machine, and CI time stays predictable. */
export const FUZZ_SEED = 20_240_707;

export function fuzzParams(numRuns: number): fc.Parameters<unknown> {
  return { seed: FUZZ_SEED, numRuns };
}

export type Family = 'studio' | 'live';

/** Strings that have broken servers before: NUL, lone surrogates, traversal, injection, huge, look-alikes. */
export const NASTY_STRINGS: readonly string[] = [
  '', ' ', '\u0000', 'a\u0000b', '\ud800', 'x\udfffy', '😀', '👨‍👩‍👧‍👦', '\u202e\u0041', 'İı', '１２３', '\r\n', '\t',
  '../../etc/passwd', '..\\..\\windows\\win.ini', '%2e%2e%2f', '%00', '/dev/null', 'C:\\boot.ini',
  "' OR '1'='1' --", '"; DROP TABLE users; --', '<script>alert(1)</script>', '${jndi:ldap://x/a}', '{{7*7}}',
  '__proto__', 'constructor', 'null', 'undefined', 'NaN', '-1', '1e309', '0x10', 'true',
  'x'.repeat(5001), '😀'.repeat(3000),
];

export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  // Any UTF-16 code units, lone surrogates included.
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }) },
);

export const nastyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -0, -1, 1e308, -1e308, 2 ** 53 + 1, 5e-324, 90.000001, 241, 8.64e15 + 1, 1e11),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Any JSON value, shallow and small, built from hostile leaves (nested objects stay a few levels deep). */
export const nastyJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 3 },
    nastyString, nastyNumber, fc.boolean(), fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(nastyString, fc.constantFrom('image', 'Frame', 'x', 'a'.repeat(5001))), tie('value'), { maxKeys: 4 }),
  ),
})).value;

/** Deeply nested JSON text (arrays or objects), as a parser or a recursive serializer would meet it. */
export const deeplyNested: fc.Arbitrary<string> = fc.record({
  depth: fc.integer({ min: 500, max: 30_000 }),
  kind: fc.constantFrom('array', 'object'),
}).map(({ depth, kind }) => (kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`));

/** JSON text that is not valid JSON, or valid JSON that parsers handle specially. */
export const malformedJson: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', '{', '[', '{"a":', '{"a":1,}', "{'a':1}", 'nul', 'undefined', 'NaN', '{"a":NaN}', '\u0000',
    '\ufeff{}', '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}', '{"a":1}{"b":2}',
    '"\\ud800"', '{"a":"\\u0000"}', '1'.repeat(400), '[1,2,', '{"a":1e99999}'),
  // A valid document cut anywhere.
  fc.tuple(fc.json(), fc.nat()).map(([text, cut]) => text.slice(0, cut % Math.max(1, text.length))),
);

/** Bytes → `%XX` for everything outside the unreserved set, so any string (even a lone surrogate) fits a URL. */
export function percentEncode(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((byte) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');
}

/**
 * Path segments an id could be replaced with: traversal, bad percent-encoding, NUL, emoji, very long, near-UUIDs.
 * Dot segments (`..`, `%2e%2e`) are left out: `inject` resolves them as any HTTP client would, so they never arrive.
 */
export const nastyPathSegment: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(
    '..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '%252e%252e%252f', '%00', 'a%00b',
    '%zz', '%', '%E2%82', '%C0%AE%C0%AE', '%F0%9F%98%80', '%ED%A0%80', 'x'.repeat(10_000), '0', '-1', 'null', '~',
    '00000000-0000-0000-0000-000000000000', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF', '00000000-0000-0000-0000-00000000000g',
    '00000000-0000-0000-0000-000000000000%00', '%27%20OR%201%3D1%20--', '%0d%0aSet-Cookie:%20a=1', '%20', '+',
  ) },
  { weight: 2, arbitrary: nastyString.map(percentEncode) },
  { weight: 1, arbitrary: fc.uuid() },
).filter((segment) => !/^(\.|%2e){1,2}$/i.test(segment));

/** Query strings: hostile values for known and unknown keys, plus raw malformed encodings. */
export function nastyQuery(keys: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.dictionary(fc.constantFrom(...keys, 'x', '__proto__', 'a[b]'), fc.oneof(nastyString, nastyNumber.map(String)), { maxKeys: 3 })
      .map((query) => Object.entries(query).map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&')),
    fc.constantFrom('%zz', 'a=%', '&&&', '=', 'limit=1e400', 'limit=-0', 'limit=1&limit=2', 'cursor=%00', 'view=%F0%9F%98%80'),
  ).map((query) => (query ? `?${query}` : ''));
}

/**
 * Asserts the answer is no 5xx and, when an error, has its family's body: studio `{error, code, ...}`,
 * live exactly `{detail, code}`; the code is one of the closed set.
 */
export function expectNoServerError(response: LightMyRequestResponse, family: Family, what: string): void {
  expect(response.statusCode, `${what} → ${response.statusCode} ${response.body.slice(0, 300)}`).toBeLessThan(500);
  if (response.statusCode < 400) return;
  expectFamilyErrorBody(response.body, family, `${what} → ${response.statusCode}`);
}

export function expectFamilyErrorBody(text: string, family: Family, what: string): void {
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new Error(`${what}: error body is not JSON: ${text.slice(0, 200)}`);
  }
  expect(ERROR_CODES as readonly unknown[], `${what}: code ${String(body.code)}`).toContain(body.code);
  if (family === 'live') {
    expect(Object.keys(body).sort(), `${what}: ${text.slice(0, 200)}`).toEqual(['code', 'detail']);
    expect(typeof body.detail, what).toBe('string');
  } else {
    expect(typeof body.error, `${what}: ${text.slice(0, 200)}`).toBe('string');
    expect(body, what).not.toHaveProperty('detail');
  }
}

export async function expectHealthy(app: FastifyInstance): Promise<void> {
  const health = await app.inject({ url: '/api/health' });
  expect(health.statusCode).toBe(200);
  expect(health.json()).toEqual({ status: 'healthy' });
}

/** Row counts of every table a request can write, and every file under the storage root. */
export interface StoredState {
  rows: Record<string, number>;
  files: string[];
}

const COUNTED_TABLES = ['users', 'analyses', 'media_files', 'live_sessions', 'posture_events', 'calibrations', 'device_metrics'] as const;

export async function storedState(database: DatabaseHandle, storageRoot: string): Promise<StoredState> {
  const counts = sql.join(COUNTED_TABLES.map((table) => sql`(SELECT count(*) FROM ${sql.table(table)})::int AS ${sql.ref(table)}`));
  const { rows } = await sql<Record<string, number>>`SELECT ${counts}`.execute(database.db);
  return { rows: rows[0]!, files: await listFiles(storageRoot) };
}

/** What changed between two snapshots: row-count deltas per table, and files added or removed. */
export function stateChange(before: StoredState, after: StoredState): { rows: Record<string, number>; added: string[]; removed: string[] } {
  return {
    rows: Object.fromEntries(Object.keys(after.rows).map((table) => [table, after.rows[table]! - (before.rows[table] ?? 0)])),
    added: after.files.filter((f) => !before.files.includes(f)),
    removed: before.files.filter((f) => !after.files.includes(f)),
  };
}

export const NO_CHANGE = {
  rows: Object.fromEntries(COUNTED_TABLES.map((table) => [table, 0])), added: [], removed: [],
} as const;

export async function listFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name))).sort();
}
