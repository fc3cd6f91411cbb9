import type { ErrorCode } from '../errors/app-error.ts';

/**
 * Two client families with different error bodies: the studio API answers `{error, message, code, ...details}`,
 * the live API answers `{detail, code}` (the shapes of the services they replace).
 */
export type RouteFamily = 'studio' | 'live';

interface CodeMapping {
  status: number;
  /** Per-family overrides where the replaced services disagreed (e.g. a taken email is 409 vs 400). */
  live?: { status?: number; message?: string };
}

export const ERROR_MAPPING: Readonly<Record<ErrorCode, CodeMapping>> = {
  invalid_request: { status: 400 },
  missing_fields: { status: 400 },
  email_taken: { status: 409, live: { status: 400, message: 'Email already registered' } },
  invalid_credentials: { status: 401 },
  unauthenticated: { status: 401 },
  invalid_token: { status: 401 },
  forbidden: { status: 403 },
  origin_not_allowed: { status: 403 },
  not_found: { status: 404 },
  conflict: { status: 409 },
  rate_limited: { status: 429 },
  not_implemented: { status: 501 },
  payload_too_large: { status: 413 },
  unsupported_media_type: { status: 415 },
  unavailable: { status: 503 },
  internal: { status: 500 },
};

const LIVE_PREFIXES = ['/api/auth/', '/api/sessions/', '/api/calibration/', '/api/device_metrics/', '/ws/posture/',
  '/api/users/me/sessions/'];

/** Route family from the URL, for errors raised before a route is matched (404s, body parse failures). */
export function familyOfUrl(url: string): RouteFamily {
  const pathname = url.split('?')[0] ?? '';
  const withSlash = pathname.endsWith('/') ? pathname : `${pathname}/`;
  return LIVE_PREFIXES.some((prefix) => withSlash.startsWith(prefix)) ? 'live' : 'studio';
}

export function errorResponse(
  family: RouteFamily,
  code: ErrorCode,
  message: string,
  details: Readonly<Record<string, unknown>> = {},
): { status: number; body: Record<string, unknown> } {
  const mapping = ERROR_MAPPING[code];
  if (family === 'live') {
    return {
      status: mapping.live?.status ?? mapping.status,
      body: { detail: mapping.live?.message ?? message, code },
    };
  }
  // The studio web client's toasts show `message`, the replaced service's own bodies had `error`: both are sent. A
  // detail named `message` (a longer sentence beside a short `error`) wins over the copy.
  return { status: mapping.status, body: { error: message, message, code, ...details } };
}
