import assert from 'node:assert/strict';
import { CallRig, commandsOf } from './support/call-rig';

const GREETING = { recording: 'enter-account', maxDigits: 4, timeoutSeconds: 1, pattern: '5\\d{3}' };
const GET_DATA = 'GET DATA "enter-account" 1000 4';

describe('Live call routing: an IVR rule greets the caller and collects digits', function () {
  let rig: CallRig;
  let withRetry: number;
  let noRetry: number;
  const path = '/by-account';

  before(async function () {
    this.timeout(30_000);
    rig = await CallRig.start();
    // The middleware looks the caller up by the digits typed.
    const url = rig.route(path, (req) => ({ body: { value: req.query.get('dtmf') === '5123' ? 'gold' : 'silver' } }));
    const rows = [{ operator: 'eq' as const, value: 'gold', destination: 'queue:103' }, { operator: 'eq' as const, value: 'silver', destination: 'queue:104' }];
    withRetry = await rig.createRule({ url, rows, greeting: { ...GREETING, retries: 1 } });
    noRetry = await rig.createRule({ url, rows, greeting: { ...GREETING, retries: 0 } });
  });
  after(async () => rig?.close());

  it('plays the recording with GET DATA and sends the digits to the Custom CRM as dtmf', async () => {
    const call = await rig.call(withRetry, { dtmf: { digits: '5123' } });
    assert.equal(commandsOf(call)[0], GET_DATA, call.dialogue);
    assert.deepEqual(call.ended, { kind: 'dialplan', context: 'ext-queues', exten: '103', priority: 1, via: 'redirect' });
    assert.equal(call.variables.CRM_ROUTING_OUTCOME, 'MATCH');
    assert.equal(rig.requestsTo(path).at(-1)?.query.get('dtmf'), '5123');
    assert.equal((await rig.decision(withRetry, call.uniqueid)).dtmf, '5123');
  });

  it('asks again when the digits do not match the pattern, and uses the second answer', async () => {
    // 1234 fills the first GET DATA (refused by 5\d{3}); 5678 is typed into the second.
    const call = await rig.call(withRetry, { dtmf: { digits: '12345678', gapMs: 100 } });
    assert.deepEqual(commandsOf(call).filter((c) => c.startsWith('GET DATA')), [GET_DATA, GET_DATA], call.dialogue);
    assert.equal(rig.requestsTo(path).at(-1)?.query.get('dtmf'), '5678');
    assert.deepEqual(call.ended, { kind: 'dialplan', context: 'ext-queues', exten: '104', priority: 1, via: 'redirect' });
    assert.equal((await rig.decision(withRetry, call.uniqueid)).dtmf, '5678');
  });

  it('no input on every attempt: INVALID_DTMF, the default destination, the CRM never asked', async () => {
    const requests = rig.requestsTo(path).length;
    const call = await rig.call(withRetry);
    assert.deepEqual(commandsOf(call).filter((c) => c.startsWith('GET DATA')), [GET_DATA, GET_DATA], call.dialogue);
    assert.deepEqual(call.ended, { kind: 'dialplan', context: 'ext-local', exten: '100', priority: 1, via: 'redirect' });
    assert.equal(call.variables.CRM_ROUTING_OUTCOME, 'INVALID_DTMF');
    assert.equal(rig.requestsTo(path).length, requests);
    const decision = await rig.decision(withRetry, call.uniqueid);
    assert.deepEqual({ outcome: decision.outcome, lookupMs: decision.lookupMs, dtmf: decision.dtmf }, { outcome: 'INVALID_DTMF', lookupMs: null, dtmf: null });
  });

  it('digits the pattern refuses and no retry left: INVALID_DTMF, the digits recorded', async () => {
    const requests = rig.requestsTo(path).length;
    const call = await rig.call(noRetry, { dtmf: { digits: '1234' } });
    assert.deepEqual(commandsOf(call).filter((c) => c.startsWith('GET DATA')), [GET_DATA], call.dialogue);
    assert.equal(call.variables.CRM_ROUTING_OUTCOME, 'INVALID_DTMF');
    assert.equal(rig.requestsTo(path).length, requests);
    assert.deepEqual(call.ended, { kind: 'dialplan', context: 'ext-local', exten: '100', priority: 1, via: 'redirect' });
    assert.equal((await rig.decision(noRetry, call.uniqueid)).dtmf, '1234');
  });

  it('a recording missing on the PBX: INVALID_DTMF at once, no retry', async () => {
    const call = await rig.call(withRetry, { sounds: { 'enter-account': 'missing' } });
    assert.deepEqual(commandsOf(call).filter((c) => c.startsWith('GET DATA')), [GET_DATA], call.dialogue);
    assert.equal(call.variables.CRM_ROUTING_OUTCOME, 'INVALID_DTMF');
    assert.ok(call.timings.finalMoveAtMs < 200, `moved after ${call.timings.finalMoveAtMs} ms`);
  });

  it('the caller hangs up during the greeting: nothing asked, nothing moved, HANGUP', async () => {
    const requests = rig.requestsTo(path).length;
    const redirects = rig.ami!.actionsNamed('Redirect').length;
    const call = await rig.call(withRetry, { hangupAfterMs: 100 });
    assert.deepEqual(call.ended, { kind: 'hungup', reason: 'caller' }, call.dialogue);
    // GET DATA answers -1 (as for a missing prompt), and only then HANGUP: not a retry, not INVALID_DTMF.
    assert.deepEqual(commandsOf(call).filter((c) => /^(GET DATA|SET CONTEXT|SET EXTENSION|SET PRIORITY) /.test(c)), [GET_DATA]);
    assert.equal(rig.requestsTo(path).length, requests);
    assert.equal(rig.ami!.actionsNamed('Redirect').length, redirects, 'no Redirect of the gone channel');
    const decision = await rig.decision(withRetry, call.uniqueid);
    assert.deepEqual({ outcome: decision.outcome, method: decision.method, destination: decision.destination }, { outcome: 'HANGUP', method: 'none', destination: null });
  });
});
