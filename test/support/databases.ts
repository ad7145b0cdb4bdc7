/**
 * Real databases for store tests: a fresh MariaDB database and a fresh SQLite file per suite,
 * so every behaviour is checked on both dialects the plugin supports. The MariaDB database gets
 * a random name and is dropped afterwards, even when tests fail.
 *
 * MariaDB comes from TEST_MYSQL_URL (default mysql://root@127.0.0.1:3306).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import knex, { type Knex } from 'knex';

export const DIALECTS = ['mariadb', 'sqlite'] as const;
export type Dialect = (typeof DIALECTS)[number];

export interface OpenedDatabase {
  dialect: Dialect;
  db: Knex;
  /** Destroys the connections and removes the database (MariaDB) or file (SQLite). */
  close(): Promise<void>;
}

const DEFAULT_MYSQL_URL = 'mysql://root@127.0.0.1:3306';

/** A knex instance on a database of its own. */
export async function openTestDatabase(dialect: Dialect): Promise<OpenedDatabase> {
  return dialect === 'mariadb' ? openMariaDb() : openSqlite();
}

/** The database of the suite being run; `db` is usable from the suite's `before` hooks on. */
export interface TestDatabase {
  readonly dialect: Dialect;
  readonly db: Knex;
}

/**
 * Declares the suite once per dialect: `describeEachDatabase('RuleStore', (database) => { ... })`
 * yields "RuleStore on mariadb" and "RuleStore on sqlite", each with its own fresh database.
 */
export function describeEachDatabase(title: string, body: (database: TestDatabase) => void): void {
  for (const dialect of DIALECTS) {
    describe(`${title} on ${dialect}`, function () {
      let opened: OpenedDatabase | undefined;
      const database: TestDatabase = {
        dialect,
        get db(): Knex {
          if (opened === undefined) throw new Error(`The ${dialect} test database is not open yet (use it from a hook or test).`);
          return opened.db;
        },
      };
      before(async function () {
        this.timeout(30_000);
        opened = await openTestDatabase(dialect);
      });
      after(async () => {
        await opened?.close();
        opened = undefined;
      });
      body(database);
    });
  }
}

/**
 * Another knex instance, with its own connections, on the same database: a second process of the
 * host (another PBX web node). The caller destroys it before the database is closed.
 */
export function anotherConnectionPool(db: Knex): Knex {
  return knex({ ...(db.client as { config: Knex.Config }).config });
}

async function openMariaDb(): Promise<OpenedDatabase> {
  const url = new URL(process.env.TEST_MYSQL_URL ?? DEFAULT_MYSQL_URL);
  const server = {
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username || 'root'),
    password: decodeURIComponent(url.password),
    charset: 'utf8mb4',
  };
  const name = `crm_test_${randomBytes(6).toString('hex')}`;
  const admin = knex({ client: 'mysql2', connection: server, pool: { min: 0, max: 1 } });
  try {
    await admin.raw('CREATE DATABASE ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', [name]);
  } catch (error) {
    await admin.destroy();
    throw new Error(
      `MariaDB is not usable at ${server.host}:${server.port} as ${server.user} (${(error as Error).message}). ` +
        'Start it (start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd) or set TEST_MYSQL_URL.',
      { cause: error },
    );
  }
  const db = knex({ client: 'mysql2', connection: { ...server, database: name }, pool: { min: 0, max: 5 } });
  return {
    dialect: 'mariadb',
    db,
    async close() {
      try {
        await db.destroy();
      } finally {
        await admin.raw('DROP DATABASE IF EXISTS ??', [name]).finally(() => admin.destroy());
      }
    },
  };
}

async function openSqlite(): Promise<OpenedDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'crm-test-'));
  // Foreign keys are left off, as a host's SQLite connection has them unless it switches them
  // on: the store must not rely on ON DELETE CASCADE there.
  const db = knex({ client: 'better-sqlite3', connection: { filename: join(dir, 'test.sqlite') }, useNullAsDefault: true });
  return {
    dialect: 'sqlite',
    db,
    async close() {
      try {
        await db.destroy();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
