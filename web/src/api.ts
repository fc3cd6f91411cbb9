// The browser's one door to the Postura API. Same origin, so the HttpOnly access cookie rides along and no token is
// ever kept by the app (the API's origin check accepts same-origin requests). Every failure becomes an ApiError
// whose message is already a sentence for people (api-errors.ts); a 401 on an authenticated call tells the shell,
// which returns to sign-in with "session expired".
//
// Contract for other pages (the live page is mounted with `mountLivePage(root, { api })`):
//   api.me()                          → the signed-in user, or null
//   api.request(method, path, body?)  → parsed JSON of any API route (cookie sent; body sent as JSON), throws ApiError
import { describeApiError, fileFailures } from './api-errors.ts';
import type { AnalysisDetail, AnalysisSummary, FeedbackReport, UploadResult, User } from './api-types.ts';

export * from './api-types.ts';

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly body: unknown = null) {
    super(message);
    this.name = 'ApiError';
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export class ApiClient {
  /** Called on a 401 from a call that needed a session (not sign-in itself, not `me`). */
  onSessionExpired: () => void = () => {};

  async request<T = unknown>(method: Method, path: string, body?: unknown): Promise<T> {
    const response = await this.send(method, path, body);
    if (response.status === 401) this.onSessionExpired();
    return parse<T>(response);
  }

  /** The signed-in user, or null when there is no (valid) session. */
  async me(): Promise<User | null> {
    const response = await this.send('GET', '/auth/profile');
    if (response.status === 401) return null;
    return (await parse<{ user: User }>(response)).user;
  }

  async signIn(email: string, password: string): Promise<User> {
    return (await parse<{ user: User }>(await this.send('POST', '/auth/login', { email, password }))).user;
  }

  /** Creates the account, then signs in (registering gives a token but sets no cookie). */
  async signUp(name: string, email: string, password: string): Promise<User> {
    await parse(await this.send('POST', '/auth/register', { name, email, password }));
    return this.signIn(email, password);
  }

  async signOut(): Promise<void> {
    const response = await this.send('POST', '/auth/logout', {});
    if (response.status !== 401) await parse(response);
  }

  wsToken(): Promise<{ ws_token: string }> {
    return this.request('GET', '/auth/ws-token');
  }

  /** The user's analyses, newest first, every page (the list may come as the documented object or a bare array). */
  async listAnalyses(): Promise<AnalysisSummary[]> {
    const all: AnalysisSummary[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const response = await this.send('GET', `/api/analysis/list${query}`);
      if (response.status === 401) this.onSessionExpired();
      const nextHeader = response.headers.get('x-next-cursor');
      const body = await parse<{ analyses: AnalysisSummary[]; next_cursor: string | null } | AnalysisSummary[]>(response);
      all.push(...(Array.isArray(body) ? body : body.analyses));
      cursor = Array.isArray(body) ? nextHeader : body.next_cursor;
    } while (cursor);
    return all;
  }

  analysis(id: string): Promise<AnalysisDetail> {
    return this.request('GET', `/api/analysis/${encodeURIComponent(id)}`);
  }

  async deleteAnalysis(id: string): Promise<void> {
    await this.request('DELETE', `/api/analysis/${encodeURIComponent(id)}`);
  }

  /** The signed feedback.json of a completed analysis. */
  async feedback(url: string): Promise<FeedbackReport> {
    return parse<FeedbackReport>(await fetch(url, { credentials: 'same-origin' }).catch(() => networkFailure()));
  }

  /**
   * Sends the multipart upload with XMLHttpRequest, the one browser API that reports upload progress
   * (`onProgress(sent, total)` in bytes). 201 and 207 resolve (207 with the refused files), anything else throws.
   */
  upload(form: FormData, onProgress: (sent: number, total: number) => void): Promise<UploadResult> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/api/video/upload');
      xhr.withCredentials = true;
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) onProgress(event.loaded, event.total);
      };
      xhr.onerror = () => reject(new ApiError(0, describeApiError({ status: 0, body: null })));
      xhr.onload = () => {
        const body = parseJson(xhr.responseText);
        if (xhr.status === 201 || xhr.status === 207) {
          const ok = body as Omit<UploadResult, 'failures'>;
          resolve({ analysis_id: ok.analysis_id, session_id: ok.session_id, views_uploaded: ok.views_uploaded, failures: fileFailures(body) });
          return;
        }
        if (xhr.status === 401) this.onSessionExpired();
        reject(new ApiError(xhr.status, describeApiError({ status: xhr.status, body, retryAfter: xhr.getResponseHeader('retry-after') }), body));
      };
      xhr.send(form);
    });
  }

  private send(method: Method, path: string, body?: unknown): Promise<Response> {
    const init: RequestInit = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { ...init.headers, 'content-type': 'application/json' };
    }
    return fetch(path, init).catch(() => networkFailure());
  }
}

function networkFailure(): never {
  throw new ApiError(0, describeApiError({ status: 0, body: null }));
}

async function parse<T>(response: Response): Promise<T> {
  const body = parseJson(await response.text());
  if (!response.ok) {
    throw new ApiError(response.status, describeApiError({ status: response.status, body, retryAfter: response.headers.get('retry-after') }), body);
  }
  return body as T;
}

function parseJson(text: string): unknown {
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The app's one client: pages share it, and the shell sets what a lost session does. */
export const api = new ApiClient();
