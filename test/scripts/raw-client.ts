/**
 * A bare TCP client for tests that check bytes: it keeps everything received (and each chunk
 * with its arrival time) and waits, with a limit, for what a test expects.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export class RawClient {
  received = '';
  readonly chunks: Array<{ atMs: number; text: string }> = [];
  /** The peer sent its FIN (or the connection is gone). */
  closed = false;
  private readonly startedAt = performance.now();
  private readonly listeners = new Set<() => void>();

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host, allowHalfOpen: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RawClient(socket));
      });
    });
  }

  constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.received += text;
      this.chunks.push({ atMs: performance.now() - this.startedAt, text });
      this.changed();
    });
    socket.on('error', () => undefined);
    socket.on('end', () => {
      this.closed = true;
      this.changed();
    });
    socket.on('close', () => {
      this.closed = true;
      this.changed();
    });
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /** Resolves with everything received once `done` holds; rejects after `timeoutMs`. */
  waitFor(done: (received: string) => boolean, timeoutMs = 2000, what = 'the expected bytes'): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!done(this.received)) return false;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve(this.received);
        return true;
      };
      const listener = () => void check();
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; received so far: ${JSON.stringify(this.received)}`));
      }, timeoutMs);
      if (!check()) this.listeners.add(listener);
    });
  }

  /** Waits until `text` has been received (counting from `from`). */
  waitForText(text: string, timeoutMs = 2000, from = 0): Promise<string> {
    return this.waitFor((r) => r.indexOf(text, from) !== -1, timeoutMs, JSON.stringify(text));
  }

  waitForClose(timeoutMs = 2000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) return resolve();
      const listener = () => {
        if (!this.closed) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`The connection was still open after ${timeoutMs} ms`));
      }, timeoutMs);
      this.listeners.add(listener);
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
