/**
 * The shared store behind durable TokenCache keys, on MariaDB and SQLite: tokens sealed per tenant
 * and key, and a refresh run under the row's lock, so that two processes (two knex pools on one
 * database) sharing a refresh token that works once spend it once: the one that waited for the
 * lock uses the token the other stored.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { TokenCache, type CachedToken } from '../../src/crm/shared/token-cache';
import { PluginStore } from '../../src/store/plugin-store';
import { anotherConnectionPool, describeEachDatabase } from '../support/databases';

const SECRET_KEY = 'token-state-store-test-secret-key-0123456789';

interface Session extends CachedToken { access: string; refresh: string }

/** A vendor whose refresh tokens work once: each refresh answers a new pair and spends the old one. */
class SingleUseVendor {
  refreshes = 0;
  reuse = 0;
  private serial = 0;
  private readonly live = new Set(['r0']);
  private readonly spent = new Set<string>();

  async refresh(refreshToken: string, lifetimeMs: number): Promise<Session> {
    await new Promise((resolve) => setTimeout(resolve, 15)); // a network round trip
    this.refreshes += 1;
    if (!this.live.delete(refreshToken)) {
      if (this.spent.has(refreshToken)) this.reuse += 1;
      throw new Error(`refresh token ${refreshToken} refused`);
    }
    this.spent.add(refreshToken);
    this.serial += 1;
    this.live.add(`r${this.serial}`);
    return { access: `a${this.serial}`, refresh: `r${this.serial}`, expiresAt: Date.now() + lifetimeMs };
  }
}

describeEachDatabase('TokenStateStore', (database) => {
  let store: PluginStore;
  before(async () => {
    store = await PluginStore.create(database.db, { tablePrefix: 'ts_', secretKey: SECRET_KEY });
  });

  it('keeps a token per tenant and key, sealed at rest', async () => {
    const tenant = `t-${randomUUID()}`;
    assert.equal(await store.tokenStates.read(tenant, 'zendesk|k'), undefined);
    const result = await store.tokenStates.locked(tenant, 'zendesk|k', async (stored) => ({ store: '{"access":"needle-access-123"}', result: stored }));
    assert.equal(result, undefined, 'nothing was stored before');
    assert.equal(await store.tokenStates.read(tenant, 'zendesk|k'), '{"access":"needle-access-123"}');
    assert.equal(await store.tokenStates.read(`${tenant}-other`, 'zendesk|k'), undefined, 'another tenant sees nothing');
    assert.equal(await store.tokenStates.read(tenant, 'zendesk|other'), undefined, 'another key sees nothing');
    const rows = (await database.db(store.tables.tokenStates).where({ tenant_id: tenant })) as Array<{ token: string; key_hash: string }>;
    assert.equal(rows.length, 1);
    assert.ok(!rows[0]!.token.includes('needle'), 'the token is sealed');
    assert.match(rows[0]!.key_hash, /^[0-9a-f]{64}$/, 'only a hash of the key is kept');
  });

  it('a row copied to another tenant does not open there (sign in again instead)', async () => {
    const tenant = `t-${randomUUID()}`;
    await store.tokenStates.locked(tenant, 'k', async () => ({ store: 'secret', result: undefined }));
    const row = (await database.db(store.tables.tokenStates).where({ tenant_id: tenant }).first()) as { key_hash: string; token: string };
    const thief = `t-${randomUUID()}`;
    await database.db(store.tables.tokenStates).insert({ tenant_id: thief, key_hash: row.key_hash, token: row.token, updated_at: new Date() });
    assert.equal(await store.tokenStates.read(thief, 'k'), undefined);
  });

  it('leaves the stored token alone when the update stores nothing, and rolls back when it throws', async () => {
    const tenant = `t-${randomUUID()}`;
    await store.tokenStates.locked(tenant, 'k', async () => ({ store: 'one', result: undefined }));
    await store.tokenStates.locked(tenant, 'k', async () => ({ result: undefined }));
    await assert.rejects(store.tokenStates.locked(tenant, 'k', async () => { throw new Error('vendor said no'); }), /vendor said no/);
    assert.equal(await store.tokenStates.read(tenant, 'k'), 'one');
  });

  describe('two processes sharing a single-use refresh token', () => {
    let second: Knex | undefined;
    let otherStore: PluginStore;
    before(async () => {
      // Two pools on one SQLite file cannot both run in one Node process (SQLite's busy wait
      // blocks the thread the other pool needs to commit): there the second node shares the pool.
      if (database.dialect === 'sqlite') return void (otherStore = store);
      second = anotherConnectionPool(database.db);
      otherStore = await PluginStore.create(second, { tablePrefix: 'ts_', secretKey: SECRET_KEY });
    });
    after(async () => second?.destroy());

    it('refresh each token once, and the one that waited uses the token the other stored', async function () {
      this.timeout(30_000);
      const vendor = new SingleUseVendor();
      const tenant = `t-${randomUUID()}`;
      const lifetimeMs = 150;
      // skew 0: a token is used until it expires, so refreshes happen often during the run.
      const nodes = [store, otherStore].map((s) => new TokenCache({ store: s.tokenStates, skewMs: 0 }).forTenant(tenant));
      const login = (previous: Session | undefined) => vendor.refresh(previous?.refresh ?? 'r0', lifetimeMs);
      const used: string[] = [];
      const deadline = Date.now() + 1500;
      let calls = 0;
      await Promise.all(nodes.flatMap((node) => Array.from({ length: 20 }, async () => {
        while (Date.now() < deadline) {
          const session = await node.get<Session>('bullhorn|shared', login, AbortSignal.timeout(10_000), { durable: true });
          used.push(session.access);
          calls += 1;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })));
      assert.equal(vendor.reuse, 0, 'no refresh token was presented twice');
      assert.ok(vendor.refreshes >= 5, `refreshes happened during the run (${vendor.refreshes})`);
      assert.equal(new Set(used).size, vendor.refreshes, 'every refreshed token was used, each refresh by one process only');
      assert.ok(calls > 100, `${calls} calls`);
    });
  });
});
