import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolveFfmpegPath } from './ffmpeg-path.ts';
import { videoProblem } from './media-problems.ts';

const MAX_FRAME_BYTES = 64 * 1024 * 1024;

/**
 * The picture an overlay is drawn on: an image file as it is, or one video frame as PNG, upright (ffmpeg applies
 * the rotation metadata, as the decoder did when the keypoints were found).
 */
export async function grabFrame(file: string, fileType: 'image' | 'video', timestampSeconds: number): Promise<Buffer> {
  if (fileType === 'image') return readFile(file);
  // Timestamps are stored rounded to the millisecond (frame 2 at 30 fps: 0.0667 s → 0.067), and ffmpeg drops
  // every frame before -ss: seeking 1 ms early keeps the frame itself instead of the one after it (any fps < 1000).
  const seek = Math.max(0, Math.round((timestampSeconds - 0.001) * 1e6) / 1e6);
  const args = ['-v', 'error', '-ss', String(seek), '-i', file, '-frames:v', '1',
    '-f', 'image2pipe', '-vcodec', 'png', 'pipe:1'];
  return new Promise<Buffer>((resolve, reject) => {
    const child = spawn(resolveFfmpegPath(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_FRAME_BYTES) child.kill('SIGKILL');
      else chunks.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString().slice(0, 2000)));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0 && size > 0 && size <= MAX_FRAME_BYTES) resolve(Buffer.concat(chunks));
      // ffmpeg's stderr names the file and heap addresses: kept as the cause, for the log only.
      else reject(new Error(`could not extract a frame at ${timestampSeconds}s: ${videoProblem(stderr)}`, { cause: new Error(stderr.trim() || `ffmpeg exited ${code}`) }));
    });
  });
}
