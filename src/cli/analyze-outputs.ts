// The files one analysed input can be written to: the same writers for a single file's options (--overlay, --csv,
// --plots, …) and for each folder of a batch. Each writer beyond the CSV is loaded only when its output is asked
// for: the overlay brings sharp and ffmpeg, the charts echarts, and a plain analysis needs none of them.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { framesCsv } from '../analysis/frames-csv.ts';
import type { DetailedResult } from '../analysis/view-analysis.ts';
import { grabFrame } from '../pose/frame-grab.ts';
import type { OutputFiles } from './analyze-options.ts';

export interface OutputTargets extends OutputFiles {
  /** The detailed result, as `--json` prints it. */
  json?: string;
}

/**
 * Writes every target; `name` (the input's stem) names the charts and the OpenSim data. Returns warnings for
 * what had nothing to draw: no chart for a photo or a clip without angles, no overlay without a person.
 */
export async function writeOutputs(input: string, result: DetailedResult, targets: OutputTargets, name: string): Promise<string[]> {
  const warnings: string[] = [];
  if (targets.json) await writeFile(targets.json, `${JSON.stringify(result)}\n`);
  if (targets.csv) await writeFile(targets.csv, framesCsv(result));
  if (targets.trc || targets.mot) {
    const { framesTrc, framesMot } = await import('../analysis/opensim-export.ts');
    if (targets.trc) await writeFile(targets.trc, framesTrc(result, { name }));
    if (targets.mot) await writeFile(targets.mot, framesMot(result, { name }));
  }
  if (targets.plots) {
    const { angleChartSvg, chartPng } = await import('../report/angle-charts.ts');
    const chart = angleChartSvg(result);
    if (!chart) warnings.push('no angle over time to chart (a photo, or no angle measured), so no chart was drawn');
    else {
      await mkdir(targets.plots, { recursive: true });
      const base = path.join(targets.plots, `${name}_${chart.view}_angles`);
      await writeFile(`${base}.svg`, chart.svg);
      await writeFile(`${base}.png`, await chartPng(chart.svg));
    }
  }
  if (targets.overlay) warnings.push(...await writeOverlay(input, result, targets.overlay));
  return warnings;
}

async function writeOverlay(input: string, result: DetailedResult, output: string): Promise<string[]> {
  const noPerson = 'no person found, so no overlay was drawn';
  if (/\.mp4$/i.test(output)) {
    if (!result.frames_data.some((f) => f.keypoints)) return [noPerson];
    const { renderOverlayVideo } = await import('../overlay/overlay-video.ts');
    await renderOverlayVideo(input, result, output);
    return [];
  }
  const { overlayContent } = await import('../overlay/overlay-content.ts');
  const content = overlayContent(result);
  if (!content) return [noPerson];
  const { renderOverlayPng } = await import('../overlay/overlay.ts');
  // The picture is the content's own frame, grabbed at that frame's time: drawing and numbers are one frame.
  const picture = await grabFrame(input, result.file_type, content.frame.timestamp);
  await writeFile(output, await renderOverlayPng(picture, content));
  return [];
}
