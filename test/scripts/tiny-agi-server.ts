/**
 * The smallest FastAGI server a test can script: it accepts one connection at a time and runs
 * the test's script on it with raw reads and writes, so the test sees exactly what the
 * simulated Asterisk wrote and when. A script that throws closes its connection (so the call
 * ends) and the error comes back from `finished()`.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export class AgiConnection {
  received = '';
  /** performance.now() of each chunk, with its text. */
  readonly chunks: Array<{ at: number; text: string }> = [];
  asteriskClosed = false;
  private consumed = 0;
  private readonly listeners = new Set<() => void>();

  constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.received += text;
      this.chunks.push({ at: performance.now(), text });
      this.changed();
    });
    socket.on('end', () => {
      this.asteriskClosed = true;
      this.changed();
    });
    socket.on('error', () => undefined);
  }

  /** The header: everything up to and including the empty line. */
  async header(timeoutMs = 1000): Promise<string> {
    await this.until(() => this.received.includes('\n\n'), timeoutMs, 'the AGI header');
    const end = this.received.indexOf('\n\n') + 2;
    this.consumed = end;
    return this.received.slice(0, end);
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** The next line Asterisk wrote (without LF). */
  async line(timeoutMs = 1000): Promise<string> {
    await this.until(() => this.received.indexOf('\n', this.consumed) !== -1, timeoutMs, 'a line');
    const end = this.received.indexOf('\n', this.consumed);
    const line = this.received.slice(this.consumed, end);
    this.consumed = end + 1;
    return line;
  }

  /** Sends one command and returns the line that answers it. */
  async command(command: string, timeoutMs = 1000): Promise<string> {
    this.send(`${command}\n`);
    return this.line(timeoutMs);
  }

  /** Waits `ms`, then fails if Asterisk wrote anything not yet read with line() or header(). */
  async silenceFor(ms: number): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (this.rest() !== '') throw new Error(`Expected silence, got ${JSON.stringify(this.rest())}`);
  }

  /** Everything not yet read with line(). */
  rest(): string {
    return this.received.slice(this.consumed);
  }

  async closedByAsterisk(timeoutMs = 1000): Promise<void> {
    await this.until(() => this.asteriskClosed, timeoutMs, "Asterisk's FIN");
  }

  end(): void {
    this.socket.end();
  }

  private until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (done()) return resolve();
      const listener = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; unread: ${JSON.stringify(this.rest())}`));
      }, timeoutMs);
      this.listeners.add(listener);
    });
  }

  private changed(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

export class TinyAgiServer {
  private script: ((agi: AgiConnection) => Promise<void>) | undefined;
  private running: Promise<void> = Promise.resolve();
  private failure: unknown;
  private readonly sockets = new Set<Socket>();
  private readonly server: Server;

  static async start(): Promise<TinyAgiServer> {
    const tiny = new TinyAgiServer();
    await new Promise<void>((resolve) => tiny.server.listen(0, '127.0.0.1', resolve));
    return tiny;
  }

  private constructor() {
    // allowHalfOpen: after our FIN we still read Asterisk's last HANGUP.
    this.server = createServer({ allowHalfOpen: true }, (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      const agi = new AgiConnection(socket);
      const script = this.script ?? (async (a: AgiConnection) => a.end());
      this.failure = undefined;
      this.running = script(agi).then(
        () => undefined,
        (err: unknown) => {
          this.failure = err;
          socket.destroy();
        },
      );
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** The script the next connection runs. */
  onCall(script: (agi: AgiConnection) => Promise<void>): void {
    this.script = script;
  }

  /** The last script's end; rethrows its failure. */
  async finished(): Promise<void> {
    await this.running;
    if (this.failure !== undefined) throw this.failure;
  }

  /** Stops listening and drops any connection a script left open. */
  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
