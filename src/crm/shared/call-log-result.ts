/**
 * What every CRM's call-log writer shares: a thrown CrmError (or an abort) becomes an error
 * result that says whether a retry can help, never a throw; a 429's Retry-After is handed on so
 * the outbox waits that long. A request timeout is retryable, but the write may have happened:
 * the outbox asks `findLoggedCall` (or relies on the CRM's idempotency key) before writing again.
 */
import type { CallLogResult, CallLogWriter } from '../call-log-writer';
import type { CrmError } from './crm-error';
import { asCrmError } from './vendor-call';

/** How long each call-log request may take (after the call, not on the caller's path). */
export const CALL_LOG_TIMEOUT_MS = 15_000;

/** Whether trying the same write again later can succeed. */
export function isRetryable(error: CrmError): boolean {
  switch (error.code) {
    case 'TIMEOUT':
    case 'ABORTED':
    case 'DNS':
    case 'CONNECTION':
    case 'RATE_LIMITED':
    case 'BAD_RESPONSE':
      return true;
    case 'HTTP_ERROR': {
      // 5xx and the odd 408/409 pass; another 4xx (400 invalid data, 422) stays refused.
      const status = error.details.status;
      return status === undefined || status >= 500 || status === 408 || status === 409;
    }
    default:
      // AUTH, FORBIDDEN, NOT_FOUND_URL, CONFIG, EGRESS, TLS, TOO_LARGE: the settings must change first.
      return false;
  }
}

export function callLogError(error: CrmError): Extract<CallLogResult, { kind: 'error' }> {
  return {
    kind: 'error',
    code: error.code,
    message: error.message,
    retryable: isRetryable(error),
    ...(error.details.retryAfterMs !== undefined ? { retryAfterMs: error.details.retryAfterMs } : {}),
  };
}

/** Runs a writer's body; whatever it throws becomes an error result. */
export async function callLogResult<R extends CallLogResult | undefined>(what: string, signal: AbortSignal, run: () => Promise<R>): Promise<R | Extract<CallLogResult, { kind: 'error' }>> {
  try {
    return await run();
  } catch (err) {
    return callLogError(asCrmError(err, what, signal));
  }
}

/** The line every writer puts in the activity's notes, so a person (and findLoggedCall) can tell which call it was. */
export function externalIdLine(externalId: string): string {
  return `PBX call id: ${externalId}`;
}

/** Talk time as m:ss (notes, subjects). */
export function minutesSeconds(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

/** A person's name for a record created for an unknown caller. */
export function unknownCallerName(number: string): string {
  const shown = number.replace(/[^0-9+]/g, '').slice(0, 32) || 'unknown';
  return `Caller ${shown}`;
}

/** A connector with its CRM's call-log writer attached (the connector factory's answer). */
export function withCallLog<C extends object>(connector: C, writer: CallLogWriter): C & CallLogWriter {
  return Object.assign(connector, {
    logCall: writer.logCall.bind(writer),
    ...(writer.findLoggedCall ? { findLoggedCall: writer.findLoggedCall.bind(writer) } : {}),
  });
}
