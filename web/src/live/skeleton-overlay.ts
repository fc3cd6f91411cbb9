// The skeleton drawn over the camera image, on a canvas the size of the video frame stacked on the <video> (both
// mirrored by CSS, so the points stay on the body). Coloured by the latest server label, as the studio overlays are.
import { KEYPOINT_INDEX, SKELETON_EDGES, type Keypoint } from '../../../src/posture/keypoints.ts';

/** Points below this score are not drawn (they jump around). */
const MIN_SCORE = 0.3;
const LABEL_COLOURS: Record<string, string> = { Good: '#22c55e', Mild: '#f59e0b', Bad: '#ef4444' };
const NO_LABEL_COLOUR = '#38bdf8';

export function drawSkeleton(canvas: HTMLCanvasElement, keypoints: readonly Keypoint[], width: number, height: number, label: string | null): void {
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.clearRect(0, 0, width, height);
  const colour = (label && LABEL_COLOURS[label]) || NO_LABEL_COLOUR;
  const unit = Math.max(2, Math.round(Math.max(width, height) / 200));
  ctx.lineCap = 'round';
  // A dark stroke under the coloured one keeps the bones visible on any background.
  for (const [stroke, lineWidth] of [['rgba(0, 0, 0, 0.6)', unit * 2], [colour, unit]] as const) {
    ctx.strokeStyle = stroke;
    ctx.lineWidth = lineWidth;
    ctx.beginPath();
    for (const [a, b] of SKELETON_EDGES) {
      const p = keypoints[KEYPOINT_INDEX[a]];
      const q = keypoints[KEYPOINT_INDEX[b]];
      if (!p || !q || p[2] < MIN_SCORE || q[2] < MIN_SCORE) continue;
      ctx.moveTo(p[0], p[1]);
      ctx.lineTo(q[0], q[1]);
    }
    ctx.stroke();
  }
  ctx.fillStyle = '#ffffff';
  for (const [x, y, score] of keypoints) {
    if (score < MIN_SCORE) continue;
    ctx.beginPath();
    ctx.arc(x, y, unit * 1.5, 0, Math.PI * 2);
    ctx.fill();
  }
}

export function clearSkeleton(canvas: HTMLCanvasElement): void {
  canvas.getContext('2d')?.clearRect(0, 0, canvas.width, canvas.height);
}
