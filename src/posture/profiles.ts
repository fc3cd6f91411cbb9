// The profile registry: the only list that names profiles; everything else looks them up here.
import { PostureInputError } from './errors.ts';
import type { ProfileDefinition } from './profile.ts';
import { stanceProfile } from './stance.profile.ts';
import { uprightProfile } from './upright.profile.ts';

export const DEFAULT_PROFILE = 'stance';

const PROFILES: ReadonlyMap<string, ProfileDefinition> = new Map(
  [stanceProfile, uprightProfile].map((p) => [p.name, p]),
);

export function listProfiles(): string[] {
  return [...PROFILES.keys()];
}

export function isProfileName(name: string): boolean {
  return PROFILES.has(name);
}

/** @throws PostureInputError (`unknown_profile`) naming the available profiles, for a 400 response. */
export function getProfile(name: string = DEFAULT_PROFILE): ProfileDefinition {
  const profile = PROFILES.get(name);
  if (!profile) {
    throw new PostureInputError('unknown_profile', `Unknown profile: ${name}. Available profiles: ${listProfiles().join(', ')}`);
  }
  return profile;
}
