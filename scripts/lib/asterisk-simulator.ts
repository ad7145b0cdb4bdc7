/**
 * A simulated Asterisk 22 for tests and people: it places calls into a FastAGI server the way
 * `AGI(agi://host:port/crm-routing?rule=1)` does, and owns the channels that the fake AMI
 * (scripts/lib/fake-ami.ts) redirects or hangs up. Every call resolves with its transcript,
 * channel variables, AGISTATUS, where it ended and when; none can hang, because each call is
 * abandoned after `maxCallMs`.
 *
 *   const asterisk = new AsteriskSimulator();
 *   const ami = await FakeAmiServer.create({ channels: asterisk });
 *   const call = await asterisk.placeCall({ agiPort, callerId: '+15550001111', did: '5551234' });
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { formatAgiHeader } from './agi-header';
import { CallTranscript, type TranscriptLine } from './call-transcript';
import type { AmiChannelControl, AmiRedirectTarget } from './fake-ami-session';
import { SimulatedCall, type AgiStatus, type CallEnding, type DtmfScript } from './simulated-call';
import { SimulatedChannel, SoundLibrary, formatLocation, type DialplanLocation, type SoundFiles } from './simulated-channel';

export type { AgiStatus, CallEnding, DtmfScript } from './simulated-call';
export type { DialplanLocation, SoundFiles } from './simulated-channel';
export type { TranscriptLine } from './call-transcript';

export interface AsteriskSimulatorOptions {
  /** Default limit of a call, after which the simulator drops it. Default 20 000 ms. */
  maxCallMs?: number;
  /** Which extensions exist; a redirect or move elsewhere hangs up. Default: all exist. */
  dialplanHas?: (location: DialplanLocation) => boolean;
  /** Default sound files. Default: every file plays 200 ms except `nosuchfile`, which is missing. */
  sounds?: SoundFiles;
  /** agi_version. Default 22.10.1. */
  version?: string;
}

export interface PlaceCallOptions {
  /** FastAGI server. Host default 127.0.0.1. */
  agiHost?: string;
  agiPort: number;
  /** Path and query after host:port/. Default `crm-routing?rule=1`. */
  script?: string;
  /** Caller ID number; absent: `unknown` with presentation 67. */
  callerId?: string;
  callerName?: string;
  /** The dialled number: the extension AGI() runs at. Default 5551234. */
  did?: string;
  /** Dialplan context of the DID. Default from-did. */
  context?: string;
  /** Priority of the AGI() step. Default 2. */
  priority?: number;
  /** agi_channel. Default `Local/<did>@<context>-<8 hex>;2`. */
  channel?: string;
  /** agi_uniqueid. Default `<epoch seconds>.<n>`. */
  uniqueid?: string;
  /** AGI(url,arg1,...) arguments: agi_arg_1 onwards. */
  args?: string[];
  /** Keys the caller presses; none by default. */
  dtmf?: DtmfScript;
  /** The caller hangs up this long after the AGI connection opens. */
  hangupAfterMs?: number;
  /** Set(AGIEXITONHANGUP=yes) before AGI(). */
  agiExitOnHangup?: boolean;
  /** Channel variables set before AGI(). */
  variables?: Record<string, string>;
  /** Sound files for this call (over the simulator's). */
  sounds?: SoundFiles;
  /** Limit of this call. Default the simulator's maxCallMs. */
  maxCallMs?: number;
  /** res_agi gives up a FastAGI connect after 2000 ms (MAX_AGI_CONNECT). */
  connectTimeoutMs?: number;
}

export interface CallResult {
  channel: string;
  uniqueid: string;
  transcript: TranscriptLine[];
  /** The transcript, printable. */
  dialogue: string;
  /** Channel variables at the end (CRM_ROUTING_STATUS, ...), including those set before AGI(). */
  variables: Record<string, string>;
  /** Undefined when the simulator abandoned the call. */
  agiStatus: AgiStatus | undefined;
  ended: CallEnding;
  timings: {
    /** TCP connect, from placeCall(). */
    connectMs: number;
    /** The rest are in ms after the connection opened. */
    firstCommandAtMs?: number;
    redirectAtMs?: number;
    serverClosedAtMs?: number;
    /** When the channel left AGI for where it ended. */
    finalMoveAtMs: number;
  };
}

const DEFAULT_SOUNDS: SoundFiles = { nosuchfile: 'missing' };

export class AsteriskSimulator implements AmiChannelControl {
  private readonly calls = new Map<string, { call: SimulatedCall; channel: SimulatedChannel }>();
  private callCount = 0;

  constructor(private readonly options: AsteriskSimulatorOptions = {}) {}

  async placeCall(options: PlaceCallOptions): Promise<CallResult> {
    const n = this.callCount++;
    const did = options.did ?? '5551234';
    const start: DialplanLocation = { context: options.context ?? 'from-did', exten: did, priority: options.priority ?? 2 };
    const name = options.channel ?? `Local/${did}@${start.context}-${n.toString(16).padStart(8, '0')};2`;
    if (this.calls.has(name)) throw new Error(`A call on channel ${name} is already in progress`);
    const uniqueid = options.uniqueid ?? `${Math.floor(Date.now() / 1000)}.${n + 1}`;
    const sounds = new SoundLibrary({ ...DEFAULT_SOUNDS, ...this.options.sounds, ...options.sounds });
    const channel = new SimulatedChannel(name, uniqueid, options.callerId, options.callerName, start, sounds);
    for (const [key, value] of Object.entries(options.variables ?? {})) channel.setVariable(key, value);
    if (options.agiExitOnHangup) channel.setVariable('AGIEXITONHANGUP', 'yes');

    const host = options.agiHost ?? '127.0.0.1';
    const script = options.script ?? 'crm-routing?rule=1';
    const hostInUrl = host.includes(':') ? `[${host}]` : host;
    const transcript = new CallTranscript();
    const dialing = performance.now();
    let socket: Socket;
    try {
      socket = await connectWithin(host, options.agiPort, options.connectTimeoutMs ?? 2000);
    } catch (err) {
      return this.failedToConnect(channel, transcript, String((err as Error).message), performance.now() - dialing);
    }
    const connectMs = performance.now() - dialing;
    transcript.restartClock();
    transcript.note(`connected to ${host}:${options.agiPort} as ${name}`);

    const header = formatAgiHeader({
      request: `agi://${hostInUrl}:${options.agiPort}/${script}`,
      script,
      channel: name,
      language: 'en',
      type: name.slice(0, Math.max(0, name.indexOf('/'))) || 'Local',
      uniqueid,
      version: this.options.version ?? '22.10.1',
      callerId: options.callerId,
      callerName: options.callerName,
      context: start.context,
      extension: start.exten,
      priority: start.priority,
      accountcode: '',
      threadId: String(140350374528704 + n),
      args: options.args ?? [],
    });
    const call = new SimulatedCall({
      socket,
      transcript,
      channel,
      header,
      exitOnHangup: options.agiExitOnHangup ?? false,
      maxCallMs: options.maxCallMs ?? this.options.maxCallMs ?? 20_000,
      dialplanHas: this.options.dialplanHas ?? (() => true),
      ...(options.dtmf ? { dtmf: options.dtmf } : {}),
      ...(options.hangupAfterMs !== undefined ? { hangupAfterMs: options.hangupAfterMs } : {}),
    });
    this.calls.set(name, { call, channel });
    const outcome = await call.done.finally(() => this.calls.delete(name));
    const { agiStatus, ended, finalMoveAtMs, firstCommandAtMs, redirectAtMs, serverClosedAtMs } = outcome;
    return {
      channel: name,
      uniqueid,
      transcript: transcript.lines,
      dialogue: transcript.format(),
      variables: Object.fromEntries(channel.variables),
      agiStatus,
      ended,
      timings: { connectMs, finalMoveAtMs, firstCommandAtMs, redirectAtMs, serverClosedAtMs },
    };
  }

  /** Channels inside AGI right now. */
  liveChannels(): string[] {
    return [...this.calls.keys()];
  }

  /** AMI Redirect; an empty Context/Exten keeps the channel's own (ast_async_goto). */
  redirect(channel: string, target: AmiRedirectTarget): 'ok' | 'no-such-channel' | 'not-up' {
    const live = this.calls.get(channel);
    if (!live) return 'no-such-channel';
    const here = live.channel.location;
    return live.call.redirect({ context: target.context ?? here.context, exten: target.exten ?? here.exten, priority: target.priority });
  }

  /** AMI Hangup: on the AGI socket it looks exactly like the caller hanging up. */
  hangup(channel: string): 'ok' | 'no-such-channel' {
    const live = this.calls.get(channel);
    if (!live) return 'no-such-channel';
    live.call.hangup('AMI Hangup');
    return 'ok';
  }

  /** Abandons every call still in progress. */
  close(): void {
    for (const { call } of this.calls.values()) call.abandon('the simulator was closed');
  }

  /** AGI() could not reach the server: AGISTATUS=FAILURE and the dialplan goes on at once. */
  private failedToConnect(channel: SimulatedChannel, transcript: CallTranscript, why: string, connectMs: number): CallResult {
    const next = { ...channel.location, priority: channel.location.priority + 1 };
    const ended: CallEnding = (this.options.dialplanHas ?? (() => true))(next)
      ? { kind: 'dialplan', ...next, via: 'next-priority' }
      : { kind: 'hungup', reason: 'no-such-extension' };
    transcript.note(`no FastAGI connection: ${why}`);
    transcript.note(`AGISTATUS=FAILURE; the channel continues at ${formatLocation(next)}`);
    return {
      channel: channel.name,
      uniqueid: channel.uniqueid,
      transcript: transcript.lines,
      dialogue: transcript.format(),
      variables: Object.fromEntries(channel.variables),
      agiStatus: 'FAILURE',
      ended,
      timings: { connectMs, finalMoveAtMs: 0 },
    };
  }
}

function connectWithin(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // allowHalfOpen: after the server's FIN, Asterisk still writes HANGUP before closing.
    const socket = connect({ host, port, allowHalfOpen: true });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}
