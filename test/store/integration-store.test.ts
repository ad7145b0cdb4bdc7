import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { PluginStore } from '../../src/store/plugin-store';
import { SealedValueError } from '../../src/store/store-errors';
import { describeEachDatabase } from '../support/databases';

const SECRET_KEY = 'integration-store-test-secret-key-0123456789';

function newTenant(): string {
  return `tenant-${randomUUID()}`;
}

const zohoSettings = { dataCentre: 'eu', clientId: '1000.ABC', logRequests: false };

describeEachDatabase('IntegrationStore', (database) => {
  let store: PluginStore;
  before(async () => {
    store = await PluginStore.create(database.db, { tablePrefix: 'is_', secretKey: SECRET_KEY });
  });

  const raw = (tenantId: string, crm: string) => database.db(store.tables.integrations).where({ tenant_id: tenantId, crm }).first();

  it('saves settings and secrets, and gives the connector the secrets opened', async () => {
    const tenant = newTenant();
    const saved = await store.integrations.save(tenant, 'zoho', {
      enabled: true,
      settings: zohoSettings,
      secrets: { clientSecret: 'zoho-client-secret', refreshToken: 'zoho-refresh-token' },
    });
    assert.deepEqual(saved.secrets, { clientSecret: 'zoho-client-secret', refreshToken: 'zoho-refresh-token' });
    assert.equal(saved.enabled, true);
    const loaded = await store.integrations.get(tenant, 'zoho');
    assert.deepEqual(loaded, saved);
    assert.ok(loaded!.createdAt instanceof Date && loaded!.updatedAt instanceof Date);
  });

  it('seals each secret at rest', async () => {
    const tenant = newTenant();
    await store.integrations.save(tenant, 'zoho', { enabled: true, settings: zohoSettings, secrets: { clientSecret: 'plain-needle-123' } });
    const row = await raw(tenant, 'zoho');
    assert.ok(!JSON.stringify(row).includes('plain-needle-123'));
    assert.match((JSON.parse(row.secrets) as Record<string, string>).clientSecret!, /^v1\./);
    assert.deepEqual(JSON.parse(row.settings), zohoSettings);
  });

  it('shows pages which secrets are stored, never their values', async () => {
    const tenant = newTenant();
    await store.integrations.save(tenant, 'hubspot', { enabled: false, settings: {}, secrets: { accessToken: 'hub-token-value' } });
    await store.integrations.save(tenant, 'bullhorn', { enabled: true, settings: { region: 'us' }, secrets: {} });
    const views = await store.integrations.list(tenant);
    assert.deepEqual(views.map((v) => [v.crm, v.enabled, v.secrets]), [
      ['bullhorn', true, {}],
      ['hubspot', false, { accessToken: { stored: true } }],
    ]);
    assert.ok(!JSON.stringify(views).includes('hub-token-value'));
    assert.deepEqual((await store.integrations.view(tenant, 'hubspot'))?.secrets, { accessToken: { stored: true } });
    assert.equal(await store.integrations.view(tenant, 'zoho'), undefined);
  });

  it('keeps a stored secret given as null, empty or left out; replaces one given anew; removes on request', async () => {
    const tenant = newTenant();
    const first = await store.integrations.save(tenant, 'zoho', {
      enabled: true, settings: zohoSettings, secrets: { clientSecret: 'cs-1', refreshToken: 'rt-1', apiKey: 'ak-1' },
    });
    const second = await store.integrations.save(tenant, 'zoho', {
      enabled: false, settings: { ...zohoSettings, dataCentre: 'com' }, secrets: { clientSecret: null, refreshToken: '', apiKey: 'ak-2' },
    });
    assert.equal(second.id, first.id, 'one record per tenant and CRM');
    assert.deepEqual(second.secrets, { clientSecret: 'cs-1', refreshToken: 'rt-1', apiKey: 'ak-2' });
    assert.equal(second.enabled, false);
    assert.deepEqual(second.createdAt, first.createdAt);
    const third = await store.integrations.save(tenant, 'zoho', { enabled: true, settings: zohoSettings, secrets: {}, removeSecrets: ['apiKey'] });
    assert.deepEqual(third.secrets, { clientSecret: 'cs-1', refreshToken: 'rt-1' });
    assert.deepEqual((await store.integrations.get(tenant, 'zoho'))?.secrets, third.secrets);
    assert.equal((await database.db(store.tables.integrations).where({ tenant_id: tenant })).length, 1);
  });

  it('keeps tenants apart', async () => {
    const tenantA = newTenant();
    const tenantB = newTenant();
    await store.integrations.save(tenantA, 'salesforce', { enabled: true, settings: {}, secrets: { password: 'a-only' } });
    assert.equal(await store.integrations.get(tenantB, 'salesforce'), undefined);
    assert.deepEqual(await store.integrations.list(tenantB), []);
    assert.equal(await store.integrations.delete(tenantB, 'salesforce'), false);
    const b = await store.integrations.save(tenantB, 'salesforce', { enabled: true, settings: {}, secrets: {} });
    assert.deepEqual(b.secrets, {}, "B's first save does not inherit A's secret");
    assert.equal((await store.integrations.get(tenantA, 'salesforce'))?.secrets.password, 'a-only');
  });

  it('makes racing first saves one record, without deadlocks', async () => {
    for (let round = 0; round < 10; round += 1) {
      const tenant = newTenant();
      await Promise.all(Array.from({ length: 5 }, (_, i) =>
        store.integrations.save(tenant, 'pipedrive', { enabled: true, settings: { n: i }, secrets: { [`token${i}`]: `t${i}` } })));
      const rows = await database.db(store.tables.integrations).where({ tenant_id: tenant });
      assert.equal(rows.length, 1);
      assert.equal(Object.keys((await store.integrations.get(tenant, 'pipedrive'))!.secrets).length, 5, 'no save lost its secret');
    }
  });

  it('refuses a secret copied from another tenant or CRM, and lets loadAll skip it', async () => {
    const tenantA = newTenant();
    const tenantB = newTenant();
    await store.integrations.save(tenantA, 'zendesk', { enabled: true, settings: {}, secrets: { apiToken: 'zd-a' } });
    await store.integrations.save(tenantB, 'zendesk', { enabled: true, settings: {}, secrets: { apiToken: 'zd-b' } });
    await store.integrations.save(tenantA, 'sugarcrm', { enabled: true, settings: {}, secrets: { apiToken: 'sugar-a' } });
    const sealedA = (await raw(tenantA, 'zendesk')).secrets as string;
    await database.db(store.tables.integrations).where({ tenant_id: tenantB, crm: 'zendesk' }).update({ secrets: sealedA });
    await database.db(store.tables.integrations).where({ tenant_id: tenantA, crm: 'sugarcrm' }).update({ secrets: sealedA });
    await assert.rejects(store.integrations.get(tenantB, 'zendesk'), SealedValueError);
    await assert.rejects(store.integrations.get(tenantA, 'sugarcrm'), SealedValueError);
    assert.deepEqual((await store.integrations.view(tenantB, 'zendesk'))?.secrets, { apiToken: { stored: true } }, 'pages still work');

    const skipped: string[] = [];
    const all = await store.integrations.loadAll((failure) => skipped.push(`${failure.tenantId}/${failure.crm}`));
    assert.deepEqual(skipped.sort(), [`${tenantA}/sugarcrm`, `${tenantB}/zendesk`].sort());
    assert.equal(all.find((r) => r.tenantId === tenantA && r.crm === 'zendesk')?.secrets.apiToken, 'zd-a');
    await assert.rejects(store.integrations.loadAll(), SealedValueError);

    // Entering the secret again repairs the record.
    const repaired = await store.integrations.save(tenantB, 'zendesk', { enabled: true, settings: {}, secrets: { apiToken: 'zd-b2' } });
    assert.equal(repaired.secrets.apiToken, 'zd-b2');
    await store.integrations.delete(tenantA, 'sugarcrm');
  });

  it('bumps the integrations cache version on every save and delete', async () => {
    const tenant = newTenant();
    const rulesBefore = await store.rules.cacheVersion();
    const before = await store.integrations.cacheVersion();
    await store.integrations.save(tenant, 'vtiger', { enabled: true, settings: {}, secrets: {} });
    await store.integrations.save(tenant, 'vtiger', { enabled: false, settings: {}, secrets: {} });
    assert.equal(await store.integrations.cacheVersion(), before + 2);
    assert.equal(await store.integrations.delete(tenant, 'vtiger'), true);
    assert.equal(await store.integrations.cacheVersion(), before + 3);
    assert.equal(await store.integrations.delete(tenant, 'vtiger'), false);
    assert.equal(await store.integrations.cacheVersion(), before + 3);
    assert.equal(await store.rules.cacheVersion(), rulesBefore, 'rules cache untouched');
  });
});
