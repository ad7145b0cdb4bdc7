import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { RuleDraft, RuleRow } from '../../src/domain/rule';
import { PluginStore } from '../../src/store/plugin-store';
import { DuplicateRuleNameError, MissingSecretError, StaleRuleError } from '../../src/store/rule-store';
import { SealedValueError } from '../../src/store/store-errors';
import { describeEachDatabase } from '../support/databases';

const SECRET_KEY = 'rule-store-test-secret-key-0123456789abcdef';

function newTenant(): string {
  return `tenant-${randomUUID()}`;
}

function rows(count: number): RuleRow[] {
  return Array.from({ length: count }, (_, i) => ({
    operator: i % 2 === 0 ? 'eq' : 'contains',
    value: `value ${i}`,
    destination: { type: 'queue', target: String(100 + i) },
  }));
}

function integrationDraft(name: string, overrides: Partial<RuleDraft> = {}): RuleDraft {
  return {
    name,
    fieldName: 'Account_Name',
    location: 'did',
    greeting: null,
    source: { kind: 'integration', crm: 'zoho', module: 'Contacts', username: 'crm-user', password: 'pa55word-zoho' },
    deadlineSeconds: 3,
    defaultDestination: { type: 'extension', target: '100' },
    defaultVoicemail: 'unset',
    branches: { notFound: null, crmError: null, invalidDigits: null },
    rows: rows(3),
    ...overrides,
  };
}

function customDraft(name: string, headers: Extract<RuleDraft['source'], { kind: 'custom' }>['headers']): RuleDraft {
  return integrationDraft(name, {
    location: 'ivr',
    greeting: { recording: 'welcome-en', maxDigits: 6, timeoutSeconds: 5, retries: 2, pattern: '^[0-9]+$' },
    source: { kind: 'custom', url: 'https://crm.example/lookup?phone={caller}', post: true, headers },
    defaultVoicemail: 'yes',
  });
}

describeEachDatabase('RuleStore', (database) => {
  let store: PluginStore;
  before(async () => {
    store = await PluginStore.create(database.db, { tablePrefix: 'rs_', secretKey: SECRET_KEY });
  });

  const rawRule = async (id: number) => database.db(store.tables.rules).where({ id }).first();

  describe('create and get', () => {
    it('returns the rule as saved, rows in their order, secrets opened', async () => {
      const tenant = newTenant();
      const created = await store.rules.create(tenant, integrationDraft('Gold customers', { rows: rows(12) }));
      assert.equal(created.version, 1);
      assert.equal(created.tenantId, tenant);
      const loaded = await store.rules.get(tenant, created.id);
      assert.deepEqual(loaded, created);
      assert.deepEqual(loaded?.rows.map((r) => r.value), Array.from({ length: 12 }, (_, i) => `value ${i}`));
      assert.deepEqual(loaded?.source, { kind: 'integration', crm: 'zoho', module: 'Contacts', username: 'crm-user', password: 'pa55word-zoho' });
    });

    it('keeps an IVR greeting and a custom source with its headers', async () => {
      const tenant = newTenant();
      const draft = customDraft('Custom IVR', [
        { name: 'Accept', secret: false, value: 'application/json' },
        { name: 'X-Api-Key', secret: true, value: 'key-123-secret' },
      ]);
      const created = await store.rules.create(tenant, draft);
      const loaded = await store.rules.get(tenant, created.id);
      assert.deepEqual(loaded?.greeting, draft.greeting);
      assert.deepEqual(loaded?.source, draft.source);
      assert.equal(loaded?.defaultVoicemail, 'yes');
    });

    it('stores an empty password as none, and a rule without rows', async () => {
      const tenant = newTenant();
      const created = await store.rules.create(tenant, integrationDraft('No password', {
        rows: [],
        source: { kind: 'integration', crm: 'hubspot', module: 'contacts', username: '', password: '' },
      }));
      assert.equal((await rawRule(created.id)).crm_password, null);
      const loaded = await store.rules.get(tenant, created.id);
      assert.deepEqual(loaded?.rows, []);
      assert.equal(loaded?.source.kind === 'integration' && loaded.source.password, '');
    });
  });

  describe('secrets', () => {
    it('are sealed at rest: no plain text in the columns', async () => {
      const tenant = newTenant();
      const integration = await store.rules.create(tenant, integrationDraft('Sealed password'));
      const raw = await rawRule(integration.id);
      assert.match(raw.crm_password, /^v1\./);
      assert.ok(!JSON.stringify(raw).includes('pa55word'));

      const custom = await store.rules.create(tenant, customDraft('Sealed header', [
        { name: 'Accept', secret: false, value: 'application/json' },
        { name: 'Authorization', secret: true, value: 'Bearer very-secret-token' },
      ]));
      const headersColumn = (await rawRule(custom.id)).custom_headers as string;
      assert.ok(!headersColumn.includes('very-secret-token'));
      assert.ok(headersColumn.includes('application/json'), 'non-secret headers stay readable');
    });

    it('null keeps the stored password; a value replaces it', async () => {
      const tenant = newTenant();
      const created = await store.rules.create(tenant, integrationDraft('Keep password'));
      const sealedBefore = (await rawRule(created.id)).crm_password;
      const kept = await store.rules.update(tenant, created.id, integrationDraft('Keep password', {
        source: { kind: 'integration', crm: 'zoho', module: 'Leads', username: 'other-user', password: null },
      }));
      assert.equal(kept?.source.kind === 'integration' && kept.source.password, 'pa55word-zoho');
      const reread = await store.rules.get(tenant, created.id);
      assert.deepEqual(reread?.source, { kind: 'integration', crm: 'zoho', module: 'Leads', username: 'other-user', password: 'pa55word-zoho' });
      assert.notEqual((await rawRule(created.id)).crm_password, sealedBefore, 'sealed again with a fresh IV');

      await store.rules.update(tenant, created.id, integrationDraft('Keep password', {
        source: { kind: 'integration', crm: 'zoho', module: 'Leads', username: 'other-user', password: 'new-pass' },
      }));
      const replaced = await store.rules.get(tenant, created.id);
      assert.equal(replaced?.source.kind === 'integration' && replaced.source.password, 'new-pass');
    });

    it('a null password with none stored is empty (the rule had a custom source)', async () => {
      const tenant = newTenant();
      const created = await store.rules.create(tenant, customDraft('Was custom', []));
      const updated = await store.rules.update(tenant, created.id, integrationDraft('Was custom', {
        source: { kind: 'integration', crm: 'vtiger', module: 'Contacts', username: 'u', password: null },
      }));
      assert.equal(updated?.source.kind === 'integration' && updated.source.password, '');
    });

    it('null keeps a secret header by name, ignoring case; unknown names are refused', async () => {
      const tenant = newTenant();
      const created = await store.rules.create(tenant, customDraft('Keep header', [{ name: 'X-Api-Key', secret: true, value: 'key-abc' }]));
      const kept = await store.rules.update(tenant, created.id, customDraft('Keep header', [
        { name: 'x-api-key', secret: true, value: null },
        { name: 'Accept', secret: false, value: 'text/plain' },
      ]));
      assert.deepEqual(kept?.source.kind === 'custom' && kept.source.headers, [
        { name: 'x-api-key', secret: true, value: 'key-abc' },
        { name: 'Accept', secret: false, value: 'text/plain' },
      ]);
      assert.deepEqual((await store.rules.get(tenant, created.id))?.source, kept?.source);
      await assert.rejects(
        store.rules.update(tenant, created.id, customDraft('Keep header', [{ name: 'X-Other', secret: true, value: null }])),
        (e: unknown) => e instanceof MissingSecretError && e.secretName === 'X-Other',
      );
      await assert.rejects(store.rules.create(tenant, customDraft('New with null', [{ name: 'X-Api-Key', secret: true, value: null }])), MissingSecretError);
    });

    it('an altered value or one copied from another tenant does not open', async () => {
      const tenantA = newTenant();
      const tenantB = newTenant();
      const a = await store.rules.create(tenantA, integrationDraft('Victim'));
      const b = await store.rules.create(tenantB, integrationDraft('Thief', {
        source: { kind: 'integration', crm: 'zoho', module: 'Contacts', username: 'u', password: 'b-own' },
      }));
      const sealedA = (await rawRule(a.id)).crm_password as string;
      await database.db(store.tables.rules).where({ id: b.id }).update({ crm_password: sealedA });
      await assert.rejects(store.rules.get(tenantB, b.id), SealedValueError);

      const flipped = sealedA.slice(0, -2) + (sealedA.endsWith('AA') ? 'AB' : 'AA');
      await database.db(store.tables.rules).where({ id: a.id }).update({ crm_password: flipped });
      await assert.rejects(store.rules.get(tenantA, a.id), (e: unknown) => e instanceof SealedValueError && e.code === 'SEALED_VALUE_INVALID');

      const skipped: number[] = [];
      const all = await store.rules.loadAll((failure) => skipped.push(failure.ruleId));
      assert.deepEqual(skipped.filter((id) => id === a.id || id === b.id).sort(), [a.id, b.id].sort());
      assert.ok(!all.some((r) => r.id === a.id || r.id === b.id));
      await assert.rejects(store.rules.loadAll(), SealedValueError);

      // A new password repairs the rule without opening the broken one.
      await store.rules.update(tenantA, a.id, integrationDraft('Victim'));
      assert.equal((await store.rules.get(tenantA, a.id))?.name, 'Victim');
      await store.rules.delete(tenantB, b.id);
    });
  });

  describe('tenants', () => {
    it('cannot read, change, delete or find another tenant\'s rule', async () => {
      const tenantA = newTenant();
      const tenantB = newTenant();
      const a = await store.rules.create(tenantA, integrationDraft('Only A'));
      assert.equal(await store.rules.get(tenantB, a.id), undefined);
      assert.equal(await store.rules.update(tenantB, a.id, integrationDraft('Taken over')), undefined);
      assert.equal(await store.rules.delete(tenantB, a.id), false);
      assert.deepEqual(await store.rules.list(tenantB, { offset: 0, limit: 50 }), { rules: [], total: 0 });
      assert.deepEqual(await store.rules.list(tenantB, { search: 'Only', offset: 0, limit: 50 }), { rules: [], total: 0 });
      assert.equal(await store.rules.nameTaken(tenantB, 'Only A'), false);
      const still = await store.rules.get(tenantA, a.id);
      assert.equal(still?.name, 'Only A');
      assert.equal(still?.rows.length, 3);
    });

    it('reject a duplicate name within a tenant, ignoring case, and allow it in another', async () => {
      const tenantA = newTenant();
      const tenantB = newTenant();
      const first = await store.rules.create(tenantA, integrationDraft('Sales'));
      await assert.rejects(
        store.rules.create(tenantA, integrationDraft('SALES')),
        (e: unknown) => e instanceof DuplicateRuleNameError && e.code === 'DUPLICATE_RULE_NAME' && e.ruleName === 'SALES',
      );
      assert.equal(await store.rules.nameTaken(tenantA, 'sales'), true);
      assert.equal(await store.rules.nameTaken(tenantA, 'Sales', first.id), false);
      await store.rules.create(tenantB, integrationDraft('Sales'));
      const second = await store.rules.create(tenantA, integrationDraft('Support'));
      await assert.rejects(store.rules.update(tenantA, second.id, integrationDraft('sales')), DuplicateRuleNameError);
      assert.equal((await store.rules.update(tenantA, first.id, integrationDraft('Sales')))?.version, 2);
    });

    it('let only one of several racing creates with one name win, without deadlocks', async () => {
      for (let round = 0; round < 10; round += 1) {
        const tenant = newTenant();
        const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => store.rules.create(tenant, integrationDraft(`Racy ${i % 2}`))));
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, 2);
        for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof DuplicateRuleNameError, String(r.reason));
        assert.equal((await store.rules.list(tenant, { offset: 0, limit: 10 })).total, 2);
      }
    });
  });

  describe('update and delete', () => {
    it('replace the rows as a whole and bump the version', async () => {
      const tenant = newTenant();
      const created = await store.rules.create(tenant, integrationDraft('Rows', { rows: rows(5) }));
      const newRows: RuleRow[] = [
        { operator: 'empty', value: '', destination: { type: 'voicemail', target: '200' } },
        { operator: 'ge', value: '1000', destination: { type: 'ivr', target: 'vip' } },
      ];
      const updated = await store.rules.update(tenant, created.id, integrationDraft('Rows', { rows: newRows }));
      assert.equal(updated?.version, 2);
      assert.deepEqual((await store.rules.get(tenant, created.id))?.rows, newRows);
      assert.equal((await database.db(store.tables.ruleRows).where({ rule_id: created.id })).length, 2);
    });

    it('refuse a stale version with the versions in the error', async () => {
      const tenant = newTenant();
      const created = await store.rules.create(tenant, integrationDraft('Stale'));
      await store.rules.update(tenant, created.id, integrationDraft('Stale', { fieldName: 'First_Save' }), 1);
      await assert.rejects(
        store.rules.update(tenant, created.id, integrationDraft('Stale', { fieldName: 'Second_Save' }), 1),
        (e: unknown) => e instanceof StaleRuleError && e.code === 'STALE_RULE' && e.expectedVersion === 1 && e.actualVersion === 2,
      );
      assert.equal((await store.rules.get(tenant, created.id))?.fieldName, 'First_Save');
      assert.equal((await store.rules.update(tenant, created.id, integrationDraft('Stale'), undefined))?.version, 3);
    });

    it('delete removes the rule and its rows (no reliance on a cascade)', async () => {
      const tenant = newTenant();
      const created = await store.rules.create(tenant, integrationDraft('Doomed'));
      assert.equal(await store.rules.delete(tenant, created.id), true);
      assert.equal(await store.rules.get(tenant, created.id), undefined);
      assert.equal((await database.db(store.tables.ruleRows).where({ rule_id: created.id })).length, 0);
      assert.equal(await store.rules.delete(tenant, created.id), false);
    });
  });

  describe('warnings and uses', () => {
    it('keeps the warnings a rule was saved with, replaces them on update, and counts them in the list', async () => {
      const tenant = newTenant();
      const warned = { 'rows.0.value': '"<" compares numbers; with "GOLD" this row never matches.' };
      const created = await store.rules.create(tenant, integrationDraft('Warned'), warned);
      await store.rules.create(tenant, integrationDraft('Clean'));
      assert.deepEqual(await store.rules.warnings(tenant, created.id), warned);
      assert.deepEqual((await store.rules.list(tenant, { offset: 0, limit: 10 })).rules.map((r) => [r.name, r.warningCount]), [['Clean', 0], ['Warned', 1]]);
      assert.deepEqual(await store.rules.warnings(newTenant(), created.id), {}, "another tenant's rule has none to show");
      await store.rules.update(tenant, created.id, integrationDraft('Warned'), created.version);
      assert.deepEqual(await store.rules.warnings(tenant, created.id), {}, 'a save without warnings clears them');
    });

    it('lists the rules that use an integration, in name order, for that tenant only', async () => {
      const tenant = newTenant();
      await store.rules.create(tenant, integrationDraft('Zoho b'));
      await store.rules.create(tenant, integrationDraft('Zoho a'));
      await store.rules.create(tenant, integrationDraft('Pipedrive', { source: { kind: 'integration', crm: 'pipedrive', module: 'Persons', username: '', password: 'tok' } }));
      await store.rules.create(tenant, customDraft('Custom', []));
      await store.rules.create(newTenant(), integrationDraft('Zoho elsewhere'));
      assert.deepEqual((await store.rules.usingIntegration(tenant, 'zoho')).map((r) => r.name), ['Zoho a', 'Zoho b']);
      assert.deepEqual((await store.rules.usingIntegration(tenant, 'hubspot')), []);
    });
  });

  describe('list', () => {
    it('pages in name order (ignoring case) with the total and row counts', async () => {
      const tenant = newTenant();
      const names = Array.from({ length: 25 }, (_, i) => `${i % 2 === 0 ? 'rule' : 'Rule'} ${String(i).padStart(2, '0')}`);
      for (const [i, name] of names.entries()) await store.rules.create(tenant, integrationDraft(name, { rows: rows(i % 4) }));
      const page = await store.rules.list(tenant, { offset: 20, limit: 10 });
      assert.equal(page.total, 25);
      assert.deepEqual(page.rules.map((r) => r.name), names.slice(20));
      assert.deepEqual(page.rules.map((r) => r.rowCount), [0, 1, 2, 3, 0]);
      const first = await store.rules.list(tenant, { offset: 0, limit: 3 });
      assert.deepEqual(first.rules.map((r) => r.name), ['rule 00', 'Rule 01', 'rule 02']);
      assert.deepEqual(Object.keys(first.rules[0]!).sort(), ['fieldName', 'id', 'location', 'name', 'rowCount', 'warningCount']);
    });

    it('searches name or field name, ignoring case, with % and _ taken literally', async () => {
      const tenant = newTenant();
      for (const [name, fieldName] of [
        ['100% sure', 'Account_Name'],
        ['100 percent', 'AccountXName'],
        ['a_b', 'Tier'],
        ['axb', 'Tier'],
        ['Plain', 'Owner!Email'],
      ] as const) {
        await store.rules.create(tenant, integrationDraft(name, { fieldName }));
      }
      const names = async (search: string) => (await store.rules.list(tenant, { search, offset: 0, limit: 50 })).rules.map((r) => r.name);
      assert.deepEqual(await names('%'), ['100% sure']);
      assert.deepEqual(await names('a_b'), ['a_b']);
      assert.deepEqual(await names('_'), ['100% sure', 'a_b'], 'matches the underscore in Account_Name too');
      assert.deepEqual(await names('SURE'), ['100% sure']);
      assert.deepEqual(await names('accountx'), ['100 percent']);
      assert.deepEqual(await names('!'), ['Plain']);
      assert.deepEqual(await names('  tier '), ['a_b', 'axb']);
      assert.equal((await store.rules.list(tenant, { search: 'tier', offset: 1, limit: 1 })).total, 2);
    });

    it('stays one quick page with 10,000 rules', async function () {
      this.timeout(120_000);
      const tenant = newTenant();
      const now = new Date();
      const bulk = Array.from({ length: 10_000 }, (_, i) => ({
        tenant_id: tenant, name: `Bulk rule ${String(i).padStart(5, '0')}`, field_name: i % 10 === 0 ? 'Tier_Level' : 'Account_Name',
        location: 'did', source: 'custom', custom_url: 'https://crm.example', custom_post: false, deadline_seconds: 3,
        default_dest_type: 'hangup', default_dest_target: '', default_voicemail: 'unset', version: 1, created_at: now, updated_at: now,
      }));
      for (let i = 0; i < bulk.length; i += 500) await database.db(store.tables.rules).insert(bulk.slice(i, i + 500));

      const started = performance.now();
      const last = await store.rules.list(tenant, { offset: 9_950, limit: 50 });
      const searched = await store.rules.list(tenant, { search: 'tier_', offset: 950, limit: 50 });
      const elapsed = performance.now() - started;
      assert.equal(last.total, 10_000);
      assert.equal(last.rules.at(-1)?.name, 'Bulk rule 09999');
      assert.equal(searched.total, 1_000);
      assert.equal(searched.rules.length, 50);
      assert.ok(elapsed < 1_000, `two list pages took ${elapsed.toFixed(0)} ms`);
      const pageQuery = database.db(store.tables.rules).select('id', 'name', 'field_name', 'location')
        .where('tenant_id', tenant).orderBy('name').offset(9_950).limit(50).toString();
      if (database.dialect === 'mariadb') {
        const [plan] = (await database.db.raw(`EXPLAIN ${pageQuery}`)) as [Array<{ key: string | null; Extra: string }>];
        assert.equal(plan[0]?.key, 'rs_rules_list');
        assert.match(plan[0]?.Extra ?? '', /Using index/);
        assert.doesNotMatch(plan[0]?.Extra ?? '', /filesort/);
      } else {
        const plan = (await database.db.raw(`EXPLAIN QUERY PLAN ${pageQuery}`)) as Array<{ detail: string }>;
        assert.deepEqual(plan.map((step) => step.detail), ['SEARCH rs_rules USING COVERING INDEX rs_rules_list (tenant_id=?)']);
      }
    });
  });

  describe('cache version', () => {
    it('bumps on every write, not on a refused one', async () => {
      const tenant = newTenant();
      const before = await store.rules.cacheVersion();
      const created = await store.rules.create(tenant, integrationDraft('Versioned'));
      assert.equal(await store.rules.cacheVersion(), before + 1);
      await store.rules.update(tenant, created.id, integrationDraft('Versioned', { deadlineSeconds: 5 }));
      assert.equal(await store.rules.cacheVersion(), before + 2);
      await assert.rejects(store.rules.create(tenant, integrationDraft('Versioned')), DuplicateRuleNameError);
      assert.equal(await store.rules.delete(newTenant(), created.id), false);
      assert.equal(await store.rules.cacheVersion(), before + 2);
      await store.rules.delete(tenant, created.id);
      assert.equal(await store.rules.cacheVersion(), before + 3);
      assert.equal(await store.rules.cacheVersion('integrations'), await store.integrations.cacheVersion());
    });

    it('loadAll returns every tenant\'s rules with rows and secrets', async () => {
      const tenantA = newTenant();
      const tenantB = newTenant();
      const a = await store.rules.create(tenantA, integrationDraft('Loaded A', { rows: rows(4) }));
      const b = await store.rules.create(tenantB, customDraft('Loaded B', [{ name: 'X-Key', secret: true, value: 'kb' }]));
      const all = await store.rules.loadAll();
      assert.deepEqual(all.find((r) => r.id === a.id), a);
      assert.deepEqual(all.find((r) => r.id === b.id), b);
      const snapshot = await store.rules.loadSnapshot();
      assert.equal(snapshot.version, await store.rules.cacheVersion());
      assert.equal(snapshot.rules.length, all.length);
    });
  });
});
