import assert from 'node:assert/strict';
import type { CallResult } from '../../scripts/lib/asterisk-simulator';
import { CallRig, commandsOf } from './support/call-rig';

const GOLD_TO_QUEUE_103 = [{ operator: 'eq' as const, value: 'gold', destination: 'queue:103' }];

/** What a call moved with AGI alone must show: the three SET commands, then the target. */
function assertMovedWithAgi(call: CallResult): void {
  assert.deepEqual(call.ended, { kind: 'dialplan', context: 'ext-queues', exten: '103', priority: 1, via: 'agi' }, call.dialogue);
  assert.equal(call.agiStatus, 'SUCCESS');
  assert.equal(call.variables.CRM_ROUTING_METHOD, 'AGI');
  assert.equal(call.variables.CRM_ROUTING_OUTCOME, 'MATCH');
  const commands = commandsOf(call);
  const moves = commands.filter((c) => /^SET (CONTEXT|EXTENSION|PRIORITY) /.test(c));
  assert.deepEqual(moves, ['SET CONTEXT "ext-queues"', 'SET EXTENSION "103"', 'SET PRIORITY 1']);
  assert.equal(commands.at(-1), 'SET PRIORITY 1', 'the session ends right after the move');
}

async function ruleOn(rig: CallRig): Promise<number> {
  return rig.createRule({ url: rig.route('/gold', () => ({ body: { value: 'gold' } })), rows: GOLD_TO_QUEUE_103 });
}

describe('Live call routing: AMI unavailable, the call is moved with AGI', function () {
  this.timeout(30_000);

  describe('AMI settings pointing at a closed port', () => {
    let rig: CallRig;
    before(async () => {
      rig = await CallRig.start({ ami: 'closed-port' });
    });
    after(async () => rig?.close());

    it('lands at the target through SET CONTEXT/EXTENSION/PRIORITY at once, CRM_ROUTING_METHOD=AGI', async () => {
      const rule = await ruleOn(rig);
      const call = await rig.call(rule);
      assertMovedWithAgi(call);
      assert.ok(call.timings.finalMoveAtMs < 300, `no wait for AMI: moved after ${call.timings.finalMoveAtMs} ms`);
      assert.equal((await rig.host.host.plugin.health()).ami.connected, false);
      const decision = await rig.decision(rule, call.uniqueid);
      assert.deepEqual({ method: decision.method, outcome: decision.outcome }, { method: 'agi', outcome: 'MATCH' });
    });
  });

  describe('AMI not configured', () => {
    let rig: CallRig;
    before(async () => {
      rig = await CallRig.start({ ami: 'none' });
    });
    after(async () => rig?.close());

    it('moves every call with AGI', async () => {
      const rule = await ruleOn(rig);
      const call = await rig.call(rule);
      assertMovedWithAgi(call);
      assert.deepEqual((await rig.host.host.plugin.health()).ami, { configured: false, connected: false });
      assert.equal((await rig.decision(rule, call.uniqueid)).method, 'agi');
    });
  });

  describe('AMI up, but it cannot move this call', () => {
    let rig: CallRig;
    let rule: number;
    before(async () => {
      rig = await CallRig.start();
      rule = await ruleOn(rig);
    });
    after(async () => rig?.close());

    it('falls back to AGI when the Redirect answers Error (a channel AMI does not know)', async () => {
      const channel = 'Local/5551234@from-did-0000beef;2';
      rig.unknownToAmi(channel);
      const call = await rig.call(rule, { channel });
      assertMovedWithAgi(call);
      const redirect = rig.ami!.actionsNamed('Redirect').at(-1);
      assert.equal(redirect?.headers.channel, channel, 'the Redirect was tried first');
      assert.equal((await rig.decision(rule, call.uniqueid)).method, 'agi');
    });

    it('falls back to AGI when the Redirect gets no answer within 500 ms', async () => {
      rig.ami!.silent = true;
      try {
        const call = await rig.call(rule);
        assertMovedWithAgi(call);
        assert.ok(call.timings.finalMoveAtMs >= 500 && call.timings.finalMoveAtMs < 700, `moved after ${call.timings.finalMoveAtMs} ms`);
      } finally {
        rig.ami!.silent = false;
      }
    });

    it('falls back to AGI once the AMI server has gone away', async () => {
      const before = await rig.call(rule);
      assert.equal(before.ended.kind === 'dialplan' && before.ended.via, 'redirect', 'AMI works at first');
      await rig.ami!.close();
      const call = await rig.call(rule);
      assertMovedWithAgi(call);
      assert.ok(call.timings.finalMoveAtMs < 300, `moved after ${call.timings.finalMoveAtMs} ms`);
    });
  });
});
