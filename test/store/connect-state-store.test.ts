/**
 * The state of a "Connect" between the vendor's consent page and the callback, on MariaDB and
 * SQLite: bound to tenant, user, browser and CRM, single use, 10 minutes, the PKCE verifier sealed.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { ConnectStateStore, type ConnectOwner } from '../../src/store/connect-state-store';
import { PluginStore } from '../../src/store/plugin-store';
import { Sealer } from '../../src/store/sealing';
import { describeEachDatabase } from '../support/databases';

const SECRET_KEY = 'connect-state-store-test-secret-key-0123456789';

describeEachDatabase('ConnectStateStore', (database) => {
  let store: PluginStore;
  let now = Date.now();
  let states: ConnectStateStore;
  before(async () => {
    store = await PluginStore.create(database.db, { tablePrefix: 'cs_', secretKey: SECRET_KEY });
    states = new ConnectStateStore(database.db, store.tables, new Sealer(SECRET_KEY), () => now);
  });
  beforeEach(() => { now = Date.now(); });

  const owner = (): ConnectOwner => ({ tenantId: `t-${randomUUID()}`, userId: 'admin', bindingHash: 'a'.repeat(64) });
  const start = (who: ConnectOwner, verifier?: string) => states.create({ ...who, crm: 'zendesk', redirectUri: 'https://pbx.example/crm/integration/zendesk/connect/callback', ...(verifier ? { verifier } : {}) });

  it('gives an unguessable state once, with the redirect URI and the verifier it was started with', async () => {
    const who = owner();
    const state = await start(who, 'verifier-needle-0123456789');
    assert.match(state, /^[A-Za-z0-9_-]{43}$/, '256 random bits, URL-safe');
    const consumed = await states.consume(state, 'zendesk', who);
    assert.equal(consumed.kind, 'ok');
    assert.equal(consumed.kind === 'ok' && consumed.connect.verifier, 'verifier-needle-0123456789');
    assert.equal(consumed.kind === 'ok' && consumed.connect.redirectUri, 'https://pbx.example/crm/integration/zendesk/connect/callback');
    assert.deepEqual(await states.consume(state, 'zendesk', who), { kind: 'used' }, 'a second use is refused');
  });

  it('stores neither the state nor the verifier readable', async () => {
    const who = owner();
    const state = await start(who, 'verifier-needle-0123456789');
    const row = (await database.db(store.tables.connectStates).where({ tenant_id: who.tenantId }).first()) as Record<string, string>;
    assert.ok(!JSON.stringify(row).includes(state), 'only a hash of the state');
    assert.ok(!JSON.stringify(row).includes('needle'), 'the verifier is sealed');
    const noPkce = await start(owner());
    assert.notEqual(noPkce, state);
  });

  it("refuses another user's, another browser's or another tenant's state without spending it", async () => {
    const who = owner();
    const state = await start(who);
    assert.deepEqual(await states.consume(state, 'zendesk', { ...who, userId: 'bob' }), { kind: 'other_owner' });
    assert.deepEqual(await states.consume(state, 'zendesk', { ...who, bindingHash: 'b'.repeat(64) }), { kind: 'other_owner' });
    assert.deepEqual(await states.consume(state, 'zendesk', { ...who, tenantId: 'tenant-b' }), { kind: 'other_owner' });
    assert.equal((await states.consume(state, 'zendesk', who)).kind, 'ok', 'its owner can still finish');
  });

  it('refuses a state of another CRM, an unknown one, and one older than 10 minutes', async () => {
    const who = owner();
    const state = await start(who);
    assert.deepEqual(await states.consume(state, 'pipedrive', who), { kind: 'other_crm', crm: 'zendesk' });
    assert.deepEqual(await states.consume('made-up-state', 'zendesk', who), { kind: 'unknown' });
    now += 10 * 60_000 + 1;
    assert.deepEqual(await states.consume(state, 'zendesk', who), { kind: 'expired' });
    assert.deepEqual(await states.consume(state, 'zendesk', who), { kind: 'used' }, 'an expired state is spent too');
  });

  it('lets only one of two simultaneous callbacks through', async () => {
    const who = owner();
    const state = await start(who);
    const results = await Promise.all(Array.from({ length: 5 }, () => states.consume(state, 'zendesk', who)));
    assert.deepEqual(results.map((r) => r.kind).sort(), ['ok', 'used', 'used', 'used', 'used']);
  });
});
