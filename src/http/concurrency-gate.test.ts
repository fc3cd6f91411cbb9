import { describe, expect, it } from 'vitest';
import { ConcurrencyGate } from './concurrency-gate.ts';

describe('ConcurrencyGate', () => {
  it('bounds work per key and in all, and gives a place back exactly once per release', () => {
    const gate = new ConcurrencyGate({ perKey: 2, total: 3 });
    const a1 = gate.tryAcquire('a');
    const a2 = gate.tryAcquire('a');
    expect(a1).not.toBeNull();
    expect(a2).not.toBeNull();
    expect(gate.tryAcquire('a')).toBeNull();
    const b1 = gate.tryAcquire('b');
    expect(b1).not.toBeNull();
    expect(gate.tryAcquire('c')).toBeNull();
    a1!();
    a1!();
    expect(gate.tryAcquire('c')).not.toBeNull();
    expect(gate.tryAcquire('a')).toBeNull();
    b1!();
    expect(gate.tryAcquire('a')).not.toBeNull();
  });
});
