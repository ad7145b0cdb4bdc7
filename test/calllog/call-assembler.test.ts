import assert from 'node:assert/strict';
import { amiEventOf } from '../../src/calllog/ami-event';
import { CallAssembler, type CallAssemblerOptions } from '../../src/calllog/call-assembler';
import type { CompletedCall } from '../../src/calllog/completed-call';
import { END_OF_CALL_TRANSCRIPTS, type EndScenario, type TimedAmiEvent } from '../../scripts/lib/end-of-call/end-of-call-transcripts';
import { renderEndOfCall } from '../../scripts/lib/end-of-call/end-of-call-player';
import { seededRandom } from '../../scripts/lib/seeded-random';

const EXTENSIONS = new Set(['100', '101', '102', '200']);
const GRACE = 1500;

function assembler(extra: Partial<CallAssemblerOptions> = {}): CallAssembler {
  return new CallAssembler({
    isExtension: (n) => EXTENSIONS.has(n),
    tenantOf: ({ did, extension }) => (did?.startsWith('+1555999') || extension ? 'tenant-a' : undefined),
    timeZone: 'UTC',
    graceMs: GRACE,
    ...extra,
  });
}

/** The measured call's start: its Linkedid's seconds. */
const t0Of = (scenario: EndScenario) => Number(END_OF_CALL_TRANSCRIPTS[scenario].linkedid.split('.')[0]) * 1000;

/** Feeds the events at t0 + atMs, then flushes well after the grace period. */
function play(events: readonly TimedAmiEvent[], t0: number, a = assembler()): CompletedCall[] {
  for (const e of events) a.push(amiEventOf(e.headers), t0 + e.atMs);
  return a.flush(t0 + (events.at(-1)?.atMs ?? 0) + GRACE);
}

function only(calls: CompletedCall[]): CompletedCall {
  assert.equal(calls.length, 1, `exactly one call: ${JSON.stringify(calls)}`);
  return calls[0]!;
}

const essentials = (c: CompletedCall) => ({
  direction: c.direction, disposition: c.disposition, externalNumber: c.externalNumber, did: c.did, agentExtension: c.agentExtension,
  queue: c.queue, talkSeconds: c.talkSeconds, tenantId: c.tenantId,
});

const EXPECTED: Record<EndScenario, ReturnType<typeof essentials>> = {
  answered: { direction: 'inbound', disposition: 'answered', externalNumber: '+15550001111', did: '+15559990001', agentExtension: '100', queue: undefined, talkSeconds: 2, tenantId: 'tenant-a' },
  missed: { direction: 'inbound', disposition: 'missed', externalNumber: '+15550001111', did: '+15559990002', agentExtension: undefined, queue: undefined, talkSeconds: 0, tenantId: 'tenant-a' },
  busy: { direction: 'inbound', disposition: 'busy', externalNumber: '+15550001111', did: '+15559990003', agentExtension: undefined, queue: undefined, talkSeconds: 0, tenantId: 'tenant-a' },
  abandoned: { direction: 'inbound', disposition: 'abandoned', externalNumber: '+15550001111', did: '+15559990004', agentExtension: undefined, queue: undefined, talkSeconds: 0, tenantId: 'tenant-a' },
  'abandoned-unanswered': { direction: 'inbound', disposition: 'abandoned', externalNumber: '+15550001111', did: '+15559990044', agentExtension: undefined, queue: undefined, talkSeconds: 0, tenantId: 'tenant-a' },
  queue: { direction: 'inbound', disposition: 'answered', externalNumber: '+15550001111', did: '+15559990055', agentExtension: '100', queue: 'probeq', talkSeconds: 2, tenantId: 'tenant-a' },
  'queue-empty': { direction: 'inbound', disposition: 'missed', externalNumber: '+15550001111', did: '+15559990005', agentExtension: undefined, queue: 'probeq', talkSeconds: 0, tenantId: 'tenant-a' },
  outbound: { direction: 'outbound', disposition: 'answered', externalNumber: '+15557654321', did: undefined, agentExtension: '200', queue: undefined, talkSeconds: 1, tenantId: 'tenant-a' },
};

describe('CallAssembler: the measured ends of calls (asterisk.md) give one CompletedCall each', () => {
  for (const scenario of Object.keys(EXPECTED) as EndScenario[]) {
    const transcript = END_OF_CALL_TRANSCRIPTS[scenario];
    it(`${transcript.measured} ${scenario}: ${transcript.summary}`, () => {
      const t0 = t0Of(scenario);
      const call = only(play(transcript.events, t0));
      assert.deepEqual(essentials(call), EXPECTED[scenario]);
      assert.equal(call.linkedId, transcript.linkedid);
      assert.ok(call.channelUniqueIds.includes(transcript.parties.inboundUniqueids[1]), 'the dialplan leg (where AGI runs) is among the channels');
      assert.equal(call.startedAt.getTime(), t0 + transcript.events[0]!.atMs, 'started when its first channel appeared');
      const lastHangup = Math.max(...transcript.events.filter((e) => /^(Hangup|CEL)$/.test(e.headers[0]![1])).map((e) => e.atMs));
      assert.equal(call.endedAt.getTime(), t0 + lastHangup);
      if (call.disposition === 'answered') assert.ok(call.answeredAt && call.answeredAt > call.startedAt, 'answered when the agent answered, not the inbound Answer()');
      else assert.equal(call.answeredAt, undefined);
    });
  }

  it('talk time runs from the agent answering (DialEnd ANSWER), not the inbound leg BillableSeconds', () => {
    const call = only(play(END_OF_CALL_TRANSCRIPTS.answered.events, 0));
    assert.equal(call.answeredAt?.getTime(), 512);
    assert.equal(call.talkSeconds, Math.floor((3019 - 512) / 1000));
  });

  it('a missed call whose inbound leg was answered first (NO ANSWER, 3 billable seconds) has no talk time', () => {
    const call = only(play(END_OF_CALL_TRANSCRIPTS.missed.events, 0));
    assert.deepEqual([call.disposition, call.talkSeconds, call.answeredAt], ['missed', 0, undefined]);
  });
});

describe('CallAssembler: what AMI does to the events', () => {
  it('counts each event once when every event arrives twice', () => {
    const a = assembler();
    const doubled = END_OF_CALL_TRANSCRIPTS.queue.events.flatMap((e) => [e, e]);
    const call = only(play(doubled, 0, a));
    assert.deepEqual(essentials(call), EXPECTED.queue);
    assert.equal(a.stats().duplicateEvents, END_OF_CALL_TRANSCRIPTS.queue.events.length);
  });

  for (const scenario of Object.keys(EXPECTED) as EndScenario[]) {
    it(`${scenario}: the same call whatever order the teardown events come in (20 shuffles)`, () => {
      const events = END_OF_CALL_TRANSCRIPTS[scenario].events;
      const random = seededRandom(scenario.length * 7919);
      // The teardown (the last 10 ms) comes in no fixed order; earlier events are seconds apart.
      const lastAt = events.at(-1)!.atMs;
      const head = events.filter((e) => e.atMs < lastAt - 10);
      const tail = events.filter((e) => e.atMs >= lastAt - 10);
      for (let round = 0; round < 20; round++) {
        const shuffled = [...tail].sort(() => random() - 0.5).map((e, i) => ({ ...e, atMs: tail[i]!.atMs }));
        const call = only(play([...head, ...shuffled], 0));
        assert.deepEqual({ ...essentials(call), talkSeconds: undefined }, { ...EXPECTED[scenario], talkSeconds: undefined }, `round ${round}`);
      }
    });
  }

  it('assembles a call whose events were split by an AMI reconnect, losing Newchannel and DialEnd in the gap', () => {
    const events = END_OF_CALL_TRANSCRIPTS.answered.events;
    // Connected only after the agent answered: no Newchannel, DialBegin, DialEnd or OriginateResponse.
    const afterGap = events.filter((e) => e.atMs > 1000);
    const call = only(play(afterGap, t0Of('answered')));
    assert.equal(call.disposition, 'answered', 'from the inbound CEL HANGUP dialstatus');
    assert.equal(call.agentExtension, '100');
    assert.equal(call.talkSeconds, 3, 'without DialEnd: the business record BillableSeconds, an upper bound');
    assert.equal(call.startedAt.toISOString(), '2026-12-04T14:42:04.000Z', 'the earliest Cdr StartTime, read in the Asterisk zone');
  });

  it('does not end a call joined half-way when only its agent channels have hung up', () => {
    const a = assembler();
    const events = END_OF_CALL_TRANSCRIPTS.missed.events;
    const agentTeardown = events.filter((e) => e.atMs === 3533);
    for (const e of agentTeardown) a.push(amiEventOf(e.headers), e.atMs);
    assert.deepEqual(a.flush(10_000), [], 'the first channel (uniqueid = Linkedid) is still up');
    for (const e of events.filter((x) => x.atMs > 3533)) a.push(amiEventOf(e.headers), e.atMs);
    assert.equal(only(a.flush(10_000)).disposition, 'missed');
  });

  it('ties a Cdr that arrives before any event of its channel to the call once the channel shows up', () => {
    const events = END_OF_CALL_TRANSCRIPTS['queue-empty'].events;
    const cdrs = events.filter((e) => e.headers[0]![1] === 'Cdr');
    const rest = events.filter((e) => e.headers[0]![1] !== 'Cdr');
    const call = only(play([...cdrs.map((c) => ({ ...c, atMs: 0 })), ...rest], 0));
    assert.equal(call.did, '+15559990005');
  });

  it('takes the LinkedID of a Cdr when cdr_manager.conf maps it (S7b), even before any other event of the call', () => {
    const events = END_OF_CALL_TRANSCRIPTS.answered.events.map((e) =>
      e.headers[0]![1] === 'Cdr' ? { ...e, headers: [...e.headers, ['LinkedID', END_OF_CALL_TRANSCRIPTS.answered.linkedid] as const] } : e);
    const cdrs = events.filter((e) => e.headers[0]![1] === 'Cdr').map((e) => ({ ...e, atMs: 0 }));
    const call = only(play([...cdrs, ...events.filter((e) => e.headers[0]![1] !== 'Cdr')], 0));
    assert.deepEqual(essentials(call), EXPECTED.answered);
  });

  it('ignores events of a call already emitted, so a straggler never makes a second call', () => {
    const a = assembler();
    const events = END_OF_CALL_TRANSCRIPTS.busy.events;
    only(play(events, 0, a));
    for (const e of events.slice(-6)) a.push(amiEventOf(e.headers), 60_000);
    assert.deepEqual(a.flush(120_000), []);
    assert.ok(a.stats().lateEvents >= 6);
  });
});

describe('CallAssembler: grace period and bounds', () => {
  it('waits the grace period after the last hang-up; a Cdr after LINKEDID_END (S5a) still counts', () => {
    const a = assembler();
    const events = END_OF_CALL_TRANSCRIPTS['queue-empty'].events;
    const beforeCdrs = events.filter((e) => e.headers[0]![1] !== 'Cdr');
    for (const e of beforeCdrs) a.push(amiEventOf(e.headers), e.atMs);
    const ended = beforeCdrs.at(-1)!.atMs;
    assert.deepEqual(a.flush(ended + GRACE - 1), [], 'not before the grace period is over');
    for (const e of events.filter((x) => x.headers[0]![1] === 'Cdr')) a.push(amiEventOf(e.headers), ended + 1000);
    assert.deepEqual(a.flush(ended + GRACE), [], 'the late Cdrs restarted the grace period');
    const call = only(a.flush(ended + 1000 + GRACE));
    assert.equal(call.did, '+15559990005');
    assert.equal(a.nextDueAt(), undefined);
  });

  it('keeps at most maxOpenCalls calls, dropping the oldest and counting it', () => {
    const a = assembler({ maxOpenCalls: 3 });
    const transcript = END_OF_CALL_TRANSCRIPTS.answered;
    const calls = [1, 2, 3, 4, 5].map((n) => renderEndOfCall(transcript, { startedAt: n * 1000 }));
    for (const [i, c] of calls.entries()) for (const e of c.events.filter((x) => x.atMs < 1000)) a.push(amiEventOf(e.headers), i);
    assert.deepEqual([a.stats().openCalls, a.stats().droppedOverflow], [3, 2]);
    // The dropped calls' ends are ignored (late), the kept ones complete.
    for (const c of calls) for (const e of c.events.filter((x) => x.atMs >= 1000)) a.push(amiEventOf(e.headers), 5000);
    const done = a.flush(5000 + GRACE);
    assert.deepEqual(done.map((c) => c.linkedId).sort(), calls.slice(2).map((c) => c.linkedid).sort());
  });

  it('drops a call whose end never comes after maxIdleMs, and a Cdr whose call never shows up', () => {
    const a = assembler({ maxIdleMs: 60_000, pendingCdrMs: 5000 });
    const events = END_OF_CALL_TRANSCRIPTS.answered.events;
    for (const e of events.filter((x) => x.atMs < 1000)) a.push(amiEventOf(e.headers), 0);
    a.push(amiEventOf(END_OF_CALL_TRANSCRIPTS.missed.events.find((e) => e.headers[0]![1] === 'Cdr')!.headers), 0);
    assert.deepEqual(a.flush(60_000), []);
    assert.deepEqual([a.stats().openCalls, a.stats().droppedIdle, a.stats().droppedCdrs], [0, 1, 1]);
  });
});

describe('CallAssembler: direction and tenant', () => {
  it('skips a call between two extensions', () => {
    const a = assembler();
    const internal = renderEndOfCall(END_OF_CALL_TRANSCRIPTS.answered, { caller: '101', startedAt: 0 });
    assert.deepEqual(play(internal.events, 0, a), []);
    assert.equal(a.stats().skippedInternal, 1);
  });

  it('an extension calling out is outbound, with the number it dialled', () => {
    const out = renderEndOfCall(END_OF_CALL_TRANSCRIPTS.outbound, { agent: '101', dialled: '+442071234567', startedAt: 0 });
    const call = only(play(out.events, 0));
    assert.deepEqual([call.direction, call.agentExtension, call.externalNumber], ['outbound', '101', '+442071234567']);
  });

  it('asks the host for the tenant with the DID and the extension, and logs nothing it does not claim', () => {
    const asked: unknown[] = [];
    const a = assembler({ tenantOf: (party) => (asked.push(party), undefined) });
    assert.deepEqual(play(END_OF_CALL_TRANSCRIPTS.answered.events, 0, a), []);
    assert.deepEqual(asked, [{ did: '+15559990001', extension: '100' }]);
    assert.equal(a.stats().skippedNoTenant, 1);
  });

  it('without isExtension every call is inbound', () => {
    const call = only(play(END_OF_CALL_TRANSCRIPTS.outbound.events, 0, assembler({ isExtension: () => false, tenantOf: () => 'tenant-a' })));
    assert.equal(call.direction, 'inbound');
  });
});
