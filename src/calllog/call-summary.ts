/**
 * Turns what was gathered about an ended call into the CompletedCall the call log writes, with
 * the rules measured on Asterisk 22 (shared/reference/asterisk.md, "AMI events at the end of a
 * call"). Pure, no I/O.
 *
 * - The business record is the Cdr of the host-side leg with a DestinationChannel and
 *   LastApplication Dial or Queue; the other Cdrs (Local halves, the agent leg, the `Hangup` Cdr
 *   after a failed Dial) only fill gaps.
 * - Disposition comes from DialEnd's DialStatus (ANSWER, NOANSWER, BUSY, CANCEL), not from the
 *   Cdr: a caller who gives up while the agent rings reads `NO ANSWER` in the Cdr like a missed
 *   call, and BillableSeconds counts from the inbound leg's own Answer(). When DialEnd is missing
 *   (events lost in an AMI reconnect), the inbound leg's CEL HANGUP `dialstatus`, then the Cdr.
 * - A queue without members leaves no Dial and no Cdr trace: QueueCallerJoin (class agent) says
 *   it was a queue; the dialplan hanging up (CEL hangupsource `dialplan/builtin`) makes it missed,
 *   the caller hanging up abandoned.
 * - Talk time runs from the agent's answer (DialEnd ANSWER, else AgentConnect) to the last hang-up.
 * - Direction: a call placed by one of the host's extensions to a number that is not one is
 *   outbound; a call between two extensions is internal and not logged; the rest is inbound.
 */
import type { CallDisposition, CompletedCall } from './completed-call';
import type { AmiEvent } from './ami-event';
import { parseAsteriskTime } from './asterisk-time';
import type { OpenCall, TimedEvent } from './open-call';
import { knownNumber, partyNumber } from './party-number';

export interface SummaryContext {
  /** Whether a number is one of the host's extensions (HostDirectory.isExtension). */
  isExtension(number: string): boolean;
  /** The call's tenant (HostContext.callTenant). */
  tenantOf(party: { did?: string; extension?: string }): string | undefined;
  /** IANA zone of the Asterisk server's clock, for Cdr times (used only when an event was missed). */
  timeZone?: string;
}

/** Why an ended call gives no CompletedCall. */
export type SkipReason = 'internal' | 'no-tenant';

export type Summary = { call: CompletedCall } | { skipped: SkipReason };

const DIAL_APPS = new Set(['dial', 'queue']);

export function summarizeCall(call: OpenCall, ctx: SummaryContext): Summary {
  const business = businessCdr(call.cdrs);
  const hostChannel = business?.channel ?? call.dialBegins[0]?.channel ?? call.channels.get(call.linkedid)?.name;
  const dialEnds = call.dialEnds.filter((d) => d.event.channel);
  const answeredDial = dialEnds.filter((d) => d.event.dialstatus === 'ANSWER').sort((a, b) => a.at - b.at)[0];
  const disposition = dispositionOf(call, business, dialEnds, hostChannel);

  const caller = knownNumber(business?.source) ?? firstOf(call.cdrs, (c) => knownNumber(c.source))
    ?? knownNumber(call.dialBegins[0]?.calleridnum) ?? knownNumber(call.channels.get(call.linkedid)?.callerNum);
  const entry = knownNumber(business?.destination) ?? firstOf(call.cdrs, (c) => knownNumber(c.destination)) ?? knownNumber(call.dialBegins[0]?.exten);
  const hostDial = call.dialBegins.find((d) => d.channel === hostChannel) ?? call.dialBegins[0];
  const dialled = partyNumber(hostDial?.dialstring) ?? partyNumber(business?.lastdata) ?? partyNumber(business?.destinationchannel);
  const answeredBy = answeredDial ? answeringParty(call, answeredDial, ctx) : undefined;

  const isExt = (n: string | undefined) => n !== undefined && ctx.isExtension(n);
  let placedBy: string | undefined;
  if (isExt(caller)) {
    if (dialled === undefined || isExt(dialled)) return { skipped: 'internal' };
    placedBy = caller;
  } else if (isExt(entry) && dialled !== undefined && !isExt(dialled)) {
    placedBy = entry; // measured S6: the agent's own extension is the Cdr's Destination
  }

  const times = timesOf(call, business, answeredDial, disposition === 'answered', ctx.timeZone);
  const base = {
    linkedId: call.linkedid,
    disposition,
    startedAt: new Date(times.startedAt),
    ...(times.answeredAt !== undefined ? { answeredAt: new Date(times.answeredAt) } : {}),
    endedAt: new Date(times.endedAt),
    talkSeconds: times.answeredAt !== undefined ? Math.max(0, Math.floor((times.endedAt - times.answeredAt) / 1000)) : 0,
    channelUniqueIds: [...call.channels.keys()].sort((a, b) => Number(b === call.linkedid) - Number(a === call.linkedid)),
  };
  if (placedBy !== undefined) {
    const tenantId = ctx.tenantOf({ extension: placedBy });
    if (tenantId === undefined) return { skipped: 'no-tenant' };
    return { call: { ...base, tenantId, direction: 'outbound', externalNumber: dialled ?? '', agentExtension: placedBy } };
  }
  const did = entry !== undefined && !isExt(entry) ? entry : undefined;
  const rung = isExt(dialled) ? dialled : undefined;
  const agent = disposition === 'answered' ? (answeredBy ?? rung) : undefined;
  const extension = agent ?? rung;
  const tenantId = ctx.tenantOf({ ...(did !== undefined ? { did } : {}), ...(extension !== undefined ? { extension } : {}) });
  if (tenantId === undefined) return { skipped: 'no-tenant' };
  const queueName = call.queue ?? (business?.lastapplication?.toLowerCase() === 'queue' ? business.lastdata?.split(',')[0] : undefined);
  const queue = queueName ? queueName.slice(0, 128) : undefined;
  return {
    call: {
      ...base, tenantId, direction: 'inbound', externalNumber: caller ?? '',
      ...(did !== undefined ? { did } : {}), ...(agent !== undefined ? { agentExtension: agent } : {}), ...(queue ? { queue } : {}),
    },
  };
}

/** The Cdr of the host-side leg towards the agent: an answered one if there are several. */
function businessCdr(cdrs: readonly AmiEvent[]): AmiEvent | undefined {
  const candidates = cdrs.filter((c) => c.destinationchannel && DIAL_APPS.has((c.lastapplication ?? '').toLowerCase()));
  return candidates.find((c) => c.disposition === 'ANSWERED') ?? candidates.at(-1);
}

function dispositionOf(call: OpenCall, business: AmiEvent | undefined, dialEnds: TimedEvent[], hostChannel: string | undefined): CallDisposition {
  if (dialEnds.length > 0) return fromDialStatuses(dialEnds.map((d) => d.event.dialstatus ?? ''));
  const hangups = call.celHangups.map((e) => ({ channel: e.channel, extra: hangupExtra(e.extra) }));
  const celStatus = (hangups.find((h) => h.channel === hostChannel && h.extra.dialstatus) ?? hangups.find((h) => h.extra.dialstatus))?.extra.dialstatus;
  if (celStatus) return fromDialStatuses([celStatus]);
  if (business) return fromCdrDisposition(business.disposition ?? '');
  if (call.queue !== undefined) {
    // Nobody was dialled: the queue had no members (or none free).
    if (hangups.some((h) => h.extra.hangupsource === 'dialplan/builtin')) return 'missed';
    if (hangups.length > 0) return 'abandoned';
    return call.cdrs.some((c) => (c.lastapplication ?? '').toLowerCase() === 'queue') ? 'abandoned' : 'missed';
  }
  return 'missed';
}

function fromDialStatuses(statuses: string[]): CallDisposition {
  if (statuses.includes('ANSWER')) return 'answered';
  if (statuses.includes('CANCEL')) return 'abandoned';
  if (statuses.length > 0 && statuses.every((s) => s === 'BUSY')) return 'busy';
  if (statuses.includes('NOANSWER')) return 'missed';
  if (statuses.some((s) => s === 'CONGESTION' || s === 'CHANUNAVAIL' || s === 'INVALIDARGS')) return 'failed';
  return 'missed';
}

function fromCdrDisposition(disposition: string): CallDisposition {
  switch (disposition) {
    case 'ANSWERED': return 'answered';
    case 'BUSY': return 'busy';
    case 'CANCEL': return 'abandoned';
    case 'FAILED':
    case 'CONGESTION': return 'failed';
    default: return 'missed';
  }
}

/** CEL HANGUP's Extra JSON; {} when it is not JSON. */
function hangupExtra(text: string | undefined): { hangupsource?: string; dialstatus?: string } {
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed === null || typeof parsed !== 'object') return {};
    const { hangupsource, dialstatus } = parsed as Record<string, unknown>;
    return { ...(typeof hangupsource === 'string' ? { hangupsource } : {}), ...(typeof dialstatus === 'string' ? { dialstatus } : {}) };
  } catch {
    return {};
  }
}

/** The extension that answered: the answering channel's name (`Local/100@...`, `PJSIP/100-...`), else what was dialled to reach it. */
function answeringParty(call: OpenCall, answered: TimedEvent, ctx: SummaryContext): string | undefined {
  const fromChannel = partyNumber(answered.event.destchannel);
  if (fromChannel !== undefined && ctx.isExtension(fromChannel)) return fromChannel;
  const dial = call.dialBegins.find((d) => d.destuniqueid === answered.event.destuniqueid);
  const fromDialString = partyNumber(dial?.dialstring);
  if (fromDialString !== undefined && ctx.isExtension(fromDialString)) return fromDialString;
  return undefined;
}

function timesOf(call: OpenCall, business: AmiEvent | undefined, answeredDial: TimedEvent | undefined, answered: boolean, timeZone: string | undefined) {
  const cdrStarts = call.cdrs.map((c) => parseAsteriskTime(c.starttime, timeZone)).filter((t): t is number => t !== undefined);
  const startedAt = call.startedAt ?? (cdrStarts.length > 0 ? Math.min(...cdrStarts) : call.firstSeenAt);
  const endedAt = Math.max(call.endedAt ?? call.lastEventAt, startedAt);
  let answeredAt: number | undefined;
  if (answered) {
    answeredAt = answeredDial?.at ?? call.agentConnect?.at;
    // Neither seen (lost in a reconnect): the business record's billable seconds, an upper bound.
    if (answeredAt === undefined) answeredAt = endedAt - 1000 * (Number(business?.billableseconds) || 0);
    answeredAt = Math.min(Math.max(answeredAt, startedAt), endedAt);
  }
  return { startedAt, endedAt, answeredAt };
}

function firstOf<T>(items: readonly T[], pick: (item: T) => string | undefined): string | undefined {
  for (const item of items) {
    const value = pick(item);
    if (value !== undefined) return value;
  }
  return undefined;
}
