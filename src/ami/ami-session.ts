/**
 * One AMI connection, from TCP connect to close, over one asterisk-manager instance. A new
 * session (and a new library instance) is made for every attempt, so nothing the library holds
 * (held actions, listeners, half-open sockets) outlives the connection it belonged to.
 *
 * The library keeps its socket private. We need it to time out a connect, to bound what the
 * library buffers and to close for sure, so we pick it up from node:diagnostics_channel's
 * `net.client.socket`, which Node publishes synchronously inside net.connect().
 */
import { randomBytes } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import AsteriskManager from 'asterisk-manager';
import type { AmiSettings } from '../host';
import { AmiInputGuard } from './ami-input-guard';

export type AmiMessage = AsteriskManager.AmiMessage;

/** How an action ended. Only `success` and `error` mean Asterisk answered. */
export type AmiAnswer =
  | { kind: 'success'; message: AmiMessage }
  | { kind: 'error'; message: AmiMessage }
  | { kind: 'timeout' }
  | { kind: 'closed' };

export interface AmiSessionOptions {
  connectTimeoutMs: number;
  /** Longer than an action's: Asterisk answers a wrong secret only after about 1.1 s. */
  loginTimeoutMs: number;
  /** For the session's own actions (Events, Ping). */
  actionTimeoutMs: number;
  /** How often an idle connection is checked with Ping; 0 never. */
  pingIntervalMs: number;
  /** Called once when a session that had opened loses its connection (not after close()). */
  onClosed(reason: string): void;
  /** Something worth a warning that does not end the session. */
  onWarning(message: string): void;
  /**
   * The event classes to receive (`Events` action's EventMask), e.g. `call,cdr,agent`; default
   * `off`. Asterisk still sends only what the user's `read =` in manager.conf allows.
   */
  eventMask?: string;
  /** Every AMI event of the session (header names lower-cased), from login until it closes. */
  onEvent?(event: AmiMessage): void;
}

export class AmiSessionError extends Error {
  override readonly name = 'AmiSessionError';
}

type Settle = (answer: AmiAnswer) => void;

export class AmiSession {
  private readonly manager: AsteriskManager.Manager;
  private readonly where: string;
  private readonly idPrefix = `crm-${randomBytes(4).toString('hex')}`;
  private readonly pending = new Map<string, Settle>();
  private readonly closed: Promise<string>;
  private markClosed!: (reason: string) => void;
  private socket: Socket | undefined;
  private nextActionId = 1;
  private opened = false;
  private quiet = false;
  private closeReason: string | undefined;
  private socketError: string | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private finished = false;

  /** Connects, logs in and sets the event mask (off by default); rejects with AmiSessionError saying why not. */
  static async open(settings: AmiSettings, options: AmiSessionOptions): Promise<AmiSession> {
    const session = new AmiSession(settings, options);
    try {
      await session.establish();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      session.destroy(reason);
      throw err instanceof AmiSessionError ? err : new AmiSessionError(reason);
    }
    return session;
  }

  private constructor(
    private readonly settings: AmiSettings,
    private readonly options: AmiSessionOptions,
  ) {
    // Without a port the library does not connect by itself; establish() does.
    this.manager = AsteriskManager(undefined, settings.host, settings.username, settings.secret, false);
    this.where = `${settings.host}:${settings.port}`;
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    const onEvent = options.onEvent;
    if (onEvent) {
      this.manager.on('managerevent', (event: AmiMessage) => {
        if (!this.finished) onEvent(event);
      });
    }
  }

  get isOpen(): boolean {
    return this.opened && this.closeReason === undefined;
  }

  /** Sends one action and waits at most `timeoutMs` for its answer; never rejects. */
  send(fields: { action: string } & Record<string, string>, timeoutMs: number): Promise<AmiAnswer> {
    if (this.closeReason !== undefined) return Promise.resolve({ kind: 'closed' });
    const id = `${this.idPrefix}-${this.nextActionId++}`;
    return new Promise<AmiAnswer>((resolve) => {
      const settle: Settle = (answer) => {
        if (!this.pending.delete(id)) return;
        clearTimeout(timer);
        this.manager.removeAllListeners(id);
        resolve(answer);
      };
      const timer = setTimeout(() => settle({ kind: 'timeout' }), timeoutMs);
      this.pending.set(id, settle);
      this.manager.action({ ...fields, actionid: id }, (err, response) =>
        settle(err ? { kind: 'error', message: err } : { kind: 'success', message: response }),
      );
    });
  }

  /** Ends the connection now; pending actions end as `closed`; onClosed is not called. */
  close(): void {
    this.quiet = true;
    this.destroy('closed by the plugin');
  }

  private async establish(): Promise<void> {
    const { connectTimeoutMs, loginTimeoutMs, actionTimeoutMs } = this.options;
    const connected = new Promise<void>((resolve) => this.dial(resolve));
    await this.step(connected, connectTimeoutMs, `no connection to AMI at ${this.where} within ${connectTimeoutMs} ms`);

    const loggedIn = new Promise<AmiMessage | undefined>((resolve) => this.manager.login((refusal) => resolve(refusal)));
    const refusal = await this.step(loggedIn, loginTimeoutMs, `AMI at ${this.where} did not answer the login within ${loginTimeoutMs} ms`);
    if (refusal) {
      throw new AmiSessionError(`AMI at ${this.where} refused user "${this.settings.username}": ${String(refusal.message ?? 'no reason given')}`);
    }

    // The library's login says `Event: off`, which Asterisk ignores (it reads `Events`), so the
    // session would get every event its user may read. The Events action does set the mask.
    const eventMask = this.options.eventMask ?? 'off';
    const events = await this.send({ action: 'Events', eventmask: eventMask }, actionTimeoutMs);
    if (events.kind === 'timeout' || events.kind === 'closed') {
      throw new AmiSessionError(`AMI at ${this.where} did not answer the Events action within ${actionTimeoutMs} ms`);
    }
    if (events.kind === 'error') {
      const why = String(events.message.message ?? 'no reason');
      this.options.onWarning(eventMask === 'off'
        ? `AMI refused to switch events off (${why}); events are ignored.`
        : `AMI refused the event mask ${eventMask} (${why}); the call log receives what the user's read= allows.`);
    }
    this.opened = true;
    this.schedulePing();
  }

  /** Starts the library's connect and takes hold of the socket it creates. */
  private dial(onConnect: () => void): void {
    const capture = (message: unknown) => {
      this.socket ??= (message as { socket: Socket }).socket;
    };
    subscribe('net.client.socket', capture);
    try {
      this.manager.connect(this.settings.port, this.settings.host, () => onConnect());
    } finally {
      unsubscribe('net.client.socket', capture);
    }
    const socket = this.socket;
    if (!socket) throw new AmiSessionError('asterisk-manager did not open a socket (node:diagnostics_channel net.client.socket)');
    const guard = new AmiInputGuard();
    // Prepended, so an oversized chunk is refused before the library appends it to its buffer.
    socket.prependListener('data', (chunk: string | Buffer) => {
      const problem = guard.check(String(chunk));
      if (problem) this.destroy(problem);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => (this.socketError ??= describeSocketError(err, this.where)));
    // The socket's own close, not the library's re-emitted one: an AMI event named "Close"
    // is re-emitted under the same name.
    socket.once('close', () => this.finish(this.closeReason ?? this.socketError ?? `AMI at ${this.where} closed the connection`));
  }

  /** Waits for `promise`, at most `ms`, and fails at once if the connection closes meanwhile. */
  private step<T>(promise: Promise<T>, ms: number, timeoutMessage: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new AmiSessionError(timeoutMessage)), ms);
      void this.closed.then((reason) => {
        clearTimeout(timer);
        reject(new AmiSessionError(reason));
      });
      promise.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
    });
  }

  private schedulePing(): void {
    const { pingIntervalMs, actionTimeoutMs } = this.options;
    if (pingIntervalMs <= 0 || !this.isOpen) return;
    this.pingTimer = setTimeout(async () => {
      const answer = await this.send({ action: 'Ping' }, actionTimeoutMs);
      if (answer.kind === 'timeout') this.destroy(`AMI at ${this.where} did not answer Ping within ${actionTimeoutMs} ms`);
      else this.schedulePing();
    }, pingIntervalMs);
    this.pingTimer.unref();
  }

  private destroy(reason: string): void {
    this.closeReason ??= reason;
    this.socket?.destroy();
    this.finish(this.closeReason);
  }

  private finish(reason: string): void {
    if (this.finished) return;
    this.finished = true;
    this.closeReason ??= reason;
    clearTimeout(this.pingTimer);
    for (const settle of [...this.pending.values()]) settle({ kind: 'closed' });
    this.markClosed(this.closeReason);
    if (this.opened && !this.quiet) this.options.onClosed(this.closeReason);
  }
}

function describeSocketError(err: NodeJS.ErrnoException, where: string): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return `AMI at ${where} refused the connection (is Asterisk running, and is the port right?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `the AMI host of ${where} could not be resolved`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `AMI at ${where} is unreachable`;
    case 'ECONNRESET':
      return `AMI at ${where} reset the connection`;
    default:
      return `AMI at ${where}: ${err.message}`;
  }
}
