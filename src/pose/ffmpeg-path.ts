// Where the ffmpeg and ffprobe binaries are. ffmpeg: an explicit option, then FFMPEG_PATH, then a system ffmpeg on
// PATH when it is version 5 or newer, then the static binary of @ffmpeg-installer (a 2018 build: every fix to its
// demuxers since is missing), then whatever is on PATH. ffprobe: an option, FFPROBE_PATH, @ffprobe-installer (2023),
// PATH. Both are always run with the input guards below, whichever build was chosen.
import { spawnSync } from 'node:child_process';
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

/** The containers uploads are sniffed as (media-sniff.ts), by ffmpeg's demuxer names. */
const VIDEO_DEMUXERS = 'mov,mp4,m4a,3gp,3g2,mj2,avi,matroska,webm,asf,flv';

/**
 * Input options for every ffmpeg/ffprobe run on an upload. A playlist or concat file (hls, concat, ...) can name
 * other files on this machine to be read in its place; only the uploaded containers' demuxers are allowed, and only
 * the one protocol the input arrives by (a path: `file`; stdin: `pipe`), so nothing else is ever opened.
 */
export function ffmpegInputGuards(via: 'file' | 'pipe'): string[] {
  return ['-protocol_whitelist', via, '-format_whitelist', VIDEO_DEMUXERS];
}

export interface BinaryPathOptions {
  explicit?: string;
  env?: Record<string, string | undefined>;
}

export interface FfmpegChoice {
  path: string;
  source: 'option' | 'env' | 'system' | 'bundled' | 'path';
  /** Major version when known (a git snapshot build such as the bundled one says none). */
  version: number | null;
}

export interface FfmpegChoiceDeps {
  env: Record<string, string | undefined>;
  /** The first line of `<binary> -version`, or null when it cannot be run. */
  probeVersion(binary: string): string | null;
  bundledPath(): string | undefined;
}

const MIN_SYSTEM_MAJOR = 5;

export function parseFfmpegMajor(versionLine: string | null): number | null {
  const match = /ffmpeg version n?(\d+)\.\d+/.exec(versionLine ?? '');
  return match ? Number(match[1]) : null;
}

export function chooseFfmpeg(deps: FfmpegChoiceDeps): FfmpegChoice {
  if (deps.env.FFMPEG_PATH) {
    return { path: deps.env.FFMPEG_PATH, source: 'env', version: parseFfmpegMajor(deps.probeVersion(deps.env.FFMPEG_PATH)) };
  }
  const system = parseFfmpegMajor(deps.probeVersion('ffmpeg'));
  if (system !== null && system >= MIN_SYSTEM_MAJOR) return { path: 'ffmpeg', source: 'system', version: system };
  const bundled = deps.bundledPath();
  if (bundled) return { path: bundled, source: 'bundled', version: parseFfmpegMajor(deps.probeVersion(bundled)) };
  return { path: 'ffmpeg', source: 'path', version: system };
}

function probeVersion(binary: string): string | null {
  const run = spawnSync(binary, ['-version'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
  return run.status === 0 ? run.stdout.split('\n')[0] ?? null : null;
}

const defaultDeps = (env: Record<string, string | undefined>): FfmpegChoiceDeps => ({
  env, probeVersion, bundledPath: () => fromInstaller('@ffmpeg-installer/ffmpeg'),
});

let processChoice: FfmpegChoice | undefined;

/** The process's ffmpeg, chosen on first use (one `-version` run per candidate) and kept: log it at start. */
export function ffmpegChoice(): FfmpegChoice {
  processChoice ??= chooseFfmpeg(defaultDeps(process.env));
  return processChoice;
}

export function resolveFfmpegPath(opts: BinaryPathOptions = {}): string {
  if (opts.explicit) return opts.explicit;
  return opts.env ? chooseFfmpeg(defaultDeps(opts.env)).path : ffmpegChoice().path;
}

export function resolveFfprobePath(opts: BinaryPathOptions = {}): string {
  const env = opts.env ?? process.env;
  return opts.explicit || env.FFPROBE_PATH || fromInstaller('@ffprobe-installer/ffprobe') || 'ffprobe';
}
