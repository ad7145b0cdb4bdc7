// What every migration of the plugin builds its tables with, so that all of them stay portable
// across MySQL/MariaDB and SQLite the same way (see 20261125000001_create_tables.js for why):
// the prefix checked, the dialect named, InnoDB/utf8mb4 on MySQL, and tenant_id compared exactly.
// Not a migration itself: src/store/migrations.ts runs only files named like 20261125000001_x.js.
'use strict';

const TENANT_ID_LENGTH = 191;

function requirePrefix(prefix) {
  if (typeof prefix !== 'string' || prefix === '') {
    throw new Error('CRM Routing migrations need the table prefix: run them through src/store/migrations.ts.');
  }
  return prefix;
}

function dialectOf(knex) {
  return knex.client.dialect === 'mysql' ? 'mysql' : knex.client.dialect === 'sqlite3' ? 'sqlite' : 'other';
}

function mysqlTableOptions(table) {
  table.engine('InnoDB');
  table.charset('utf8mb4');
  table.collate('utf8mb4_unicode_ci');
}

/** The table options of a dialect: InnoDB and utf8mb4 on MySQL, nothing elsewhere. */
function tableOptions(dialect) {
  return dialect === 'mysql' ? mysqlTableOptions : () => {};
}

/** tenant_id compares exactly: utf8mb4_bin on MySQL, SQLite's default BINARY. */
function tenantColumn(table, dialect) {
  const column = table.string('tenant_id', TENANT_ID_LENGTH).notNullable();
  if (dialect === 'mysql') column.collate('utf8mb4_bin');
  return column;
}

module.exports = { requirePrefix, dialectOf, tableOptions, tenantColumn };
