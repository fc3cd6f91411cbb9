import { errors } from '../errors/app-error.ts';

export const RAW_MEDIA_REFUSED = 'Raw frame/image uploads are not allowed';
export const PAYLOAD_TOO_LARGE = 'Payload too large - did you try to send raw frames?';
const FORBIDDEN_KEYS = new Set(['image', 'frame']);
const MAX_STRING_LENGTH = 5000;

/**
 * The privacy rule: live clients send keypoints and numbers, never pictures. A key named image/frame (any case,
 * any depth) or any string over 5000 characters (a base64 frame) is refused. Walks with an explicit stack so a
 * deeply nested body cannot overflow the call stack.
 */
export function assertNoRawMedia(body: unknown): void {
  let tooLong = false;
  const stack: unknown[] = [body];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') {
      if (value.length > MAX_STRING_LENGTH) tooLong = true;
    } else if (Array.isArray(value)) {
      for (const item of value) stack.push(item);
    } else if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (FORBIDDEN_KEYS.has(key.toLowerCase())) throw errors.invalidRequest(RAW_MEDIA_REFUSED);
        if (key.length > MAX_STRING_LENGTH) tooLong = true;
        stack.push(inner);
      }
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
