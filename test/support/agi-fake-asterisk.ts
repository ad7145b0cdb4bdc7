/**
 * A raw-socket "Asterisk" for FastAGI tests: connects, sends the measured header byte for byte,
 * records every line the server writes (and every line it answers) in one ordered transcript,
 * and notes when the server's FIN arrives.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { HostLogger } from '../../src/host';
import { AgiSession, type AgiSessionOptions } from '../../src/call/agi-session';
import { FULL_HEADER } from './agi-transcripts';

export class FakeAsterisk {
  /** `-> line` for what the server wrote, `<- text` for what we sent, in order. */
  readonly transcript: string[] = [];
  /** performance.now() when the server's FIN arrived. */
  readonly serverEnded: Promise<number>;
  readonly closed: Promise<void>;
  private received = '';
  private pendingLine = '';
  private unread: string[] = [];
  private waiters: Array<(line: string) => void> = [];
  private endedFlag = false;

  private constructor(readonly socket: Socket, answerFin: boolean) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk.toString('utf8')));
    socket.on('error', () => undefined);
    this.serverEnded = new Promise((resolve) => socket.once('end', () => {
      this.endedFlag = true;
      resolve(performance.now());
      // What Asterisk does when the server closes: a last HANGUP, then its own FIN.
      if (answerFin) this.socket.end('HANGUP\n');
    }));
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  /** `answerFin: false` keeps our side open after the server's FIN, unlike Asterisk. */
  static connect(port: number, { host = '127.0.0.1', answerFin = true } = {}): Promise<FakeAsterisk> {
    return new Promise((resolve, reject) => {
      // allowHalfOpen: like Asterisk, we decide when to close after the server's FIN.
      const socket = connect({ port, host, allowHalfOpen: true });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new FakeAsterisk(socket, answerFin));
      });
    });
  }

  /** Everything the server wrote so far. */
  get written(): string {
    return this.received;
  }

  get serverHasEnded(): boolean {
    return this.endedFlag;
  }

  send(text: string): void {
    this.transcript.push(`<- ${text}`);
    this.socket.write(text);
  }

  sendHeader(header = FULL_HEADER): void {
    this.send(header);
  }

  /** The next line the server writes (without its LF). */
  nextLine(timeoutMs = 2_000): Promise<string> {
    const line = this.unread.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line from the server within ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push((next) => {
        clearTimeout(timer);
        resolve(next);
      });
    });
  }

  /** Reads the next command and answers it with `reply` (which must end in LF). */
  async answer(reply: string): Promise<string> {
    const line = await this.nextLine();
    this.send(reply);
    return line;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onData(text: string): void {
    this.received += text;
    const parts = (this.pendingLine + text).split('\n');
    this.pendingLine = parts.pop() ?? '';
    for (const line of parts) {
      this.transcript.push(`-> ${line}`);
      const waiter = this.waiters.shift();
      if (waiter) waiter(line);
      else this.unread.push(line);
    }
  }
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

export function recordingLogger(): { logger: HostLogger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (message: string, fields: Record<string, unknown> = {}) => {
    lines.push({ level, message, fields });
  };
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

export interface SessionPair {
  session: AgiSession;
  asterisk: FakeAsterisk;
  logs: LogLine[];
  dispose(): Promise<void>;
}

/**
 * An AgiSession on the accepting side of a real TCP connection (port 0) and a FakeAsterisk on
 * the other, without the AgiServer around them. The header is sent unless `header` is null.
 */
export async function sessionPair(
  options: Partial<AgiSessionOptions> = {},
  header: string | null = FULL_HEADER,
  fake: { answerFin?: boolean } = {},
): Promise<SessionPair> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const { port } = server.address() as { port: number };
  const asterisk = await FakeAsterisk.connect(port, fake);
  const { logger, lines } = recordingLogger();
  const session = new AgiSession(await accepted, { logger, ...options });
  if (header !== null) asterisk.sendHeader(header);
  return {
    session,
    asterisk,
    logs: lines,
    async dispose() {
      asterisk.destroy();
      await session.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
