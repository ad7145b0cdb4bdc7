// "When the lookup fails" and the Routing list's per-rule counts. Run through
// src/store/migrations.ts with the table prefix; same portability rules as
// 20261125000001_create_tables.js (indexed text at most 191 characters, prefixed index names).
//
// - rules: an optional destination per failure outcome (caller not found, CRM error or deadline
//   passed, no or invalid digits); both columns null send that outcome to the default destination,
//   so every existing rule keeps its behaviour.
// - decisions.branch: which way the call went (row, default, not_found, crm_error,
//   invalid_digits); null on decisions written before this migration and on calls not moved.
// - decisions_rule_time: (tenant, rule, time) with the outcome and branch, so the list's 24-hour
//   counts for a page of rules and a rule's 7-day hourly counts read the index alone, never the
//   wide rows (191*4 + 4 + 8 + 32*4 + 16*4 bytes: under InnoDB's 3072).
'use strict';

const { requirePrefix } = require('./lib/portable');

const BRANCH_COLUMNS = ['not_found', 'crm_error', 'invalid_digits'];

exports.up = async function up(knex, rawPrefix) {
  const p = requirePrefix(rawPrefix);
  await knex.schema.alterTable(`${p}rules`, (t) => {
    for (const branch of BRANCH_COLUMNS) {
      t.string(`${branch}_dest_type`, 16).nullable();
      t.string(`${branch}_dest_target`, 191).nullable();
    }
  });
  await knex.schema.alterTable(`${p}decisions`, (t) => {
    t.string('branch', 16).nullable();
  });
  await knex.schema.alterTable(`${p}decisions`, (t) => {
    t.index(['tenant_id', 'rule_id', 'created_at', 'outcome', 'branch'], `${p}decisions_rule_time`);
  });
};

exports.down = async function down(knex, rawPrefix) {
  const p = requirePrefix(rawPrefix);
  // The tables may already be gone when every migration is rolled back at once.
  if (await knex.schema.hasTable(`${p}decisions`)) {
    await knex.schema.alterTable(`${p}decisions`, (t) => {
      t.dropIndex(['tenant_id', 'rule_id', 'created_at', 'outcome', 'branch'], `${p}decisions_rule_time`);
    });
    await knex.schema.alterTable(`${p}decisions`, (t) => {
      t.dropColumn('branch');
    });
  }
  if (await knex.schema.hasTable(`${p}rules`)) {
    await knex.schema.alterTable(`${p}rules`, (t) => {
      for (const branch of BRANCH_COLUMNS) {
        t.dropColumn(`${branch}_dest_type`);
        t.dropColumn(`${branch}_dest_target`);
      }
    });
  }
};
