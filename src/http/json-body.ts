import type { FastifyInstance } from 'fastify';

/**
 * Fastify's JSON parser, except that an empty (or blank) body is no body. Browsers and fetch wrappers send
 * `Content-Type: application/json` with nothing after it on calls that take no body (the studio web client's
 * logout among them); the default parser answers those 400. A route whose schema needs a body still refuses one
 * that is missing, in validation. Everything else is the default parser's own work: the body size limit, and the
 * refusal of `__proto__` and `constructor.prototype` keys as configured on the instance.
 *
 * Content-type parsers are copied into plugins when they register, so this must run before any route plugin.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  const { onProtoPoisoning = 'error', onConstructorPoisoning = 'error' } = app.initialConfig;
  const parseJson = app.getDefaultJsonParser(onProtoPoisoning, onConstructorPoisoning);
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString();
    // Whitespace alone counts as empty too, as the live routes' own parser has always read it.
    if (/^\s*$/.test(text)) {
      done(null, undefined);
      return;
    }
    return parseJson(request, text, done);
  });
}
