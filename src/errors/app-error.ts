/**
 * The closed set of failure codes. Services throw these; the HTTP layer alone decides status and body shape
 * (see src/http/error-mapping.ts), so domain code never knows about HTTP.
 */
export const ERROR_CODES = [
  'invalid_request',
  'missing_fields',
  'email_taken',
  'invalid_credentials',
  'unauthenticated',
  'invalid_token',
  'forbidden',
  'origin_not_allowed',
  'not_found',
  'conflict',
  'rate_limited',
  'not_implemented',
  'payload_too_large',
  'unsupported_media_type',
  'unavailable',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Extra fields for the response body (family A adds them beside `error`). */
    readonly details: Readonly<Record<string, unknown>> = {},
    /** Seconds a client should wait, for rate limits. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

/** Named factories keep messages consistent across the code base. */
export const errors = {
  invalidRequest: (message: string, details?: Record<string, unknown>) =>
    new AppError('invalid_request', message, details),
  missingFields: (message = 'Missing required fields') => new AppError('missing_fields', message),
  emailTaken: () => new AppError('email_taken', 'User already exists'),
  invalidCredentials: () => new AppError('invalid_credentials', 'Invalid credentials'),
  unauthenticated: (message = 'Authentication credentials were not provided.') =>
    new AppError('unauthenticated', message),
  invalidToken: (message = 'Invalid or expired token') => new AppError('invalid_token', message),
  forbidden: (message = 'You do not have permission to perform this action.') => new AppError('forbidden', message),
  originNotAllowed: () =>
    new AppError('origin_not_allowed', 'Cross-site request refused: origin not allowed for cookie authentication'),
  notFound: (what = 'Resource') => new AppError('not_found', `${what} not found`),
  userNotFound: () => new AppError('not_found', 'User not found'),
  conflict: (message: string, details?: Record<string, unknown>) => new AppError('conflict', message, details),
  rateLimited: (retryAfterSeconds: number, message = 'Too many attempts, try again later') =>
    new AppError('rate_limited', message, {}, retryAfterSeconds),
  notImplemented: (message: string) => new AppError('not_implemented', message),
  payloadTooLarge: (message: string) => new AppError('payload_too_large', message),
  unsupportedMediaType: (message: string) => new AppError('unsupported_media_type', message),
  unavailable: (message: string) => new AppError('unavailable', message),
  internal: (message = 'Internal server error') => new AppError('internal', message),
};
