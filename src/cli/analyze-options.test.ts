import { describe, expect, it } from 'vitest';
import { parseAnalyzeArgs, UsageError } from './analyze-options.ts';

const usageError = (argv: string[]): string => {
  try {
    parseAnalyzeArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error(`accepted: ${argv.join(' ')}`);
};

describe('postura analyze options', () => {
  it('reads every option, with --frame-skip as the old name of --frame-step', () => {
    const args = parseAnalyzeArgs(['clip.mp4', '--model=cx', '--view', 'left', '--profile', 'upright', '--frame-skip', '5', '--workers', '2',
      '--height-cm', '180', '--person', '2', '--overlay', 'o.MP4', '--plots', 'charts', '--csv', 'f.csv', '--trc', 'f.trc', '--mot', 'f.mot']);
    expect(args).toMatchObject({
      inputs: ['clip.mp4'], model: 'cx', view: 'left', profile: 'upright', frameStep: 5, workers: 2, subjectHeightCm: 180,
      subject: { kind: 'id', id: 2 }, outputs: { overlay: 'o.MP4', plots: 'charts', csv: 'f.csv', trc: 'f.trc', mot: 'f.mot' },
    });
    const defaults = parseAnalyzeArgs(['a.jpg']);
    expect(defaults).toMatchObject({ view: 'auto', profile: 'stance', analysisFps: 10, json: false, listPeople: false });
    expect(defaults.frameStep).toBeUndefined();
    expect(parseAnalyzeArgs(['clip.mp4', '--fps', '5'])).toMatchObject({ analysisFps: 5 });
    expect(usageError(['clip.mp4', '--fps', '0'])).toBe('--fps must be a positive integer');
    expect(parseAnalyzeArgs(['clips', '--out', 'results', 'more.mp4'])).toMatchObject({ inputs: ['clips', 'more.mp4'], out: 'results' });
  });

  it('names unknown options, with a suggestion for a near miss', () => {
    expect(usageError(['a.mp4', '--frame-stp', '3'])).toBe('unknown option: --frame-stp (did you mean --frame-step?)');
    expect(usageError(['a.mp4', '--ovrlay=o.png'])).toBe('unknown option: --ovrlay (did you mean --overlay?)');
    expect(usageError(['a.mp4', '--colour'])).toBe('unknown option: --colour');
  });

  it('refuses missing values, values given to switches and forgotten values', () => {
    expect(usageError(['a.mp4', '--model'])).toBe('missing value for --model');
    expect(usageError(['a.mp4', '--model='])).toBe('missing value for --model');
    expect(usageError(['a.mp4', '--model', '--json'])).toBe('missing value for --model');
    expect(usageError(['a.mp4', '--json=yes'])).toBe('--json takes no value');
    expect(usageError([])).toBe('missing <file>');
    expect(usageError(['-h'])).toBe('');
  });

  it('refuses outputs that cannot be: an overlay of another type, one-file outputs in a batch, outputs of --list-people', () => {
    expect(usageError(['a.mp4', '--overlay', 'o.jpg'])).toMatch(/^--overlay writes a picture \(\.png\) or, for a video, a video \(\.mp4\): o\.jpg$/);
    expect(usageError(['clips', '--out', 'r', '--csv', 'f.csv'])).toMatch(/^--csv is for one file: with --out, each file's folder holds/);
    expect(usageError(['clips', '--out', 'r', '--json'])).toMatch(/^--json is for one file/);
    expect(usageError(['a.mp4', '--list-people', '--overlay', 'o.png'])).toBe('--list-people only lists the people in one file: it writes no --overlay');
  });
});
