/**
 * An in-process CRM for bench:agi: every lookup answers the same value, at once (a 0 ms CRM) or
 * after `delayMs`, and honours the call's AbortSignal like a real connector. It stands in for
 * every rule's connector through startCallPath's `lookups`, so the figures are the call path's.
 */
import type { CrmConnector, LookupResult } from '../../src/crm/connector';

export class StubCrm implements CrmConnector {
  /** Lookups answered with the value, and lookups cut short (deadline, hang-up, stop). */
  answered = 0;
  aborted = 0;

  constructor(public delayMs = 0, private readonly value = 'Gold') {}

  forRule(): CrmConnector {
    return this;
  }

  lookup(_request: unknown, signal: AbortSignal): Promise<LookupResult> {
    if (this.delayMs === 0) {
      this.answered += 1;
      return Promise.resolve({ kind: 'value', value: this.value });
    }
    return new Promise((resolve) => {
      const onAbort = () => {
        clearTimeout(timer);
        this.aborted += 1;
        resolve({ kind: 'error', code: 'ABORTED', message: 'The stub CRM lookup was cancelled.' });
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        this.answered += 1;
        resolve({ kind: 'value', value: this.value });
      }, this.delayMs);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
