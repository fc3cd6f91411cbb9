import { describe, expect, it } from 'vitest';
import { describeApiError, describeFailedAnalysis, fileFailures, retryAfterSeconds } from '../../web/src/api-errors.ts';

// The web app's sentences for every error the API answers, fed with the bodies the API really sends
// (src/http/error-mapping.ts: studio `{error, message, code, ...}`, live `{detail, code}`).

const studio = (message: string, code: string, extra: object = {}) => ({ error: message, message, code, ...extra });

describe('describeApiError', () => {
  it('lists each refused file of an upload that stored nothing (400)', () => {
    const errors = [
      { field: 'front', filename: 'notes.txt', error: 'Unsupported file type' },
      { field: 'left', filename: 'clip.mp4', error: 'File too large (limit 500 MiB)' },
    ];
    const body = studio('No files were uploaded successfully', 'invalid_request', {
      details: errors.map((e) => `${e.field} (${e.filename}): ${e.error}`), errors,
    });
    expect(describeApiError({ status: 400, body })).toBe('No files were uploaded successfully: '
      + 'Front view (notes.txt): Unsupported file type; Left view (clip.mp4): File too large (limit 500 MiB)');
  });

  it('keeps string details of a 400 when there are no file errors', () => {
    const body = studio('No files were uploaded successfully', 'invalid_request', { details: ['No file fields in the request'] });
    expect(describeApiError({ status: 400, body })).toBe('No files were uploaded successfully: No file fields in the request');
  });

  it('says the session expired on a 401, but a wrong password on a failed sign-in', () => {
    expect(describeApiError({ status: 401, body: studio('Missing or invalid token', 'unauthenticated') }))
      .toBe('Your session has expired. Please sign in again.');
    expect(describeApiError({ status: 401, body: studio('Invalid credentials', 'invalid_credentials') }))
      .toBe('Wrong email or password.');
  });

  it('names a missing resource (404) and a taken email or session id (409)', () => {
    expect(describeApiError({ status: 404, body: studio('Analysis not found', 'not_found') }))
      .toBe('Analysis not found. It may have been deleted.');
    expect(describeApiError({ status: 409, body: studio('User already exists', 'email_taken') }))
      .toBe('An account with this email already exists. Sign in instead.');
    expect(describeApiError({ status: 409, body: studio('session_id already exists', 'conflict') })).toBe('session_id already exists');
  });

  it('says a file is too large (413)', () => {
    expect(describeApiError({ status: 413, body: studio('Upload exceeds 500 MiB', 'payload_too_large') }))
      .toBe('Too large: Upload exceeds 500 MiB.');
  });

  it('gives the wait of a 429 from Retry-After, in seconds or minutes', () => {
    const body = studio('Too many uploads in progress, try again when one has finished', 'rate_limited');
    expect(describeApiError({ status: 429, body, retryAfter: '5' }))
      .toBe('Too many uploads in progress, try again when one has finished. Try again in 5 seconds.');
    expect(describeApiError({ status: 429, body: { detail: 'Too many events per second', code: 'rate_limited' }, retryAfter: '900' }))
      .toBe('Too many events per second. Try again in 15 minutes.');
    expect(describeApiError({ status: 429, body: null })).toBe('Too many requests. Try again later.');
  });

  it('explains a server failure and an unreachable server', () => {
    expect(describeApiError({ status: 503, body: studio('Database unavailable', 'unavailable') }))
      .toBe('The server could not do this (error 503): Database unavailable. Try again in a moment.');
    expect(describeApiError({ status: 0, body: null })).toBe('Could not reach the Postura server. Check the connection and try again.');
  });
});

describe('partial uploads and failed analyses', () => {
  it('reads the failed files of a 207', () => {
    const body = { message: 'Partial upload success. 1 files uploaded.', errors: [{ field: 'back', filename: 'x.gif', error: 'Unsupported file type' }] };
    expect(fileFailures(body)).toEqual([{ field: 'back', filename: 'x.gif', error: 'Unsupported file type' }]);
    expect(fileFailures({ message: 'All files uploaded successfully.' })).toEqual([]);
  });

  it('gives the reason of a failed analysis', () => {
    expect(describeFailedAnalysis('front: nobody found in the picture')).toBe('The analysis failed: front: nobody found in the picture');
    expect(describeFailedAnalysis(null)).toBe('The analysis failed without a reason given.');
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterSeconds('30', now)).toBe(30);
    expect(retryAfterSeconds('Thu, 01 Jan 2026 00:01:00 GMT', now)).toBe(60);
    expect(retryAfterSeconds('soon', now)).toBeNull();
    expect(retryAfterSeconds(null, now)).toBeNull();
  });
});
