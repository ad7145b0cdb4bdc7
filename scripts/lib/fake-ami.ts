/**
 * A fake Asterisk Manager Interface for tests and for the call simulator: it listens on a TCP
 * port, speaks AMI as a real Asterisk 22 does (scripts/lib/fake-ami-session.ts), records every
 * action it receives, and hands Redirect/Hangup of a channel to the simulated Asterisk that owns
 * the channel (AsteriskSimulator), which then behaves on the FastAGI socket as Asterisk does.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  FakeAmiSession,
  type AmiChannelControl,
  type FakeAmiSessionHost,
  type ReceivedAmiAction,
} from './fake-ami-session';

export { AMI_BANNER, type AmiChannelControl, type AmiRedirectTarget, type ReceivedAmiAction } from './fake-ami-session';

export interface FakeAmiOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Address to bind. Default 127.0.0.1. */
  host?: string;
  /** Default `crm`. */
  username?: string;
  /** Default `crmsecret`. */
  secret?: string;
  /** How long a wrong login waits for its answer; Asterisk takes about 1100 ms (the default). */
  authFailureDelayMs?: number;
  /** A connection that has not logged in by then is closed. Default 30 000 ms (manager.conf). */
  authTimeoutMs?: number;
  /** The simulated Asterisk whose channels Redirect and Hangup act on; none: no channel exists. */
  channels?: AmiChannelControl;
}

interface Waiter {
  matches(action: ReceivedAmiAction | 'login'): boolean;
  resolve(hit: ReceivedAmiAction | 'login' | undefined): void;
}

export class FakeAmiServer {
  /** Every action received, in order, from every connection. */
  readonly actions: ReceivedAmiAction[] = [];
  /** Bytes received from all clients: a test can prove nothing was written. */
  bytesReceived = 0;
  /** While true, actions are received and recorded but never answered. */
  silent = false;
  /** While true, every new connection is closed as soon as it is accepted. */
  refuseNewSessions = false;

  private readonly sessions = new Set<FakeAmiSession>();
  private readonly waiters = new Set<Waiter>();
  private readonly sessionHost: FakeAmiSessionHost;
  private nextSessionId = 1;

  static async create(options: FakeAmiOptions = {}): Promise<FakeAmiServer> {
    const fake = new FakeAmiServer(options);
    await new Promise<void>((resolve, reject) => {
      fake.server.once('error', reject);
      fake.server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        fake.server.off('error', reject);
        resolve();
      });
    });
    return fake;
  }

  private readonly server: Server;

  private constructor(options: FakeAmiOptions) {
    const fake = this;
    this.sessionHost = {
      username: options.username ?? 'crm',
      secret: options.secret ?? 'crmsecret',
      authFailureDelayMs: options.authFailureDelayMs ?? 1100,
      authTimeoutMs: options.authTimeoutMs ?? 30_000,
      channels: options.channels,
      startedAt: performance.now(),
      get silent() {
        return fake.silent;
      },
      record: (action) => this.record(action),
      countBytes: (bytes) => (this.bytesReceived += bytes),
      loggedIn: () => this.notify('login'),
    };
    this.server = createServer((socket) => this.accept(socket));
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The open connections: whether each logged in and whether it still wants events. */
  sessionStates(): Array<{ id: number; authenticated: boolean; events: boolean }> {
    return [...this.sessions].map((s) => ({ id: s.id, authenticated: s.authenticated, events: s.events }));
  }

  /** Actions received with this Action header (any case). */
  actionsNamed(name: string): ReceivedAmiAction[] {
    return this.actions.filter((a) => a.action.toLowerCase() === name.toLowerCase());
  }

  /** Sends an event to every logged-in connection that wants events. */
  emitEvent(headers: ReadonlyArray<readonly [string, string]>): void {
    for (const session of this.sessions) session.sendEvent(headers);
  }

  /** Closes every open connection at once (the server keeps listening). */
  dropConnections(): void {
    for (const session of this.sessions) session.destroy();
    this.sessions.clear();
  }

  /** Resolves true as soon as a client is logged in (at once if one is), false after `timeoutMs`. */
  waitForLogin(timeoutMs: number): Promise<boolean> {
    if ([...this.sessions].some((s) => s.authenticated)) return Promise.resolve(true);
    return this.wait((a) => a === 'login', timeoutMs).then((hit) => hit === 'login');
  }

  /** The next action named `name` (or one already received after `since`), undefined after `timeoutMs`. */
  waitForAction(name: string, timeoutMs: number, since = 0): Promise<ReceivedAmiAction | undefined> {
    const seen = this.actionsNamed(name).find((a) => a.atMs >= since);
    if (seen) return Promise.resolve(seen);
    const matches = (a: ReceivedAmiAction | 'login') => a !== 'login' && a.action.toLowerCase() === name.toLowerCase();
    return this.wait(matches, timeoutMs).then((hit) => (hit === 'login' ? undefined : hit));
  }

  /** Stops listening and closes every connection and timer. */
  async close(): Promise<void> {
    this.dropConnections();
    for (const waiter of this.waiters) waiter.resolve(undefined);
    this.waiters.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    if (this.refuseNewSessions) {
      socket.destroy();
      return;
    }
    const session = new FakeAmiSession(this.nextSessionId++, socket, this.sessionHost);
    this.sessions.add(session);
    socket.on('close', () => this.sessions.delete(session));
  }

  private record(action: ReceivedAmiAction): void {
    this.actions.push(action);
    this.notify(action);
  }

  private notify(what: ReceivedAmiAction | 'login'): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.matches(what)) waiter.resolve(what);
    }
  }

  private wait(matches: Waiter['matches'], timeoutMs: number): Promise<ReceivedAmiAction | 'login' | undefined> {
    return new Promise((resolve) => {
      const waiter: Waiter = {
        matches,
        resolve: (hit) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(hit);
        },
      };
      const timer = setTimeout(() => waiter.resolve(undefined), timeoutMs);
      this.waiters.add(waiter);
    });
  }
}
