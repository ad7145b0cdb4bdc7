/**
 * Builders for the AMI events of shared/reference/asterisk.md, "AMI events at the end of a call":
 * each writes its headers in the order measured on Asterisk 22.10.1 (Cdr and CEL header lists,
 * the DialEnd and CEL HANGUP raw bytes, the channel snapshot of every channel event). The
 * transcripts (end-of-call-transcripts.ts) are written with them, so a header order lives in one
 * place. Knows nothing of sockets.
 */

export type AmiHeaders = ReadonlyArray<readonly [string, string]>;

/** A channel as Asterisk's channel snapshot shows it at the moment of an event. */
export interface ChannelState {
  name: string;
  uniqueid: string;
  linkedid: string;
  state: number;
  callerNum: string;
  callerName: string;
  connectedNum: string;
  connectedName: string;
  context: string;
  exten: string;
  priority: number;
}

const STATE_DESC: Record<number, string> = { 0: 'Down', 4: 'Ring', 5: 'Ringing', 6: 'Up' };

/** The snapshot headers every channel event carries, `prefix` = 'Dest' for the dialled side. */
export function snapshot(ch: ChannelState, prefix = ''): Array<[string, string]> {
  return [
    [`${prefix}Channel`, ch.name],
    [`${prefix}ChannelState`, String(ch.state)],
    [`${prefix}ChannelStateDesc`, STATE_DESC[ch.state] ?? 'Unknown'],
    [`${prefix}CallerIDNum`, ch.callerNum],
    [`${prefix}CallerIDName`, ch.callerName],
    [`${prefix}ConnectedLineNum`, ch.connectedNum],
    [`${prefix}ConnectedLineName`, ch.connectedName],
    [`${prefix}Language`, 'en'],
    [`${prefix}AccountCode`, ''],
    [`${prefix}Context`, ch.context],
    [`${prefix}Exten`, ch.exten],
    [`${prefix}Priority`, String(ch.priority)],
    [`${prefix}Uniqueid`, ch.uniqueid],
    [`${prefix}Linkedid`, ch.linkedid],
  ];
}

const head = (event: string, privilege: string): Array<[string, string]> => [['Event', event], ['Privilege', `${privilege},all`]];

/** Measured: Local halves start with `<unknown>` caller and connected line, state Down. */
export function newchannel(ch: ChannelState): AmiHeaders {
  const fresh = { ...ch, state: 0, callerNum: '<unknown>', callerName: '<unknown>', connectedNum: '<unknown>', connectedName: '<unknown>', priority: 1 };
  return [...head('Newchannel', 'call'), ...snapshot(fresh)];
}

export function dialBegin(from: ChannelState | undefined, to: ChannelState, dialString: string): AmiHeaders {
  return [...head('DialBegin', 'call'), ...(from ? snapshot(from) : []), ...snapshot(to, 'Dest'), ['DialString', dialString]];
}

export function dialState(from: ChannelState, to: ChannelState, status: string): AmiHeaders {
  return [...head('DialState', 'call'), ...snapshot(from), ...snapshot(to, 'Dest'), ['DialStatus', status]];
}

/** Originate's own DialEnd has no `Channel:` (measured): pass `from` undefined. */
export function dialEnd(from: ChannelState | undefined, to: ChannelState, status: string): AmiHeaders {
  return [...head('DialEnd', 'call'), ...(from ? snapshot(from) : []), ...snapshot(to, 'Dest'), ['DialStatus', status]];
}

export function hangup(ch: ChannelState, cause: number, causeText: string): AmiHeaders {
  return [...head('Hangup', 'call'), ...snapshot(ch), ['Cause', String(cause)], ['Cause-txt', causeText]];
}

export function originateResponse(ch: ChannelState, application: string, data: string): AmiHeaders {
  return [
    ...head('OriginateResponse', 'call'), ['Response', 'Success'], ['Channel', ch.name], ['Context', ''], ['Exten', ''],
    ['Application', application], ['Data', data], ['Reason', '4'], ['Uniqueid', ch.uniqueid], ['CallerIDNum', ch.callerNum], ['CallerIDName', ch.callerName],
  ];
}

export interface CdrFields {
  source: string;
  destination: string;
  destinationContext: string;
  callerId: string;
  channel: string;
  destinationChannel: string;
  lastApplication: string;
  lastData: string;
  start: string;
  answer: string;
  end: string;
  duration: number;
  billable: number;
  disposition: string;
  uniqueid: string;
  userField?: string;
  /** cdr_manager.conf [mappings] headers, after UserField. */
  mapped?: Array<[string, string]>;
}

/** Measured header order; no LinkedID unless mapped. */
export function cdr(f: CdrFields): AmiHeaders {
  return [
    ...head('Cdr', 'cdr'),
    ['AccountCode', ''], ['Source', f.source], ['Destination', f.destination], ['DestinationContext', f.destinationContext],
    ['CallerID', f.callerId], ['Channel', f.channel], ['DestinationChannel', f.destinationChannel],
    ['LastApplication', f.lastApplication], ['LastData', f.lastData], ['StartTime', f.start], ['AnswerTime', f.answer],
    ['EndTime', f.end], ['Duration', String(f.duration)], ['BillableSeconds', String(f.billable)], ['Disposition', f.disposition],
    ['AMAFlags', 'DOCUMENTATION'], ['UniqueID', f.uniqueid], ['UserField', f.userField ?? ''], ...(f.mapped ?? []),
  ];
}

export interface CelFields {
  time: string;
  application?: string;
  appData?: string;
  peer?: string;
  extra?: string;
}

/** Measured header order (CallerIDani, rdnis and dnid were always empty). */
export function cel(eventName: string, ch: ChannelState, f: CelFields): AmiHeaders {
  return [
    ...head('CEL', 'call'),
    ['EventName', eventName], ['AccountCode', ''], ['CallerIDnum', ch.callerNum], ['CallerIDname', ch.callerName],
    ['CallerIDani', ''], ['CallerIDrdnis', ''], ['CallerIDdnid', ''], ['Exten', ch.exten], ['Context', ch.context],
    ['Channel', ch.name], ['Application', f.application ?? ''], ['AppData', f.appData ?? ''], ['EventTime', f.time],
    ['AMAFlags', 'DOCUMENTATION'], ['UniqueID', ch.uniqueid], ['LinkedID', ch.linkedid], ['Userfield', ''],
    ['Peer', f.peer ?? ''], ['PeerAccount', ''], ['Extra', f.extra ?? ''],
  ];
}

/** CEL HANGUP's Extra: `{"hangupcause":16,"hangupsource":"dialplan/builtin","dialstatus":"NOANSWER"}`. */
export function hangupExtra(cause: number, source: string, dialStatus: string): string {
  return `{"hangupcause":${cause},"hangupsource":${JSON.stringify(source)},"dialstatus":${JSON.stringify(dialStatus)}}`;
}

/** Queue events (class `agent`): the caller's snapshot, the member's when there is one, then the queue's fields. */
export function queueEvent(event: string, caller: ChannelState, member: ChannelState | undefined, fields: Array<[string, string]>): AmiHeaders {
  return [...head(event, 'agent'), ...snapshot(caller), ...(member ? snapshot(member, 'Dest') : []), ...fields];
}
