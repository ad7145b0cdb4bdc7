// Sign-in state shared by every process of the host on one database. Plain CommonJS, shipped as it
// is; run through src/store/migrations.ts with the host's table prefix (names must match
// src/store/tables.ts). Same portability rules as 20261125000001_create_tables.js: indexed text at
// most 191 characters, prefixed index names, tenant_id compared exactly.
//
// - connect_states: one row per "Connect" started on CRM > Integration, until its callback uses it
//   (single use, ~10 minutes). Only a SHA-256 of the state and of the browser binding is stored;
//   the PKCE verifier is sealed.
// - token_states: the current sign-in (access token, refresh token, expiry) of a CRM whose refresh
//   tokens work once or rotate, sealed, one row per tenant and session key (a SHA-256). A refresh
//   runs holding the row's lock (SELECT ... FOR UPDATE on MySQL/MariaDB; SQLite serialises
//   writers), so every process uses each refresh token once.
'use strict';

const { dialectOf, requirePrefix, tableOptions, tenantColumn } = require('./lib/portable');

const SHA256_HEX_LENGTH = 64;

/** Hex digests compare exactly (binary collation on MySQL, SQLite's default BINARY). */
function digestColumn(table, name, dialect) {
  const column = table.string(name, SHA256_HEX_LENGTH).notNullable();
  if (dialect === 'mysql') column.collate('utf8mb4_bin');
  return column;
}

exports.up = async function up(knex, rawPrefix) {
  const p = requirePrefix(rawPrefix);
  const dialect = dialectOf(knex);
  const options = tableOptions(dialect);

  await knex.schema.createTable(`${p}connect_states`, (t) => {
    options(t);
    digestColumn(t, 'state_hash', dialect).primary(`${p}connect_states_pk`);
    tenantColumn(t, dialect);
    t.string('user_id', 191).notNullable();
    t.string('crm', 32).notNullable();
    digestColumn(t, 'binding_hash', dialect);
    t.text('verifier').nullable();
    t.text('redirect_uri').notNullable();
    t.datetime('created_at', { precision: 3 }).notNullable();
    t.datetime('expires_at', { precision: 3 }).notNullable();
    t.datetime('used_at', { precision: 3 }).nullable();
    t.index(['expires_at'], `${p}connect_states_expires`);
  });

  await knex.schema.createTable(`${p}token_states`, (t) => {
    options(t);
    tenantColumn(t, dialect);
    digestColumn(t, 'key_hash', dialect);
    t.text('token').nullable();
    t.datetime('updated_at', { precision: 3 }).notNullable();
    t.primary(['tenant_id', 'key_hash'], `${p}token_states_pk`);
    t.index(['updated_at'], `${p}token_states_updated`);
  });
};

exports.down = async function down(knex, rawPrefix) {
  const p = requirePrefix(rawPrefix);
  for (const name of ['token_states', 'connect_states']) {
    await knex.schema.dropTableIfExists(`${p}${name}`);
  }
};
