import { KEYPOINT_NAMES, type Keypoint, type KeypointName } from '../posture/index.ts';
import type { DetailedResult } from './view-analysis.ts';

/**
 * One view's per-frame series as the OpenSim text files Sports2D writes, so a result opens in OpenSim, Pose2Sim's
 * Blender add-on or a spreadsheet next to Sports2D's own: `.trc` for the keypoint trajectories, `.mot` for the
 * angles. Both are tab-separated with LF line ends (OpenSim splits on tabs and CR, so CRLF would add a cell), one
 * row per analysed frame, and a frame or value that was not measured is a blank cell, never a zero.
 *
 * TRC conventions, fixed here because a 2D video has none of its own:
 * - Markers are the 17 COCO keypoints in model order, named as Pose2Sim's skeletons name them (`LShoulder`...).
 * - The origin is the image's bottom-left corner, X to the right, Y up as OpenSim expects, Z = 0 (one camera).
 * - With a scale (`detailed.scale`) coordinates are metres and Units is `m`; without one they stay pixels and Units
 *   is `px`. The first line states which: after the file name (where OpenSim keeps the whole line as the
 *   file's header) comes `scale=<source> cm_per_px=<factor>`, or `scale=none`.
 * - Frame# is the video frame index (from 0, as Sports2D numbers its rows), so rows match frames.csv; DataRate is
 *   the analysed frames per second (fps / frame_skip); CameraRate and OrigDataRate are the video's fps (an image
 *   is one row at time 0 with rates 0).
 * - A keypoint with score 0 ("not found") is blank rather than drawn at the origin.
 *
 * MOT: the header OpenSim writes for coordinates (name, version, nRows, nColumns, inDegrees=yes, endheader), then
 * `time` and every angle (`°`) measurement in profile order. nColumns counts the time column as OpenSim does
 * (Sports2D counts the angles only; OpenSim reads the labels either way). cm measurements stay in frames.csv.
 */

const MARKER_NAMES: Readonly<Record<KeypointName, string>> = {
  nose: 'Nose', left_eye: 'LEye', right_eye: 'REye', left_ear: 'LEar', right_ear: 'REar',
  left_shoulder: 'LShoulder', right_shoulder: 'RShoulder', left_elbow: 'LElbow', right_elbow: 'RElbow',
  left_wrist: 'LWrist', right_wrist: 'RWrist', left_hip: 'LHip', right_hip: 'RHip',
  left_knee: 'LKnee', right_knee: 'RKnee', left_ankle: 'LAnkle', right_ankle: 'RAnkle',
};

/** Digits after the point: µs for time, 0.01 mm, 0.01 px (keypoints are stored to 0.01 px), 0.01°. */
const DIGITS = { time: 6, m: 5, px: 2, deg: 2 } as const;

export function framesTrc(detailed: DetailedResult, options: { name: string }): string {
  const units = detailed.scale ? 'm' : 'px';
  const perPx = detailed.scale ? detailed.scale.cm_per_px / 100 : 1;
  const digits = DIGITS[units];
  const scaleNote = detailed.scale ? `scale=${detailed.scale.source} cm_per_px=${detailed.scale.cm_per_px.toFixed(6)}` : 'scale=none';
  const frames = detailed.frames_data;
  const markerCells = (point: Keypoint | undefined): string[] => {
    if (!point || !(point[2] > 0)) return ['', '', ''];
    const [x, y] = point;
    return [fixed(x * perPx, digits), fixed((detailed.height - y) * perPx, digits), fixed(0, digits)];
  };
  const lines = [
    ['PathFileType', '4', '(X/Y/Z)', oneLine(options.name), scaleNote],
    ['DataRate', 'CameraRate', 'NumFrames', 'NumMarkers', 'Units', 'OrigDataRate', 'OrigDataStartFrame', 'OrigNumFrames'],
    [rate(detailed.fps / detailed.frame_skip), rate(detailed.fps), frames.length, KEYPOINT_NAMES.length, units,
      rate(detailed.fps), frames[0]?.frame_index ?? 0, detailed.total_frames],
    ['Frame#', 'Time', ...KEYPOINT_NAMES.flatMap((name) => [MARKER_NAMES[name], '', '']), ''],
    ['', '', ...KEYPOINT_NAMES.flatMap((_, i) => [`X${i + 1}`, `Y${i + 1}`, `Z${i + 1}`])],
    ...frames.map((frame) => [
      frame.frame_index, fixed(frame.timestamp, DIGITS.time),
      ...KEYPOINT_NAMES.flatMap((_, i) => markerCells(frame.keypoints?.[i])),
    ]),
  ];
  return lines.map((cells) => cells.join('\t') + '\n').join('');
}

export function framesMot(detailed: DetailedResult, options: { name: string }): string {
  const measured = new Set(detailed.frames_data.flatMap((frame) => Object.keys(frame.measurements ?? {})));
  const angles = Object.keys(detailed.units).filter((name) => detailed.units[name] === '°' && measured.has(name));
  const header = [
    oneLine(options.name),
    'version=1',
    `nRows=${detailed.frames_data.length}`,
    `nColumns=${angles.length + 1}`,
    'inDegrees=yes',
    '',
    'Units are S.I. units (second, meters, Newtons, ...)',
    "If the header above contains a line with 'inDegrees', this indicates whether rotational values are in degrees (yes) or radians (no).",
    '',
    'endheader',
    ['time', ...angles].join('\t'),
  ];
  const rows = detailed.frames_data.map((frame) => [
    fixed(frame.timestamp, DIGITS.time),
    ...angles.map((name) => {
      const value = frame.measurements?.[name];
      return value === undefined ? '' : fixed(value, DIGITS.deg);
    }),
  ].join('\t'));
  return [...header, ...rows].map((line) => line + '\n').join('');
}

/** Fixed decimals without a minus on a value that rounds to zero. */
function fixed(value: number, digits: number): string {
  const text = value.toFixed(digits);
  return /^-0\.0*$/.test(text) ? text.slice(1) : text;
}

/** A rate as a plain number: 30, 15, 29.97003. */
function rate(value: number): string {
  return String(Number(value.toFixed(5)));
}

/** The name goes on a header line: a tab or line break in it would shift or end that line. */
function oneLine(name: string): string {
  return name.replace(/[\t\r\n]+/g, ' ');
}
