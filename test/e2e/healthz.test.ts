/**
 * /healthz (PluginHandle.health() as JSON) while each part fails in turn: AMI gone, a CRM gone,
 * the database gone (refusing, then silent). Each shows its own state, the answer turns 503, and
 * comes back to 200 when the part does.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import request from 'supertest';
import type { PluginHealth } from '../../src/host';
import { AsteriskSimulator } from '../../scripts/lib/asterisk-simulator';
import { startReferenceHost, type ReferenceHost } from '../../scripts/host/create-host';
import { openHostDatabase } from '../../scripts/host/host-data';
import { KNOWN_CALLERS, pipedrive } from '../support/crm-cases';
import { CrmCallRig } from '../support/crm-call-rig';
import { LOCAL_FAKES } from '../support/connector-harness';
import { openTestDatabase, type OpenedDatabase } from '../support/databases';
import { FakeHttpsServer } from '../support/fake-https';
import { TcpProxy } from '../support/tcp-proxy';
import { testCa } from '../support/test-ca';
import { ADMIN, csrfTokenOf, OTHER_TENANT_USER, silentLogger, TEST_SECRET_KEY } from '../support/test-host';
import { until } from '../support/until';
import { CallRig, signedScript } from './support/call-rig';
import { ruleFormFields } from './support/rule-spec';

async function healthz(url: string): Promise<{ status: number; health: PluginHealth; text: string; ms: number }> {
  const started = performance.now();
  const res = await request(url).get('/healthz');
  assert.match(String(res.headers['content-type']), /^application\/json/);
  return { status: res.status, health: res.body as PluginHealth, text: res.text, ms: performance.now() - started };
}

describe('/healthz while AMI is down', function () {
  this.timeout(30_000);
  let rig: CallRig;
  before(async () => {
    rig = await CallRig.start();
  });
  after(async () => rig?.close());

  it('200 and AMI connected; then 503, AMI not connected, the rest still well; the home page says so', async () => {
    const up = await healthz(rig.host.host.url);
    assert.equal(up.status, 200, up.text);
    assert.deepEqual({ healthy: up.health.healthy, problems: up.health.problems, ami: up.health.ami }, { healthy: true, problems: [], ami: { configured: true, connected: true } });
    assert.equal(up.health.database.reachable, true);

    await rig.ami!.close();
    await until(async () => (await healthz(rig.host.host.url)).status === 503, 5_000);
    const down = await healthz(rig.host.host.url);
    assert.equal(down.health.healthy, false);
    assert.equal(down.health.ami.configured, true);
    assert.equal(down.health.ami.connected, false);
    assert.deepEqual(down.health.problems, ['AMI is not connected (calls move with AGI)']);
    assert.equal(down.health.database.reachable, true);
    assert.equal(down.health.agi.listening, true);
    assert.doesNotMatch(down.text, /crmsecret/, 'no AMI secret in /healthz');
    const home = await rig.admin.get('/');
    assert.match(home.text, /1 problem\(s\): AMI is not connected/);
    assert.match(home.text, /<dt>AMI<\/dt><dd>disconnected/);
  });
});

describe('/healthz while a CRM is down (Pipedrive, lookup cache off)', function () {
  this.timeout(30_000);
  let rig: CrmCallRig;
  before(async function () {
    this.timeout(30_000);
    rig = await CrmCallRig.start([pipedrive], { callers: KNOWN_CALLERS.slice(0, 1), lookupCacheTtlSeconds: 0 });
  });
  after(async () => rig?.close());

  it('the integration goes from unused to ok (last success) to failing (last error, its code); 503 while failing', async () => {
    const url = rig.host.host.url;
    const fresh = await healthz(url);
    assert.equal(fresh.status, 200, fresh.text);
    assert.deepEqual(fresh.health.integrations, [{ tenantId: 'default', crm: 'pipedrive', state: 'unused' }]);

    const before = Date.now();
    assert.equal((await rig.call(pipedrive, KNOWN_CALLERS[0]!.phone)).variables.CRM_ROUTING_OUTCOME, 'MATCH');
    const ok = await healthz(url);
    assert.equal(ok.status, 200);
    const working = ok.health.integrations[0]!;
    assert.equal(working.state, 'ok');
    assert.ok(Date.parse(working.lastSuccessAt!) >= before - 5, working.lastSuccessAt);
    assert.equal(working.lastError, undefined);

    await rig.fake(pipedrive).close();
    const failed = await rig.call(pipedrive, KNOWN_CALLERS[0]!.phone);
    assert.equal(failed.variables.CRM_ROUTING_OUTCOME, 'CRM_ERROR');
    const down = await healthz(url);
    assert.equal(down.status, 503, down.text);
    const failing = down.health.integrations[0]!;
    assert.deepEqual({ state: failing.state, code: failing.lastError?.code, lastSuccessAt: failing.lastSuccessAt }, { state: 'failing', code: 'CONNECTION', lastSuccessAt: working.lastSuccessAt });
    assert.ok(Date.parse(failing.lastError!.at) >= Date.parse(working.lastSuccessAt!));
    assert.deepEqual(down.health.problems, ['pipedrive of tenant default is failing (CONNECTION)']);
    assert.equal(down.health.ami.connected, true);
    const apiToken = rig.fake(pipedrive).settings.apiToken!;
    assert.ok(!down.text.includes(apiToken), 'no CRM secret in /healthz');
    assert.ok(!down.text.includes(KNOWN_CALLERS[0]!.phone.slice(2)), 'no caller number in /healthz');

    // The home page: the tenant's own integrations, and nothing of another tenant's.
    const admin = await (await rig.host.signIn()).get('/');
    assert.match(admin.text, /1 problem\(s\): pipedrive of tenant default is failing \(CONNECTION\)/);
    assert.match(admin.text, /<td>pipedrive<\/td><td>failing<\/td>/);
    const other = await (await rig.host.signIn(OTHER_TENANT_USER)).get('/');
    assert.equal(other.status, 200);
    assert.doesNotMatch(other.text, /pipedrive/i);
    assert.match(other.text, /Everything is working/);
  });
});

describe('/healthz while the database is down (MariaDB behind a proxy; a call routed meanwhile)', function () {
  this.timeout(60_000);
  let database: OpenedDatabase;
  let proxy: TcpProxy;
  let db: Knex;
  let host: ReferenceHost;
  let crm: FakeHttpsServer;
  const asterisk = new AsteriskSimulator({ maxCallMs: 8000 });
  let ruleId: number;

  before(async function () {
    this.timeout(60_000);
    database = await openTestDatabase('mariadb');
    const server = new URL(process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306');
    proxy = await TcpProxy.start({ host: server.hostname, port: Number(server.port || 3306) });
    const through = new URL(server.href);
    through.host = `127.0.0.1:${proxy.port}`;
    through.pathname = `/${(database.db.client.config.connection as { database: string }).database}`;
    db = openHostDatabase({ DATABASE_URL: through.href, DATA_DIR: 'data' }, silentLogger);
    crm = await FakeHttpsServer.start(() => ({ body: { value: 'gold' } }));
    host = await startReferenceHost({
      db, port: 0, adminUser: ADMIN.name, adminPassword: ADMIN.password, secretKey: TEST_SECRET_KEY,
      agi: { port: 0, bind: '127.0.0.1', publicHost: '127.0.0.1' }, logger: silentLogger, decisionFlushMs: 20,
      crmCa: testCa().caPem, crmEgress: LOCAL_FAKES,
    });
    const agent = request.agent(host.url);
    const login = await agent.get('/login');
    await agent.post('/login').type('form').send({ _csrf: csrfTokenOf(login.text), username: ADMIN.name, password: ADMIN.password, next: '/' });
    const form = await agent.get('/crm/routing/new');
    const saved = await agent.post('/crm/routing/new').type('form').send(new URLSearchParams(Object.entries({
      ...ruleFormFields({ name: 'Health rule', url: `${crm.url}/tier`, rows: [{ operator: 'eq', value: 'gold', destination: 'queue:103' }] }),
      _csrf: [...form.text.matchAll(/name="_csrf" value="([^"]+)"/g)].at(-1)![1]!,
    }).flatMap(([k, v]): Array<[string, string]> => (Array.isArray(v) ? v.map((x): [string, string] => [k, x]) : [[k, v]]))).toString());
    assert.equal(saved.status, 303, saved.text.slice(0, 500));
    ruleId = (await host.plugin.routingDestinations(ADMIN.tenantId))[0]!.ruleId;
    agiPort = (await host.plugin.health()).agi.port;
  });

  after(async () => {
    asterisk.close();
    await proxy?.setMode('up');
    await host?.close();
    await db?.destroy();
    await proxy?.close();
    await crm?.close();
    await database?.close();
  });

  let agiPort = 0;
  const call = () => asterisk.placeCall({ agiPort, script: signedScript(ruleId, ADMIN.tenantId), callerId: '+15550001111' });

  it('200 while up', async () => {
    const up = await healthz(host.url);
    assert.equal(up.status, 200, up.text);
    assert.equal(up.health.database.reachable, true);
    assert.equal(up.health.decisionLog.failing, false);
  });

  it('refusing connections: 503 at once, the database not reachable with its code; calls still routed, their decisions wait (last write error)', async () => {
    await proxy.setMode('down');
    const routed = await call();
    assert.equal(routed.variables.CRM_ROUTING_OUTCOME, 'MATCH', 'calls do not need the database');
    await until(async () => (await host.plugin.health()).decisionLog.failing, 5_000);
    const down = await healthz(host.url);
    assert.equal(down.status, 503, down.text);
    assert.equal(down.health.database.reachable, false);
    assert.match(down.health.database.code ?? '', /^[A-Z_]+$/);
    assert.ok(down.ms < 2_000, `answered in ${Math.round(down.ms)} ms`);
    const log = down.health.decisionLog;
    assert.equal(log.failing, true);
    assert.ok(log.buffered >= 1, `${log.buffered} decision(s) wait`);
    assert.match(log.lastWriteError?.code ?? '', /^[A-Za-z_]+$/);
    assert.equal(log.dropped, 0);
    assert.ok(down.health.problems.some((p) => p.startsWith('The database is not reachable')), down.health.problems.join('; '));
    assert.ok(down.health.problems.some((p) => p.startsWith('The decision log cannot write')), down.health.problems.join('; '));
    assert.doesNotMatch(down.text, /5550001111/, 'no caller number (a failed INSERT quotes its values)');
  });

  it('accepting connections but never answering: 503 within the 1 s bound (TIMEOUT)', async () => {
    await proxy.setMode('silent');
    const silent = await healthz(host.url);
    assert.equal(silent.status, 503, silent.text);
    assert.equal(silent.health.database.reachable, false);
    // Our own 1 s bound (TIMEOUT), or the driver's connect timeout when it fires first under load (ETIMEDOUT).
    assert.match(silent.health.database.code ?? '', /^E?TIMEDOUT$|^TIMEOUT$/);
    assert.ok(silent.ms < 2_000, `answered in ${Math.round(silent.ms)} ms`);
  });

  it('back up: 200, the waiting decisions written', async () => {
    await proxy.setMode('up');
    await until(async () => (await healthz(host.url)).status === 200, 15_000);
    const up = await healthz(host.url);
    assert.equal(up.health.decisionLog.buffered, 0);
    assert.equal(up.health.decisionLog.failing, false);
    assert.ok(up.health.decisionLog.lastWriteAt);
  });
});
