/**
 * `npm run bench:list -- [--rules 10000] [--decisions 1000000] [--iterations 300] [--warmup 50] [--search Gold]`
 *
 * Times the CRM > Routing list page with 10,000 rules, each with its counts over a decision log
 * of 1,000,000 calls (7 days; 1 rule in 100 takes a fifth of the calls), and a rule's Outcomes
 * page (7 days by hour) of the busiest rule and of an ordinary one, through the reference host's
 * whole HTTP stack (session cookie, login check, license gate, CSRF token, the store's queries,
 * EJS and the host's layout), signed in, one request at a time over one keep-alive connection:
 * the first page, a middle page, a search, the page holding the busiest rule and the Outcomes
 * pages. The host's own trivial page (/license: login check, one small view, the same layout) is
 * timed in the same run, interleaved with the others, so each figure is also a ratio to it.
 * Target: under 100 ms a page at p95.
 *
 * Database: a fresh SQLite file in a temporary folder, removed afterwards; with DATABASE_URL
 * (mysql://...) that MySQL/MariaDB database, where the rules and decisions go to the tenant
 * "bench-list" (replaced on every run; no other tenant is touched).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Knex } from 'knex';
import { pluginTables } from '../src/store/tables';
import type { HostLogger } from '../src/host';
import { PAGE_SIZE } from '../src/web/routing-routes';
import { startReferenceHost } from './host/create-host';
import { describeHostDatabase, hostDataEnv, hostSecretKey, openHostDatabase, readEnv } from './host/host-data';
import { describeMachine, ms, summarize, table } from './lib/bench-stats';
import { PageClient } from './lib/page-client';
import { seedDecisions } from './lib/decision-seeder';
import { seedRules } from './lib/rule-seeder';

const TENANT = 'bench-list';
const USER = { name: 'bench', password: 'bench-password', tenantId: TENANT };
const TARGET_MS = 100;

const quietLogger: HostLogger = {
  debug() {}, info() {},
  warn: (message, fields) => console.error(`WARN ${message} ${JSON.stringify(fields ?? {})}`),
  error: (message, fields) => console.error(`ERROR ${message} ${JSON.stringify(fields ?? {})}`),
};

interface BenchPage {
  label: string;
  path: string;
  /** What the page must show, checked on the first load. */
  expect: RegExp;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rules: { type: 'string' }, decisions: { type: 'string' }, iterations: { type: 'string' }, warmup: { type: 'string' }, search: { type: 'string' } } });
  const count = Number(values.rules ?? 10_000);
  const decisionCount = Number(values.decisions ?? 1_000_000);
  const iterations = Number(values.iterations ?? 300);
  const warmup = Number(values.warmup ?? 50);
  const search = values.search ?? 'Gold';
  for (const [name, value] of [['rules', count], ['decisions', decisionCount], ['iterations', iterations], ['warmup', warmup]] as const) {
    if (!Number.isSafeInteger(value) || value < (name === 'warmup' || name === 'decisions' ? 0 : 1)) throw new Error(`--${name} must be a whole number (got ${value}).`);
  }

  const config = readEnv(hostDataEnv);
  const tempDir = config.DATABASE_URL ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'bench-list-'));
  if (tempDir) config.DATA_DIR = tempDir;
  const db = openHostDatabase(config);
  const secretKey = hostSecretKey(config);
  try {
    console.log(`bench:list: CRM > Routing list page with ${count} rules and ${decisionCount} decisions`);
    console.log(`Machine: ${describeMachine()}`);
    console.log(`Database: ${config.DATABASE_URL ? `${describeHostDatabase(config)}, tenant "${TENANT}"` : `${describeHostDatabase(config)} (temporary)`}`);
    const seeded = await seedRules(db, { tenantId: TENANT, count, reset: true, secretKey });
    console.log(`Seeded ${seeded.created} rules (${seeded.rowsCreated} rows) in ${(seeded.ms / 1000).toFixed(1)} s.`);
    const logged = await seedDecisions(db, { tenantId: TENANT, count: decisionCount, reset: true, secretKey });
    console.log(`Seeded ${logged.created} decisions over 7 days in ${(logged.ms / 1000).toFixed(1)} s (${logged.removed} of an earlier run removed); the busiest rule, ${logged.hottestRuleId}, has ${logged.hottestRuleDecisions}.`);
    const rulesTable = pluginTables().rules;
    const busiest = logged.hottestRuleId === undefined ? undefined : await busiestRule(db, rulesTable, logged.hottestRuleId);
    const ordinary = (await db(rulesTable).where('tenant_id', TENANT).orderBy('name').first('id')) as { id: unknown } | undefined;

    const host = await startReferenceHost({
      db, port: 0, adminUser: 'admin', adminPassword: 'admin-bench-password', secretKey,
      agi: { port: 0, bind: '127.0.0.1', publicHost: '127.0.0.1' }, logger: quietLogger, extraUsers: [USER],
    });
    const client = await PageClient.signIn(host.url, USER);
    try {
      const middle = Math.max(1, Math.ceil(count / PAGE_SIZE / 2));
      const pages: BenchPage[] = [
        { label: 'baseline: host page', path: '/license', expect: /id="license-state"/ },
        { label: 'first page', path: '/crm/routing', expect: new RegExp(`Rules 1&ndash;${Math.min(PAGE_SIZE, count)} of ${count}<`) },
        { label: `middle page (${middle})`, path: `/crm/routing?page=${middle}`, expect: new RegExp(`Rules ${(middle - 1) * PAGE_SIZE + 1}&ndash;\\d+ of ${count}<`) },
        { label: `search "${search}"`, path: `/crm/routing?q=${encodeURIComponent(search)}`, expect: /Rules 1&ndash;\d+ of \d+</ },
      ];
      if (busiest) {
        pages.push({ label: `page ${busiest.page} (busiest rule)`, path: `/crm/routing?page=${busiest.page}`, expect: new RegExp(`href="/crm/routing/${busiest.id}/outcomes"`) });
        pages.push({ label: 'outcomes: busiest rule', path: `/crm/routing/${busiest.id}/outcomes`, expect: /calls in the last 7 days/ });
      }
      if (ordinary) pages.push({ label: 'outcomes: first rule', path: `/crm/routing/${String(ordinary.id)}/outcomes`, expect: /in the last 7 days/ });
      for (const page of pages) {
        const first = await client.get(page.path);
        if (first.status !== 200 || !page.expect.test(first.body)) {
          throw new Error(`${page.path} answered ${first.status} without ${page.expect}: ${first.body.slice(0, 300)}`);
        }
        if (page.path.includes('?q=')) console.log(`Search "${search}" matches ${/of (\d+)</.exec(first.body)?.[1]} rules.`);
      }

      const timings = pages.map(() => [] as number[]);
      for (let round = 0; round < warmup + iterations; round += 1) {
        for (const [index, page] of pages.entries()) {
          const res = await client.get(page.path);
          if (res.status !== 200) throw new Error(`${page.path} answered ${res.status} in round ${round}.`);
          if (round >= warmup) timings[index]!.push(res.ms);
        }
      }

      const baseline = summarize(timings[0]!);
      const rows = [['page', 'path', 'p50 ms', 'p95 ms', 'p50 vs baseline', `target p95 < ${TARGET_MS} ms`]];
      let failed = false;
      for (const [index, page] of pages.entries()) {
        const s = summarize(timings[index]!);
        const verdict = index === 0 ? '' : s.p95 < TARGET_MS ? 'PASS' : 'FAIL';
        failed ||= verdict === 'FAIL';
        rows.push([page.label, page.path, ms(s.p50), ms(s.p95), `${(s.p50 / baseline.p50).toFixed(1)}x`, verdict]);
      }
      console.log(`\n${iterations} timed requests per page after ${warmup} warm-up rounds; one request at a time over one keep-alive connection, pages interleaved.`);
      console.log(table(rows));
      console.log(`\n${failed ? 'FAIL' : 'PASS'}: every list page under ${TARGET_MS} ms at p95${failed ? ' is NOT met' : ''}.`);
      process.exitCode = failed ? 1 : 0;
    } finally {
      client.close();
      await host.close();
    }
  } finally {
    await db.destroy();
    if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
  }
}

/** The busiest rule and the list page it is on (name order, as the list sorts, in the column's collation). */
async function busiestRule(db: Knex, rulesTable: string, id: number): Promise<{ id: number; page: number }> {
  const rule = (await db(rulesTable).where({ tenant_id: TENANT, id }).first('name')) as { name: string };
  const before = (await db(rulesTable).where('tenant_id', TENANT).andWhere('name', '<', rule.name).count({ n: '*' }).first()) as { n: unknown };
  return { id, page: Math.floor(Number(before.n) / PAGE_SIZE) + 1 };
}

main().catch((err: unknown) => {
  console.error(`bench:list failed: ${(err as Error)?.stack ?? String(err)}`);
  process.exit(1);
});
