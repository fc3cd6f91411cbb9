import { describe, expect, it } from 'vitest';
import { ProgressDisplay } from './progress.ts';

function stream(isTTY: boolean): { write(s: string): void; isTTY: boolean; text: string } {
  return { isTTY, text: '', write(s: string) { this.text += s; } };
}

describe('ProgressDisplay', () => {
  it('redraws one line in place on a terminal, with the batch ETA, and keeps a line per finished file', () => {
    const tty = stream(true);
    let now = 0;
    const display = new ProgressDisplay(tty, 2, () => now);
    display.startFile(1, 'a.mp4');
    display.progress(0.2);
    now = 10_000;
    // As the analysis reports: the share of the work first, then the frame that completed it.
    display.progress(0.5);
    display.framesDone(40, 80);
    // Half of the first of two files in 10 s: 1.5 files left at that pace is 30 s.
    expect(tty.text).toContain('\r[1/2] a.mp4 [##########..........]  50% 40/80 frames, 0:10 elapsed, ETA 0:30\x1b[K');
    expect(tty.text).not.toContain('\n');
    display.endFile('ok');
    expect(tty.text.endsWith('\r\x1b[K[1/2] a.mp4: ok (10.0 s)\n')).toBe(true);
  });

  it('writes plain lines to a pipe: the start, each quarter, the writing and the end of a file, never one per frame', () => {
    const pipe = stream(false);
    const display = new ProgressDisplay(pipe, 3, () => 0);
    display.startFile(2, 'b.mp4');
    display.progress(0.1);
    for (let done = 1; done <= 100; done++) {
      display.progress(0.1 + (0.9 * done) / 100);
      display.framesDone(done, 100);
    }
    display.writing();
    display.endFile('nobody found');
    const lines = pipe.text.trimEnd().split('\n');
    expect(lines[0]).toBe('[2/3] b.mp4');
    expect(lines.slice(1, -1).map((l) => l.split(' ')[2])).toEqual(['0%', '25%', '50%', '75%', '100%', '100%']);
    expect(lines.at(-3)).toMatch(/^\[2\/3\] b\.mp4 100% 100\/100 frames, /);
    expect(lines.at(-2)).toMatch(/^\[2\/3\] b\.mp4 100% writing the results, /);
    expect(lines.at(-1)).toBe('[2/3] b.mp4: nobody found (0.0 s)');
    expect(pipe.text).not.toContain('\r');
  });

  it('leaves out the counter for a single file', () => {
    const pipe = stream(false);
    const display = new ProgressDisplay(pipe, 1, () => 0);
    display.startFile(1, 'clip.mp4');
    display.progress(0.3);
    expect(pipe.text).toBe('clip.mp4 25% locating people, 0:00 elapsed, ETA 0:00\n');
  });
});
