import assert from 'node:assert/strict';
import { callLogError, callLogResult, isRetryable, minutesSeconds, unknownCallerName, withCallLog } from '../../../src/crm/shared/call-log-result';
import { CrmError, errorForStatus } from '../../../src/crm/shared/crm-error';

describe('Call log results', () => {
  it('retries what time can fix and gives up on what the settings or the data must fix', () => {
    const retryable = (status: number) => isRetryable(errorForStatus(status, 'X'));
    assert.deepEqual([429, 500, 502, 503, 408, 409].map(retryable), [true, true, true, true, true, true]);
    assert.deepEqual([400, 401, 403, 404, 422].map(retryable), [false, false, false, false, false]);
    for (const code of ['TIMEOUT', 'ABORTED', 'DNS', 'CONNECTION', 'BAD_RESPONSE'] as const) assert.equal(isRetryable(new CrmError(code, 'x')), true, code);
    for (const code of ['CONFIG', 'EGRESS', 'TLS', 'TOO_LARGE', 'AUTH', 'FORBIDDEN'] as const) assert.equal(isRetryable(new CrmError(code, 'x')), false, code);
  });

  it('hands Retry-After on and never throws', async () => {
    assert.deepEqual(callLogError(errorForStatus(429, 'HubSpot', 7000)), { kind: 'error', code: 'RATE_LIMITED', message: 'HubSpot is rate limiting requests (429): retry in 7 s.', retryable: true, retryAfterMs: 7000 });
    const thrown = await callLogResult('X', AbortSignal.timeout(1000), () => { throw new CrmError('CONFIG', 'no token'); });
    assert.deepEqual(thrown, { kind: 'error', code: 'CONFIG', message: 'no token', retryable: false });
    const aborted = new AbortController();
    aborted.abort();
    const result = await callLogResult('X', aborted.signal, async () => { throw new Error('socket gone'); });
    assert.deepEqual(result.kind === 'error' && [result.code, result.retryable], ['ABORTED', true]);
  });

  it('formats talk time and names unknown callers by their number only', () => {
    assert.deepEqual([minutesSeconds(0), minutesSeconds(95), minutesSeconds(3600.4)], ['0:00', '1:35', '60:00']);
    assert.equal(unknownCallerName('+1 (202) 555-0101<script>'), 'Caller +12025550101');
    assert.equal(unknownCallerName(''), 'Caller unknown');
  });

  it('attaches a writer to a connector', async () => {
    const connector = withCallLog({ name: 'c' }, { logCall: async () => ({ kind: 'skipped', reason: 'r' }) });
    assert.equal(connector.name, 'c');
    assert.deepEqual(await connector.logCall({} as never, { username: '', password: '' }, AbortSignal.timeout(10)), { kind: 'skipped', reason: 'r' });
    assert.equal('findLoggedCall' in connector, false);
  });
});
