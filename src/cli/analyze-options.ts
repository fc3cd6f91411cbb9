// `postura analyze`'s command line, read with node:util's parseArgs like the other commands. Parsing is lenient
// (tokens) so that every refusal is ours: one line naming the option, with a suggestion for a near miss, instead of
// Node's own wording. Nothing here touches the file system: where inputs and outputs are is checked afterwards.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_ANALYSIS_FPS } from '../pose/frame-sampling.ts';
import { DEFAULT_MODEL, DEFAULT_PUBLIC_MODELS, listModels } from '../pose/model-registry.ts';
import { parseSubjectChoice, type SubjectChoice } from '../pose/subject-tracks.ts';
import { listProfiles, SUBJECT_HEIGHT_RANGE_CM, type UploadView } from '../posture/index.ts';
import { closestMatch } from './did-you-mean.ts';

/** Where one file's results go, each only when asked for. */
export interface OutputFiles {
  /** A still (.png) or, for a video, the overlay video (.mp4). */
  overlay?: string;
  /** A folder for the angles-over-time charts. */
  plots?: string;
  csv?: string;
  trc?: string;
  mot?: string;
}

export interface AnalyzeArgs {
  /** Files, folders or quoted globs, as given. */
  inputs: string[];
  model: string;
  view: UploadView;
  profile: string;
  json: boolean;
  outputs: OutputFiles;
  /** Batch: a folder per input plus summary.csv in here. */
  out?: string;
  /** Every n-th video frame; absent: `analysisFps` analysed frames a second of footage. */
  frameStep?: number;
  analysisFps: number;
  workers?: number;
  /** Who to analyse when several people are in the picture. */
  subject: SubjectChoice;
  listPeople: boolean;
  /** The subject's height in cm: the scale of every cm value (else estimated from body proportions). */
  subjectHeightCm?: number;
}

export const ANALYZE_USAGE = `usage: postura analyze <file> [options] [--overlay out.png|out.mp4] [--plots DIR] [--csv FILE] [--trc FILE] [--mot FILE] [--json]
       postura analyze <folder | "glob" | file...> --out DIR [options]
options: [--model cx] [--view left|right|front|back|auto] [--profile stance|upright] [--fps 10 | --frame-step N] [--workers N]
         [--height-cm 175] [--person N | --person-at X,Y[@T]] [--list-people]`;

/** Bad usage: exit code 64. An empty message asks for the usage text alone (`--help`, exit 0). */
export class UsageError extends Error {}

const OPTIONS = {
  model: { type: 'string' },
  view: { type: 'string' },
  profile: { type: 'string' },
  json: { type: 'boolean' },
  overlay: { type: 'string' },
  plots: { type: 'string' },
  csv: { type: 'string' },
  trc: { type: 'string' },
  mot: { type: 'string' },
  out: { type: 'string' },
  fps: { type: 'string' },
  'frame-step': { type: 'string' },
  // The first release's name for --frame-step, kept for existing scripts.
  'frame-skip': { type: 'string' },
  workers: { type: 'string' },
  'height-cm': { type: 'string' },
  person: { type: 'string' },
  'person-at': { type: 'string' },
  'list-people': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies NonNullable<ParseArgsConfig['options']>;

type OptionName = keyof typeof OPTIONS;

const VIEWS = ['left', 'right', 'front', 'back', 'auto'];
/** Options that name one file's output: a batch writes all of them into each file's folder instead. */
const ONE_FILE_OUTPUTS = ['overlay', 'plots', 'csv', 'trc', 'mot', 'json', 'list-people'] as const;

export function parseAnalyzeArgs(argv: string[]): AnalyzeArgs {
  const { values, positionals, tokens } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: false, tokens: true });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const flag = token.rawName;
    if (!Object.hasOwn(OPTIONS, token.name)) {
      const near = closestMatch(token.name, Object.keys(OPTIONS));
      throw new UsageError(`unknown option: ${flag}${near ? ` (did you mean --${near}?)` : ''}`);
    }
    const type = OPTIONS[token.name as OptionName].type;
    if (type === 'boolean' && token.inlineValue) throw new UsageError(`${flag} takes no value`);
    // Lenient parsing would take `--model --json` as the model "--json": a value that looks like an option is
    // read as a forgotten value, as strict parsing does (a dash-led value can still be given as --opt=-x).
    if (type === 'string' && (!token.value || (!token.inlineValue && token.value.startsWith('-')))) {
      throw new UsageError(`missing value for ${flag}`);
    }
  }
  if (values.help) throw new UsageError('');
  const text = (name: OptionName): string | undefined => values[name] as string | undefined;

  const view = text('view') ?? 'auto';
  if (!VIEWS.includes(view)) throw new UsageError(`invalid view: ${view}`);
  const profile = text('profile') ?? 'stance';
  if (!listProfiles().includes(profile)) throw new UsageError(`invalid profile: ${profile}. Available profiles: ${listProfiles().join(', ')}`);
  const args: AnalyzeArgs = {
    inputs: positionals,
    model: text('model') ?? DEFAULT_MODEL,
    view: view as UploadView,
    profile,
    json: values.json === true,
    outputs: { overlay: text('overlay'), plots: text('plots'), csv: text('csv'), trc: text('trc'), mot: text('mot') },
    out: text('out'),
    frameStep: positiveInteger(text('frame-step') ?? text('frame-skip'), '--frame-step'),
    analysisFps: positiveInteger(text('fps'), '--fps') ?? DEFAULT_ANALYSIS_FPS,
    workers: positiveInteger(text('workers'), '--workers'),
    subject: { kind: 'auto' },
    listPeople: values['list-people'] === true,
  };
  const height = text('height-cm');
  if (height !== undefined) {
    const n = Number(height);
    const { min, max } = SUBJECT_HEIGHT_RANGE_CM;
    if (!(n >= min && n <= max)) throw new UsageError(`--height-cm must be the subject's height in centimetres, from ${min} to ${max}`);
    args.subjectHeightCm = n;
  }
  // One parser with the upload's `person` field (subject-tracks.ts); each flag takes only its own form.
  const person = text('person');
  if (person !== undefined) {
    const choice = parseSubjectChoice(person);
    if (choice?.kind !== 'id') throw new UsageError('--person must be a person number from --list-people');
    args.subject = choice;
  }
  const personAt = text('person-at');
  if (personAt !== undefined) {
    const choice = parseSubjectChoice(personAt);
    if (choice?.kind !== 'point') throw new UsageError('--person-at takes X,Y in pixels of the original picture, optionally @T seconds (e.g. 640,360@2.5)');
    args.subject = choice;
  }
  const overlay = args.outputs.overlay;
  if (overlay !== undefined && !/\.(png|mp4)$/i.test(overlay)) {
    throw new UsageError(`--overlay writes a picture (.png) or, for a video, a video (.mp4): ${overlay}`);
  }
  if (args.inputs.length === 0) throw new UsageError('missing <file>');
  if (args.listPeople) {
    const output = (['overlay', 'plots', 'csv', 'trc', 'mot', 'out'] as const).find((name) => values[name] !== undefined);
    if (output) throw new UsageError(`--list-people only lists the people in one file: it writes no --${output}`);
  }
  if (args.out !== undefined) {
    const oneFile = ONE_FILE_OUTPUTS.find((name) => values[name] !== undefined);
    if (oneFile) throw new UsageError(`--${oneFile} is for one file: with --out, each file's folder holds its result.json, overlay, frames.csv, .trc, .mot and charts`);
  }
  if (!listModels().includes(args.model)) {
    throw new UsageError(`Invalid model: ${args.model}. Available models: ${[...DEFAULT_PUBLIC_MODELS].join(', ')}`);
  }
  return args;
}

function positiveInteger(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer`);
  return n;
}
