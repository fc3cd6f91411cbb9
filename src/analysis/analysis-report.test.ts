// The report a clinician hands over: who was assessed, and how they changed since their previous assessment. Unit
// tests build the report's input from real evaluations of a synthetic pose; the end-to-end test runs analyses
// through the job runner (a fake estimator, so each takes a moment) and reads the PDFs it stored.
import { readFile } from 'node:fs/promises';
import { extractText, getDocumentProxy } from 'unpdf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, newUser, type TestUser } from '../../test/helpers/factories.ts';
import { multipart, pathOf, type MultipartPart } from '../../test/helpers/multipart.ts';
import { createTestApp, type TestApp } from '../../test/helpers/test-app.ts';
import { waitForAnalysis } from '../../test/helpers/wait.ts';
import { FakePoseEstimator, fakeStandingPose } from '../pose/pose-estimator.ts';
import { describeScale, getProfile, type ViewFeedback } from '../posture/index.ts';
import { formatValue, round } from '../posture/scoring.ts';
import { formatDate } from '../report/report-text.ts';
import type { Analysis } from './analyses.repository.ts';
import { analysisReportInput, previousAssessmentOf } from './analysis-report.ts';
import { buildDetailedResult, type DetailedResult } from './view-analysis.ts';

/** A standing figure analysed as one photo of `view`, its centimetres scaled by `heightCm`. */
function analysed(view: 'front' | 'left', heightCm: number): DetailedResult {
  const pose = fakeStandingPose(1000, 700, 'cx');
  return buildDetailedResult(
    { fileType: 'image', format: 'jpg', width: 1000, height: 700, fps: 0, totalFrames: 1, frameStep: 1, duration: 0, rotation: 0 },
    [{ frame_index: 0, timestamp: 0, keypoints: pose.keypoints, box: pose.box, score: 0.9 }],
    { model: 'cx', view, profile: 'stance', subjectHeightCm: heightCm },
  );
}

function analysis(overrides: Partial<Analysis> = {}): Analysis {
  return {
    id: 'a2', userId: 'u1', sessionId: 'visit-2', modelName: 'cx', profile: 'stance', status: 'in_progress', error: null,
    progress: 0, attempts: 1, result: null, overallScore: null, subjectHeightCm: 180, subjectChoice: null,
    subject: { name: 'Ada Lovelace', birthDate: '1985-12-10', age: null, notes: 'Desk worker.' },
    createdAt: new Date('2025-03-14T09:00:00Z'), startedAt: null, finishedAt: null,
    ...overrides,
  };
}

const NO_FEEDBACK: ViewFeedback = {};

/** The change in cm between two values as the report prints them (to 0.1 cm), signed. */
function printedChange(before: number, now: number): string {
  const delta = round(round(now, 1) - round(before, 1), 1);
  return `${delta > 0 ? '+' : ''}${formatValue(delta, 'cm')}`;
}

describe('analysisReportInput', () => {
  it('names the person assessed with their age at the assessment, apart from the account', () => {
    const input = analysisReportInput({
      analysis: analysis(), user: { name: 'Dr Grace Hopper', email: 'clinic@example.com' }, summary: 'Fine.', overallScore: 83,
      views: [{ detailed: analysed('front', 180), feedback: NO_FEEDBACK, overlay: undefined }], previous: null, finishedAt: new Date(),
    });
    expect(input.subject).toEqual({ name: 'Ada Lovelace', birthDate: '1985-12-10', age: 39, heightCm: 180, notes: 'Desk worker.' });
    expect(input.user).toEqual({ name: 'Dr Grace Hopper', email: 'clinic@example.com' });
    expect(input.previous).toBeUndefined();
    expect(input.views[0]!.comparison).toBeUndefined();
  });

  it("gives each measure its value with units, the profile's normal range and source, and the cm scale once", () => {
    const front = analysed('front', 180);
    const left = analysed('left', 180);
    const input = analysisReportInput({
      analysis: analysis(), user: { name: '', email: '' }, summary: '', overallScore: 63, previous: null, finishedAt: new Date(),
      views: [{ detailed: front, feedback: NO_FEEDBACK, overlay: undefined }, { detailed: left, feedback: NO_FEEDBACK, overlay: undefined }],
    });
    const [frontView, leftView] = input.views;
    const offset = getProfile('stance').metrics.find((m) => m.name === 'foot_to_shoulder_offset')!;
    expect(frontView!.metrics).toEqual([{
      name: 'foot_to_shoulder_offset', label: offset.label, normalRange: offset.normalRange, source: offset.source,
      percent: front.aggregated_results.raw_scores_percent.foot_to_shoulder_offset,
      measured: `left ${formatValue(front.aggregated_results.measurements.foot_to_shoulder_offset_left!, 'cm')}, `
        + `right ${formatValue(front.aggregated_results.measurements.foot_to_shoulder_offset_right!, 'cm')}`,
    }]);
    expect(frontView!.scale).toBe(describeScale(front.scale));
    expect(leftView!.metrics.find((m) => m.name === 'knee_angle')?.measured).toBe('180°');
    expect(leftView!.scale).toBe(describeScale(left.scale)); // leg spread is in cm
  });

  it('compares each view with the same view of the previous assessment: score, measures, change and its direction', () => {
    const before = analysed('front', 160);
    const now = analysed('front', 190);
    const previous = analysis({
      id: 'a1', sessionId: 'visit-1', status: 'completed', overallScore: 88, createdAt: new Date('2025-02-01T10:00:00Z'),
      result: { views: { front: {
        score: before.aggregated_results.score, measurements: before.aggregated_results.measurements,
        raw_scores_percent: before.aggregated_results.raw_scores_percent,
      } } },
    });
    const input = analysisReportInput({
      analysis: analysis(), user: { name: '', email: '' }, summary: '', overallScore: 80, previous, finishedAt: new Date(),
      views: [{ detailed: now, feedback: NO_FEEDBACK, overlay: undefined }, { detailed: analysed('left', 190), feedback: NO_FEEDBACK, overlay: undefined }],
    });
    expect(input.previous).toEqual({ created_at: previous.createdAt, session_id: 'visit-1', overall_score: 88 });
    const [front, left] = input.views;
    const was = before.aggregated_results.measurements.foot_to_shoulder_offset_left!;
    const is = now.aggregated_results.measurements.foot_to_shoulder_offset_left!;
    expect(is).toBeLessThan(was); // taller person, same pixels: further off in cm, and a lower sub-score
    expect(front!.comparison).toEqual({
      previousScore: before.aggregated_results.overall_score,
      rows: ['left', 'right'].map((part) => ({
        label: `Foot to shoulder offset (${part})`, previous: formatValue(was, 'cm'), current: formatValue(is, 'cm'),
        change: printedChange(was, is), trend: 'worse',
      })),
    });
    // The previous assessment had no left view: nothing to compare it with.
    expect(left!.comparison).toBeUndefined();
  });

  it('reads a stored result back checked: anything of another shape is left out, not trusted', () => {
    const previous = previousAssessmentOf(analysis({ overallScore: 70, result: { views: {
      front: { score: { overall_score: 'high' }, measurements: { a: 'NaN', b: 3, c: null }, raw_scores_percent: [1, 2] },
      left: 5,
      back: { score: { overall_score: 61 } },
    } } }));
    expect(previous.views).toEqual({
      front: { score: null, measurements: { b: 3 }, percents: {} },
      back: { score: 61, measurements: {}, percents: {} },
    });
    expect(previousAssessmentOf(analysis({ result: null })).views).toEqual({});
  });
});

let t: TestApp;
let clinician: TestUser;
let jpg: Buffer;

beforeAll(async () => {
  t = await createTestApp({}, { estimator: new FakePoseEstimator() });
  clinician = await newUser(t.app, { name: 'Dr Grace Hopper' });
  jpg = await readFile('test/fixtures/coco_000000000785.jpg');
}, 60_000);
afterAll(async () => {
  await t.close();
});

async function assess(sessionId: string, fields: Record<string, string>): Promise<Record<string, unknown>> {
  const parts: MultipartPart[] = [
    { name: 'session_id', value: sessionId }, { name: 'front', filename: 'front.jpg', content: jpg },
    ...Object.entries(fields).map(([name, value]) => ({ name, value })),
  ];
  const { payload, headers } = multipart(parts);
  const upload = await t.app.inject({ method: 'POST', url: '/api/video/upload', payload, headers: { ...headers, ...bearer(clinician.token) } });
  expect(upload.statusCode).toBe(201);
  return waitForAnalysis(t.app, clinician.token, upload.json().analysis_id as string, ['completed', 'failed'], 60_000);
}

async function reportText(done: Record<string, unknown>): Promise<string> {
  const pdf = (await t.app.inject({ url: pathOf(done.report_url as string) })).rawPayload;
  const { text } = await extractText(await getDocumentProxy(new Uint8Array(pdf)), { mergePages: true });
  return text.replace(/\s+/g, ' ');
}

interface StoredView {
  score: { overall_score: number };
  measurements: Record<string, number>;
}
const frontOf = (done: Record<string, unknown>) => (JSON.parse(done.posture_result as string) as Record<string, StoredView>).front!;

describe('the report of a named person, end to end', () => {
  it("compares a second assessment of the same person with the first, and keeps doing so through a retry", async () => {
    const first = await assess('visit-1', { subject_name: 'Ada Lovelace', subject_age: '39', height_cm: '160' });
    expect(first).toMatchObject({ status: 'completed', subject: { name: 'Ada Lovelace', birth_date: null, age: 39, height_cm: 160, notes: null } });
    const firstText = await reportText(first);
    expect(firstText).toContain('Ada Lovelace Age 39 · Height 160 cm');
    expect(firstText).toContain('Prepared by account: Dr Grace Hopper');
    expect(firstText).not.toContain('previous assessment');

    // The same person, typed differently, measured at another height: the cm values and the score change.
    const second = await assess('visit-2', { subject_name: 'ADA  lovelace', subject_birth_date: '1985-12-10', height_cm: '190', subject_notes: 'Six weeks on.' });
    expect(second).toMatchObject({ status: 'completed', subject: { name: 'ADA  lovelace', birth_date: '1985-12-10', height_cm: 190, notes: 'Six weeks on.' } });
    const age = (second.subject as { age: number }).age;
    expect(age).toBeGreaterThanOrEqual(39);

    const expectComparison = (text: string) => {
      const [was, is] = [frontOf(first), frontOf(second)];
      const change = is.score.overall_score - was.score.overall_score;
      expect(change).not.toBe(0);
      expect(text).toContain(`Compared with the previous assessment of ${formatDate(first.created_at)} (session visit-1): `
        + `overall ${first.overall_score} then, ${second.overall_score} now`);
      expect(text).toContain(`View score (0 to 100) ${was.score.overall_score} ${is.score.overall_score} ${change > 0 ? '+' : ''}${change}`);
      const [before, now] = [was.measurements.foot_to_shoulder_offset_left!, is.measurements.foot_to_shoulder_offset_left!];
      expect(text).toContain(`Foot to shoulder offset (left) ${formatValue(before, 'cm')} ${formatValue(now, 'cm')} `
        + `${printedChange(before, now)}`);
    };
    const secondText = await reportText(second);
    expect(secondText).toContain(`ADA lovelace Age ${age} (born 1985-12-10) · Height 190 cm Notes: Six weeks on.`);
    expectComparison(secondText);

    const retry = await t.app.inject({ method: 'POST', url: `/api/analysis/retry/${second.id as string}`, headers: bearer(clinician.token) });
    expect(retry.statusCode).toBe(200);
    const again = await waitForAnalysis(t.app, clinician.token, second.id as string, ['completed', 'failed'], 60_000);
    expect(again).toMatchObject({ status: 'completed', subject: second.subject });
    expectComparison(await reportText(again));

    const unnamed = await assess('visit-3', {});
    expect(unnamed.subject).toEqual({ name: null, birth_date: null, age: null, height_cm: null, notes: null });
    const unnamedText = await reportText(unnamed);
    expect(unnamedText).toContain('Person assessed: name not given');
    expect(unnamedText).not.toContain('previous assessment');
  }, 120_000);
});
