/**
 * A TCP proxy on 127.0.0.1, port 0, in front of a real server (MariaDB in the tests), that a test
 * switches between the ways a database fails: `down` (connections reset, new ones refused),
 * `silent` (connections accepted, and every byte swallowed: a database that never answers), and
 * back `up`.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export type ProxyMode = 'up' | 'down' | 'silent';

export class TcpProxy {
  private readonly pairs = new Set<[Socket, Socket | undefined]>();
  private server: Server | undefined;
  private currentMode: ProxyMode = 'up';

  private constructor(private readonly target: { host: string; port: number }, readonly port: number) {}

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const proxy = new TcpProxy(target, port);
    await proxy.listen();
    return proxy;
  }

  get mode(): ProxyMode {
    return this.currentMode;
  }

  /** `up` after `silent` resets the swallowed connections, as a database coming back does. */
  async setMode(mode: ProxyMode): Promise<void> {
    const was = this.currentMode;
    this.currentMode = mode;
    if (mode === 'down' || (mode === 'up' && was === 'silent')) {
      for (const [client, upstream] of this.pairs) {
        client.destroy();
        upstream?.destroy();
      }
      this.pairs.clear();
    }
    if (mode === 'down') {
      const server = this.server;
      this.server = undefined;
      if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    } else {
      if (mode === 'silent') for (const [client, upstream] of this.pairs) swallow(client, upstream);
      if (!this.server) await this.listen();
    }
  }

  async close(): Promise<void> {
    await this.setMode('down');
  }

  private listen(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
  }

  private accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.currentMode === 'silent') {
      const pair: [Socket, undefined] = [client, undefined];
      this.pairs.add(pair);
      client.on('close', () => this.pairs.delete(pair));
      client.resume();
      return;
    }
    const upstream = connect(this.target);
    upstream.on('error', () => client.destroy());
    const pair: [Socket, Socket] = [client, upstream];
    this.pairs.add(pair);
    client.on('close', () => { this.pairs.delete(pair); upstream.destroy(); });
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }
}

/** From now on nothing passes either way; both sockets stay open. */
function swallow(client: Socket, upstream: Socket | undefined): void {
  client.unpipe();
  upstream?.unpipe();
  client.removeAllListeners('data');
  upstream?.removeAllListeners('data');
  client.resume();
  upstream?.resume();
}
