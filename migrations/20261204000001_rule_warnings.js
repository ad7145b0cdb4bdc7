// The warnings a rule was saved with (e.g. "<" compared with text, which never matches), so the
// Routing list and the rule's edit page show them after the save: a JSON object of field -> text,
// null when there were none. Run through src/store/migrations.ts with the table prefix.
'use strict';

const { requirePrefix } = require('./lib/portable');

exports.up = async function up(knex, rawPrefix) {
  const p = requirePrefix(rawPrefix);
  await knex.schema.alterTable(`${p}rules`, (t) => {
    t.text('warnings').nullable();
  });
};

exports.down = async function down(knex, rawPrefix) {
  const p = requirePrefix(rawPrefix);
  // The table may already be gone when every migration is rolled back at once.
  if (await knex.schema.hasTable(`${p}rules`)) {
    await knex.schema.alterTable(`${p}rules`, (t) => {
      t.dropColumn('warnings');
    });
  }
};
