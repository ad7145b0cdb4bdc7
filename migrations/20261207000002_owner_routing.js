// "Owner's extension" rows (issue 12, part 2). A row keeps its choice in the existing columns
// (dest_type 'owner', dest_target the owner key: email, extension or user_id); the decision log
// gains who the CRM value named (the owner's e-mail or extension, as looked for) and, when the
// call took the default destination with OWNER_UNKNOWN, why. Run through src/store/migrations.ts
// with the table prefix.
'use strict';

const { requirePrefix } = require('./lib/portable');

exports.up = async function up(knex, rawPrefix) {
  const p = requirePrefix(rawPrefix);
  await knex.schema.alterTable(`${p}decisions`, (t) => {
    t.string('owner', 255).nullable();
    t.string('owner_note', 500).nullable();
  });
};

exports.down = async function down(knex, rawPrefix) {
  const p = requirePrefix(rawPrefix);
  // The table may already be gone when every migration is rolled back at once.
  if (await knex.schema.hasTable(`${p}decisions`)) {
    await knex.schema.alterTable(`${p}decisions`, (t) => {
      t.dropColumn('owner_note');
      t.dropColumn('owner');
    });
  }
};
