/**
 * The baseline for bench:agi: the least a FastAGI handler can do, written the way the small
 * `ding-dong` library (npm) does it and as its hello-world handler uses it: read the header up
 * to the empty line into a map of variables, send one command (`SET VARIABLE`), wait for the
 * `200 result=` line, close. No validation, no limits, no timers, no logging: what any handler
 * costs at the least on this machine, so the plugin's figures can be read as a ratio to it.
 * With `commands` > 1 it sends that many, one at a time: the protocol's own cost of a call
 * that needs as many round trips as the plugin's. With `holdMs` it waits that long after the
 * header before its first command (a timer, as the plugin's stub CRM holds a lookup), so both
 * can be loaded with the same shape of calls in flight.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';

export class BareAgiServer {
  private constructor(private readonly server: Server) {}

  static async start(commands = 1, holdMs = 0): Promise<BareAgiServer> {
    const server = createServer((socket) => {
      socket.setNoDelay(true);
      socket.setEncoding('utf8');
      let received = '';
      let variables: Record<string, string> | undefined;
      let answered = 0;
      socket.on('data', (text: string) => {
        received += text;
        if (!variables) {
          const end = received.indexOf('\n\n');
          if (end === -1) return;
          variables = {};
          for (const line of received.slice(0, end).split('\n')) {
            const colon = line.indexOf(':');
            variables[line.slice(0, colon)] = line.slice(colon + 1).trim();
          }
          received = received.slice(end + 2);
          const first = `SET VARIABLE GREETING "ding-dong ${variables.agi_uniqueid ?? ''}"\n`;
          if (holdMs > 0) setTimeout(() => socket.write(first), holdMs);
          else socket.write(first);
        }
        let newline: number;
        while ((newline = received.indexOf('\n')) !== -1) {
          received = received.slice(newline + 1);
          answered += 1;
          if (answered >= commands) socket.end();
          else socket.write(`SET VARIABLE STEP_${answered} "${answered}"\n`);
        }
      });
      socket.on('error', () => undefined);
    });
    // The plugin's accept queue (AgiServer: maxConnections, 4,000 by default), so a burst costs both the same.
    await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4000 }, resolve));
    return new BareAgiServer(server);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
