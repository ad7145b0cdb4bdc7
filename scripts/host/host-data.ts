/**
 * Where the reference host keeps its data, read from the environment the same way by every
 * script that touches it (`npm start`, `npm run seed`, the benchmarks): MySQL/MariaDB from
 * DATABASE_URL, else an SQLite file in DATA_DIR; the secret key from SECRET_KEY, else one kept
 * in DATA_DIR (so sealed CRM secrets written by one script open in the others).
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import knex, { type Knex } from 'knex';
import { z } from 'zod';
import type { DialplanSigning, HostLogger } from '../../src/host';

export const hostDataEnv = z.object({
  DATABASE_URL: z.string().regex(/^mysql:\/\//, 'DATABASE_URL must be a mysql://user:password@host:port/database URL').optional(),
  DATA_DIR: z.string().default('data'),
  SECRET_KEY: z.string().min(32, 'SECRET_KEY must be at least 32 characters').optional(),
  DIALPLAN_KEY: z.string().min(32, 'DIALPLAN_KEY must be at least 32 characters').optional(),
  DIALPLAN_PREVIOUS_KEY: z.string().min(32, 'DIALPLAN_PREVIOUS_KEY must be at least 32 characters').optional(),
  DIALPLAN_PREVIOUS_KEY_UNTIL: z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'DIALPLAN_PREVIOUS_KEY_UNTIL must be a date, e.g. 2026-12-31T00:00:00Z').optional(),
});

export type HostDataConfig = z.infer<typeof hostDataEnv>;

/** Connecting to MySQL, and waiting for a pooled connection: past it a page says the database is not reachable. */
export const DATABASE_TIMEOUT_MS = 1_000;

/** The environment checked by `schema`; on a mistake, says which variable is wrong and exits 2. */
export function readEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv = process.env): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) console.error(`Configuration: ${issue.path.join('.')}: ${issue.message}`);
    process.exit(2);
  }
  return parsed.data;
}

/**
 * A knex instance on the host's database; creates DATA_DIR for SQLite. knex's own warnings (a
 * failed connection attempt, with its stack) go to `logger` as one line each, not to the console.
 */
export function openHostDatabase(config: HostDataConfig, logger?: HostLogger): Knex {
  if (config.DATABASE_URL) {
    // A database that refuses, or accepts and never answers, costs a page at most 1 s: it then answers 503.
    return knex({
      client: 'mysql2', connection: { uri: config.DATABASE_URL, connectTimeout: DATABASE_TIMEOUT_MS },
      pool: { min: 0, max: 10 }, acquireConnectionTimeout: DATABASE_TIMEOUT_MS,
      log: knexLog(logger),
    });
  }
  fs.mkdirSync(config.DATA_DIR, { recursive: true });
  return knex({ client: 'better-sqlite3', connection: { filename: sqliteFile(config) }, useNullAsDefault: true, pool: SQLITE_POOL });
}

/**
 * SQLite in write-ahead-log mode, synced at checkpoints rather than at every commit. better-sqlite3
 * runs on the event loop: in the default mode each commit (the call decisions written every
 * 500 ms, a page's save) waited for fsync there, holding every live call for it (tens of ms on a
 * busy disk; npx tsx scripts/profile-agi.ts --crm https showed it as ~10% of the loop). A commit is still
 * safe from a crash of the process; a power cut may lose the last ones. Production runs on MySQL.
 */
export const SQLITE_POOL: Knex.PoolConfig = {
  afterCreate(connection: { pragma(source: string): unknown }, done: (err: Error | null, connection: unknown) => void) {
    try {
      connection.pragma('journal_mode = WAL');
      connection.pragma('synchronous = NORMAL');
      done(null, connection);
    } catch (err) {
      done(err as Error, connection);
    }
  },
};

/** "MySQL (DATABASE_URL)" or "SQLite file data/pbx.sqlite", for what a script prints. */
export function describeHostDatabase(config: HostDataConfig): string {
  return config.DATABASE_URL ? 'MySQL (DATABASE_URL)' : `SQLite file ${sqliteFile(config)}`;
}

/** SECRET_KEY, or a random key kept in DATA_DIR so sealed secrets survive restarts. */
export function hostSecretKey(config: HostDataConfig): string {
  if (config.SECRET_KEY) return config.SECRET_KEY;
  fs.mkdirSync(config.DATA_DIR, { recursive: true });
  const file = path.join(config.DATA_DIR, 'secret.key');
  if (!fs.existsSync(file)) fs.writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600 });
  return fs.readFileSync(file, 'utf8').trim();
}

/**
 * HostContext.dialplanSigning from DIALPLAN_KEY (default: the secret key signs), and the previous
 * key with the date it stops being accepted.
 */
export function hostDialplanSigning(config: HostDataConfig): DialplanSigning {
  return {
    ...(config.DIALPLAN_KEY ? { key: config.DIALPLAN_KEY } : {}),
    ...(config.DIALPLAN_PREVIOUS_KEY ? { previousKey: config.DIALPLAN_PREVIOUS_KEY } : {}),
    ...(config.DIALPLAN_PREVIOUS_KEY_UNTIL ? { acceptPreviousUntil: new Date(config.DIALPLAN_PREVIOUS_KEY_UNTIL) } : {}),
  };
}

function knexLog(logger: HostLogger | undefined): Knex.Config['log'] {
  const firstLine = (message: unknown) => String(message).split('\n')[0]!;
  return {
    warn: (message: unknown) => logger?.warn(`Database: ${firstLine(message)}`),
    error: (message: unknown) => logger?.error(`Database: ${firstLine(message)}`),
    deprecate: (message: unknown) => logger?.debug(`Database: ${firstLine(message)}`),
    debug: (message: unknown) => logger?.debug(`Database: ${firstLine(message)}`),
  };
}

function sqliteFile(config: HostDataConfig): string {
  return path.join(config.DATA_DIR, 'pbx.sqlite');
}
