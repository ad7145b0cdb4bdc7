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
 * `stop` aborts for other reasons (hang-up, plugin stopping): one signal or several, the first
 * to abort wins and its reason is kept. The deadline aborts with a TimeoutError, which
 * connectors report as TIMEOUT.
 *
 * The deadline is a plain timer cleared as soon as the lookup settles, with one AbortController
 * for the connector: AbortSignal.timeout() would fire for every call `deadlineMs` later, answer
 * or not (a DOMException and an abort event each), and keep the call's signals alive till then;
 * several `stop` signals are listened to directly rather than through AbortSignal.any().
 */
export async function lookupWithin(
  connector: CrmConnector, request: Omit<LookupRequest, 'deadlineAt'>, deadlineMs: number, stop: AbortSignal | readonly AbortSignal[] = [],
): Promise<BoundedLookup> {
  const started = performance.now();
  const controller = new AbortController();
  const signal = controller.signal;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
  }, deadlineMs);
  const stops = Array.isArray(stop) ? stop : [stop as AbortSignal];
  const onStop = (event: Event) => controller.abort((event.target as AbortSignal).reason);
  const stopped = stops.find((signal) => signal.aborted);
  if (stopped) controller.abort(stopped.reason);
  else for (const signal of stops) signal.addEventListener('abort', onStop, { once: true });
  try {
    const abandoned = new Promise<LookupResult>((resolve) => {
      const onAbort = () => resolve(timedOut
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
  } finally {
    clearTimeout(timer);
    for (const signal of stops) signal.removeEventListener('abort', onStop);
  }
}
