import { spawn } from 'node:child_process';
import sharp from 'sharp';
import { resolveFfprobePath } from '../pose/ffmpeg-path.ts';

/**
 * A second reader of an upload as it streams past: sharp decodes an image, ffprobe parses a video container from
 * stdin. A file whose first bytes look right but whose body is not a readable picture or video (truncated,
 * disguised) is caught before the request answers, without a temporary copy.
 */
export interface MediaCheck {
  /** Feeds the next chunk; resolves when the checker can take more (backpressure). */
  write(chunk: Uint8Array): Promise<void>;
  end(): void;
  /** Rejects with a user-facing reason when the content is not readable media. */
  result: Promise<void>;
  abort(): void;
}

export function createMediaCheck(kind: 'image' | 'video'): MediaCheck {
  return kind === 'image' ? imageCheck() : videoCheck();
}

function imageCheck(): MediaCheck {
  // failOn 'truncated' makes a cut-off JPEG/PNG an error instead of a grey bottom half.
  const decoder = sharp({ failOn: 'truncated', limitInputPixels: 268_402_689, sequentialRead: true });
  const result = decoder.resize(32, 32, { fit: 'inside' }).raw().toBuffer().then(
    () => undefined,
    (error: Error) => Promise.reject(new Error(`Image is corrupt or unreadable (${firstLine(error.message)})`)),
  );
  result.catch(() => {});
  return {
    write: (chunk) => writeWithBackpressure(decoder, chunk),
    end: () => decoder.end(),
    result,
    abort: () => decoder.destroy(),
  };
}

function videoCheck(): MediaCheck {
  const child = spawn(resolveFfprobePath(), ['-v', 'error', '-show_entries', 'stream=codec_type,width,height',
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
    child.on('error', (error) => reject(new Error(`Video check could not run: ${error.message}`)));
    child.on('close', (code) => {
      try {
        const streams = (JSON.parse(stdout || '{}') as { streams?: Array<{ codec_type?: string; width?: number }> }).streams ?? [];
        if (code === 0 && streams.some((s) => s.codec_type === 'video' && (s.width ?? 0) > 0)) return resolve();
      } catch {
        // falls through to the rejection below
      }
      reject(new Error(`Video is corrupt or unreadable (${firstLine(stderr) || 'no video stream found'})`));
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

function writeWithBackpressure(stream: NodeJS.WritableStream, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    stream.once('error', onError);
    const ok = stream.write(chunk, () => {});
    const done = () => {
      stream.removeListener('error', onError);
      resolve();
    };
    if (ok) done();
    else stream.once('drain', done);
  });
}

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.slice(0, 200) ?? '';
}
