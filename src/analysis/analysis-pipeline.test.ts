import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createPoseWorkerPool } from '../pose/worker-pool.ts';
import type { PoseEstimator } from '../pose/pose-estimator.ts';
import { bearer, newUser, type TestUser } from '../../test/helpers/factories.ts';
import { multipart, pathOf } from '../../test/helpers/multipart.ts';
import { createTestApp, type TestApp } from '../../test/helpers/test-app.ts';
import { waitForAnalysis } from '../../test/helpers/wait.ts';

let t: TestApp;
let estimator: PoseEstimator;
let user: TestUser;
let baseUrl: string;

beforeAll(async () => {
  estimator = createPoseWorkerPool({ models: ['cx'], size: 1 });
  // Every 8th frame keeps the 7.7 s demo video to about 29 analysed frames.
  t = await createTestApp({ jobs: { frameStep: 8, concurrency: 1 } }, { estimator });
  baseUrl = await t.app.listen({ host: '127.0.0.1', port: 0 });
  user = await newUser(t.app);
}, 120_000);
afterAll(async () => {
  await t.close();
  await estimator.close();
});

async function fetchSigned(url: string) {
  return t.app.inject({ url: pathOf(url) });
}

describe('a two-view studio analysis, end to end', () => {
  it('analyses an image and a video, pushes progress, and serves results, feedback, overlays, CSV and a PDF', async () => {
    const wsToken = (await t.app.inject({ url: '/auth/ws-token', headers: bearer(user.token) })).json().ws_token;
    const socket = new WebSocket(`${baseUrl.replace('http', 'ws')}/ws/analysis?token=${wsToken}`);
    const messages: Array<Record<string, unknown>> = [];
    socket.on('message', (data) => messages.push(JSON.parse(String(data))));
    await new Promise<void>((resolve, reject) => {
      socket.on('message', function connected(data) {
        if (JSON.parse(String(data)).type === 'connected') resolve();
      });
      socket.on('error', reject);
    });

    const { payload, headers } = multipart([
      { name: 'session_id', value: 'two-views' },
      { name: 'front', filename: 'skier.jpg', content: await readFile('test/fixtures/coco_000000000785.jpg') },
      { name: 'left', filename: 'walk.mp4', content: await readFile('test/fixtures/sports2d_demo.mp4') },
    ]);
    const upload = await t.app.inject({ method: 'POST', url: '/api/video/upload', payload, headers: { ...headers, ...bearer(user.token) } });
    expect(upload.statusCode).toBe(201);
    const id = upload.json().analysis_id as string;

    const done = await waitForAnalysis(t.app, user.token, id);
    expect(done).toMatchObject({ status: 'completed', progress: 1, error: null, filename: expect.any(String) });
    // The band phrase comes first; the sentences after it say why.
    expect(['Excellent posture!', 'Good posture with minor improvements needed.', 'Fair posture, consider adjustments.',
      'Poor posture, significant improvements needed.']).toContain(String(done.feedback).split(/(?<=[.!]) /)[0]);
    const postureResult = JSON.parse(done.posture_result as string);
    expect(Object.keys(postureResult).sort()).toEqual(['front', 'left']);
    expect(postureResult.left.raw_scores_percent).toHaveProperty('knee_angle');

    const left = (await fetchSigned((done.analysis_json_urls as Record<string, string>).left!)).json();
    expect(left).toMatchObject({ file_type: 'video', view: 'left', model: 'cx', profile: 'stance', frame_skip: 8 });
    expect(left.frames_data.length).toBe(left.processed_frames);
    expect(left.processed_frames).toBeGreaterThan(20);
    // The demo's subject (the woman walking past) enters after ~1.3 s: earlier frames are gaps, null throughout.
    expect(left.frames_data[0]).toMatchObject({ keypoints: null, measurements: null });
    expect(left.frames_data.find((f: { keypoints: unknown[] | null }) => f.keypoints)?.keypoints).toHaveLength(17);
    expect(left.subject).toMatchObject({ id: expect.any(Number), rule: expect.stringContaining('visible longest') });
    expect(left.people.length).toBeGreaterThanOrEqual(2);
    expect(left.aggregated_results).toHaveProperty('side_detection_summary');
    const front = (await fetchSigned((done.analysis_json_urls as Record<string, string>).front!)).json();
    expect(front).toMatchObject({ file_type: 'image', processed_frames: 1 });
    expect(front.frames_data).toHaveLength(1);

    const feedback = (await fetchSigned(done.feedback_json_url as string)).json();
    expect(Object.keys(feedback).sort()).toEqual(['front', 'left']);
    const pdf = await fetchSigned(done.report_url as string);
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    for (const url of Object.values(done.overlay_urls as Record<string, string>)) {
      const png = await fetchSigned(url);
      expect(png.rawPayload.subarray(1, 4).toString()).toBe('PNG');
    }

    // The video view's overlay video plays and seeks in a browser (a byte range answers 206); its chart is an SVG.
    expect(Object.keys(done.overlay_video_urls as object)).toEqual(['left']);
    const video = await t.app.inject({ url: pathOf((done.overlay_video_urls as Record<string, string>).left!), headers: { range: 'bytes=0-99' } });
    expect(video.statusCode).toBe(206);
    expect(video.headers['content-type']).toBe('video/mp4');
    expect(video.rawPayload.subarray(4, 8).toString()).toBe('ftyp');
    const chart = await fetchSigned((done.chart_urls as Record<string, string>).left!);
    expect(chart.headers['content-type']).toBe('image/svg+xml');
    expect(chart.body).toContain('<svg');

    const csv = await t.app.inject({ url: `/api/analysis/${id}/frames.csv?view=left`, headers: bearer(user.token) });
    expect(csv.statusCode).toBe(200);
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toMatch(/^frame_index,time_s,nose_x,nose_y,nose_score,/);
    expect(lines).toHaveLength(left.processed_frames + 1);

    const statuses = messages.filter((m) => m.analysis_id === id).map((m) => m.status);
    expect(statuses[0]).toBe('in_progress');
    expect(statuses.at(-1)).toBe('completed');
    socket.close();

    const report = await t.app.inject({ url: `/api/analysis/report/${id}`, headers: bearer(user.token) });
    expect(report.json().url).toEqual(expect.any(String));
    const stats = (await t.app.inject({ url: '/api/user', headers: bearer(user.token) })).json().user;
    expect(stats).toMatchObject({ id: user.id, total_analyses: 1, current_week_analyses: 1 });
    expect(stats.average_overall_score).toEqual(expect.any(Number));
    const summary = (await t.app.inject({ url: '/api/analysis/summary', headers: bearer(user.token) })).json();
    expect(summary.weeks).toHaveLength(4);
    expect(summary.weeks.at(-1).analyses).toBe(1);
    expect(summary.metrics).toHaveProperty('knee_angle');
    expect(summary.insights.length).toBeGreaterThan(0);

    const other = await newUser(t.app);
    for (const url of [`/api/analysis/${id}`, `/api/analysis/report/${id}`, `/api/analysis/${id}/frames.csv?view=left`]) {
      expect((await t.app.inject({ url, headers: bearer(other.token) })).statusCode).toBe(404);
    }

    const retry = await t.app.inject({ method: 'POST', url: `/api/analysis/retry/${id}`, payload: { model: 'cx' }, headers: bearer(user.token) });
    expect(retry.statusCode).toBe(200);
    expect(retry.json().analysis.status).toBe('pending');
    const again = await waitForAnalysis(t.app, user.token, id);
    expect(again.status).toBe('completed');

    const removed = await t.app.inject({ method: 'DELETE', url: `/api/analysis/${id}`, headers: bearer(user.token) });
    expect(removed.statusCode).toBe(200);
    expect(await t.store.list(`analysis-data/${user.id}/two-views/`)).toEqual([]);
    expect(await t.store.list(`videos/${user.id}/two-views/`)).toEqual([]);
  }, 300_000);
});
