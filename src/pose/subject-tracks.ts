// Who is in a video and which of them is the subject. Everybody is located at fixed keyframes (every K-th analysed
// frame); detections are linked into person tracks across keyframes; one track is the subject, chosen by a fixed
// rule or by the user. Every frame's pose is then checked against these tracks, so a frame never reports someone
// else. Pure functions over plain data: the same keyframes always give the same people and the same subject.
import { prominence } from './person-geometry.ts';
import type { Box, PersonCandidate } from './pose-types.ts';

/** Everybody the locator found on one keyframe. `frame` is the analysed-frame ordinal (0, K, 2K, ...). */
export interface Keyframe {
  frame: number;
  frame_index: number;
  timestamp: number;
  people: readonly PersonCandidate[];
}

/** One person followed across keyframes. */
export interface PersonTrack {
  /** 1-based, in order of first appearance (then left to right). */
  id: number;
  /** Keyframe ordinal (`Keyframe.frame`) → the detection there. */
  seen: Map<number, PersonCandidate>;
}

/** What `--list-people` prints and the result reports about each person. */
export interface PersonSummary {
  id: number;
  /** Keyframes this person was found on, and of how many. */
  keyframes_seen: number;
  keyframes_total: number;
  first_seen_s: number;
  last_seen_s: number;
  /** Mean box over the keyframes seen, in original pixels. */
  mean_box: Box;
}

export type SubjectChoice =
  | { kind: 'auto' }
  /** A person id from `--list-people`. */
  | { kind: 'id'; id: number }
  /** A point on the person (original pixels), at a time (s) or at the first keyframe anyone is on. */
  | { kind: 'point'; x: number; y: number; t?: number };

export interface SubjectDecision {
  /** null: nobody was found on any keyframe (or the chosen person does not exist). */
  id: number | null;
  rule: string;
}

/**
 * A detection continues a track when its centre lies within this many body heights of where the track was expected
 * (constant velocity from its last two sightings) and its height is within a factor 1.5: height, unlike width,
 * barely changes while a person walks, turns or raises an arm. Half a body height covers a brisk walk per 0.5 s.
 */
export const LINK_MAX_DISTANCE = 0.5;
const LINK_MAX_HEIGHT_RATIO = 1.5;
/** A track not found on this many keyframes in a row ends; someone appearing later is a new person. */
export const MAX_MISSED_KEYFRAMES = 2;
/** Auto rule: people seen on at least this share of the longest-seen person's keyframes compete on size. */
export const VISIBLE_LONGEST_SHARE = 0.8;
/** A frame's pose lying this much inside another person's expected box, and more than in the subject's, is theirs. */
export const OTHER_PERSON_MIN_COVER = 0.5;
/** A pose less than this share of the subject's expected height is a fragment (a hand, a head), not the subject. */
export const MIN_HEIGHT_SHARE = 0.4;

function lastTwo(track: PersonTrack): Array<[number, Box]> {
  return [...track.seen.entries()].slice(-2).map(([f, p]) => [f, p.box]);
}

/** Where the track's box should be at keyframe `frame`: constant velocity from its last two sightings. */
function predictBox(track: PersonTrack, frame: number): Box {
  const [a, b] = lastTwo(track);
  if (!b) return a![1];
  const [fa, ba] = a!;
  const [fb, bb] = b;
  const r = (frame - fb) / Math.max(1, fb - fa);
  return { x: bb.x + (bb.x - ba.x) * r, y: bb.y + (bb.y - ba.y) * r, width: bb.width, height: bb.height };
}

/** How far `b` lies from where `predicted` says, in body heights, plus the height change; Infinity if unlinkable. */
export function linkCost(predicted: Box, b: Box): number {
  const h = (predicted.height + b.height) / 2;
  const ratio = Math.max(predicted.height, b.height) / Math.max(1e-9, Math.min(predicted.height, b.height));
  if (h <= 0 || ratio > LINK_MAX_HEIGHT_RATIO) return Infinity;
  const d = Math.hypot(predicted.x + predicted.width / 2 - (b.x + b.width / 2), predicted.y + predicted.height / 2 - (b.y + b.height / 2)) / h;
  return d <= LINK_MAX_DISTANCE ? d + Math.log(ratio) : Infinity;
}

/**
 * Links keyframe detections into tracks: greedy by distance to each live track's predicted box, nearest pair first
 * (ties: lower track id, then detection order), so the result is a pure function of the keyframes.
 */
export function linkPeople(keyframes: readonly Keyframe[]): PersonTrack[] {
  const tracks: PersonTrack[] = [];
  const lastSeen = new Map<number, number>();
  keyframes.forEach((kf, k) => {
    const live = tracks.filter((t) => k - lastSeen.get(t.id)! <= MAX_MISSED_KEYFRAMES + 1);
    const pairs: Array<{ t: PersonTrack; d: number; cost: number }> = [];
    for (const t of live) {
      const predicted = predictBox(t, kf.frame);
      kf.people.forEach((p, d) => {
        const cost = linkCost(predicted, p.box);
        if (Number.isFinite(cost)) pairs.push({ t, d, cost });
      });
    }
    pairs.sort((a, b) => a.cost - b.cost || a.t.id - b.t.id || a.d - b.d);
    const usedTracks = new Set<number>();
    const usedPeople = new Set<number>();
    for (const { t, d } of pairs) {
      if (usedTracks.has(t.id) || usedPeople.has(d)) continue;
      usedTracks.add(t.id);
      usedPeople.add(d);
      t.seen.set(kf.frame, kf.people[d]!);
      lastSeen.set(t.id, k);
    }
    const fresh = kf.people.map((p, d) => ({ p, d })).filter(({ d }) => !usedPeople.has(d));
    fresh.sort((a, b) => a.p.box.x - b.p.box.x || a.d - b.d);
    for (const { p } of fresh) {
      const t: PersonTrack = { id: tracks.length + 1, seen: new Map([[kf.frame, p]]) };
      tracks.push(t);
      lastSeen.set(t.id, k);
    }
  });
  return tracks;
}

export function summarisePeople(tracks: readonly PersonTrack[], keyframes: readonly Keyframe[]): PersonSummary[] {
  const timeOf = new Map(keyframes.map((k) => [k.frame, k.timestamp]));
  return tracks.map((t) => {
    const boxes = [...t.seen.values()].map((p) => p.box);
    const mean = (f: (b: Box) => number): number => Math.round((boxes.reduce((s, b) => s + f(b), 0) / boxes.length) * 10) / 10;
    const frames = [...t.seen.keys()];
    return {
      id: t.id,
      keyframes_seen: t.seen.size,
      keyframes_total: keyframes.length,
      first_seen_s: timeOf.get(frames[0]!) ?? 0,
      last_seen_s: timeOf.get(frames[frames.length - 1]!) ?? 0,
      mean_box: { x: mean((b) => b.x), y: mean((b) => b.y), width: mean((b) => b.width), height: mean((b) => b.height) },
    };
  });
}

function meanProminence(t: PersonTrack): number {
  let sum = 0;
  for (const p of t.seen.values()) sum += prominence(p.box, p.score);
  return sum / t.seen.size;
}

const contains = (b: Box, x: number, y: number): boolean => x >= b.x && x <= b.x + b.width && y >= b.y && y <= b.y + b.height;

/**
 * The subject. Auto: the person visible longest (seen on at least 80 % as many keyframes as the longest-seen
 * person), and among those the largest (mean box area × confidence², the locator's prominence); ties: lower id.
 * By id: that person. By point: the person whose box holds the point on the keyframe nearest the time given (or
 * the first keyframe with anybody), the nearest box centre when several do.
 */
export function chooseSubject(tracks: readonly PersonTrack[], keyframes: readonly Keyframe[], choice: SubjectChoice = { kind: 'auto' }): SubjectDecision {
  if (choice.kind === 'id') {
    const found = tracks.some((t) => t.id === choice.id);
    return { id: found ? choice.id : null, rule: `person ${choice.id} chosen by the user` };
  }
  if (choice.kind === 'point') {
    const withPeople = keyframes.filter((k) => k.people.length > 0);
    const t = choice.t;
    const kf = t === undefined ? withPeople[0]
      : withPeople.reduce<Keyframe | undefined>((best, k) => (!best || Math.abs(k.timestamp - t) < Math.abs(best.timestamp - t) ? k : best), undefined);
    const rule = `the person at (${choice.x}, ${choice.y})${t === undefined ? '' : ` at ${t} s`}, chosen by the user`;
    if (!kf) return { id: null, rule };
    let best: { id: number; d: number } | null = null;
    for (const track of tracks) {
      const p = track.seen.get(kf.frame);
      if (!p || !contains(p.box, choice.x, choice.y)) continue;
      const d = Math.hypot(p.box.x + p.box.width / 2 - choice.x, p.box.y + p.box.height / 2 - choice.y);
      if (!best || d < best.d) best = { id: track.id, d };
    }
    return { id: best?.id ?? null, rule };
  }
  const rule = 'auto: the person visible longest, then the largest (mean box area × confidence²)';
  const longest = Math.max(0, ...tracks.map((t) => t.seen.size));
  let best: PersonTrack | null = null;
  for (const t of tracks) {
    if (t.seen.size < VISIBLE_LONGEST_SHARE * longest) continue;
    if (!best || meanProminence(t) > meanProminence(best)) best = t;
  }
  return { id: best?.id ?? null, rule };
}

/**
 * Where the track's person should be on analysed frame `frame`: interpolated between the keyframes seen either
 * side (when no more than MAX_MISSED_KEYFRAMES lie between them), or the nearest sighting within one keyframe
 * interval; null when the person is not expected there.
 */
export function expectedBox(track: PersonTrack, frame: number, interval: number): Box | null {
  let before: [number, Box] | undefined;
  let after: [number, Box] | undefined;
  for (const [f, p] of track.seen) {
    if (f <= frame) before = [f, p.box];
    else if (!after) after = [f, p.box];
  }
  if (before && after && after[0] - before[0] <= (MAX_MISSED_KEYFRAMES + 1) * interval) {
    const r = (frame - before[0]) / (after[0] - before[0]);
    const lerp = (a: number, b: number): number => a + (b - a) * r;
    const [, a] = before;
    const [, b] = after;
    return { x: lerp(a.x, b.x), y: lerp(a.y, b.y), width: lerp(a.width, b.width), height: lerp(a.height, b.height) };
  }
  if (before && frame - before[0] <= interval) return before[1];
  if (after && after[0] - frame <= interval) return after[1];
  return null;
}

/** Share of `box` that lies inside `other`. */
function cover(box: Box, other: Box): number {
  const w = Math.max(0, Math.min(box.x + box.width, other.x + other.width) - Math.max(box.x, other.x));
  const h = Math.max(0, Math.min(box.y + box.height, other.y + other.height) - Math.max(box.y, other.y));
  return box.width * box.height > 0 ? (w * h) / (box.width * box.height) : 0;
}

/**
 * Whether a pose found on `frame` is the subject's. It is not when its box lies mostly inside another person's
 * expected box and less inside the subject's own (the track slid onto someone, whole or in part), or when it is far
 * shorter than the subject is expected to be, or than the box its crop came from (`from`): a fragment, such as
 * the legs of someone passing by, is not the subject.
 */
export function isSubjectPose(box: Box, frame: number, subject: PersonTrack, others: readonly PersonTrack[], interval: number, from?: Box): boolean {
  const own = expectedBox(subject, frame, interval);
  const reference = Math.max(own?.height ?? 0, from?.height ?? 0);
  if (box.height < MIN_HEIGHT_SHARE * reference) return false;
  const ownCover = own ? cover(box, own) : 0;
  for (const t of others) {
    const b = expectedBox(t, frame, interval);
    if (!b) continue;
    const other = cover(box, b);
    if (other >= OTHER_PERSON_MIN_COVER && other > ownCover) return false;
  }
  return true;
}

const NUMBER = String.raw`-?\d+(?:\.\d+)?`;
const POINT = new RegExp(String.raw`^(${NUMBER})\s*,\s*(${NUMBER})(?:\s*@\s*(\d+(?:\.\d+)?))?$`);

/**
 * The one text form of a subject choice, shared by the CLI (`--person`, `--person-at`) and the upload's `person`
 * field: `N` (a person number as `--list-people` prints them, 1 or more), `X,Y` or `X,Y@T` (a point on the person
 * in pixels of the original picture, at T seconds: a click on a paused video), or `auto`. null when it is none of these.
 */
export function parseSubjectChoice(text: string): SubjectChoice | null {
  const s = text.trim();
  if (s === 'auto') return { kind: 'auto' };
  if (/^\d+$/.test(s)) {
    const id = Number(s);
    return Number.isSafeInteger(id) && id >= 1 ? { kind: 'id', id } : null;
  }
  const m = POINT.exec(s);
  if (!m) return null;
  const [x, y, t] = [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
  if (![x, y, t].every(Number.isFinite)) return null;
  return m[3] === undefined ? { kind: 'point', x, y } : { kind: 'point', x, y, t };
}
