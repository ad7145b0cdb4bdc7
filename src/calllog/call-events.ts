/**
 * Reads the end-of-call events from the plugin's AMI connection and hands each finished call to
 * `onCall`: the source of the call log. It never touches the call path: events arrive on the
 * connection the Redirects use, are assembled in memory (CallAssembler) and leave through a
 * callback that must not block (the outbox writes them to the database on its own time).
 *
 * The AMI user needs `read = call,cdr` (Dial, Hangup, CEL, Cdr) and, for queue calls, `agent`
 * (QueueCallerJoin, AgentConnect): see README, "Call log: what Asterisk must send".
 */
import type { AmiEventOptions } from '../ami/ami-client';
import type { AmiMessage } from '../ami/ami-session';
import type { HostContext, HostLogger } from '../host';
import { toAmiEvent } from './ami-event';
import { CallAssembler, type CallAssemblerOptions, type CallAssemblerStats } from './call-assembler';
import type { CompletedCall } from './completed-call';

/** The event classes asked for with the Events action; Asterisk sends the ones the user's read= allows. */
export const CALL_LOG_EVENT_MASK = 'call,cdr,agent';

export interface CallEventsOptions {
  host: Pick<HostContext, 'directory' | 'callTenant' | 'logger'>;
  /** Each finished call, once. Must not throw or block; it runs on the AMI connection's turn. */
  onCall(call: CompletedCall): void;
  /** Over the assembler's defaults (grace period 1500 ms, 5000 open calls...). */
  assembler?: Omit<Partial<CallAssemblerOptions>, 'isExtension' | 'tenantOf'>;
  /** The clock; tests pass their own. Default Date.now. */
  now?: () => number;
}

export interface CallEvents {
  /** What the AMI client needs to deliver events here (AmiClientOptions.events). */
  readonly amiEvents: AmiEventOptions;
  stats(): CallAssemblerStats;
  /** Emits the calls that have ended and are in their grace period, then stops the timer. */
  stop(): void;
}

/** Starts assembling calls from AMI events; pass `amiEvents` to the AMI client. */
export function startCallEvents({ host, onCall, assembler: tuning = {}, now = Date.now }: CallEventsOptions): CallEvents {
  const logger = host.logger;
  const directory = host.directory;
  const callTenant = host.callTenant;
  if (!callTenant) logger.info('The host gives no callTenant hook: calls are not logged (HostContext.callTenant).');
  // The host's hooks run inside the assembler: one that throws must cost that call, not the process.
  const guarded = <A, R>(what: string, hook: (arg: A) => R, fallback: R) => (arg: A): R => {
    try {
      return hook(arg);
    } catch (err) {
      logger.error(`The host's ${what} hook failed; the call log goes on without its answer`, { error: String(err) });
      return fallback;
    }
  };
  const assembler = new CallAssembler({
    ...tuning,
    isExtension: guarded('directory.isExtension', (number: string) => directory?.isExtension?.(number) ?? false, false),
    tenantOf: guarded('callTenant', (party: { did?: string; extension?: string }) => callTenant?.(party), undefined),
  });
  const graceMs = tuning.graceMs ?? 1500;
  const emit = (calls: CompletedCall[]) => {
    for (const call of calls) {
      try {
        onCall(call);
      } catch (err) {
        logger.error('The call log could not take a finished call', { linkedId: call.linkedId, error: String(err) });
      }
    }
  };
  // Calls and Cdrs dropped to stay bounded are counted; a warning says so, at most once a minute.
  let warnedDrops = 0;
  let warnedAt = -Infinity;
  const warnOfDrops = () => {
    const s = assembler.stats();
    const dropped = s.droppedOverflow + s.droppedIdle + s.droppedCdrs;
    if (dropped === warnedDrops || now() - warnedAt < 60_000) return;
    warnedDrops = dropped;
    warnedAt = now();
    logger.warn('The call log dropped calls or Cdrs to stay within its bounds', {
      droppedOverflow: s.droppedOverflow, droppedIdle: s.droppedIdle, droppedCdrs: s.droppedCdrs, openCalls: s.openCalls,
    });
  };
  // Grace periods end on this tick; a call waits at most graceMs plus one tick.
  const tick = setInterval(() => {
    try {
      emit(assembler.flush(now()));
      warnOfDrops();
    } catch (err) {
      logger.error('The call log could not summarise the calls that ended', { error: String(err) });
    }
  }, Math.max(50, Math.min(250, Math.floor(graceMs / 4))));
  tick.unref();
  let lost = false;

  return {
    amiEvents: {
      mask: CALL_LOG_EVENT_MASK,
      onEvent(message: AmiMessage) {
        const event = toAmiEvent(message);
        if (!event) return;
        try {
          assembler.push(event, now());
        } catch (err) {
          logger.error('An AMI event could not be read for the call log', { event: event.event, error: String(err) });
        }
      },
      onConnected() {
        if (lost) logger.info('AMI is back: calls that ended while it was down may be logged late or not at all', { openCalls: assembler.stats().openCalls });
        lost = false;
      },
      onDisconnected() {
        lost = true;
      },
    },
    stats: () => assembler.stats(),
    stop() {
      clearInterval(tick);
      emit(assembler.flush(now() + graceMs));
    },
  };
}

/** The call log's stand-in until the outbox takes the calls: one debug line per call. */
export function logCompletedCall(logger: HostLogger): (call: CompletedCall) => void {
  return (call) => logger.debug('Call ended', {
    linkedId: call.linkedId, tenantId: call.tenantId, direction: call.direction, disposition: call.disposition,
    externalNumber: call.externalNumber, did: call.did, agentExtension: call.agentExtension, queue: call.queue,
    talkSeconds: call.talkSeconds, channelUniqueIds: call.channelUniqueIds,
  });
}
