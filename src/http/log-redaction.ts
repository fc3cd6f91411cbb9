import pino, { type DestinationStream } from 'pino';

/**
 * Query parameters that carry credentials: `token` (7-day live tokens, WebSocket tokens), `signature` (signed file
 * URLs, S3's `X-Amz-Signature`), `access_token`, `ws_token`, and any other name ending in token, signature, secret,
 * password or credential, plus `sig` and `api_key`. Only the value goes; the name stays, so a log still says a
 * token was sent. The value ends where a URL's query value ends, or at a JSON string's escape or quote.
 */
const SECRET_QUERY_VALUE =
  /([?&;](?:[\w.-]*(?:token|signature|secret|password|credential)|sig|api[_-]?key)=)[^&#;\s"'\\]*/gi;

export const REDACTED = '[redacted]';

export function redactSecretsInUrls(text: string): string {
  return text.replace(SECRET_QUERY_VALUE, `$1${REDACTED}`);
}

/**
 * Wraps the log destination so every line pino writes is redacted, whatever put the URL there: the request log's
 * `url`, an error's message or stack (a malformed URL is quoted in one), a WebSocket route's own lines. Redacting
 * the written line rather than chosen fields is what keeps a new log call from leaking one again.
 */
export function redactingDestination(target: DestinationStream = pino.destination(1)): DestinationStream {
  return {
    write(line: string) {
      return target.write(redactSecretsInUrls(line));
    },
  };
}
