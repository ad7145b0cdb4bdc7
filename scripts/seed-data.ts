/**
 * `npm run seed -- [--rules 10000] [--decisions 0] [--tenant default] [--reset]`
 *
 * Fills the reference host's database (DATABASE_URL, else the SQLite file in DATA_DIR, as
 * `npm start` uses) with realistic routing rules for one tenant, and with --decisions a decision
 * log of that many calls over the last 7 days (the Routing list's counts, a rule's Outcomes page). Seeded rules have fixed names,
 * so running it again only adds the ones missing; --reset removes the tenant's rules first.
 * A running host picks the rules up within a few seconds (cache-version poll).
 */
import { parseArgs } from 'node:util';
import { describeHostDatabase, hostDataEnv, hostSecretKey, openHostDatabase, readEnv } from './host/host-data';
import { seedDecisions } from './lib/decision-seeder';
import { seedRules } from './lib/rule-seeder';
import { DISTINCT_SEED_NAMES } from './lib/seed-rules';

const USAGE = `Usage: npm run seed -- [--rules N] [--decisions N] [--tenant ID] [--reset]

  --rules N      seeded rules the tenant should have (default 10000)
  --decisions N  calls to add to the tenant's decision log over the last 7 days (default 0);
                 with --reset the tenant's decision log is emptied first
  --tenant ID    tenant to fill (default "default": the admin's tenant of npm start)
  --reset        remove ALL of the tenant's rules first (seeded or not), then seed
  Environment: DATABASE_URL or DATA_DIR, and SECRET_KEY, exactly as for npm start.`;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({ options: { rules: { type: 'string' }, decisions: { type: 'string' }, tenant: { type: 'string' }, reset: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) return void console.log(USAGE);
  const count = values.rules === undefined ? 10_000 : Number(values.rules);
  if (!Number.isSafeInteger(count) || count < 0 || count > 1_000_000) fail(`--rules must be a whole number from 0 to 1000000 (got "${values.rules}").`);
  const decisions = values.decisions === undefined ? 0 : Number(values.decisions);
  if (!Number.isSafeInteger(decisions) || decisions < 0 || decisions > 50_000_000) fail(`--decisions must be a whole number from 0 to 50000000 (got "${values.decisions}").`);
  const tenantId = values.tenant ?? 'default';
  if (tenantId.trim() === '' || tenantId.length > 191) fail('--tenant must be 1 to 191 characters.');

  const config = readEnv(hostDataEnv);
  const db = openHostDatabase(config);
  try {
    console.log(`Database: ${describeHostDatabase(config)}; tenant "${tenantId}"; ${count} seeded rules wanted${values.reset ? ' (after removing the tenant\'s rules)' : ''}.`);
    const report = await seedRules(db, {
      tenantId, count, reset: values.reset ?? false, secretKey: hostSecretKey(config),
      onBatch: process.stdout.isTTY ? (done, total) => process.stdout.write(`\r  inserted ${done} of ${total}`) : undefined,
    });
    if (report.created > 0 && process.stdout.isTTY) process.stdout.write('\n');
    if (values.reset) console.log(`Removed ${report.removed} rules of tenant "${tenantId}".`);
    console.log(`Created ${report.created} rules (${report.rowsCreated} rows) in batched inserts; ${report.kept} seeded rules were already there and were left as they are.`);
    console.log(`Tenant "${tenantId}" now has ${report.tenantRules} rules. Took ${(report.ms / 1000).toFixed(1)} s.`);
    if (count > DISTINCT_SEED_NAMES) console.log(`Past ${DISTINCT_SEED_NAMES} rules the names repeat with a number ("... (EMEA) 2").`);
    if (decisions > 0 || values.reset) {
      const logged = await seedDecisions(db, {
        tenantId, count: decisions, reset: values.reset ?? false, secretKey: hostSecretKey(config),
        onBatch: process.stdout.isTTY ? (done, total) => process.stdout.write(`\r  decisions: ${done} of ${total}`) : undefined,
      });
      if (logged.created > 0 && process.stdout.isTTY) process.stdout.write('\n');
      if (values.reset) console.log(`Removed ${logged.removed} decisions of tenant "${tenantId}".`);
      console.log(`Created ${logged.created} decisions over the last 7 days for ${logged.rules} rules in ${(logged.ms / 1000).toFixed(1)} s${logged.hottestRuleId === undefined ? '' : `; the busiest rule, ${logged.hottestRuleId}, has ${logged.hottestRuleDecisions}`}.`);
    }
    if (tenantId === 'default') console.log('See them at CRM > Routing (npm start, signed in as the admin).');
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(`Seeding failed: ${(err as Error)?.stack ?? String(err)}`);
  process.exit(1);
});
