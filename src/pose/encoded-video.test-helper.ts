// Reading back an encoded video in tests (not a test file itself: vitest only runs *.test.ts): its stream as
// ffprobe sees it, its top-level MP4 boxes in file order, and its frames as raw RGB.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { resolveFfmpegPath, resolveFfprobePath } from './ffmpeg-path.ts';

const run = promisify(execFile);

export interface ProbedStream {
  codec_name: string;
  pix_fmt: string;
  width: number;
  height: number;
  nb_frames: string;
  avg_frame_rate: string;
}

export async function probeVideoStream(file: string): Promise<ProbedStream> {
  const { stdout } = await run(resolveFfprobePath(), ['-v', 'error', '-select_streams', 'v:0', '-show_streams', '-print_format', 'json', file]);
  return (JSON.parse(stdout) as { streams: ProbedStream[] }).streams[0]!;
}

/** Types of the top-level boxes (`ftyp`, `moov`, `mdat`, ...), in file order. */
export async function topLevelAtoms(file: string): Promise<string[]> {
  const bytes = await readFile(file);
  const types: string[] = [];
  for (let at = 0; at + 8 <= bytes.length;) {
    const size32 = bytes.readUInt32BE(at);
    types.push(bytes.toString('latin1', at + 4, at + 8));
    // Size 1: a 64-bit size follows the type; size 0: the box runs to the end of the file.
    const size = size32 === 1 ? Number(bytes.readBigUInt64BE(at + 8)) : size32 === 0 ? bytes.length - at : size32;
    if (size < 8) throw new Error(`bad box size ${size} at ${at}`);
    at += size;
  }
  return types;
}

/** Every frame of a video as RGB bytes (`width * height * 3` each); for the short clips a test makes. */
export async function decodeAllFrames(file: string, width: number, height: number): Promise<Buffer[]> {
  const { stdout } = await run(resolveFfmpegPath(), ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
  const size = width * height * 3;
  return Array.from({ length: stdout.length / size }, (_, i) => stdout.subarray(i * size, (i + 1) * size));
}
