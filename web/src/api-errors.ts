// Every error the API can answer, turned into one sentence a person can act on. Pure (no DOM, no fetch) so it is
// unit-tested from Node: the API client feeds it the status, the parsed body and the Retry-After header.

export interface ErrorResponse {
  /** HTTP status; 0 when the request never got an answer (network down, server gone). */
  status: number;
  /** Parsed JSON body, or null: studio bodies are `{error, message, code, details?}`, live ones `{detail, code}`. */
  body: unknown;
  /** The Retry-After header, when there was one. */
  retryAfter?: string | null;
}

/** One file of an upload the server refused: the view field, the file's name and why. */
export interface FileFailure {
  field: string;
  filename: string;
  error: string;
}

type Body = { error?: unknown; message?: unknown; detail?: unknown; details?: unknown; errors?: unknown; available_models?: unknown };

const asBody = (body: unknown): Body => (body && typeof body === 'object' ? body as Body : {});
const text = (value: unknown): string | null => (typeof value === 'string' && value.trim() ? value.trim() : null);

/** The server's own sentence: `message` (the longer one) over `error`, or the live family's `detail`. */
export function serverMessage(body: unknown): string | null {
  const b = asBody(body);
  return text(b.message) ?? text(b.error) ?? text(b.detail);
}

/** The per-file failures a 207 or a 400 upload answer lists. */
export function fileFailures(body: unknown): FileFailure[] {
  const list = asBody(body).errors;
  if (!Array.isArray(list)) return [];
  return list.flatMap((item: unknown) => {
    const f = asBody(item) as Record<string, unknown>;
    return typeof f.error === 'string'
      ? [{ field: String(f.field ?? 'file'), filename: String(f.filename ?? ''), error: f.error }]
      : [];
  });
}

export function describeFileFailure(failure: FileFailure): string {
  const view = failure.field === 'file' ? 'File' : `${failure.field[0]?.toUpperCase() ?? ''}${failure.field.slice(1)} view`;
  return `${view}${failure.filename ? ` (${failure.filename})` : ''}: ${failure.error}`;
}

/** Seconds to wait from a Retry-After header (seconds or an HTTP date), or null when absent or unreadable. */
export function retryAfterSeconds(header: string | null | undefined, now = Date.now()): number | null {
  if (!header) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim());
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}

function waitPhrase(seconds: number): string {
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minute${minutes === 1 ? '' : 's'}`;
}

/** The sentence to show for a failed request. */
export function describeApiError(response: ErrorResponse): string {
  const { status, body } = response;
  const said = serverMessage(body);
  switch (true) {
    case status === 0:
      return 'Could not reach the Postura server. Check the connection and try again.';
    case status === 400: {
      const details = fileFailures(body).map(describeFileFailure);
      const listed = details.length > 0 ? details : stringDetails(body);
      const models = asBody(body).available_models;
      const head = said ?? 'The request was not accepted.';
      if (Array.isArray(models) && !said) return `${head} Available models: ${models.join(', ')}.`;
      return listed.length > 0 ? `${head}: ${listed.join('; ')}` : head;
    }
    case status === 401:
      return said && /credentials/i.test(said) ? 'Wrong email or password.' : 'Your session has expired. Please sign in again.';
    case status === 403:
      return said ?? 'You are not allowed to do this.';
    case status === 404:
      return `${said ?? 'Not found'}. It may have been deleted.`;
    case status === 409:
      return said === 'User already exists'
        ? 'An account with this email already exists. Sign in instead.'
        : said ?? 'This conflicts with something that already exists.';
    case status === 413:
      return `Too large: ${said ?? 'the file is over the size limit'}.`;
    case status === 415:
      return said ?? 'This kind of file is not supported.';
    case status === 429: {
      const seconds = retryAfterSeconds(response.retryAfter);
      const base = said ?? 'Too many requests';
      return seconds === null ? `${base}. Try again later.` : `${base}. Try again in ${waitPhrase(seconds)}.`;
    }
    case status === 501:
      return said ?? 'This is not available on this server.';
    case status >= 500:
      return `The server could not do this (error ${status})${said ? `: ${said}` : ''}. Try again in a moment.`;
    default:
      return said ?? `Unexpected answer from the server (${status}).`;
  }
}

function stringDetails(body: unknown): string[] {
  const details = asBody(body).details;
  return Array.isArray(details) ? details.filter((d): d is string => typeof d === 'string') : [];
}

/** The sentence for an analysis that ended `failed`, with the server's reason. */
export function describeFailedAnalysis(error: string | null): string {
  return error ? `The analysis failed: ${error}` : 'The analysis failed without a reason given.';
}
