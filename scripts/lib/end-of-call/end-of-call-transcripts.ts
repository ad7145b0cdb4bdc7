/**
 * The end-of-call AMI events of the calls measured on Asterisk 22.10.1 (shared/reference/
 * asterisk.md, "AMI events at the end of a call"), as the plugin's AMI user (`read = call,cdr,agent`)
 * receives them: the one place the call simulator, the fake AMI and the tests take them from.
 *
 * What is measured and what is not:
 * - Byte for byte from asterisk.md: the S1 business Cdr, the S2 DialEnd and the S2 inbound CEL
 *   HANGUP (test/scripts/end-of-call-transcripts.test.ts compares them with the document); the
 *   header order of every Cdr, CEL and channel event; every Cdr of every scenario (the table
 *   "Every Cdr event of the measured calls", in arrival order); the order and offsets of the
 *   listed events of S1, S2 and S4a; DialStatus, Cause and CEL Extra values; the queue events'
 *   names and order.
 * - Reconstructed where asterisk.md gives no bytes: the channel snapshot values of events other
 *   than the S2 DialEnd (state, priority, connected line), the uniqueids and channel numbers of
 *   S3 to S6 (continuing the measured sequence), the order of the teardown of S3, S4b, S5a, S5b
 *   and S6 (following the measured rules: Cdrs after LINKEDID_END in S5a, Hangups after it in S3),
 *   queue event fields, and EventTimes.
 * - Left out: events the plugin's user never receives (VarSet, Newexten: class dialplan) and the
 *   ones asterisk.md counts as "other" without listing them (Newstate, BridgeEnter, other CEL).
 */
import {
  cdr, cel, dialBegin, dialEnd, dialState, hangup, hangupExtra, newchannel, originateResponse, queueEvent,
  type AmiHeaders, type ChannelState,
} from './ami-event-builders';

export type EndScenario = 'answered' | 'missed' | 'busy' | 'abandoned' | 'abandoned-unanswered' | 'queue' | 'queue-empty' | 'outbound';

export interface TimedAmiEvent {
  /** Milliseconds after the Originate that started the measured call. */
  atMs: number;
  headers: AmiHeaders;
}

export interface EndOfCallTranscript {
  scenario: EndScenario;
  /** The name in asterisk.md (S1, S2, ...). */
  measured: string;
  summary: string;
  linkedid: string;
  /** The numbers and names of the measured call, which the simulator replaces with its own. */
  parties: {
    caller: string;
    did: string;
    /** The extension the call rang or was placed from. */
    agent?: string;
    /** The outside number an outbound call dialled. */
    dialled?: string;
    /** `Local/<exten>@<context>-<n>` of the inbound (or placing) pair: `;1` is the caller, `;2` ran the dialplan. */
    inboundPair: string;
    inboundUniqueids: [string, string];
    /** The other pair (agent or outside party), when there is one. */
    otherPair?: string;
    otherUniqueids?: [string, string];
  };
  events: TimedAmiEvent[];
}

const CALLER = '+15550001111';
const CALLER_ID = `"Probe" <${CALLER}>`;
const DAY = '2026-12-04 14:';

interface Pair {
  one: ChannelState;
  two: ChannelState;
}

/** The two halves of `Local/<exten>@<context>-<hex>` with uniqueids `<epoch>.<n>` and `<epoch>.<n+1>`. */
function localPair(exten: string, context: string, hex: string, epoch: number, n: number, linkedid: string, base: Partial<ChannelState> = {}): Pair {
  const name = `Local/${exten}@${context}-${hex}`;
  const common = {
    linkedid, state: 6, callerNum: CALLER, callerName: 'Probe', connectedNum: CALLER, connectedName: 'Probe', context, exten, priority: 1, ...base,
  };
  return {
    one: { ...common, name: `${name};1`, uniqueid: `${epoch}.${n}` },
    two: { ...common, name: `${name};2`, uniqueid: `${epoch}.${n + 1}` },
  };
}

const at = (atMs: number, headers: AmiHeaders): TimedAmiEvent => ({ atMs, headers });
const time = (mmss: string) => `${DAY}${mmss}`;

interface InboundCdr {
  channel: ChannelState;
  destination: string;
  context: string;
  destinationChannel?: ChannelState;
  app: string;
  data?: string;
  start: string;
  answer: string;
  end: string;
  duration: number;
  billable: number;
  disposition: string;
}

function cdrOf(c: InboundCdr): AmiHeaders {
  return cdr({
    source: CALLER, destination: c.destination, destinationContext: c.context, callerId: CALLER_ID, channel: c.channel.name,
    destinationChannel: c.destinationChannel?.name ?? '', lastApplication: c.app, lastData: c.data ?? '',
    start: time(c.start), answer: c.answer === '' ? '' : time(c.answer), end: time(c.end),
    duration: c.duration, billable: c.billable, disposition: c.disposition, uniqueid: c.channel.uniqueid,
  });
}

/** The originate that placed the measured call: DialBegin/DialEnd without Channel, then OriginateResponse. */
function originate(inbound: Pair, did: string, atMs: number): TimedAmiEvent[] {
  return [
    at(2, dialBegin(undefined, { ...inbound.one, state: 0 }, `${did}@probe-in`)),
    at(atMs, dialEnd(undefined, inbound.one, 'ANSWER')),
    at(atMs, originateResponse(inbound.one, 'Wait', '20')),
  ];
}

function s1Answered(): EndOfCallTranscript {
  const linkedid = '1796395324.1200';
  const did = '+15559990001';
  const inbound = localPair(did, 'probe-in', '00000258', 1796395324, 1200, linkedid);
  const agent = localPair('100', 'probe-agent-answer', '00000259', 1796395324, 1202, linkedid, { callerNum: did, exten: did });
  const in2 = { ...inbound.two, priority: 4 };
  const ag2 = { ...agent.two, callerNum: CALLER, connectedNum: did, exten: '100', priority: 3 };
  return {
    scenario: 'answered', measured: 'S1', summary: 'in Answer, Dial(Local/100@probe-agent-answer,10); the agent answers, talks 2 s, hangs up', linkedid,
    parties: { caller: CALLER, did, agent: '100', inboundPair: 'Local/+15559990001@probe-in-00000258', inboundUniqueids: ['1796395324.1200', '1796395324.1201'], otherPair: 'Local/100@probe-agent-answer-00000259', otherUniqueids: ['1796395324.1202', '1796395324.1203'] },
    events: [
      at(2, newchannel(inbound.one)),
      at(2, newchannel(inbound.two)),
      ...originate(inbound, did, 505),
      at(509, newchannel(agent.one)),
      at(509, newchannel(agent.two)),
      at(509, dialBegin(in2, { ...agent.one, state: 0 }, '100@probe-agent-answer')),
      at(512, dialEnd(in2, agent.one, 'ANSWER')),
      at(3011, cdrOf({ channel: ag2, destination: '100', context: 'probe-agent-answer', app: 'Hangup', start: '42:05', answer: '42:05', end: '42:07', duration: 2, billable: 2, disposition: 'ANSWERED' })),
      at(3011, cel('HANGUP', ag2, { time: time('42:07'), extra: hangupExtra(16, 'dialplan/builtin', '') })),
      at(3016, hangup(ag2, 16, 'Normal Clearing')),
      at(3017, cdrOf({ channel: in2, destination: did, context: 'probe-in', destinationChannel: agent.one, app: 'Dial', data: 'Local/100@probe-agent-answer,10', start: '42:04', answer: '42:04', end: '42:07', duration: 3, billable: 3, disposition: 'ANSWERED' })),
      at(3017, cdrOf({ channel: inbound.one, destination: did, context: 'probe-in', app: 'Wait', data: '20', start: '42:04', answer: '42:04', end: '42:07', duration: 3, billable: 3, disposition: 'ANSWERED' })),
      at(3017, cel('HANGUP', in2, { time: time('42:07'), extra: hangupExtra(16, '', 'ANSWER') })),
      at(3017, cel('HANGUP', inbound.one, { time: time('42:07'), extra: hangupExtra(16, '', '') })),
      at(3018, hangup(in2, 16, 'Normal Clearing')),
      at(3018, hangup(inbound.one, 16, 'Normal Clearing')),
      at(3018, hangup(agent.one, 16, 'Normal Clearing')),
      at(3018, cel('HANGUP', agent.one, { time: time('42:07'), extra: hangupExtra(16, '', '') })),
      at(3019, cel('LINKEDID_END', agent.one, { time: time('42:07') })),
    ],
  };
}

function s2Missed(): EndOfCallTranscript {
  const linkedid = '1796395352.1204';
  const did = '+15559990002';
  const inbound = localPair(did, 'probe-in', '0000025a', 1796395352, 1204, linkedid);
  const agent = localPair('101', 'probe-agent-noanswer', '0000025b', 1796395352, 1206, linkedid, { callerNum: did, exten: did });
  const in2 = { ...inbound.two, priority: 4 };
  const ag1 = { ...agent.one, state: 5 };
  const ag2 = { ...agent.two, state: 5, callerNum: CALLER, connectedNum: did, exten: '101', priority: 2 };
  const in2After = { ...in2, priority: 5 };
  return {
    scenario: 'missed', measured: 'S2', summary: 'Dial(Local/101@probe-agent-noanswer,3): the agent rings 3 s, nobody answers, the dialplan hangs up', linkedid,
    parties: { caller: CALLER, did, agent: '101', inboundPair: 'Local/+15559990002@probe-in-0000025a', inboundUniqueids: ['1796395352.1204', '1796395352.1205'], otherPair: 'Local/101@probe-agent-noanswer-0000025b', otherUniqueids: ['1796395352.1206', '1796395352.1207'] },
    events: [
      at(3, newchannel(inbound.one)),
      at(4, newchannel(inbound.two)),
      ...originate(inbound, did, 512),
      at(516, newchannel(agent.one)),
      at(516, newchannel(agent.two)),
      at(516, dialBegin(in2, { ...agent.one, state: 0 }, '101@probe-agent-noanswer')),
      at(516, dialState(in2, ag1, 'RINGING')),
      at(3533, cel('HANGUP', ag1, { time: time('42:35'), extra: hangupExtra(0, '', '') })),
      at(3533, cel('HANGUP', ag2, { time: time('42:35'), extra: hangupExtra(0, '', '') })),
      at(3533, dialEnd(in2, ag1, 'NOANSWER')),
      at(3533, hangup(ag1, 0, 'Unknown')),
      at(3533, hangup(ag2, 0, 'Unknown')),
      at(3534, cdrOf({ channel: inbound.one, destination: did, context: 'probe-in', app: 'Wait', data: '20', start: '42:32', answer: '42:32', end: '42:35', duration: 3, billable: 3, disposition: 'ANSWERED' })),
      at(3534, cel('HANGUP', inbound.one, { time: time('42:35'), extra: hangupExtra(16, '', '') })),
      at(3534, cdrOf({ channel: in2, destination: did, context: 'probe-in', destinationChannel: agent.one, app: 'Dial', data: 'Local/101@probe-agent-noanswer,3', start: '42:32', answer: '42:32', end: '42:35', duration: 3, billable: 3, disposition: 'NO ANSWER' })),
      at(3534, cdrOf({ channel: in2After, destination: did, context: 'probe-in', app: 'Hangup', start: '42:35', answer: '42:35', end: '42:35', duration: 0, billable: 0, disposition: 'ANSWERED' })),
      at(3534, cel('HANGUP', in2, { time: time('42:35'), extra: hangupExtra(16, 'dialplan/builtin', 'NOANSWER') })),
      at(3534, cel('LINKEDID_END', in2, { time: time('42:35') })),
      at(3534, hangup(inbound.one, 16, 'Normal Clearing')),
      at(3534, hangup(in2After, 16, 'Normal Clearing')),
    ],
  };
}

function s3Busy(): EndOfCallTranscript {
  const linkedid = '1796395360.1208';
  const did = '+15559990003';
  const inbound = localPair(did, 'probe-in', '0000025c', 1796395360, 1208, linkedid);
  const agent = localPair('102', 'probe-agent-busy', '0000025d', 1796395360, 1210, linkedid, { callerNum: did, exten: did, state: 0 });
  const in2 = { ...inbound.two, priority: 4 };
  const ag2 = { ...agent.two, callerNum: CALLER, connectedNum: did, exten: '102', priority: 1 };
  return {
    scenario: 'busy', measured: 'S3', summary: 'Dial(Local/102@probe-agent-busy,10): the agent side runs Busy()', linkedid,
    parties: { caller: CALLER, did, agent: '102', inboundPair: 'Local/+15559990003@probe-in-0000025c', inboundUniqueids: ['1796395360.1208', '1796395360.1209'], otherPair: 'Local/102@probe-agent-busy-0000025d', otherUniqueids: ['1796395360.1210', '1796395360.1211'] },
    events: [
      at(2, newchannel(inbound.one)),
      at(2, newchannel(inbound.two)),
      at(508, newchannel(agent.one)),
      at(508, newchannel(agent.two)),
      at(508, dialBegin(in2, agent.one, '102@probe-agent-busy')),
      at(511, cel('HANGUP', ag2, { time: time('42:41'), extra: hangupExtra(17, 'dialplan/builtin', '') })),
      at(511, dialEnd(in2, agent.one, 'BUSY')),
      at(512, hangup(ag2, 17, 'User busy')),
      at(512, cel('HANGUP', agent.one, { time: time('42:41'), extra: hangupExtra(17, '', '') })),
      at(513, cdrOf({ channel: inbound.one, destination: did, context: 'probe-in', app: 'Wait', data: '20', start: '42:40', answer: '42:40', end: '42:41', duration: 0, billable: 0, disposition: 'ANSWERED' })),
      at(513, cdrOf({ channel: in2, destination: did, context: 'probe-in', destinationChannel: agent.one, app: 'Dial', data: 'Local/102@probe-agent-busy,10', start: '42:40', answer: '42:40', end: '42:41', duration: 0, billable: 0, disposition: 'BUSY' })),
      at(513, cdrOf({ channel: { ...in2, priority: 5 }, destination: did, context: 'probe-in', app: 'Hangup', start: '42:41', answer: '42:41', end: '42:41', duration: 0, billable: 0, disposition: 'ANSWERED' })),
      at(513, cel('HANGUP', in2, { time: time('42:41'), extra: hangupExtra(16, 'dialplan/builtin', 'BUSY') })),
      at(513, cel('HANGUP', inbound.one, { time: time('42:41'), extra: hangupExtra(16, '', '') })),
      at(514, cel('LINKEDID_END', inbound.one, { time: time('42:41') })),
      // Measured in S3: the Hangups come after LINKEDID_END.
      at(514, hangup(agent.one, 17, 'User busy')),
      at(514, hangup({ ...in2, priority: 5 }, 16, 'Normal Clearing')),
      at(515, hangup(inbound.one, 16, 'Normal Clearing')),
    ],
  };
}

function s4aAbandoned(): EndOfCallTranscript {
  const linkedid = '1796395366.1212';
  const did = '+15559990004';
  const inbound = localPair(did, 'probe-in', '0000025e', 1796395366, 1212, linkedid);
  const agent = localPair('101', 'probe-agent-noanswer', '0000025f', 1796395366, 1214, linkedid, { callerNum: did, exten: did });
  const in2 = { ...inbound.two, priority: 4 };
  const ag1 = { ...agent.one, state: 5 };
  const ag2 = { ...agent.two, state: 5, callerNum: CALLER, connectedNum: did, exten: '101', priority: 2 };
  return {
    scenario: 'abandoned', measured: 'S4a', summary: 'the caller hangs up (AMI Hangup of in;1 at +1.5 s) while the agent rings; the inbound leg was answered', linkedid,
    parties: { caller: CALLER, did, agent: '101', inboundPair: 'Local/+15559990004@probe-in-0000025e', inboundUniqueids: ['1796395366.1212', '1796395366.1213'], otherPair: 'Local/101@probe-agent-noanswer-0000025f', otherUniqueids: ['1796395366.1214', '1796395366.1215'] },
    events: [
      at(2, newchannel(inbound.one)),
      at(2, newchannel(inbound.two)),
      at(506, newchannel(agent.one)),
      at(506, newchannel(agent.two)),
      at(506, dialBegin(in2, { ...agent.one, state: 0 }, '101@probe-agent-noanswer')),
      at(506, dialState(in2, ag1, 'RINGING')),
      at(1507, cdrOf({ channel: inbound.one, destination: did, context: 'probe-in', app: 'Wait', data: '20', start: '42:46', answer: '42:46', end: '42:47', duration: 1, billable: 1, disposition: 'ANSWERED' })),
      at(1508, cel('HANGUP', inbound.one, { time: time('42:47'), extra: hangupExtra(0, '', '') })),
      at(1508, cdrOf({ channel: in2, destination: did, context: 'probe-in', destinationChannel: agent.one, app: 'Dial', data: 'Local/101@probe-agent-noanswer,10', start: '42:46', answer: '42:46', end: '42:47', duration: 1, billable: 1, disposition: 'NO ANSWER' })),
      at(1508, cel('HANGUP', ag1, { time: time('42:47'), extra: hangupExtra(16, '', '') })),
      at(1508, cel('HANGUP', in2, { time: time('42:47'), extra: hangupExtra(0, '', 'CANCEL') })),
      at(1508, cel('HANGUP', ag2, { time: time('42:47'), extra: hangupExtra(16, '', '') })),
      at(1508, cel('LINKEDID_END', ag2, { time: time('42:47') })),
      at(1508, hangup(inbound.one, 0, 'Unknown')),
      at(1508, dialEnd(in2, ag1, 'CANCEL')),
      at(1509, hangup(ag1, 16, 'Normal Clearing')),
      at(1509, hangup(in2, 0, 'Unknown')),
      at(1509, hangup(ag2, 16, 'Normal Clearing')),
    ],
  };
}

function s4bAbandonedUnanswered(): EndOfCallTranscript {
  const linkedid = '1796395372.1216';
  const did = '+15559990044';
  const inbound = localPair(did, 'probe-in', '00000260', 1796395372, 1216, linkedid, { state: 4 });
  const agent = localPair('101', 'probe-agent-noanswer', '00000261', 1796395372, 1218, linkedid, { callerNum: did, exten: did, state: 5 });
  const in2 = { ...inbound.two, priority: 2 };
  const ag2 = { ...agent.two, callerNum: CALLER, connectedNum: did, exten: '101', priority: 2 };
  return {
    scenario: 'abandoned-unanswered', measured: 'S4b', summary: 'as S4a, but the inbound leg never ran Answer(): the only Cdr is the Dial one, AnswerTime empty', linkedid,
    parties: { caller: CALLER, did, agent: '101', inboundPair: 'Local/+15559990044@probe-in-00000260', inboundUniqueids: ['1796395372.1216', '1796395372.1217'], otherPair: 'Local/101@probe-agent-noanswer-00000261', otherUniqueids: ['1796395372.1218', '1796395372.1219'] },
    events: [
      at(2, newchannel(inbound.one)),
      at(2, newchannel(inbound.two)),
      at(4, newchannel(agent.one)),
      at(4, newchannel(agent.two)),
      at(4, dialBegin(in2, { ...agent.one, state: 0 }, '101@probe-agent-noanswer')),
      at(5, dialState(in2, agent.one, 'RINGING')),
      at(1506, cel('HANGUP', inbound.one, { time: time('42:53'), extra: hangupExtra(0, '', '') })),
      at(1507, dialEnd(in2, agent.one, 'CANCEL')),
      at(1507, cel('HANGUP', agent.one, { time: time('42:53'), extra: hangupExtra(16, '', '') })),
      at(1507, hangup(inbound.one, 0, 'Unknown')),
      at(1507, cdrOf({ channel: in2, destination: did, context: 'probe-in', destinationChannel: agent.one, app: 'Dial', data: 'Local/101@probe-agent-noanswer,10', start: '42:52', answer: '', end: '42:53', duration: 1, billable: 0, disposition: 'NO ANSWER' })),
      at(1508, cel('HANGUP', in2, { time: time('42:53'), extra: hangupExtra(0, '', 'CANCEL') })),
      at(1508, hangup(agent.one, 16, 'Normal Clearing')),
      at(1508, cel('HANGUP', ag2, { time: time('42:53'), extra: hangupExtra(16, '', '') })),
      at(1508, hangup(in2, 0, 'Unknown')),
      at(1509, hangup(ag2, 16, 'Normal Clearing')),
      at(1509, cel('LINKEDID_END', ag2, { time: time('42:53') })),
    ],
  };
}

function s5aQueueEmpty(): EndOfCallTranscript {
  const linkedid = '1796395378.1220';
  const did = '+15559990005';
  const inbound = localPair(did, 'probe-in', '00000262', 1796395378, 1220, linkedid);
  const in2 = { ...inbound.two, priority: 3 };
  const in2After = { ...inbound.two, priority: 4 };
  return {
    scenario: 'queue-empty', measured: 'S5a', summary: 'Queue(probeq) with no members, 3 s timeout, then Hangup(): no Dial events, no Cdr mentions the queue', linkedid,
    parties: { caller: CALLER, did, inboundPair: 'Local/+15559990005@probe-in-00000262', inboundUniqueids: ['1796395378.1220', '1796395378.1221'] },
    events: [
      at(2, newchannel(inbound.one)),
      at(2, newchannel(inbound.two)),
      at(507, queueEvent('QueueCallerJoin', in2, undefined, [['Queue', 'probeq'], ['Position', '1'], ['Count', '1']])),
      at(3510, queueEvent('QueueCallerAbandon', in2, undefined, [['Queue', 'probeq'], ['Position', '1'], ['OriginalPosition', '1'], ['HoldTime', '3']])),
      at(3510, queueEvent('QueueCallerLeave', in2, undefined, [['Queue', 'probeq'], ['Count', '0'], ['Position', '1']])),
      at(3511, cel('HANGUP', in2After, { time: time('43:02'), extra: hangupExtra(16, 'dialplan/builtin', '') })),
      at(3511, hangup(in2After, 16, 'Normal Clearing')),
      at(3512, cel('HANGUP', inbound.one, { time: time('43:02'), extra: hangupExtra(16, '', '') })),
      at(3512, hangup(inbound.one, 16, 'Normal Clearing')),
      at(3512, cel('LINKEDID_END', inbound.one, { time: time('43:02') })),
      // Measured in S5a: both Cdrs after LINKEDID_END.
      at(3513, cdrOf({ channel: in2After, destination: did, context: 'probe-in', app: 'Hangup', start: '42:58', answer: '42:58', end: '43:02', duration: 3, billable: 3, disposition: 'ANSWERED' })),
      at(3513, cdrOf({ channel: inbound.one, destination: did, context: 'probe-in', app: 'Wait', data: '20', start: '42:58', answer: '42:58', end: '43:02', duration: 3, billable: 3, disposition: 'ANSWERED' })),
    ],
  };
}

function s5bQueueAnswered(): EndOfCallTranscript {
  const linkedid = '1796395386.1222';
  const did = '+15559990055';
  const inbound = localPair(did, 'probe-in', '00000263', 1796395386, 1222, linkedid);
  const agent = localPair('100', 'probe-agent-answer', '00000264', 1796395386, 1224, linkedid, { callerNum: did, exten: did });
  const in2 = { ...inbound.two, priority: 3 };
  const ag2 = { ...agent.two, callerNum: CALLER, connectedNum: did, exten: '100', priority: 3 };
  const iface: Array<[string, string]> = [['Queue', 'probeq'], ['Interface', 'Local/100@probe-agent-answer'], ['MemberName', 'Local/100@probe-agent-answer']];
  return {
    scenario: 'queue', measured: 'S5b', summary: 'Queue(probeq,,,,10) with member Local/100@probe-agent-answer, who answers and talks 2 s', linkedid,
    parties: { caller: CALLER, did, agent: '100', inboundPair: 'Local/+15559990055@probe-in-00000263', inboundUniqueids: ['1796395386.1222', '1796395386.1223'], otherPair: 'Local/100@probe-agent-answer-00000264', otherUniqueids: ['1796395386.1224', '1796395386.1225'] },
    events: [
      at(2, newchannel(inbound.one)),
      at(2, newchannel(inbound.two)),
      at(506, queueEvent('QueueCallerJoin', in2, undefined, [['Queue', 'probeq'], ['Position', '1'], ['Count', '1']])),
      at(507, newchannel(agent.one)),
      at(507, newchannel(agent.two)),
      at(507, queueEvent('AgentCalled', in2, { ...agent.one, state: 0 }, iface)),
      at(507, dialBegin(in2, { ...agent.one, state: 0 }, 'Local/100@probe-agent-answer')),
      at(1010, dialEnd(in2, agent.one, 'ANSWER')),
      at(1010, queueEvent('QueueCallerLeave', in2, undefined, [['Queue', 'probeq'], ['Count', '0'], ['Position', '1']])),
      at(1010, queueEvent('AgentConnect', in2, agent.one, [...iface, ['HoldTime', '1'], ['RingTime', '0']])),
      at(3012, cdrOf({ channel: ag2, destination: '100', context: 'probe-agent-answer', app: 'Hangup', start: '43:07', answer: '43:07', end: '43:09', duration: 2, billable: 2, disposition: 'ANSWERED' })),
      at(3012, cel('HANGUP', ag2, { time: time('43:09'), extra: hangupExtra(16, 'dialplan/builtin', '') })),
      at(3013, hangup(ag2, 16, 'Normal Clearing')),
      at(3014, queueEvent('AgentComplete', in2, agent.one, [...iface, ['HoldTime', '1'], ['TalkTime', '2'], ['Reason', 'agent']])),
      at(3014, cdrOf({ channel: in2, destination: did, context: 'probe-in', destinationChannel: agent.one, app: 'Queue', data: 'probeq,,,,10', start: '43:06', answer: '43:06', end: '43:09', duration: 3, billable: 3, disposition: 'ANSWERED' })),
      at(3014, cdrOf({ channel: inbound.one, destination: did, context: 'probe-in', app: 'Wait', data: '20', start: '43:06', answer: '43:06', end: '43:09', duration: 3, billable: 3, disposition: 'ANSWERED' })),
      at(3014, cel('HANGUP', in2, { time: time('43:09'), extra: hangupExtra(16, '', '') })),
      at(3015, hangup(in2, 16, 'Normal Clearing')),
      at(3015, cel('HANGUP', inbound.one, { time: time('43:09'), extra: hangupExtra(16, '', '') })),
      at(3015, hangup(inbound.one, 16, 'Normal Clearing')),
      at(3015, hangup(agent.one, 16, 'Normal Clearing')),
      at(3016, cel('HANGUP', agent.one, { time: time('43:09'), extra: hangupExtra(16, '', '') })),
      at(3016, cel('LINKEDID_END', agent.one, { time: time('43:09') })),
    ],
  };
}

function s6Outbound(): EndOfCallTranscript {
  const linkedid = '1796395394.1226';
  const dialled = '+15557654321';
  const out = localPair('200', 'probe-agent-side', '00000265', 1796395394, 1226, linkedid);
  const pstn = localPair(dialled, 'probe-pstn-answer', '00000266', 1796395394, 1228, linkedid, { callerNum: '200', connectedNum: CALLER });
  const out2 = { ...out.two, priority: 2 };
  const pstn2 = { ...pstn.two, callerNum: CALLER, connectedNum: '200', priority: 3 };
  return {
    scenario: 'outbound', measured: 'S6', summary: 'the agent side (extension 200) dials Local/+15557654321@probe-pstn-answer, which answers', linkedid,
    parties: { caller: CALLER, did: '200', agent: '200', dialled, inboundPair: 'Local/200@probe-agent-side-00000265', inboundUniqueids: ['1796395394.1226', '1796395394.1227'], otherPair: 'Local/+15557654321@probe-pstn-answer-00000266', otherUniqueids: ['1796395394.1228', '1796395394.1229'] },
    events: [
      at(2, newchannel(out.one)),
      at(2, newchannel(out.two)),
      at(505, newchannel(pstn.one)),
      at(505, newchannel(pstn.two)),
      at(505, dialBegin(out2, { ...pstn.one, state: 0 }, `${dialled}@probe-pstn-answer`)),
      at(508, dialEnd(out2, pstn.one, 'ANSWER')),
      at(2008, cdrOf({ channel: pstn2, destination: dialled, context: 'probe-pstn-answer', app: 'Hangup', start: '43:14', answer: '43:14', end: '43:16', duration: 1, billable: 1, disposition: 'ANSWERED' })),
      at(2008, cel('HANGUP', pstn2, { time: time('43:16'), extra: hangupExtra(16, 'dialplan/builtin', '') })),
      at(2009, hangup(pstn2, 16, 'Normal Clearing')),
      at(2010, cdrOf({ channel: out2, destination: '200', context: 'probe-agent-side', destinationChannel: pstn.one, app: 'Dial', data: `Local/${dialled}@probe-pstn-answer,10`, start: '43:14', answer: '43:14', end: '43:16', duration: 1, billable: 1, disposition: 'ANSWERED' })),
      at(2010, cdrOf({ channel: out.one, destination: '200', context: 'probe-agent-side', app: 'Wait', data: '20', start: '43:14', answer: '43:14', end: '43:16', duration: 1, billable: 1, disposition: 'ANSWERED' })),
      at(2010, cel('HANGUP', out2, { time: time('43:16'), extra: hangupExtra(16, '', 'ANSWER') })),
      at(2011, hangup(out2, 16, 'Normal Clearing')),
      at(2011, hangup(out.one, 16, 'Normal Clearing')),
      at(2011, cel('HANGUP', out.one, { time: time('43:16'), extra: hangupExtra(16, '', '') })),
      at(2011, hangup(pstn.one, 16, 'Normal Clearing')),
      at(2012, cel('HANGUP', pstn.one, { time: time('43:16'), extra: hangupExtra(16, '', '') })),
      at(2012, cel('LINKEDID_END', pstn.one, { time: time('43:16') })),
    ],
  };
}

/** Every measured end of a call, by scenario. */
export const END_OF_CALL_TRANSCRIPTS: Readonly<Record<EndScenario, EndOfCallTranscript>> = {
  answered: s1Answered(),
  missed: s2Missed(),
  busy: s3Busy(),
  abandoned: s4aAbandoned(),
  'abandoned-unanswered': s4bAbandonedUnanswered(),
  queue: s5bQueueAnswered(),
  'queue-empty': s5aQueueEmpty(),
  outbound: s6Outbound(),
};

export const END_SCENARIOS = Object.keys(END_OF_CALL_TRANSCRIPTS) as EndScenario[];
