// Videos → a stream of sampled RGB frames from an ffmpeg child process. Frames are read one at a time from its
// stdout (stream backpressure pauses ffmpeg when the consumer is slow), so a long video is never held in memory.
// ffmpeg applies the rotation metadata itself; big frames are downscaled and the factor kept for mapping back.
import { spawn } from 'node:child_process';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ffmpegInputGuards, resolveFfmpegPath, resolveFfprobePath } from './ffmpeg-path.ts';
import { MAX_VIDEO_SIDE } from './media-limits.ts';
import { videoProblem, videoTooLarge } from './media-problems.ts';
import type { RgbImage } from './pose-types.ts';

const execFileAsync = promisify(execFile);

export class VideoDecodeError extends Error {
  override readonly name = 'VideoDecodeError';
}

/** More frames than the caller accepts: the file's metadata may under-count them, so the decoder checks as it goes. */
export class VideoTooLongError extends Error {
  override readonly name = 'VideoTooLongError';
  constructor(readonly maxFrameIndex: number) {
    super(`the video has more than ${maxFrameIndex + 1} frames`);
  }
}

export interface VideoInfo {
  /** Displayed size (rotation applied). */
  width: number;
  height: number;
  fps: number;
  frameCount: number;
  duration: number;
  /** Clockwise rotation from metadata, degrees (0, 90, 180, 270). */
  rotation: number;
  codec: string;
}

export interface VideoFrame {
  /** Index of the frame in the source video. */
  index: number;
  /** Seconds from the start. */
  timestamp: number;
  image: RgbImage;
  /** Multiply decoded x / y by these to get original (displayed) pixels. */
  scaleX: number;
  scaleY: number;
}

export interface VideoDecodeOptions {
  /** Keep every n-th frame (default 2). */
  frameStep?: number;
  /** Longest decoded edge; larger frames are downscaled (default 720). */
  maxSide?: number;
  ffmpegPath?: string;
  ffprobePath?: string;
  signal?: AbortSignal;
  info?: VideoInfo;
  /** Buffer for the next frame (every byte is overwritten); default a new one per frame. */
  allocate?: (byteLength: number) => Uint8Array;
  /** Source frame index beyond which decoding stops with a VideoTooLongError (default: no bound). */
  maxFrameIndex?: number;
}

interface ProbeStream {
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  nb_frames?: string;
  duration?: string;
  tags?: Record<string, string>;
  side_data_list?: Array<{ rotation?: number | string }>;
}

function parseRate(rate: string | undefined): number {
  if (!rate) return 0;
  const [n, d] = rate.split('/').map(Number);
  return d ? n! / d : n ?? 0;
}

export async function probeVideo(file: string, opts: { ffprobePath?: string; signal?: AbortSignal } = {}): Promise<VideoInfo> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(
      resolveFfprobePath({ explicit: opts.ffprobePath }),
      ['-v', 'error', ...ffmpegInputGuards('file'), '-print_format', 'json', '-show_streams', '-show_format', file],
      { signal: opts.signal, maxBuffer: 8 * 1024 * 1024 },
    ));
  } catch (err) {
    // ffprobe's stderr names the temp file and heap addresses: the user gets a fixed sentence, the log the cause.
    const detail = ((err as { stderr?: string }).stderr || (err as Error).message).trim();
    throw new VideoDecodeError(videoProblem(detail), { cause: err });
  }
  const json = JSON.parse(stdout) as { streams?: ProbeStream[]; format?: { duration?: string } };
  const v = json.streams?.find((s) => s.codec_type === 'video');
  if (!v || !v.width || !v.height) throw new VideoDecodeError('no video stream found');
  if (Math.max(v.width, v.height) > MAX_VIDEO_SIDE) throw new VideoDecodeError(videoTooLarge(v.width, v.height, MAX_VIDEO_SIDE));
  // A `rotate` tag is clockwise; a display matrix rotation is counter-clockwise (ffprobe versions differ in which
  // they print, so the tag wins when both are present).
  const tag = v.tags?.rotate;
  const matrix = v.side_data_list?.find((s) => s.rotation !== undefined)?.rotation;
  const clockwise = tag !== undefined ? Number(tag) : matrix !== undefined ? -Number(matrix) : 0;
  const rotation = (((clockwise % 360) + 360) % 360) || 0;
  const swap = rotation === 90 || rotation === 270;
  const fps = parseRate(v.avg_frame_rate) || parseRate(v.r_frame_rate) || 30;
  const duration = Number(v.duration ?? json.format?.duration ?? 0) || 0;
  const frameCount = Number(v.nb_frames) || Math.round(duration * fps);
  return {
    width: swap ? v.height : v.width,
    height: swap ? v.width : v.height,
    fps,
    frameCount,
    duration,
    rotation,
    codec: v.codec_name ?? 'unknown',
  };
}

/** Decoded size: longest edge ≤ maxSide, even dimensions (what ffmpeg's scaler wants). */
export function decodedSize(width: number, height: number, maxSide: number): { width: number; height: number } {
  const f = Math.min(1, maxSide / Math.max(width, height));
  const even = (n: number): number => Math.max(2, Math.round((n * f) / 2) * 2);
  return f >= 1 ? { width, height } : { width: even(width), height: even(height) };
}

export async function* decodeVideoFrames(file: string, opts: VideoDecodeOptions = {}): AsyncGenerator<VideoFrame> {
  const step = Math.max(1, Math.floor(opts.frameStep ?? 2));
  const info = opts.info ?? (await probeVideo(file, { ffprobePath: opts.ffprobePath, signal: opts.signal }));
  // An abort that came before the child exists would never reach the 'abort' listener below.
  opts.signal?.throwIfAborted();
  const maxFrameIndex = opts.maxFrameIndex ?? Infinity;
  const out = decodedSize(info.width, info.height, opts.maxSide ?? 720);
  const frameBytes = out.width * out.height * 3;
  // ffmpeg shares the two cores with the pose workers, so it is kept cheap: one decoding thread (frame threads
  // only add buffered frames and memory; one thread decodes 1080p H.264 at >100 frames/s here), one filter thread,
  // and the area downscale (measured: bilinear/fast_bilinear save no CPU worth the aliasing on this 1080p → 720p).
  const filters = [`select='not(mod(n\\,${step}))'`, `scale=${out.width}:${out.height}:flags=area`];
  const child = spawn(
    resolveFfmpegPath({ explicit: opts.ffmpegPath }),
    ['-v', 'error', '-nostdin', ...ffmpegInputGuards('file'), '-max_pixels', String(MAX_VIDEO_SIDE ** 2), '-threads', '1',
      '-i', file, '-an', '-sn', '-dn', '-filter_threads', '1', '-vf', filters.join(','),
      '-vsync', '0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const onAbort = (): void => void child.kill('SIGKILL');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let k = 0;
  const allocate = opts.allocate ?? ((n: number) => new Uint8Array(n));
  let frame = allocate(frameBytes);
  let filled = 0;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(frameBytes - filled, chunk.length - off);
        frame.set(chunk.subarray(off, off + n), filled);
        filled += n;
        off += n;
        if (filled === frameBytes) {
          const index = k * step;
          if (index > maxFrameIndex) throw new VideoTooLongError(maxFrameIndex);
          yield {
            index,
            timestamp: Math.round((index / info.fps) * 1000) / 1000,
            image: { data: frame, width: out.width, height: out.height },
            scaleX: info.width / out.width,
            scaleY: info.height / out.height,
          };
          k++;
          frame = allocate(frameBytes);
          filled = 0;
        }
      }
    }
    const code = await Promise.race([exited, spawnError.then((e) => Promise.reject(e))]);
    if (opts.signal?.aborted) throw opts.signal.reason instanceof Error ? opts.signal.reason : new Error('aborted');
    if (code !== 0) throw new VideoDecodeError(videoProblem(stderr), { cause: new Error(`ffmpeg exited ${code}: ${stderr.trim()}`) });
    if (k === 0) throw new VideoDecodeError('video has no decodable frames');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new VideoDecodeError('ffmpeg not found');
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}
