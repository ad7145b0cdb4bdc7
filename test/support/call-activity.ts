/**
 * Call activities as the call log hands them to a CRM's writer, and the checks every writer's
 * test makes alike: what each logCall sent, and that it answered without throwing.
 */
import type { CallActivity, CallLogResult } from '../../src/crm/call-log-writer';
import type { RecordedRequest } from './fake-https';

/** An answered inbound call of 95 s from +1 202-555-0101 to the DID 5551234, answered by agent@example.com. */
export function callActivity(over: Partial<CallActivity> = {}): CallActivity {
  return {
    externalId: 'pbx-1733600000-0001',
    direction: 'inbound',
    disposition: 'answered',
    externalNumber: '+12025550101',
    pbxNumber: '5551234',
    startedAt: new Date('2026-12-07T10:15:30.000Z'),
    durationSeconds: 95,
    subject: 'Inbound call from +12025550101',
    notes: 'Answered by 101 after 12 s.',
    ownerEmail: 'agent@example.com',
    unknownCaller: 'skip',
    recordingUrl: 'https://pbx.example.com/recordings/1733600000.0001.wav',
    ...over,
  };
}

export const DISPOSITIONS: CallActivity['disposition'][] = ['answered', 'missed', 'abandoned', 'busy', 'failed'];

/** Runs `write` and gives back its result with the requests the fake saw meanwhile. */
export async function recordWrite<R extends CallLogResult | undefined>(requests: RecordedRequest[], write: () => Promise<R>): Promise<{ result: R; sent: RecordedRequest[] }> {
  const before = requests.length;
  const result = await write();
  return { result, sent: requests.slice(before) };
}

/** A signal for one write, as the outbox gives it: 5 s unless told. */
export const writeSignal = (ms = 5000) => AbortSignal.timeout(ms);
