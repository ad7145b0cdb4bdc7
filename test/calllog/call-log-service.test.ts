import assert from 'node:assert/strict';
import knex, { type Knex } from 'knex';
import { CallLogService } from '../../src/calllog/call-log-service';
import type { CompletedCall } from '../../src/calllog/completed-call';
import { DEFAULT_LOG_OPTIONS } from '../../src/calllog/log-options';
import type { HostDirectory, HostRecordings } from '../../src/host';
import type { Decision } from '../../src/store/decision-store';
import { PluginStore } from '../../src/store/plugin-store';
import { openTestDatabase, type OpenedDatabase } from '../support/databases';
import { testHttpClient } from '../support/connector-harness';
import { silentLogger, TEST_SECRET_KEY } from '../support/test-host';
import { TcpProxy } from '../support/tcp-proxy';
import { until } from '../support/until';

const noConnectors = { integration: () => ({ lookup: async () => ({ kind: 'error' as const, code: 'CONFIG' as const, message: 'not enabled' }) }) } as never;

function call(linkedId: string, over: Partial<CompletedCall> = {}): CompletedCall {
  const ended = new Date('2026-12-07T19:02:00Z');
  return {
    linkedId, tenantId: 'default', direction: 'inbound', disposition: 'answered', externalNumber: '+15550001111', did: '5551234', agentExtension: '101',
    startedAt: new Date('2026-12-07T19:00:00Z'), answeredAt: new Date('2026-12-07T19:00:20Z'), endedAt: ended, talkSeconds: 100, channelUniqueIds: [], ...over,
  };
}

function decision(tenantId: string, callId: string, over: Partial<Decision> = {}): Decision {
  return {
    tenantId, ruleId: 7, callId, caller: '+15550001111', did: '5551234', dtmf: null, value: 'VIP', errorCode: null, errorMessage: null,
    outcome: 'matched', branch: 'row', rowIndex: 1, destination: { type: 'queue', target: '103' }, method: 'ami', lookupMs: 80, totalMs: 95, createdAt: new Date(), ...over,
  };
}

describe('Call log service: from a finished call to outbox rows', function () {
  this.timeout(30_000);
  let database: OpenedDatabase;
  let store: PluginStore;
  let service: CallLogService;
  const directory: HostDirectory = { find: (_t, key) => ('extension' in key && key.extension === '101' ? { extension: '101', name: 'Ana Reception', email: 'ana@example.com' } : undefined) };
  let recordings: HostRecordings = { url: () => undefined };

  before(async () => {
    database = await openTestDatabase('sqlite');
    store = await PluginStore.create(database.db, { secretKey: TEST_SECRET_KEY });
    service = new CallLogService({
      host: { directory, get recordings() { return recordings; } }, store, connectors: noConnectors, http: testHttpClient(), logger: silentLogger,
      ruleName: (id) => (id === 7 ? 'Gold' : undefined),
    });
    await store.callLogOptions.save('default', 'custom', { options: { ...DEFAULT_LOG_OPTIONS, enabled: true }, url: 'https://crm.example.com/calls' });
  });
  after(async () => {
    await service.stop();
    await database.close();
  });

  const rowOf = async (linkedId: string) => (await store.callOutbox.recent('default', { limit: 50 })).find((r) => r.linkedId === linkedId);

  it('puts the routing decision of the call (matched by the AGI channel uniqueid, same tenant only) in the notes and subject', async () => {
    await store.decisions.insertMany([decision('default', '1733600000.5'), decision('other', '1733600000.6', { value: 'LEAK' }), decision('default', '1733600000.9', { value: 'NOT THIS CALL' })]);
    await store.callLogOptions.save('default', 'custom', { options: { ...DEFAULT_LOG_OPTIONS, enabled: true, subject: '{rule}: {outcome} / {agent}' }, url: 'https://crm.example.com/calls' });
    service.enqueue(call('L-1', { channelUniqueIds: ['1733600000.5', '1733600000.6'] }));
    await service.flush();
    const row = await rowOf('L-1');
    assert.equal(row?.status, 'pending');
    assert.match(row!.activity!.notes, /Routed by CRM Routing rule "Gold" \(id 7\): CRM value "VIP", row 2, to queue 103\./);
    assert.doesNotMatch(row!.activity!.notes, /LEAK|NOT THIS CALL/);
    assert.equal(row!.activity!.subject, 'Gold: row 2 / Ana Reception');
    assert.equal(row!.activity!.ownerEmail, 'ana@example.com');
    assert.equal(row!.call.ruleName, 'Gold');
  });

  it('with routing notes off, or for a call the plugin did not route, the notes have no decision', async () => {
    await store.callLogOptions.save('default', 'custom', { options: { ...DEFAULT_LOG_OPTIONS, enabled: true, routingNotes: false }, url: 'https://crm.example.com/calls' });
    service.enqueue(call('L-2', { channelUniqueIds: ['1733600000.5'] }));
    service.enqueue(call('L-3', { agentExtension: '199' }));
    await service.flush();
    assert.doesNotMatch((await rowOf('L-2'))!.activity!.notes, /Routed/);
    const unknownAgent = (await rowOf('L-3'))!.activity!;
    assert.equal(unknownAgent.ownerEmail, undefined, 'no directory entry: no owner (the integration user)');
  });

  it("adds the host's recording link when it offers an https one; a failing or plain-http hook adds none", async () => {
    recordings = { url: (tenantId, c) => `https://pbx.example.com/rec/${tenantId}/${c.linkedId}.wav?sig=x` };
    service.enqueue(call('L-4'));
    await service.flush();
    const withLink = (await rowOf('L-4'))!.activity!;
    assert.equal(withLink.recordingUrl, 'https://pbx.example.com/rec/default/L-4.wav?sig=x');
    assert.match(withLink.notes, /Recording: https:\/\/pbx.example.com\/rec\/default\/L-4.wav/);
    recordings = { url: () => 'http://pbx.example.com/rec.wav' };
    service.enqueue(call('L-5'));
    recordings = { url: () => { throw new Error('boom'); } };
    service.enqueue(call('L-6'));
    await service.flush();
    assert.equal((await rowOf('L-5'))!.activity!.recordingUrl, undefined);
    assert.equal((await rowOf('L-6'))!.activity!.recordingUrl, undefined);
    recordings = { url: () => undefined };
  });

  it('a tenant without call logging on gets no rows; an option that skips a call leaves a skipped row saying which', async () => {
    service.enqueue(call('L-7', { tenantId: 'tenant-b' }));
    await store.callLogOptions.save('default', 'custom', { options: { ...DEFAULT_LOG_OPTIONS, enabled: true, calls: { ...DEFAULT_LOG_OPTIONS.calls, inboundMissed: false } }, url: 'https://crm.example.com/calls' });
    service.enqueue(call('L-8', { disposition: 'missed', talkSeconds: 0, answeredAt: undefined }));
    await service.flush();
    assert.deepEqual(await store.callOutbox.recent('tenant-b', { limit: 5 }), []);
    const skipped = (await rowOf('L-8'))!;
    assert.equal(skipped.status, 'skipped');
    assert.equal(skipped.skipReason, 'Inbound missed calls are not logged (log options).');
    assert.equal(skipped.activity, null);
  });
});

describe('Call log service: stopping', function () {
  this.timeout(30_000);
  let database: OpenedDatabase;

  before(async () => { database = await openTestDatabase('sqlite'); });
  after(async () => database?.close());

  it('a call handed over just before stop() (the plugin emits the calls still in their grace period then) is in the outbox when stop() resolves', async () => {
    const store = await PluginStore.create(database.db, { secretKey: TEST_SECRET_KEY });
    await store.callLogOptions.save('default', 'custom', { options: { ...DEFAULT_LOG_OPTIONS, enabled: true }, url: 'https://crm.example.com/calls' });
    const service = new CallLogService({ host: {}, store, connectors: noConnectors, http: testHttpClient(), logger: silentLogger });
    service.start();
    service.enqueue(call('S-1'));
    await service.stop();
    assert.deepEqual((await store.callOutbox.recent('default', { limit: 5 })).map((r) => [r.linkedId, r.status]), [['S-1', 'pending']]);
  });
});

describe('Call log service: the database goes away and comes back', function () {
  this.timeout(60_000);
  let database: OpenedDatabase;
  let proxy: TcpProxy;
  let db: Knex;

  before(async () => {
    database = await openTestDatabase('mariadb');
    const server = new URL(process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306');
    proxy = await TcpProxy.start({ host: server.hostname, port: Number(server.port || 3306) });
    const config = (database.db.client as { config: Knex.Config }).config;
    db = knex({ ...config, connection: { ...(config.connection as object), host: '127.0.0.1', port: proxy.port, connectTimeout: 1000 }, acquireConnectionTimeout: 1500, pool: { min: 0, max: 3 }, log: { warn() {}, error() {}, debug() {}, deprecate() {} } });
  });
  after(async () => {
    await proxy?.setMode('up');
    await db?.destroy();
    await proxy?.close();
    await database?.close();
  });

  it('keeps calls in memory (bounded, drops counted) while it is away, and writes them once it is back', async () => {
    const store = await PluginStore.create(db, { secretKey: TEST_SECRET_KEY });
    await store.callLogOptions.save('default', 'custom', { options: { ...DEFAULT_LOG_OPTIONS, enabled: true }, url: 'https://crm.example.com/calls' });
    const service = new CallLogService({ host: {}, store, connectors: noConnectors, http: testHttpClient(), logger: silentLogger, maxQueued: 5, flushRetryMs: 100 });
    try {
      await proxy.setMode('down');
      const started = performance.now();
      for (let i = 0; i < 7; i += 1) service.enqueue(call(`D-${i}`));
      assert.ok(performance.now() - started < 20, 'enqueue never waits for the database');
      await service.flush();
      assert.deepEqual(service.stats(), { queued: 5, dropped: 2 });
      await assert.rejects(service.worker.runOnce(), 'the worker cannot claim rows either');
      assert.equal(service.worker.stats.databaseErrors, 1);
      await proxy.setMode('up');
      const direct = await PluginStore.create(database.db, { secretKey: TEST_SECRET_KEY });
      await until(() => service.stats().queued === 0, 20_000);
      const rows = await direct.callOutbox.recent('default', { limit: 20 });
      assert.deepEqual(rows.map((r) => r.linkedId).sort(), ['D-0', 'D-1', 'D-2', 'D-3', 'D-4']);
    } finally {
      await service.stop();
    }
  });
});
