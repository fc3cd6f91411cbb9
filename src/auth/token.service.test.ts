import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../infra/db/migrator.ts';
import { openTestDatabase } from '../../test/helpers/test-app.ts';
import { createRevocationsRepository } from './revocations.repository.ts';
import { TokenService } from './token.service.ts';

const SECRET = 'a-test-secret-with-enough-entropy-0123456789abcdef';
let db: Awaited<ReturnType<typeof openTestDatabase>>;
let tokens: TokenService;

beforeAll(async () => {
  db = await openTestDatabase();
  await migrate(db.database);
  tokens = new TokenService({ secret: SECRET, revocations: createRevocationsRepository(db.database.db), wsTokenTtlSeconds: 300 });
});
afterAll(async () => {
  await db.drop();
});

describe('TokenService', () => {
  it('round-trips an access token with sub, jti and expiry', async () => {
    const issued = await tokens.issueAccessToken('user-1', 60);
    const verified = await tokens.verifyAccessToken(issued.token);
    expect(verified).toEqual({ userId: 'user-1', jti: issued.jti, expiresAt: issued.expiresAt, issuedAt: expect.any(Date) });
  });

  it('carries the issuing family and the issue time; an unknown family claim is dropped', async () => {
    const before = Math.floor(Date.now() / 1000) * 1000;
    const live = await tokens.verifyAccessToken((await tokens.issueAccessToken('user-6', 60, 'live')).token);
    expect(live).toMatchObject({ family: 'live' });
    expect(live.issuedAt.getTime()).toBeGreaterThanOrEqual(before);
    expect((await tokens.verifyAccessToken((await tokens.issueAccessToken('user-6', 60, 'studio')).token)).family).toBe('studio');
    const odd = await new SignJWT({ fam: 'admin' }).setProtectedHeader({ alg: 'HS256' }).setSubject('user-6').setJti('j6')
      .setIssuer('postura').setAudience('postura:access').setIssuedAt().setExpirationTime('1m')
      .sign(new TextEncoder().encode(SECRET));
    expect((await tokens.verifyAccessToken(odd)).family).toBeUndefined();
  });

  it('burns a ws token on first use, even when two uses race', async () => {
    const issued = await tokens.issueWsToken('user-2');
    const results = await Promise.allSettled([tokens.consumeWsToken(issued.token), tokens.consumeWsToken(issued.token)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    await expect(tokens.consumeWsToken(issued.token)).rejects.toMatchObject({ code: 'invalid_token', message: /already used/ });
  });

  it('keeps the audiences apart', async () => {
    const access = await tokens.issueAccessToken('user-3', 60);
    const ws = await tokens.issueWsToken('user-3');
    await expect(tokens.consumeWsToken(access.token)).rejects.toMatchObject({ code: 'invalid_token' });
    await expect(tokens.verifyAccessToken(ws.token)).rejects.toMatchObject({ code: 'invalid_token' });
  });

  it('refuses expired tokens, other secrets, tampered payloads and "alg: none"', async () => {
    const key = new TextEncoder().encode(SECRET);
    const expired = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('u').setJti('j1')
      .setIssuer('postura').setAudience('postura:access').setIssuedAt(1_000).setExpirationTime(2_000).sign(key);
    await expect(tokens.verifyAccessToken(expired)).rejects.toMatchObject({ message: 'Token has expired' });

    const foreign = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('u').setJti('j2')
      .setIssuer('postura').setAudience('postura:access').setExpirationTime('1h').sign(new TextEncoder().encode('other-secret'));
    await expect(tokens.verifyAccessToken(foreign)).rejects.toMatchObject({ code: 'invalid_token' });

    const good = (await tokens.issueAccessToken('user-4', 60)).token;
    const [header, payload, signature] = good.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const tampered = [header, Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url'), signature].join('.');
    await expect(tokens.verifyAccessToken(tampered)).rejects.toMatchObject({ code: 'invalid_token' });

    const none = [Buffer.from('{"alg":"none"}').toString('base64url'), payload, ''].join('.');
    await expect(tokens.verifyAccessToken(none)).rejects.toMatchObject({ code: 'invalid_token' });
  });

  it('revokes by id and prunes only expired revocations', async () => {
    const issued = await tokens.issueAccessToken('user-5', 60);
    await tokens.revoke(await tokens.verifyAccessToken(issued.token));
    await expect(tokens.verifyAccessToken(issued.token)).rejects.toMatchObject({ message: 'Token has been revoked' });
    const revocations = createRevocationsRepository(db.database.db);
    await revocations.revoke('old', 'access', new Date(Date.now() - 1000));
    expect(await revocations.pruneExpired(new Date())).toBe(1);
    expect(await revocations.isRevoked(issued.jti)).toBe(true);
  });
});
