import { describe, expect, it } from 'vitest';
import { KEYPOINT_NAMES, type Keypoint } from '../posture/index.ts';
import { gapFrame, measuredFrame, syntheticDetailedResult, syntheticKeypoints } from './detailed-result.test-helper.ts';
import { framesMot, framesTrc } from './opensim-export.ts';

/** Frames 0 and 4 measured (the left ear not found in frame 0), frame 2 a gap: every 2nd frame of a 30 fps clip. */
function frames() {
  const first = syntheticKeypoints();
  first[3] = [130, 260, 0];
  return [
    measuredFrame(0, 0, first, { trunk_angle: 5.25, knee_angle: 171.456, leg_spread: 12 }),
    gapFrame(2, 2 / 30),
    measuredFrame(4, 4 / 30, syntheticKeypoints(), { knee_angle: 170 }),
  ];
}

/** Lines split on LF, each split on tabs; the text must end with a line break. */
function table(text: string): string[][] {
  expect(text.endsWith('\n')).toBe(true);
  expect(text).not.toContain('\r');
  return text.slice(0, -1).split('\n').map((line) => line.split('\t'));
}

const MARKERS = ['Nose', 'LEye', 'REye', 'LEar', 'REar', 'LShoulder', 'RShoulder', 'LElbow', 'RElbow', 'LWrist', 'RWrist',
  'LHip', 'RHip', 'LKnee', 'RKnee', 'LAnkle', 'RAnkle'];

describe('framesTrc', () => {
  it('writes the TRC header OpenSim reads: rates, counts, units, marker names and XYZ labels', () => {
    const [pathLine, keys, values, labels, xyz, ...rows] = table(framesTrc(syntheticDetailedResult(frames()), { name: 's1_left.trc' }));
    expect(pathLine).toEqual(['PathFileType', '4', '(X/Y/Z)', 's1_left.trc', 'scale=subject_height cm_per_px=0.250000']);
    const header = Object.fromEntries(keys!.map((key, i) => [key, values![i]]));
    expect(header).toEqual({
      DataRate: '15', CameraRate: '30', NumFrames: '3', NumMarkers: '17', Units: 'm',
      OrigDataRate: '30', OrigDataStartFrame: '0', OrigNumFrames: '6',
    });
    expect(labels!.filter((label) => label !== '')).toEqual(['Frame#', 'Time', ...MARKERS]);
    expect(labels!.indexOf('LEye') - labels!.indexOf('Nose')).toBe(3);
    expect(xyz!.slice(0, 5)).toEqual(['', '', 'X1', 'Y1', 'Z1']);
    expect(xyz!.at(-1)).toBe('Z17');
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toHaveLength(2 + 3 * KEYPOINT_NAMES.length);
  });

  it('writes metres with Y up from the image bottom, Z = 0, and blank cells for a gap or a keypoint not found', () => {
    const [, , , , , first, gap, last] = table(framesTrc(syntheticDetailedResult(frames()), { name: 's1_left.trc' }));
    expect(first!.slice(0, 2)).toEqual(['0', '0.000000']);
    const input: Keypoint[] = syntheticKeypoints();
    for (const [i, [x, y]] of input.entries()) {
      const cells = first!.slice(2 + 3 * i, 5 + 3 * i);
      if (i === 3) {
        expect(cells, 'left ear, score 0').toEqual(['', '', '']);
        continue;
      }
      // 0.25 cm/px: x × 0.0025 m; Y measured up from the bottom edge of the 800 px image.
      expect(cells).toEqual([(x * 0.0025).toFixed(5), ((800 - y) * 0.0025).toFixed(5), '0.00000']);
    }
    expect(first!.slice(2, 5)).toEqual(['0.25000', '1.50000', '0.00000']);
    expect(gap).toEqual(['2', '0.066667', ...Array(51).fill('')]);
    expect(last!.slice(0, 2)).toEqual(['4', '0.133333']);
    expect(last!.slice(11, 14), 'left ear found in frame 4').toEqual(['0.32500', '1.35000', '0.00000']);
  });

  it('stays valid without a scale: pixels, said in Units and on the first line', () => {
    const lines = table(framesTrc(syntheticDetailedResult(frames(), { scale: null }), { name: 'clip.trc' }));
    expect(lines[0]).toEqual(['PathFileType', '4', '(X/Y/Z)', 'clip.trc', 'scale=none']);
    expect(lines[1]![4]).toBe('Units');
    expect(lines[2]![4]).toBe('px');
    expect(lines[5]!.slice(2, 5)).toEqual(['100.00', '600.00', '0.00']);
    expect(lines).toHaveLength(5 + 3);
  });
});

describe('framesMot', () => {
  const units = { neck_angle: '°', trunk_angle: '°', leg_spread: 'cm', knee_angle: '°' } as const;

  it('writes the OpenSim coordinates header and one row of angles in degrees per analysed frame', () => {
    const lines = table(framesMot(syntheticDetailedResult(frames(), { units }), { name: 's1_left.mot' }));
    const end = lines.findIndex(([first]) => first === 'endheader');
    const header = lines.slice(0, end).map((cells) => cells.join('\t'));
    expect(header[0]).toBe('s1_left.mot');
    expect(header).toEqual(expect.arrayContaining(['version=1', 'nRows=3', 'nColumns=3', 'inDegrees=yes']));
    // Angles in profile (units) order; cm measurements and angles never measured are left out.
    const [columns, ...rows] = lines.slice(end + 1);
    expect(columns).toEqual(['time', 'trunk_angle', 'knee_angle']);
    expect(rows).toEqual([
      ['0.000000', '5.25', '171.46'],
      ['0.066667', '', ''],
      ['0.133333', '', '170.00'],
    ]);
  });

  it('keeps its header on its lines whatever the name holds', () => {
    const [first, second] = table(framesMot(syntheticDetailedResult(frames(), { units }), { name: 'clip\r\nname\t1' }));
    expect(first).toEqual(['clip name 1']);
    expect(second).toEqual(['version=1']);
  });
});
