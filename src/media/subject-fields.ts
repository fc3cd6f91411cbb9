// The upload's optional fields about the person assessed (subject_name, subject_birth_date or subject_age,
// subject_notes), checked once for the multipart upload and the presign body alike. Text is NFKC-normalised, so
// look-alike forms (full-width letters, ligatures) are stored as the plain letters they stand for, and trimmed.
import { errors } from '../errors/app-error.ts';
import { ageOn, NO_SUBJECT_DETAILS, type SubjectDetails } from '../analysis/subject-details.ts';

export interface SubjectFieldsInput {
  subject_name?: string;
  subject_birth_date?: string;
  subject_age?: string | number;
  subject_notes?: string;
}

const MAX_NAME = 100;
const MAX_NOTES = 1000;
const MAX_AGE = 120;
/** The far side of the date line is 14 hours ahead of UTC: someone there may give a birth date that is our tomorrow. */
const LATEST_UTC_OFFSET_MS = 14 * 3600 * 1000;
/** Control characters: none in a name; notes may keep line breaks and tabs. PostgreSQL cannot store NUL at all. */
const CONTROL = /\p{Cc}/u;
const CONTROL_BUT_LINES = /(?![\t\n\r])\p{Cc}/u;

/** Checks the fields; throws a 400 naming the first bad one, so nothing is stored. */
export function parseSubjectFields(fields: SubjectFieldsInput, now = new Date()): SubjectDetails {
  const name = parseText('subject_name', fields.subject_name, MAX_NAME, CONTROL, 'Give the name on one line');
  const notes = parseText('subject_notes', fields.subject_notes, MAX_NOTES, CONTROL_BUT_LINES, 'Line breaks and tabs are fine');
  const birthDate = parseBirthDate(fields.subject_birth_date, now);
  const age = parseAge(fields.subject_age);
  if (birthDate !== null && age !== null) {
    throw errors.invalidRequest('Give subject_birth_date or subject_age, not both');
  }
  const subject = { name, birthDate, age, notes };
  return Object.values(subject).every((v) => v === null) ? NO_SUBJECT_DETAILS : subject;
}

function normalised(value: string | undefined): string | null {
  return value?.normalize('NFKC').trim() || null;
}

function parseText(field: string, value: string | undefined, max: number, forbidden: RegExp, hint: string): string | null {
  const text = normalised(value);
  if (text === null) return null;
  const length = [...text].length;
  if (length > max) throw errors.invalidRequest(`Invalid ${field}: ${length} characters. Give at most ${max}`);
  if (forbidden.test(text)) throw errors.invalidRequest(`Invalid ${field}: it holds control characters. ${hint}`);
  return text;
}

/** `YYYY-MM-DD`, a real calendar day, not in the future, at most 120 years ago. */
function parseBirthDate(value: string | undefined, now: Date): string | null {
  const text = normalised(value);
  if (text === null) return null;
  const invalid = () => errors.invalidRequest(`Invalid subject_birth_date: ${text.slice(0, 32)}. Give the date of birth as `
    + `YYYY-MM-DD (e.g. 1984-07-21), not in the future and at most ${MAX_AGE} years ago`);
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!match) throw invalid();
  const [year, month, day] = match.slice(1).map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC rolls 2023-02-30 over into March: a day that does not exist comes back different.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) throw invalid();
  const age = ageOn(text, new Date(now.getTime() + LATEST_UTC_OFFSET_MS));
  if (date.getTime() > now.getTime() + LATEST_UTC_OFFSET_MS || age > MAX_AGE) throw invalid();
  return text;
}

/** Whole years, 1 to 120: a JSON integer or its digits as text. */
function parseAge(value: string | number | undefined): number | null {
  const text = typeof value === 'number' ? String(value) : normalised(value);
  if (text === null) return null;
  const age = /^\d{1,3}$/.test(text) ? Number(text) : Number.NaN;
  if (!(age >= 1 && age <= MAX_AGE)) {
    throw errors.invalidRequest(`Invalid subject_age: ${text.slice(0, 32)}. Give the age in whole years, from 1 to ${MAX_AGE} `
      + '(or subject_birth_date instead)');
  }
  return age;
}
