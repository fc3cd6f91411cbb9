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
  | { ok: true; method: SignedMethod; key: string; filename?: string; version?: string }
  | { ok: false; reason: 'expired' | 'invalid' };

/**
 * What the signed-files PUT route asks before it stores a body, for URLs whose validity outlives the signature's
 * expiry check (a direct upload dies at finalize or delete). `authorize` throws an AppError to refuse; `confirm`,
 * after the body is stored, says whether it may stay (false: the route deletes it and answers 409); `release` always
 * runs last.
 */
export interface SignedPutGate {
  authorize(key: string): Promise<SignedPutPermit>;
}

export interface SignedPutPermit {
  confirm(): Promise<boolean>;
  release(): void;
}

/**
 * Capability URLs for stores that the API serves itself (local disk, in-memory): an HMAC-SHA256 over method, key,
 * expiry, download name and (for GETs) the object's version, so a URL grants exactly one method on one key until it
 * expires, and a GET only ever serves the object that was there when it was signed, not a later one at the same key.
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

  signedUrl(method: SignedMethod, key: string, opts: { expiresInSeconds: number; filename?: string; version?: string }): string {
    if (!Number.isInteger(opts.expiresInSeconds) || opts.expiresInSeconds <= 0) {
      throw new Error('expiresInSeconds must be a positive integer');
    }
    const expires = Math.floor(this.now() / 1000) + opts.expiresInSeconds;
    const query = new URLSearchParams({ expires: String(expires) });
    if (opts.filename !== undefined) query.set('filename', opts.filename);
    if (opts.version !== undefined) query.set('v', opts.version);
    query.set('signature', this.mac(method, key, expires, opts.filename, opts.version));
    return `${this.baseUrl}${this.pathOf(key)}?${query.toString()}`;
  }

  /** The path part of a signed URL for `key`, each segment percent-encoded. */
  pathOf(key: string): string {
    return `${this.routePrefix}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  verify(request: { method: string; key: string; expires?: unknown; signature?: unknown; filename?: unknown; version?: unknown }):
    SignatureCheck {
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    if (method !== 'GET' && method !== 'PUT') return { ok: false, reason: 'invalid' };
    const { expires, signature, filename, version } = request;
    if (typeof expires !== 'string' || !/^\d{1,12}$/.test(expires) || typeof signature !== 'string') {
      return { ok: false, reason: 'invalid' };
    }
    if (filename !== undefined && typeof filename !== 'string') return { ok: false, reason: 'invalid' };
    if (version !== undefined && typeof version !== 'string') return { ok: false, reason: 'invalid' };
    const expected = Buffer.from(this.mac(method, request.key, Number(expires), filename, version));
    const given = Buffer.from(signature);
    // Signature before expiry: an attacker learns nothing about expiry handling from a forged URL.
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'invalid' };
    if (Math.floor(this.now() / 1000) > Number(expires)) return { ok: false, reason: 'expired' };
    return {
      ok: true, method, key: request.key, ...(filename === undefined ? {} : { filename }), ...(version === undefined ? {} : { version }),
    };
  }

  private mac(method: SignedMethod, key: string, expires: number, filename: string | undefined, version: string | undefined): string {
    // Length-prefixed fields: no two different tuples produce the same signed string. The version is a fifth field
    // only when present, so URLs signed before versions existed keep verifying until they expire.
    const fields = [method, key, String(expires), filename ?? '', ...(version === undefined ? [] : [version])];
    const payload = fields.map((f) => `${Buffer.byteLength(f)}:${f}`).join('\n');
    return createHmac('sha256', this.secret).update(payload).digest('base64url');
  }
}

/** Checks a request against a signed URL's query parameters (`expires`, `signature`, optional `filename` and `v`). */
export function verifySignedRequest(
  signer: UrlSigner,
  request: { method: string; key: string; query: Readonly<Record<string, unknown>> },
): SignatureCheck {
  const { expires, signature, filename, v: version } = request.query;
  return signer.verify({ method: request.method, key: request.key, expires, signature, filename, version });
}
