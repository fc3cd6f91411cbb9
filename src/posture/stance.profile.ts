// Profile `stance`: the studio's legacy metrics, exactly as SPEC section 5 defines them. What it is for: a held
// athletic ready stance, feet under the shoulders and a staggered base, knees softly bent, trunk over the feet, head
// level, the arm facing the camera held forward at shoulder height with a soft elbow. It is no model of walking or
// of everyday standing or sitting (that is `upright`), so its texts coach that stance and say so where a target
// (the raised arm) would surprise anyone not holding it; none gives desk or screen advice.
import { angle, angleFromVertical, pointAbove, distance, type Point } from './geometry.ts';
import type { KeypointName } from './keypoints.ts';
import { sideKeypoint as k, type Annotation, type MetricContext, type MetricDefinition, type ProfileDefinition } from './profile.ts';
import { linearBand, rangeBand } from './scoring.ts';

const SOURCE = 'Postura studio contract (SPEC section 5), inherited from the legacy studio service.';

function fmt(v: number): string {
  return `${Math.round(v * 10) / 10}°`;
}

/** Every call site checks `keypoints()` first, so a missing point here is a profile bug, not user input. */
function need(ctx: MetricContext, name: KeypointName): Point {
  const p = ctx.point(name);
  if (!p) throw new Error(`stance profile: ${name} used without being declared`);
  return p;
}

const footToShoulderOffset: MetricDefinition = {
  name: 'foot_to_shoulder_offset',
  label: 'Foot to shoulder offset',
  views: ['front', 'back'],
  weight: 1,
  units: 'cm',
  parts: ['left', 'right'],
  keypoints: () => [['left_shoulder', 'right_shoulder', 'left_ankle', 'right_ankle']],
  measure(ctx) {
    const ls = need(ctx, 'left_shoulder');
    const rs = need(ctx, 'right_shoulder');
    const la = need(ctx, 'left_ankle');
    const ra = need(ctx, 'right_ankle');
    // Positive = ankle outside the shoulder line; the back view sees the body mirrored, so both signs flip.
    const left = (la.x - ls.x) * ctx.pxToCm * ctx.mirror;
    const right = (rs.x - ra.x) * ctx.pxToCm * ctx.mirror;
    const annotations: Annotation[] = [];
    for (const [s, a, v, part] of [[ls, la, left, 'L'], [rs, ra, right, 'R']] as const) {
      const foot = { x: s.x, y: a.y };
      annotations.push({ kind: 'line', from: s, to: foot });
      annotations.push({ kind: 'line', from: foot, to: a, label: `${part} ${Math.round(v * 10) / 10} cm` });
    }
    return { values: { foot_to_shoulder_offset_left: left, foot_to_shoulder_offset_right: right }, annotations };
  },
  band: linearBand(0, 3.1, 15.5),
  definition:
    'Horizontal distance from each ankle to the shoulder above it (left = x(left ankle) − x(left shoulder), right = ' +
    'x(right shoulder) − x(right ankle)), in cm; positive = foot outside the shoulder line; signs flip in a back view.',
  normalRange: 'each foot within ±3.1 cm of the shoulder line (score 0 at ±15.5 cm)',
  source: SOURCE,
  feedback: {
    commendation: 'your feet sit right under your shoulders.',
    tooLow: {
      critique: 'your {part} foot stands inside the shoulder line.',
      suggestions: ['Move your {part} foot out until the ankle is under the shoulder.'],
    },
    tooHigh: {
      critique: 'your {part} foot stands outside the shoulder line.',
      suggestions: ['Bring your {part} foot in until the ankle is under the shoulder.'],
    },
  },
};

const kneeAngle: MetricDefinition = {
  name: 'knee_angle',
  label: 'Knee angle',
  views: ['left', 'right'],
  weight: 0.25,
  units: '°',
  keypoints: (ctx) => [[k(ctx.side, 'hip'), k(ctx.side, 'knee'), k(ctx.side, 'ankle')]],
  measure(ctx) {
    const hip = need(ctx, k(ctx.side, 'hip'));
    const knee = need(ctx, k(ctx.side, 'knee'));
    const ankle = need(ctx, k(ctx.side, 'ankle'));
    const value = angle(hip, knee, ankle);
    return {
      values: { knee_angle: value },
      annotations: [{ kind: 'angle', vertex: knee, from: hip, to: ankle, label: `knee ${fmt(value)}` }],
    };
  },
  // SPEC scores the bend (180 − angle): 1 inside [10, 30], linear to 0 at bend 0 and at bend 60.
  band: rangeBand(150, 170, 120, 180),
  definition: 'Interior angle at the knee between hip and ankle of the side facing the camera; 180° = straight leg.',
  normalRange: 'knee bend of 10–30° (angle 150–170°)',
  source: SOURCE,
  feedback: {
    commendation: 'your knees keep a soft, athletic bend.',
    tooLow: {
      critique: 'your knee bends deeper than the stance needs.',
      suggestions: ['Rise a little out of the crouch so the knee bends only 10–30°.', 'Keep your weight over mid-foot.'],
    },
    tooHigh: {
      critique: 'your knee is nearly straight.',
      suggestions: ['Unlock your knees into a slight bend of 10–30°.', 'Sit your hips back a little to load the legs.'],
    },
  },
};

const headTilt: MetricDefinition = {
  name: 'head_tilt',
  label: 'Head tilt',
  views: ['left', 'right'],
  weight: 0.1,
  units: '°',
  keypoints: (ctx) => [[k(ctx.side, 'eye'), k(ctx.side, 'ear')]],
  measure(ctx) {
    const eye = need(ctx, k(ctx.side, 'eye'));
    const ear = need(ctx, k(ctx.side, 'ear'));
    const value = angle(ear, eye, pointAbove(eye)) - 90;
    // The arc is drawn from the horizontal on the ear's side of the eye, so its opening equals |tilt|.
    const dir = ear.x !== eye.x ? Math.sign(ear.x - eye.x) : -ctx.facing;
    const level = { x: eye.x + dir * distance(eye, ear), y: eye.y };
    return {
      values: { head_tilt: value },
      annotations: [{ kind: 'angle', vertex: eye, from: level, to: ear, label: `head ${fmt(value)}` }],
    };
  },
  band: linearBand(0, 10, 30),
  definition:
    'Angle at the eye between the ear and the point straight above the eye, minus 90°: 0 = ear level with the eye, ' +
    'negative = head down.',
  normalRange: 'within ±10° (score 0 at ±30°)',
  source: SOURCE,
  feedback: {
    commendation: 'your head is level.',
    tooLow: {
      critique: 'your head tilts down.',
      suggestions: ['Bring your gaze up to the horizon.', 'Lengthen the back of your neck with the chin level.'],
    },
    tooHigh: {
      critique: 'your head tilts up.',
      suggestions: ['Lower your chin slightly and look straight ahead.'],
    },
  },
};

const armAngle: MetricDefinition = {
  name: 'arm_angle',
  label: 'Arm angle',
  views: ['left', 'right'],
  weight: 0.15,
  units: '°',
  keypoints: (ctx) => [[k(ctx.side, 'shoulder'), k(ctx.side, 'wrist')]],
  measure(ctx) {
    const shoulder = need(ctx, k(ctx.side, 'shoulder'));
    const wrist = need(ctx, k(ctx.side, 'wrist'));
    const value = angleFromVertical(shoulder, wrist);
    const up = pointAbove(shoulder, distance(shoulder, wrist));
    return {
      values: { arm_angle: value },
      annotations: [{ kind: 'angle', vertex: shoulder, from: up, to: wrist, label: `arm ${fmt(value)}` }],
    };
  },
  band: linearBand(90, 10, 60),
  definition: 'Angle at the shoulder between straight up and the wrist; 90° = arm horizontal, 180° = arm hanging.',
  normalRange: '80–100° (score 0 below 30° or above 150°)',
  source: SOURCE,
  feedback: {
    commendation: 'your arm is held at shoulder height, as the stance asks.',
    tooLow: {
      critique: 'your arm is raised above shoulder height (90° is level with the shoulder).',
      suggestions: ['Lower the arm until it is level with the shoulder.'],
    },
    tooHigh: {
      critique: 'your arm is below shoulder height, where this stance holds it (90° is level with the shoulder).',
      suggestions: [
        'If you are holding the stance, raise the arm forward to shoulder height.',
        'Keep the shoulder blade down while the arm is raised.',
      ],
    },
  },
};

const armBentAngle: MetricDefinition = {
  name: 'arm_bent_angle',
  label: 'Elbow bend',
  views: ['left', 'right'],
  weight: 0.1,
  units: '°',
  keypoints: (ctx) => [[k(ctx.side, 'shoulder'), k(ctx.side, 'elbow'), k(ctx.side, 'wrist')]],
  measure(ctx) {
    const shoulder = need(ctx, k(ctx.side, 'shoulder'));
    const elbow = need(ctx, k(ctx.side, 'elbow'));
    const wrist = need(ctx, k(ctx.side, 'wrist'));
    const value = 180 - angle(shoulder, elbow, wrist);
    return {
      values: { arm_bent_angle: value },
      annotations: [{ kind: 'angle', vertex: elbow, from: shoulder, to: wrist, label: `elbow bend ${fmt(value)}` }],
    };
  },
  // SPEC: 1 inside [10, 40], linear to 0 at bend 0 and at bend 80.
  band: rangeBand(10, 40, 0, 80),
  definition: 'Elbow bend = 180° − interior angle at the elbow between shoulder and wrist; 0° = straight arm.',
  normalRange: 'bend of 10–40°',
  source: SOURCE,
  feedback: {
    commendation: 'your elbow keeps a relaxed bend.',
    tooLow: {
      critique: 'your elbow is almost straight.',
      suggestions: ['Soften the elbow into a slight bend instead of locking it.'],
    },
    tooHigh: {
      critique: 'your elbow is bent more than the stance needs.',
      suggestions: ['Reach the arm further out, keeping only a slight elbow bend.'],
    },
  },
};

const legSpread: MetricDefinition = {
  name: 'leg_spread',
  label: 'Leg spread',
  views: ['left', 'right'],
  weight: 0.15,
  units: 'cm',
  keypoints: () => [['left_ankle', 'right_ankle']],
  measure(ctx) {
    const la = need(ctx, 'left_ankle');
    const ra = need(ctx, 'right_ankle');
    const value = Math.abs(ra.x - la.x) * ctx.pxToCm;
    return {
      values: { leg_spread: value },
      annotations: [{ kind: 'line', from: la, to: { x: ra.x, y: la.y }, label: `spread ${Math.round(value)} cm` }],
    };
  },
  band: linearBand(46.6, 15.5, 93.2),
  definition: 'Horizontal distance between the two ankles, |x(right ankle) − x(left ankle)|, in cm.',
  normalRange: '31.1–62.1 cm (feet together scores 0.60; score 0 beyond 139.8 cm)',
  source: SOURCE,
  feedback: {
    commendation: 'your feet are a good distance apart.',
    tooLow: {
      critique: 'your feet are closer together than the stance needs.',
      suggestions: ['Step your front foot further forward for a longer base.'],
    },
    tooHigh: {
      critique: 'your feet are further apart than the stance needs.',
      suggestions: ['Bring your feet closer together for a more compact base.'],
    },
  },
};

const backAngle: MetricDefinition = {
  name: 'back_angle',
  label: 'Back angle',
  views: ['left', 'right'],
  weight: 0.25,
  units: '°',
  // Both body sides when both are confident (SPEC); the side facing the camera alone when the far side is hidden.
  keypoints: (ctx) => [
    ['left_shoulder', 'left_hip', 'right_shoulder', 'right_hip'],
    [k(ctx.side, 'shoulder'), k(ctx.side, 'hip')],
  ],
  measure(ctx) {
    const values: number[] = [];
    const arcs: { side: 'left' | 'right'; vertex: Point; from: Point; to: Point }[] = [];
    for (const side of ['left', 'right'] as const) {
      const shoulder = ctx.point(k(side, 'shoulder'));
      const hip = ctx.point(k(side, 'hip'));
      if (!shoulder || !hip) continue;
      const unsigned = angleFromVertical(hip, shoulder);
      // Negative when the shoulder is behind the hip, i.e. on the side opposite to where the person faces.
      values.push((shoulder.x - hip.x) * ctx.facing < 0 ? -unsigned : unsigned);
      arcs.push({ side, vertex: hip, from: pointAbove(hip, distance(hip, shoulder)), to: shoulder });
    }
    if (values.length === 0) return null;
    const value = values.reduce((s, v) => s + v, 0) / values.length;
    // One label (on the side facing the camera) for the one value; the far side's arc stays unlabelled.
    const annotations: Annotation[] = arcs.map((a) => ({
      kind: 'angle',
      vertex: a.vertex,
      from: a.from,
      to: a.to,
      label: a.side === ctx.side || arcs.length === 1 ? `back ${fmt(value)}` : '',
    }));
    return { values: { back_angle: value }, annotations };
  },
  band: linearBand(0, 30, 45),
  definition:
    'Mean over both body sides of the angle at the hip between straight up and the shoulder; negative when the ' +
    'shoulder is behind the hip (facing right: shoulder x < hip x; facing left: shoulder x > hip x).',
  normalRange: 'within ±30° of vertical (score 0 beyond ±45°)',
  source: SOURCE,
  feedback: {
    commendation: 'your back angle is well controlled.',
    tooLow: {
      critique: 'your trunk leans back.',
      suggestions: ['Bring your chest forward over your hips.', 'Brace your core instead of leaning back.'],
    },
    tooHigh: {
      critique: 'your trunk leans too far forward.',
      suggestions: ['Hinge less at the hips and lift your chest.', 'Keep your shoulders stacked closer over your hips.'],
    },
  },
};

export const stanceProfile: ProfileDefinition = {
  name: 'stance',
  description:
    'The studio stance, a held athletic ready stance: feet under the shoulders from the front or back; knee bend, ' +
    'head tilt, arm held at shoulder height, elbow bend, leg spread and back angle from the side. Not for walking ' +
    'or everyday posture (use upright).',
  metrics: [footToShoulderOffset, kneeAngle, headTilt, armAngle, armBentAngle, legSpread, backAngle],
};
