// One process at a time on an embedded database folder. PGlite does not honour Postgres's postmaster.pid: two
// processes that open one folder (a second `npm start`, `postura migrate` beside a running server) both write its
// files, and the folder is lost (seen: "PANIC: could not locate a valid checkpoint record"). A lock file beside the
// folder, created exclusively and holding the owner's pid, refuses the second opener; one left by a process that
// died (its pid gone, or our own pid from a previous life in a container) is taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

/** The folder is open in another process, or already in this one. Its message says which and what to do. */
export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';
}

/** Folders this process holds (a second open in the same process is refused as well). */
const held = new Set<string>();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Takes `<dir>.lock` for this process, or throws DataDirInUseError. Returns the release (idempotent). */
export function lockDataDir(dir: string): () => void {
  const file = `${dir}.lock`;
  if (held.has(file)) throw new DataDirInUseError(`the database folder ${dir} is already open in this process`);
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = readOwner(file);
      if (owner !== null && owner !== process.pid && alive(owner)) {
        throw new DataDirInUseError(`the database folder ${dir} is in use by process ${owner}: stop it first, or give `
          + 'this one another DATA_DIR (an embedded database is opened by one process at a time; for several, use '
          + 'DATABASE_URL)');
      }
      // Left by a process that is gone. A second try that still finds a lock lost a race with another opener.
      if (attempt > 0) throw new DataDirInUseError(`the database folder ${dir} is being opened by another process`);
      try {
        unlinkSync(file);
      } catch (unlinkErr) {
        if ((unlinkErr as NodeJS.ErrnoException).code !== 'ENOENT') throw unlinkErr;
      }
      continue;
    }
    try {
      writeSync(fd, `${process.pid}\n`);
    } finally {
      closeSync(fd);
    }
    held.add(file);
    const release = (): void => {
      if (!held.delete(file)) return;
      process.off('exit', release);
      // Only our own lock is removed (never one a later process took over after this one was thought dead).
      if (readOwner(file) === process.pid) {
        try {
          unlinkSync(file);
        } catch {
          // Already gone.
        }
      }
    };
    // A process that exits without closing the database (an error at start-up, process.exit) leaves no lock.
    process.on('exit', release);
    return release;
  }
}
