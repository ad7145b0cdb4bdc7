/**
 * Two PBX web nodes on ONE MariaDB database (issue 13, "several nodes"): the reference host and a
 * second `register()` with its own connection pool and FastAGI port, both routing calls of one
 * rule against Bullhorn, whose refresh tokens work once. The integration was connected with
 * "Connect" (no password stored), so every session comes from the shared refresh token; the
 * fake's BhRestTokens live 1.5 s, so refreshes keep happening while 1,000 calls (500 per node,
 * lookup cache off) run. Expected: every call answered from the CRM, no refresh token presented
 * twice; the sign-ins are counted in the test's title.
 */
import assert from 'node:assert/strict';
import express from 'express';
import type { Knex } from 'knex';
import { register } from '../../src/index';
import type { HostContext, PluginHandle } from '../../src/host';
import { DEADLINE_MAX_SECONDS } from '../../src/domain/rule';
import { AsteriskSimulator } from '../../scripts/lib/asterisk-simulator';
import { ReferenceCatalog } from '../../scripts/host/catalog';
import { answerConsent } from '../support/consent-client';
import { LOCAL_FAKES } from '../support/connector-harness';
import { createRule, ROWS, saveIntegration } from '../support/crm-call-rig';
import { KNOWN_CALLERS, type CrmCase, type StartedCrm } from '../support/crm-cases';
import { anotherConnectionPool } from '../support/databases';
import { BullhornFake } from '../support/fakes/bullhorn-fake';
import { testCa } from '../support/test-ca';
import { ADMIN, silentLogger, startTestHost, TEST_SECRET_KEY, type TestHost } from '../support/test-host';
import { signedScript } from './support/call-rig';

const CALLS = 1000;
const IN_FLIGHT_PER_NODE = 50;

/** Bullhorn connected with Connect: the client and API username on the integration, no password. */
const connectedBullhorn: CrmCase = {
  name: 'Bullhorn (Connect)', crm: 'bullhorn', tenant: 'default', module: 'Candidate', fieldName: 'status',
  async start(callers) {
    const fake = await BullhornFake.start();
    fake.records.Candidate = callers.map((c, i) => ({ id: 1000 + i, firstName: `C${i}`, status: c.value, phone: `+${c.phone.replace(/\D/g, '')}`, dateLastModified: i }));
    return { settings: { clientId: fake.clientId, clientSecret: fake.clientSecret, username: fake.username, loginInfoUrl: fake.url }, counts: () => ({ lookups: fake.counts.finds }), violations: () => fake.violations, close: () => fake.close(), fake } as StartedCrm & { fake: BullhornFake };
  },
};

describe('Two nodes on one MariaDB database share a single-use refresh token', function () {
  this.timeout(180_000);
  let t: TestHost;
  let fake: BullhornFake;
  let secondDb: Knex;
  let second: PluginHandle;
  let ruleId: number;
  const asterisk = new AsteriskSimulator();

  before(async function () {
    this.timeout(90_000);
    const started = (await connectedBullhorn.start(KNOWN_CALLERS)) as StartedCrm & { fake: BullhornFake };
    fake = started.fake;
    t = await startTestHost({ dialect: 'mariadb', crmCa: testCa().caPem, lookupCacheTtlSeconds: 0 });
    fake.registerRedirectUri(`${t.host.url}/crm/integration/bullhorn/connect/callback`);
    const admin = await t.signIn();
    await saveIntegration(admin, connectedBullhorn, started);
    // Connect, as the administrator does in a browser: consent page, Allow, back to the callback.
    const startConnect = await admin.post('/crm/integration/bullhorn/connect', {});
    assert.equal(startConnect.status, 303);
    const back = await answerConsent(String(startConnect.headers.location));
    const done = await admin.agent.get(`${back.pathname}${back.search}`);
    assert.equal(done.status, 303);
    assert.match((await admin.get('/crm/integration')).text, /Connected to Bullhorn\./);
    await createRule(admin, connectedBullhorn, 'Bullhorn status', DEADLINE_MAX_SECONDS);
    ruleId = (await t.host.plugin.routingDestinations(ADMIN.tenantId)).find((r) => r.name === 'Bullhorn status')!.ruleId;

    secondDb = anotherConnectionPool(t.database.db);
    second = await register(secondNode(secondDb), { lookupCacheTtlSeconds: 0 });
    fake.sessionTtlMs = 1500; // from now on sessions expire during the run
  });
  after(async () => {
    await second?.stop();
    await secondDb?.destroy();
    await t?.close();
    await fake?.close();
    asterisk.close();
  });

  it(`routes ${CALLS} calls split between the nodes from the CRM, spending each refresh token once`, async function () {
    const nodes = [t.agiPort, (await second.health()).agi.port];
    const before = { ...fake.counts };
    const tally: Record<string, number> = {};
    const started = Date.now();
    await Promise.all(nodes.map(async (agiPort, node) => {
      for (let i = node; i < CALLS; i += IN_FLIGHT_PER_NODE * nodes.length) {
        const batch = Array.from({ length: IN_FLIGHT_PER_NODE }, (_, k) => i + k * nodes.length).filter((n) => n < CALLS);
        await Promise.all(batch.map(async (n) => {
          const caller = KNOWN_CALLERS[n % KNOWN_CALLERS.length]!;
          const call = await asterisk.placeCall({ agiPort, script: signedScript(ruleId, ADMIN.tenantId), callerId: caller.phone, did: '5551234' });
          const row = ROWS.findIndex((r) => r.value === caller.value) + 1;
          const ok = call.variables.CRM_ROUTING_OUTCOME === 'MATCH' && call.variables.CRM_ROUTING_ROW === String(row) && call.ended.kind === 'dialplan';
          const key = ok ? `node ${node + 1}: routed from the CRM` : `node ${node + 1}: ${call.variables.CRM_ROUTING_OUTCOME ?? call.ended.kind} ${call.variables.CRM_ROUTING_VALUE ?? ''}`;
          tally[key] = (tally[key] ?? 0) + 1;
        }));
      }
    }));
    const seconds = (Date.now() - started) / 1000;
    const refreshes = fake.counts.refreshGrants - before.refreshGrants;
    const logins = fake.counts.restLogins - before.restLogins;
    const retried = fake.counts.finds - before.finds - CALLS;
    this.test!.title = `${CALLS} calls in ${seconds.toFixed(1)} s (500 per node): ${refreshes} refreshes, ${logins} REST logins, ${fake.counts.codeGrants} code grant (Connect), ${fake.counts.authorize} password sign-ins, refresh-token reuse ${fake.counts.refreshReuse}; ${retried} lookups repeated after a 401 (expired session)`;

    assert.deepEqual(tally, { 'node 1: routed from the CRM': CALLS / 2, 'node 2: routed from the CRM': CALLS / 2 });
    assert.ok(retried >= 0 && retried <= refreshes * IN_FLIGHT_PER_NODE * nodes.length, `every call was answered by the CRM (lookup cache off); ${retried} repeated once after a 401`);
    assert.equal(fake.counts.refreshReuse, 0, 'no refresh token was presented twice');
    assert.ok(refreshes >= 2, `sessions expired and were refreshed during the run (${refreshes})`);
    assert.equal(fake.counts.authorize, 0, 'no password sign-in: there is none stored');
    assert.equal(logins, refreshes, 'one REST login per refresh, shared by both nodes');
    assert.deepEqual(fake.violations, []);
  });
});

/** A second PBX web node: the same host (secret, tables, destinations) on its own connection pool and AGI port. */
function secondNode(db: Knex): HostContext {
  return {
    mount: (basePath, app) => express().use(basePath, app),
    basePath: '/crm',
    db,
    license: { isEnabled: () => true },
    auth: { middleware: (_req, _res, next) => next(), currentUser: () => ({ id: 'admin', name: 'admin', tenantId: ADMIN.tenantId }) },
    menu: { add: () => {} },
    layout: ({ body }) => body,
    destinations: new ReferenceCatalog(),
    agi: { port: 0, bind: '127.0.0.1', publicHost: '127.0.0.1' },
    logger: silentLogger,
    secretKey: TEST_SECRET_KEY,
    crmCa: testCa().caPem,
    // The fake CRM listens on 127.0.0.1, which the default egress policy refuses.
    crmEgress: LOCAL_FAKES,
  };
}
