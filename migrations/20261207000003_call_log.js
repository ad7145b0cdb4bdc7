// The call log: what each integration does with a finished call, and the outbox of CRM writes.
// Plain CommonJS, shipped as it is; run through src/store/migrations.ts with the host's table
// prefix (names must match src/store/tables.ts). Same portability rules as
// 20261125000001_create_tables.js: indexed text at most 191 characters, prefixed index names (at
// most 26 characters after the prefix), tenant_id and keys compared exactly.
//
// - call_log_options: one row per tenant and integration ("custom" or a CRM kind): the log
//   options as JSON, and the Custom CRM call log's headers sealed (they may hold a token).
// - call_outbox: one row per finished call and integration, keyed by (tenant, Linkedid,
//   integration), so a call enqueued twice (an AMI reconnect, two plugin processes) is one row.
//   A process claims a due row by setting lease_owner / lease_until in one UPDATE that only
//   succeeds while no live lease holds it; a process killed mid-write leaves a lease that expires,
//   and `uncertain` tells the next one that a write may have reached the CRM.
'use strict';

const { dialectOf, requirePrefix, tableOptions, tenantColumn } = require('./lib/portable');

function exactColumn(table, name, length, dialect) {
  const column = table.string(name, length).notNullable();
  if (dialect === 'mysql') column.collate('utf8mb4_bin');
  return column;
}

exports.up = async function up(knex, rawPrefix) {
  const p = requirePrefix(rawPrefix);
  const dialect = dialectOf(knex);
  const options = tableOptions(dialect);

  await knex.schema.createTable(`${p}call_log_options`, (t) => {
    options(t);
    tenantColumn(t, dialect);
    exactColumn(t, 'integration', 32, dialect);
    t.text('options').notNullable();
    t.text('secrets').nullable();
    t.datetime('updated_at', { precision: 3 }).notNullable();
    t.primary(['tenant_id', 'integration'], `${p}call_log_options_pk`);
  });

  await knex.schema.createTable(`${p}call_outbox`, (t) => {
    options(t);
    t.increments('id').primary();
    tenantColumn(t, dialect);
    exactColumn(t, 'linkedid', 64, dialect);
    exactColumn(t, 'integration', 32, dialect);
    // pending | sent | skipped | failed
    t.string('status', 16).notNullable();
    // The call as the page shows it (direction, disposition, numbers, agent, times), JSON.
    t.text('call').notNullable();
    // The CallActivity to write (JSON); null for a call an option skipped.
    t.text('activity').nullable();
    t.string('skip_reason', 255).nullable();
    t.integer('attempts').notNullable().defaultTo(0);
    t.datetime('next_attempt_at', { precision: 3 }).notNullable();
    t.datetime('give_up_at', { precision: 3 }).notNullable();
    t.string('lease_owner', 64).nullable();
    t.datetime('lease_until', { precision: 3 }).nullable();
    t.boolean('uncertain').notNullable().defaultTo(false);
    t.string('error_code', 32).nullable();
    t.string('error_message', 500).nullable();
    t.string('activity_id', 191).nullable();
    t.string('record_url', 2000).nullable();
    t.datetime('ended_at', { precision: 3 }).notNullable();
    t.datetime('queued_at', { precision: 3 }).notNullable();
    t.datetime('done_at', { precision: 3 }).nullable();
    t.unique(['tenant_id', 'linkedid', 'integration'], { indexName: `${p}call_outbox_key` });
    t.index(['status', 'next_attempt_at'], `${p}call_outbox_due`);
    t.index(['tenant_id', 'id'], `${p}call_outbox_tenant`);
  });

  // The call log finds a call's routing decisions by the AGI channel's uniqueid.
  await knex.schema.alterTable(`${p}decisions`, (t) => {
    t.index(['tenant_id', 'call_id'], `${p}decisions_call`);
  });
};

exports.down = async function down(knex, rawPrefix) {
  const p = requirePrefix(rawPrefix);
  await knex.schema.alterTable(`${p}decisions`, (t) => {
    t.dropIndex(['tenant_id', 'call_id'], `${p}decisions_call`);
  });
  for (const name of ['call_outbox', 'call_log_options']) {
    await knex.schema.dropTableIfExists(`${p}${name}`);
  }
};
