import { describe, expect, it } from 'vitest';
import { errorResponse, familyOfUrl } from './error-mapping.ts';

describe('errorResponse', () => {
  it('gives studio bodies a `message` for the web client\'s toasts: the error\'s text, or the more specific one it carries', () => {
    expect(errorResponse('studio', 'not_found', 'Analysis not found')).toEqual({
      status: 404, body: { error: 'Analysis not found', message: 'Analysis not found', code: 'not_found' },
    });
    const conflict = errorResponse('studio', 'conflict', 'session_id already exists', {
      message: 'Session s1 already has an analysis; delete it first or use another session_id', existing_files: ['cx_front.jpg'],
    });
    expect(conflict.body).toEqual({
      error: 'session_id already exists',
      message: 'Session s1 already has an analysis; delete it first or use another session_id',
      code: 'conflict',
      existing_files: ['cx_front.jpg'],
    });
  });

  it('leaves live bodies as `{detail, code}`, and maps a feature Postura lacks to 501', () => {
    expect(errorResponse('live', 'email_taken', 'User already exists')).toEqual({
      status: 400, body: { detail: 'Email already registered', code: 'email_taken' },
    });
    expect(errorResponse('studio', 'not_implemented', 'Not here').status).toBe(501);
    expect(familyOfUrl('/auth/gen-tele-link')).toBe('studio');
    expect(familyOfUrl('/api/auth/login/')).toBe('live');
  });
});
