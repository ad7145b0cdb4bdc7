/**
 * All cores (issue 13, part 2): the reference host started as `npm start` is, with
 * AGI_WORKERS=2 on one MariaDB database, in a process of its own. Both workers share the FastAGI
 * port and answer calls, each routed from the Custom CRM by the rule saved through the pages; an
 * edit of the rule, saved through whichever worker the page request reached, reaches both
 * workers at once (the other worker hears of it through the primary, before its 2 s poll).
 * Which worker answered a call is read from the host's log: every line carries its worker.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { AsteriskSimulator, type CallResult } from '../../scripts/lib/asterisk-simulator';
import { PluginStore } from '../../src/store/plugin-store';
import { openTestDatabase, type OpenedDatabase } from '../support/databases';
import { FakeHttpsServer } from '../support/fake-https';
import { testCa } from '../support/test-ca';
import { ADMIN, signIn, TEST_SECRET_KEY, type SignedInAgent } from '../support/test-host';
import { ruleFormFields, type RuleSpec } from './support/rule-spec';
import { signedScript } from './support/call-rig';

const ROOT = path.resolve(__dirname, '../..');
const CALLS = 40;

describe('Two FastAGI workers (AGI_WORKERS=2) on one MariaDB database', function () {
  this.timeout(120_000);
  let database: OpenedDatabase;
  let crm: FakeHttpsServer;
  let host: ChildProcess;
  let url: string;
  let agiPort: number;
  let admin: SignedInAgent;
  let ruleId: number;
  let dir: string;
  const log: string[] = [];
  const asterisk = new AsteriskSimulator({ maxCallMs: 8000 });
  const spec = (gold: string): RuleSpec & { name: string } => ({
    name: 'Workers - tier', url: '', deadlineSeconds: 3,
    rows: [{ operator: 'eq', value: 'Gold', destination: gold }, { operator: 'eq', value: 'Silver', destination: 'extension:101' }],
  });

  before(async function () {
    this.timeout(90_000);
    database = await openTestDatabase('mariadb');
    crm = await FakeHttpsServer.start(() => ({ body: { value: 'Gold' } }));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agi-workers-'));
    fs.writeFileSync(path.join(dir, 'ca.pem'), testCa().caPem);
    const webPort = await freePort();
    agiPort = await freePort();
    host = spawn(process.execPath, ['--import', 'tsx', 'scripts/reference-host.ts'], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env, AGI_WORKERS: '2', DATABASE_URL: mysqlUrl(database.db), SECRET_KEY: TEST_SECRET_KEY, DATA_DIR: dir,
        PORT: String(webPort), AGI_PORT: String(agiPort), ADMIN_USER: ADMIN.name, ADMIN_PASSWORD: ADMIN.password,
        CRM_CA_FILE: path.join(dir, 'ca.pem'), CRM_EGRESS_ALLOW: 'loopback', LOG_LEVEL: 'info',
      },
    });
    for (const stream of [host.stdout!, host.stderr!]) stream.setEncoding('utf8').on('data', (text: string) => log.push(...text.split('\n')));
    await until(() => log.some((line) => line.startsWith('CRM Routing: 2 workers share')), 60_000, () => `the host did not start with 2 workers:\n${log.join('\n')}`);
    url = `http://127.0.0.1:${webPort}`;
    admin = await signIn(url, ADMIN);
    await admin.get('/crm/routing/new');
    const saved = await admin.post('/crm/routing/new', ruleFormFields({ ...spec('queue:103'), url: `${crm.url}/tier` }));
    assert.equal(saved.status, 303, `the rule form refused the rule: ${saved.text.slice(0, 1000)}`);
    ruleId = await ruleIdOf(database.db, 'Workers - tier');
  });

  after(async () => {
    if (host && host.exitCode === null) {
      const exited = new Promise((resolve) => host.once('exit', resolve));
      host.kill('SIGTERM');
      await exited;
    }
    asterisk.close();
    await crm?.close();
    await database?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`answers ${CALLS} calls on both workers, each routed from the CRM`, async function () {
    const calls = await placeCalls(CALLS);
    const landed = tally(calls.map((call) => `${call.ended.kind === 'dialplan' ? `${call.ended.context},${call.ended.exten}` : call.ended.kind} ${call.variables.CRM_ROUTING_OUTCOME}`));
    assert.deepEqual(landed, { 'ext-queues,103 MATCH': CALLS });
    const byWorker = await workersOf(calls);
    this.test!.title += ` (worker 1: ${byWorker['1'] ?? 0}, worker 2: ${byWorker['2'] ?? 0})`;
    assert.deepEqual(Object.keys(byWorker).sort(), ['1', '2'], `both workers answered calls: ${JSON.stringify(byWorker)}`);
    assert.equal((byWorker['1'] ?? 0) + (byWorker['2'] ?? 0), CALLS);
  });

  it('sends calls on both workers to the new destination as soon as a rule edit is saved', async function () {
    const form = await admin.get(`/crm/routing/${ruleId}/edit`);
    const version = Number(/name="version" value="(\d+)"/.exec(form.text)?.[1]);
    const saved = await admin.post(`/crm/routing/${ruleId}/edit`, ruleFormFields({ ...spec('queue:105'), url: `${crm.url}/tier` }, version));
    assert.equal(saved.status, 303, `the rule form refused the edit: ${saved.text.slice(0, 1000)}`);
    const savedAt = Date.now();
    // Calls from the moment the page answered until each worker has sent one to queue 105.
    const seen = new Map<string, number>();
    while (seen.size < 2 && Date.now() - savedAt < 5000) {
      const calls = await placeCalls(4);
      const workers = await workersOf(calls, true);
      calls.forEach((call, i) => {
        if (call.ended.kind === 'dialplan' && call.ended.exten === '105' && !seen.has(workers[i]!)) seen.set(workers[i]!, Date.now() - savedAt);
      });
    }
    this.test!.title += ` (reached ${[...seen].map(([worker, ms]) => `worker ${worker} after ${ms} ms`).join(', ')})`;
    assert.equal(seen.size, 2, 'both workers route with the edited rule');
    // The poll of the cache-version row alone takes up to 2 s; the notice makes it at once.
    for (const [worker, ms] of seen) assert.ok(ms < 1000, `worker ${worker} used the edit ${ms} ms after it was saved`);
    const after = await placeCalls(10);
    assert.ok(after.every((call) => call.ended.kind === 'dialplan' && call.ended.exten === '105'), 'every later call goes to queue 105');
  });

  async function placeCalls(count: number): Promise<CallResult[]> {
    return Promise.all(Array.from({ length: count }, () => asterisk.placeCall({ agiPort, script: signedScript(ruleId, ADMIN.tenantId), callerId: '+15550001111', did: '5551234' })));
  }

  /** The worker whose "Call routed" line names each call's unique id (waits for the lines). */
  function workersOf(calls: CallResult[]): Promise<Record<string, number>>;
  function workersOf(calls: CallResult[], each: true): Promise<string[]>;
  async function workersOf(calls: CallResult[], each?: true): Promise<Record<string, number> | string[]> {
    const find = (call: CallResult) => {
      const line = log.find((l) => l.includes('Call routed') && l.includes(`"${call.uniqueid}"`));
      return line === undefined ? undefined : /\[worker (\d+)\]/.exec(line)?.[1];
    };
    await until(() => calls.every((call) => find(call) !== undefined), 5000, () => 'every call has its "Call routed" line');
    const workers = calls.map((call) => find(call)!);
    return each ? workers : tally(workers);
  }
});

function tally(keys: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of keys) counts[key] = (counts[key] ?? 0) + 1;
  return counts;
}

async function until(done: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`Timed out: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** DATABASE_URL of the test's MariaDB database. */
function mysqlUrl(db: Knex): string {
  const c = (db.client as { config: { connection: { host: string; port: number; user: string; password?: string; database: string } } }).config.connection;
  return `mysql://${encodeURIComponent(c.user)}:${encodeURIComponent(c.password ?? '')}@${c.host}:${c.port}/${c.database}`;
}

async function ruleIdOf(db: Knex, name: string): Promise<number> {
  const store = await PluginStore.create(db, { secretKey: TEST_SECRET_KEY });
  const rule = (await store.rules.list(ADMIN.tenantId, { search: name, offset: 0, limit: 10 })).rules.find((r) => r.name === name);
  assert.ok(rule, `rule ${name} is stored`);
  return rule.id;
}
