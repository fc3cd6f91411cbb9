import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, errors, isAppError } from '../errors/app-error.ts';
import { errorResponse, familyOfUrl } from './error-mapping.ts';

/** Installs the one place where any thrown error becomes an HTTP answer. Bad input is never a 500. */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error, request);
    if (appError.code === 'internal') {
      request.log.error({ err: error }, 'unhandled error');
    }
    return sendAppError(request, reply, appError);
  });

  app.setNotFoundHandler((request, reply) => {
    return sendAppError(request, reply, errors.notFound(`Route ${request.method} ${request.url.split('?')[0]}`));
  });
}

/**
 * Fastify's `frameworkErrors`: errors raised before routing (a URL with broken percent-encoding), which would
 * otherwise leave in Fastify's own body and code instead of the family's.
 */
export function handleFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const appError = error.code === 'FST_ERR_BAD_URL'
    ? errors.invalidRequest('Malformed URL: invalid percent-encoding')
    : toAppError(error, request);
  if (appError.code === 'internal') request.log.error({ err: error }, 'unhandled framework error');
  sendAppError(request, reply, appError);
}

export function sendAppError(request: FastifyRequest, reply: FastifyReply, error: AppError): FastifyReply {
  const { status, body } = errorResponse(familyOfUrl(request.url), error.code, error.message, error.details);
  if (error.retryAfterSeconds !== undefined) reply.header('Retry-After', String(error.retryAfterSeconds));
  return reply.status(status).send(body);
}

/** Translates framework errors (schema validation, body parsing, limits) into the closed set of codes. */
function toAppError(error: FastifyError, request: FastifyRequest): AppError {
  if (isAppError(error)) return error;
  // An empty JSON body reads as no body (src/http/json-body.ts); the schema's "must be object" would not say so.
  if (error.validation && error.validationContext === 'body' && request.body === undefined) {
    return errors.invalidRequest('Request body is missing: this route needs a JSON object');
  }
  if (error.validation) {
    const first = error.validation[0];
    const where = error.validationContext ?? 'request';
    const field = first?.instancePath ? `${where}${first.instancePath.replaceAll('/', '.')}` : where;
    return errors.invalidRequest(`Invalid ${field}: ${first?.message ?? 'invalid value'}`);
  }
  if (isDataException(error)) {
    return errors.invalidRequest('The request holds a value that cannot be stored (a NUL character, an unpaired surrogate, or a number or date out of range)');
  }
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.invalidRequest('Request body is not valid JSON');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errors.payloadTooLarge('Request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return errors.unsupportedMediaType('Unsupported content type');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return errors.invalidRequest('Content-Length does not match the body');
  }
  const status = error.statusCode ?? 500;
  if (status === 413) return errors.payloadTooLarge(error.message);
  if (status === 429) return errors.rateLimited(1, error.message);
  if (status >= 400 && status < 500) return errors.invalidRequest(error.message);
  return errors.internal();
}

/**
 * PostgreSQL SQLSTATE class 22, "data exception", from either engine: the request carried a value the database
 * cannot hold (NUL in text, an unpaired surrogate in JSON, a number or date out of range). Bad input, not a fault.
 */
function isDataException(error: unknown): boolean {
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof code === 'string' && /^22[0-9A-Z]{3}$/.test(code) && typeof severity === 'string';
}
