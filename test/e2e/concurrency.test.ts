import assert from 'node:assert/strict';
import type { CallResult } from '../../scripts/lib/asterisk-simulator';
import { CallRig } from './support/call-rig';
import { HeldAnswers } from './support/held-answers';
import { within } from './support/within';

function landed(call: CallResult): string {
  return call.ended.kind === 'dialplan' ? `${call.ended.context},${call.ended.exten},${call.ended.priority} (${call.ended.via})` : call.ended.kind;
}

describe('Live call routing under load', function () {
  this.timeout(30_000);

  describe('500 calls at once', () => {
    let rig: CallRig;
    const warnings: string[] = [];
    before(async () => {
      const keep = (level: string) => (message: string, extra?: Record<string, unknown>) => warnings.push(`${level} ${message} ${JSON.stringify(extra ?? {})}`);
      rig = await CallRig.start({ logger: { debug: () => undefined, info: () => undefined, warn: keep('warn'), error: keep('error') } });
    });
    after(async () => rig?.close());

    it('every one reaches the destination its CRM value picks', async function () {
      // One process plays Asterisk, AMI, the CRM (TLS included) and the plugin: about 10 ms of CPU a
      // call, so the last calls wait seconds to be accepted on a busy machine. Nothing here is timed.
      this.timeout(60_000);
      const url = rig.route('/tier', (req) => ({ delayMs: 20, body: { value: Number(req.query.get('caller_id')!.slice(-3)) % 2 === 0 ? 'gold' : 'silver' } }));
      const rule = await rig.createRule({
        url, deadlineSeconds: 10,
        rows: [{ operator: 'eq', value: 'gold', destination: 'queue:103' }, { operator: 'eq', value: 'silver', destination: 'queue:104' }],
      });
      const callers = Array.from({ length: 500 }, (_, i) => `+1555000${String(i).padStart(4, '0')}`);
      const calls = await Promise.all(callers.map((callerId) => rig.call(rule, { callerId, maxCallMs: 50_000 })));

      const expected = callers.map((c) => (Number(c.slice(-3)) % 2 === 0 ? 'ext-queues,103,1 (redirect)' : 'ext-queues,104,1 (redirect)'));
      const wrong = calls.map((call, i) => ({ caller: callers[i], landed: landed(call), expected: expected[i] })).filter((c) => c.landed !== c.expected);
      assert.deepEqual(wrong, [], `${wrong.length} of 500 calls went elsewhere`);
      assert.equal(calls.filter((c) => c.variables.CRM_ROUTING_OUTCOME === 'MATCH').length, 500);
      assert.equal(rig.requestsTo('/tier').length, 500, 'one CRM request per call');

      const recorded = await within((async () => {
        for (;;) {
          const decisions = await rig.store.decisions.recent('default', rule, 1000);
          if (decisions.length >= 500) return decisions;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })(), 10_000, '500 decisions recorded');
      const ids = recorded.map((d) => d.callId);
      const repeated = recorded.filter((d) => ids.indexOf(d.callId) !== ids.lastIndexOf(d.callId));
      const missing = calls.map((c) => c.uniqueid).filter((id) => !ids.includes(id));
      assert.deepEqual(
        { rows: recorded.length, repeated, missing }, { rows: 500, repeated: [], missing: [] },
        `one decision per call; the plugin logged:\n${warnings.slice(0, 20).join('\n')}`,
      );
      assert.equal(recorded.filter((d) => d.outcome === 'MATCH' && d.method === 'ami').length, 500);
    });
  });

  describe('past maxConcurrentCalls', () => {
    let rig: CallRig;
    before(async () => {
      rig = await CallRig.start({ limits: { maxConcurrentCalls: 2 } });
    });
    after(async () => rig?.close());

    it('sends the extra call to the default destination through AGI at once, OVERLOADED; the others are routed', async () => {
      const held = new HeldAnswers();
      const rule = await rig.createRule({ url: rig.route('/held', held.handler), deadlineSeconds: 5, rows: [{ operator: 'eq', value: 'gold', destination: 'queue:103' }] });
      const first = rig.call(rule, { callerId: '+15550000001' });
      const second = rig.call(rule, { callerId: '+15550000002' });
      await within(held.untilArrived(2), 2000, 'both calls are in their lookup');

      const extra = await rig.call(rule, { callerId: '+15550000003' });
      assert.equal(landed(extra), 'ext-local,100,1 (agi)', extra.dialogue);
      assert.equal(extra.agiStatus, 'SUCCESS');
      assert.deepEqual(
        { status: extra.variables.CRM_ROUTING_STATUS, outcome: extra.variables.CRM_ROUTING_OUTCOME, method: extra.variables.CRM_ROUTING_METHOD },
        { status: 'OVERLOADED', outcome: 'OVERLOADED', method: 'AGI' },
      );
      assert.ok(extra.timings.finalMoveAtMs < 100, `moved after ${extra.timings.finalMoveAtMs} ms`);
      assert.equal(held.arrived, 2, 'no lookup for the extra call');
      assert.equal(rig.ami!.actionsNamed('Redirect').filter((a) => a.headers.channel === extra.channel).length, 0, 'no AMI Redirect tried');

      held.answer();
      for (const call of await Promise.all([first, second])) assert.equal(landed(call), 'ext-queues,103,1 (redirect)', call.dialogue);
      const decision = await rig.decision(rule, extra.uniqueid);
      assert.deepEqual({ outcome: decision.outcome, method: decision.method, lookupMs: decision.lookupMs }, { outcome: 'OVERLOADED', method: 'agi', lookupMs: null });
    });
  });
});
