import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DetailedResult } from '../analysis/view-analysis.ts';
import { grabFrame } from '../pose/frame-grab.ts';
import { overlayContent } from '../overlay/overlay-content.ts';
import { renderOverlayPng } from '../overlay/overlay.ts';
import { FakePoseEstimator } from '../pose/pose-estimator.ts';
import { runAnalyzeCommand } from './analyze.command.ts';

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test/fixtures');
let dir = '';

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'postura-cli-overlay-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('postura analyze --overlay', () => {
  it('draws exactly the overlay content of the result it prints, on that content frame', async () => {
    const file = path.join(fixtures, 'sports2d_demo.mp4');
    const out = path.join(dir, 'overlay.png');
    let json = '';
    const code = await runAnalyzeCommand([file, '--json', '--frame-step', '15', '--overlay', out],
      { stdout: { write: (s: string) => (json += s) }, stderr: { write: () => true } },
      { estimator: new FakePoseEstimator(['cx']) });
    expect(code).toBe(0);
    const result = JSON.parse(json) as DetailedResult;
    const content = overlayContent(result)!;
    expect(content.frame.index).toBe(result.representative_frame!.frame_index);
    const png = await readFile(out);
    expect(await sharp(png).metadata()).toMatchObject({ format: 'png', width: result.width, height: result.height });
    // The same content drawn on the same grabbed frame gives the same picture: the CLI adds nothing of its own.
    const expected = await renderOverlayPng(await grabFrame(file, 'video', content.frame.timestamp), content);
    expect(png.equals(expected)).toBe(true);
  });
});
