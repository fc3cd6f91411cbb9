import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignedMethod = 'GET' | 'PUT';

export interface UrlSignerOptions {
  /** Server secret; at least 32 bytes of randomness in production. */
  secret: string | Uint8Array;
  /** Public origin of the API, e.g. `https://api.example.com` (empty: URLs relative to the API origin). */
  baseUrl: string;
  /** Path the signed-files routes are mounted under. */
  routePrefix?: string;
  now?: () => number;
}

export type SignatureCheck =
  | { ok: true; method: SignedMethod; key: string; filename?: string }
  | { ok: false; reason: 'expired' | 'invalid' };

/**
 * Capability URLs for stores that the API serves itself (local disk, in-memory): an HMAC-SHA256 over method, key,
 * expiry and download name, so a URL grants exactly one method on one key until it expires.
 */
export class UrlSigner {
  readonly routePrefix: string;
  private readonly secret: Buffer;
  private readonly baseUrl: string;
  private readonly now: () => number;

  constructor({ secret, baseUrl, routePrefix = '/files', now = Date.now }: UrlSignerOptions) {
    if (secret.length === 0) throw new Error('UrlSigner needs a non-empty secret');
    this.secret = Buffer.from(secret);
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.routePrefix = `/${routePrefix.replace(/^\/+|\/+$/g, '')}`;
    this.now = now;
  }

  signedUrl(method: SignedMethod, key: string, opts: { expiresInSeconds: number; filename?: string }): string {
    if (!Number.isInteger(opts.expiresInSeconds) || opts.expiresInSeconds <= 0) {
      throw new Error('expiresInSeconds must be a positive integer');
    }
    const expires = Math.floor(this.now() / 1000) + opts.expiresInSeconds;
    const query = new URLSearchParams({ expires: String(expires) });
    if (opts.filename !== undefined) query.set('filename', opts.filename);
    query.set('signature', this.mac(method, key, expires, opts.filename));
    return `${this.baseUrl}${this.pathOf(key)}?${query.toString()}`;
  }

  /** The path part of a signed URL for `key`, each segment percent-encoded. */
  pathOf(key: string): string {
    return `${this.routePrefix}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  verify(request: { method: string; key: string; expires?: unknown; signature?: unknown; filename?: unknown }):
    SignatureCheck {
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    if (method !== 'GET' && method !== 'PUT') return { ok: false, reason: 'invalid' };
    const { expires, signature, filename } = request;
    if (typeof expires !== 'string' || !/^\d{1,12}$/.test(expires) || typeof signature !== 'string') {
      return { ok: false, reason: 'invalid' };
    }
    if (filename !== undefined && typeof filename !== 'string') return { ok: false, reason: 'invalid' };
    const expected = Buffer.from(this.mac(method, request.key, Number(expires), filename));
    const given = Buffer.from(signature);
    // Signature before expiry: an attacker learns nothing about expiry handling from a forged URL.
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'invalid' };
    if (Math.floor(this.now() / 1000) > Number(expires)) return { ok: false, reason: 'expired' };
    return filename === undefined ? { ok: true, method, key: request.key } : { ok: true, method, key: request.key, filename };
  }

  private mac(method: SignedMethod, key: string, expires: number, filename: string | undefined): string {
    // Length-prefixed fields: no two different tuples produce the same signed string.
    const fields = [method, key, String(expires), filename ?? ''];
    const payload = fields.map((f) => `${Buffer.byteLength(f)}:${f}`).join('\n');
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}

/** Checks a request against a signed URL's query parameters (`expires`, `signature`, optional `filename`). */
export function verifySignedRequest(
  signer: UrlSigner,
  request: { method: string; key: string; query: Readonly<Record<string, unknown>> },
): SignatureCheck {
  const { expires, signature, filename } = request.query;
  return signer.verify({ method: request.method, key: request.key, expires, signature, filename });
}
