// The media port's encoding side: raw RGB frames → an H.264 MP4 file, through an ffmpeg child reading them on
// stdin. Frames are written one at a time and the writer waits for the pipe to drain, so a slow encoder paces the
// producer and a long video is never held in memory. The file is playable in a browser (yuv420p, BT.709 tagged)
// and starts playing before it is fully downloaded (the `moov` index is moved to the front: `+faststart`).
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import { resolveFfmpegPath } from './ffmpeg-path.ts';

export class VideoEncodeError extends Error {
  override readonly name = 'VideoEncodeError';
}

export interface VideoEncodeOptions {
  /** Size of every frame given, in px; each frame is `width * height * 3` bytes of RGB. */
  width: number;
  height: number;
  /** Playback rate of the file. */
  fps: number;
  ffmpegPath?: string;
  signal?: AbortSignal;
}

export interface EncodedVideo {
  frames: number;
  /** The file's size: the frames' own, rounded up to even (4:2:0 chroma halves both sides). */
  width: number;
  height: number;
}

/** The size a `width × height` picture is stored at: odd sides get one padded row or column. */
export function encodedSize(width: number, height: number): { width: number; height: number } {
  return { width: width + (width % 2), height: height + (height % 2) };
}

/** The last lines of ffmpeg's stderr: what an encoder failure reports. */
function tail(stderr: string): string {
  return stderr.trim().split('\n').slice(-5).join('\n');
}

/**
 * Encodes `frames` into an MP4 at `output` (overwritten). The buffers are handed to the pipe without a copy, so a
 * producer must not reuse a buffer it has yielded. On failure or abort ffmpeg is killed and the partial file removed.
 * @throws VideoEncodeError when ffmpeg cannot be run or fails (with the tail of its stderr), or a frame has the wrong size
 */
export async function encodeVideo(frames: AsyncIterable<Uint8Array>, output: string, options: VideoEncodeOptions): Promise<EncodedVideo> {
  const { width, height, fps, signal } = options;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0 && fps > 0)) {
    throw new VideoEncodeError(`invalid video size or rate: ${width}×${height} at ${fps} fps`);
  }
  signal?.throwIfAborted();
  const frameBytes = width * height * 3;
  // veryfast/crf 23: an overlay (flat drawing on camera footage) compresses well, and on two shared cores the
  // slower presets cost more time than the bytes they save are worth. Only the pipe is read, only the file written.
  const args = ['-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps),
    '-protocol_whitelist', 'pipe', '-format_whitelist', 'rawvideo', '-i', 'pipe:0', '-an',
    '-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2,scale=out_color_matrix=bt709:out_range=tv,format=yuv420p',
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23',
    '-colorspace', 'bt709', '-color_primaries', 'bt709', '-color_trc', 'bt709',
    '-movflags', '+faststart', '-protocol_whitelist', 'file', '-y', output];
  const child = spawn(resolveFfmpegPath({ explicit: options.ffmpegPath }), args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  // Resolves however the child ends: an exit code, or the spawn error (no 'close' may follow it).
  const ended = new Promise<number | Error | null>((resolve) => {
    child.once('close', (code) => resolve(code));
    child.once('error', resolve);
  });
  // A write after ffmpeg died fails with EPIPE; the exit code and stderr below say why it died.
  child.stdin.on('error', () => {});
  const onAbort = (): void => void child.kill('SIGKILL');
  signal?.addEventListener('abort', onAbort, { once: true });
  const failure = async (): Promise<VideoEncodeError> => {
    const end = await ended;
    if (end instanceof Error) {
      const missing = (end as NodeJS.ErrnoException).code === 'ENOENT';
      return new VideoEncodeError(missing ? 'ffmpeg not found' : `ffmpeg could not be run: ${end.message}`, { cause: end });
    }
    return new VideoEncodeError(`ffmpeg exited ${end}: ${tail(stderr) || 'no message'}`);
  };
  let count = 0;
  try {
    for await (const frame of frames) {
      signal?.throwIfAborted();
      if (frame.byteLength !== frameBytes) throw new VideoEncodeError(`frame ${count} has ${frame.byteLength} bytes, not ${frameBytes}`);
      if (child.exitCode !== null || child.stdin.destroyed) throw await failure();
      count++;
      if (!child.stdin.write(frame)) {
        const drained = once(child.stdin, 'drain').then(() => true, () => false);
        if (!(await Promise.race([drained, ended.then(() => false)]))) throw await failure();
      }
    }
    signal?.throwIfAborted();
    if (count === 0) throw new VideoEncodeError('no frames to encode');
    child.stdin.end();
    const end = await ended;
    signal?.throwIfAborted();
    if (end !== 0) throw await failure();
    return { frames: count, ...encodedSize(width, height) };
  } catch (err) {
    child.kill('SIGKILL');
    await ended;
    await rm(output, { force: true });
    // An abort kills ffmpeg, and whatever then failed (a write, the exit code) is the abort's doing.
    throw signal?.aborted ? signal.reason : err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}
