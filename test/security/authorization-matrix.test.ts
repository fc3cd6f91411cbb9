import { readFile } from 'node:fs/promises';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakePoseEstimator } from '../../src/pose/pose-estimator.ts';
import { createUsersRepository } from '../../src/users/users.repository.ts';
import { bearer, newUser, type TestUser } from '../helpers/factories.ts';
import { multipart } from '../helpers/multipart.ts';
import { createTestApp, TEST_JWT_SECRET, type TestApp } from '../helpers/test-app.ts';
import { waitForAnalysis } from '../helpers/wait.ts';

/**
 * Every route that names a studio resource × every kind of caller. The owner and an admin reach it; another user
 * learns nothing (404, as if absent); no token, an expired token and a ws token are not access at all (401).
 */
type Caller = 'owner' | 'other' | 'admin' | 'anonymous' | 'expired' | 'ws token';
const EXPECTED: Record<Caller, number | 'ok'> = { owner: 'ok', other: 404, admin: 'ok', anonymous: 401, expired: 401, 'ws token': 401 };

let t: TestApp;
let owner: TestUser;
let other: TestUser;
let admin: TestUser;
let jpg: Buffer;
let counter = 0;

async function completedAnalysis(): Promise<{ id: string; sessionId: string }> {
  const sessionId = `matrix_${++counter}`;
  const { payload, headers } = multipart([{ name: 'session_id', value: sessionId }, { name: 'front', filename: 'f.jpg', content: jpg }]);
  const response = await t.app.inject({ method: 'POST', url: '/api/video/upload', payload, headers: { ...headers, ...bearer(owner.token) } });
  const id = response.json().analysis_id as string;
  await waitForAnalysis(t.app, owner.token, id, ['completed'], 60_000);
  return { id, sessionId };
}

async function headersFor(caller: Caller): Promise<Record<string, string>> {
  switch (caller) {
    case 'owner': return bearer(owner.token);
    case 'other': return bearer(other.token);
    case 'admin': return bearer(admin.token);
    case 'anonymous': return {};
    case 'expired': {
      const now = Math.floor(Date.now() / 1000);
      const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject(owner.id).setJti(`expired-${now}`)
        .setIssuer('postura').setAudience('postura:access').setIssuedAt(now - 7200).setExpirationTime(now - 3600)
        .sign(new TextEncoder().encode(TEST_JWT_SECRET));
      return bearer(token);
    }
    case 'ws token':
      return bearer((await t.app.inject({ url: '/auth/ws-token', headers: bearer(owner.token) })).json().ws_token);
  }
}

interface RouteCase {
  name: string;
  /** Builds the request against a fresh resource (destructive routes get one each). */
  request: (resource: { id: string; sessionId: string }) => { method: 'GET' | 'POST' | 'DELETE'; url: string; payload?: object };
}

const ROUTES: RouteCase[] = [
  { name: 'GET /api/analysis/:id', request: ({ id }) => ({ method: 'GET', url: `/api/analysis/${id}` }) },
  { name: 'GET /api/analysis/report/:id', request: ({ id }) => ({ method: 'GET', url: `/api/analysis/report/${id}` }) },
  { name: 'GET /api/analysis/:id/frames.csv', request: ({ id }) => ({ method: 'GET', url: `/api/analysis/${id}/frames.csv?view=front` }) },
  { name: 'POST /api/analysis/retry/:id', request: ({ id }) => ({ method: 'POST', url: `/api/analysis/retry/${id}`, payload: {} }) },
  { name: 'DELETE /api/analysis/:id', request: ({ id }) => ({ method: 'DELETE', url: `/api/analysis/${id}` }) },
  { name: 'GET /api/user/:id', request: () => ({ method: 'GET', url: `/api/user/${owner.id}` }) },
  { name: 'GET /api/analysis/list/:user_id', request: () => ({ method: 'GET', url: `/api/analysis/list/${owner.id}` }) },
];

beforeAll(async () => {
  t = await createTestApp({}, { estimator: new FakePoseEstimator() });
  jpg = await readFile('test/fixtures/coco_000000000785.jpg');
  [owner, other, admin] = await Promise.all([newUser(t.app), newUser(t.app), newUser(t.app)]);
  await createUsersRepository(t.database.db).setAdmin(admin.id, true);
}, 60_000);
afterAll(async () => {
  await t.close();
});

describe('authorization matrix', () => {
  for (const route of ROUTES) {
    it(route.name, async () => {
      for (const caller of Object.keys(EXPECTED) as Caller[]) {
        const resource = await completedAnalysis();
        const response = await t.app.inject({ ...route.request(resource), headers: await headersFor(caller) });
        const expected = EXPECTED[caller];
        if (expected === 'ok') expect(response.statusCode, `${caller} → ${route.name}`).toBeLessThan(300);
        else expect(response.statusCode, `${caller} → ${route.name}`).toBe(expected);
        // Whatever the answer, a caller without access changed nothing.
        if (expected !== 'ok') {
          const after = await t.app.inject({ url: `/api/analysis/${resource.id}`, headers: bearer(owner.token) });
          expect(after.json().status, `${caller} → ${route.name} left the analysis as it was`).toBe('completed');
        }
      }
    }, 120_000);
  }

  it('POST /api/video/delete: only the owner removes a session', async () => {
    for (const caller of ['other', 'anonymous', 'expired', 'ws token'] as const) {
      const resource = await completedAnalysis();
      const response = await t.app.inject({
        method: 'POST', url: '/api/video/delete', payload: { session_id: resource.sessionId }, headers: await headersFor(caller),
      });
      expect(response.statusCode, caller).toBe(caller === 'other' ? 404 : 401);
      expect((await t.app.inject({ url: `/api/analysis/${resource.id}`, headers: bearer(owner.token) })).statusCode).toBe(200);
    }
  }, 120_000);
});
