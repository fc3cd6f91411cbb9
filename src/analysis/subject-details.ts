// The person assessed, as given at upload: separate from the account, since a clinician's one account assesses
// many people. Their name is also how an analysis finds the same person's previous assessment.

/** What the upload said about the person assessed; each field is null when not given. */
export interface SubjectDetails {
  name: string | null;
  /** `YYYY-MM-DD`; never given together with `age`. */
  birthDate: string | null;
  /** Whole years, when given instead of a birth date. */
  age: number | null;
  notes: string | null;
}

export const NO_SUBJECT_DETAILS: SubjectDetails = { name: null, birthDate: null, age: null, notes: null };

/**
 * The name as it is compared: lower case, without whitespace, so "Ada  Lovelace" and "ada lovelace" are one person.
 * Computed here and stored, rather than with SQL's lower(), whose treatment of non-ASCII letters depends on the
 * database's locale (PGlite and PostgreSQL servers differ).
 */
export function subjectNameKey(name: string | null): string | null {
  const key = name?.normalize('NFKC').toLowerCase().replace(/\s+/gu, '') ?? '';
  return key || null;
}

/** Whole years from a `YYYY-MM-DD` birth date to `on`, counted in UTC calendar days. */
export function ageOn(birthDate: string, on: Date): number {
  const [year, month, day] = birthDate.split('-').map(Number) as [number, number, number];
  const beforeBirthday = on.getUTCMonth() + 1 < month || (on.getUTCMonth() + 1 === month && on.getUTCDate() < day);
  return on.getUTCFullYear() - year - (beforeBirthday ? 1 : 0);
}

/** The person's age at the assessment: from the birth date when given, else the age given, else null. */
export function ageAtAssessment(subject: SubjectDetails, assessedAt: Date): number | null {
  return subject.birthDate ? ageOn(subject.birthDate, assessedAt) : subject.age;
}

/** The person assessed as an analysis shows them: age at the assessment, and the height that scaled the centimetres. */
export interface AssessedSubject {
  name: string | null;
  birthDate: string | null;
  age: number | null;
  heightCm: number | null;
  notes: string | null;
}

export function assessedSubject(analysis: { subject: SubjectDetails; subjectHeightCm: number | null; createdAt: Date }): AssessedSubject {
  const { subject } = analysis;
  return {
    name: subject.name, birthDate: subject.birthDate, age: ageAtAssessment(subject, analysis.createdAt),
    heightCm: analysis.subjectHeightCm, notes: subject.notes,
  };
}
