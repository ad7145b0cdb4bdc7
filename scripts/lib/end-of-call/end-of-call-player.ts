/**
 * Plays a measured end of a call (end-of-call-transcripts.ts) for a simulated call: the same
 * events, headers and order, with the measured call's channel names, uniqueids, numbers and times
 * replaced by the simulated call's, sent through the fake AMI at the measured pace.
 */
import { performance } from 'node:perf_hooks';
import type { AmiHeaders } from './ami-event-builders';
import type { EndOfCallTranscript, TimedAmiEvent } from './end-of-call-transcripts';

export interface SimulatedParties {
  /** The caller's number (the outside number an outbound call dialled, with `dialled`). */
  caller?: string;
  did?: string;
  /** The extension that answers, rings, or (outbound) places the call. */
  agent?: string;
  /** The outside number of an outbound call. */
  dialled?: string;
  /** The channel the plugin's AGI ran on (`agi_channel`, the `;2` half of the inbound pair). */
  inboundChannel?: string;
  /** Its `agi_uniqueid`. */
  inboundUniqueid?: string;
  /** When the call started (ms); Cdr and CEL times are moved to it. Default now. */
  startedAt?: number;
}

export interface RenderedEndOfCall {
  linkedid: string;
  events: TimedAmiEvent[];
}

let nextUniqueid = 900_000;

/** The transcript's events with the simulated call's names, ids, numbers and times. */
export function renderEndOfCall(transcript: EndOfCallTranscript, parties: SimulatedParties = {}): RenderedEndOfCall {
  const measured = transcript.parties;
  const seconds = Math.floor((parties.startedAt ?? Date.now()) / 1000);
  const freshId = () => `${seconds}.${nextUniqueid++}`;
  const ids = new Map<string, string>();
  const [one, two] = measured.inboundUniqueids;
  ids.set(one, freshId());
  ids.set(two, parties.inboundUniqueid ?? freshId());
  for (const id of measured.otherUniqueids ?? []) ids.set(id, freshId());

  const pairs: Array<[string, string]> = [];
  if (parties.inboundChannel) pairs.push([measured.inboundPair, parties.inboundChannel.replace(/;\d$/, '')]);
  const texts: Array<[string, string]> = [];
  if (parties.caller) texts.push([measured.caller, parties.caller]);
  if (parties.dialled && measured.dialled) texts.push([measured.dialled, parties.dialled]);
  const outbound = measured.dialled !== undefined;
  if (parties.did && !outbound) texts.push([measured.did, parties.did]);
  const agent = parties.agent && measured.agent ? { from: measured.agent, to: parties.agent } : undefined;
  const measuredStart = Number(transcript.linkedid.split('.')[0]) * 1000;
  const shift = (parties.startedAt ?? Date.now()) - measuredStart;

  const value = (name: string, text: string): string => {
    const id = ids.get(text);
    if (id !== undefined) return id;
    let out = text;
    for (const [from, to] of pairs) if (out.startsWith(from)) out = to + out.slice(from.length);
    for (const [from, to] of texts) out = out.split(from).join(to);
    if (agent) {
      if (out === agent.from) out = agent.to;
      out = out.replace(new RegExp(`(^|/)${escapeRegExp(agent.from)}(?=@)`, 'g'), `$1${agent.to}`);
    }
    if (/Time$/.test(name) && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(out)) out = shiftTime(out, shift);
    return out;
  };
  const events = transcript.events.map((e) => ({ atMs: e.atMs, headers: e.headers.map(([name, text]) => [name, value(name, text)] as const) as AmiHeaders }));
  return { linkedid: ids.get(one)!, events };
}

export interface EventSink {
  emitEvent(headers: AmiHeaders): void;
}

/**
 * Sends the events through `sink` (a FakeAmiServer) at their measured offsets times `timeScale`
 * (1 = real pace, 0 = at once); events of one millisecond leave together, in order.
 */
export async function playEndOfCall(sink: EventSink, events: readonly TimedAmiEvent[], timeScale = 1): Promise<void> {
  const first = events[0]?.atMs ?? 0;
  // Anchored to the clock, so a timer that fires late does not delay every later event too.
  const start = performance.now();
  for (const event of events) {
    const wait = (event.atMs - first) * timeScale - (performance.now() - start);
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    sink.emitEvent(event.headers);
  }
}

function shiftTime(text: string, shiftMs: number): string {
  // Measured with the server in UTC; written back in this machine's zone, as its Asterisk would.
  const [date, time] = text.split(' ') as [string, string];
  const at = new Date(Date.parse(`${date}T${time}Z`) + shiftMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
