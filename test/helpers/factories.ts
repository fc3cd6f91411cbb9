import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

export interface TestUser {
  id: string;
  email: string;
  password: string;
  name: string;
  token: string;
}

let counter = 0;

export function uniqueEmail(prefix = 'user'): string {
  counter += 1;
  return `${prefix}-${counter}-${randomBytes(3).toString('hex')}@example.com`;
}

/** Registers a user through the studio API and returns its credentials and token. */
export async function newUser(app: FastifyInstance, overrides: Partial<{ email: string; password: string; name: string }> = {}): Promise<TestUser> {
  const email = overrides.email ?? uniqueEmail();
  const password = overrides.password ?? 'correct horse battery';
  const name = overrides.name ?? 'Test User';
  const response = await app.inject({ method: 'POST', url: '/auth/register', payload: { email, password, name } });
  if (response.statusCode !== 201) throw new Error(`newUser failed: ${response.statusCode} ${response.body}`);
  const body = response.json();
  return { id: body.user.id, email, password, name, token: body.token };
}

export function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}
