// A video is read in two passes (video-pose.ts): keyframes first, then every analysed frame. Decoding is a fixed
// cost per pass whatever the frame step (a VP9 or H.264 decoder decodes every frame to reach the selected ones:
// ~2.2 s of CPU for the 7.7 s 1080p demo clip either way), so the first pass keeps every analysed frame it decoded in
// a temporary file and the second reads them back instead of running ffmpeg again. The bytes are the decoder's own,
// so the second pass sees exactly the frames a second decode would give. A video whose frames exceed the budget, or
// a disk that refuses a write, leaves the spool incomplete and the second pass decodes the file again, as before.
import { randomUUID } from 'node:crypto';
import { open, unlink, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { VideoFrame } from './video-decoder.ts';

/** Spooled bytes per video at most (about 60 s of footage at 10 analysed frames a second and 720 × 404). */
export const DEFAULT_SPOOL_BYTES = 512 * 1024 ** 2;

type FrameHeader = Omit<VideoFrame, 'image'> & { width: number; height: number };

export class FrameSpool {
  private readonly headers: FrameHeader[] = [];
  private bytes = 0;
  private abandoned = false;
  private closed = false;

  private constructor(
    private readonly handle: FileHandle,
    private readonly maxBytes: number,
  ) {}

  static async create(opts: { dir?: string; maxBytes?: number } = {}): Promise<FrameSpool> {
    const file = path.join(opts.dir ?? os.tmpdir(), `postura-frames-${randomUUID()}.rgb`);
    // Created for this process alone (0600, must not exist) and unlinked at once: the open handle keeps the bytes, and
    // the system frees them when it is closed, even when the process is killed before dispose() runs.
    const handle = await open(file, 'wx+', 0o600);
    try {
      await unlink(file);
    } catch (error) {
      await handle.close();
      throw error;
    }
    return new FrameSpool(handle, opts.maxBytes ?? DEFAULT_SPOOL_BYTES);
  }

  /** Keeps a copy of `frame` (awaited before its pixels go anywhere else); false once the spool has been given up. */
  async append(frame: VideoFrame): Promise<boolean> {
    if (this.abandoned || this.closed) return false;
    const data = frame.image.data;
    if (this.bytes + data.byteLength > this.maxBytes) return this.abandon();
    try {
      let written = 0;
      while (written < data.byteLength) {
        const r = await this.handle.write(data, written, data.byteLength - written, this.bytes + written);
        written += r.bytesWritten;
      }
    } catch {
      // A full disk costs a second decode, never the analysis.
      return this.abandon();
    }
    const { image, ...rest } = frame;
    this.headers.push({ ...rest, width: image.width, height: image.height });
    this.bytes += data.byteLength;
    return true;
  }

  /** Every frame of the pass was appended: the second pass may read them back. */
  get complete(): boolean {
    return this.closed && !this.abandoned;
  }

  /** The first pass is over; `complete` tells whether the spool holds all of it. */
  close(): void {
    this.closed = true;
  }

  /** The spooled frames in order, each in a buffer from `allocate`. */
  async *frames(allocate: (byteLength: number) => Uint8Array = (n) => new Uint8Array(n), signal?: AbortSignal): AsyncGenerator<VideoFrame> {
    if (!this.complete) throw new Error('the frame spool is incomplete');
    let offset = 0;
    for (const h of this.headers) {
      signal?.throwIfAborted();
      const length = h.width * h.height * 3;
      const data = allocate(length);
      let read = 0;
      while (read < length) {
        const r = await this.handle.read(data, read, length - read, offset + read);
        if (r.bytesRead === 0) throw new Error('the frame spool ended early');
        read += r.bytesRead;
      }
      offset += length;
      const { width, height, ...rest } = h;
      yield { ...rest, image: { data, width, height } };
    }
  }

  async dispose(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }

  private abandon(): false {
    if (!this.abandoned) void this.handle.truncate(0).catch(() => undefined);
    this.abandoned = true;
    return false;
  }
}
