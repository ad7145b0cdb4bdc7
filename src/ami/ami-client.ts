/**
 * The plugin's AMI client: keeps one logged-in session to Asterisk (reconnecting with its own
 * backoff) and offers the one action the call path needs, Redirect. On the call path it never
 * throws and never waits for a connection: while AMI is down a redirect answers NOT_CONNECTED
 * at once and the call flow moves the call with AGI instead. Nothing is queued for later: a
 * redirect sent after the caller's moment has passed would move someone else's call.
 */
import type { AmiSettings, HostLogger } from '../host';
import { amiHeaderValueProblem } from './ami-header-value';
import { AmiSession, type AmiMessage } from './ami-session';
import { validateAmiSettings } from './ami-url';

export type AmiFailureCode = 'NOT_CONFIGURED' | 'NOT_CONNECTED' | 'TIMEOUT' | 'REJECTED' | 'INVALID';

/** REJECTED carries Asterisk's own Message, e.g. "Channel does not exist: Local/...;2". */
export type AmiResult = { ok: true } | { ok: false; code: AmiFailureCode; message: string };

export interface RedirectRequest {
  /** The channel as Asterisk named it in `agi_channel`. */
  channel: string;
  context: string;
  exten: string;
  priority: number;
}

export interface AmiHealth {
  configured: boolean;
  connected: boolean;
  /** Why the last connection attempt failed or the connection ended; cleared on login. */
  lastError?: string;
}

export interface AmiClientOptions {
  logger: HostLogger;
  /** TCP connect limit. Default 2000 ms. */
  connectTimeoutMs?: number;
  /** Login answer limit; Asterisk takes about 1.1 s to refuse a wrong secret. Default 3000 ms. */
  loginTimeoutMs?: number;
  /** How long an action waits for its answer. Default 1000 ms. */
  actionTimeoutMs?: number;
  /** First reconnect delay, doubled after each failure. Default 250 ms. */
  reconnectInitialMs?: number;
  /** Largest reconnect delay before jitter. Default 10 000 ms. */
  reconnectMaxMs?: number;
  /** Idle check with Ping, so a silently dead connection is noticed. Default 15 000 ms; 0 never. */
  pingIntervalMs?: number;
  /** Random numbers in [0, 1) for the jitter; tests pass a fixed one. Default Math.random. */
  random?: () => number;
  /** Receive AMI events (the call log); without it the client switches events off. */
  events?: AmiEventOptions;
}

export interface AmiEventOptions {
  /** Event classes asked for with the Events action, e.g. `call,cdr,agent`. */
  mask: string;
  /** Each event, header names lower-cased. Must not throw. */
  onEvent(event: AmiMessage): void;
  /** A session logged in (the first one, or after a reconnect). */
  onConnected?(): void;
  /** The session was lost: events of calls under way may be missing until the next onConnected. */
  onDisconnected?(): void;
}

/** Up to this share of the delay is added at random, so many plugins do not reconnect in step. */
const JITTER_SHARE = 0.1;

export class AmiClient {
  private session: AmiSession | undefined;
  private lastError: string | undefined;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private attempt: Promise<void> | undefined;
  private closed = false;
  private readonly actionTimeoutMs: number;

  /**
   * Validates the settings (throws AmiSettingsError when they are wrong) and makes the first
   * connection attempt. Resolves once that attempt has succeeded or failed, never rejecting for
   * an unreachable Asterisk: later attempts run in the background.
   */
  static async create(settings: AmiSettings | undefined, options: AmiClientOptions): Promise<AmiClient> {
    const client = new AmiClient(settings === undefined ? undefined : validateAmiSettings(settings), options);
    if (client.settings) await client.connect();
    return client;
  }

  private constructor(
    private readonly settings: AmiSettings | undefined,
    private readonly options: AmiClientOptions,
  ) {
    this.actionTimeoutMs = options.actionTimeoutMs ?? 1000;
  }

  /** Moves a channel with AMI Redirect; resolves (never rejects) with what happened. */
  async redirect(request: RedirectRequest): Promise<AmiResult> {
    try {
      const fields = {
        Channel: request.channel,
        Context: request.context,
        Exten: request.exten,
        Priority: String(request.priority),
      };
      for (const [name, value] of Object.entries(fields)) {
        const problem = amiHeaderValueProblem(name, value);
        if (problem) return failure('INVALID', problem);
      }
      if (!Number.isSafeInteger(request.priority) || request.priority < 1) {
        return failure('INVALID', `Priority must be a whole number of at least 1 (got ${String(request.priority)}).`);
      }
      if (!this.settings) return failure('NOT_CONFIGURED', 'AMI is not configured, so calls are moved with AGI only.');
      const session = this.session;
      if (!session?.isOpen) {
        return failure('NOT_CONNECTED', `AMI is not connected${this.lastError ? `: ${this.lastError}` : ''}.`);
      }
      const answer = await session.send(
        { action: 'Redirect', channel: fields.Channel, context: fields.Context, exten: fields.Exten, priority: fields.Priority },
        this.actionTimeoutMs,
      );
      switch (answer.kind) {
        case 'success':
          return { ok: true };
        case 'error':
          return failure('REJECTED', String(answer.message.message ?? 'Asterisk answered Error without a message'));
        case 'timeout':
          return failure('TIMEOUT', `Asterisk did not answer the Redirect within ${this.actionTimeoutMs} ms.`);
        case 'closed':
          return failure('NOT_CONNECTED', 'The AMI connection closed before Asterisk answered the Redirect; it may or may not have happened.');
      }
    } catch (err) {
      // Not expected; the call path still gets an answer it can act on.
      this.options.logger.error('AMI redirect failed unexpectedly', { error: String(err) });
      return failure('NOT_CONNECTED', `AMI redirect failed unexpectedly: ${String(err)}`);
    }
  }

  health(): AmiHealth {
    const health: AmiHealth = { configured: this.settings !== undefined, connected: this.session?.isOpen ?? false };
    if (this.lastError !== undefined) health.lastError = this.lastError;
    return health;
  }

  /** Ends the connection, any attempt under way and every timer. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.session?.close();
    this.session = undefined;
    // An attempt under way sees `closed` when it settles and closes its own session.
    await this.attempt;
  }

  private connect(): Promise<void> {
    this.attempt ??= this.tryOnce().finally(() => (this.attempt = undefined));
    return this.attempt;
  }

  private async tryOnce(): Promise<void> {
    const settings = this.settings;
    if (!settings || this.closed) return;
    const { logger } = this.options;
    try {
      const session = await AmiSession.open(settings, {
        connectTimeoutMs: this.options.connectTimeoutMs ?? 2000,
        loginTimeoutMs: this.options.loginTimeoutMs ?? 3000,
        actionTimeoutMs: this.actionTimeoutMs,
        pingIntervalMs: this.options.pingIntervalMs ?? 15_000,
        onClosed: (reason) => this.onSessionClosed(session, reason),
        onWarning: (message) => logger.warn(message),
        ...(this.options.events ? { eventMask: this.options.events.mask, onEvent: this.options.events.onEvent } : {}),
      });
      if (this.closed) {
        session.close();
        return;
      }
      this.session = session;
      this.failures = 0;
      this.lastError = undefined;
      logger.info('AMI connected', { host: settings.host, port: settings.port, username: settings.username });
      this.options.events?.onConnected?.();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      // The first failure and every change of reason are worth a warning; repeats are not.
      const level = reason === this.lastError ? 'debug' : 'warn';
      this.lastError = reason;
      this.scheduleReconnect(level, reason);
    }
  }

  private onSessionClosed(session: AmiSession, reason: string): void {
    if (this.session !== session || this.closed) return;
    this.session = undefined;
    this.lastError = reason;
    this.failures = 0;
    this.options.events?.onDisconnected?.();
    this.scheduleReconnect('warn', `AMI connection lost: ${reason}`);
  }

  private scheduleReconnect(level: 'warn' | 'debug', reason: string): void {
    if (this.closed) return;
    const initial = this.options.reconnectInitialMs ?? 250;
    const max = this.options.reconnectMaxMs ?? 10_000;
    const base = Math.min(max, initial * 2 ** Math.min(this.failures, 30));
    const delayMs = Math.round(base + base * JITTER_SHARE * (this.options.random ?? Math.random)());
    this.failures += 1;
    this.options.logger[level](`${reason}; reconnecting in ${delayMs} ms`, { delayMs });
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.connect();
    }, delayMs);
    // The AMI client alone must not keep a process alive.
    this.reconnectTimer.unref();
  }
}

function failure(code: AmiFailureCode, message: string): AmiResult {
  return { ok: false, code, message };
}
