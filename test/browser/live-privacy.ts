// The browser test's privacy check: what in a request body or socket frame could be a picture. Stricter than the
// server's rule (which refuses only the exact keys image/frame and strings over 5,000 characters): any key naming
// an image or frame, any base64 run of 1,000 characters, a data: URL, a body that is not UTF-8 JSON.

export interface SentBody {
  url: string;
  method: string;
  body: Buffer | null;
}

const BASE64_RUN = /[A-Za-z0-9+/]{1000,}/;
const PICTURE_KEY = /image|frame|picture|photo|blob/i;

/** What looks like image data in one request, as "METHOD url: why"; empty when nothing does. */
export function findImageData(sent: SentBody): string[] {
  if (!sent.body || sent.body.length === 0) return [];
  const where = `${sent.method} ${sent.url}`;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(sent.body);
  } catch {
    return [`${where}: binary body of ${sent.body.length} bytes`];
  }
  const found: string[] = [];
  if (/[\u0000-\u0008\u000e-\u001f]/.test(text)) found.push(`${where}: control characters (binary data)`);
  if (/data:image/i.test(text)) found.push(`${where}: a data:image URL`);
  if (BASE64_RUN.test(text)) found.push(`${where}: a base64 run of 1000+ characters`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return [...found, `${where}: a body that is not JSON`];
  }
  const stack = [json];
  while (stack.length > 0) {
    const value = stack.pop();
    if (value === null || typeof value !== 'object') continue;
    for (const [key, inner] of Object.entries(value)) {
      if (PICTURE_KEY.test(key)) found.push(`${where}: key "${key}"`);
      stack.push(inner);
    }
  }
  return found;
}
