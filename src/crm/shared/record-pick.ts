/**
 * The deterministic choice among several records that all carry the caller's number: the most
 * recently modified wins (the record someone touched last is the one people work with). Where
 * the CRM's modification time is coarse (SuiteCRM's V8 API rounds it to the minute), a finer
 * clock breaks the tie: `finer` (a second-resolution time, a version number) when the CRM gives
 * one, else `rank`, the record's place in an answer the CRM sorted newest first on its own
 * full-precision column. Then the lowest id, so the same data always routes the same way. A
 * record without a readable modification time sorts after those with one.
 */
export interface Candidate<T> {
  record: T;
  /** Epoch ms; NaN or undefined when the CRM gave none. */
  modifiedAt: number | undefined;
  id: string;
  /** A finer clock than modifiedAt, higher is newer (epoch ms with seconds, a row version). */
  finer?: number;
  /** Place in an answer the CRM sorted newest first (0 first); lower is newer. */
  rank?: number;
}

export function pickMostRecent<T>(candidates: Candidate<T>[]): Candidate<T> | undefined {
  return [...candidates].sort(compareCandidates)[0];
}

export function compareCandidates<T>(a: Candidate<T>, b: Candidate<T>): number {
  const byTime = descending(a.modifiedAt, b.modifiedAt);
  if (byTime !== 0) return byTime;
  const byFiner = descending(a.finer, b.finer);
  if (byFiner !== 0) return byFiner;
  const ar = a.rank ?? Infinity;
  const br = b.rank ?? Infinity;
  if (ar !== br) return ar < br ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Newest first; a missing or unreadable value after every readable one. */
function descending(a: number | undefined, b: number | undefined): number {
  const am = a !== undefined && Number.isFinite(a) ? a : -Infinity;
  const bm = b !== undefined && Number.isFinite(b) ? b : -Infinity;
  if (am === bm) return 0;
  return bm - am > 0 ? 1 : -1;
}
