import { errors } from '../errors/app-error.ts';
import type { SessionSummary, SessionTotals } from './live-session.ts';

/** A gap longer than this between two events is the camera off or the app asleep, not time spent in a posture. */
export const MAX_EVENT_GAP_SECONDS = 5;

export interface EventSample {
  label: string | null;
  angle: number | null;
  timestamp: Date;
}

/**
 * What the summary needs from a session's events, computed by the database (live-sessions.repository.ts) or, for
 * tests and small lists, by `aggregateSamples`: never the events themselves.
 */
export interface EventAggregate {
  eventCount: number;
  /** Mean over events with an angle, unrounded; null when none has one. */
  averageAngle: number | null;
  /** Sum of each event's capped gap to the next one, in all and per label; the last event is not in these. */
  gapSeconds: SessionTotals;
  /** Median of those gaps (0 with fewer than two events): the time the last event stands for. */
  medianGap: number;
  /** The last event's label, lower case. */
  lastLabel: string | null;
}

export type GivenTotals = Partial<Record<keyof SessionTotals, number | null>>;

const PARTS = ['goodSeconds', 'mildSeconds', 'badSeconds'] as const;

/**
 * Time per label from the events: each event stands for the time until the next one (capped at
 * MAX_EVENT_GAP_SECONDS); the last one for the session's median interval. Events without a Good/Mild/Bad label
 * (e.g. too uncertain to label) count toward the total only.
 */
export function totalsFromEvents(samples: readonly EventSample[]): SessionTotals {
  return totalsFromAggregate(aggregateSamples(samples));
}

export function totalsFromAggregate(aggregate: EventAggregate): SessionTotals {
  const exact = { ...aggregate.gapSeconds };
  if (aggregate.eventCount > 0) {
    exact.totalSeconds += aggregate.medianGap;
    const part = partOf(aggregate.lastLabel);
    if (part) exact[part] += aggregate.medianGap;
  }
  return roundTotals(exact);
}

/** The aggregate of samples in memory; the reference the repository's SQL must agree with. */
export function aggregateSamples(samples: readonly EventSample[]): EventAggregate {
  const sorted = [...samples].sort((a, b) => a.timestamp.getTime() - b.timestamp.getTime());
  const gaps = sorted.slice(1).map((s, i) =>
    Math.min((s.timestamp.getTime() - sorted[i]!.timestamp.getTime()) / 1000, MAX_EVENT_GAP_SECONDS));
  const gapSeconds = { totalSeconds: 0, goodSeconds: 0, mildSeconds: 0, badSeconds: 0 };
  gaps.forEach((seconds, i) => {
    gapSeconds.totalSeconds += seconds;
    const part = partOf(sorted[i]!.label);
    if (part) gapSeconds[part] += seconds;
  });
  const angles = samples.map((s) => s.angle).filter((a): a is number => a !== null);
  return {
    eventCount: samples.length,
    averageAngle: angles.length > 0 ? angles.reduce((sum, a) => sum + a, 0) / angles.length : null,
    gapSeconds,
    medianGap: median(gaps),
    lastLabel: sorted.at(-1)?.label?.toLowerCase() ?? null,
  };
}

/** The client's totals must be ≥ 0 (schema) and its parts may not add up to more than its total. */
export function assertConsistentTotals(given: GivenTotals): void {
  const total = given.totalSeconds;
  if (total === undefined || total === null) return;
  const parts = PARTS.reduce((sum, key) => sum + (given[key] ?? 0), 0);
  if (parts > total + 1e-9) {
    throw errors.invalidRequest('good_seconds + mild_seconds + bad_seconds must not exceed total_seconds');
  }
}

/**
 * Client totals win; the omitted ones come from the events, fitted so parts never exceed the total: a computed
 * total grows to hold given parts, and computed parts shrink (proportionally) to fit a given total.
 */
export function resolveTotals(given: GivenTotals, computed: SessionTotals): SessionTotals {
  assertConsistentTotals(given);
  const givenParts = PARTS.filter((key) => given[key] !== undefined && given[key] !== null);
  const omittedParts = PARTS.filter((key) => !givenParts.includes(key));
  const out: SessionTotals = { ...computed };
  for (const key of givenParts) out[key] = given[key]!;
  const givenSum = givenParts.reduce((sum, key) => sum + given[key]!, 0);
  const omittedSum = omittedParts.reduce((sum, key) => sum + computed[key], 0);
  if (given.totalSeconds !== undefined && given.totalSeconds !== null) {
    out.totalSeconds = given.totalSeconds;
    const room = Math.max(0, given.totalSeconds - givenSum);
    if (omittedSum > room) for (const key of omittedParts) out[key] = computed[key] * (room / omittedSum);
  } else {
    out.totalSeconds = Math.max(computed.totalSeconds, givenSum + omittedSum);
  }
  return roundTotals(out);
}

export function summarize(totals: SessionTotals, aggregate: EventAggregate): SessionSummary {
  return {
    ...totals,
    eventCount: aggregate.eventCount,
    averageAngle: aggregate.averageAngle === null ? null : round2(aggregate.averageAngle),
  };
}

function partOf(label: string | null): (typeof PARTS)[number] | null {
  switch (label?.toLowerCase()) {
    case 'good': return 'goodSeconds';
    case 'mild': return 'mildSeconds';
    case 'bad': return 'badSeconds';
    default: return null;
  }
}

/** Parts round down and the total to nearest, so rounding never makes the parts add up to more than the total. */
function roundTotals(t: SessionTotals): SessionTotals {
  return {
    totalSeconds: round2(t.totalSeconds),
    goodSeconds: floor2(t.goodSeconds),
    mildSeconds: floor2(t.mildSeconds),
    badSeconds: floor2(t.badSeconds),
  };
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round2 = (v: number) => Math.round(v * 100) / 100;
const floor2 = (v: number) => Math.floor(v * 100 + 1e-9) / 100;
