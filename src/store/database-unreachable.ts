/**
 * Whether an error means the database could not be reached (refused, reset, timed out, no
 * connection from the pool in time), as opposed to a query it refused. Pages then answer 503
 * "the database is not reachable; nothing was changed" rather than a generic error: the
 * administrator learns it is not their input, and that nothing half-saved is left behind.
 * Hosts use it for their own pages too.
 */

/** Connection-level codes of the network, mysql2 and SQLite. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR', 'ER_SERVER_SHUTDOWN',
  'SQLITE_BUSY', 'SQLITE_CANTOPEN', 'SQLITE_IOERR',
]);

export const DATABASE_UNREACHABLE_MESSAGE = 'The database is not reachable; nothing was changed. Try again in a moment, and tell your administrator if it persists.';

export function isDatabaseUnreachable(err: unknown): boolean {
  let e = err as { code?: unknown; name?: unknown; fatal?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && typeof e === 'object' && depth < 5; depth += 1) {
    // knex: no connection from the pool within acquireConnectionTimeout, or a query's .timeout().
    if (e.name === 'KnexTimeoutError') return true;
    if (typeof e.code === 'string' && UNREACHABLE_CODES.has(e.code)) return true;
    // mysql2 marks errors that broke the connection itself as fatal.
    if (e.fatal === true) return true;
    e = e.cause as typeof e;
  }
  return false;
}
