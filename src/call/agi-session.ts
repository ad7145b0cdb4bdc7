/**
 * One call on one FastAGI socket: reads and validates the header, then runs the call flow's
 * commands strictly one at a time. Asterisk answers only the first of several pipelined
 * commands, and any write while GET DATA runs cancels it (asterisk.md "One command at a time"),
 * so nothing is written while a command is outstanding; further commands wait in a short queue.
 *
 * The session only reports Asterisk's HANGUP line: it also comes after an AMI redirect and just
 * before Asterisk's FIN, so what it means is the call flow's to decide.
 *
 * Up to maxConcurrentCalls of these are alive at once, so a session holds little: one timer
 * for all its deadlines (header, command, idle, close grace), no closure per socket event, a
 * Stopper instead of an AbortController, and errors (with their stack traces) built only when
 * someone will see them. What it holds is what a young-generation GC copies for every call in
 * flight, and what the process's RSS grows by.
 */
import type { Socket } from 'node:net';
import type { HostLogger } from '../host';
import { AgiError, type AgiErrorCode } from './agi-error';
import { AgiParser, type AgiParserEvent, type AgiParserOptions, type AgiReply } from './agi-parser';
import { parseAgiRequest, type AgiRequest } from './agi-request';
import {
  agiCommandLine, assertSafeAgiCommand, expectResultCode, readGetDataReply, readGetVariableReply, readNumericResult,
  setVariablesLines, verbOf, type GetDataResult,
} from './agi-commands';
import { SessionLog } from './session-log';
import { Stopper } from './stopper';

export interface AgiSessionOptions {
  /** Every line carries the session's fields: `remote`, then `uniqueId`, then what `addLogFields` adds (`ruleId`). */
  logger: HostLogger;
  /** Time for Asterisk to send the whole header after connecting. Default 5 s. */
  headerTimeoutMs?: number;
  /** Default time for one command's reply; a command that passes it closes the session. Default 10 s. */
  commandTimeoutMs?: number;
  /** Time the session may sit with no command outstanding or queued before it is closed. Default 30 s. */
  idleTimeoutMs?: number;
  /** Commands that may wait behind the outstanding one; more are refused with QUEUE_FULL. Default 8. */
  maxQueuedCommands?: number;
  /** After our FIN, how long Asterisk gets to close its side before the socket is destroyed. Default 1 s. */
  closeGraceMs?: number;
  parser?: AgiParserOptions;
  /**
   * Called once when the header was read and validated (with the request) or could not be
   * (with BAD_REQUEST, HEADER_TIMEOUT or SESSION_CLOSED), as `ready` settles. For the server,
   * which has no use for a promise per call.
   */
  onHeader?: (session: AgiSession, outcome: AgiRequest | AgiError) => void;
  /** Called once when the socket has fully closed, as `closed` resolves. */
  onClosed?: (session: AgiSession) => void;
}

export interface AgiCommandOptions {
  /** This command's reply limit, instead of the session's `commandTimeoutMs`. */
  timeoutMs?: number;
}

/** GET DATA's own timeout only starts after the prompt; this allows for the prompt's length. */
export const GET_DATA_PROMPT_ALLOWANCE_MS = 30_000;

/** One error for every connection dropped under pressure (an error per drop costs its stack trace). */
const DROPPED = new AgiError('HEADER_TIMEOUT', 'The connection sent no AGI header in time while others waited; it was closed.');

/**
 * Longest command line (in characters, up to 3 bytes each) that surely fits one TCP segment.
 * Commands go out one at a time, each only after the reply to the one before, which carries
 * Asterisk's ACK: Nagle's algorithm never holds a line that fits one segment, so the socket
 * keeps it (setNoDelay is a system call per call). A longer line may be split, and its tail
 * would wait for a delayed ACK (40 ms and more): such a session turns Nagle off first.
 */
const NAGLE_SAFE_CHARS = 400;

/** Unexpected lines logged per session; the rest are counted and summed up in one line at the close. */
export const LOGGED_IGNORED_LINES = 3;

export type AgiSessionState = 'header' | 'open' | 'closed';

interface Command {
  line: string;
  timeoutMs: number;
  resolve(reply: AgiReply): void;
  reject(err: AgiError): void;
}

interface Settings {
  headerTimeoutMs: number;
  commandTimeoutMs: number;
  idleTimeoutMs: number;
  maxQueuedCommands: number;
  closeGraceMs: number;
}

/** What the session's one timer is waiting for. */
const enum Deadline {
  None,
  Header,
  Command,
  Idle,
  Grace,
}

/** Settings per options object: a server passes the same one for every session. */
const settingsOf = new WeakMap<AgiSessionOptions, Settings>();

function resolveSettings(options: AgiSessionOptions): Settings {
  let settings = settingsOf.get(options);
  if (!settings) {
    settings = {
      headerTimeoutMs: options.headerTimeoutMs ?? 5_000,
      commandTimeoutMs: options.commandTimeoutMs ?? 10_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
      maxQueuedCommands: options.maxQueuedCommands ?? 8,
      closeGraceMs: options.closeGraceMs ?? 1_000,
    };
    settingsOf.set(options, settings);
  }
  return settings;
}

/** The session a socket belongs to, so socket events need no closure per session. */
const SESSION = Symbol('AgiSession');
type SessionSocket = Socket & { [SESSION]?: AgiSession };

function onSocketData(this: SessionSocket, chunk: Buffer): void {
  this[SESSION]?.onData(chunk);
}
function onSocketEnd(this: SessionSocket): void {
  this[SESSION]?.closedByAsterisk();
}
function onSocketClose(this: SessionSocket): void {
  this[SESSION]?.onSocketClosed();
}
function onSocketError(this: SessionSocket, err: Error): void {
  this[SESSION]?.log.debug('AGI socket error', { error: err.message });
}
function onDeadline(session: AgiSession): void {
  session.onDeadline();
}

export class AgiSession {
  /** Logs with this session's fields on every line; the call flow logs through it too. */
  readonly log: HostLogger;
  private remote: string | undefined;
  /** Stops at the first HANGUP line from Asterisk, or when the session closes (the reason is an AgiError). */
  readonly hangup = new Stopper();

  private readonly parser: AgiParser;
  private readonly settings: Settings;
  private readonly logFields: Record<string, unknown>;
  private readonly options: AgiSessionOptions;
  private currentState: AgiSessionState = 'header';
  private headerRead = false;
  /** The header's outcome once known: the request, or why there is none. */
  private headerOutcome: AgiRequest | AgiError | undefined;
  private hangupLines = 0;
  /** Lines from Asterisk that were no reply we were waiting for (garbage, or a reply to nothing). */
  private ignoredLines = 0;
  private current: Command | undefined;
  private queue: Command[] | undefined;
  private socketClosed = false;
  private noDelay = false;
  private deadline = Deadline.None;
  private deadlineAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = 0;
  private readyPromise: Promise<AgiRequest> | undefined;
  private settleReady: { resolve(request: AgiRequest): void; reject(err: AgiError): void } | undefined;
  private closedPromise: Promise<void> | undefined;
  private resolveClosed: (() => void) | undefined;

  constructor(private readonly socket: Socket, options: AgiSessionOptions) {
    this.options = options;
    this.settings = resolveSettings(options);
    // The peer's address costs a system call: asked for only when a line is logged (most silent
    // connections dropped under pressure never are).
    const session = this;
    this.logFields = { get remote() { return session.remoteAddress; } };
    this.log = new SessionLog(options.logger, this.logFields);
    this.parser = new AgiParser(options.parser);
    (socket as SessionSocket)[SESSION] = this;
    socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    socket.on('error', onSocketError);
    socket.once('close', onSocketClose);
    this.arm(Deadline.Header, this.settings.headerTimeoutMs);
  }

  /** `address:port` of Asterisk's side. */
  get remoteAddress(): string {
    this.remote ??= `${this.socket.remoteAddress ?? '?'}:${this.socket.remotePort ?? '?'}`;
    return this.remote;
  }

  /** The validated header; rejects with BAD_REQUEST, HEADER_TIMEOUT or SESSION_CLOSED. */
  get ready(): Promise<AgiRequest> {
    if (!this.readyPromise) {
      const outcome = this.headerOutcome;
      if (outcome instanceof AgiError) this.readyPromise = Promise.reject(outcome);
      else if (outcome) this.readyPromise = Promise.resolve(outcome);
      else this.readyPromise = new Promise<AgiRequest>((resolve, reject) => (this.settleReady = { resolve, reject }));
      this.readyPromise.catch(() => undefined); // whoever awaits it sees the rejection; nobody else must
    }
    return this.readyPromise;
  }

  /** Resolves once the socket is fully closed. */
  get closed(): Promise<void> {
    if (!this.closedPromise) {
      this.closedPromise = this.socketClosed ? Promise.resolve() : new Promise<void>((resolve) => (this.resolveClosed = resolve));
    }
    return this.closedPromise;
  }

  get state(): AgiSessionState {
    return this.currentState;
  }

  /** The validated header. Throws NOT_READY before it arrived, BAD_REQUEST when it was not valid. */
  get request(): AgiRequest {
    const outcome = this.headerOutcome;
    if (outcome && !(outcome instanceof AgiError)) return outcome;
    throw new AgiError(this.currentState === 'header' ? 'NOT_READY' : 'BAD_REQUEST', 'The AGI header has not been read or was not valid.');
  }

  /** True once the header ended, valid or not: commands can then be sent until the session closes. */
  get headerComplete(): boolean {
    return this.headerRead;
  }

  /**
   * Aborted at the first HANGUP line from Asterisk, or when the session closes for any reason
   * (the reason is an AgiError: HANGUP, SESSION_CLOSED, COMMAND_TIMEOUT...). Cancels the call's
   * work. Made on first use; the call path listens to `hangup` instead.
   */
  get hangupSignal(): AbortSignal {
    return this.hangup.signal;
  }

  /** Asterisk wrote at least one HANGUP line. */
  get hangupReceived(): boolean {
    return this.hangupLines > 0;
  }

  get isClosed(): boolean {
    return this.currentState === 'closed';
  }

  /** Adds fields (e.g. `{ ruleId }`) to every later log line of this session. */
  addLogFields(fields: Record<string, unknown>): void {
    Object.assign(this.logFields, fields);
  }

  /**
   * Sends one raw command line and resolves with its reply, whatever its code (510/511/520
   * included). Queued behind an outstanding command, never written alongside it. Rejects with
   * UNSAFE_ARGUMENT (CR/LF/NUL, empty, longer than AGI_MAX_COMMAND_BYTES; nothing written), QUEUE_FULL, NOT_READY, COMMAND_TIMEOUT, SESSION_CLOSED.
   */
  command(line: string, options?: AgiCommandOptions): Promise<AgiReply> {
    try {
      assertSafeAgiCommand(line);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.currentState === 'closed') return Promise.reject(new AgiError('SESSION_CLOSED', 'The AGI session is closed.'));
    if (this.currentState === 'header') return Promise.reject(new AgiError('NOT_READY', 'The AGI header has not been read yet.'));
    const waiting = this.queue?.length ?? 0;
    if (waiting >= this.settings.maxQueuedCommands) {
      return Promise.reject(new AgiError('QUEUE_FULL', `${this.settings.maxQueuedCommands} AGI commands are already waiting.`));
    }
    const timeoutMs = options?.timeoutMs ?? this.settings.commandTimeoutMs;
    return new Promise<AgiReply>((resolve, reject) => {
      const command: Command = { line, timeoutMs, resolve, reject };
      if (this.current) (this.queue ??= []).push(command);
      else this.send(command);
    });
  }

  async setVariable(name: string, value: string): Promise<void> {
    expectResultCode(await this.command(agiCommandLine.setVariable(name, value)), 'SET VARIABLE', ['1']);
  }

  /**
   * Sets several variables in as few round trips as is safe: plain-token pairs in one
   * `EXEC MSet`, any other value in its own SET VARIABLE (setVariablesLines). Every line is
   * built and checked before the first is written.
   */
  async setVariables(variables: Record<string, string>): Promise<void> {
    const lines = setVariablesLines(Object.entries(variables));
    for (const line of lines) assertSafeAgiCommand(line);
    for (const line of lines) {
      const isMSet = line.startsWith('EXEC ');
      expectResultCode(await this.command(line), isMSet ? 'EXEC MSet' : 'SET VARIABLE', [isMSet ? '0' : '1']);
    }
  }

  /** The variable's value, or undefined when it is not set. */
  async getVariable(name: string): Promise<string | undefined> {
    return readGetVariableReply(await this.command(agiCommandLine.getVariable(name)), 'GET VARIABLE');
  }

  async verbose(message: string, level = 1): Promise<void> {
    expectResultCode(await this.command(agiCommandLine.verbose(message, level)), 'VERBOSE', ['1']);
  }

  /**
   * Plays `file` and collects up to `maxDigits` digits, waiting `timeoutMs` after the prompt.
   * The command's own limit defaults to `timeoutMs` plus GET_DATA_PROMPT_ALLOWANCE_MS.
   */
  async getData(file: string, timeoutMs: number, maxDigits: number, options: AgiCommandOptions = {}): Promise<GetDataResult> {
    const line = agiCommandLine.getData(file, timeoutMs, maxDigits);
    const reply = await this.command(line, { timeoutMs: options.timeoutMs ?? timeoutMs + GET_DATA_PROMPT_ALLOWANCE_MS });
    return readGetDataReply(reply, 'GET DATA');
  }

  /**
   * Points the channel at context, extension and priority for when the session ends. All three
   * are sent, one at a time (without SET PRIORITY the channel lands on the old priority plus one).
   */
  async moveTo(context: string, extension: string, priority: number): Promise<void> {
    // Every line is built (and checked) before the first is written.
    const lines = [agiCommandLine.setContext(context), agiCommandLine.setExtension(extension), agiCommandLine.setPriority(priority)];
    for (const line of lines) {
      expectResultCode(await this.command(line), verbOf(line), ['0']);
    }
  }

  /** Runs a dialplan application; resolves with its result (0 ran, -2 no such application). */
  async exec(application: string, args?: string): Promise<number> {
    return readNumericResult(await this.command(agiCommandLine.exec(application, args)), `EXEC ${application}`);
  }

  /**
   * Closes our side at once (FIN). Asterisk holds a redirected caller until we do, then closes
   * its side; if it does not within `closeGraceMs` the socket is destroyed. Resolves when closed.
   */
  close(): Promise<void> {
    this.closeNow();
    return this.closed;
  }

  /** close() for whoever does not wait for the socket to be gone: our FIN goes out at once, and no promise is made. */
  closeNow(): void {
    if (this.currentState !== 'closed') this.shutDown('SESSION_CLOSED', 'The AGI session was closed by the call flow.');
  }

  /**
   * Drops a connection that has not sent its header because the server needs its place: the
   * socket is destroyed at once (no FIN and grace period for a peer that said nothing).
   */
  drop(): void {
    if (this.currentState !== 'header') return;
    // Thousands of these may come in a burst: no FIN and grace timer, no error built per drop.
    this.currentState = 'closed';
    this.socket.destroy();
    this.disarm();
    this.hangup.stop(DROPPED, false);
    this.settleHeader(DROPPED);
  }

  /** Asterisk's FIN, then the socket's close: usually after our own close, when there is nothing left to do. */
  closedByAsterisk(): void {
    if (this.currentState !== 'closed') this.shutDown('SESSION_CLOSED', 'Asterisk closed the AGI session.');
  }

  /** @internal The socket's 'close'. */
  onSocketClosed(): void {
    this.socketClosed = true;
    this.closedByAsterisk();
    this.disarm();
    (this.socket as SessionSocket)[SESSION] = undefined;
    this.resolveClosed?.();
    this.resolveClosed = undefined;
    this.options.onClosed?.(this);
  }

  /** @internal */
  onData(chunk: Buffer): void {
    const events = this.parser.push(chunk);
    for (let i = 0; i < events.length; i += 1) {
      // After our close only HANGUP and FIN are expected; nothing more is acted on.
      if (this.currentState === 'closed') return;
      this.handle(events[i]!);
    }
  }

  /** @internal The one timer fired: act on the deadline it was for, if it has passed. */
  onDeadline(): void {
    this.timer = undefined;
    const left = this.deadlineAt - performance.now();
    if (this.deadline === Deadline.None) return;
    if (left > 0.5) {
      this.startTimer(left);
      return;
    }
    switch (this.deadline) {
      case Deadline.Header:
        this.log.warn('AGI header timed out', { timeoutMs: this.settings.headerTimeoutMs });
        this.shutDown('HEADER_TIMEOUT', `Asterisk did not send the AGI header within ${this.settings.headerTimeoutMs} ms.`);
        return;
      case Deadline.Command: {
        const command = this.current!;
        this.log.warn('AGI command timed out; closing the session', { command: verbOf(command.line), timeoutMs: command.timeoutMs });
        this.shutDown('COMMAND_TIMEOUT', `Asterisk did not answer ${verbOf(command.line)} within ${command.timeoutMs} ms; the session was closed.`);
        return;
      }
      case Deadline.Idle:
        this.log.warn('AGI session idle; closing it', { idleTimeoutMs: this.settings.idleTimeoutMs });
        this.shutDown('IDLE_TIMEOUT', `No AGI command for ${this.settings.idleTimeoutMs} ms; the session was closed.`);
        return;
      case Deadline.Grace:
        this.deadline = Deadline.None;
        this.socket.destroy();
        return;
    }
  }

  /**
   * The session's next deadline. One timer serves them all: it is only replaced when the new
   * deadline comes before the one it is set for; when it fires early it is set again for the
   * rest. A call usually starts one timer (the header's) and one more on close (the grace).
   */
  private arm(deadline: Deadline, ms: number): void {
    const at = performance.now() + ms;
    this.deadline = deadline;
    this.deadlineAt = at;
    if (this.timer === undefined || this.timerAt > at) {
      clearTimeout(this.timer);
      this.startTimer(ms);
    }
  }

  private startTimer(ms: number): void {
    this.timerAt = performance.now() + ms;
    this.timer = setTimeout(onDeadline, Math.ceil(ms), this);
  }

  private disarm(): void {
    this.deadline = Deadline.None;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private handle(event: AgiParserEvent): void {
    switch (event.type) {
      case 'header':
        this.onHeader(event.fields);
        return;
      case 'reply':
        this.onReply(event.reply);
        return;
      case 'hangup':
        this.hangupLines += 1;
        if (this.hangupLines === 1) {
          this.log.info('Asterisk signalled HANGUP', { commandOutstanding: this.current !== undefined });
          this.hangup.stop(new AgiError('HANGUP', 'Asterisk signalled HANGUP: the caller left or the channel is being redirected.'));
        }
        return;
      case 'garbage':
        this.ignored('Unexpected line from Asterisk ignored', { line: event.line.slice(0, 120) });
        return;
      case 'error': {
        this.log.warn('Unreadable data from Asterisk; closing the AGI session', { code: event.code, reason: event.message });
        this.shutDown(this.currentState === 'header' ? 'BAD_REQUEST' : 'PROTOCOL', event.message);
        return;
      }
    }
  }

  private onHeader(fields: Map<string, string>): void {
    this.currentState = 'open';
    this.headerRead = true;
    // The peer's address is read now, while the socket is surely open, for the call's log lines.
    void this.remoteAddress;
    let outcome: AgiRequest | AgiError;
    try {
      outcome = parseAgiRequest(fields);
      this.logFields.uniqueId = outcome.uniqueId;
    } catch (err) {
      const uniqueId = fields.get('agi_uniqueid');
      if (uniqueId !== undefined) this.logFields.uniqueId = uniqueId.slice(0, 64);
      this.log.warn('AGI header not valid', { reason: (err as Error).message });
      outcome = err as AgiError;
    }
    this.arm(Deadline.Idle, this.settings.idleTimeoutMs);
    this.settleHeader(outcome);
  }

  private settleHeader(outcome: AgiRequest | AgiError): void {
    if (this.headerOutcome) return;
    this.headerOutcome = outcome;
    const settle = this.settleReady;
    this.settleReady = undefined;
    if (settle) {
      if (outcome instanceof AgiError) settle.reject(outcome);
      else settle.resolve(outcome);
    }
    this.options.onHeader?.(this, outcome);
  }

  private onReply(reply: AgiReply): void {
    const command = this.current;
    if (!command) {
      this.ignored('AGI reply with no command outstanding ignored', { reply: reply.raw.slice(0, 120) });
      return;
    }
    this.current = undefined;
    command.resolve(reply);
    const next = this.queue?.shift();
    if (next) this.send(next);
    else if (this.currentState === 'open') this.arm(Deadline.Idle, this.settings.idleTimeoutMs);
  }

  /** The first few unexpected lines are logged; the close says how many there were in all. */
  private ignored(message: string, fields: Record<string, unknown>): void {
    this.ignoredLines += 1;
    if (this.ignoredLines <= LOGGED_IGNORED_LINES) this.log.warn(message, fields);
  }

  private send(command: Command): void {
    this.current = command;
    this.arm(Deadline.Command, command.timeoutMs);
    if (this.log.isDebugEnabled?.() !== false) this.log.debug('AGI command', { command: verbOf(command.line) });
    if (!this.noDelay && command.line.length > NAGLE_SAFE_CHARS) {
      this.noDelay = true;
      this.socket.setNoDelay(true);
    }
    this.socket.write(`${command.line}\n`);
  }

  /**
   * Closes for `code`. The AgiError is made only for whoever will see it: an outstanding or
   * queued command, a header still awaited, or a hang-up listener or signal; a call that simply
   * ends (the flow's close, then Asterisk's FIN) builds none.
   */
  private shutDown(code: AgiErrorCode, message: string): void {
    if (this.currentState === 'closed') return;
    const headerWasPending = this.currentState === 'header';
    this.currentState = 'closed';
    let cause: AgiError | undefined;
    const error = () => (cause ??= new AgiError(code, message));
    const current = this.current;
    this.current = undefined;
    current?.reject(error());
    const queue = this.queue;
    this.queue = undefined;
    if (queue) {
      for (const waiting of queue) {
        waiting.reject(new AgiError('SESSION_CLOSED', `The AGI session closed before the command was sent: ${message}`, { cause: error() }));
      }
    }
    if (headerWasPending) this.settleHeader(error());
    this.hangup.stop(error, true);
    if (this.ignoredLines > LOGGED_IGNORED_LINES) {
      this.log.warn('AGI session ignored unexpected lines from Asterisk', { lines: this.ignoredLines, logged: LOGGED_IGNORED_LINES });
    }
    this.log.debug('AGI session closing', { reason: code });
    if (this.socketClosed) {
      this.disarm();
    } else {
      this.socket.end();
      this.arm(Deadline.Grace, this.settings.closeGraceMs);
    }
  }
}
