/**
 * An attacker that keeps `count` connections open to a FastAGI port and never says a word: each
 * connection the server closes is opened again at once, so the pressure lasts as long as it runs.
 * It can speak from another local address (127.0.0.2) to play a host outside AGI_ALLOW.
 * Runs in the bench worker (a process of its own) for `npm run flood:agi`.
 */
import { connect, type Socket } from 'node:net';

export interface SilentOptions {
  port: number;
  host?: string;
  count: number;
  localAddress?: string;
  /** Open again each connection the server closes (default true); false: open `count` once and hold what stays. */
  reopen?: boolean;
}

export interface SilentStats {
  /** Connections open right now (connected, not closed). */
  open: number;
  /** Connections opened in all. */
  opened: number;
  /** Of those, closed by the server. */
  closedByServer: number;
  /** Connect attempts that failed (refused, reset before connecting). */
  failed: number;
}

export class SilentConnections {
  private readonly sockets = new Set<Socket>();
  private stats: SilentStats = { open: 0, opened: 0, closedByServer: 0, failed: 0 };
  private stopped = false;

  constructor(private readonly options: SilentOptions) {}

  /** Opens all `count`, resolving once each has connected (or failed) once. */
  async start(): Promise<SilentStats> {
    // In batches, so the kernel's accept queue is never what refuses them.
    for (let opened = 0; opened < this.options.count; opened += 250) {
      await Promise.all(Array.from({ length: Math.min(250, this.options.count - opened) }, () => this.openOne()));
    }
    return this.snapshot();
  }

  snapshot(): SilentStats {
    return { ...this.stats, open: this.sockets.size };
  }

  stop(): SilentStats {
    this.stopped = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    return this.snapshot();
  }

  private openOne(): Promise<void> {
    return new Promise((resolve) => {
      const socket = connect({ port: this.options.port, host: this.options.host ?? '127.0.0.1', ...(this.options.localAddress ? { localAddress: this.options.localAddress } : {}) });
      let connected = false;
      socket.on('error', () => undefined);
      socket.once('connect', () => {
        connected = true;
        this.stats.opened += 1;
        this.sockets.add(socket);
        resolve();
      });
      socket.once('close', () => {
        const wasOpen = this.sockets.delete(socket);
        if (!connected) {
          this.stats.failed += 1;
          resolve();
        } else if (wasOpen) {
          this.stats.closedByServer += 1;
        }
        // Keep the pressure on: a place the server freed is taken again.
        if (!this.stopped && wasOpen && this.options.reopen !== false) setImmediate(() => void this.openOne());
      });
    });
  }
}
