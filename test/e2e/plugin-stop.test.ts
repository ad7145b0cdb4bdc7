import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { CallRig, NEXT_PRIORITY } from './support/call-rig';
import { HeldAnswers } from './support/held-answers';
import { within } from './support/within';

/** How long stop() lets running calls finish by themselves (plugin.json says 5 s; lowered here). */
const STOP_TIMEOUT_MS = 100;

describe('Live call routing: the plugin stops while calls wait for the CRM', function () {
  let rig: CallRig;
  const held = new HeldAnswers();

  before(async function () {
    this.timeout(30_000);
    rig = await CallRig.start({ limits: { stopTimeoutMs: STOP_TIMEOUT_MS } });
  });
  after(async () => {
    held.answer();
    await rig?.close();
  });

  it('sends every waiting call to its default destination (STOPPING), then refuses new calls', async () => {
    const rule = await rig.createRule({ url: rig.route('/held', held.handler), deadlineSeconds: 10, defaultDestination: 'queue:104', rows: [{ operator: 'eq', value: 'gold', destination: 'queue:103' }] });
    const waiting = [1, 2, 3].map((n) => rig.call(rule, { callerId: `+1555000000${n}` }));
    await within(held.untilArrived(3), 2000, 'three calls are in their lookup');

    const stopping = performance.now();
    const stopped = rig.host.host.plugin.stop();
    const calls = await Promise.all(waiting);
    const movedAfterMs = performance.now() - stopping;
    for (const call of calls) {
      assert.deepEqual(call.ended, { kind: 'dialplan', context: 'ext-queues', exten: '104', priority: 1, via: 'redirect' }, call.dialogue);
      assert.deepEqual(
        { status: call.variables.CRM_ROUTING_STATUS, outcome: call.variables.CRM_ROUTING_OUTCOME, method: call.variables.CRM_ROUTING_METHOD },
        { status: 'OK', outcome: 'STOPPING', method: 'AMI' },
      );
    }
    assert.ok(movedAfterMs < STOP_TIMEOUT_MS + 300, `moved ${Math.round(movedAfterMs)} ms after stop()`);
    for (const request of rig.requestsTo('/held')) {
      await within(rig.crm.connectionClosed(request.connectionId), 1000, 'the lookups are aborted');
    }
    await within(stopped, 5000, 'stop() resolves');

    // stop() wrote the decision log before resolving.
    const decisions = await rig.store.decisions.recent('default', rule, 10);
    assert.deepEqual(
      decisions.map((d) => [d.outcome, d.method, d.destination?.target]).sort(),
      [['STOPPING', 'ami', '104'], ['STOPPING', 'ami', '104'], ['STOPPING', 'ami', '104']],
    );
    assert.equal((await rig.host.host.plugin.health()).agi.listening, false);
    await within(rig.host.host.plugin.stop(), 1000, 'a second stop() resolves too');
    const late = await rig.call(rule);
    assert.equal(late.agiStatus, 'FAILURE', 'nothing listens any more: AGI() fails at once');
    assert.deepEqual(late.ended, NEXT_PRIORITY);
  });
});
