import { errors } from '../errors/app-error.ts';

export const RAW_MEDIA_REFUSED = 'Raw frame/image uploads are not allowed';
export const PAYLOAD_TOO_LARGE = 'Payload too large - did you try to send raw frames?';
const FORBIDDEN_KEYS = new Set(['image', 'frame']);
/** Both forbidden keys are this long: other keys are not lower-cased to compare. */
const FORBIDDEN_KEY_LENGTH = 5;
const MAX_STRING_LENGTH = 5000;

/**
 * The privacy rule: live clients send keypoints and numbers, never pictures. A key named image/frame (any case,
 * any depth) or any string over 5000 characters (a base64 frame) is refused. Walks with an explicit stack so a
 * deeply nested body cannot overflow the call stack, and allocates nothing per node (it runs on every live body).
 */
export function assertNoRawMedia(body: unknown): void {
  let tooLong = typeof body === 'string' && body.length > MAX_STRING_LENGTH;
  const stack: object[] = body !== null && typeof body === 'object' ? [body] : [];
  const visit = (inner: unknown): void => {
    if (typeof inner === 'string') {
      if (inner.length > MAX_STRING_LENGTH) tooLong = true;
    } else if (inner !== null && typeof inner === 'object') stack.push(inner);
  };
  while (stack.length > 0) {
    const value = stack.pop()!;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) visit(value[i]);
      continue;
    }
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      if (key.length === FORBIDDEN_KEY_LENGTH && FORBIDDEN_KEYS.has(key.toLowerCase())) throw errors.invalidRequest(RAW_MEDIA_REFUSED);
      if (key.length > MAX_STRING_LENGTH) tooLong = true;
      visit((value as Record<string, unknown>)[key]);
    }
  }
  // The key rule wins when both apply: it says what is wrong more precisely.
  if (tooLong) throw errors.invalidRequest(PAYLOAD_TOO_LARGE);
}

/**
 * The rule as a preValidation hook, added once per live route plugin so every route with a body gets it, the
 * ones written later included. It runs before the schemas, on the body as parsed: they let an unknown `image` key
 * through for the handler to ignore (accepted, not refused) and may coerce values. It also runs before the auth and
 * rate-limit preHandlers, so a refused body takes no anonymous-write budget.
 */
export async function refuseRawMedia(request: { body: unknown }): Promise<void> {
  assertNoRawMedia(request.body);
}
