// Where the ffmpeg and ffprobe binaries are: an explicit option, then FFMPEG_PATH / FFPROBE_PATH, then the static
// binaries shipped in @ffmpeg-installer / @ffprobe-installer, then whatever is on PATH.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

function fromInstaller(pkg: string): string | undefined {
  try {
    const p = (require(pkg) as { path?: string }).path;
    return p && existsSync(p) ? p : undefined;
  } catch {
    return undefined;
  }
}

export interface BinaryPathOptions {
  explicit?: string;
  env?: Record<string, string | undefined>;
}

export function resolveFfmpegPath(opts: BinaryPathOptions = {}): string {
  const env = opts.env ?? process.env;
  return opts.explicit || env.FFMPEG_PATH || fromInstaller('@ffmpeg-installer/ffmpeg') || 'ffmpeg';
}

export function resolveFfprobePath(opts: BinaryPathOptions = {}): string {
  const env = opts.env ?? process.env;
  return opts.explicit || env.FFPROBE_PATH || fromInstaller('@ffprobe-installer/ffprobe') || 'ffprobe';
}
