import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import { OutboxWorker } from '../../src/calllog/outbox-worker';
import type { CallActivity, CallLogResult, CallLogWriter } from '../../src/crm/call-log-writer';
import type { CallOutboxStore, NewOutboxRow } from '../../src/store/call-outbox-store';
import { PluginStore } from '../../src/store/plugin-store';
import { anotherConnectionPool, describeEachDatabase, openTestDatabase, type OpenedDatabase } from '../support/databases';
import { silentLogger, TEST_SECRET_KEY } from '../support/test-host';
import { until } from '../support/until';

const HOUR = 3_600_000;

function activity(externalId: string): CallActivity {
  return {
    externalId, direction: 'inbound', disposition: 'answered', externalNumber: '+15550001111', pbxNumber: '5551234',
    startedAt: new Date('2026-12-07T19:00:00Z'), durationSeconds: 65, subject: 'Inbound call', notes: 'n', unknownCaller: 'skip',
  };
}

function row(linkedId: string, at: Date, over: Partial<NewOutboxRow> = {}): NewOutboxRow {
  return {
    tenantId: 't1', linkedId, integration: 'custom', activity: activity(`ext-${linkedId}`),
    call: { direction: 'inbound', disposition: 'answered', externalNumber: '+15550001111', startedAt: at.toISOString(), talkSeconds: 65 },
    endedAt: at, queuedAt: at, giveUpAt: new Date(at.getTime() + 24 * HOUR), ...over,
  };
}

/** A CRM in memory: what was written, by external id, and answers a test scripts. */
class MemoryCrm implements CallLogWriter {
  readonly writes: string[] = [];
  readonly finds: string[] = [];
  answers: Array<CallLogResult | 'hang'> = [];
  delayMs = 0;
  constructor(private readonly canFind = true) {}
  async logCall(a: CallActivity, _c: unknown, signal: AbortSignal): Promise<CallLogResult> {
    const next = this.answers.shift();
    if (next === 'hang') return new Promise((resolve) => signal.addEventListener('abort', () => resolve({ kind: 'error', code: 'TIMEOUT', message: 'no answer', retryable: true })));
    if (this.delayMs) await new Promise((r) => setTimeout(r, Math.random() * this.delayMs));
    if (next && next.kind !== 'written') return next;
    this.writes.push(a.externalId);
    return { kind: 'written', activityId: `crm-${a.externalId}` };
  }
  get findLoggedCall() {
    if (!this.canFind) return undefined;
    return async (externalId: string): Promise<CallLogResult | undefined> => {
      this.finds.push(externalId);
      return this.writes.includes(externalId) ? { kind: 'written', activityId: `crm-${externalId}` } : undefined;
    };
  }
}

function workerOn(outbox: CallOutboxStore, crm: CallLogWriter, over: Partial<ConstructorParameters<typeof OutboxWorker>[0]> = {}): OutboxWorker {
  return new OutboxWorker({ outbox, writerFor: async () => crm, logger: silentLogger, pollMs: 20, backoffBaseMs: 1000, ...over });
}

describeEachDatabase('Call log outbox worker', (database) => {
  let store: PluginStore;
  let prefixCount = 0;

  beforeEach(async () => {
    prefixCount += 1;
    store = await PluginStore.create(database.db, { tablePrefix: `ow${prefixCount}_`, secretKey: TEST_SECRET_KEY });
  });

  it('a call enqueued twice is one row, written once', async () => {
    const now = new Date();
    await store.callOutbox.insertMany([row('1.1', now)]);
    await store.callOutbox.insertMany([row('1.1', now), row('1.2', now)]);
    const crm = new MemoryCrm();
    const worker = workerOn(store.callOutbox, crm);
    assert.equal(await worker.runOnce(), 2);
    assert.deepEqual(crm.writes.sort(), ['ext-1.1', 'ext-1.2']);
    assert.equal(await worker.runOnce(), 0);
    const rows = await store.callOutbox.recent('t1', { limit: 10 });
    assert.deepEqual(rows.map((r) => [r.linkedId, r.status, r.activityId]).sort(), [['1.1', 'sent', 'crm-ext-1.1'], ['1.2', 'sent', 'crm-ext-1.2']]);
  });

  it('honours 429 Retry-After: nothing is sent again before it passes', async () => {
    let clock = new Date('2026-12-07T20:00:00Z');
    await store.callOutbox.insertMany([row('2.1', clock)]);
    const crm = new MemoryCrm();
    crm.answers = [{ kind: 'error', code: 'RATE_LIMITED', message: 'slow down', retryable: true, retryAfterMs: 120_000 }];
    const worker = workerOn(store.callOutbox, crm, { now: () => clock, backoffBaseMs: 1000 });
    await worker.runOnce();
    const [pending] = await store.callOutbox.recent('t1', { limit: 1 });
    assert.equal(pending!.status, 'pending');
    assert.equal(pending!.errorCode, 'RATE_LIMITED');
    assert.ok(pending!.nextAttemptAt.getTime() >= clock.getTime() + 120_000, 'next attempt at or after Retry-After');
    clock = new Date(clock.getTime() + 119_000);
    assert.equal(await worker.runOnce(), 0, 'not before Retry-After');
    clock = new Date(clock.getTime() + 2_000);
    assert.equal(await worker.runOnce(), 1);
    assert.deepEqual(crm.writes, ['ext-2.1']);
  });

  it('retries with growing delays for 24 hours, then gives up with the last reason', async () => {
    const start = new Date('2026-12-07T20:00:00Z');
    let clock = start;
    await store.callOutbox.insertMany([row('3.1', start)]);
    const crm = new MemoryCrm();
    crm.answers = Array.from({ length: 500 }, () => ({ kind: 'error', code: 'HTTP_ERROR', message: 'The CRM answered HTTP 503.', retryable: true }) as CallLogResult);
    const worker = workerOn(store.callOutbox, crm, { now: () => clock, backoffBaseMs: 5000, backoffMaxMs: 15 * 60_000 });
    const delays: number[] = [];
    for (let i = 0; i < 500; i += 1) {
      const [r] = await store.callOutbox.recent('t1', { limit: 1 });
      if (r!.status !== 'pending') break;
      delays.push(r!.nextAttemptAt.getTime() - clock.getTime());
      clock = r!.nextAttemptAt;
      await worker.runOnce();
    }
    const [done] = await store.callOutbox.recent('t1', { limit: 1 });
    assert.equal(done!.status, 'failed');
    assert.match(done!.errorMessage!, /^Gave up after \d+ attempts over 24 hours: The CRM answered HTTP 503\./);
    assert.ok(clock.getTime() - start.getTime() >= 24 * HOUR && clock.getTime() - start.getTime() < 24 * HOUR + 60_000);
    assert.ok(delays[2]! > delays[1]! && delays[1]! >= 4000, `delays grow: ${delays.slice(0, 5)}`);
    assert.ok(Math.max(...delays) <= 15 * 60_000 * 1.2 + 1);
    assert.ok(crm.writes.length === 0 && done!.attempts > 90 && done!.attempts < 200, `attempts ${done!.attempts}`);
  });

  it('an error a retry cannot fix fails at once, with the CRM reason', async () => {
    await store.callOutbox.insertMany([row('4.1', new Date())]);
    const crm = new MemoryCrm();
    crm.answers = [{ kind: 'error', code: 'FORBIDDEN', message: 'HubSpot refused access (403): missing scope crm.objects.calls.write.', retryable: false }];
    await workerOn(store.callOutbox, crm).runOnce();
    const [r] = await store.callOutbox.recent('t1', { limit: 1 });
    assert.equal(r!.status, 'failed');
    assert.equal(r!.errorCode, 'FORBIDDEN');
    assert.match(r!.errorMessage!, /missing scope/);
    assert.equal(await store.callOutbox.retry('t1', r!.id, 24 * HOUR), true);
    assert.equal(await store.callOutbox.retry('other', r!.id, 24 * HOUR), false, "another tenant's retry changes nothing");
    await workerOn(store.callOutbox, crm).runOnce();
    assert.equal((await store.callOutbox.get('t1', r!.id))!.status, 'sent');
  });

  it('a process killed mid-write: another takes the row over after the lease and asks the CRM before writing again', async () => {
    const now = new Date();
    await store.callOutbox.insertMany([row('5.1', now), row('5.2', now)]);
    const crm = new MemoryCrm();
    // Process A claims both, sends both writes (one reaches the CRM), and dies before recording anything.
    const claimed = await store.callOutbox.claimDue('dead-process', 300, 10);
    assert.equal(claimed.length, 2);
    crm.writes.push('ext-5.1');
    const worker = workerOn(store.callOutbox, crm, { leaseMs: 300 });
    assert.equal(await worker.runOnce(), 0, 'the lease still holds');
    await new Promise((r) => setTimeout(r, 350));
    assert.equal(await worker.runOnce(), 2);
    assert.deepEqual(crm.finds.sort(), ['ext-5.1', 'ext-5.2']);
    assert.deepEqual(crm.writes.sort(), ['ext-5.1', 'ext-5.2'], '5.1 found and not written again; 5.2 written');
    assert.equal(await store.callOutbox.finish(claimed[0]!.id, claimed[0]!.lease!, { status: 'failed', code: 'X', message: 'late' }), false, 'the dead process can no longer record an outcome');
    const rows = await store.callOutbox.recent('t1', { limit: 10 });
    assert.deepEqual(rows.map((r) => r.status), ['sent', 'sent']);
  });

  it('a write that times out is checked with findLoggedCall before the next attempt', async () => {
    let clock = new Date();
    await store.callOutbox.insertMany([row('6.1', clock)]);
    const crm = new MemoryCrm();
    // The CRM created the record but the answer never came.
    crm.answers = [{ kind: 'error', code: 'TIMEOUT', message: 'no answer in 15 s', retryable: true }];
    const original = crm.logCall.bind(crm);
    crm.logCall = async (a, c, s) => { const r = await original(a, c, s); if (r.kind === 'error') crm.writes.push(a.externalId); return r; };
    const worker = workerOn(store.callOutbox, crm, { now: () => clock });
    await worker.runOnce();
    clock = new Date(clock.getTime() + HOUR);
    await worker.runOnce();
    assert.deepEqual(crm.finds, ['ext-6.1']);
    assert.deepEqual(crm.writes, ['ext-6.1'], 'written once');
    assert.equal((await store.callOutbox.recent('t1', { limit: 1 }))[0]!.status, 'sent');
  });

  it('restart with pending rows: a new worker (a new process) delivers what the stopped one left', async () => {
    const now = new Date();
    await store.callOutbox.insertMany(Array.from({ length: 30 }, (_, i) => row(`7.${i}`, now)));
    const down = new MemoryCrm();
    down.answers = Array.from({ length: 30 }, () => ({ kind: 'error', code: 'CONNECTION', message: 'refused', retryable: true }) as CallLogResult);
    const first = workerOn(store.callOutbox, down, { backoffBaseMs: 50, batchSize: 30 });
    await first.runOnce();
    await first.stop();
    const crm = new MemoryCrm();
    const second = workerOn(store.callOutbox, crm, { backoffBaseMs: 50, batchSize: 30 });
    second.start();
    try {
      await until(() => crm.writes.length === 30, 5000);
    } finally {
      await second.stop();
    }
    assert.equal(new Set(crm.writes).size, 30);
    assert.deepEqual(await store.callOutbox.countByStatus('t1'), { pending: 0, sent: 30, skipped: 0, failed: 0 });
  });
});

describe('Call log outbox: two plugin processes on one MariaDB database', function () {
  this.timeout(60_000);
  let database: OpenedDatabase;
  let second: Knex;

  before(async () => {
    database = await openTestDatabase('mariadb');
    second = anotherConnectionPool(database.db);
  });
  after(async () => {
    await second?.destroy();
    await database?.close();
  });

  it('each of 400 calls is written exactly once, and both processes take part', async () => {
    const a = await PluginStore.create(database.db, { secretKey: TEST_SECRET_KEY });
    const b = await PluginStore.create(second, { secretKey: TEST_SECRET_KEY });
    const now = new Date();
    for (let i = 0; i < 400; i += 100) await a.callOutbox.insertMany(Array.from({ length: 100 }, (_, j) => row(`9.${i + j}`, now)));
    const crm = new MemoryCrm();
    crm.delayMs = 5;
    const workers = [workerOn(a.callOutbox, crm, { batchSize: 8, pollMs: 5 }), workerOn(b.callOutbox, crm, { batchSize: 8, pollMs: 5 })];
    for (const w of workers) w.start();
    try {
      await until(() => crm.writes.length >= 400, 30_000);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
    const counts = new Map<string, number>();
    for (const id of crm.writes) counts.set(id, (counts.get(id) ?? 0) + 1);
    assert.equal(counts.size, 400, 'no call lost');
    assert.deepEqual([...counts.values()].filter((n) => n > 1), [], 'no call written twice');
    assert.ok(workers.every((w) => w.stats.sent > 20), `both worked: ${workers.map((w) => w.stats.sent)}`);
    assert.deepEqual(await a.callOutbox.countByStatus(), { pending: 0, sent: 400, skipped: 0, failed: 0 });
  });
});
