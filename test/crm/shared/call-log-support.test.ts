import assert from 'node:assert/strict';
import { callLogResult, callUuid, durationMinutes, hoursAndMinutes } from '../../../src/crm/shared/call-log-support';
import { CrmError } from '../../../src/crm/shared/crm-error';
import { noAbort } from '../../support/call-activities';

describe('call-log support', () => {
  it('derives the same v5 UUID from the same external id, a different one per purpose and call', () => {
    const id = callUuid('t1-i7-1714550400.12');
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(callUuid('t1-i7-1714550400.12'), id);
    assert.notEqual(callUuid('t1-i7-1714550400.12', 'contact'), id);
    assert.notEqual(callUuid('t1-i7-1714550400.13'), id);
  });

  it('rounds talk time up to whole minutes, and splits hours from minutes', () => {
    assert.deepEqual([0, 1, 40, 60, 61, 3599, 3600, 3725].map(durationMinutes), [0, 1, 1, 1, 2, 60, 60, 63]);
    assert.deepEqual(hoursAndMinutes(3725), { hours: 1, minutes: 3 });
    assert.deepEqual(hoursAndMinutes(0), { hours: 0, minutes: 0 });
  });

  it('turns a thrown CrmError into an error result carrying Retry-After', async () => {
    const result = await callLogResult('CRM', noAbort(), async () => { throw new CrmError('RATE_LIMITED', 'slow down', { status: 429, retryAfterMs: 7000 }); });
    assert.deepEqual(result, { kind: 'error', code: 'RATE_LIMITED', message: 'slow down', retryable: true, retryAfterMs: 7000 });
  });
});
