import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/test-app.ts';
import { curlCommands, examplePath, LIVE_SEED, readSeed, SEEDS_DIR, type CurlCommand } from './seed-examples.ts';

/**
 * The live family's clients as they are: the document's curl flow replayed command by command (bodies byte for byte,
 * shell variables carried from one answer to the next), then what its web front end and smoke test call.
 */
const seed = readSeed(LIVE_SEED);
if (!seed) console.warn(`live compatibility suite skipped: the live document is not in ${SEEDS_DIR}`);

let t: TestApp;
let base = '';

beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => t?.close());

async function call(path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(base + path, init);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

/** A curl command as written, variables filled in from earlier answers. */
function replay(command: CurlCommand, variables: Record<string, string>) {
  const fill = (text: string) => text.replace(/\$([A-Z_]+)/g, (whole, name: string) => variables[name] ?? whole);
  return call(examplePath(command.url, variables), {
    method: command.method,
    headers: Object.fromEntries(Object.entries(command.headers).map(([k, v]) => [k, fill(v)])),
    ...(command.data === null ? {} : { body: command.data }),
  });
}

describe.skipIf(!seed)('the live document, replayed as written', () => {
  const variables: Record<string, string> = {};
  const commands = seed ? curlCommands(seed) : [];
  const at = (fragment: string, nth = 0) => commands.filter((c) => c.url.includes(fragment))[nth]!;

  it('signs up, logs in and starts a session with the token', async () => {
    const signup = await replay(at('/api/auth/signup/'), variables);
    expect(signup.status).toBe(201);
    expect(signup.body).toEqual({ id: expect.any(String), email: 'ally@example.com' });
    const login = await replay(at('/api/auth/login/'), variables);
    expect(login.status).toBe(200);
    variables.TOKEN = login.body.token; // `| jq -r .token`
    const me = await call('/api/auth/me/', { headers: { authorization: `Bearer ${variables.TOKEN}` } });
    expect(me.body).toMatchObject({ email: 'ally@example.com', name: 'Ally' });
    const start = await replay(at('/api/sessions/start/'), variables);
    expect(start.status).toBe(201);
    variables.SESSION = start.body.session_id; // `| jq -r .session_id`
  });

  it('stores the documented event with server-computed angles, and refuses the documented image payload', async () => {
    const event = await replay(at('/event/'), variables);
    expect(event.status).toBe(201);
    const rejected = await replay(at('/event/', 1), variables);
    expect(rejected.status).toBe(400);
    expect(rejected.body).toMatchObject({ detail: 'Raw frame/image uploads are not allowed' });
    // The smoke test reads the events back; a signed-in session's events need its owner's token (deviation).
    const anonymous = await call(`/api/sessions/${variables.SESSION}/events/`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.detail).toEqual(expect.any(String));
    const events = await call(`/api/sessions/${variables.SESSION}/events/`, { headers: { authorization: `Bearer ${variables.TOKEN}` } });
    expect(events.body).toHaveLength(1);
    expect(events.body[0]).toMatchObject({ label: 'Good' });
    // Shoulders (0.4..0.6, 0.3) straight above hips (0.45..0.55, 0.6): upright spine.
    expect(events.body[0].angle).toBeCloseTo(0, 5);
  });

  it('ends the session with the documented totals', async () => {
    const end = await replay(at('/end/'), variables);
    expect(end.status).toBe(200);
    expect(end.body).toMatchObject({ session_id: variables.SESSION, ended: true });
    expect(end.body.summary).toMatchObject({ total_seconds: 120, good_seconds: 80, mild_seconds: 30, bad_seconds: 10 });
  });
});

describe('what the live documents promise beyond the curl flow', () => {
  const json = (body: unknown, token?: string): RequestInit => ({
    method: 'POST', body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  let token = '';

  beforeAll(async () => {
    await call('/api/auth/signup/', json({ name: 'Bo', email: 'bo@example.com', password: 'secret123' }));
    token = (await call('/api/auth/login/', json({ email: 'bo@example.com', password: 'secret123' }))).body.token;
  });

  it('stores a label-only event with a null angle (keypoints are optional)', async () => {
    const session = (await call('/api/sessions/start/', json({}, token))).body.session_id;
    const stored = await call(`/api/sessions/${session}/event/`, json({ label: 'Good' }));
    expect(stored.status).toBe(201);
    const events = await call(`/api/sessions/${session}/events/`, { headers: { authorization: `Bearer ${token}` } });
    expect(events.body).toEqual([expect.objectContaining({ label: 'Good', angle: null })]);
  });

  it('records any subset of device hints, range-checked', async () => {
    expect((await call('/api/device_metrics/', json({ battery_level: 87 }, token))).status).toBe(201);
    expect((await call('/api/device_metrics/', json({ fps: 24 }, token))).status).toBe(201);
    expect((await call('/api/device_metrics/', json({ battery_level: 187 }, token))).status).toBe(400);
  });

  it('refuses image and frame keys on every live route with a body, with the documented answer', async () => {
    const session = (await call('/api/sessions/start/', json({}, token))).body.session_id;
    for (const [path, body] of [
      ['/api/calibration/', { device_id: 'phone', baseline_angle: 3, frame: 'BASE64...' }],
      ['/api/device_metrics/', { battery_level: 50, extra: { Image: 'BASE64...' } }],
      ['/api/sessions/start/', { device_id: 'phone', image: 'BASE64...' }],
      [`/api/sessions/${session}/end/`, { total_seconds: 1, frame: 'x' }],
    ] as const) {
      const refused = await call(path, json(body, token));
      expect(refused.status, path).toBe(400);
      expect(refused.body, path).toMatchObject({ detail: 'Raw frame/image uploads are not allowed' });
    }
    const still = await call(`/api/sessions/${session}/event/`, json({ label: 'Good' }));
    expect(still.status).toBe(201); // the end above was refused, so the session is still open
  });
});
