/**
 * End to end: a call routed by the plugin, then its measured end (asterisk.md) played by the fake
 * AMI on the connection the plugin logged in with; the plugin's call log emits exactly one
 * CompletedCall per call, with the fields the measured rules give, found by the AGI channel's id.
 */
import assert from 'node:assert/strict';
import type { CompletedCall } from '../../src/calllog/completed-call';
import { END_OF_CALL_TRANSCRIPTS, type EndScenario } from '../../scripts/lib/end-of-call/end-of-call-transcripts';
import { playEndOfCall, renderEndOfCall, type RenderedEndOfCall } from '../../scripts/lib/end-of-call/end-of-call-player';
import type { CallResult } from '../../scripts/lib/asterisk-simulator';
import { CallRig } from './support/call-rig';
import { until } from '../support/until';

const GRACE_MS = 300;
const CALLER = '+15550001111';
const DID = '5551234';

interface Expected {
  direction: CompletedCall['direction'];
  disposition: CompletedCall['disposition'];
  externalNumber: string;
  did?: string;
  agentExtension?: string;
  queue?: string;
  talkSeconds: number;
}

const EXPECTED: Record<EndScenario, Expected> = {
  answered: { direction: 'inbound', disposition: 'answered', externalNumber: CALLER, did: DID, agentExtension: '100', talkSeconds: 2 },
  missed: { direction: 'inbound', disposition: 'missed', externalNumber: CALLER, did: DID, talkSeconds: 0 },
  busy: { direction: 'inbound', disposition: 'busy', externalNumber: CALLER, did: DID, talkSeconds: 0 },
  abandoned: { direction: 'inbound', disposition: 'abandoned', externalNumber: CALLER, did: DID, talkSeconds: 0 },
  'abandoned-unanswered': { direction: 'inbound', disposition: 'abandoned', externalNumber: CALLER, did: DID, talkSeconds: 0 },
  queue: { direction: 'inbound', disposition: 'answered', externalNumber: CALLER, did: DID, agentExtension: '100', queue: 'probeq', talkSeconds: 2 },
  'queue-empty': { direction: 'inbound', disposition: 'missed', externalNumber: CALLER, did: DID, queue: 'probeq', talkSeconds: 0 },
  outbound: { direction: 'outbound', disposition: 'answered', externalNumber: '+15557654321', agentExtension: '100', talkSeconds: 1 },
};

const fieldsOf = (c: CompletedCall): Expected => ({
  direction: c.direction, disposition: c.disposition, externalNumber: c.externalNumber, talkSeconds: c.talkSeconds,
  ...(c.did !== undefined ? { did: c.did } : {}), ...(c.agentExtension !== undefined ? { agentExtension: c.agentExtension } : {}), ...(c.queue !== undefined ? { queue: c.queue } : {}),
});

const callsOf = (rig: CallRig, linkedid: string) => rig.completedCalls.filter((c) => c.linkedId === linkedid);

describe('Call log: the plugin reads the end of each call from AMI and emits it once', function () {
  this.timeout(60_000);
  let rig: CallRig;
  let rule: number;
  const played = new Map<EndScenario, { routed?: CallResult; end: RenderedEndOfCall }>();

  /** Routes a call through the rule (unless outbound), then plays the scenario's measured end for it. */
  async function callEndingAs(scenario: EndScenario, options: { duplicate?: boolean } = {}): Promise<{ routed?: CallResult; end: RenderedEndOfCall }> {
    const transcript = END_OF_CALL_TRANSCRIPTS[scenario];
    if (scenario === 'outbound') {
      const end = renderEndOfCall(transcript, { agent: '100' });
      await playEndOfCall(rig.ami!, end.events);
      return { end };
    }
    const routed = await rig.call(rule, { callerId: CALLER, did: DID });
    assert.equal(routed.variables.CRM_ROUTING_OUTCOME, 'MATCH', routed.dialogue);
    const end = renderEndOfCall(transcript, { caller: CALLER, did: DID, inboundChannel: routed.channel, inboundUniqueid: routed.uniqueid });
    const events = options.duplicate ? end.events.flatMap((e) => [e, e]) : end.events;
    await playEndOfCall(rig.ami!, events);
    return { routed, end };
  }

  before(async () => {
    rig = await CallRig.start({ callLogGraceMs: GRACE_MS });
    rule = await rig.createRule({ url: rig.route('/gold', () => ({ body: { value: 'gold' } })), rows: [{ operator: 'eq', value: 'gold', destination: 'extension:100' }] });
    // All scenarios at once, at the measured pace: the plugin assembles them side by side.
    const scenarios = Object.keys(EXPECTED) as EndScenario[];
    const results = await Promise.all(scenarios.map((s) => callEndingAs(s)));
    scenarios.forEach((s, i) => played.set(s, results[i]!));
    await until(() => scenarios.every((s) => callsOf(rig, played.get(s)!.end.linkedid).length > 0), 5000);
    // Long enough for a second emission of any call to show.
    await new Promise((resolve) => setTimeout(resolve, GRACE_MS * 3));
  });
  after(async () => rig?.close());

  for (const scenario of Object.keys(EXPECTED) as EndScenario[]) {
    it(`${END_OF_CALL_TRANSCRIPTS[scenario].measured} ${scenario}: exactly one call with the measured fields`, async () => {
      const { routed, end } = played.get(scenario)!;
      const calls = callsOf(rig, end.linkedid);
      assert.equal(calls.length, 1, JSON.stringify(calls));
      const call = calls[0]!;
      // Played at the measured pace on a shared machine: the answer or the hang-up may leave a little late.
      const { talkSeconds, ...rest } = EXPECTED[scenario];
      assert.deepEqual({ ...fieldsOf(call), talkSeconds: undefined }, { ...rest, talkSeconds: undefined });
      if (talkSeconds === 0) assert.equal(call.talkSeconds, 0);
      else assert.ok(Math.abs(call.talkSeconds - talkSeconds) <= 1, `talked ${call.talkSeconds} s, measured ${talkSeconds} s`);
      assert.equal(call.tenantId, 'default');
      if (routed) {
        assert.ok(call.channelUniqueIds.includes(routed.uniqueid), 'the AGI channel is among the call channels');
        const decision = await rig.decision(rule, routed.uniqueid);
        assert.ok(call.channelUniqueIds.includes(decision.callId), 'its routing decision is found by a channel uniqueid');
      }
    });
  }

  it('emits one call when every event arrives twice', async () => {
    const { end } = await callEndingAs('missed', { duplicate: true });
    await until(() => callsOf(rig, end.linkedid).length > 0, 5000);
    await new Promise((resolve) => setTimeout(resolve, GRACE_MS * 3));
    assert.equal(callsOf(rig, end.linkedid).length, 1);
    assert.equal(callsOf(rig, end.linkedid)[0]!.disposition, 'missed');
  });

  it('emits one call whose events were split by an AMI reconnect', async () => {
    const routed = await rig.call(rule, { callerId: CALLER, did: DID });
    const end = renderEndOfCall(END_OF_CALL_TRANSCRIPTS.answered, { caller: CALLER, did: DID, inboundChannel: routed.channel, inboundUniqueid: routed.uniqueid });
    const half = end.events.findIndex((e) => e.atMs > 1000);
    await playEndOfCall(rig.ami!, end.events.slice(0, half));
    rig.ami!.dropConnections();
    assert.ok(await rig.ami!.waitForLogin(5000), 'the plugin logs in again');
    await until(() => rig.ami!.sessionStates().some((s) => s.authenticated && s.events), 3000);
    await playEndOfCall(rig.ami!, end.events.slice(half));
    await until(() => callsOf(rig, end.linkedid).length > 0, 5000);
    await new Promise((resolve) => setTimeout(resolve, GRACE_MS * 3));
    const calls = callsOf(rig, end.linkedid);
    assert.equal(calls.length, 1);
    assert.deepEqual([calls[0]!.disposition, calls[0]!.agentExtension], ['answered', '100']);
  });

  it('asks Asterisk for the call, cdr and agent event classes on its AMI connection', () => {
    const masks = rig.ami!.actionsNamed('Events').map((a) => a.headers.eventmask);
    assert.ok(masks.length > 0 && masks.every((m) => m === 'call,cdr,agent'), JSON.stringify(masks));
  });

  it('reports the call log in the plugin health: calls emitted, none dropped', async () => {
    const callLog = (await rig.host.host.plugin.health()).callLog;
    assert.ok(callLog && callLog.completed === rig.completedCalls.length && callLog.completed >= 10, JSON.stringify(callLog));
    assert.deepEqual([callLog.openCalls, callLog.droppedOverflow, callLog.droppedIdle, callLog.droppedCdrs], [0, 0, 0, 0]);
  });

  it('CRM > Integration says the call log is reading calls, and what to put in manager.conf, cdr_manager.conf and cel.conf', async () => {
    const page = await rig.admin.get('/crm/integration');
    assert.equal(page.status, 200);
    assert.match(page.text, /Call log: what Asterisk must send<span class="crm-badge crm-badge-on">Reading calls<\/span>/);
    for (const line of ['read = call,cdr,agent', 'write = call', 'enabled = yes', 'events = ALL', '[manager]']) assert.ok(page.text.includes(line), line);
  });
});
