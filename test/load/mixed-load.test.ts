// The fast version of the soak benchmark (bench/soak.bench.ts; the 5-minute run is `npm run bench -- --only=soak`):
// a real `postura serve` takes the mixed load (live events, image uploads analysed by its own inference threads,
// reads) closed-loop, then open-loop at 80 % of what it managed. Speed is not asserted here (that is the
// benchmark's job); correctness under load is: no request fails, every acknowledged event reads back, every upload
// is analysed.
import { describe, expect, it } from 'vitest';
import { runSoak } from '../../bench/soak.bench.ts';

describe('mixed load at 80 % of capacity', () => {
  it('answers every request, loses no event and analyses every upload', async () => {
    const lines: string[] = [];
    const result = await runSoak({ seconds: 10, capacitySeconds: 5, share: 0.8, connections: 8, log: (l) => lines.push(l) });

    expect(result.capacity.errors, lines.join('\n')).toBe(0);
    expect(result.soak.errors, result.soak.errorSamples.join('\n')).toBe(0);
    expect(result.capacity.requestsPerSecond).toBeGreaterThan(0);
    // Every kind of request of the mix ran during the open-loop phase.
    expect(result.soak.ops.event.count).toBeGreaterThan(0);
    expect(result.soak.ops.read.count).toBeGreaterThan(0);
    // Durability under load: what the server acknowledged is what it stores.
    expect(result.events.acknowledged).toBeGreaterThan(0);
    expect(result.events.readBack).toBe(result.events.acknowledged);
    expect(result.analyses.uploaded).toBeGreaterThan(0);
    expect(result.analyses.failed).toBe(0);
    expect(result.analyses.completed).toBe(result.analyses.uploaded);
    // The server's RSS was watched the whole time (the benchmark judges its slope over 5 minutes).
    expect(result.memory.peakMb).toBeGreaterThan(0);
  }, 300_000);
});
