/**
 * Runs the plugin's migrations (plain JS files in the package's migrations/ folder) with the
 * host's table prefix, in the plugin's own migrations table (`<prefix>migrations`, and knex's
 * `<prefix>migrations_lock`), so they never mix with the host's own migrations.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Knex } from 'knex';
import type { PluginTables } from './tables';

/** What a file in migrations/ exports: knex's up/down, plus the table prefix. */
interface PrefixedMigrationModule {
  up(knex: Knex, prefix: string): Promise<unknown>;
  down(knex: Knex, prefix: string): Promise<unknown>;
}

interface MigrationFile {
  name: string;
  path: string;
}

const MIGRATION_FILE = /^\d{14}_[a-z0-9_]+\.js$/;
const LOCK_RETRY_ATTEMPTS = 20;
const LOCK_RETRY_DELAY_MS = 250;

/**
 * The package root is the nearest folder above this file holding plugin.json: src/store under
 * tsx, dist/src/store after a build, node_modules/<package>/dist/src/store in a host.
 */
export function migrationsDirectory(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'plugin.json')) && existsSync(join(dir, 'migrations'))) return join(dir, 'migrations');
    if (dirname(dir) === dir) throw new Error(`CRM Routing: no migrations/ folder beside a plugin.json above ${from}.`);
  }
}

/** A knex migration source over the folder's files, each bound to the prefix. */
export function prefixedMigrationSource(prefix: string, directory: string = migrationsDirectory()): Knex.MigrationSource<MigrationFile> {
  return {
    async getMigrations() {
      return readdirSync(directory)
        .filter((name) => MIGRATION_FILE.test(name))
        .sort()
        .map((name) => ({ name, path: join(directory, name) }));
    },
    getMigrationName(migration) {
      return migration.name;
    },
    async getMigration(migration) {
      // Plain CommonJS files shipped as they are: require works from src/ (tsx) and dist/ alike.
      const module = require(migration.path) as PrefixedMigrationModule;
      return {
        up: (knex: Knex) => module.up(knex, prefix),
        down: (knex: Knex) => module.down(knex, prefix),
      };
    },
  };
}

function migratorConfig(tables: PluginTables): Knex.MigratorConfig {
  return {
    tableName: tables.migrations,
    migrationSource: prefixedMigrationSource(tables.prefix),
  };
}

/** Brings the tables up to date; waits while another process of the same host migrates. */
export async function migrateToLatest(db: Knex, tables: PluginTables): Promise<void> {
  await retryWhileLocked(() => db.migrate.latest(migratorConfig(tables)), tables);
}

/** Undoes every migration of the plugin (uninstall, tests). */
export async function rollbackAll(db: Knex, tables: PluginTables): Promise<void> {
  await retryWhileLocked(() => db.migrate.rollback(migratorConfig(tables), true), tables);
}

/** Names of the migrations already applied, oldest first. */
export async function appliedMigrations(db: Knex, tables: PluginTables): Promise<string[]> {
  const [done] = (await db.migrate.list(migratorConfig(tables))) as [Array<{ name: string }>, unknown];
  return done.map((m) => m.name);
}

// Several AGI instances starting together share one database; knex refuses, rather than waits,
// when another holds the migration lock.
async function retryWhileLocked(run: () => Promise<unknown>, tables: PluginTables): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await run();
      return;
    } catch (error) {
      if ((error as { name?: string }).name !== 'MigrationLocked') throw error;
      if (attempt >= LOCK_RETRY_ATTEMPTS) {
        throw new Error(
          `CRM Routing migrations stayed locked for ${(LOCK_RETRY_ATTEMPTS * LOCK_RETRY_DELAY_MS) / 1000} s. If no other instance is migrating, a crashed one left the lock: set is_locked = 0 in ${tables.migrations}_lock.`,
          { cause: error },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_DELAY_MS));
    }
  }
}
