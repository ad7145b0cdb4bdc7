/**
 * What MySQL (mysql2) and SQLite (better-sqlite3) hand back differs: booleans arrive as 0/1,
 * dates as Date objects or epoch numbers, big integers as numbers or strings (depending on the
 * host's driver options). These helpers read them one way.
 */
import type { Knex } from 'knex';

export function toNumber(value: unknown): number {
  const n = typeof value === 'bigint' ? Number(value) : Number(value as string | number);
  if (!Number.isFinite(n)) throw new TypeError(`Expected a number from the database, got ${String(value)}`);
  return n;
}

export function toNullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : toNumber(value);
}

export function toBoolean(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 1n;
}

/** SQLite stores the Date knex binds as epoch milliseconds; MySQL returns a Date (or a string with dateStrings). */
export function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  if (typeof value === 'number' || typeof value === 'bigint') return new Date(Number(value));
  if (typeof value === 'string') return new Date(/^\d+$/.test(value) ? Number(value) : value.replace(' ', 'T'));
  throw new TypeError(`Expected a date from the database, got ${String(value)}`);
}

/** The id of the row an insert created: mysql2 and better-sqlite3 both answer `[id]`. */
export function insertedId(result: unknown): number {
  const first = Array.isArray(result) ? (result[0] as unknown) : result;
  if (first !== null && typeof first === 'object' && 'id' in first) return toNumber((first as { id: unknown }).id);
  return toNumber(first);
}

/** Rows affected by an update or delete. */
export function affectedRows(result: unknown): number {
  return typeof result === 'number' ? result : toNumber(result);
}

/** A unique index rejected the write: MySQL/MariaDB ER_DUP_ENTRY, SQLite SQLITE_CONSTRAINT_UNIQUE. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; errno?: unknown } | null;
  if (e === null || typeof e !== 'object') return false;
  return e.code === 'ER_DUP_ENTRY' || e.errno === 1062 || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** `%`, `_` and the escape character itself match literally; used with `ESCAPE '!'`. */
export function likeContains(text: string): string {
  return `%${text.replace(/[!%_]/g, (c) => `!${c}`)}%`;
}

/** `column LIKE ? ESCAPE '!'`: SQLite has no default LIKE escape and MySQL's default (backslash) depends on sql_mode. */
export function whereContains(query: Knex.QueryBuilder, column: string, text: string): Knex.QueryBuilder {
  return query.whereRaw(`?? like ? escape '!'`, [column, likeContains(text)]);
}

export function orWhereContains(query: Knex.QueryBuilder, column: string, text: string): Knex.QueryBuilder {
  return query.orWhereRaw(`?? like ? escape '!'`, [column, likeContains(text)]);
}

/** Text columns with a length limit: cut rather than fail the insert (strict SQL mode rejects overflow). */
export function capLength(value: string | null | undefined, max: number): string | null {
  if (value === null || value === undefined) return null;
  if (value.length <= max) return value;
  // Column lengths count characters (code points); never cut a surrogate pair in half.
  return Array.from(value).slice(0, max).join('');
}
