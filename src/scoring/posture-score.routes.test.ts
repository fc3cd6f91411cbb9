import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newUser, type TestUser } from '../../test/helpers/factories.ts';
import { createTestApp, type TestApp } from '../../test/helpers/test-app.ts';

let t: TestApp;
let user: TestUser;
beforeAll(async () => {
  t = await createTestApp();
  user = await newUser(t.app);
});
afterAll(async () => {
  await t.close();
});

/**
 * A person standing side-on facing right, right side towards the camera (right points confident, left ones
 * faint). Hip (300,300) above knee (300,400) above ankle (300,500): the knee is straight, bend 0 → knee_angle
 * sub-score linear(0, 10, 0, 10) = 0. Feet: |x(16) − x(15)| = 0 px.
 */
function sideViewKeypoints(): number[][] {
  const kp = Array.from({ length: 17 }, () => [0, 0, 0]);
  const set = (i: number, x: number, y: number, s: number) => (kp[i] = [x, y, s]);
  set(0, 330, 60, 0.9);
  set(2, 320, 50, 0.9); set(1, 318, 50, 0.5);
  set(4, 295, 52, 0.9); set(3, 0, 0, 0.2);
  set(6, 300, 100, 0.9); set(5, 302, 100, 0.6);
  set(8, 300, 170, 0.9); set(7, 0, 0, 0.1);
  set(10, 300, 240, 0.9); set(9, 0, 0, 0.1);
  set(12, 300, 300, 0.9); set(11, 301, 300, 0.7);
  set(14, 300, 400, 0.9); set(13, 301, 400, 0.7);
  set(16, 300, 500, 0.9); set(15, 300, 500, 0.7);
  return kp;
}

describe('POST /api/posture/score', () => {
  it('scores a list of keypoints like an analysed image', async () => {
    const response = await t.app.inject({
      method: 'POST', url: '/api/posture/score', headers: bearer(user.token),
      payload: { keypoints: sideViewKeypoints(), view: 'right' },
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({ view: 'right', detected_view: 'right', profile: 'stance' });
    expect(body.measurements.knee_angle).toBe(180);
    expect(body.raw_scores_percent.knee_angle).toBe(0);
    expect(body.score.overall_score).toBe(Math.round(100 * body.overall_posture_score));
  });

  it("gives seed-exact centimetres by default and says so; real ones for a given height", async () => {
    const keypoints = sideViewKeypoints();
    keypoints[15] = [200, 500, 0.7]; // feet 100 px apart
    const post = (extra: object) => t.app.inject({
      method: 'POST', url: '/api/posture/score', headers: bearer(user.token), payload: { keypoints, view: 'right', ...extra },
    });
    const seed = (await post({})).json();
    expect(seed.measurements.leg_spread).toBe(15.53); // 100 px × 100/644
    expect(seed.scale).toMatchObject({ source: 'seed_default', cm_per_px: 100 / 644 });
    expect(seed.units).toMatchObject({ leg_spread: 'cm', knee_angle: '°' });
    const tall = (await post({ height_cm: 180 })).json();
    const short = (await post({ height_cm: 160 })).json();
    expect(tall.scale).toMatchObject({ source: 'subject_height', height_cm: 180 });
    expect(tall.measurements.leg_spread / short.measurements.leg_spread).toBeCloseTo(180 / 160, 2);
    expect((await post({ height_cm: 1.8 })).statusCode).toBe(400);
  });

  it('accepts named keypoints and the upright profile', async () => {
    const names = ['nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder',
      'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee', 'right_knee',
      'left_ankle', 'right_ankle'];
    const named = Object.fromEntries(sideViewKeypoints().map(([x, y, c], i) => [names[i], { x, y, confidence: c }]));
    const response = await t.app.inject({
      method: 'POST', url: '/api/posture/score', headers: bearer(user.token),
      payload: { keypoints: named, view: 'right', profile: 'upright' },
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().profile).toBe('upright');
  });

  it('answers 400 for bad keypoints, an unknown profile or view, and 401 without a token', async () => {
    const post = (payload: unknown, headers = bearer(user.token)) =>
      t.app.inject({ method: 'POST', url: '/api/posture/score', headers, payload: payload as object });
    expect((await post({})).json().error).toMatch(/keypoints/);
    expect((await post({ keypoints: null })).json()).toMatchObject({ error: 'Missing keypoints' });
    for (const keypoints of [[[1, 2]], 'nose', [[1, 2, 3], [4, 5, 6]], { nose: 'here' }]) {
      const response = await post({ keypoints });
      expect(response.statusCode).toBe(400);
      expect(response.json().code).toBe('invalid_request');
    }
    expect((await post({ keypoints: sideViewKeypoints(), profile: 'yoga' })).json().error).toMatch(/Unknown profile: yoga/);
    expect((await post({ keypoints: sideViewKeypoints(), view: 'top' })).statusCode).toBe(400);
    expect((await post({ keypoints: sideViewKeypoints() }, {})).statusCode).toBe(401);
  });
});
