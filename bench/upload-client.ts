// The upload benchmark's client, run as a child process (forked by bench/upload.bench.ts) so that its buffers and
// its CPU do not count against the server process being measured. It takes jobs over IPC and answers each with
// its timing:
//  - upload: POST /api/video/upload as multipart (session_id, model, profile, then one `left` file), chunked
//    transfer encoding, the file generated on the fly (the fixture video, then padding up to `bytes`);
//  - copy: the same generator into fs.createWriteStream (fsync before close, as the disk object store does),
//    the plain file copy the upload is compared with.
// Never more than one chunk is held: the generator reuses one padding buffer, and writes wait for 'drain'.
import { randomBytes } from 'node:crypto';
import { createWriteStream, readFileSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import http from 'node:http';
import { once } from 'node:events';

export type ClientJob =
  | { kind: 'upload'; url: string; token: string; sessionId: string; bytes: number; fixture: string; chunkBytes: number }
  | { kind: 'copy'; path: string; bytes: number; fixture: string; chunkBytes: number };

export interface ClientResult {
  kind: ClientJob['kind'];
  /** File bytes sent (upload) or written (copy); the multipart framing adds a few hundred bytes to the upload. */
  bytes: number;
  ms: number;
  status?: number;
  body?: string;
  error?: string;
}

/** `bytes` bytes: the fixture first (so the header the server sniffs and probes is a real MP4), then padding. */
export function* fileChunks(fixture: Buffer, bytes: number, chunkBytes: number): Generator<Buffer> {
  const padding = randomBytes(chunkBytes); // random, so it never contains the multipart boundary by chance of zeros
  let sent = 0;
  for (let at = 0; at < fixture.length && sent < bytes; at += chunkBytes) {
    const chunk = fixture.subarray(at, Math.min(at + chunkBytes, fixture.length, at + bytes - sent));
    sent += chunk.length;
    yield chunk;
  }
  while (sent < bytes) {
    const chunk = bytes - sent >= padding.length ? padding : padding.subarray(0, bytes - sent);
    sent += chunk.length;
    yield chunk;
  }
}

async function upload(job: Extract<ClientJob, { kind: 'upload' }>): Promise<ClientResult> {
  const fixture = readFileSync(job.fixture);
  const boundary = `----posturabench${randomBytes(8).toString('hex')}`;
  const field = (name: string, value: string) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const head = Buffer.from(field('session_id', job.sessionId) + field('model', 'cx') + field('profile', 'stance')
    + `--${boundary}\r\nContent-Disposition: form-data; name="left"; filename="bench.mp4"\r\nContent-Type: video/mp4\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const target = new URL('/api/video/upload', job.url);
  const t0 = performance.now();
  const request = http.request({
    method: 'POST', host: target.hostname, port: target.port, path: target.pathname,
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, authorization: `Bearer ${job.token}` },
    // No content-length: Node sends the body with chunked transfer encoding.
  });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    request.once('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (d: string) => (body += d));
      response.once('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.once('error', reject);
    });
    request.once('error', reject);
  });
  let answered = false;
  void answer.then(() => (answered = true), () => (answered = true));
  const write = async (chunk: Buffer) => {
    if (!request.write(chunk)) await Promise.race([once(request, 'drain'), answer.catch(() => {})]);
  };
  await write(head);
  for (const chunk of fileChunks(fixture, job.bytes, job.chunkBytes)) {
    if (answered) break; // the server answered early (an error): stop sending
    await write(chunk);
  }
  if (!answered) request.end(tail);
  const { status, body } = await answer;
  return { kind: 'upload', bytes: job.bytes, ms: performance.now() - t0, status, body: body.slice(0, 2000) };
}

async function copy(job: Extract<ClientJob, { kind: 'copy' }>): Promise<ClientResult> {
  const fixture = readFileSync(job.fixture);
  const t0 = performance.now();
  const out = createWriteStream(job.path, { flags: 'wx', flush: true });
  for (const chunk of fileChunks(fixture, job.bytes, job.chunkBytes)) {
    if (!out.write(chunk)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
  const ms = performance.now() - t0;
  await unlink(job.path);
  return { kind: 'copy', bytes: job.bytes, ms };
}

process.on('message', (job: ClientJob) => {
  const run = job.kind === 'upload' ? upload(job) : copy(job);
  run.then(
    (result) => process.send!(result),
    (error: unknown) => process.send!({ kind: job.kind, bytes: job.bytes, ms: 0, error: String((error as Error)?.stack ?? error) }),
  );
});
process.on('disconnect', () => process.exit(0));
