// Issue 13, item 9: what nothing lists or deletes any more goes. A direct upload presigned and never finalized is
// removed (row and objects) an hour after its PUT URLs expired; objects under a session no analysis holds are removed
// at once. The clock is moved by the sweep's `now`, never by waiting.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newUser, type TestUser } from '../../test/helpers/factories.ts';
import { multipart, pathOf } from '../../test/helpers/multipart.ts';
import { createTestApp, TEST_JWT_SECRET, testConfig, type TestApp } from '../../test/helpers/test-app.ts';
import { openObjectStore } from '../infra/object-store/open-object-store.ts';
import { objectKeys } from '../infra/object-store/object-keys.ts';
import { createAnalysesRepository, type AnalysesRepository } from './analyses.repository.ts';
import { ABANDONED_UPLOAD_GRACE_MS, ABANDONED_UPLOAD_REASON, AnalysisSweeper } from './analysis-sweeper.ts';

let t: TestApp;
let user: TestUser;
let analyses: AnalysesRepository;
let sweeper: AnalysisSweeper;
let jpg: Buffer;

beforeAll(async () => {
  t = await createTestApp();
  user = await newUser(t.app);
  analyses = createAnalysesRepository(t.database.db);
  sweeper = new AnalysisSweeper({ analyses, store: t.store, signedUrlTtlSeconds: t.config.uploads.signedUrlTtlSeconds });
  jpg = await readFile('test/fixtures/coco_000000000785.jpg');
});
afterAll(async () => {
  await t.close();
});

const session = (() => {
  let n = 0;
  return () => `sw_${Date.now().toString(36)}_${++n}`;
})();

/** Presigns a front view and PUTs the JPEG to its URL; never finalized. */
async function presignedAndPut(sessionId: string): Promise<{ analysisId: string; upload: { url: string; headers: Record<string, string> } }> {
  const response = await t.app.inject({
    method: 'POST', url: '/api/video/upload/presign', headers: bearer(user.token),
    payload: { session_id: sessionId, views: { front: { filename: 'me.jpg' } } },
  });
  expect(response.statusCode, response.body).toBe(201);
  const upload = response.json().uploads.front as { url: string; headers: Record<string, string> };
  expect((await putTo(upload)).statusCode).toBe(200);
  return { analysisId: response.json().analysis_id as string, upload };
}

function putTo(upload: { url: string; headers: Record<string, string> }) {
  return t.app.inject({ method: 'PUT', url: pathOf(upload.url), headers: upload.headers, payload: jpg });
}

function finalize(sessionId: string) {
  return t.app.inject({ method: 'POST', url: '/api/video/upload/finalize', headers: bearer(user.token), payload: { session_id: sessionId } });
}

async function sessionKeys(sessionId: string): Promise<string[]> {
  const media = await t.store.list(objectKeys.sessionMediaPrefix(user.id, sessionId));
  const results = await t.store.list(objectKeys.resultsPrefix(user.id, sessionId));
  return [...media, ...results].map((o) => o.key);
}

/** The sweep's clock this long after the analysis was created: past or short of the abandoned-upload age. */
async function clockAfter(analysisId: string, ms: number): Promise<number> {
  const created = (await analyses.findById(analysisId))!.createdAt.getTime();
  return created + t.config.uploads.signedUrlTtlSeconds * 1000 + ABANDONED_UPLOAD_GRACE_MS + ms;
}

describe('the analysis sweeper', () => {
  it('removes an abandoned direct upload and an orphan session in one sweep, and leaves live analyses alone', async () => {
    const abandoned = session();
    const { analysisId, upload } = await presignedAndPut(abandoned);
    expect(await sessionKeys(abandoned)).toHaveLength(2); // the manifest and the uploaded view

    // Live: a multipart upload, and a direct upload finalized in time (both hold media).
    const uploaded = session();
    const { payload, headers } = multipart([{ name: 'session_id', value: uploaded }, { name: 'front', filename: 'f.jpg', content: jpg }]);
    const multipartUpload = await t.app.inject({ method: 'POST', url: '/api/video/upload', payload, headers: { ...headers, ...bearer(user.token) } });
    expect(multipartUpload.statusCode, multipartUpload.body).toBe(201);
    const finalized = session();
    await presignedAndPut(finalized);
    expect((await finalize(finalized)).statusCode).toBe(201);
    const liveKeys = [...await sessionKeys(uploaded), ...await sessionKeys(finalized)].sort();
    expect(liveKeys.length).toBeGreaterThanOrEqual(2);

    // Orphans: a session's media and result with no analysis row (as a crash mid-delete would leave them).
    const ghost = session();
    await t.store.putBuffer(objectKeys.media(user.id, ghost, 'cx', 'front', '.jpg'), jpg);
    await t.store.putBuffer(objectKeys.detailed(user.id, ghost, 'front'), Buffer.from('{"frames":[]}'));
    // Not a user's prefix (no user id): not the sweeper's to judge.
    const foreign = 'videos/not-a-user/x/file.bin';
    await t.store.putBuffer(foreign, Buffer.from('x'));

    const report = await sweeper.sweep(await clockAfter(analysisId, 1000));

    expect(report).toEqual({ abandonedUploads: 1, orphanSessions: 1, orphanObjects: 2 });
    expect(await analyses.findById(analysisId)).toBeNull();
    expect(await sessionKeys(abandoned)).toEqual([]);
    expect(await sessionKeys(ghost)).toEqual([]);
    expect([...await sessionKeys(uploaded), ...await sessionKeys(finalized)].sort()).toEqual(liveKeys);
    expect((await analyses.findBySession(user.id, uploaded))?.status).toBe('pending');
    expect((await analyses.findBySession(user.id, finalized))?.status).toBe('pending');
    expect(await t.store.head(foreign)).not.toBeNull();
    // The abandoned upload's URL writes nothing now, and its session id is free again.
    expect((await putTo(upload)).statusCode).toBe(403);
    expect(await sessionKeys(abandoned)).toEqual([]);
    const again = await t.app.inject({
      method: 'POST', url: '/api/video/upload/presign', headers: bearer(user.token),
      payload: { session_id: abandoned, views: { front: { filename: 'me.jpg' } } },
    });
    expect(again.statusCode).toBe(201);
    const deleted = await t.app.inject({ method: 'DELETE', url: `/api/analysis/${again.json().analysis_id}`, headers: bearer(user.token) });
    expect(deleted.statusCode).toBeLessThan(300);
  });

  it('keeps a direct upload until its PUT URLs have been expired for an hour', async () => {
    const sessionId = session();
    const { analysisId } = await presignedAndPut(sessionId);

    expect((await sweeper.sweep(await clockAfter(analysisId, -1000))).abandonedUploads).toBe(0);
    expect((await analyses.findById(analysisId))?.status).toBe('pending');
    expect(await sessionKeys(sessionId)).toHaveLength(2);
    // The client may still finalize it then; here it does not, and the next sweep past the age removes it.
    expect((await sweeper.sweep(await clockAfter(analysisId, 1000))).abandonedUploads).toBe(1);
    expect(await analyses.findById(analysisId)).toBeNull();
    expect(await sessionKeys(sessionId)).toEqual([]);
  });

  it('finishes a removal an interrupted sweep began, and a finalize after the mark is refused', async () => {
    const sessionId = session();
    const { analysisId } = await presignedAndPut(sessionId);
    const now = await clockAfter(analysisId, 1000);
    // The sweep's first step only (as if the process stopped right after it).
    const before = new Date(now - t.config.uploads.signedUrlTtlSeconds * 1000 - ABANDONED_UPLOAD_GRACE_MS);
    expect(await analyses.markAbandonedUpload(analysisId, before, ABANDONED_UPLOAD_REASON)).toMatchObject({ status: 'failed' });
    expect((await finalize(sessionId)).statusCode).toBe(409);
    expect(await sessionKeys(sessionId)).toHaveLength(2);

    expect((await sweeper.sweep(now)).abandonedUploads).toBe(1);
    expect(await analyses.findById(analysisId)).toBeNull();
    expect(await sessionKeys(sessionId)).toEqual([]);
  });

  it('runs when the API starts (then hourly): an orphan left in storage is gone once the API is up', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'postura-sweep-'));
    try {
      // Left by an earlier run: a session of a user this (fresh) database has no analysis of.
      const { store } = openObjectStore({ ...testConfig(), storage: { driver: 'fs', root } }, TEST_JWT_SECRET);
      const owner = randomUUID();
      const orphan = objectKeys.overlay(owner, 'left-behind', 'front');
      await store.putBuffer(orphan, Buffer.from('overlay'));
      let swept: () => void = () => {};
      const sweptLogged = new Promise<void>((resolve) => (swept = resolve));
      const lines: string[] = [];
      const api = await createTestApp({ logLevel: 'info' }, {
        storageRoot: root,
        logDestination: {
          write: (line: string) => {
            lines.push(line);
            if (line.includes('orphan sessions deleted')) swept();
          },
        },
      });
      try {
        await sweptLogged;
        expect(JSON.parse(lines.find((l) => l.includes('orphan sessions deleted'))!)).toMatchObject({ orphanSessions: 1, orphanObjects: 1 });
        expect(await api.store.head(orphan)).toBeNull();
      } finally {
        await api.close();
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
