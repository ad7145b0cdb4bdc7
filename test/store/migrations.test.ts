import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Knex } from 'knex';
import { appliedMigrations, migrateToLatest, migrationsDirectory, prefixedMigrationSource, rollbackAll } from '../../src/store/migrations';
import { PluginStore } from '../../src/store/plugin-store';
import { pluginTables, type PluginTables } from '../../src/store/tables';
import { describeEachDatabase } from '../support/databases';

const SECRET_KEY = 'migrations-test-secret-key-0123456789abcdef';

async function tableNames(db: Knex): Promise<string[]> {
  if (db.client.dialect === 'mysql') {
    const [rows] = (await db.raw('SHOW TABLES')) as [Array<Record<string, string>>];
    return rows.map((row) => Object.values(row)[0]!).sort();
  }
  const rows = (await db.raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")) as Array<{ name: string }>;
  return rows.map((row) => row.name).sort();
}

function pluginTableNames(tables: PluginTables): string[] {
  const { prefix: _prefix, ...names } = tables;
  return [...Object.values(names), `${tables.migrations}_lock`].sort();
}

/** Every migration file the package ships, in the order they run. */
function shippedMigrations(): string[] {
  return readdirSync(migrationsDirectory()).filter((name) => /^\d{14}_[a-z0-9_]+\.js$/.test(name)).sort();
}

describe('migrationsDirectory', () => {
  it('finds migrations/ beside plugin.json from src/ and from a built dist/src/', () => {
    const root = join(__dirname, '..', '..');
    assert.equal(migrationsDirectory(join(root, 'src', 'store')), join(root, 'migrations'));
    assert.equal(migrationsDirectory(join(root, 'dist', 'src', 'store')), join(root, 'migrations'));
  });
});

describe('pluginTables', () => {
  it('rejects prefixes that would make unsafe or too long identifiers', () => {
    for (const bad of ['', 'Crm_', '1crm_', 'crm-routing_', 'crm`; drop', 'a'.repeat(33)]) {
      assert.throws(() => pluginTables(bad), /Table prefix/);
    }
    assert.equal(pluginTables().rules, 'crm_routing_rules');
  });
});

describeEachDatabase('Migrations', (database) => {
  it('create every table under the prefix, in the plugin\'s own migrations table', async () => {
    const tables = pluginTables('mig_a_');
    await migrateToLatest(database.db, tables);
    const names = await tableNames(database.db);
    assert.deepEqual(names.filter((n) => n.startsWith('mig_a_')), pluginTableNames(tables));
    assert.deepEqual(names.filter((n) => !n.startsWith('mig_')), [], 'nothing outside the prefixes');
    assert.deepEqual(await appliedMigrations(database.db, tables), shippedMigrations());
    assert.deepEqual(shippedMigrations().slice(0, 3), ['20261125000001_create_tables.js', '20261204000001_rule_warnings.js', '20261204000002_sign_in_state.js']);
    const versions = await database.db(tables.cacheVersions).orderBy('scope');
    assert.deepEqual(versions.map((v: { scope: string; version: unknown }) => [v.scope, Number(v.version)]), [['integrations', 0], ['rules', 0]]);
    await rollbackAll(database.db, tables);
  });

  it('is a no-op when run again', async () => {
    const tables = pluginTables('mig_b_');
    await migrateToLatest(database.db, tables);
    await database.db(tables.cacheVersions).where({ scope: 'rules' }).update({ version: 7 });
    await migrateToLatest(database.db, tables);
    assert.equal(Number((await database.db(tables.cacheVersions).where({ scope: 'rules' }).first()).version), 7);
    assert.deepEqual(await appliedMigrations(database.db, tables), shippedMigrations());
    await rollbackAll(database.db, tables);
  });

  it('rolls back to nothing but knex\'s bookkeeping', async () => {
    const tables = pluginTables('mig_c_');
    await migrateToLatest(database.db, tables);
    await rollbackAll(database.db, tables);
    const left = (await tableNames(database.db)).filter((n) => n.startsWith('mig_c_'));
    assert.deepEqual(left, [tables.migrations, `${tables.migrations}_lock`].sort());
    assert.deepEqual(await appliedMigrations(database.db, tables), []);
  });

  it('lets two prefixes live side by side in one database (index names do not collide)', async () => {
    const first = pluginTables('mig_d_');
    const second = pluginTables('mig_e_');
    await migrateToLatest(database.db, first);
    await migrateToLatest(database.db, second);
    await database.db(first.rules).insert(minimalRule('t', 'Same name'));
    await database.db(second.rules).insert(minimalRule('t', 'Same name'));
    await rollbackAll(database.db, first);
    await rollbackAll(database.db, second);
  });

  it('compare rule names ignoring case but tenant ids exactly', async () => {
    const tables = pluginTables('mig_f_');
    await migrateToLatest(database.db, tables);
    await database.db(tables.rules).insert(minimalRule('tenant', 'Sales'));
    await assert.rejects(database.db(tables.rules).insert(minimalRule('tenant', 'SALES')));
    await database.db(tables.rules).insert(minimalRule('TENANT', 'Sales'));
    assert.equal((await database.db(tables.rules).where({ tenant_id: 'tenant' })).length, 1);
    await rollbackAll(database.db, tables);
  });

  it('run from PluginStore.create with the prefix, and again on the next start', async () => {
    const store = await PluginStore.create(database.db, { tablePrefix: 'mig_g_', secretKey: SECRET_KEY });
    assert.equal(store.tables.rules, 'mig_g_rules');
    const again = await PluginStore.create(database.db, { tablePrefix: 'mig_g_', secretKey: SECRET_KEY });
    assert.equal(await again.rules.cacheVersion(), 0);
    await rollbackAll(database.db, store.tables);
  });

  it('20261207000001_outcome_branches leaves rules and decisions saved before it on the default destination', async () => {
    const tables = pluginTables('mig_i_');
    const config = { tableName: tables.migrations, migrationSource: prefixedMigrationSource(tables.prefix) };
    for (const name of shippedMigrations().filter((n) => n < '20261207000001_outcome_branches.js')) await database.db.migrate.up({ ...config, name });
    await database.db(tables.rules).insert(minimalRule('t', 'Older rule'));
    const ruleId = Number((await database.db(tables.rules).where({ name: 'Older rule' }).first()).id);
    await database.db(tables.decisions).insert({
      tenant_id: 't', rule_id: ruleId, call_id: '1.1', outcome: 'CRM_ERROR', method: 'ami', total_ms: 5, created_at: new Date(), dest_type: 'hangup', dest_target: '',
    });
    const store = await PluginStore.create(database.db, { tablePrefix: 'mig_i_', secretKey: SECRET_KEY });
    assert.ok((await appliedMigrations(database.db, tables)).includes('20261207000001_outcome_branches.js'));
    assert.deepEqual((await store.rules.get('t', ruleId))?.branches, { notFound: null, crmError: null, invalidDigits: null });
    const [older] = await store.decisions.recent('t', ruleId, 1);
    assert.deepEqual({ outcome: older?.outcome, branch: older?.branch }, { outcome: 'CRM_ERROR', branch: null });
    assert.deepEqual(await store.decisionCounts.last24Hours('t', [ruleId]), new Map([[ruleId, { calls: 1, matched: 0, defaultOnError: 1 }]]), 'an older error counts as sent to the default');
    await rollbackAll(database.db, tables);
  });

  it('are not run when the key or prefix is unusable', async () => {
    await assert.rejects(PluginStore.create(database.db, { tablePrefix: 'mig_h_', secretKey: 'short' }), /at least 32/);
    await assert.rejects(PluginStore.create(database.db, { tablePrefix: 'Bad-', secretKey: SECRET_KEY }), /Table prefix/);
    assert.deepEqual((await tableNames(database.db)).filter((n) => n.startsWith('mig_h_')), []);
  });
});

function minimalRule(tenantId: string, name: string): Record<string, unknown> {
  const now = new Date();
  return {
    tenant_id: tenantId, name, field_name: 'Account_Name', location: 'did', source: 'custom', custom_url: 'https://crm.example',
    deadline_seconds: 3, default_dest_type: 'hangup', default_dest_target: '', default_voicemail: 'unset', created_at: now, updated_at: now,
  };
}
