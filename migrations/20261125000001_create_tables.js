// The plugin's tables. Plain CommonJS, shipped as it is; run through src/store/migrations.ts,
// which passes the host's table prefix as the second argument. Table names here must match
// src/store/tables.ts (a test checks they do).
//
// Portable across MySQL/MariaDB and SQLite:
// - indexed text columns are at most 191 characters (utf8mb4 index limits);
// - index and constraint names carry the prefix: SQLite keeps index names per database, so two
//   prefixes in one file would otherwise collide;
// - tenant_id compares exactly (utf8mb4_bin on MySQL, SQLite's default BINARY): a case-insensitive
//   collation would let tenant "a" read tenant "A"'s rows;
// - rule names are unique ignoring case on both (utf8mb4_unicode_ci / COLLATE NOCASE);
// - the rule_rows foreign key cascades on MySQL; the store deletes rows explicitly as well, since
//   SQLite only enforces foreign keys when the host's connection switches them on.
'use strict';

const { dialectOf, requirePrefix, tableOptions, tenantColumn } = require('./lib/portable');

const INDEXED_TEXT_LENGTH = 191;

function ruleNameColumn(table, dialect) {
  if (dialect === 'sqlite') {
    return table.specificType('name', `varchar(${INDEXED_TEXT_LENGTH}) collate nocase`).notNullable();
  }
  return table.string('name', INDEXED_TEXT_LENGTH).notNullable();
}

exports.up = async function up(knex, rawPrefix) {
  const p = requirePrefix(rawPrefix);
  const dialect = dialectOf(knex);
  const options = tableOptions(dialect);

  await knex.schema.createTable(`${p}integrations`, (t) => {
    options(t);
    t.increments('id').primary();
    tenantColumn(t, dialect);
    t.string('crm', 32).notNullable();
    t.boolean('enabled').notNullable().defaultTo(false);
    t.text('settings').notNullable();
    t.text('secrets').nullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.datetime('updated_at', { precision: 3 }).notNullable();
    t.unique(['tenant_id', 'crm'], { indexName: `${p}integrations_tenant_crm` });
  });

  await knex.schema.createTable(`${p}rules`, (t) => {
    options(t);
    t.increments('id').primary();
    tenantColumn(t, dialect);
    ruleNameColumn(t, dialect);
    t.string('field_name', INDEXED_TEXT_LENGTH).notNullable();
    t.string('location', 8).notNullable();
    t.string('greeting_recording', INDEXED_TEXT_LENGTH).nullable();
    t.integer('greeting_max_digits').nullable();
    t.integer('greeting_timeout_seconds').nullable();
    t.integer('greeting_retries').nullable();
    t.string('greeting_pattern', 255).nullable();
    t.string('source', 16).notNullable();
    t.string('crm', 32).nullable();
    t.string('crm_module', INDEXED_TEXT_LENGTH).nullable();
    t.string('crm_username', 255).nullable();
    t.text('crm_password').nullable();
    t.text('custom_url').nullable();
    t.boolean('custom_post').notNullable().defaultTo(false);
    t.text('custom_headers').nullable();
    t.integer('deadline_seconds').notNullable();
    t.string('default_dest_type', 16).notNullable();
    t.string('default_dest_target', INDEXED_TEXT_LENGTH).notNullable();
    t.string('default_voicemail', 8).notNullable();
    t.integer('version').notNullable().defaultTo(1);
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.datetime('updated_at', { precision: 3 }).notNullable();
    t.unique(['tenant_id', 'name'], { indexName: `${p}rules_tenant_name` });
    // Covers the list page (name order, paging, count, LIKE on name or field name) so a page of
    // 10,000 rules never reads the wide rows: 191+191+191+8 characters stay under 3072 bytes.
    t.index(['tenant_id', 'name', 'field_name', 'location'], `${p}rules_list`);
    t.index(['tenant_id', 'field_name'], `${p}rules_tenant_field`);
  });

  await knex.schema.createTable(`${p}rule_rows`, (t) => {
    options(t);
    t.increments('id').primary();
    tenantColumn(t, dialect);
    t.integer('rule_id').unsigned().notNullable();
    t.integer('position').notNullable();
    t.string('operator', 16).notNullable();
    t.text('value').notNullable();
    t.string('dest_type', 16).notNullable();
    t.string('dest_target', INDEXED_TEXT_LENGTH).notNullable();
    t.foreign('rule_id', `${p}rule_rows_rule_fk`).references('id').inTable(`${p}rules`).onDelete('CASCADE');
    t.index(['rule_id', 'position'], `${p}rule_rows_rule_position`);
    t.index(['tenant_id', 'rule_id'], `${p}rule_rows_tenant_rule`);
  });

  // A log: no foreign key, so a deleted rule keeps its history until retention removes it.
  await knex.schema.createTable(`${p}decisions`, (t) => {
    options(t);
    t.bigIncrements('id').primary();
    tenantColumn(t, dialect);
    t.integer('rule_id').unsigned().notNullable();
    t.string('call_id', 64).notNullable();
    t.string('caller', 64).nullable();
    t.string('did', 64).nullable();
    t.string('dtmf', 32).nullable();
    t.string('value', 255).nullable();
    t.string('error_code', 32).nullable();
    t.string('error_message', 500).nullable();
    t.string('outcome', 32).notNullable();
    t.integer('row_index').nullable();
    t.string('dest_type', 16).nullable();
    t.string('dest_target', INDEXED_TEXT_LENGTH).nullable();
    t.string('method', 8).notNullable();
    t.integer('lookup_ms').nullable();
    t.integer('total_ms').notNullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.index(['tenant_id', 'rule_id', 'id'], `${p}decisions_tenant_rule_id`);
    t.index(['created_at'], `${p}decisions_created_at`);
  });

  await knex.schema.createTable(`${p}cache_versions`, (t) => {
    options(t);
    t.string('scope', 64).primary(`${p}cache_versions_pk`);
    t.bigInteger('version').notNullable().defaultTo(0);
  });
  await knex(`${p}cache_versions`).insert([
    { scope: 'rules', version: 0 },
    { scope: 'integrations', version: 0 },
  ]);
};

exports.down = async function down(knex, rawPrefix) {
  const p = requirePrefix(rawPrefix);
  for (const name of ['cache_versions', 'decisions', 'rule_rows', 'rules', 'integrations']) {
    await knex.schema.dropTableIfExists(`${p}${name}`);
  }
};
