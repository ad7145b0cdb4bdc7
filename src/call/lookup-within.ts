/**
 * One CRM lookup bounded by the call's deadline: the connector's requests are aborted when the
 * deadline passes, the caller hangs up or the plugin stops, and the answer is taken at that
 * moment even if a connector is slow to notice. Shared by the call flow and "Test rule".
 */
import type { CrmConnector, LookupRequest, LookupResult } from '../crm/connector';

export interface BoundedLookup {
  result: LookupResult;
  lookupMs: number;
}

/**
 * `stop` aborts for other reasons (hang-up, plugin stopping); its reason is kept. The deadline
 * aborts with a TimeoutError, which connectors report as TIMEOUT.
 */
export async function lookupWithin(connector: CrmConnector, request: Omit<LookupRequest, 'deadlineAt'>, deadlineMs: number, stop?: AbortSignal): Promise<BoundedLookup> {
  const started = performance.now();
  const deadline = AbortSignal.timeout(deadlineMs);
  const signal = stop ? AbortSignal.any([deadline, stop]) : deadline;
  const abandoned = new Promise<LookupResult>((resolve) => {
    const onAbort = () => resolve(deadline.aborted
      ? { kind: 'error', code: 'TIMEOUT', message: `The CRM did not answer within the rule's deadline of ${deadlineMs / 1000} s.` }
      : { kind: 'error', code: 'ABORTED', message: 'The lookup was cancelled (caller hung up or the plugin stopped).' });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  const answer = connector
    .lookup({ ...request, deadlineAt: Date.now() + deadlineMs }, signal)
    .catch((err: unknown): LookupResult => ({ kind: 'error', code: 'BAD_RESPONSE', message: `The connector failed: ${(err as Error)?.message ?? String(err)}` }));
  const result = await Promise.race([answer, abandoned]);
  return { result, lookupMs: performance.now() - started };
}
