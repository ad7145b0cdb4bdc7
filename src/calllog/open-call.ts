/**
 * What the assembler has gathered about one call (one Linkedid) while its events arrive: its
 * channels and which of them hung up, and the events the summary reads (Cdr, Dial, CEL HANGUP,
 * queue). Only facts, in any order: nothing here depends on the order events arrive in, because
 * Asterisk's teardown has none (asterisk.md). Pure, no I/O.
 */
import type { AmiEvent } from './ami-event';

export interface TimedEvent {
  event: AmiEvent;
  /** When it arrived (the assembler's clock, ms). */
  at: number;
}

export interface OpenChannel {
  name: string;
  hungUpAt?: number;
  /** CallerIDNum as the channel's last event showed it. */
  callerNum?: string;
}

/** Per-call caps: a call is a few dozen events (111 with read=all in the measurements). */
export const MAX_CHANNELS_PER_CALL = 64;
export const MAX_KEPT_EVENTS_PER_CALL = 256;

export class OpenCall {
  readonly channels = new Map<string, OpenChannel>();
  readonly cdrs: AmiEvent[] = [];
  readonly dialBegins: AmiEvent[] = [];
  readonly dialEnds: TimedEvent[] = [];
  readonly celHangups: AmiEvent[] = [];
  /** QueueCallerJoin seen (class agent). */
  queue: string | undefined;
  agentConnect: TimedEvent | undefined;
  /** Arrival of the Newchannel of the call's first channel (uniqueid = Linkedid). */
  startedAt: number | undefined;
  /** Arrival of the last Hangup, CEL HANGUP/CHAN_END or LINKEDID_END. */
  endedAt: number | undefined;
  linkedidEnded = false;
  lastEventAt: number;
  /** Set once the call has ended: when its grace period is over. */
  dueAt: number | undefined;
  /** Events not kept because the call already had MAX_KEPT_EVENTS_PER_CALL. */
  eventsOverCap = 0;
  private kept = 0;
  private readonly fingerprints = new Set<string>();

  constructor(
    readonly linkedid: string,
    readonly firstSeenAt: number,
  ) {
    this.lastEventAt = firstSeenAt;
  }

  /** False for an exact repeat of an event already seen (the same bytes twice). */
  firstTime(event: AmiEvent): boolean {
    const fingerprint = JSON.stringify(event);
    if (this.fingerprints.has(fingerprint)) return false;
    if (this.fingerprints.size < MAX_KEPT_EVENTS_PER_CALL * 2) this.fingerprints.add(fingerprint);
    return true;
  }

  /** Notes a channel; false when the call already has too many. */
  channel(uniqueid: string | undefined, name: string | undefined, callerNum?: string): boolean {
    if (!uniqueid) return false;
    const known = this.channels.get(uniqueid);
    if (known) {
      if (callerNum) known.callerNum = callerNum;
      return true;
    }
    if (this.channels.size >= MAX_CHANNELS_PER_CALL) return false;
    this.channels.set(uniqueid, { name: name ?? '', ...(callerNum ? { callerNum } : {}) });
    return true;
  }

  hungUp(uniqueid: string | undefined, at: number): void {
    const channel = uniqueid ? this.channels.get(uniqueid) : undefined;
    if (channel) channel.hungUpAt ??= at;
    this.endedAt = Math.max(this.endedAt ?? at, at);
  }

  /** Keeps an event for the summary, within the per-call cap. */
  keep(list: AmiEvent[]): (event: AmiEvent) => void {
    return (event) => {
      if (this.kept >= MAX_KEPT_EVENTS_PER_CALL) {
        this.eventsOverCap += 1;
        return;
      }
      this.kept += 1;
      list.push(event);
    };
  }

  keepTimed(list: TimedEvent[], event: AmiEvent, at: number): void {
    if (this.kept >= MAX_KEPT_EVENTS_PER_CALL) {
      this.eventsOverCap += 1;
      return;
    }
    this.kept += 1;
    list.push({ event, at });
  }

  /**
   * Over when Asterisk said so (CEL LINKEDID_END, exactly one per call), or when the call's first
   * channel and every other channel seen have hung up. Waiting for the first channel too keeps a
   * call that was joined half-way (after an AMI reconnect) from ending on its agent's hang-up.
   */
  get ended(): boolean {
    if (this.linkedidEnded) return true;
    if (this.channels.get(this.linkedid)?.hungUpAt === undefined) return false;
    for (const channel of this.channels.values()) if (channel.hungUpAt === undefined) return false;
    return true;
  }
}
