/**
 * bench:agi's peers, written with the `ding-dong` library (npm, 0.1.7), run in the server's
 * process like the plugin:
 * - bare: its hello-world shape (header, one SET VARIABLE, close);
 * - dialogue: the plugin's AGI-path dialogue done by hand: one HTTPS GET to the same Custom CRM
 *   (undici keep-alive pool, the same TLS and CA), EXEC MSet of the five CRM_ROUTING_ variables,
 *   SET CONTEXT / EXTENSION / PRIORITY, close. No rules, limits, deadlines, checks or log: what
 *   the plugin's work costs above this is the price of those.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import AgiServer from 'ding-dong';
import { Pool } from 'undici';

export class DingDongPeer {
  private constructor(private readonly server: Server, private readonly pool: Pool | undefined) {}

  /** Header, `SET VARIABLE GREETING "ding-dong <uniqueid>"`, close. */
  static async bare(): Promise<DingDongPeer> {
    const server = await listen(AgiServer((context) => {
      context.on('error', () => undefined);
      void context.onEvent('variables')
        .then((variables) => context.setVariable('GREETING', `ding-dong ${variables.agi_uniqueid ?? ''}`))
        .then(() => context.end(), () => context.end());
    }));
    return new DingDongPeer(server, undefined);
  }

  /** The plugin's dialogue against the Custom CRM at `crmUrl` (the rule's URL), trusting `caPem`. */
  static async dialogue(crmUrl: string, caPem: string, connections: number): Promise<DingDongPeer> {
    const url = new URL(crmUrl);
    const pool = new Pool(url.origin, { connections, connect: { ca: caPem }, pipelining: 1 });
    const server = await listen(AgiServer((context) => {
      context.on('error', () => undefined);
      void (async () => {
        const variables = await context.onEvent('variables');
        const query = new URLSearchParams({ field_name: 'tier', dtmf: '', caller_id: variables.agi_callerid ?? '', did: variables.agi_dnid ?? '' });
        const res = await pool.request({ method: 'GET', path: `${url.pathname}?${query}`, headers: { accept: 'application/json' }, headersTimeout: 3000, bodyTimeout: 3000 });
        const answer = (await res.body.json()) as { value?: unknown };
        const value = typeof answer.value === 'string' ? answer.value : '';
        const gold = value === 'Gold';
        await context.exec('MSet', `CRM_ROUTING_STATUS=OK,CRM_ROUTING_OUTCOME=${gold ? 'MATCH' : 'DEFAULT'},CRM_ROUTING_VALUE=${value},CRM_ROUTING_ROW=${gold ? '4' : ''},CRM_ROUTING_METHOD=AGI`);
        await context.setContext('ext-queues');
        await context.setExtension(gold ? '103' : '104');
        await context.setPriority('1');
      })().catch(() => undefined).finally(() => void context.end());
    }));
    return new DingDongPeer(server, pool);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    await new Promise((resolve) => this.server.close(resolve));
    await this.pool?.close();
  }
}

/** ding-dong's own start() on a free port (its `port || 3000` cannot take 0). */
async function listen(agi: { start(port: number, host?: string): Server }): Promise<Server> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const server = agi.start(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => server.once('listening', resolve).once('error', reject));
  return server;
}
