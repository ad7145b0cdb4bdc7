/**
 * One counter per cached kind of data. Every write of rules or integrations bumps its counter in
 * the same transaction, so a cache in any process notices a change by polling one row.
 */
import type { Knex } from 'knex';
import { toNumber } from './db-values';

export const CACHE_SCOPES = ['rules', 'integrations'] as const;
export type CacheScope = (typeof CACHE_SCOPES)[number];

/**
 * Takes the scope's row lock at the start of a write transaction, so writes of one scope run one
 * after another on MySQL. Without it, two first saves of one name or CRM deadlock in InnoDB's gap
 * and duplicate-key locks. SQLite already runs one write transaction at a time.
 */
export async function lockCacheScope(trx: Knex.Transaction, table: string, scope: CacheScope): Promise<void> {
  if (trx.client.dialect !== 'mysql') return;
  await trx(table).select('version').where({ scope }).forUpdate();
}

export async function bumpCacheVersion(db: Knex | Knex.Transaction, table: string, scope: CacheScope): Promise<void> {
  // An upsert rather than a plain update, so a missing row (e.g. deleted by hand) heals itself.
  await db(table).insert({ scope, version: 1 }).onConflict('scope').merge({ version: db.raw('?? + 1', [`${table}.version`]) });
}

export async function readCacheVersion(db: Knex | Knex.Transaction, table: string, scope: CacheScope): Promise<number> {
  const row = (await db(table).select('version').where({ scope }).first()) as { version: unknown } | undefined;
  return row === undefined ? 0 : toNumber(row.version);
}
