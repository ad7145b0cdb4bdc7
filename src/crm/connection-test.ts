/**
 * Runs "Test connection" (a real authentication plus a sample lookup) and turns its outcome into
 * the report the Integration page shows: ok with what was checked, or the precise code and message.
 */
import type { TestReport } from './integration';
import { asCrmError } from './vendor-call';

/** A number no one has: the sample lookup proves the search runs, finding nobody is success. */
export const SAMPLE_CALLER_ID = '+12025550143';

export async function runConnectionTest(what: string, signal: AbortSignal, run: () => Promise<string>): Promise<TestReport> {
  try {
    return { ok: true, message: await run() };
  } catch (err) {
    const error = asCrmError(err, what, signal);
    return { ok: false, code: error.code, message: error.message, ...(error.details.retryAfterMs !== undefined ? { retryAfterMs: error.details.retryAfterMs } : {}) };
  }
}
