/**
 * `npm run fuzz:posts -- [--posts 1000] [--seed 1]`
 *
 * Fuzzed posts in form and JSON shapes (and a few other content types) against every POST route
 * of the reference host with the plugin, each with a valid CSRF token so the handlers are
 * reached (scripts/lib/post-fuzz.ts). Prints the status counts by shape and route and every 5xx;
 * exits 1 if there was one. The database is a temporary SQLite file, or DATABASE_URL's MySQL.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CRM_REGISTRY } from '../src/crm/registry';
import { startReferenceHost } from './host/create-host';
import { describeHostDatabase, hostDataEnv, openHostDatabase, readEnv } from './host/host-data';
import { fuzzPosts, fuzzTargets, prepareFuzzHost } from './lib/post-fuzz';

const USER = { name: 'admin', password: 'fuzz-admin-password' };
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { posts: { type: 'string' }, seed: { type: 'string' } } });
  const posts = Number(values.posts ?? 1000);
  const seed = Number(values.seed ?? 1);
  if (!Number.isSafeInteger(posts) || posts < 1 || !Number.isSafeInteger(seed)) throw new Error('--posts and --seed are whole numbers.');
  const config = readEnv(hostDataEnv);
  const tempDir = config.DATABASE_URL ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'fuzz-posts-'));
  if (tempDir) config.DATA_DIR = tempDir;
  const db = openHostDatabase(config);
  const host = await startReferenceHost({
    db, port: 0, adminUser: USER.name, adminPassword: USER.password, secretKey: 'fuzz-posts-secret-key-0123456789abcdef-012',
    agi: { port: 0, bind: '127.0.0.1', publicHost: '127.0.0.1' }, logger: quiet,
  });
  try {
    const { ruleId, didId } = await prepareFuzzHost(host.url, USER);
    const integrations = { vtiger: CRM_REGISTRY.vtiger.definition.fields.map((f) => f.name), proprietary: CRM_REGISTRY.proprietary.definition.fields.map((f) => f.name) };
    const targets = fuzzTargets(ruleId, didId, integrations);
    console.log(`fuzz:posts: ${posts} posts (seed ${seed}) over ${targets.length} POST routes of the reference host and the plugin`);
    console.log(`Database: ${config.DATABASE_URL ? describeHostDatabase(config) : 'temporary SQLite file'}; egress policy: the default (the fuzz rule's CRM address is refused at once)`);
    const started = Date.now();
    const result = await fuzzPosts({ url: host.url, user: USER, targets, posts, seed });
    const line = (counts: Map<number, number>) => [...counts].sort(([a], [b]) => a - b).map(([status, n]) => `${status}: ${n}`).join(', ');
    console.log(`\nStatus counts, all ${result.posts} posts: ${line(result.statuses)}`);
    for (const [shape, counts] of result.byShape) console.log(`  ${shape.padEnd(5)} bodies (${[...counts.values()].reduce((a, b) => a + b, 0)}): ${line(counts)}`);
    const fivexx = [...result.statuses].filter(([status]) => status >= 500).reduce((sum, [, n]) => sum + n, 0);
    console.log(`5xx answers: ${fivexx}; sign-ins (after fuzzed logouts): ${result.signIns}; ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const error of result.serverErrors.slice(0, 20)) console.log(`  ${error.status} POST ${error.path} (${error.contentType}) ${JSON.stringify(error.body)} -> ${JSON.stringify(error.answer)}`);
    process.exitCode = fivexx > 0 ? 1 : 0;
  } finally {
    await host.close();
    await db.destroy();
    if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
