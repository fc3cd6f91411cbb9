import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

// 43 base64url characters, as `randomBytes(32).toString('base64url')` makes them.
const STRONG = '3W617jsN7X6_6fhfpGXwL1XifXz4AF9K_gBe0-DO100';

describe('loadConfig', () => {
  it('runs embedded with nothing set', () => {
    const config = loadConfig({});
    expect(config.port).toBe(5000);
    expect(config.env).toBe('development');
    expect(config.dataDir).toBe(path.resolve('./data'));
    expect(config.database).toEqual({ driver: 'pglite', dataDir: path.resolve('./data/pglite') });
    expect(config.redis).toEqual({ driver: 'memory' });
    expect(config.auth.studioTokenTtlSeconds).toBe(10_800);
    expect(config.auth.liveTokenTtlSeconds).toBe(604_800);
    expect(config.auth.wsTokenTtlSeconds).toBe(300);
    expect(config.auth).toMatchObject({ ipAttempts: 30, emailAttempts: 10, ipAttemptCeiling: 300, attemptWindowSeconds: 900 });
  });

  it('reads the brute-force budgets: failures per IP and per email, and the ceiling of all attempts per IP', () => {
    const config = loadConfig({ AUTH_IP_ATTEMPTS: '40', AUTH_EMAIL_ATTEMPTS: '5', AUTH_IP_ATTEMPT_CEILING: '1000' });
    expect(config.auth).toMatchObject({ ipAttempts: 40, emailAttempts: 5, ipAttemptCeiling: 1000 });
    expect(() => loadConfig({ AUTH_IP_ATTEMPT_CEILING: '0' })).toThrow(/AUTH_IP_ATTEMPT_CEILING/);
  });

  it('stops idle pose threads after 300 s by default; 0 keeps them', () => {
    expect(loadConfig({}).jobs.poseIdleSeconds).toBe(300);
    expect(loadConfig({ POSE_IDLE_SECONDS: '0' }).jobs.poseIdleSeconds).toBe(0);
    expect(() => loadConfig({ POSE_IDLE_SECONDS: '-1' })).toThrow(/POSE_IDLE_SECONDS/);
  });

  it('switches to server adapters when their URLs are set', () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://db/x', REDIS_URL: 'redis://r:6379', ALLOWED_ORIGINS: 'https://a.example, https://b.example' });
    expect(config.database).toMatchObject({ driver: 'postgres', url: 'postgres://db/x', schema: null });
    expect(config.redis).toEqual({ driver: 'redis', url: 'redis://r:6379' });
    expect(config.auth.allowedOrigins).toEqual(['https://a.example', 'https://b.example']);
  });

  it('is frozen all the way down', () => {
    const config = loadConfig({});
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.auth)).toBe(true);
    expect(() => {
      (config.auth as { ipAttempts: number }).ipAttempts = 1;
    }).toThrow(TypeError);
  });

  it('lists every problem at once', () => {
    try {
      loadConfig({ PORT: 'eighty', NODE_ENV: 'staging', COOKIE_SECURE: 'maybe' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const { problems } = error as ConfigError;
      expect(problems).toHaveLength(3);
      expect(problems.join('\n')).toMatch(/NODE_ENV[\s\S]*PORT[\s\S]*COOKIE_SECURE/);
    }
  });

  it.each([
    [{}, /JWT_SECRET is required/],
    [{ JWT_SECRET: 'changeme' }, /too weak/],
    [{ JWT_SECRET: 'short-but-not-a-default' }, /too weak/],
    [{ JWT_SECRET: 'a'.repeat(32) }, /too weak.*1 distinct characters, about 0 bits/],
    [{ JWT_SECRET: 'ab'.repeat(32) }, /too weak.*2 distinct/],
    [{ JWT_SECRET: 'k'.repeat(20) + 'Q7!x-9zP_rT2mW8vL4nB' }, /too weak.*about 126 bits/],
  ])('refuses production without a strong secret (%j)', (env, message) => {
    expect(() => loadConfig({ NODE_ENV: 'production', ...env })).toThrow(message);
  });

  it('accepts production with a freshly generated 43-character base64url secret', () => {
    const secret = randomBytes(32).toString('base64url');
    expect(secret).toHaveLength(43);
    expect(loadConfig({ NODE_ENV: 'production', JWT_SECRET: secret }).auth.jwtSecret).toBe(secret);
  });

  it('accepts production with a strong secret; overrides merge without touching the environment', () => {
    const config = loadConfig({ NODE_ENV: 'production', JWT_SECRET: STRONG }, { port: 0, auth: { ipAttempts: 2 } });
    expect(config.env).toBe('production');
    expect(config.port).toBe(0);
    expect(config.auth.ipAttempts).toBe(2);
    expect(config.auth.emailAttempts).toBe(10);
  });
});
