/**
 * The FastAGI TCP server: accepts Asterisk's connections, keeps a Set of live sessions and hands
 * each call to the call flow. It never leaves a caller hanging: past the concurrency limit, on a
 * bad header and while stopping it still hands the session to a handler that can send the call
 * to its default destination, and it closes every session once its handler is done.
 *
 * Connections that have not sent their header yet cannot crowd out real calls. Asterisk sends its
 * whole header within about a millisecond of connecting (asterisk.md, "How the header arrives"),
 * so such connections have a cap of their own (`maxPendingHeaders`), well below the connection
 * cap, and under pressure (half of it in use) one still silent after `pressureHeaderTimeoutMs` is
 * closed when a new connection needs its place; at the cap, the oldest one goes. A new connection
 * is therefore always let in, and a real call, whose header follows at once, always gets its turn.
 * Connections from outside `allow` are closed before they count for anything.
 */
import { createServer, type AddressInfo, type BlockList, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { HostLogger } from '../host';
import { addressList, listHas, plainAddress } from '../domain/address-list';
import { AgiError } from './agi-error';
import type { AgiParserOptions } from './agi-parser';
import type { AgiRequest } from './agi-request';
import { AgiSession, type AgiSessionOptions } from './agi-session';

export type AgiHandler = (session: AgiSession, request: AgiRequest) => Promise<void> | void;

export interface AgiServerOptions {
  logger: HostLogger;
  /** Runs one call. The session is closed when it settles (if the flow did not close it first). */
  onSession: AgiHandler;
  /** A valid call beyond `maxSessions`: send it to the rule's default destination. Default: close at once. */
  onOverflow?: AgiHandler;
  /**
   * The header was malformed, too large, late or missed a field. When `session.headerComplete`
   * commands still work (set CRM_ROUTING_STATUS); otherwise the session is already closed.
   */
  onBadRequest?: (session: AgiSession, reason: AgiError) => Promise<void> | void;
  /**
   * A connection closed before its header was read: from outside `allow`, past the connection
   * limit (or while stopping), or silent while connections piled up (for /metrics).
   */
  onRefused?: (reason: 'ADDRESS_NOT_ALLOWED' | 'CONNECTION_LIMIT' | 'NO_HEADER') => void;
  /** A call still running when `stop()` ran out of patience: send it to its default destination. */
  onDrain?: (session: AgiSession) => Promise<void> | void;
  /** TCP port; 0 picks a free one. Default 4573. */
  port?: number;
  /** Address to bind. Default 127.0.0.1. */
  bind?: string;
  /** Addresses or CIDR ranges allowed to connect ("10.0.0.5", "10.1.0.0/16", "::1"); empty allows any. */
  allow?: string[];
  /** Calls run by `onSession` at once; more go to `onOverflow`. Default 100. */
  maxSessions?: number;
  /** Open sockets of any kind (header, overflow, draining); more are closed at once. Default 2 x maxSessions. */
  maxConnections?: number;
  /** Connections still waiting for their header; past it the oldest is closed for the newest. Default maxConnections / 8 (at least 16). */
  maxPendingHeaders?: number;
  /** Time for the header when there is no pressure. Default 5 s. */
  headerTimeoutMs?: number;
  /** Time for the header while half of `maxPendingHeaders` is in use, enforced as new connections arrive. Default 250 ms. */
  pressureHeaderTimeoutMs?: number;
  commandTimeoutMs?: number;
  idleTimeoutMs?: number;
  parser?: AgiParserOptions;
}

export interface AgiStopOptions {
  /** How long running calls may finish by themselves. Default 5 s. */
  timeoutMs?: number;
  /** How long `onDrain` handlers get before every socket is closed. Default 2 s. */
  drainTimeoutMs?: number;
}

export class AgiServer {
  private readonly server: Server;
  private readonly live = new Set<AgiSession>();
  /** Sessions whose `onSession` is running: what `maxSessions` counts and `stop()` drains. */
  private readonly running = new Set<AgiSession>();
  /** `onDrain` handlers still running, so the end of `onSession` does not close under them. */
  private readonly draining = new Map<AgiSession, Promise<void>>();
  /** Sessions still waiting for their header, oldest first, with when they were accepted. */
  private readonly awaitingHeader = new Map<AgiSession, number>();
  private readonly maxSessions: number;
  private readonly maxConnections: number;
  private readonly maxPendingHeaders: number;
  private readonly pressureHeaderTimeoutMs: number;
  /** Connections dropped to make room, logged as one line per second rather than one per drop. */
  private readonly dropped: DropTally;
  /** The same options object for every session (its settings are worked out once). */
  private readonly sessionOptions: AgiSessionOptions;
  private stopping: Promise<void> | undefined;

  static async create(options: AgiServerOptions): Promise<AgiServer> {
    const agi = new AgiServer(options, allowListOf(options.allow ?? []));
    await agi.listen(options.port ?? 4573, options.bind ?? '127.0.0.1');
    return agi;
  }

  constructor(private readonly options: AgiServerOptions, private readonly allow: BlockList | undefined) {
    this.maxSessions = options.maxSessions ?? 100;
    this.maxConnections = options.maxConnections ?? this.maxSessions * 2;
    this.maxPendingHeaders = Math.min(this.maxConnections, options.maxPendingHeaders ?? Math.max(16, Math.floor(this.maxConnections / 8)));
    this.pressureHeaderTimeoutMs = options.pressureHeaderTimeoutMs ?? 250;
    this.dropped = new DropTally(options.logger, () => this.awaitingHeader.size);
    const { logger, headerTimeoutMs, commandTimeoutMs, idleTimeoutMs, parser } = options;
    this.sessionOptions = {
      logger, headerTimeoutMs, commandTimeoutMs, idleTimeoutMs, parser,
      onHeader: (session, outcome) => {
        this.awaitingHeader.delete(session);
        // The handler starts on the next tick, as it did after `await session.ready`: lines that came in the header's chunk are read first.
        process.nextTick(startRun, this, session, outcome);
      },
      onClosed: (session) => {
        this.live.delete(session);
        this.awaitingHeader.delete(session);
      },
    };
    this.server = createServer((socket) => this.accept(socket));
    this.server.on('error', (err) => options.logger.error('AGI server error', { error: err.message }));
  }

  /** Every open session, from the first header byte to the socket's close. */
  get sessions(): ReadonlySet<AgiSession> {
    return this.live;
  }

  /** Connections that have not sent their header yet. */
  get pendingHeaders(): number {
    return this.awaitingHeader.size;
  }

  /** Calls currently run by `onSession`. */
  get activeCalls(): number {
    return this.running.size;
  }

  get listening(): boolean {
    return this.server.listening;
  }

  address(): { address: string; port: number } {
    const info = this.server.address() as AddressInfo | null;
    if (!info) throw new Error('The AGI server is not listening.');
    return { address: info.address, port: info.port };
  }

  /**
   * Stops accepting, lets running calls finish for `timeoutMs`, hands the rest to `onDrain`,
   * waits up to `drainTimeoutMs`, then closes every socket. Safe to call twice.
   */
  stop(options: AgiStopOptions = {}): Promise<void> {
    this.stopping ??= this.drain(options.timeoutMs ?? 5_000, options.drainTimeoutMs ?? 2_000);
    return this.stopping;
  }

  private async drain(timeoutMs: number, drainTimeoutMs: number): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.dropped.flush();
    this.options.logger.info('AGI server stopping', { liveSessions: this.live.size });
    await this.untilNoSessions(timeoutMs);
    const left = [...this.running];
    if (left.length > 0) {
      this.options.logger.warn('AGI server draining calls still running', { calls: left.length });
      for (const session of left) {
        // Once the call is on its way to its default destination, the session ends, even if
        // onSession is still waiting on something: its commands fail and hangupSignal aborts.
        const drained = this.runHandler(session, 'onDrain', () => this.options.onDrain?.(session)).then(() => session.close());
        this.draining.set(session, drained);
      }
      await this.untilNoSessions(drainTimeoutMs);
    }
    await Promise.all([...this.live].map((session) => session.close()));
    await closed;
  }

  private async untilNoSessions(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.live.size > 0 && Date.now() < deadline) {
      const each = [...this.live].map((session) => session.closed);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        void Promise.race(each).then(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  private listen(port: number, bind: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      // The accept queue holds a burst of calls while the event loop is busy: Node's default of 511
      // overflowed under 2,000 calls placed at once, and every dropped handshake cost its caller
      // a 1 s SYN-ACK retransmit (npm run bench:agi). The kernel caps it at net.core.somaxconn.
      this.server.listen({ port, host: bind, backlog: this.maxConnections }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  private accept(socket: Socket): void {
    // The peer's address costs a system call: only the allow-list needs it.
    const remote = this.allow ? plainAddress(socket.remoteAddress ?? '') : '';
    if (this.allow && !listHas(this.allow, remote)) {
      this.options.logger.warn('AGI connection refused: address not allowed', { remote });
      this.options.onRefused?.('ADDRESS_NOT_ALLOWED');
      socket.destroy();
      return;
    }
    const now = performance.now();
    this.makeRoomForHeader(now);
    if (this.live.size >= this.maxConnections) this.dropOldestSilent('the connection limit is reached');
    if (this.stopping || this.live.size >= this.maxConnections) {
      this.options.logger.warn('AGI connection refused: server stopping or full', { remote: socket.remoteAddress, open: this.live.size });
      this.options.onRefused?.('CONNECTION_LIMIT');
      socket.destroy();
      return;
    }
    const session = new AgiSession(socket, this.sessionOptions);
    this.live.add(session);
    this.awaitingHeader.set(session, now);
  }

  /**
   * Under pressure, connections silent for longer than Asterisk ever is are closed (oldest first);
   * at the cap the oldest goes whatever its age, so the connection arriving now has a place.
   */
  private makeRoomForHeader(now: number): void {
    if (this.awaitingHeader.size < this.maxPendingHeaders / 2) return;
    for (const [session, acceptedAt] of this.awaitingHeader) {
      const full = this.awaitingHeader.size >= this.maxPendingHeaders;
      if (!full && now - acceptedAt < this.pressureHeaderTimeoutMs) return;
      this.drop(session, full ? 'the limit of connections without a header is reached' : `no header within ${this.pressureHeaderTimeoutMs} ms while connections pile up`);
    }
  }

  private dropOldestSilent(why: string): void {
    const oldest = this.awaitingHeader.keys().next();
    if (!oldest.done) this.drop(oldest.value, why);
  }

  private drop(session: AgiSession, why: string): void {
    this.awaitingHeader.delete(session);
    this.live.delete(session);
    session.drop();
    this.dropped.count(why);
    this.options.onRefused?.('NO_HEADER');
  }

  /** @internal The session's header was read (or could not be): the call runs from here. */
  async run(session: AgiSession, outcome: AgiRequest | AgiError): Promise<void> {
    if (outcome instanceof AgiError) {
      if (outcome.code === 'SESSION_CLOSED') {
        session.log.debug('AGI connection closed before its header');
      } else {
        await this.runHandler(session, 'onBadRequest', () => this.options.onBadRequest?.(session, outcome));
      }
      session.closeNow();
      return;
    }
    const request = outcome;
    if (this.stopping) {
      await this.runHandler(session, 'onDrain', () => this.options.onDrain?.(session));
    } else if (this.running.size >= this.maxSessions) {
      session.log.warn('AGI calls at their limit; overflow handler takes the call', { maxSessions: this.maxSessions });
      await this.runHandler(session, 'onOverflow', () => this.options.onOverflow?.(session, request));
    } else {
      this.running.add(session);
      try {
        await this.options.onSession(session, request);
      } catch (err) {
        session.log.error('AGI onSession handler failed', { error: (err as Error)?.message ?? String(err) });
      } finally {
        this.running.delete(session);
      }
      const draining = this.draining.get(session);
      if (draining) {
        await draining;
        this.draining.delete(session);
      }
    }
    session.closeNow();
  }

  private async runHandler(session: AgiSession, name: string, handler: () => Promise<void> | void): Promise<void> {
    try {
      await handler();
    } catch (err) {
      session.log.error(`AGI ${name} handler failed`, { error: (err as Error)?.message ?? String(err) });
    }
  }
}

/** Counts connections dropped to make room and says so once a second (with the reasons), not once per drop. */
class DropTally {
  private readonly reasons = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly logger: HostLogger, private readonly pending: () => number) {}

  count(why: string): void {
    this.reasons.set(why, (this.reasons.get(why) ?? 0) + 1);
    if (!this.timer) {
      this.timer = setTimeout(() => this.flush(), 1_000);
      this.timer.unref();
    }
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.reasons.size === 0) return;
    const closed = Object.fromEntries(this.reasons);
    this.reasons.clear();
    this.logger.warn('AGI connections without a header closed to make room', { closed, pendingHeaders: this.pending() });
  }
}

function startRun(server: AgiServer, session: AgiSession, outcome: AgiRequest | AgiError): void {
  void server.run(session, outcome);
}

function allowListOf(entries: string[]): BlockList | undefined {
  if (entries.length === 0) return undefined;
  try {
    return addressList(entries, 'AGI allow-list');
  } catch (err) {
    throw new AgiError('CONFIG', (err as Error).message);
  }
}
