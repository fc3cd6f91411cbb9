// What `postura analyze` is given, as a list of files: a file as it is, a folder as its photos and videos (not its
// subfolders) and a quoted glob ("clips/*.mp4") as its matches, each sorted by name so that a batch always runs,
// and lists, in the same order.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';

/** Inputs that name nothing to analyse: exit code 2. */
export class InputError extends Error {}

export interface ExpandedInputs {
  files: string[];
  /** Why these arguments ask for a batch (a folder, a glob, several files); absent for one plain file. */
  batch?: string;
}

/** What a folder is searched for, by extension: the formats the analysis reads (media-sniff.ts). */
const MEDIA_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp',
  '.mp4', '.mov', '.m4v', '.avi', '.mkv', '.webm', '.wmv', '.flv']);

export async function expandInputs(args: readonly string[]): Promise<ExpandedInputs> {
  const files: string[] = [];
  let batch = args.length > 1 ? `${args.length} inputs given` : undefined;
  for (const arg of args) {
    const kind = await stat(arg).then((s) => (s.isDirectory() ? 'folder' : 'file'), () => 'missing');
    if (kind === 'folder') {
      batch ??= `${arg} is a folder`;
      const found = await mediaFilesIn(arg);
      if (found.length === 0) throw new InputError(`no photo or video in folder ${arg}`);
      files.push(...found);
    } else if (kind === 'missing' && isDynamicPattern(arg)) {
      batch ??= `${arg} is a pattern`;
      // Matches come back as the pattern was written: relative to here, or absolute.
      const found = (await glob(arg, { onlyFiles: true, expandDirectories: false, absolute: path.isAbsolute(arg) })).sort();
      if (found.length === 0) throw new InputError(`no file matches ${arg}`);
      files.push(...found);
    } else {
      // A missing file stays in the list: the analysis reports it like any unreadable input.
      files.push(arg);
    }
  }
  const seen = new Set<string>();
  return { files: files.filter((f) => !seen.has(path.resolve(f)) && seen.add(path.resolve(f))), batch };
}

async function mediaFilesIn(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  const files: string[] = [];
  for (const entry of entries.map((e) => e.name).sort()) {
    if (!MEDIA_EXTENSIONS.has(path.extname(entry).toLowerCase())) continue;
    const file = path.join(folder, entry);
    // Links count as what they point to: a folder of links to clips is a folder of clips.
    if (await stat(file).then((s) => s.isFile(), () => false)) files.push(file);
  }
  return files;
}
