/**
 * Call activities as the call log's worker hands them to a connector's logCall, and the signals
 * it runs them under: the test's defaults, then `over`.
 */
import type { CallActivity } from '../../src/crm/call-log-writer';
import type { CallDisposition } from '../../src/calllog/completed-call';

let counter = 0;

/** An answered inbound call of 95 s from +1 555 123 4567 on 2026-05-01 08:00:00 UTC, with a fresh external id. */
export function callActivity(over: Partial<CallActivity> = {}): CallActivity {
  counter += 1;
  return {
    externalId: `t1-i7-1714550400.${counter}`,
    direction: 'inbound',
    disposition: 'answered',
    externalNumber: '+15551234567',
    pbxNumber: '+15559990000',
    startedAt: new Date('2026-05-01T08:00:00Z'),
    durationSeconds: 95,
    subject: 'Inbound call from +15551234567',
    notes: 'Answered by 101 after 8 s. Rule: VIP customers, value Gold, row 2, destination queue 600.',
    unknownCaller: 'skip',
    ...over,
  };
}

/** Every disposition with the direction it happens in, for status tables. */
export const DISPOSITIONS: Array<{ disposition: CallDisposition; direction: 'inbound' | 'outbound' }> = [
  { disposition: 'answered', direction: 'inbound' },
  { disposition: 'answered', direction: 'outbound' },
  { disposition: 'missed', direction: 'inbound' },
  { disposition: 'abandoned', direction: 'inbound' },
  { disposition: 'busy', direction: 'outbound' },
  { disposition: 'failed', direction: 'outbound' },
];

export const noAbort = (): AbortSignal => new AbortController().signal;
