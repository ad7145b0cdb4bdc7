/**
 * A fake vendor server over HTTPS on port 0. Each test (or each CRM's fake) gives a handler that
 * checks the request exactly as the vendor documents it and answers with the vendor's shapes.
 * Every request is recorded, body included, so tests can assert what was sent.
 */
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { testCa } from './test-ca';

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Which TCP connection carried the request (1, 2, ...): keep-alive reuse and NTLM show in it. */
  connectionId: number;
}

export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  /** An object is sent as JSON (with Content-Type: application/json unless given). */
  body?: unknown;
  /** Wait this long before answering (a slow CRM). */
  delayMs?: number;
  /** Destroy the socket instead of answering. */
  drop?: boolean;
  /** Write these raw bytes to the socket instead of an HTTP answer. */
  raw?: string;
}

export type FakeHandler = (req: RecordedRequest) => FakeReply | Promise<FakeReply>;

export class FakeHttpsServer {
  readonly requests: RecordedRequest[] = [];
  private readonly sockets = new Set<Duplex>();
  private readonly connectionIds = new WeakMap<object, number>();
  private readonly connectionsClosed = new Map<number, Promise<void>>();
  private connections = 0;

  private constructor(private readonly server: https.Server, public handler: FakeHandler) {}

  /** Starts on 127.0.0.1, port 0, with a certificate for localhost and 127.0.0.1 from the test CA. */
  static async start(handler: FakeHandler, cert = testCa().issue(['localhost', '127.0.0.1'])): Promise<FakeHttpsServer> {
    const server = https.createServer({ cert: cert.cert, key: cert.key, keepAlive: true });
    const fake = new FakeHttpsServer(server, handler);
    server.on('connection', (socket) => {
      fake.sockets.add(socket);
      socket.on('close', () => fake.sockets.delete(socket));
    });
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'https://fake');
        let connectionId = fake.connectionIds.get(req.socket);
        if (connectionId === undefined) {
          fake.connectionIds.set(req.socket, (connectionId = fake.connections += 1));
          const socket = req.socket;
          fake.connectionsClosed.set(connectionId, socket.destroyed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve())));
        }
        const recorded: RecordedRequest = { method: req.method ?? '', path: url.pathname, query: url.searchParams, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), connectionId };
        fake.requests.push(recorded);
        Promise.resolve()
          .then(() => fake.handler(recorded))
          .then(async (reply) => {
            if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
            if (reply.drop) return void req.socket.destroy();
            if (reply.raw !== undefined) return void req.socket.end(reply.raw);
            const isJson = reply.body !== undefined && typeof reply.body !== 'string';
            const body = reply.body === undefined ? '' : isJson ? JSON.stringify(reply.body) : (reply.body as string);
            const headers = { ...(isJson ? { 'content-type': 'application/json' } : {}), ...reply.headers };
            if (!res.destroyed) res.writeHead(reply.status ?? 200, headers).end(body);
          })
          .catch((err: unknown) => {
            if (!res.headersSent) res.writeHead(599, { 'content-type': 'text/plain' }).end(`fake server error: ${(err as Error).message}`);
          });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Resolves when the client (or this fake) closes the TCP connection that carried `connectionId`'s requests. */
  connectionClosed(connectionId: number): Promise<void> {
    const closed = this.connectionsClosed.get(connectionId);
    if (!closed) throw new Error(`No connection ${connectionId} has carried a request`);
    return closed;
  }

  /** Base URL by host name, so the certificate's name is checked. */
  get url(): string {
    return `https://localhost:${this.port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
