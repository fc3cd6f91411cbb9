// Checks that every output can be written before any analysis starts: a long video must not be analysed only to
// fail at the end on a typo in a folder name. Checks only, nothing is created here; a folder that does not exist yet
// may be created later only where its parent exists (no surprise trees from a mistyped path).
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import path from 'node:path';

/** An output that cannot be written, named by the option that asked for it: exit code 2, before any analysis. */
export class OutputPathError extends Error {}

/** `label` names the output in the message (`--overlay`, `--out`). */
export async function assertWritableFile(file: string, label: string): Promise<void> {
  const target = await kindOf(file);
  if (target === 'folder') throw new OutputPathError(`cannot write ${label} ${file}: it is a folder`);
  if (target === 'not-a-folder-above') throw new OutputPathError(`cannot write ${label} ${file}: part of that path is a file, not a folder`);
  if (target === 'file') return assertAccess(file, `cannot write ${label} ${file}: no permission to overwrite it`);
  await assertParentFolder(file, label);
}

/**
 * A folder to write into: an existing one, or a new one whose parent folder exists. `parentChecked`: the parent
 * was checked already (a batch's folders under --out, which may not exist yet).
 */
export async function assertWritableFolder(dir: string, label: string, options: { parentChecked?: boolean } = {}): Promise<void> {
  const target = await kindOf(dir);
  if (target === 'file') throw new OutputPathError(`cannot write ${label} ${dir}: it is a file, not a folder`);
  if (target === 'not-a-folder-above') throw new OutputPathError(`cannot write ${label} ${dir}: part of that path is a file, not a folder`);
  if (target === 'folder') return assertAccess(dir, `cannot write ${label} ${dir}: no permission to write in it`);
  if (!options.parentChecked) await assertParentFolder(dir, label);
}

async function assertParentFolder(target: string, label: string): Promise<void> {
  const parent = path.dirname(target);
  const kind = await kindOf(parent);
  if (kind === 'missing') throw new OutputPathError(`cannot write ${label} ${target}: folder ${parent} does not exist`);
  if (kind !== 'folder') throw new OutputPathError(`cannot write ${label} ${target}: ${parent} is not a folder`);
  await assertAccess(parent, `cannot write ${label} ${target}: no permission to write in ${parent}`);
}

async function kindOf(p: string): Promise<'file' | 'folder' | 'missing' | 'not-a-folder-above'> {
  try {
    return (await stat(p)).isDirectory() ? 'folder' : 'file';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'missing';
    if (code === 'ENOTDIR') return 'not-a-folder-above';
    throw err;
  }
}

async function assertAccess(p: string, message: string): Promise<void> {
  try {
    await access(p, constants.W_OK);
  } catch {
    throw new OutputPathError(message);
  }
}
