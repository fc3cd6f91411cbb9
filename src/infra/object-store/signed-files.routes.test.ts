import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fsHarness, TEST_SIGNING_SECRET, type StoreHarness } from './object-store-test-harness.ts';
import { UrlSigner, verifySignedRequest } from './url-signer.ts';

describe('signed-files routes (local disk store, via inject)', () => {
  let h: StoreHarness;
  beforeAll(async () => { h = await fsHarness(); });
  afterAll(async () => h?.close());

  it('streams the object with its type, length, download name and a sandbox policy', async () => {
    await h.store.putBuffer('analysis-data/u1/s1/s1_report.pdf', Buffer.from('%PDF-1.3 test'), { contentType: 'application/pdf' });
    const url = await h.store.signedGetUrl('analysis-data/u1/s1/s1_report.pdf', { expiresInSeconds: 60, filename: 's1_report.pdf' });
    expect(url).toMatch(/^http:\/\/postura\.test\/files\/analysis-data\/u1\/s1\/s1_report\.pdf\?expires=\d+&filename=.+&signature=/);
    const res = await h.fetchUrl(url);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('%PDF-1.3 test');
    expect(res.header('content-type')).toBe('application/pdf');
    expect(res.header('content-length')).toBe('13');
    expect(res.header('content-disposition')).toBe(`attachment; filename="s1_report.pdf"; filename*=UTF-8''s1_report.pdf`);
    expect(res.header('content-security-policy')).toContain('sandbox');
    expect(res.header('x-content-type-options')).toBe('nosniff');
    expect(res.header('cross-origin-resource-policy')).toBe('cross-origin');
  });

  it('serves a single byte range for video seeking, and HEAD without a body', async () => {
    await h.store.putBuffer('videos/u1/s2/cx_front.mp4', Buffer.from('0123456789'), { contentType: 'video/mp4' });
    const url = await h.store.signedGetUrl('videos/u1/s2/cx_front.mp4', { expiresInSeconds: 60 });
    const ranged = await h.fetchUrl(url, { headers: { range: 'bytes=2-5' } });
    expect(ranged.status).toBe(206);
    expect(ranged.body.toString()).toBe('2345');
    expect(ranged.header('content-range')).toBe('bytes 2-5/10');
    const suffix = await h.fetchUrl(url, { headers: { range: 'bytes=-3' } });
    expect(suffix.body.toString()).toBe('789');
    const beyond = await h.fetchUrl(url, { headers: { range: 'bytes=50-60' } });
    expect(beyond.status).toBe(200);
    expect(beyond.body.toString()).toBe('0123456789');
    const head = await h.fetchUrl(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.header('content-length')).toBe('10');
    expect(head.body.length).toBe(0);
  });

  it('answers 404 {error} for a validly signed URL whose object is gone', async () => {
    const url = await h.store.signedGetUrl('videos/u1/gone/cx_left.mp4', { expiresInSeconds: 60 });
    const res = await h.fetchUrl(url);
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body.toString())).toMatchObject({ error: 'File not found', code: 'not_found' });
  });

  it('does not serve, through a URL signed for one object, the next object uploaded under the same key', async () => {
    const key = 'videos/u1/reused/cx_front.jpg';
    await h.store.putBuffer(key, Buffer.from('first upload'), { contentType: 'image/jpeg' });
    const url = await h.store.signedGetUrl(key, { expiresInSeconds: 60 });
    expect((await h.fetchUrl(url)).body.toString()).toBe('first upload');
    await h.store.delete(key);
    await h.store.putBuffer(key, Buffer.from('<script>later</script>'), { contentType: 'image/jpeg' });
    for (const method of ['GET', 'HEAD']) {
      const stale = await h.fetchUrl(url, { method });
      expect(stale.status).toBe(404);
      expect(stale.body.toString()).not.toContain('later');
    }
    // The same bytes again are still another object; dropping the version from the URL breaks its signature.
    await h.store.putBuffer(key, Buffer.from('first upload'), { contentType: 'image/jpeg' });
    expect((await h.fetchUrl(url)).status).toBe(404);
    const unversioned = new URL(url);
    unversioned.searchParams.delete('v');
    expect((await h.fetchUrl(unversioned.toString())).status).toBe(403);
    expect((await h.fetchUrl(await h.store.signedGetUrl(key, { expiresInSeconds: 60 }))).status).toBe(200);
  });

  it('never serves an object uploaded after its URL was signed for a missing key', async () => {
    const key = 'videos/u1/later/cx_left.jpg';
    const url = await h.store.signedGetUrl(key, { expiresInSeconds: 60 });
    await h.store.putBuffer(key, Buffer.from('arrived later'), { contentType: 'image/jpeg' });
    expect((await h.fetchUrl(url)).status).toBe(404);
  });

  it('sanitises user-chosen download names: no bidi or control characters, an extension matching the type', async () => {
    const key = 'videos/u1/names/cx_front.jpg';
    await h.store.putBuffer(key, Buffer.from('jpeg bytes'), { contentType: 'image/jpeg' });
    const bidi = await h.fetchUrl(await h.store.signedGetUrl(key, { expiresInSeconds: 60, filename: 'evil\u202Egpj.html' }));
    expect(bidi.status).toBe(200);
    expect(bidi.header('content-disposition')).toBe(`attachment; filename="evilgpj.html.jpg"; filename*=UTF-8''evilgpj.html.jpg`);
    const split = await h.fetchUrl(await h.store.signedGetUrl(key, { expiresInSeconds: 60, filename: 'a\r\nSet-Cookie: x=1\r\n.jpg' }));
    expect(split.status).toBe(200);
    expect(split.header('set-cookie')).toBeUndefined();
    expect(split.header('content-disposition')).toBe(`attachment; filename="aSet-Cookie: x=1.jpg"; filename*=UTF-8''aSet-Cookie%3A%20x%3D1.jpg`);
    const kept = await h.fetchUrl(await h.store.signedGetUrl(key, { expiresInSeconds: 60, filename: 'Mé.JPEG' }));
    expect(kept.header('content-disposition')).toBe(`attachment; filename="M_.JPEG"; filename*=UTF-8''M%C3%A9.JPEG`);
  });

  it('answers 403 {error} for missing, forged or expired signatures and a changed filename', async () => {
    await h.store.putBuffer('videos/u1/s3/cx_back.mp4', Buffer.from('x'));
    const url = new URL(await h.store.signedGetUrl('videos/u1/s3/cx_back.mp4', { expiresInSeconds: 60, filename: 'a.mp4' }));
    const bare = await h.fetchUrl(`${url.origin}${url.pathname}`);
    expect(bare.status).toBe(403);
    expect(JSON.parse(bare.body.toString())).toMatchObject({ error: 'Invalid signature', code: 'forbidden' });
    const renamed = new URL(url);
    renamed.searchParams.set('filename', 'evil.html');
    expect((await h.fetchUrl(renamed.toString())).status).toBe(403);
    const later = new URL(url);
    later.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3600));
    expect((await h.fetchUrl(later.toString())).status).toBe(403);

    const pastSigner = new UrlSigner({ secret: TEST_SIGNING_SECRET, baseUrl: 'http://postura.test', now: () => Date.now() - 120_000 });
    const expired = await h.fetchUrl(pastSigner.signedUrl('GET', 'videos/u1/s3/cx_back.mp4', { expiresInSeconds: 60 }));
    expect(expired.status).toBe(403);
    expect(JSON.parse(expired.body.toString()).error).toBe('Signed URL has expired');
  });

  it('streams a signed PUT into the store and refuses bodies over the limit, leaving nothing', async () => {
    const key = 'videos/u1/s4/cx_right.mov';
    const url = await h.store.signedPutUrl(key, { expiresInSeconds: 60 });
    const ok = await h.fetchUrl(url, { method: 'PUT', body: Buffer.from('movie'), headers: { 'content-type': 'video/quicktime' } });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body.toString())).toEqual({ size: 5 });
    expect(await h.store.head(key)).toMatchObject({ size: 5, contentType: 'video/quicktime' });

    const big = 'videos/u1/s4/cx_front.mov';
    const tooBig = await h.fetchUrl(await h.store.signedPutUrl(big, { expiresInSeconds: 60 }), {
      method: 'PUT', body: Buffer.alloc(5 * 1024 * 1024), headers: { 'content-type': 'video/quicktime' },
    });
    expect(tooBig.status).toBe(413);
    expect(JSON.parse(tooBig.body.toString()).code).toBe('payload_too_large');
    expect(await h.store.head(big)).toBeNull();
    // A PUT signature is not a GET signature.
    expect((await h.fetchUrl(url)).status).toBe(403);
  });
});

describe('verifySignedRequest', () => {
  const signer = new UrlSigner({ secret: 's'.repeat(32), baseUrl: '', now: () => 1_700_000_000_000 });

  it('accepts its own URLs and rejects every altered field', () => {
    const url = new URL(signer.signedUrl('GET', 'a/b c/d.png', { expiresInSeconds: 30, filename: 'd.png' }), 'http://x');
    expect(url.pathname).toBe('/files/a/b%20c/d.png');
    const query = Object.fromEntries(url.searchParams);
    expect(verifySignedRequest(signer, { method: 'GET', key: 'a/b c/d.png', query }))
      .toEqual({ ok: true, method: 'GET', key: 'a/b c/d.png', filename: 'd.png' });
    expect(verifySignedRequest(signer, { method: 'HEAD', key: 'a/b c/d.png', query }).ok).toBe(true);
    for (const [method, key, q] of [
      ['PUT', 'a/b c/d.png', query],
      ['DELETE', 'a/b c/d.png', query],
      ['GET', 'a/b c/e.png', query],
      ['GET', 'a/b c/d.png', { ...query, filename: 'x.png' }],
      ['GET', 'a/b c/d.png', { ...query, expires: '1700000031' }],
      ['GET', 'a/b c/d.png', { expires: query.expires }],
      ['GET', 'a/b c/d.png', { ...query, expires: ['1', '2'] }],
    ] as const) {
      expect(verifySignedRequest(signer, { method, key, query: q })).toEqual({ ok: false, reason: 'invalid' });
    }
    const later = new UrlSigner({ secret: 's'.repeat(32), baseUrl: '', now: () => 1_700_000_031_000 });
    expect(verifySignedRequest(later, { method: 'GET', key: 'a/b c/d.png', query })).toEqual({ ok: false, reason: 'expired' });
  });
});

describe('safeDownloadName', () => {
  it('strips bidi, control and separator characters and adds the extension of the served type', async () => {
    const { safeDownloadName } = await import('./object-store.ts');
    expect(safeDownloadName('evil\u202Egpj.html', 'image/jpeg')).toBe('evilgpj.html.jpg');
    expect(safeDownloadName('\u2067x\u2069\u200F.mp4\u0000', 'video/mp4')).toBe('x.mp4');
    expect(safeDownloadName('../../etc/passwd', 'text/csv')).toBe('.._.._etc_passwd.csv');
    expect(safeDownloadName('page.html', undefined)).toBe('page.html.bin');
    expect(safeDownloadName('clip.mov', 'video/mp4')).toBe('clip.mov.mp4');
    expect(safeDownloadName('photo.png', 'image/x-custom')).toBe('photo.png'); // any image extension for an image type
    expect(safeDownloadName('\u202E\r\n', 'application/pdf')).toBe('download.pdf');
  });
});

describe('objectKeys', () => {
  it('builds the SPEC layout and refuses parts that are not one segment', async () => {
    const { objectKeys } = await import('./object-keys.ts');
    expect(objectKeys.media('42', 'sess-1', 'cx', 'front', '.mp4')).toBe('videos/42/sess-1/cx_front.mp4');
    expect(objectKeys.sessionMediaPrefix('42', 'sess-1')).toBe('videos/42/sess-1/');
    expect(objectKeys.detailed('42', 'sess-1', 'left')).toBe('analysis-data/42/sess-1/detailed_left.json');
    expect(objectKeys.feedback('42', 'sess-1')).toBe('analysis-data/42/sess-1/feedback.json');
    expect(objectKeys.report('42', 'sess-1')).toBe('analysis-data/42/sess-1/sess-1_report.pdf');
    expect(objectKeys.overlay('42', 'sess-1', 'back')).toBe('analysis-data/42/sess-1/overlay_back.png');
    expect(() => objectKeys.media('42', '..', 'cx', 'front', '.mp4')).toThrow(/segment/);
    expect(() => objectKeys.media('42', 'a/b', 'cx', 'front', '.mp4')).toThrow(/segment/);
    expect(() => objectKeys.resultsPrefix('', 's')).toThrow(/segment/);
    expect(() => objectKeys.detailed('42', 's', '../x')).toThrow(/segment/);
  });
});
