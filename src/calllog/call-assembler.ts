/**
 * End-of-call AMI events in, one CompletedCall per Linkedid out, a short grace period after the
 * call's last channel hung up (Asterisk's teardown events come in no fixed order within about
 * 5 ms; some Cdrs even after LINKEDID_END). Pure: no I/O, no timers; the caller passes the time
 * with every event and asks `flush(now)` for the calls whose grace period is over.
 *
 * - Cdrs carry no Linkedid (unless cdr_manager.conf maps it): they are tied to their call by the
 *   UniqueID of their channel; a Cdr of a channel not seen yet waits a little for it.
 * - The same event twice (byte for byte) counts once; events may arrive in any order; state is
 *   kept across AMI reconnects, so a call whose events were split by one still ends as one call.
 * - Events of a call already emitted are ignored (`late`), so a straggler never makes a second call.
 * - Memory is bounded: at most `maxOpenCalls` calls (the oldest is dropped and counted), per call
 *   at most 64 channels and 256 kept events, at most `maxPendingCdrs` Cdrs waiting for their call.
 */
import type { AmiEvent } from './ami-event';
import type { CompletedCall } from './completed-call';
import { OpenCall } from './open-call';
import { summarizeCall, type SummaryContext } from './call-summary';

export interface CallAssemblerOptions extends SummaryContext {
  /** Wait after a call's last hang-up before it is summarised. Default 1500 ms (teardown takes about 5 ms). */
  graceMs?: number;
  /** Calls assembled at once; past it the oldest is dropped (counted). Default 5000. */
  maxOpenCalls?: number;
  /** A call with no event for this long is dropped (its end was lost). Default 12 h: a call may be quiet while people talk. */
  maxIdleMs?: number;
  /** Cdrs waiting for an event that names their channel's call. Default 1000, each for up to 30 s. */
  maxPendingCdrs?: number;
  pendingCdrMs?: number;
  /** Linkedids of emitted calls remembered to ignore their stragglers. Default 10 000. */
  rememberCompleted?: number;
}

export interface CallAssemblerStats {
  openCalls: number;
  completed: number;
  /** Ended calls not emitted: between two extensions, or no tenant claimed them. */
  skippedInternal: number;
  skippedNoTenant: number;
  duplicateEvents: number;
  /** Events for a call already emitted. */
  lateEvents: number;
  /** Open calls dropped to stay within maxOpenCalls. */
  droppedOverflow: number;
  /** Open calls dropped after maxIdleMs without an event. */
  droppedIdle: number;
  /** Cdrs whose call never showed up. */
  droppedCdrs: number;
  /** Events past a call's per-call caps. */
  eventsOverCap: number;
}

/** Events the assembler reads; everything else is ignored on arrival. */
const CALL_EVENTS = new Set([
  'newchannel', 'hangup', 'dialbegin', 'dialend', 'cdr', 'cel',
  'queuecallerjoin', 'queuecallerabandon', 'queuecallerleave', 'agentcalled', 'agentconnect', 'agentcomplete',
]);

export class CallAssembler {
  private readonly open = new Map<string, OpenCall>();
  /** Channel uniqueid -> Linkedid, for the Cdrs. */
  private readonly linkedidOf = new Map<string, string>();
  private readonly pendingCdrs = new Map<string, Array<{ event: AmiEvent; at: number }>>();
  private pendingCdrCount = 0;
  private readonly completedIds = new Set<string>();
  private readonly counts: Omit<CallAssemblerStats, 'openCalls'> = {
    completed: 0, skippedInternal: 0, skippedNoTenant: 0, duplicateEvents: 0, lateEvents: 0,
    droppedOverflow: 0, droppedIdle: 0, droppedCdrs: 0, eventsOverCap: 0,
  };
  private readonly graceMs: number;
  private readonly maxOpenCalls: number;
  private readonly maxIdleMs: number;
  private readonly maxPendingCdrs: number;
  private readonly pendingCdrMs: number;
  private readonly rememberCompleted: number;

  constructor(private readonly options: CallAssemblerOptions) {
    this.graceMs = options.graceMs ?? 1500;
    this.maxOpenCalls = options.maxOpenCalls ?? 5000;
    this.maxIdleMs = options.maxIdleMs ?? 12 * 3600_000;
    this.maxPendingCdrs = options.maxPendingCdrs ?? 1000;
    this.pendingCdrMs = options.pendingCdrMs ?? 30_000;
    this.rememberCompleted = options.rememberCompleted ?? 10_000;
  }

  /** Takes one AMI event (header names lower-cased) that arrived at `now` (ms). */
  push(event: AmiEvent, now: number): void {
    const name = (event.event ?? '').toLowerCase();
    if (!CALL_EVENTS.has(name)) return;
    if (name === 'cdr') return this.pushCdr(event, now);
    // Originate's own DialBegin/DialEnd have no Channel, only Dest* (measured).
    const linkedid = event.linkedid ?? event.destlinkedid;
    if (!linkedid) return;
    const call = this.callFor(linkedid, now);
    if (!call || !this.firstTime(call, event)) return;
    call.lastEventAt = now;
    this.learnChannel(call, event.uniqueid, event.channel, event.calleridnum);
    if (event.destuniqueid) this.learnChannel(call, event.destuniqueid, event.destchannel);

    switch (name) {
      case 'newchannel':
        if (event.uniqueid === linkedid) call.startedAt ??= now;
        break;
      case 'hangup':
        call.hungUp(event.uniqueid, now);
        break;
      case 'dialbegin':
        if (event.channel) call.keep(call.dialBegins)(event);
        break;
      case 'dialend':
        call.keepTimed(call.dialEnds, event, now);
        break;
      case 'cel':
        this.pushCel(call, event, now);
        break;
      case 'queuecallerjoin':
        call.queue ??= event.queue;
        break;
      case 'agentconnect':
        call.agentConnect ??= { event, at: now };
        break;
    }
    if (call.ended) call.dueAt = now + this.graceMs;
  }

  /** The calls whose grace period is over by `now`; also forgets idle calls and stale Cdrs. */
  flush(now: number): CompletedCall[] {
    const done: CompletedCall[] = [];
    for (const call of [...this.open.values()]) {
      if (call.dueAt !== undefined && call.dueAt <= now) {
        this.close(call);
        const summary = summarizeCall(call, this.options);
        if ('call' in summary) {
          this.counts.completed += 1;
          done.push(summary.call);
        } else if (summary.skipped === 'internal') this.counts.skippedInternal += 1;
        else this.counts.skippedNoTenant += 1;
      } else if (now - call.lastEventAt >= this.maxIdleMs) {
        this.close(call);
        this.counts.droppedIdle += 1;
      }
    }
    for (const [uniqueid, cdrs] of this.pendingCdrs) {
      const fresh = cdrs.filter((c) => now - c.at < this.pendingCdrMs);
      this.dropPendingCdrs(cdrs.length - fresh.length);
      if (fresh.length === 0) this.pendingCdrs.delete(uniqueid);
      else this.pendingCdrs.set(uniqueid, fresh);
    }
    return done;
  }

  /** When flush() may next have something to do (a grace period ending), or undefined when no call has ended. */
  nextDueAt(): number | undefined {
    let next: number | undefined;
    for (const call of this.open.values()) if (call.dueAt !== undefined && (next === undefined || call.dueAt < next)) next = call.dueAt;
    return next;
  }

  stats(): CallAssemblerStats {
    let overCap = 0;
    for (const call of this.open.values()) overCap += call.eventsOverCap;
    return { openCalls: this.open.size, ...this.counts, eventsOverCap: this.counts.eventsOverCap + overCap };
  }

  private pushCdr(event: AmiEvent, now: number): void {
    const linkedid = event.linkedid || (event.uniqueid ? this.linkedidOf.get(event.uniqueid) : undefined);
    if (!linkedid) {
      if (!event.uniqueid) return;
      // A straggler of an emitted call: its channel index is gone, but the call's first channel has uniqueid = Linkedid.
      if (this.completedIds.has(event.uniqueid)) {
        this.counts.lateEvents += 1;
        return;
      }
      this.holdCdr(event.uniqueid, event, now);
      return;
    }
    const call = this.callFor(linkedid, now);
    if (!call || !this.firstTime(call, event)) return;
    call.lastEventAt = now;
    this.learnChannel(call, event.uniqueid, event.channel);
    call.keep(call.cdrs)(event);
    if (call.ended) call.dueAt = now + this.graceMs;
  }

  private pushCel(call: OpenCall, event: AmiEvent, now: number): void {
    switch (event.eventname) {
      case 'HANGUP':
        call.keep(call.celHangups)(event);
        call.hungUp(event.uniqueid, now);
        break;
      case 'CHAN_END':
        call.hungUp(event.uniqueid, now);
        break;
      case 'LINKEDID_END':
        call.linkedidEnded = true;
        call.endedAt = Math.max(call.endedAt ?? now, now);
        break;
    }
  }

  /** The open call of `linkedid`, made if new; undefined for a call already emitted. */
  private callFor(linkedid: string, now: number): OpenCall | undefined {
    const known = this.open.get(linkedid);
    if (known) return known;
    if (this.completedIds.has(linkedid)) {
      this.counts.lateEvents += 1;
      return undefined;
    }
    if (this.open.size >= this.maxOpenCalls) {
      const oldest = this.open.values().next().value as OpenCall;
      this.close(oldest);
      this.counts.droppedOverflow += 1;
    }
    const call = new OpenCall(linkedid, now);
    this.open.set(linkedid, call);
    return call;
  }

  private learnChannel(call: OpenCall, uniqueid: string | undefined, name: string | undefined, callerNum?: string): void {
    if (!uniqueid || !call.channel(uniqueid, name, callerNum)) return;
    if (this.linkedidOf.get(uniqueid) === call.linkedid) return;
    this.linkedidOf.set(uniqueid, call.linkedid);
    const waiting = this.pendingCdrs.get(uniqueid);
    if (!waiting) return;
    this.pendingCdrs.delete(uniqueid);
    this.pendingCdrCount -= waiting.length;
    for (const { event } of waiting) {
      if (!this.firstTime(call, event)) continue;
      call.keep(call.cdrs)(event);
    }
  }

  private firstTime(call: OpenCall, event: AmiEvent): boolean {
    if (call.firstTime(event)) return true;
    this.counts.duplicateEvents += 1;
    return false;
  }

  private holdCdr(uniqueid: string, event: AmiEvent, now: number): void {
    if (this.pendingCdrCount >= this.maxPendingCdrs) {
      const [oldestId, oldest] = this.pendingCdrs.entries().next().value as [string, Array<unknown>];
      this.pendingCdrs.delete(oldestId);
      this.dropPendingCdrs(oldest.length);
    }
    const list = this.pendingCdrs.get(uniqueid) ?? [];
    list.push({ event, at: now });
    this.pendingCdrs.set(uniqueid, list);
    this.pendingCdrCount += 1;
  }

  private dropPendingCdrs(count: number): void {
    this.pendingCdrCount -= count;
    this.counts.droppedCdrs += count;
  }

  private close(call: OpenCall): void {
    this.open.delete(call.linkedid);
    for (const uniqueid of call.channels.keys()) if (this.linkedidOf.get(uniqueid) === call.linkedid) this.linkedidOf.delete(uniqueid);
    this.completedIds.add(call.linkedid);
    if (this.completedIds.size > this.rememberCompleted) this.completedIds.delete(this.completedIds.values().next().value as string);
    this.counts.eventsOverCap += call.eventsOverCap;
  }
}
