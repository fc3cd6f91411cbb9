// Profile `upright`: everyday standing or sitting posture, measured with keypoint proxies of clinical landmarks.
// What it is for: a person as they usually stand, walk or sit, against neutral alignment (level shoulders, pelvis
// and head; trunk over the pelvis; head over the shoulders). It tells sitting from standing and its texts follow:
// desk, screen and chair advice goes only to someone seen sitting.
import { angle, distance, elevation, leanFromVertical, midpoint, pointAbove, pointRight, type Point } from './geometry.ts';
import type { KeypointName } from './keypoints.ts';
import { sideKeypoint as k, type Annotation, type MetricContext, type MetricDefinition, type ProfileDefinition } from './profile.ts';
import { linearBand, rangeBand } from './scoring.ts';

const KENDALL =
  'Kendall FP, McCreary EK, Provance PG, Rodgers MM, Romani WA. Muscles: Testing and Function, with Posture and ' +
  'Pain, 5th ed. Lippincott Williams & Wilkins, 2005 (ideal alignment, plumb-line test)';
const YIP =
  'Yip CHT, Chiu TTW, Poon ATK. The relationship between head posture and severity and disability of patients with ' +
  'neck pain. Manual Therapy 2008;13(2):148-154';
const RULA =
  'McAtamney L, Corlett EN. RULA: a survey method for the investigation of work-related upper limb disorders. ' +
  'Applied Ergonomics 1993;24(2):91-99 (trunk posture categories)';
const HFES = 'ANSI/HFES 100-2007, Human Factors Engineering of Computer Workstations (seated reference postures)';
const BAND_NOTE = 'The numeric band is Postura\u2019s choice, widened for the few degrees of 2D keypoint noise.';

function fmt(v: number): string {
  return `${Math.round(v * 10) / 10}°`;
}

function need(ctx: MetricContext, name: KeypointName): Point {
  const p = ctx.point(name);
  if (!p) throw new Error(`upright profile: ${name} used without being declared`);
  return p;
}

/** Midpoint of a left/right pair when both are confident, else the side facing the camera (side views). */
function pairOrNear(ctx: MetricContext, joint: 'shoulder' | 'hip'): Point {
  const l = ctx.point(k('left', joint));
  const r = ctx.point(k('right', joint));
  return l && r ? midpoint(l, r) : need(ctx, k(ctx.side, joint));
}

/** Tilt of a left/right pair against the true horizontal; positive = the person's left point is higher. */
function levelMetric(
  name: string,
  label: string,
  pairs: readonly (readonly [KeypointName, KeypointName])[],
  short: string,
): Pick<MetricDefinition, 'name' | 'label' | 'views' | 'units' | 'keypoints' | 'measure'> {
  return {
    name,
    label,
    views: ['front', 'back'],
    units: '°',
    keypoints: () => pairs.map((p) => [...p]),
    measure(ctx) {
      const pair = pairs.find(([l, r]) => ctx.point(l) && ctx.point(r));
      if (!pair) return null;
      const l = need(ctx, pair[0]);
      const r = need(ctx, pair[1]);
      const value = elevation(r, l);
      // Arc at the point on the image's left, from the true horizontal to the other point.
      const [a, b] = l.x <= r.x ? [l, r] : [r, l];
      const annotation: Annotation = {
        kind: 'angle',
        vertex: a,
        from: pointRight(a, distance(a, b)),
        to: b,
        label: `${short} ${fmt(value)}`,
      };
      return { values: { [name]: value }, annotations: [annotation] };
    },
  };
}

const shoulderTilt: MetricDefinition = {
  ...levelMetric('shoulder_tilt', 'Shoulder tilt', [['left_shoulder', 'right_shoulder']], 'shoulders'),
  weight: 0.3,
  band: linearBand(0, 2, 10),
  definition:
    'Angle of the line through both shoulder keypoints against the true horizontal of the image; positive = the ' +
    'left shoulder is higher.',
  normalRange: 'level: within ±2° (score 0 at ±10°)',
  source: `${KENDALL}: shoulders level in the ideal posterior alignment. ${BAND_NOTE}`,
  proxy: 'Shoulder keypoints (near the humeral heads) stand in for the acromia.',
  feedback: {
    commendation: 'your shoulders are level.',
    tooLow: {
      critique: 'your right shoulder sits higher than the left.',
      suggestions: ['Let the right shoulder drop and relax.', 'Carry bags on alternate shoulders.'],
      suggestionsByMode: { sitting: ['Set both armrests to the same height.'] },
    },
    tooHigh: {
      critique: 'your left shoulder sits higher than the right.',
      suggestions: ['Let the left shoulder drop and relax.', 'Carry bags on alternate shoulders.'],
      suggestionsByMode: { sitting: ['Set both armrests to the same height.'] },
    },
  },
};

const pelvicTilt: MetricDefinition = {
  ...levelMetric('pelvic_tilt', 'Pelvic (hip) tilt', [['left_hip', 'right_hip']], 'pelvis'),
  weight: 0.25,
  band: linearBand(0, 2, 10),
  definition:
    'Angle of the line through both hip keypoints against the true horizontal (lateral pelvic tilt, obliquity); ' +
    'positive = the left hip is higher.',
  normalRange: 'level: within ±2° (score 0 at ±10°)',
  source: `${KENDALL}: pelvis level, both anterior superior iliac spines in one horizontal plane. ${BAND_NOTE}`,
  proxy: 'Hip keypoints (hip joint centres) stand in for the iliac crests / ASIS.',
  feedback: {
    commendation: 'your pelvis is level.',
    tooLow: {
      critique: 'your right hip sits higher than the left.',
      suggestions: ['Share your weight evenly between both sides.'],
      suggestionsByMode: {
        standing: ['Stand on both feet rather than hanging on one hip.'],
        sitting: ['Sit evenly on both sit bones, with nothing in your back pockets.'],
      },
    },
    tooHigh: {
      critique: 'your left hip sits higher than the right.',
      suggestions: ['Share your weight evenly between both sides.'],
      suggestionsByMode: {
        standing: ['Stand on both feet rather than hanging on one hip.'],
        sitting: ['Sit evenly on both sit bones, with nothing in your back pockets.'],
      },
    },
  },
};

const headTilt: MetricDefinition = {
  ...levelMetric(
    'head_tilt',
    'Head tilt',
    [
      ['left_eye', 'right_eye'],
      ['left_ear', 'right_ear'],
    ],
    'head',
  ),
  weight: 0.2,
  band: linearBand(0, 3, 15),
  definition:
    'Angle of the eye line (the ear line when the eyes are not found) against the true horizontal; positive = the ' +
    'head tilts so that the left eye is higher.',
  normalRange: 'level: within ±3° (score 0 at ±15°)',
  source: `${KENDALL}: head held level, in neutral, in the ideal alignment. ${BAND_NOTE}`,
  proxy: 'Eye (or ear) keypoints stand in for the interpupillary / tragal line.',
  feedback: {
    commendation: 'your head is level.',
    tooLow: {
      critique: 'your head tilts toward your left shoulder.',
      suggestions: ['Bring your head back to level, centred between your shoulders.'],
      suggestionsByMode: { sitting: ['Centre your screen in front of you.'] },
    },
    tooHigh: {
      critique: 'your head tilts toward your right shoulder.',
      suggestions: ['Bring your head back to level, centred between your shoulders.'],
      suggestionsByMode: { sitting: ['Centre your screen in front of you.'] },
    },
  },
};

const lateralTrunkLean: MetricDefinition = {
  name: 'lateral_trunk_lean',
  label: 'Lateral trunk lean',
  views: ['front', 'back'],
  weight: 0.25,
  units: '°',
  keypoints: () => [['left_shoulder', 'right_shoulder', 'left_hip', 'right_hip']],
  measure(ctx) {
    const s = midpoint(need(ctx, 'left_shoulder'), need(ctx, 'right_shoulder'));
    const h = midpoint(need(ctx, 'left_hip'), need(ctx, 'right_hip'));
    // The person's left is image right in a front view, image left in a back view.
    const value = leanFromVertical(h, s, ctx.mirror);
    const up = pointAbove(h, distance(h, s));
    return {
      values: { lateral_trunk_lean: value },
      annotations: [{ kind: 'angle', vertex: h, from: up, to: s, label: `trunk ${fmt(value)}` }],
    };
  },
  band: linearBand(0, 2, 10),
  definition:
    'Angle between the true vertical and the line from the hip midpoint to the shoulder midpoint; positive = the ' +
    'trunk leans toward the person\u2019s left.',
  normalRange: 'vertical: within ±2° (score 0 at ±10°)',
  source: `${KENDALL}: in the posterior plumb-line test the line bisects the trunk. ${BAND_NOTE}`,
  proxy: 'Shoulder midpoint stands in for C7 and hip midpoint for the sacrum (S2) on the plumb line.',
  feedback: {
    commendation: 'your trunk is upright over your pelvis.',
    tooLow: {
      critique: 'your trunk leans to your right.',
      suggestions: ['Centre your chest over your pelvis.', 'Keep your weight even on both sides.'],
      suggestionsByMode: { sitting: ['Sit square in the chair rather than leaning on one armrest.'] },
    },
    tooHigh: {
      critique: 'your trunk leans to your left.',
      suggestions: ['Centre your chest over your pelvis.', 'Keep your weight even on both sides.'],
      suggestionsByMode: { sitting: ['Sit square in the chair rather than leaning on one armrest.'] },
    },
  },
};

const craniovertebralAngle: MetricDefinition = {
  name: 'craniovertebral_angle',
  label: 'Craniovertebral angle (forward head)',
  views: ['left', 'right'],
  weight: 0.35,
  units: '°',
  keypoints: (ctx) => [
    [k(ctx.side, 'ear'), 'left_shoulder', 'right_shoulder'],
    [k(ctx.side, 'ear'), k(ctx.side, 'shoulder')],
  ],
  measure(ctx) {
    const ear = need(ctx, k(ctx.side, 'ear'));
    const c7 = pairOrNear(ctx, 'shoulder');
    // Angle above the horizontal pointing forward: 90° = ear straight above C7, smaller = head further forward.
    const forward = (ear.x - c7.x) * ctx.facing;
    const value = (Math.atan2(c7.y - ear.y, forward) * 180) / Math.PI;
    const ahead = { x: c7.x + ctx.facing * distance(c7, ear), y: c7.y };
    return {
      values: { craniovertebral_angle: value },
      annotations: [{ kind: 'angle', vertex: c7, from: ahead, to: ear, label: `CVA ${fmt(value)}` }],
    };
  },
  band: rangeBand(50, Number.POSITIVE_INFINITY, 30, Number.POSITIVE_INFINITY),
  definition:
    'Angle between the horizontal (pointing the way the person faces) and the line from C7 to the tragus; smaller ' +
    '= head carried further forward.',
  normalRange: 'at least about 50° (score 0 at 30°)',
  source:
    `${YIP}: smaller CVA goes with more severe neck pain and disability; about 48–50° is the usual forward-head ` +
    'threshold in the literature that follows it.',
  proxy:
    'Ear keypoint for the tragus, shoulder midpoint for C7. The shoulder keypoint lies in front of and below C7, ' +
    'so the proxy reads differently from a clinical CVA: compare it with itself over time, not with clinical norms.',
  feedback: {
    commendation: 'your head is carried over your shoulders.',
    tooLow: {
      critique: 'your head is carried forward of your shoulders.',
      suggestions: ['Draw your chin gently back (chin tucks), ears over the shoulders.'],
      suggestionsByMode: {
        standing: ['Hold your phone or reading up at eye level rather than dropping your head to it.'],
        sitting: ['Raise your screen to eye level so your head need not reach forward.'],
      },
    },
    // The band has no upper end, so this direction is never reached; it is here because every metric has both.
    tooHigh: { critique: 'your head is held further back than usual.', suggestions: [] },
  },
};

const trunkInclination: MetricDefinition = {
  name: 'trunk_inclination',
  label: 'Trunk inclination',
  views: ['left', 'right'],
  weight: 0.3,
  units: '°',
  keypoints: (ctx) => [
    ['left_shoulder', 'right_shoulder', 'left_hip', 'right_hip'],
    [k(ctx.side, 'shoulder'), k(ctx.side, 'hip')],
  ],
  measure(ctx) {
    const s = pairOrNear(ctx, 'shoulder');
    const h = pairOrNear(ctx, 'hip');
    const value = leanFromVertical(h, s, ctx.facing);
    return {
      values: { trunk_inclination: value },
      annotations: [
        { kind: 'angle', vertex: h, from: pointAbove(h, distance(h, s)), to: s, label: `trunk ${fmt(value)}` },
      ],
    };
  },
  band: rangeBand(-5, 10, -20, 30),
  bandsByMode: { sitting: rangeBand(-20, 10, -40, 30) },
  definition:
    'Angle between the true vertical and the line from the hip midpoint to the shoulder midpoint, seen from the ' +
    'side; positive = leaning forward, negative = leaning back.',
  normalRange: 'standing −5° to 10°; sitting −20° (reclined on a backrest) to 10° (score 0 at 30° forward)',
  source: `${RULA}: upright is the lowest-risk trunk posture, flexion beyond 20° a higher-risk category. ${BAND_NOTE}`,
  proxy: 'Shoulder and hip midpoints stand in for the clinical trunk axis (C7 to greater trochanter).',
  feedback: {
    commendation: 'your trunk is upright.',
    tooLow: {
      critique: 'your trunk leans back.',
      suggestions: ['Stack your shoulders over your hips.'],
      suggestionsByMode: {
        standing: ['Let your hips come back under your shoulders instead of pushing them forward.'],
        sitting: ['Set the backrest more upright, or sit closer to your work.'],
      },
    },
    tooHigh: {
      critique: 'your trunk leans forward.',
      suggestions: ['Lift your chest and stack your shoulders over your hips.'],
      suggestionsByMode: {
        standing: ['Raise work you lean over (a bench, a sink) so you can reach it standing tall.'],
        sitting: ['Sit back into the chair so the backrest supports you.', 'Bring the screen or work closer.'],
      },
    },
  },
};

function jointAngleMetric(
  name: 'hip_angle' | 'knee_angle',
  joints: readonly ['shoulder', 'hip', 'knee'] | readonly ['hip', 'knee', 'ankle'],
  short: string,
): Pick<MetricDefinition, 'name' | 'views' | 'units' | 'keypoints' | 'measure'> {
  return {
    name,
    views: ['left', 'right'],
    units: '°',
    keypoints: (ctx) => [joints.map((j) => k(ctx.side, j))],
    measure(ctx) {
      const [a, b, c] = joints.map((j) => need(ctx, k(ctx.side, j))) as [Point, Point, Point];
      const value = angle(a, b, c);
      return {
        values: { [name]: value },
        annotations: [{ kind: 'angle', vertex: b, from: a, to: c, label: `${short} ${fmt(value)}` }],
      };
    },
  };
}

const hipAngle: MetricDefinition = {
  ...jointAngleMetric('hip_angle', ['shoulder', 'hip', 'knee'], 'hip'),
  label: 'Hip angle',
  weight: 0.15,
  band: rangeBand(165, 180, 135, Number.POSITIVE_INFINITY),
  bandsByMode: { sitting: rangeBand(90, 135, 70, 160) },
  definition: 'Interior angle at the hip between shoulder and knee of the side facing the camera; 180° = straight.',
  normalRange: 'standing 165–180° (hip in neutral); sitting 90–135° (trunk-thigh angle)',
  source: `${KENDALL} (standing: hip joint neutral); ${HFES} (sitting: trunk-thigh angle of at least 90°). ${BAND_NOTE}`,
  proxy: 'Hip keypoint for the greater trochanter, shoulder keypoint for the acromion, knee keypoint for the lateral epicondyle.',
  feedback: {
    commendation: 'your hip angle is in a comfortable range.',
    tooLow: {
      critique: 'your hip is more bent than the normal range.',
      suggestions: ['Open the angle between your trunk and thighs.'],
      suggestionsByMode: {
        standing: ['Stand tall with your hips under your shoulders.'],
        sitting: ['Sit back in the chair, or tilt the seat pan slightly forward.'],
      },
    },
    // Reached only under the sitting band: standing allows the hip fully open.
    tooHigh: {
      critique: 'your hip is more open than the normal range.',
      suggestions: [],
      suggestionsByMode: { sitting: ['Sit back in the seat with your thighs supported.'] },
    },
  },
};

const kneeAngle: MetricDefinition = {
  ...jointAngleMetric('knee_angle', ['hip', 'knee', 'ankle'], 'knee'),
  label: 'Knee angle',
  weight: 0.2,
  band: rangeBand(170, 180, 140, Number.POSITIVE_INFINITY),
  bandsByMode: { sitting: rangeBand(80, 120, 60, 150) },
  definition: 'Interior angle at the knee between hip and ankle of the side facing the camera; 180° = straight.',
  normalRange: 'standing 170–180° (knee in neutral); sitting 80–120°',
  source: `${KENDALL} (standing: knees neither flexed nor hyperextended); ${HFES} (sitting, feet flat). ${BAND_NOTE}`,
  proxy: 'Keypoints for the greater trochanter, lateral femoral epicondyle and lateral malleolus.',
  feedback: {
    commendation: 'your knee angle is in a comfortable range.',
    tooLow: {
      critique: 'your knee is more bent than the normal range.',
      suggestions: [],
      suggestionsByMode: {
        standing: ['Straighten the knees without locking them.'],
        sitting: ['Move your feet forward, flat on the floor.'],
      },
    },
    // Reached only under the sitting band: standing allows the knee fully straight.
    tooHigh: {
      critique: 'your knee is straighter than the normal range.',
      suggestions: [],
      suggestionsByMode: { sitting: ['Bring your feet back under the knees, flat on the floor or a footrest.'] },
    },
  },
};

export const uprightProfile: ProfileDefinition = {
  name: 'upright',
  description:
    'Everyday standing or sitting posture: shoulder, pelvic and head tilt and lateral trunk lean from the front or ' +
    'back; forward head, trunk inclination, hip and knee angles from the side. Keypoint proxies of clinical angles.',
  metrics: [shoulderTilt, pelvicTilt, headTilt, lateralTrunkLean, craniovertebralAngle, trunkInclination, hipAngle, kneeAngle],
  classifyMode(ctx) {
    // Sitting puts the thigh near horizontal: from the side it leans > 45° off vertical; from the front it shortens.
    if (ctx.view === 'left' || ctx.view === 'right') {
      const hip = ctx.point(k(ctx.side, 'hip'));
      const knee = ctx.point(k(ctx.side, 'knee'));
      if (!hip || !knee) return undefined;
      return Math.abs(knee.x - hip.x) > Math.abs(knee.y - hip.y) ? 'sitting' : 'standing';
    }
    const names = ['left_shoulder', 'right_shoulder', 'left_hip', 'right_hip', 'left_knee', 'right_knee'] as const;
    const [ls, rs, lh, rh, lk, rk] = names.map((n) => ctx.point(n));
    if (!ls || !rs || !lh || !rh || !lk || !rk) return undefined;
    const torso = midpoint(lh, rh).y - midpoint(ls, rs).y;
    const thigh = midpoint(lk, rk).y - midpoint(lh, rh).y;
    if (torso <= 0) return undefined;
    return thigh / torso < 0.5 ? 'sitting' : 'standing';
  },
};
