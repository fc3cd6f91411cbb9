import { describe, expect, it } from 'vitest';
import { isAppError } from '../errors/app-error.ts';
import { ageOn, subjectNameKey } from '../analysis/subject-details.ts';
import { parseSubjectFields, type SubjectFieldsInput } from './subject-fields.ts';

const NOW = new Date('2025-03-14T09:00:00Z');

function refusal(fields: SubjectFieldsInput): string {
  try {
    parseSubjectFields(fields, NOW);
  } catch (error) {
    if (isAppError(error) && error.code === 'invalid_request') return error.message;
    throw error;
  }
  throw new Error(`accepted ${JSON.stringify(fields)}`);
}

describe('parseSubjectFields', () => {
  it('keeps the person NFKC-normalised and trimmed; blank fields are not given', () => {
    expect(parseSubjectFields({
      subject_name: ' Ａｄａ Lovelace\u00a0', subject_birth_date: ' 1985-12-10 ', subject_notes: '\tDesk ﬁtter.\r\nKnee pain. ',
    }, NOW)).toEqual({ name: 'Ada Lovelace', birthDate: '1985-12-10', age: null, notes: 'Desk fitter.\r\nKnee pain.' });
    expect(parseSubjectFields({ subject_age: 42 }, NOW)).toEqual({ name: null, birthDate: null, age: 42, notes: null });
    expect(parseSubjectFields({ subject_age: ' 7 ' }, NOW).age).toBe(7);
    expect(parseSubjectFields({ subject_name: '  ', subject_birth_date: '', subject_age: '', subject_notes: ' ' }, NOW))
      .toEqual({ name: null, birthDate: null, age: null, notes: null });
  });

  it('counts characters, not UTF-16 units, against the limits', () => {
    expect(parseSubjectFields({ subject_name: '𝒜'.repeat(100) }, NOW).name).toBe('A'.repeat(100)); // NFKC: math letters
    expect(parseSubjectFields({ subject_name: '😀'.repeat(100) }, NOW).name).toHaveLength(200);
    expect(refusal({ subject_name: '😀'.repeat(101) })).toBe('Invalid subject_name: 101 characters. Give at most 100');
    expect(parseSubjectFields({ subject_notes: 'n'.repeat(1000) }, NOW).notes).toHaveLength(1000);
    expect(refusal({ subject_notes: 'n'.repeat(1001) })).toBe('Invalid subject_notes: 1001 characters. Give at most 1000');
  });

  it('refuses control characters: any in a name, all but line breaks and tabs in notes', () => {
    expect(refusal({ subject_name: 'Ada\nLovelace' })).toMatch(/^Invalid subject_name: it holds control characters/);
    expect(refusal({ subject_notes: 'a\u0000b' })).toMatch(/^Invalid subject_notes: it holds control characters/);
  });

  it('takes a birth date up to today anywhere on Earth and at most 120 years ago, a real calendar day', () => {
    // 09:00 UTC is 23:00 on the 14th in UTC+14: the 14th is the latest day anywhere, the 15th is tomorrow everywhere.
    expect(parseSubjectFields({ subject_birth_date: '2025-03-14' }, NOW).birthDate).toBe('2025-03-14');
    expect(parseSubjectFields({ subject_birth_date: '1905-03-15' }, NOW).birthDate).toBe('1905-03-15');
    expect(parseSubjectFields({ subject_birth_date: '2024-02-29' }, NOW).birthDate).toBe('2024-02-29');
    for (const date of ['2025-03-15', '1904-03-13', '2023-02-29', '1985-13-01', '10/12/1985', '1985-1-1', '1985-12-10T00:00']) {
      expect(refusal({ subject_birth_date: date }), date).toMatch(/^Invalid subject_birth_date: .*Give the date of birth as YYYY-MM-DD/);
    }
  });

  it('takes an age in whole years from 1 to 120, and not beside a birth date', () => {
    for (const age of ['0', '121', '42.5', '-3', 'forty', '1e2', 42.5]) {
      expect(refusal({ subject_age: age }), String(age)).toMatch(/^Invalid subject_age: .*from 1 to 120/);
    }
    expect(refusal({ subject_age: 30, subject_birth_date: '1995-01-01' })).toBe('Give subject_birth_date or subject_age, not both');
  });
});

describe('ageOn and subjectNameKey', () => {
  it('counts whole years, the birthday itself included', () => {
    expect(ageOn('1985-03-14', NOW)).toBe(40);
    expect(ageOn('1985-03-15', NOW)).toBe(39);
    expect(ageOn('2024-02-29', new Date('2025-02-28T12:00:00Z'))).toBe(0);
    expect(ageOn('2024-02-29', new Date('2025-03-01T00:00:00Z'))).toBe(1);
  });

  it('compares names without case or whitespace; no name, no key', () => {
    expect(subjectNameKey(' Ada  LOVELACE ')).toBe(subjectNameKey('ada lovelace'));
    expect(subjectNameKey('Zoë')).toBe('zoë');
    expect(subjectNameKey(null)).toBeNull();
  });
});
