// How the history is organised: assessments grouped by the person assessed (names compared as the API's report
// does: case and spaces ignored), newest person first, each with its score trend oldest to newest. Pure.

export interface HistoryEntry {
  id: string;
  subjectName: string | null;
  createdAt: string;
  status: string;
  overallScore: number | null;
}

export interface PersonHistory {
  /** Display name (the latest spelling), or null for assessments with no name given. */
  name: string | null;
  /** Newest first, as listed. */
  entries: HistoryEntry[];
  /** Overall scores of the completed assessments, oldest first: the trend line. */
  trend: number[];
}

export function subjectKey(name: string | null): string {
  return name ? name.normalize('NFKC').trim().replace(/\s+/g, ' ').toLowerCase() : '';
}

export function groupBySubject(entries: readonly HistoryEntry[]): PersonHistory[] {
  const groups = new Map<string, PersonHistory>();
  const newestFirst = [...entries].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  for (const entry of newestFirst) {
    const key = subjectKey(entry.subjectName);
    const group = groups.get(key) ?? { name: entry.subjectName?.trim() || null, entries: [], trend: [] };
    group.entries.push(entry);
    groups.set(key, group);
  }
  for (const group of groups.values()) {
    group.trend = group.entries.filter((e) => e.overallScore !== null).map((e) => e.overallScore!).reverse();
  }
  // Named people first (by their latest assessment, as the map keeps that order), the unnamed ones last.
  return [...groups.values()].sort((a, b) => Number(a.name === null) - Number(b.name === null));
}

/** The change between the last two scores of a trend, or null with fewer than two. */
export function lastChange(trend: readonly number[]): number | null {
  return trend.length < 2 ? null : trend.at(-1)! - trend.at(-2)!;
}
