/**
 * One call on one FastAGI socket: reads and validates the header, then runs the call flow's
 * commands strictly one at a time. Asterisk answers only the first of several pipelined
 * commands, and any write while GET DATA runs cancels it (asterisk.md "One command at a time"),
 * so nothing is written while a command is outstanding; further commands wait in a short queue.
 *
 * The session only reports Asterisk's HANGUP line: it also comes after an AMI redirect and just
 * before Asterisk's FIN, so what it means is the call flow's to decide.
 */
import type { Socket } from 'node:net';
import type { HostLogger } from '../host';
import { AgiError } from './agi-error';
import { AgiParser, type AgiParserEvent, type AgiParserOptions, type AgiReply } from './agi-parser';
import { parseAgiRequest, type AgiRequest } from './agi-request';
import {
  agiCommandLine, assertSafeAgiCommand, expectResultCode, readGetDataReply, readGetVariableReply, readNumericResult,
  setVariablesLines, type GetDataResult,
} from './agi-commands';

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
}

export interface AgiCommandOptions {
  /** This command's reply limit, instead of the session's `commandTimeoutMs`. */
  timeoutMs?: number;
}

/** GET DATA's own timeout only starts after the prompt; this allows for the prompt's length. */
export const GET_DATA_PROMPT_ALLOWANCE_MS = 30_000;

export type AgiSessionState = 'header' | 'open' | 'closed';

interface Command {
  line: string;
  timeoutMs: number;
  resolve(reply: AgiReply): void;
  reject(err: AgiError): void;
  timer?: NodeJS.Timeout;
}

export class AgiSession {
  /** Logs with this session's fields on every line; the call flow logs through it too. */
  readonly log: HostLogger;
  /** The validated header; rejects with BAD_REQUEST, HEADER_TIMEOUT or SESSION_CLOSED. */
  readonly ready: Promise<AgiRequest>;
  /** Resolves once the socket is fully closed. */
  readonly closed: Promise<void>;
  readonly remoteAddress: string;

  private readonly parser: AgiParser;
  private readonly settings: Required<Omit<AgiSessionOptions, 'logger' | 'parser'>>;
  private readonly logFields: Record<string, unknown>;
  private readonly hangup = new AbortController();
  private currentState: AgiSessionState = 'header';
  private headerRead = false;
  private validRequest: AgiRequest | undefined;
  private hangupLines = 0;
  private current: Command | undefined;
  private queue: Command[] = [];
  private headerTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private socketClosed = false;
  private settleReady!: { resolve(request: AgiRequest): void; reject(err: AgiError): void };

  constructor(private readonly socket: Socket, options: AgiSessionOptions) {
    this.settings = {
      headerTimeoutMs: options.headerTimeoutMs ?? 5_000,
      commandTimeoutMs: options.commandTimeoutMs ?? 10_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 30_000,
      maxQueuedCommands: options.maxQueuedCommands ?? 8,
      closeGraceMs: options.closeGraceMs ?? 1_000,
    };
    this.remoteAddress = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.logFields = { remote: this.remoteAddress };
    this.log = loggerWithFields(options.logger, this.logFields);
    this.parser = new AgiParser(options.parser);
    this.ready = new Promise<AgiRequest>((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    this.ready.catch(() => undefined); // whoever awaits it sees the rejection; nobody else must
    this.closed = new Promise<void>((resolve) => {
      socket.once('close', () => {
        this.socketClosed = true;
        clearTimeout(this.graceTimer);
        this.closedByAsterisk();
        resolve();
      });
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.closedByAsterisk());
    socket.on('error', (err) => this.log.debug('AGI socket error', { error: err.message }));
    this.headerTimer = setTimeout(() => {
      this.log.warn('AGI header timed out', { timeoutMs: this.settings.headerTimeoutMs });
      this.shutDown(new AgiError('HEADER_TIMEOUT', `Asterisk did not send the AGI header within ${this.settings.headerTimeoutMs} ms.`));
    }, this.settings.headerTimeoutMs);
  }

  get state(): AgiSessionState {
    return this.currentState;
  }

  /** The validated header. Throws NOT_READY before it arrived, BAD_REQUEST when it was not valid. */
  get request(): AgiRequest {
    if (this.validRequest) return this.validRequest;
    throw new AgiError(this.currentState === 'header' ? 'NOT_READY' : 'BAD_REQUEST', 'The AGI header has not been read or was not valid.');
  }

  /** True once the header ended, valid or not: commands can then be sent until the session closes. */
  get headerComplete(): boolean {
    return this.headerRead;
  }

  /**
   * Aborted at the first HANGUP line from Asterisk, or when the session closes for any reason
   * (the reason is an AgiError: HANGUP, SESSION_CLOSED, COMMAND_TIMEOUT...). Cancels the call's work.
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
  async command(line: string, options: AgiCommandOptions = {}): Promise<AgiReply> {
    assertSafeAgiCommand(line);
    if (this.currentState === 'closed') throw new AgiError('SESSION_CLOSED', 'The AGI session is closed.');
    if (this.currentState === 'header') throw new AgiError('NOT_READY', 'The AGI header has not been read yet.');
    if (this.queue.length >= this.settings.maxQueuedCommands) {
      throw new AgiError('QUEUE_FULL', `${this.settings.maxQueuedCommands} AGI commands are already waiting.`);
    }
    const timeoutMs = options.timeoutMs ?? this.settings.commandTimeoutMs;
    return new Promise<AgiReply>((resolve, reject) => {
      this.queue.push({ line, timeoutMs, resolve, reject });
      this.sendNext();
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
    if (this.currentState !== 'closed') this.shutDown(new AgiError('SESSION_CLOSED', 'The AGI session was closed by the call flow.'));
    return this.closed;
  }

  /** Asterisk's FIN, then the socket's close: usually after our own close, so the error (and its stack) is made only when needed. */
  private closedByAsterisk(): void {
    if (this.currentState !== 'closed') this.shutDown(new AgiError('SESSION_CLOSED', 'Asterisk closed the AGI session.'));
  }

  private onData(chunk: Buffer): void {
    for (const event of this.parser.push(chunk)) {
      // After our close only HANGUP and FIN are expected; nothing more is acted on.
      if (this.currentState === 'closed') return;
      this.handle(event);
    }
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
          this.hangup.abort(new AgiError('HANGUP', 'Asterisk signalled HANGUP: the caller left or the channel is being redirected.'));
        }
        return;
      case 'garbage':
        this.log.warn('Unexpected line from Asterisk ignored', { line: event.line.slice(0, 120) });
        return;
      case 'error': {
        this.log.warn('Unreadable data from Asterisk; closing the AGI session', { code: event.code, reason: event.message });
        const code = this.currentState === 'header' ? 'BAD_REQUEST' : 'PROTOCOL';
        this.shutDown(new AgiError(code, event.message));
        return;
      }
    }
  }

  private onHeader(fields: Map<string, string>): void {
    clearTimeout(this.headerTimer);
    this.currentState = 'open';
    this.headerRead = true;
    try {
      const request = parseAgiRequest(fields);
      this.validRequest = request;
      this.logFields.uniqueId = request.uniqueId;
      this.settleReady.resolve(request);
    } catch (err) {
      const uniqueId = fields.get('agi_uniqueid');
      if (uniqueId !== undefined) this.logFields.uniqueId = uniqueId.slice(0, 64);
      this.log.warn('AGI header not valid', { reason: (err as Error).message });
      this.settleReady.reject(err as AgiError);
    }
    this.armIdle();
  }

  private onReply(reply: AgiReply): void {
    const command = this.current;
    if (!command) {
      this.log.warn('AGI reply with no command outstanding ignored', { reply: reply.raw.slice(0, 120) });
      return;
    }
    clearTimeout(command.timer);
    this.current = undefined;
    command.resolve(reply);
    this.sendNext();
  }

  private sendNext(): void {
    if (this.currentState !== 'open' || this.current) return;
    const next = this.queue.shift();
    if (!next) {
      this.armIdle();
      return;
    }
    clearTimeout(this.idleTimer);
    this.current = next;
    next.timer = setTimeout(() => {
      this.log.warn('AGI command timed out; closing the session', { command: verbOf(next.line), timeoutMs: next.timeoutMs });
      this.shutDown(new AgiError('COMMAND_TIMEOUT', `Asterisk did not answer ${verbOf(next.line)} within ${next.timeoutMs} ms; the session was closed.`));
    }, next.timeoutMs);
    this.log.debug('AGI command', { command: verbOf(next.line) });
    this.socket.write(`${next.line}\n`);
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => {
      this.log.warn('AGI session idle; closing it', { idleTimeoutMs: this.settings.idleTimeoutMs });
      this.shutDown(new AgiError('IDLE_TIMEOUT', `No AGI command for ${this.settings.idleTimeoutMs} ms; the session was closed.`));
    }, this.settings.idleTimeoutMs);
  }

  private shutDown(cause: AgiError): void {
    if (this.currentState === 'closed') return;
    const headerWasPending = this.currentState === 'header';
    this.currentState = 'closed';
    clearTimeout(this.headerTimer);
    clearTimeout(this.idleTimer);
    if (this.current) {
      clearTimeout(this.current.timer);
      this.current.reject(cause);
      this.current = undefined;
    }
    for (const waiting of this.queue.splice(0)) {
      waiting.reject(new AgiError('SESSION_CLOSED', `The AGI session closed before the command was sent: ${cause.message}`, { cause }));
    }
    if (headerWasPending) this.settleReady.reject(cause);
    if (!this.hangup.signal.aborted) this.hangup.abort(cause);
    this.log.debug('AGI session closing', { reason: cause.code });
    if (!this.socketClosed) {
      this.socket.end();
      this.graceTimer = setTimeout(() => this.socket.destroy(), this.settings.closeGraceMs);
    }
  }
}

/** The command's verb for logs, without its arguments (they may hold a caller's data). */
function verbOf(line: string): string {
  return line.split(' ', 2).join(' ');
}

function loggerWithFields(base: HostLogger, fields: Record<string, unknown>): HostLogger {
  return {
    debug: (message, extra) => base.debug(message, { ...fields, ...extra }),
    info: (message, extra) => base.info(message, { ...fields, ...extra }),
    warn: (message, extra) => base.warn(message, { ...fields, ...extra }),
    error: (message, extra) => base.error(message, { ...fields, ...extra }),
  };
}
