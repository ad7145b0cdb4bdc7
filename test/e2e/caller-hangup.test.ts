import assert from 'node:assert/strict';
import { CallRig, commandsOf } from './support/call-rig';
import { within } from './support/within';

describe('Live call routing: the caller hangs up while the CRM is asked', function () {
  let rig: CallRig;

  before(async function () {
    this.timeout(30_000);
    rig = await CallRig.start();
  });
  after(async () => rig?.close());

  it('aborts the CRM request, moves nothing and records HANGUP', async () => {
    const url = rig.route('/slow', () => ({ delayMs: 4000, body: { value: 'gold' } }));
    const rule = await rig.createRule({ url, deadlineSeconds: 3, rows: [{ operator: 'eq', value: 'gold', destination: 'queue:103' }] });
    const redirectsBefore = rig.ami!.actionsNamed('Redirect').length;

    const call = await rig.call(rule, { hangupAfterMs: 200 });

    assert.deepEqual(call.ended, { kind: 'hungup', reason: 'caller' }, call.dialogue);
    assert.equal(call.agiStatus, 'HANGUP');
    assert.ok(call.timings.finalMoveAtMs < 400, `the session ended ${call.timings.finalMoveAtMs} ms in, not at the CRM's pace`);
    assert.deepEqual(commandsOf(call), [], 'no command at all on a dead channel: no SET VARIABLE, no SET CONTEXT');
    assert.deepEqual(call.variables, {});
    const request = rig.requestsTo('/slow').at(-1);
    assert.ok(request, 'the lookup had started');
    await within(rig.crm.connectionClosed(request.connectionId), 500, 'the CRM request is aborted (its connection closed)');
    assert.equal(rig.ami!.actionsNamed('Redirect').length, redirectsBefore, 'no AMI Redirect');

    const decision = await rig.decision(rule, call.uniqueid);
    assert.deepEqual(
      { outcome: decision.outcome, method: decision.method, destination: decision.destination, rowIndex: decision.rowIndex, value: decision.value },
      { outcome: 'HANGUP', method: 'none', destination: null, rowIndex: null, value: null },
    );
  });

  it('aborts the lookup the same way when Asterisk closes the socket itself (AGIEXITONHANGUP=yes)', async () => {
    const url = rig.route('/slow-then-gone', () => ({ delayMs: 4000, body: { value: 'gold' } }));
    const rule = await rig.createRule({ url, deadlineSeconds: 3, rows: [{ operator: 'eq', value: 'gold', destination: 'queue:103' }] });
    const redirectsBefore = rig.ami!.actionsNamed('Redirect').length;
    // With AGIEXITONHANGUP Asterisk closes the socket itself at once.
    const call = await rig.call(rule, { hangupAfterMs: 150, agiExitOnHangup: true });
    assert.deepEqual(call.ended, { kind: 'hungup', reason: 'caller' }, call.dialogue);
    assert.deepEqual(commandsOf(call), []);
    await within(rig.crm.connectionClosed(rig.requestsTo('/slow-then-gone').at(-1)!.connectionId), 500, 'the CRM request is aborted');
    assert.equal(rig.ami!.actionsNamed('Redirect').length, redirectsBefore);
    assert.equal((await rig.decision(rule, call.uniqueid)).outcome, 'HANGUP');
  });
});
