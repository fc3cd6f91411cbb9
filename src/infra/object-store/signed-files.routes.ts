import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { errors } from '../../errors/app-error.ts';
import { studioErrors } from '../../http/common.schemas.ts';
import { attachmentDisposition, DEFAULT_CONTENT_TYPE, type ObjectInfo, type ObjectStore } from './object-store.ts';
import { verifySignedRequest, type SignedPutGate, type UrlSigner } from './url-signer.ts';

export interface SignedFilesOptions {
  store: ObjectStore;
  signer: UrlSigner;
  /** Largest body a signed PUT may carry (default 500 MiB, the upload limit of SPEC section 2). */
  maxUploadBytes?: number;
  /** Asked before and after every PUT (direct uploads: single use, dead once finalized or deleted); none: any PUT. */
  putGate?: SignedPutGate;
}

const SignedQuery = Type.Object({
  expires: Type.Optional(Type.String()),
  signature: Type.Optional(Type.String()),
  filename: Type.Optional(Type.String()),
  v: Type.Optional(Type.String({ description: 'The version of the object the URL was signed for' })),
});

/**
 * Serves the signed URLs of stores that have no HTTP server of their own (local disk, in-memory): the URL is the
 * capability, so these routes take no token. GET streams the object (with single-range support, so browsers can
 * seek in videos); PUT streams the body into the store. Expired or forged signatures are 403, missing objects 404,
 * and so is an object that is no longer the one the GET URL was signed for (deleted, then uploaded again).
 */
export async function signedFilesRoutes(fastify: FastifyInstance, opts: SignedFilesOptions): Promise<void> {
  const { store, signer, putGate, maxUploadBytes = 500 * 1024 * 1024 } = opts;
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const route = `${signer.routePrefix}/*`;

  // PUT bodies are streamed to the store, never parsed or buffered: take every content type as a raw stream.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null));

  // HEAD is its own route: Fastify's automatic one would read the whole object only to throw it away.
  app.route({
    method: ['GET', 'HEAD'], url: route, exposeHeadRoute: false,
    schema: {
      tags: ['files'], summary: 'Download through a signed URL', querystring: SignedQuery,
      response: studioErrors(403, 404),
    },
    handler: async (request, reply) => {
      const { key, filename, version } = checkSignature(request, signer);
      const info = await store.head(key);
      if (!info || !isSignedVersion(info, version)) throw errors.notFound('File');
      const range = parseRange(request.headers.range, info.size);
      // Open before setting any header: if the object vanished meanwhile, the 404 goes out with clean headers.
      const body = request.method === 'HEAD' ? undefined : await store.get(key, range ? { range } : {});
      if (body && version !== undefined && !isSignedVersion(await store.head(key), version)) {
        // Replaced between the check and the open: what was opened may be the new object, so serve nothing.
        body.destroy();
        throw errors.notFound('File');
      }
      setDownloadHeaders(reply, info.contentType ?? DEFAULT_CONTENT_TYPE, filename);
      if (range) {
        reply.status(206).header('Content-Range', `bytes ${range.start}-${range.end}/${info.size}`);
        reply.header('Content-Length', String(range.end - range.start + 1));
      } else {
        reply.header('Content-Length', String(info.size));
      }
      return reply.send(body);
    },
  });

  app.put(route, {
    schema: {
      tags: ['files'], summary: 'Upload through a signed URL', querystring: SignedQuery,
      response: { 200: Type.Object({ size: Type.Integer() }), ...studioErrors(400, 403, 409, 413) },
    },
  }, async (request, reply) => {
    const { key } = checkSignature(request, signer);
    const declared = request.headers['content-length'];
    const contentLength = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : undefined;
    if (contentLength !== undefined && contentLength > maxUploadBytes) {
      throw errors.payloadTooLarge(`File is larger than the limit of ${maxUploadBytes} bytes`);
    }
    // Last of the checks, as it holds the key until `release` (in the finally below).
    const permit = putGate
      ? await putGate.authorize(key).catch((error: unknown) => {
        // The body was never read: it cannot be left on a keep-alive connection for the next request to parse.
        if (!request.raw.complete) reply.header('Connection', 'close');
        throw error;
      })
      : null;
    // A client that goes away mid-upload aborts the put, which then leaves nothing behind.
    const dropped = new AbortController();
    const onClose = () => {
      if (!request.raw.complete) dropped.abort(new DOMException('Client closed the upload', 'AbortError'));
    };
    request.raw.once('close', onClose);
    try {
      const contentType = request.headers['content-type'];
      const stored = await store.put(key, request.raw, {
        maxBytes: maxUploadBytes, signal: dropped.signal,
        ...(contentType ? { contentType } : {}),
        ...(contentLength !== undefined ? { contentLength } : {}),
      });
      if (permit && !(await permit.confirm())) {
        // Finalized or deleted while the body was on the wire: what arrived is nobody's, so it does not stay.
        await store.delete(key);
        throw errors.conflict('The upload was finalized or deleted while this body was being sent');
      }
      return stored;
    } catch (error) {
      // Refused mid-body (over the limit while streaming): the rest of the body is still on the wire, so this
      // connection cannot carry another request. Close it after the answer, or a keep-alive client waits forever.
      if (!request.raw.complete) reply.header('Connection', 'close');
      throw error;
    } finally {
      request.raw.off('close', onClose);
      permit?.release();
    }
  });
}

function checkSignature(request: FastifyRequest, signer: UrlSigner): { key: string; filename?: string; version?: string } {
  const key = (request.params as { '*'?: string })['*'] ?? '';
  const check = verifySignedRequest(signer, {
    method: request.method, key, query: request.query as Record<string, unknown>,
  });
  if (!check.ok) {
    throw errors.forbidden(check.reason === 'expired' ? 'Signed URL has expired' : 'Invalid signature');
  }
  return {
    key, ...(check.filename === undefined ? {} : { filename: check.filename }), ...(check.version === undefined ? {} : { version: check.version }),
  };
}

/** URLs signed before versions existed carry none and serve whatever is at the key until they expire. */
function isSignedVersion(info: ObjectInfo | null, version: string | undefined): boolean {
  return info !== null && (version === undefined || info.version === version);
}

function setDownloadHeaders(reply: FastifyReply, contentType: string, filename: string | undefined): void {
  reply.header('Content-Type', contentType);
  reply.header('Accept-Ranges', 'bytes');
  reply.header('Cache-Control', 'private, max-age=0');
  reply.header('X-Content-Type-Options', 'nosniff');
  // Uploaded bytes are served from the API's own origin: never let them run as a page there.
  reply.header('Content-Security-Policy', "default-src 'none'; sandbox");
  // The signature is the capability, so any page holding the URL may embed the file (<video>, <img>), as with S3
  // presigned URLs: the studio web client runs on another origin. Helmet's default `same-origin` would blank it.
  reply.header('Cross-Origin-Resource-Policy', 'cross-origin');
  if (filename !== undefined) reply.header('Content-Disposition', attachmentDisposition(filename, contentType));
}

/**
 * One `bytes=` range (the form browsers send for media). Multi-range and unsatisfiable ranges are ignored and the
 * whole object is served, which HTTP allows (RFC 9110 section 14.2) and keeps every error in the shared mapping.
 */
function parseRange(header: string | undefined, size: number): { start: number; end: number } | null {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return null;
  let start: number;
  let end: number;
  if (match[1] === '') {
    const suffix = Number(match[2]);
    if (suffix === 0) return null;
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || start > end) return null;
  return { start, end };
}
