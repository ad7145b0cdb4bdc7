/**
 * Whether the host's database answers, within a bounded time: `SELECT 1`, given up after
 * `timeoutMs` whatever the driver does (a database that accepts connections and never answers
 * holds a query until the pool's own timeouts). Checks asked while one runs share it, so a
 * monitor polling a dead database does not pile up queries.
 */
import type { Knex } from 'knex';
import type { DatabaseHealth } from '../host';

export class DatabasePing {
  private running: Promise<DatabaseHealth> | undefined;

  constructor(private readonly db: Knex, private readonly timeoutMs = 1000) {}

  check(): Promise<DatabaseHealth> {
    this.running ??= this.ping().finally(() => { this.running = undefined; });
    return this.running;
  }

  private async ping(): Promise<DatabaseHealth> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<DatabaseHealth>((resolve) => {
      timer = setTimeout(() => resolve({ reachable: false, checkMs: this.timeoutMs, code: 'TIMEOUT' }), this.timeoutMs);
    });
    const answered = this.db.raw('select 1').then(
      (): DatabaseHealth => ({ reachable: true, checkMs: Math.round(performance.now() - started) }),
      (err: unknown): DatabaseHealth => ({ reachable: false, checkMs: Math.round(performance.now() - started), code: databaseErrorCode(err) }),
    );
    try {
      return await Promise.race([answered, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The driver's code (ECONNREFUSED, ER_..., SQLITE_...) or the error's class name: never its message (it may quote values). */
export function databaseErrorCode(err: unknown): string {
  const { code, name } = (err ?? {}) as { code?: unknown; name?: unknown };
  if (typeof code === 'string' && /^[A-Z0-9_]{1,40}$/i.test(code)) return code;
  if (name === 'KnexTimeoutError') return 'TIMEOUT';
  return typeof name === 'string' && /^\w{1,40}$/.test(name) ? name : 'ERROR';
}
