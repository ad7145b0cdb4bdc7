import assert from 'node:assert/strict';
import { formatAmiMessage } from '../../scripts/lib/ami-wire';
import { END_OF_CALL_TRANSCRIPTS, END_SCENARIOS } from '../../scripts/lib/end-of-call/end-of-call-transcripts';
import { renderEndOfCall } from '../../scripts/lib/end-of-call/end-of-call-player';

/** Raw bytes copied from shared/reference/asterisk.md ("Raw bytes of the S1 business Cdr", "Raw DialEnd of S2 ... CEL HANGUP"). */
const S1_BUSINESS_CDR = `Event: Cdr
Privilege: cdr,all
AccountCode: 
Source: +15550001111
Destination: +15559990001
DestinationContext: probe-in
CallerID: "Probe" <+15550001111>
Channel: Local/+15559990001@probe-in-00000258;2
DestinationChannel: Local/100@probe-agent-answer-00000259;1
LastApplication: Dial
LastData: Local/100@probe-agent-answer,10
StartTime: 2026-12-04 14:42:04
AnswerTime: 2026-12-04 14:42:04
EndTime: 2026-12-04 14:42:07
Duration: 3
BillableSeconds: 3
Disposition: ANSWERED
AMAFlags: DOCUMENTATION
UniqueID: 1796395324.1201
UserField: 
`;

const S2_DIAL_END = `Event: DialEnd
Privilege: call,all
Channel: Local/+15559990002@probe-in-0000025a;2
ChannelState: 6
ChannelStateDesc: Up
CallerIDNum: +15550001111
CallerIDName: Probe
ConnectedLineNum: +15550001111
ConnectedLineName: Probe
Language: en
AccountCode: 
Context: probe-in
Exten: +15559990002
Priority: 4
Uniqueid: 1796395352.1205
Linkedid: 1796395352.1204
DestChannel: Local/101@probe-agent-noanswer-0000025b;1
DestChannelState: 5
DestChannelStateDesc: Ringing
DestCallerIDNum: +15559990002
DestCallerIDName: Probe
DestConnectedLineNum: +15550001111
DestConnectedLineName: Probe
DestLanguage: en
DestAccountCode: 
DestContext: probe-agent-noanswer
DestExten: +15559990002
DestPriority: 1
DestUniqueid: 1796395352.1206
DestLinkedid: 1796395352.1204
DialStatus: NOANSWER
`;

const S2_INBOUND_CEL_HANGUP = `Event: CEL
Privilege: call,all
EventName: HANGUP
AccountCode: 
CallerIDnum: +15550001111
CallerIDname: Probe
CallerIDani: 
CallerIDrdnis: 
CallerIDdnid: 
Exten: +15559990002
Context: probe-in
Channel: Local/+15559990002@probe-in-0000025a;2
Application: 
AppData: 
EventTime: 2026-12-04 14:42:35
AMAFlags: DOCUMENTATION
UniqueID: 1796395352.1205
LinkedID: 1796395352.1204
Userfield: 
Peer: 
PeerAccount: 
Extra: {"hangupcause":16,"hangupsource":"dialplan/builtin","dialstatus":"NOANSWER"}
`;

/** As Asterisk writes it: CRLF line ends, an empty line after the message. */
const wire = (text: string) => `${text.replace(/\n/g, '\r\n')}\r\n`;
const wireOf = (scenario: keyof typeof END_OF_CALL_TRANSCRIPTS) => END_OF_CALL_TRANSCRIPTS[scenario].events.map((e) => formatAmiMessage(e.headers));

describe('The measured end-of-call transcripts (fixtures of the simulator and the tests)', () => {
  it('hold the S1 business Cdr byte for byte as measured', () => {
    assert.ok(wireOf('answered').includes(wire(S1_BUSINESS_CDR)));
  });

  it('hold the S2 DialEnd and the inbound leg CEL HANGUP byte for byte as measured', () => {
    const messages = wireOf('missed');
    assert.ok(messages.includes(wire(S2_DIAL_END)));
    assert.ok(messages.includes(wire(S2_INBOUND_CEL_HANGUP)));
  });

  it('give every call the Cdr count measured (S1 3, S2 3, S3 3, S4a 2, S4b 1, S5a 2, S5b 3, S6 3), no LinkedID in any Cdr, one LINKEDID_END', () => {
    const measured = { answered: 3, missed: 3, busy: 3, abandoned: 2, 'abandoned-unanswered': 1, 'queue-empty': 2, queue: 3, outbound: 3 };
    for (const scenario of END_SCENARIOS) {
      const events = END_OF_CALL_TRANSCRIPTS[scenario].events.map((e) => new Map(e.headers));
      const cdrs = events.filter((e) => e.get('Event') === 'Cdr');
      assert.equal(cdrs.length, measured[scenario], scenario);
      assert.ok(cdrs.every((c) => !c.has('LinkedID')), scenario);
      assert.equal(events.filter((e) => e.get('EventName') === 'LINKEDID_END').length, 1, scenario);
    }
  });

  it('leave no event for a queue without members in Dial or Cdr (S5a)', () => {
    const events = END_OF_CALL_TRANSCRIPTS['queue-empty'].events.map((e) => new Map(e.headers));
    assert.equal(events.filter((e) => /^Dial/.test(e.get('Event') ?? '')).length, 0);
    assert.ok(events.filter((e) => e.get('Event') === 'Cdr').every((c) => c.get('LastApplication') !== 'Queue'));
  });

  it('are replayed for a simulated call with its own channel, uniqueids and numbers, headers and order unchanged', () => {
    const transcript = END_OF_CALL_TRANSCRIPTS.answered;
    const rendered = renderEndOfCall(transcript, {
      caller: '+442070000000', did: '5551234', agent: '101', inboundChannel: 'Local/5551234@from-did-0000000a;2', inboundUniqueid: '1800000000.7', startedAt: Date.UTC(2027, 0, 1),
    });
    assert.deepEqual(rendered.events.map((e) => e.headers.map(([name]) => name)), transcript.events.map((e) => e.headers.map(([name]) => name)));
    const text = rendered.events.map((e) => formatAmiMessage(e.headers)).join('');
    assert.ok(!/1796395324\.|\+15550001111|\+15559990001|probe-in-00000258|Local\/100@/.test(text), 'nothing of the measured call is left');
    const cdr = new Map(rendered.events.find((e) => e.headers.some(([n, v]) => n === 'LastApplication' && v === 'Dial'))!.headers);
    assert.equal(cdr.get('Channel'), 'Local/5551234@from-did-0000000a;2');
    assert.equal(cdr.get('UniqueID'), '1800000000.7');
    assert.equal(cdr.get('DestinationChannel'), 'Local/101@probe-agent-answer-00000259;1');
    assert.equal(cdr.get('Source'), '+442070000000');
    assert.equal(cdr.get('Destination'), '5551234');
    assert.match(cdr.get('StartTime')!, /^2027-01-01 \d{2}:00:00$|^2026-12-31 \d{2}:00:00$/);
    assert.equal(rendered.linkedid, new Map(rendered.events[0]!.headers).get('Linkedid'));
  });
});
