// Progress of `postura analyze` on stderr, for one file or a batch: which file (n/N), how far into it (frames
// done/total), time spent and time left. A terminal gets one line redrawn in place; a pipe or a log file gets plain
// lines (a file's start, each quarter of it, its end), never one per frame.

export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
}

const BAR_WIDTH = 20;
const NAME_WIDTH = 40;

export class ProgressDisplay {
  private readonly started: number;
  private index = 0;
  private name = '';
  private fileStarted = 0;
  private fraction = 0;
  private frames: { done: number; total: number } | null = null;
  /** What the file is at once analysed (writing an overlay video can take a while). */
  private stage: string | null = null;
  private lastQuarter = -1;
  private drawn = '';

  /** `files`: inputs in the run; 1 leaves out the n/N counter. `now` in milliseconds (tests may pin it). */
  constructor(private readonly stream: ProgressStream, private readonly files: number, private readonly now: () => number = () => performance.now()) {
    this.started = now();
  }

  startFile(index: number, name: string): void {
    Object.assign(this, { index, name, fileStarted: this.now(), fraction: 0, frames: null, stage: null, lastQuarter: -1 });
    if (this.files > 1 && !this.stream.isTTY) this.stream.write(`${this.prefix()}\n`);
  }

  /** Share of the current file's work done (people located on keyframes, then frames). */
  progress(fraction: number): void {
    this.fraction = Math.min(1, Math.max(this.fraction, fraction));
    // Once frames flow, each frame reports after its share of the work: drawing then keeps count and share together.
    if (!this.frames) this.render();
  }

  /** Frames of the current file analysed so far. */
  framesDone(done: number, total: number): void {
    this.frames = { done, total };
    this.render();
  }

  /** The analysis is done and its results are being written. */
  writing(): void {
    this.stage = 'writing the results';
    this.render(true);
  }

  /** The current file is done: its outcome (`ok`, an error) on a line of its own, with the time it took. */
  endFile(outcome: string): void {
    const seconds = ((this.now() - this.fileStarted) / 1000).toFixed(1);
    this.clearLine();
    this.stream.write(`${this.prefix()}: ${outcome} (${seconds} s)\n`);
  }

  /** The progress line ends, so that what is written next starts on a line of its own. */
  finish(): void {
    this.clearLine();
  }

  private render(force = false): void {
    const pct = Math.floor(this.fraction * 100);
    if (this.stream.isTTY) {
      const fill = Math.round(this.fraction * BAR_WIDTH);
      const line = `${this.prefix()} [${'#'.repeat(fill)}${'.'.repeat(BAR_WIDTH - fill)}] ${String(pct).padStart(3)}% ${this.status()}`;
      if (line === this.drawn) return;
      this.drawn = line;
      this.stream.write(`\r${line}\x1b[K`);
      return;
    }
    const quarter = Math.floor(pct / 25) * 25;
    if (quarter === this.lastQuarter && !force) return;
    this.lastQuarter = quarter;
    this.stream.write(`${this.prefix()} ${quarter}% ${this.status()}\n`);
  }

  private status(): string {
    const what = this.stage ?? (this.frames ? `${this.frames.done}/${this.frames.total} frames` : 'locating people');
    const elapsed = this.now() - this.started;
    // Files count alike: a rough guess for mixed photos and videos, and one that settles as the batch goes on.
    const done = this.index - 1 + this.fraction;
    const left = done > 0 ? (elapsed / done) * (this.files - done) : null;
    return `${what}, ${clock(elapsed)} elapsed, ETA ${left === null ? '--:--' : clock(left)}`;
  }

  private prefix(): string {
    const name = this.name.length > NAME_WIDTH ? `…${this.name.slice(-(NAME_WIDTH - 1))}` : this.name;
    return this.files > 1 ? `[${this.index}/${this.files}] ${name}` : name;
  }

  private clearLine(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = '';
  }
}

/** m:ss, or h:mm:ss from an hour. */
function clock(ms: number): string {
  const s = Math.round(ms / 1000);
  const mmss = `${Math.floor((s % 3600) / 60)}:${String(s % 60).padStart(2, '0')}`;
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mmss.padStart(5, '0')}` : mmss;
}
