import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import request from 'supertest';
import { startReferenceHost, type ReferenceHost } from '../../scripts/host/create-host';
import { openHostDatabase } from '../../scripts/host/host-data';
import type { Knex } from 'knex';
import { openTestDatabase, type OpenedDatabase } from '../support/databases';
import { TcpProxy } from '../support/tcp-proxy';
import { ADMIN, silentLogger, TEST_SECRET_KEY } from '../support/test-host';
import { csrfTokenOf } from '../support/test-host';

const PAGES = ['/', '/dids', '/ivrs', '/license', '/crm/routing', '/crm/routing/new', '/crm/integration', '/crm/routing/1/edit', '/crm/routing/1/calls', '/crm/calllog', '/crm/calllog?status=failed'];
const POSTS: Array<[string, Record<string, string>]> = [
  ['/dids', { number: '5550142', destination: 'extension:100' }],
  ['/license', { crm_routing: 'on' }],
  ['/crm/routing/new', { name: 'Saved while down', action: 'save' }],
  ['/crm/integration/vtiger', { enabled: 'no', url: 'https://crm.example.com', action: 'save' }],
  ['/crm/routing/1/edit', { action: 'test', testCallerId: '+15550001111' }],
  ['/ivrs/200', { option_1: 'queue:103' }],
  ['/crm/integration/custom/call-log', { logEnabled: 'yes', url: 'https://crm.example.com/calls', unknownCaller: 'skip', subject: '{caller}', minSeconds: '0', action: 'save' }],
  ['/crm/calllog/1/retry', {}],
];

describe('Reference host with its MariaDB unreachable: every page answers 503 within 2 s, nothing changed', function () {
  this.timeout(60_000);
  let database: OpenedDatabase;
  let proxy: TcpProxy;
  let db: Knex;
  let host: ReferenceHost;
  let cookies: string;
  let token: string;

  before(async () => {
    database = await openTestDatabase('mariadb');
    const server = new URL(process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306');
    proxy = await TcpProxy.start({ host: server.hostname, port: Number(server.port || 3306) });
    const name = (database.db.client.config.connection as { database: string }).database;
    const through = new URL(server.href);
    through.host = `127.0.0.1:${proxy.port}`;
    through.pathname = `/${name}`;
    // The host's own database settings (timeouts included), through the proxy.
    db = openHostDatabase({ DATABASE_URL: through.href, DATA_DIR: 'data' }, silentLogger);
    host = await startReferenceHost({
      db, port: 0, adminUser: ADMIN.name, adminPassword: ADMIN.password, secretKey: TEST_SECRET_KEY,
      agi: { port: 0, bind: '127.0.0.1', publicHost: '127.0.0.1' }, logger: silentLogger,
    });
    const agent = request.agent(host.url);
    const login = await agent.get('/login');
    const signed = await agent.post('/login').type('form').send({ _csrf: csrfTokenOf(login.text), username: ADMIN.name, password: ADMIN.password, next: '/' });
    assert.equal(signed.status, 303);
    const page = await agent.get('/dids');
    token = [...page.text.matchAll(/name="_csrf" value="([^"]+)"/g)].at(-1)![1]!;
    const jar = [...([] as string[]).concat(signed.headers['set-cookie'] ?? []), ...([] as string[]).concat(page.headers['set-cookie'] ?? [])];
    cookies = [...new Map(jar.map((c) => c.split(';')[0]!).map((c) => [c.split('=')[0], c])).values()].join('; ');
  });

  after(async () => {
    await proxy?.setMode('up');
    await host?.close();
    await db?.destroy();
    await proxy?.close();
    await database?.close();
  });

  async function assertAllAnswer503(): Promise<void> {
    const slow: string[] = [];
    for (const path of PAGES) {
      const started = performance.now();
      const res = await request(host.url).get(path).set('Cookie', cookies).set('Accept', 'text/html');
      const ms = performance.now() - started;
      assert.equal(res.status, 503, `${path}: ${res.status} ${res.text.slice(0, 300)}`);
      assert.match(res.text, /The database is not reachable; nothing was changed/, path);
      assert.doesNotMatch(res.text, /at .*\.(ts|js):\d+/, `${path} shows no stack trace`);
      if (ms >= 2000) slow.push(`${path} ${Math.round(ms)} ms`);
    }
    for (const [path, form] of POSTS) {
      const started = performance.now();
      const res = await request(host.url).post(path).set('Cookie', cookies).type('form').send({ ...form, _csrf: token });
      const ms = performance.now() - started;
      assert.equal(res.status, 503, `POST ${path}: ${res.status} ${res.text.slice(0, 300)}`);
      if (ms >= 2000) slow.push(`POST ${path} ${Math.round(ms)} ms`);
    }
    assert.deepEqual(slow, [], 'every page answered within 2 s');
  }

  async function assertNothingChanged(): Promise<void> {
    const dids = await request(host.url).get('/dids').set('Cookie', cookies);
    assert.equal(dids.status, 200, dids.text.slice(0, 300));
    assert.doesNotMatch(dids.text, /5550142/);
    assert.equal((await database.db('crm_routing_rules').where({ name: 'Saved while down' })).length, 0);
  }

  it('works while the database is up', async () => {
    for (const path of ['/', '/dids', '/crm/routing', '/crm/integration']) {
      assert.equal((await request(host.url).get(path).set('Cookie', cookies)).status, 200, path);
    }
  });

  it('database down (connections reset and refused): 503 everywhere, plugin pages included', async () => {
    await proxy.setMode('down');
    await assertAllAnswer503();
    await proxy.setMode('up');
    await assertNothingChanged();
  });

  it('database accepting connections but never answering: 503 everywhere, each within 2 s', async () => {
    await proxy.setMode('silent');
    await assertAllAnswer503();
    await proxy.setMode('up');
    await assertNothingChanged();
  });
});
