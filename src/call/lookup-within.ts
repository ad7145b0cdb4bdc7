/**
 * One CRM lookup bounded by the call's deadline: the connector's requests are aborted when the
 * deadline passes, the caller hangs up or the plugin stops, and the answer is taken at that
 * moment even if a connector is slow to notice. Shared by the call flow and "Test rule".
 */
import type { CrmConnector, LookupRequest, LookupResult } from '../crm/connector';
import { offStop, onStop, type StopSource } from './stopper';

export interface BoundedLookup {
  result: LookupResult;
  lookupMs: number;
}

/**
 * `stop` ends the lookup for other reasons (hang-up, plugin stopping): one source or several
 * (AbortSignals or the call path's Stoppers), the first to stop wins and its reason is given to
 * the connector's signal. The deadline aborts that signal with a TimeoutError, which
 * connectors report as TIMEOUT.
 *
 * One AbortController per lookup, for the connector; the deadline is a plain timer cleared as
 * soon as the lookup settles (AbortSignal.timeout() would fire for every call `deadlineMs`
 * later, answer or not, and keep the call's signals alive till then); the stop sources are
 * listened to directly (no AbortSignal.any()), and the first of answer, deadline and stop
 * settles the one promise (no Promise.race over extra promises).
 */
export function lookupWithin(
  connector: CrmConnector, request: Omit<LookupRequest, 'deadlineAt'>, deadlineMs: number, stop: StopSource | readonly StopSource[] = [],
): Promise<BoundedLookup> {
  const started = performance.now();
  const stops: readonly StopSource[] = Array.isArray(stop) ? stop : [stop as StopSource];
  return new Promise<BoundedLookup>((resolve) => {
    const controller = new AbortController();
    let settled = false;
    const settle = (result: LookupResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      for (const source of stops) offStop(source, onStopped);
      resolve({ result, lookupMs: performance.now() - started });
    };
    const aborted = (reason: unknown) => {
      controller.abort(reason);
      settle({ kind: 'error', code: 'ABORTED', message: 'The lookup was cancelled (caller hung up or the plugin stopped).' });
    };
    const onStopped = () => aborted(stops.find((source) => source.aborted)?.reason);
    const timer = setTimeout(() => {
      controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
      settle({ kind: 'error', code: 'TIMEOUT', message: `The CRM did not answer within the rule's deadline of ${deadlineMs / 1000} s.` });
    }, deadlineMs);
    const stopped = stops.find((source) => source.aborted);
    if (stopped) {
      aborted(stopped.reason);
      return;
    }
    for (const source of stops) onStop(source, onStopped);
    const failed = (err: unknown) => settle({ kind: 'error', code: 'BAD_RESPONSE', message: `The connector failed: ${(err as Error)?.message ?? String(err)}` });
    try {
      connector.lookup({ ...request, deadlineAt: Date.now() + deadlineMs }, controller.signal).then(settle, failed);
    } catch (err) {
      failed(err);
    }
  });
}
