/**
 * The deterministic choice among several records that all carry the caller's number: the most
 * recently modified wins (the record someone touched last is the one people work with), then
 * the lowest id, so the same data always routes the same way. A record without a readable
 * modification time sorts after those with one.
 */
export interface Candidate<T> {
  record: T;
  /** Epoch ms; NaN or undefined when the CRM gave none. */
  modifiedAt: number | undefined;
  id: string;
}

export function pickMostRecent<T>(candidates: Candidate<T>[]): Candidate<T> | undefined {
  return [...candidates].sort(compareCandidates)[0];
}

export function compareCandidates<T>(a: Candidate<T>, b: Candidate<T>): number {
  const am = a.modifiedAt !== undefined && Number.isFinite(a.modifiedAt) ? a.modifiedAt : -Infinity;
  const bm = b.modifiedAt !== undefined && Number.isFinite(b.modifiedAt) ? b.modifiedAt : -Infinity;
  if (am !== bm) return bm - am > 0 ? 1 : -1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
