import { describe, expect, it } from 'vitest';
import type { MetricFeedback } from '../../web/src/api-types.ts';
import { compareFeedback } from '../../web/src/studio/compare-model.ts';
import { groupBySubject, lastChange, type HistoryEntry } from '../../web/src/studio/history-model.ts';
import { formatBytes, newSessionId, scoreBand } from '../../web/src/studio/studio-format.ts';

const entry = (id: string, subjectName: string | null, createdAt: string, overallScore: number | null): HistoryEntry => ({
  id, subjectName, createdAt, status: overallScore === null ? 'failed' : 'completed', overallScore,
});

describe('the history grouped by person', () => {
  it('groups names that differ only in case and spaces, newest first, with the trend oldest first', () => {
    const groups = groupBySubject([
      entry('a1', 'Ada  Lovelace', '2026-01-01T10:00:00Z', 60),
      entry('b1', 'Bob', '2026-01-03T10:00:00Z', 80),
      entry('a2', 'ada lovelace', '2026-01-02T10:00:00Z', null),
      entry('a3', ' Ada Lovelace ', '2026-01-04T10:00:00Z', 75),
      entry('n1', null, '2026-01-05T10:00:00Z', 50),
    ]);
    expect(groups.map((g) => g.name)).toEqual(['Ada Lovelace', 'Bob', null]);
    expect(groups[0]!.entries.map((e) => e.id)).toEqual(['a3', 'a2', 'a1']);
    expect(groups[0]!.trend).toEqual([60, 75]);
    expect(lastChange(groups[0]!.trend)).toBe(15);
    expect(lastChange(groups[1]!.trend)).toBeNull();
  });
});

describe('two assessments compared', () => {
  const metric = (value: number, score: number): MetricFeedback => ({
    label: 'Knee angle', measurement: 'knee_angle', value, units: '°', target: '150 to 170°', score_percent: score, suggestions: [],
  });

  it('pairs the measures of the views both have, with the change from earlier to later', () => {
    const views = compareFeedback(
      { left: { knee_angle: metric(140, 60) }, front: {} },
      { left: { knee_angle: metric(152.25, 100), head_tilt: { ...metric(4, 100), label: 'Head tilt' } }, back: {} },
    );
    expect(views.map((v) => v.view)).toEqual(['left']);
    const [knee, head] = views[0]!.measures;
    expect(knee).toMatchObject({ metric: 'knee_angle', change: 12.3, scoreChange: 40 });
    expect(head).toMatchObject({ metric: 'head_tilt', label: 'Head tilt', before: null, change: null });
  });
});

describe('studio formatting', () => {
  it('bands scores as the feedback does: good from 90, poor below 50', () => {
    expect([100, 90, 89, 50, 49, 0].map(scoreBand)).toEqual(['good', 'good', 'fair', 'fair', 'poor', 'poor']);
  });

  it('makes session ids the upload accepts', () => {
    expect(newSessionId(Date.parse('2026-01-01T00:00:00Z'), () => 0.5)).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(newSessionId(1, () => 0)).not.toBe(newSessionId(2, () => 0));
  });

  it('prints sizes in B, KB and MB', () => {
    expect([512, 2048, 3.5 * 1024 * 1024].map(formatBytes)).toEqual(['512 B', '2.0 KB', '3.5 MB']);
  });
});
