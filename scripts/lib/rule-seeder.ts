/**
 * Fills a tenant with the seeded rules of scripts/lib/seed-rules.ts, in batches: 500 rules and
 * their rows per multi-row INSERT, one transaction per batch, the `rules` cache version bumped
 * in each, so a running host reloads them. RuleStore.create costs one transaction (a commit and
 * its disk flush) per rule, about 2 minutes for 10,000 rules on SQLite or MariaDB here, while
 * this takes seconds. The columns come from the store's own RuleColumnMapper, so a seeded rule
 * is stored exactly as a saved one (CRM secrets sealed with the host's key).
 */
import type { Knex } from 'knex';
import type { RuleDraft } from '../../src/domain/rule';
import { bumpCacheVersion, lockCacheScope } from '../../src/store/cache-versions';
import { affectedRows, toNumber } from '../../src/store/db-values';
import { PluginStore } from '../../src/store/plugin-store';
import { RuleColumnMapper } from '../../src/store/rule-columns';
import { Sealer } from '../../src/store/sealing';
import type { PluginTables } from '../../src/store/tables';
import { seededRuleDraft } from './seed-rules';

export interface SeedOptions {
  tenantId: string;
  /** Seeded rules the tenant should have: rules 0 .. count-1 of seed-rules.ts. */
  count: number;
  /** Remove every rule of the tenant (seeded or not) first. */
  reset?: boolean;
  /** The host's key, so sealed secrets open in the host. */
  secretKey: string;
  tablePrefix?: string;
  /** Progress after each batch. */
  onBatch?: (done: number, total: number) => void;
}

export interface SeedReport {
  /** Rules of the tenant removed by `reset`. */
  removed: number;
  /** Seeded rules that were already there (same name, ignoring case) and were left alone. */
  kept: number;
  created: number;
  rowsCreated: number;
  /** Rules of the tenant afterwards, seeded or not. */
  tenantRules: number;
  ms: number;
}

/** Rules per transaction. */
const BATCH_SIZE = 500;
/** Rows per INSERT: knex writes an SQLite multi-row insert as a compound SELECT, at most 500 terms. */
const INSERT_CHUNK = 400;

export async function seedRules(db: Knex, options: SeedOptions): Promise<SeedReport> {
  const started = performance.now();
  const store = await PluginStore.create(db, { secretKey: options.secretKey, ...(options.tablePrefix ? { tablePrefix: options.tablePrefix } : {}) });
  const tables = store.tables;
  const mapper = new RuleColumnMapper(new Sealer(options.secretKey));
  const removed = options.reset ? await removeTenantRules(db, tables, options.tenantId) : 0;

  const existing = new Set(
    ((await db(tables.rules).select('name').where('tenant_id', options.tenantId)) as Array<{ name: string }>).map((r) => r.name.toLowerCase()),
  );
  const missing: RuleDraft[] = [];
  for (let index = 0; index < options.count; index += 1) {
    const draft = seededRuleDraft(index);
    if (!existing.has(draft.name.toLowerCase())) missing.push(draft);
  }

  let rowsCreated = 0;
  for (let from = 0; from < missing.length; from += BATCH_SIZE) {
    rowsCreated += await insertBatch(db, tables, mapper, options.tenantId, missing.slice(from, from + BATCH_SIZE));
    options.onBatch?.(Math.min(from + BATCH_SIZE, missing.length), missing.length);
  }
  const { total } = await store.rules.list(options.tenantId, { offset: 0, limit: 1 });
  return { removed, kept: options.count - missing.length, created: missing.length, rowsCreated, tenantRules: total, ms: performance.now() - started };
}

async function insertBatch(db: Knex, tables: PluginTables, mapper: RuleColumnMapper, tenantId: string, drafts: RuleDraft[]): Promise<number> {
  return db.transaction(async (trx) => {
    await lockCacheScope(trx, tables.cacheVersions, 'rules');
    const now = new Date();
    const rules = drafts.map((draft) => ({
      ...mapper.toColumns(tenantId, { ...draft, source: mapper.resolveSource(tenantId, draft.source, undefined) }),
      version: 1, created_at: now, updated_at: now,
    }));
    for (const chunk of chunks(rules)) await trx(tables.rules).insert(chunk);
    // A multi-row INSERT reports one id (the first on MySQL, the last on SQLite): read them back by name.
    const inserted = (await trx(tables.rules).select('id', 'name').where('tenant_id', tenantId).whereIn('name', drafts.map((d) => d.name))) as Array<{ id: unknown; name: string }>;
    const idByName = new Map(inserted.map((r) => [r.name, toNumber(r.id)]));
    const rows = drafts.flatMap((draft) => mapper.rowsToColumns(tenantId, idByName.get(draft.name)!, draft.rows));
    for (const chunk of chunks(rows)) await trx(tables.ruleRows).insert(chunk);
    await bumpCacheVersion(trx, tables.cacheVersions, 'rules');
    return rows.length;
  });
}

async function removeTenantRules(db: Knex, tables: PluginTables, tenantId: string): Promise<number> {
  return db.transaction(async (trx) => {
    await lockCacheScope(trx, tables.cacheVersions, 'rules');
    await trx(tables.ruleRows).where('tenant_id', tenantId).delete();
    const removed = affectedRows(await trx(tables.rules).where('tenant_id', tenantId).delete());
    await bumpCacheVersion(trx, tables.cacheVersions, 'rules');
    return removed;
  });
}

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let from = 0; from < items.length; from += INSERT_CHUNK) out.push(items.slice(from, from + INSERT_CHUNK));
  return out;
}
