/**
 * One client connection to the fake AMI server, answering as Asterisk 22 does (bytes measured
 * in shared/reference/asterisk.md; where a reply was not measured it follows manager.c and the
 * comment says so).
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { AmiMessageReader, amiHeader, amiHeaderRecord, formatAmiMessage, type AmiInboundMessage } from './ami-wire';
import { PendingTimers } from './pending-timers';

export const AMI_BANNER = 'Asterisk Call Manager/11.0.0\r\n';

/** Where a Redirect sends a channel; an empty Context/Exten keeps the channel's own. */
export interface AmiRedirectTarget {
  context?: string;
  exten?: string;
  priority: number;
}

/** What the simulated Asterisk does with channel actions the fake AMI receives. */
export interface AmiChannelControl {
  /** `not-up`: the channel is already hanging up (or being moved). */
  redirect(channel: string, target: AmiRedirectTarget): 'ok' | 'no-such-channel' | 'not-up';
  hangup(channel: string): 'ok' | 'no-such-channel';
}

/** An action as the fake received it. */
export interface ReceivedAmiAction {
  sessionId: number;
  /** Milliseconds since the server started. */
  atMs: number;
  /** The Action header as sent ("login", "Redirect"...). */
  action: string;
  /** Header names lower-cased, first occurrence kept. */
  headers: Record<string, string>;
  /** The lines as received, in order, without line ends. */
  lines: string[];
}

/** What a session needs from its server. */
export interface FakeAmiSessionHost {
  readonly username: string;
  readonly secret: string;
  readonly authFailureDelayMs: number;
  readonly authTimeoutMs: number;
  readonly channels: AmiChannelControl | undefined;
  readonly silent: boolean;
  readonly startedAt: number;
  record(action: ReceivedAmiAction): void;
  countBytes(bytes: number): void;
  loggedIn(session: FakeAmiSession): void;
}

export class FakeAmiSession {
  authenticated = false;
  /** Whether events would be sent; Asterisk's default for a user allowed to read them. */
  events = true;
  private closing = false;
  private readonly reader = new AmiMessageReader();
  private readonly timers = new PendingTimers();

  constructor(
    readonly id: number,
    private readonly socket: Socket,
    private readonly host: FakeAmiSessionHost,
  ) {
    socket.setEncoding('utf8');
    // Answers go out at once: with Nagle, an answer written right after another waits for the
    // client's delayed ACK (40 ms on Linux).
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => {
      host.countBytes(Buffer.byteLength(chunk));
      for (const message of this.reader.push(chunk)) this.handle(message);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => this.timers.clear());
    // manager.conf authtimeout: a connection that does not log in is closed.
    this.timers.later(host.authTimeoutMs, () => {
      if (!this.authenticated) socket.destroy();
    });
    socket.write(AMI_BANNER);
  }

  /** Sends an event, if this session logged in and wants events. */
  sendEvent(headers: ReadonlyArray<readonly [string, string]>): void {
    if (this.authenticated && this.events && !this.closing) this.socket.write(formatAmiMessage(headers));
  }

  destroy(): void {
    this.socket.destroy();
    this.timers.clear();
  }

  private handle(message: AmiInboundMessage): void {
    const action = amiHeader(message, 'Action');
    const id = amiHeader(message, 'ActionID');
    const atMs = performance.now() - this.host.startedAt;
    this.host.record({ sessionId: this.id, atMs, action, headers: amiHeaderRecord(message), lines: message.lines });
    if (this.closing || this.host.silent) return;
    if (!action) return this.error(id, 'Missing action in request'); // manager.c, not measured
    const name = action.toLowerCase();
    if (!this.authenticated && name !== 'login' && name !== 'logoff') return this.error(id, 'Permission denied');
    switch (name) {
      case 'login':
        return this.login(message, id);
      case 'logoff':
        this.respond('Goodbye', id, [['Message', 'Thanks for all the fish.']]);
        this.closing = true;
        this.socket.end();
        return;
      case 'ping':
        return this.respond('Success', id, [['Ping', 'Pong'], ['Timestamp', asteriskTimestamp()]]);
      case 'events':
        return this.eventMask(message, id);
      case 'redirect':
        return this.redirect(message, id);
      case 'hangup':
        return this.hangup(message, id);
      default:
        return this.error(id, `Invalid/unknown command: ${action}. Use Action: ListCommands to show available commands.`);
    }
  }

  private login(message: AmiInboundMessage, id: string): void {
    if (this.authenticated) return this.respond('Success', id, [['Message', 'Already authenticated']]); // manager.c
    const ok = amiHeader(message, 'Username') === this.host.username && amiHeader(message, 'Secret') === this.host.secret;
    if (!ok) {
      // Measured: the answer comes about 1.1 s later, then Asterisk closes the connection.
      this.closing = true;
      this.timers.later(this.host.authFailureDelayMs, () => {
        this.respond('Error', id, [['Message', 'Authentication failed']]);
        this.socket.end();
      });
      return;
    }
    this.authenticated = true;
    const events = amiHeader(message, 'Events');
    if (events) this.events = eventMaskIsOn(events) ?? this.events;
    this.respond('Success', id, [['Message', 'Authentication accepted']]);
    // manager.c greets a session that reads system events; with `Events: off` nothing follows.
    this.sendEvent([
      ['Event', 'FullyBooted'],
      ['Privilege', 'system,all'],
      ['Uptime', String(Math.floor(process.uptime()))],
      ['LastReload', String(Math.floor(process.uptime()))],
      ['Status', 'Fully Booted'],
    ]);
    this.host.loggedIn(this);
  }

  /** The Events action (manager.c, not measured): `EventMask: off` stops events. */
  private eventMask(message: AmiInboundMessage, id: string): void {
    const on = eventMaskIsOn(amiHeader(message, 'EventMask'));
    if (on === undefined) return this.error(id, 'Invalid event mask');
    this.events = on;
    this.respond('Success', id, [['Events', on ? 'On' : 'Off']]);
  }

  private redirect(message: AmiInboundMessage, id: string): void {
    const channel = amiHeader(message, 'Channel');
    if (!channel) return this.error(id, 'Channel not specified');
    // The priority checks follow manager.c (not measured); labels are not simulated.
    const priorityText = amiHeader(message, 'Priority');
    if (!priorityText) return this.error(id, 'Priority not specified');
    const priority = leadingInteger(priorityText);
    if (priority === undefined || priority < 1) return this.error(id, 'Priority is invalid');
    const target: AmiRedirectTarget = { priority };
    const context = amiHeader(message, 'Context');
    const exten = amiHeader(message, 'Exten');
    if (context) target.context = context;
    if (exten) target.exten = exten;
    const outcome = this.host.channels?.redirect(channel, target) ?? 'no-such-channel';
    if (outcome === 'no-such-channel') return this.error(id, `Channel does not exist: ${channel}`);
    if (outcome === 'not-up') return this.error(id, 'Redirect failed, channel not up.');
    // Measured: success even when the target context or extension does not exist.
    this.respond('Success', id, [['Message', 'Redirect successful']]);
  }

  /** AMI Hangup (manager.c, not measured). */
  private hangup(message: AmiInboundMessage, id: string): void {
    const channel = amiHeader(message, 'Channel');
    if (!channel) return this.error(id, 'No channel specified');
    const outcome = this.host.channels?.hangup(channel) ?? 'no-such-channel';
    if (outcome === 'no-such-channel') return this.error(id, 'No such channel');
    this.respond('Success', id, [['Message', 'Channel Hungup']]);
  }

  private error(id: string, text: string): void {
    this.respond('Error', id, [['Message', text]]);
  }

  /** `Response` first, then `ActionID` (only when the action had one), then the rest. */
  private respond(response: string, id: string, headers: Array<[string, string]>): void {
    const lines: Array<[string, string]> = [['Response', response]];
    if (id) lines.push(['ActionID', id]);
    this.socket.write(formatAmiMessage([...lines, ...headers]));
  }
}

/** `on`/`off` and their spellings; any other non-empty mask is a class list, so on. */
function eventMaskIsOn(mask: string): boolean | undefined {
  const value = mask.trim().toLowerCase();
  if (value === '') return undefined;
  if (['off', 'no', 'false', '0', 'none'].includes(value)) return false;
  return true;
}

/** sscanf("%d") reading: leading blanks, a sign, digits; anything after is ignored. */
function leadingInteger(text: string): number | undefined {
  const match = /^\s*([+-]?\d+)/.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** Seconds with microseconds, as Ping's Timestamp: `1795612290.697259`. */
function asteriskTimestamp(): string {
  return ((performance.timeOrigin + performance.now()) / 1000).toFixed(6);
}
