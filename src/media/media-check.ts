import { spawn } from 'node:child_process';
import { ffmpegInputGuards, resolveFfprobePath } from '../pose/ffmpeg-path.ts';
import { loadSharp } from '../pose/image-decoder.ts';
import { MAX_IMAGE_PIXELS, MAX_VIDEO_SIDE } from '../pose/media-limits.ts';
import { imageProblem, MediaProblemError, videoProblem, videoTooLarge } from '../pose/media-problems.ts';

/**
 * A second reader of an upload as it streams past: sharp decodes an image, ffprobe parses a video container from
 * stdin. A file whose first bytes look right but whose body is not a readable picture or video (truncated,
 * disguised) is caught before the request answers, without a temporary copy; so is one whose declared frame size
 * is over the pixel bounds of media-limits.ts. What a refusal says is chosen in media-problems.ts.
 */
export interface MediaCheck {
  /** Feeds the next chunk; resolves when the checker can take more (backpressure). Never rejects for the content. */
  write(chunk: Uint8Array): Promise<void>;
  end(): void;
  /** Rejects with a `MediaProblemError` whose message is a fixed, user-facing reason. */
  result: Promise<void>;
  abort(): void;
}

export interface MediaCheckOptions {
  /** Pixels an image may declare (default `MAX_IMAGE_PIXELS`). */
  maxImagePixels?: number;
  /** Longest side a video frame may declare (default `MAX_VIDEO_SIDE`). */
  maxVideoSide?: number;
  /** Receives the decoder's own message of each refusal, which users never see. */
  log?: { warn(details: object, message: string): void };
}

export function createMediaCheck(kind: 'image' | 'video', options: MediaCheckOptions = {}): MediaCheck {
  const check = kind === 'image' ? imageCheck(options.maxImagePixels ?? MAX_IMAGE_PIXELS) : videoCheck(options.maxVideoSide ?? MAX_VIDEO_SIDE);
  check.result.catch((error: unknown) => {
    if (error instanceof MediaProblemError) options.log?.warn({ kind, detail: error.detail }, `upload refused: ${error.message}`);
  });
  return check;
}

function imageCheck(maxPixels: number): MediaCheck {
  let failed = false;
  // sharp loads with the first image (see image-decoder.ts); chunks wait for it.
  const decoding = loadSharp().then((sharp) => {
    // failOn 'truncated' makes a cut-off JPEG/PNG an error instead of a grey bottom half. The pixel limit is read
    // from the header, so a 12000×12000 JPEG is refused before a row of it is decoded.
    const decoder = sharp({ failOn: 'truncated', limitInputPixels: maxPixels, sequentialRead: true });
    // The decoder's stream errors are the same failure as `result`'s; once it has failed, the rest is not needed.
    decoder.on('error', () => (failed = true));
    return { decoder, done: decoder.resize(32, 32, { fit: 'inside' }).raw().toBuffer() };
  });
  const result = decoding.then(({ done }) => done).then(
    () => undefined,
    (error: Error) => {
      failed = true;
      return Promise.reject(new MediaProblemError(imageProblem(error.message, maxPixels), firstLine(error.message)));
    },
  );
  result.catch(() => {});
  return {
    write: async (chunk) => {
      // A decoder that could not be made has already failed `result`.
      const decoder = await decoding.then(({ decoder: d }) => d, () => undefined);
      if (decoder && !failed) await writeWithBackpressure(decoder, chunk).catch(() => (failed = true));
    },
    // Ended even after a failure: `result` must settle, and ending an errored stream is harmless.
    end: () => void decoding.then(({ decoder }) => decoder.end(), () => undefined),
    result,
    abort: () => void decoding.then(({ decoder }) => decoder.destroy(), () => undefined),
  };
}

function videoCheck(maxSide: number): MediaCheck {
  const child = spawn(resolveFfprobePath(), ['-v', 'error', ...ffmpegInputGuards('pipe'), '-show_entries', 'stream=codec_type,width,height',
    '-of', 'json', '-i', 'pipe:0'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let stdinClosed = false;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  // ffprobe may stop reading once it has what it needs: later writes are simply not needed.
  child.stdin.on('error', () => (stdinClosed = true));
  child.stdin.on('close', () => (stdinClosed = true));
  const result = new Promise<void>((resolve, reject) => {
    child.on('error', (error) => reject(new MediaProblemError('Video check could not run; try again later', error.message)));
    child.on('close', (code) => {
      let video: ProbedStream | undefined;
      try {
        const streams = (JSON.parse(stdout || '{}') as { streams?: ProbedStream[] }).streams ?? [];
        video = streams.find((s) => s.codec_type === 'video' && (s.width ?? 0) > 0 && (s.height ?? 0) > 0);
      } catch {
        // unreadable output: refused below like a file without a video stream
      }
      if (code === 0 && video) {
        const { width = 0, height = 0 } = video;
        if (Math.max(width, height) <= maxSide) return resolve();
        return reject(new MediaProblemError(videoTooLarge(width, height, maxSide), `frame ${width}x${height}`));
      }
      const detail = firstLine(stderr) || 'no video stream found';
      reject(new MediaProblemError(videoProblem(detail), detail));
    });
  });
  result.catch(() => {});
  return {
    write: async (chunk) => {
      if (!stdinClosed) await writeWithBackpressure(child.stdin, chunk).catch(() => (stdinClosed = true));
    },
    end: () => {
      if (!stdinClosed) child.stdin.end();
    },
    result,
    abort: () => child.kill('SIGKILL'),
  };
}

interface ProbedStream {
  codec_type?: string;
  width?: number;
  height?: number;
}

/**
 * Resolves once the chunk is handed over, or once the stream can take no more: a decoder that exits with what it
 * needs closes its stdin, and then neither 'drain' nor always 'error' follows. Waiting for 'drain' alone hung a check.
 */
function writeWithBackpressure(stream: NodeJS.WritableStream, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const settle = (error?: Error) => {
      stream.removeListener('error', settle);
      stream.removeListener('drain', onDrain);
      stream.removeListener('close', onDrain);
      if (error) reject(error);
      else resolve();
    };
    const onDrain = () => settle();
    stream.once('error', settle);
    const ok = stream.write(chunk, (error?: Error | null) => {
      if (error) settle(error);
    });
    if (ok) return settle();
    stream.once('drain', onDrain);
    stream.once('close', onDrain);
  });
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.slice(0, 200) ?? '';
}
