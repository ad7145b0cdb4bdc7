import assert from 'node:assert/strict';
import { runAgiFuzz } from '../../scripts/lib/agi-fuzz-streams';
import { garbageCall } from '../../scripts/lib/garbage-call';
import { SilentConnections } from '../../scripts/lib/silent-connections';
import { recordingLogger } from '../support/agi-fake-asterisk';
import { until } from '../support/until';
import { ADMIN } from '../support/test-host';
import { CallRig, signedScript } from './support/call-rig';

describe('Live calls under a hostile FastAGI peer: silent connections, garbage lines, fuzzed streams', function () {
  this.timeout(60_000);
  const { logger, lines } = recordingLogger();
  let rig: CallRig;
  let rule: number;

  before(async () => {
    // A smaller cap than plugin.json's 500, so a test-sized flood reaches it.
    rig = await CallRig.start({ logger, limits: { maxPendingHeaders: 40 } });
    rule = await rig.createRule({ url: rig.route('/gold', () => ({ body: { value: 'gold' } })), rows: [{ operator: 'eq', value: 'gold', destination: 'queue:103' }] });
  });
  after(async () => rig?.close());

  it('routes a real call while 1,500 connections stay open without a header (reopened as they are closed)', async () => {
    const silent = new SilentConnections({ port: rig.agiPort, count: 1_500 });
    try {
      await silent.start();
      const health = (await rig.host.host.plugin.health()).agi;
      assert.ok(health.pendingHeaders <= 40, `${health.pendingHeaders} connections without a header kept`);
      for (let i = 0; i < 3; i += 1) {
        const call = await rig.call(rule);
        assert.equal(call.variables.CRM_ROUTING_OUTCOME, 'MATCH', call.dialogue);
        assert.deepEqual(call.ended, { kind: 'dialplan', context: 'ext-queues', exten: '103', priority: 1, via: 'redirect' });
      }
      assert.ok(silent.snapshot().closedByServer > 1_000, 'the server closed the silent ones to make room');
    } finally {
      silent.stop();
    }
  });

  it('logs 3 of 20,000 garbage lines of a call and one line with the total; the call is still routed', async () => {
    lines.length = 0;
    // The fake AMI does not know this raw peer's channel: its Redirect fails and the call is moved with AGI.
    const moved = await garbageCall(rig.agiPort, signedScript(rule, ADMIN.tenantId), 20_000, 1);
    assert.equal(moved, 'ext-queues');
    await until(() => lines.some((l) => l.message === 'Call routed'), 5_000);
    const unexpected = lines.filter((l) => l.message === 'Unexpected line from Asterisk ignored');
    assert.equal(unexpected.length, 3);
    await until(() => lines.some((l) => l.message === 'AGI session ignored unexpected lines from Asterisk'), 5_000);
    assert.equal(lines.find((l) => l.message === 'AGI session ignored unexpected lines from Asterisk')?.fields.lines, 20_000);
    const ofCall = lines.filter((l) => l.level !== 'debug' && l.fields.uniqueId === '1795556051.1');
    assert.ok(ofCall.length <= 8, `${ofCall.length} lines for one call: ${ofCall.map((l) => l.message).join(' | ')}`);
  });

  it('survives 400 fuzzed streams: every valid one routed, no session left open, the next call routed', async () => {
    const result = await runAgiFuzz({ port: rig.agiPort, streams: 400, concurrency: 50, script: signedScript(rule, ADMIN.tenantId), seed: 3, streamTimeoutMs: 2_000 });
    assert.equal(result.streams, 400);
    assert.ok(result.validCalls > 10);
    // The fake AMI does not know the fuzzer's channels: each Redirect fails and the call is moved with AGI.
    assert.equal(result.validRouted, result.validCalls, JSON.stringify(result));
    await until(async () => (await rig.host.host.plugin.health()).agi.connections === 0, 10_000);
    const call = await rig.call(rule);
    assert.equal(call.variables.CRM_ROUTING_OUTCOME, 'MATCH', call.dialogue);
  });
});
