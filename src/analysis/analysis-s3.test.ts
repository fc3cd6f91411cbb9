import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../infra/object-store/s3-object-store.ts';
import { FakePoseEstimator } from '../pose/pose-estimator.ts';
import { bearer, newUser } from '../../test/helpers/factories.ts';
import { multipart } from '../../test/helpers/multipart.ts';
import { createTestApp, type TestApp } from '../../test/helpers/test-app.ts';
import { waitForAnalysis } from '../../test/helpers/wait.ts';

let dir: string;
let server: S3rver;
let t: TestApp;
let endpoint: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'postura-s3-'));
  server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [] });
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
  const storage = {
    driver: 's3', endpoint, region: 'us-east-1', bucket: 'postura-media',
    accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', forcePathStyle: true,
  } as const;
  const { driver: _driver, ...s3 } = storage;
  await new S3ObjectStore(s3).createBucketIfMissing();
  t = await createTestApp({ storage, jobs: { frameStep: 8 } }, { estimator: new FakePoseEstimator() });
}, 60_000);
afterAll(async () => {
  await t?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the studio pipeline on S3 storage', () => {
  it('streams an image and a video to the bucket, analyses them and serves presigned URLs of every result', async () => {
    const user = await newUser(t.app);
    const jpg = await readFile('test/fixtures/coco_000000000785.jpg');
    const { payload, headers } = multipart([
      { name: 'session_id', value: 's3-session' },
      { name: 'front', filename: 'front.jpg', content: jpg },
      { name: 'right', filename: 'walk.mp4', content: await readFile('test/fixtures/sports2d_demo.mp4') },
    ]);
    const upload = await t.app.inject({ method: 'POST', url: '/api/video/upload', payload, headers: { ...headers, ...bearer(user.token) } });
    expect(upload.statusCode).toBe(201);
    const fileUrl = upload.json().uploaded_files.front.file_url as string;
    expect(fileUrl.startsWith(`${endpoint}/postura-media/videos/${user.id}/s3-session/cx_front.jpg?`)).toBe(true);
    expect(Buffer.from(await (await fetch(fileUrl)).arrayBuffer()).equals(jpg)).toBe(true);

    const done = await waitForAnalysis(t.app, user.token, upload.json().analysis_id, ['completed', 'failed'], 60_000);
    expect(done.status).toBe('completed');
    const pdf = Buffer.from(await (await fetch(done.report_url as string)).arrayBuffer());
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const detailed = await (await fetch((done.analysis_json_urls as Record<string, string>).right!)).json() as {
      view: string; file_type: string; processed_frames: number;
    };
    expect(detailed).toMatchObject({ view: 'right', file_type: 'video' });
    expect(detailed.processed_frames).toBeGreaterThan(20);
    const keys = (await t.store.list(`analysis-data/${user.id}/s3-session/`)).map((o) => o.key.split('/').at(-1)).sort();
    expect(keys).toEqual(['angles_right.svg', 'detailed_front.json', 'detailed_right.json', 'feedback.json', 'overlay_front.png',
      'overlay_right.mp4', 'overlay_right.png', 's3-session_report.pdf']);
    // The video view's overlay video and chart are listed and served; the photo has neither.
    expect(Object.keys(done.overlay_video_urls as object)).toEqual(['right']);
    expect(Object.keys(done.chart_urls as object)).toEqual(['right']);
    const video = await fetch((done.overlay_video_urls as Record<string, string>).right!);
    expect(video.headers.get('content-type')).toBe('video/mp4');
    expect(Buffer.from(await video.arrayBuffer()).subarray(4, 8).toString()).toBe('ftyp');
    const chart = await fetch((done.chart_urls as Record<string, string>).right!);
    expect(chart.headers.get('content-type')).toBe('image/svg+xml');
    expect(await chart.text()).toContain('<svg');
  }, 90_000);
});
