import { describe, expect, it } from 'vitest';
import { closestMatch, editDistance } from './did-you-mean.ts';

describe('near-miss suggestions', () => {
  it('counts single-character edits', () => {
    expect(editDistance('analyse', 'analyze')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'serve')).toBe(5);
    expect(editDistance('migrate', 'migrate')).toBe(0);
  });

  it('suggests the closest candidate only when it is close enough to be a typo', () => {
    const commands = ['serve', 'worker', 'migrate', 'analyze', 'model-server', 'create-admin', 'help'];
    expect(closestMatch('analyse', commands)).toBe('analyze');
    expect(closestMatch('Analyze', commands)).toBe('analyze');
    expect(closestMatch('modelserver', commands)).toBe('model-server');
    expect(closestMatch('frobnicate', commands)).toBeUndefined();
    // Four edits from "serve": another word, not a typo of it.
    expect(closestMatch('swarm', commands)).toBeUndefined();
  });
});
