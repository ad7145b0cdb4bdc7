/**
 * One simulated call inside AGI(): Asterisk's side of a FastAGI connection that is already
 * open. It sends the header, answers commands one line at a time as res_agi does (pipelining
 * and cancelling included), plays the caller's part (keys, hang-up), obeys AMI Redirect and
 * Hangup, and when the AGI ends works out where the channel goes, following
 * shared/reference/asterisk.md ("AMI Redirect while the channel is inside AGI", "AGISTATUS after
 * AGI()", "Without AMI").
 */
import type { Socket } from 'node:net';
import { runAgiCommand } from './agi-commands';
import type { BlockingCommand } from './agi-blocking-commands';
import { AgiLineReader } from './agi-line-reader';
import type { CallTranscript } from './call-transcript';
import { PendingTimers } from './pending-timers';
import { formatLocation, type ChannelGone, type DialplanLocation, type SimulatedChannel } from './simulated-channel';

/** Keys the caller presses. */
export interface DtmfScript {
  /** In order: 0-9 * # A-D. */
  digits: string;
  /** When the first key is pressed, in ms after `from`. Default 300. */
  afterMs?: number;
  /** Between keys. Default 150 ms. */
  gapMs?: number;
  /** What `afterMs` counts from: the first GET DATA (default) or the AGI connection. */
  from?: 'first-get-data' | 'connect';
}

export type AgiStatus = 'SUCCESS' | 'FAILURE' | 'HANGUP';

/** Where the call ended up once AGI was over. */
export type CallEnding =
  | { kind: 'dialplan'; context: string; exten: string; priority: number; via: 'redirect' | 'agi' | 'next-priority' }
  | { kind: 'hungup'; reason: 'caller' | 'agi-hangup' | 'redirect-target-missing' | 'no-such-extension' }
  | { kind: 'abandoned'; reason: string };

export interface CallOutcome {
  agiStatus: AgiStatus | undefined;
  ended: CallEnding;
  /** All in ms after the connection opened. */
  firstCommandAtMs?: number;
  redirectAtMs?: number;
  serverClosedAtMs?: number;
  finalMoveAtMs: number;
}

export interface SimulatedCallPlan {
  socket: Socket;
  transcript: CallTranscript;
  channel: SimulatedChannel;
  header: string;
  dtmf?: DtmfScript;
  hangupAfterMs?: number;
  /** AGIEXITONHANGUP=yes: on hang-up or redirect Asterisk closes the socket itself. */
  exitOnHangup: boolean;
  maxCallMs: number;
  /** Whether the dialplan has this extension (a redirect there otherwise hangs up). */
  dialplanHas(location: DialplanLocation): boolean;
}

/** Measured gaps between a cut-short command's reply and the HANGUP line. */
const HANGUP_GAP_AFTER_CALLER_MS = 40;
const HANGUP_GAP_MS = 1;
/** After its own FIN, how long the simulator waits for the server's before dropping the socket. */
const CLOSE_GRACE_MS = 1000;

export class SimulatedCall {
  readonly done: Promise<CallOutcome>;
  private resolveDone!: (outcome: CallOutcome) => void;
  private readonly reader = new AgiLineReader();
  private readonly timers = new PendingTimers();
  private running: BlockingCommand | undefined;
  private hangupNoticePending = false;
  private pumping = false;
  private finished = false;
  private commandFailed = false;
  private dtmfScheduled = false;
  private arrivingLine = '';
  private firstCommandAtMs: number | undefined;
  private redirectAtMs: number | undefined;
  private serverClosedAtMs: number | undefined;

  constructor(private readonly plan: SimulatedCallPlan) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    const { socket, transcript } = plan;
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('end', () => this.onServerEnd());
    socket.on('error', (err) => transcript.note(`socket error: ${err.message}`));
    socket.on('close', () => {
      if (!this.finished) this.onServerEnd();
    });
    this.write(plan.header);
    if (plan.hangupAfterMs !== undefined) this.timers.later(plan.hangupAfterMs, () => this.hangup('the caller hangs up'));
    if (plan.dtmf?.from === 'connect') this.scheduleDtmf();
    this.timers.later(plan.maxCallMs, () => this.abandon(`simulator gave up after ${plan.maxCallMs} ms (Asterisk itself would wait)`));
  }

  /** AMI Redirect of this channel. */
  redirect(target: DialplanLocation): 'ok' | 'not-up' {
    if (this.finished || this.plan.channel.gone) return 'not-up';
    this.plan.channel.redirectTarget = target;
    this.redirectAtMs = this.plan.transcript.now();
    this.plan.transcript.note(`AMI Redirect to ${formatLocation(target)}`);
    this.leaveAgi('redirect');
    return 'ok';
  }

  /** The caller hangs up (or AMI Hangup). */
  hangup(why: string): 'ok' | 'not-up' {
    if (this.finished || this.plan.channel.gone) return 'not-up';
    this.plan.transcript.note(why);
    this.leaveAgi('caller');
    return 'ok';
  }

  /** Gives up: drops the connection and reports the call as abandoned. */
  abandon(reason: string): void {
    if (this.finished) return;
    this.plan.transcript.note(reason);
    this.plan.socket.destroy();
    this.finish({ kind: 'abandoned', reason }, undefined);
  }

  private onData(chunk: string): void {
    if (this.finished) return;
    this.recordArrival(chunk);
    if (!this.reader.receive(chunk)) return this.abandon('the server sent more than 1 MiB that Asterisk had not read');
    this.cancelOnInput('new input');
    this.pump();
  }

  private onServerEnd(): void {
    if (this.finished || this.serverClosedAtMs !== undefined) return;
    this.serverClosedAtMs = this.plan.transcript.now();
    if (this.arrivingLine) this.plan.transcript.fromServer(this.arrivingLine);
    this.plan.transcript.note('the server closed its side (FIN)');
    this.reader.end();
    this.cancelOnInput('the server closing');
    this.pump();
  }

  /** GET DATA and STREAM FILE stop, without a reply, as soon as the AGI socket turns readable. */
  private cancelOnInput(what: string): void {
    const running = this.running;
    if (!running?.stopsOnInput) return;
    running.cancel();
    this.running = undefined;
    this.plan.transcript.note(`${running.name} cancelled by ${what}: it never answers`);
  }

  /** res_agi's loop: take a line only when poll() would wake, one command at a time. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.finished && !this.running && !this.hangupNoticePending && this.reader.readable) {
        const read = this.reader.read();
        if (read.kind === 'wait') break;
        if (read.kind === 'eof') return this.endAgi('server-closed');
        this.execute(read.line);
      }
    } finally {
      this.pumping = false;
    }
  }

  private execute(line: string): void {
    this.firstCommandAtMs ??= this.plan.transcript.now();
    const { channel, transcript } = this.plan;
    // res_agi's special case for a script that could not start: AGISTATUS FAILURE.
    if (/^failure/i.test(line)) {
      this.commandFailed = true;
      return this.endAgi('failure-line');
    }
    const result = runAgiCommand(line, { channel, note: (text) => transcript.note(text) });
    if (result.kind === 'reply') {
      this.write(`${result.text}\n`);
      if (result.failed && !channel.gone) this.commandFailed = true;
      if (result.hangsUp) this.leaveAgi('agi-hangup');
      return;
    }
    const command = result.command;
    this.running = command;
    if (command.name === 'GET DATA' && this.plan.dtmf?.from !== 'connect') this.scheduleDtmf();
    command.start((reply, failed) => {
      if (this.running !== command) return;
      this.running = undefined;
      this.write(`${reply}\n`);
      if (failed && !channel.gone) this.commandFailed = true;
      this.pump();
    });
  }

  /** The channel hangs up or is redirected: AGI goes on as a dead channel (or ends, with AGIEXITONHANGUP). */
  private leaveAgi(gone: ChannelGone): void {
    this.plan.channel.gone = gone;
    const reply = this.running?.interrupt();
    this.running = undefined;
    if (this.plan.exitOnHangup) {
      // Measured: `200 result=-1\nHANGUP\nHANGUP\n` in one segment, then Asterisk closes.
      this.write(`${reply ? `${reply}\n` : ''}HANGUP\nHANGUP\n`);
      return this.endAgi('exit-on-hangup');
    }
    if (reply) this.write(`${reply}\n`);
    this.hangupNoticePending = true;
    const gap = gone === 'caller' && reply ? HANGUP_GAP_AFTER_CALLER_MS : HANGUP_GAP_MS;
    this.timers.later(gap, () => {
      this.hangupNoticePending = false;
      this.write('HANGUP\n');
      this.pump();
    });
  }

  /** AGI() returns: Asterisk writes HANGUP (unless it already wrote both), sends FIN, and moves on. */
  private endAgi(why: 'server-closed' | 'exit-on-hangup' | 'failure-line'): void {
    if (this.finished) return;
    const { channel, socket } = this.plan;
    if (why !== 'exit-on-hangup') this.write('HANGUP\n');
    if (!socket.destroyed) socket.end();
    const grace = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
    grace.unref();
    socket.once('close', () => clearTimeout(grace));

    if (channel.gone === 'redirect' && channel.redirectTarget) {
      const target = channel.redirectTarget;
      return this.finish(
        this.plan.dialplanHas(target) ? { kind: 'dialplan', ...target, via: 'redirect' } : { kind: 'hungup', reason: 'redirect-target-missing' },
        'HANGUP',
      );
    }
    if (channel.gone) return this.finish({ kind: 'hungup', reason: channel.gone === 'caller' ? 'caller' : 'agi-hangup' }, 'HANGUP');
    const next = { ...channel.location, priority: channel.location.priority + 1 };
    const status: AgiStatus = this.commandFailed ? 'FAILURE' : 'SUCCESS';
    this.finish(
      this.plan.dialplanHas(next)
        ? { kind: 'dialplan', ...next, via: channel.movedByAgi ? 'agi' : 'next-priority' }
        : { kind: 'hungup', reason: 'no-such-extension' },
      status,
    );
  }

  private finish(ended: CallEnding, agiStatus: AgiStatus | undefined): void {
    if (this.finished) return;
    this.finished = true;
    this.running?.cancel();
    this.running = undefined;
    this.timers.clear();
    const { transcript } = this.plan;
    const finalMoveAtMs = transcript.now();
    transcript.note(
      ended.kind === 'dialplan'
        ? `AGISTATUS=${agiStatus}; the channel continues at ${formatLocation(ended)} (${ended.via})`
        : ended.kind === 'hungup'
          ? `AGISTATUS=${agiStatus}; the channel hangs up (${ended.reason})`
          : 'the call was abandoned',
    );
    const outcome: CallOutcome = { agiStatus, ended, finalMoveAtMs };
    if (this.firstCommandAtMs !== undefined) outcome.firstCommandAtMs = this.firstCommandAtMs;
    if (this.redirectAtMs !== undefined) outcome.redirectAtMs = this.redirectAtMs;
    if (this.serverClosedAtMs !== undefined) outcome.serverClosedAtMs = this.serverClosedAtMs;
    this.resolveDone(outcome);
  }

  private scheduleDtmf(): void {
    const dtmf = this.plan.dtmf;
    if (!dtmf || this.dtmfScheduled) return;
    this.dtmfScheduled = true;
    [...dtmf.digits].forEach((digit, i) => this.timers.later((dtmf.afterMs ?? 300) + i * (dtmf.gapMs ?? 150), () => this.pressKey(digit)));
  }

  private pressKey(digit: string): void {
    if (this.finished || this.plan.channel.gone) return;
    const { transcript } = this.plan;
    transcript.note(`the caller presses ${digit}`);
    // res_agi reads and drops frames between commands: a key nobody listens for is lost.
    if (!this.running?.key(digit)) transcript.note(`key ${digit} lost: no command was listening for keys`);
  }

  private write(text: string): void {
    this.plan.transcript.toServer(text);
    const { socket } = this.plan;
    if (socket.writable) socket.write(text);
  }

  private recordArrival(chunk: string): void {
    const lines = (this.arrivingLine + chunk).split('\n');
    this.arrivingLine = lines.pop() ?? '';
    for (const line of lines) this.plan.transcript.fromServer(line);
  }
}
