/** A user as the domain sees it: never carries the password hash out of the auth service. */
export interface User {
  id: string;
  email: string;
  name: string;
  isAdmin: boolean;
  settings: Record<string, unknown>;
  createdAt: Date;
}

export interface UserWithPasswordHash extends User {
  passwordHash: string;
}

/** Email identity is case- and whitespace-insensitive across both client families. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
