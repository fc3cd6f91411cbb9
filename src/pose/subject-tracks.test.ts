import { describe, expect, it } from 'vitest';
import type { Box, PersonCandidate } from './pose-types.ts';
import { chooseSubject, expectedBox, isSubjectPose, linkCost, linkPeople, parseSubjectChoice, summarisePeople, type Keyframe } from './subject-tracks.ts';

const person = (x: number, y: number, width = 100, height = 300, score = 0.8): PersonCandidate => ({ box: { x, y, width, height }, score, keypoints: [] });
const kf = (frame: number, people: PersonCandidate[]): Keyframe => ({ frame, frame_index: frame * 2, timestamp: frame / 15, people });

describe('person tracks across keyframes', () => {
  it('links a walker by distance in body heights, with her velocity, and keeps a standing person apart', () => {
    // The walker moves 120 px (0.4 heights) per keyframe; the stander stays; the locator lists them in either order.
    const frames = [0, 1, 2, 3, 4].map((k) => kf(k * 8, k % 2 === 0
      ? [person(1000 - 120 * k, 500), person(200, 100, 80, 250)]
      : [person(200, 100, 80, 250), person(1000 - 120 * k, 500)]));
    const tracks = linkPeople(frames);
    expect(tracks).toHaveLength(2);
    expect([...tracks[1]!.seen.values()].map((p) => p.box.x)).toEqual([1000, 880, 760, 640, 520]);
    expect([...tracks[0]!.seen.values()].every((p) => p.box.x === 200)).toBe(true);
  });

  it('starts a new person when a detection is too far or too different in height', () => {
    const a: Box = { x: 0, y: 0, width: 100, height: 300 };
    expect(linkCost(a, { ...a, x: 140 })).toBeCloseTo(140 / 300, 6);
    expect(linkCost(a, { ...a, x: 200 })).toBe(Infinity);
    expect(linkCost(a, { ...a, height: 150 })).toBe(Infinity);
    const tracks = linkPeople([kf(0, [person(0, 0)]), kf(8, [person(400, 0)])]);
    expect(tracks.map((t) => t.id)).toEqual([1, 2]);
  });

  it('ends a track after too many missed keyframes: someone reappearing later is a new person', () => {
    const frames = [kf(0, [person(0, 0)]), kf(8, []), kf(16, []), kf(24, []), kf(32, [person(0, 0)])];
    expect(linkPeople(frames)).toHaveLength(2);
    const bridged = [kf(0, [person(0, 0)]), kf(8, []), kf(16, []), kf(24, [person(0, 0)])];
    expect(linkPeople(bridged)).toHaveLength(1);
  });

  it('summarises each person in keyframes seen, times and mean box', () => {
    const frames = [kf(0, [person(0, 0)]), kf(8, [person(10, 0)]), kf(16, [])];
    const [p] = summarisePeople(linkPeople(frames), frames);
    expect(p).toEqual({ id: 1, keyframes_seen: 2, keyframes_total: 3, first_seen_s: 0, last_seen_s: 8 / 15, mean_box: { x: 5, y: 0, width: 100, height: 300 } });
  });
});

describe('choosing the subject', () => {
  // Person 1: small, on every keyframe. Person 2: large, on 4 of 5. Person 3: huge, on 1.
  const frames = [0, 1, 2, 3, 4].map((k) => kf(k * 8, [
    person(100, 100, 50, 150),
    ...(k > 0 ? [person(600, 400, 150, 450)] : []),
    ...(k === 2 ? [person(1200, 0, 400, 900)] : []),
  ]));
  const tracks = linkPeople(frames);

  it('auto: among the people visible longest (>= 80 % of the longest), the largest', () => {
    expect(chooseSubject(tracks, frames)).toMatchObject({ id: 2 });
    // Seen on 3 of 5 keyframes only, person 2 no longer competes.
    const shorter = frames.map((f, k) => (k === 1 || k === 2 ? { ...f, people: f.people.filter((p) => p.box.x !== 600) } : f));
    expect(chooseSubject(linkPeople(shorter), shorter)).toMatchObject({ id: 1 });
  });

  it('by id and by a point on the person, at a time', () => {
    expect(chooseSubject(tracks, frames, { kind: 'id', id: 3 }).id).toBe(3);
    expect(chooseSubject(tracks, frames, { kind: 'id', id: 9 }).id).toBeNull();
    expect(chooseSubject(tracks, frames, { kind: 'point', x: 120, y: 200 }).id).toBe(1);
    // At t = 1.1 s the nearest keyframe is frame 16 (1.07 s), where person 3 stands at x 1200-1600.
    expect(chooseSubject(tracks, frames, { kind: 'point', x: 1300, y: 500, t: 1.1 }).id).toBe(3);
    expect(chooseSubject(tracks, frames, { kind: 'point', x: 5000, y: 5000 }).id).toBeNull();
    expect(chooseSubject([], [])).toEqual({ id: null, rule: expect.stringContaining('visible longest') });
  });
});

describe('frames between keyframes', () => {
  const frames = [kf(0, [person(0, 0)]), kf(8, [person(80, 0)]), kf(16, [person(1000, 0)])];
  const [walker, other] = linkPeople(frames);

  it('interpolates the expected box between sightings and expects nobody far from them', () => {
    expect(expectedBox(walker!, 4, 8)).toEqual({ x: 40, y: 0, width: 100, height: 300 });
    expect(expectedBox(walker!, 14, 8)).toEqual(walker!.seen.get(8)!.box);
    expect(expectedBox(walker!, 40, 8)).toBeNull();
  });

  it('refuses a pose that sits on another person, or a fragment far shorter than the subject', () => {
    expect(isSubjectPose({ x: 10, y: 0, width: 100, height: 300 }, 2, walker!, [other!], 8)).toBe(true);
    expect(isSubjectPose({ x: 1000, y: 0, width: 100, height: 300 }, 16, walker!, [other!], 8)).toBe(false);
    expect(isSubjectPose({ x: 10, y: 0, width: 20, height: 60 }, 2, walker!, [other!], 8)).toBe(false);
    // Legs of the other person (the lower part of their box), found from a crop around a lost subject.
    expect(isSubjectPose({ x: 1010, y: 150, width: 80, height: 140 }, 16, walker!, [other!], 8)).toBe(false);
    expect(isSubjectPose({ x: 5000, y: 0, width: 80, height: 100 }, 40, walker!, [other!], 8, { x: 0, y: 0, width: 100, height: 300 })).toBe(false);
  });
});

describe('the text form of a subject choice (CLI --person/--person-at and the upload\'s person field)', () => {
  it('reads a person number, a point and a point at a time', () => {
    expect(parseSubjectChoice('2')).toEqual({ kind: 'id', id: 2 });
    expect(parseSubjectChoice(' 12 ')).toEqual({ kind: 'id', id: 12 });
    expect(parseSubjectChoice('640,360')).toEqual({ kind: 'point', x: 640, y: 360 });
    expect(parseSubjectChoice('640.5, -3 @ 2.5')).toEqual({ kind: 'point', x: 640.5, y: -3, t: 2.5 });
    expect(parseSubjectChoice('auto')).toEqual({ kind: 'auto' });
  });

  it('refuses anything else', () => {
    for (const text of ['', '0', '-1', '1.5', 'two', '1e3', '640,', ',360', '640;360', '1,2,3', '640,360@', '640,360@-1', '640,360@x',
      '9'.repeat(20), `${'9'.repeat(400)},1`]) {
      expect(parseSubjectChoice(text), text).toBeNull();
    }
  });
});
