import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Decision } from '../../src/store/decision-store';
import { ERROR_MESSAGE_MAX_LENGTH, VALUE_MAX_LENGTH } from '../../src/store/decision-store';
import { PluginStore } from '../../src/store/plugin-store';
import { describeEachDatabase } from '../support/databases';

const SECRET_KEY = 'decision-store-test-secret-key-0123456789ab';
const DAY_MS = 86_400_000;

function newTenant(): string {
  return `tenant-${randomUUID()}`;
}

function decision(tenantId: string, ruleId: number, overrides: Partial<Decision> = {}): Decision {
  return {
    tenantId,
    ruleId,
    callId: `1764000000.${Math.floor(Math.random() * 1e6)}`,
    caller: '+4930123456',
    did: '0800123',
    dtmf: null,
    value: 'Gold',
    errorCode: null,
    errorMessage: null,
    outcome: 'matched',
    branch: 'row',
    rowIndex: 0,
    destination: { type: 'queue', target: '600' },
    method: 'ami',
    lookupMs: 120,
    totalMs: 180,
    createdAt: new Date('2026-11-25T10:00:00.250Z'),
    owner: null,
    ownerNote: null,
    ...overrides,
  };
}

describeEachDatabase('DecisionStore', (database) => {
  let store: PluginStore;
  before(async () => {
    store = await PluginStore.create(database.db, { tablePrefix: 'ds_', secretKey: SECRET_KEY });
  });

  it('inserts a batch and reads a rule\'s newest first, fields as written', async () => {
    const tenant = newTenant();
    const first = decision(tenant, 1, { callId: 'call-1' });
    const second = decision(tenant, 1, {
      callId: 'call-2', dtmf: '1234', value: null, errorCode: 'TIMEOUT', errorMessage: 'Zoho CRM did not answer before the rule\'s deadline.',
      outcome: 'crm_timeout', rowIndex: null, destination: { type: 'hangup', target: '' }, method: 'agi', lookupMs: null,
    });
    const third = decision(tenant, 1, { callId: 'call-3', destination: null, method: 'none', caller: null, did: null });
    await store.decisions.insertMany([first, second, third, decision(tenant, 2), decision(newTenant(), 1)]);

    const recent = await store.decisions.recent(tenant, 1, 10);
    assert.deepEqual(recent.map((d) => d.callId), ['call-3', 'call-2', 'call-1']);
    const { id, ...readBack } = recent[1]!;
    assert.ok(Number.isInteger(id) && id > 0);
    assert.deepEqual(readBack, second);
    assert.deepEqual(recent[2]!.createdAt, first.createdAt, 'milliseconds kept');
    assert.equal(recent[0]!.destination, null);
    assert.deepEqual((await store.decisions.recent(tenant, 1, 2)).map((d) => d.callId), ['call-3', 'call-2']);
  });

  it("keeps who an \"Owner's extension\" row named, and why they had no extension", async () => {
    const tenant = newTenant();
    const unknown = decision(tenant, 1, { callId: 'owner-1', outcome: 'OWNER_UNKNOWN', rowIndex: null, owner: 'zoe@example.com', ownerNote: 'No extension belongs to this e-mail address.' });
    const known = decision(tenant, 1, { callId: 'owner-2', destination: { type: 'extension', target: '101' }, owner: 'ana@example.com' });
    await store.decisions.insertMany([unknown, known]);
    const [second, first] = await store.decisions.recent(tenant, 1, 10);
    assert.deepEqual([first!.owner, first!.ownerNote], ['zoe@example.com', 'No extension belongs to this e-mail address.']);
    assert.deepEqual([second!.owner, second!.ownerNote], ['ana@example.com', null]);
    assert.deepEqual(await store.decisions.recent(newTenant(), 1, 10), []);
  });

  it('caps long values and error messages instead of failing the batch', async () => {
    const tenant = newTenant();
    await store.decisions.insertMany([
      decision(tenant, 1, { value: '😀'.repeat(VALUE_MAX_LENGTH + 10), errorMessage: 'e'.repeat(ERROR_MESSAGE_MAX_LENGTH * 2), caller: '1'.repeat(100) }),
    ]);
    const [stored] = await store.decisions.recent(tenant, 1, 1);
    assert.equal(stored!.value, '😀'.repeat(VALUE_MAX_LENGTH));
    assert.equal(stored!.errorMessage!.length, ERROR_MESSAGE_MAX_LENGTH);
    assert.equal(stored!.caller!.length, 64);
  });

  it('writes a large batch in slices', async () => {
    const tenant = newTenant();
    await store.decisions.insertMany(Array.from({ length: 1_234 }, (_, i) => decision(tenant, 3, { callId: `bulk-${i}` })));
    assert.equal((await database.db(store.tables.decisions).where({ tenant_id: tenant }).count({ n: '*' }))[0]!.n, 1_234);
    assert.equal((await store.decisions.recent(tenant, 3, 1))[0]!.callId, 'bulk-1233');
    await store.decisions.insertMany([]);
  });

  it('prunes by age, then keeps at most N newest per rule', async () => {
    await database.db(store.tables.decisions).delete();
    const now = new Date('2026-11-25T12:00:00Z');
    const tenantA = newTenant();
    const tenantB = newTenant();
    const daysAgo = (days: number) => new Date(now.getTime() - days * DAY_MS);
    await store.decisions.insertMany([
      decision(tenantA, 1, { callId: 'old-1', createdAt: daysAgo(40) }),
      decision(tenantA, 1, { callId: 'old-2', createdAt: daysAgo(31) }),
      ...Array.from({ length: 8 }, (_, i) => decision(tenantA, 1, { callId: `a1-${i}`, createdAt: daysAgo(10 - i) })),
      ...Array.from({ length: 3 }, (_, i) => decision(tenantA, 2, { callId: `a2-${i}`, createdAt: daysAgo(5) })),
      ...Array.from({ length: 6 }, (_, i) => decision(tenantB, 1, { callId: `b1-${i}`, createdAt: daysAgo(1) })),
    ]);

    assert.deepEqual(await store.decisions.prune({ olderThanDays: 30, now }), { deletedByAge: 2, deletedByCount: 0 });
    assert.deepEqual(await store.decisions.prune({ olderThanDays: 30, maxRowsPerRule: 5, now }), { deletedByAge: 0, deletedByCount: 4 });
    assert.deepEqual((await store.decisions.recent(tenantA, 1, 50)).map((d) => d.callId), ['a1-7', 'a1-6', 'a1-5', 'a1-4', 'a1-3']);
    assert.equal((await store.decisions.recent(tenantA, 2, 50)).length, 3);
    assert.equal((await store.decisions.recent(tenantB, 1, 50)).length, 5, 'the cap is per tenant and rule');
    assert.deepEqual(await store.decisions.prune({ olderThanDays: 0, now }), { deletedByAge: 13, deletedByCount: 0 });
  });

  it('prunes more than one slice by age', async function () {
    this.timeout(60_000);
    await database.db(store.tables.decisions).delete();
    const tenant = newTenant();
    const old = new Date('2020-01-01T00:00:00Z');
    await store.decisions.insertMany(Array.from({ length: 5_200 }, (_, i) => decision(tenant, 1, { callId: `o-${i}`, createdAt: old })));
    await store.decisions.insertMany([decision(tenant, 1, { callId: 'fresh', createdAt: new Date() })]);
    assert.deepEqual(await store.decisions.prune({ olderThanDays: 30 }), { deletedByAge: 5_200, deletedByCount: 0 });
    assert.deepEqual((await store.decisions.recent(tenant, 1, 10)).map((d) => d.callId), ['fresh']);
  });
});
