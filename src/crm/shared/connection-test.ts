/**
 * Runs "Test connection" (a real authentication plus a sample lookup) and turns its outcome into
 * the report the Integration page shows: ok with what was checked, or the precise code and message.
 */
import type { LookupRequest, LookupResult } from '../connector';
import type { Credentials, TestReport } from '../integration';
import { asCrmError } from './vendor-call';

/** A number no one has: the sample lookup proves the search runs, finding nobody is success. */
export const SAMPLE_CALLER_ID = '+12025550143';
/** How long the sample lookup may take (a test from the Integration page, not a call). */
const SAMPLE_TIMEOUT_MS = 10_000;

/** The sample lookup: the made-up number searched in `module`, reading `fieldName`. */
export function sampleRequest(module: string, fieldName: string, credentials: Credentials): LookupRequest {
  return { tenantId: '', ruleId: 0, callerId: SAMPLE_CALLER_ID, did: '', dtmf: '', fieldName, module, credentials, deadlineAt: Date.now() + SAMPLE_TIMEOUT_MS };
}

/** What the sample lookup found, as a report says it. */
export function sampleOutcome(result: LookupResult): string {
  return result.kind === 'value' ? 'the sample number matched a record' : 'no record has the sample number, as expected';
}

export async function runConnectionTest(what: string, signal: AbortSignal, run: () => Promise<string>): Promise<TestReport> {
  try {
    return { ok: true, message: await run() };
  } catch (err) {
    const error = asCrmError(err, what, signal);
    return { ok: false, code: error.code, message: error.message, ...(error.details.retryAfterMs !== undefined ? { retryAfterMs: error.details.retryAfterMs } : {}) };
  }
}
