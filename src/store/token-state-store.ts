/**
 * The TokenCache's shared store: the current sign-in of a CRM whose refresh tokens work once or
 * rotate, one row per tenant and session key, sealed (bound to tenant and key), so every process
 * on the database uses the same refresh token and spends it once.
 *
 * `locked` runs a refresh holding the row's lock: SELECT ... FOR UPDATE on MySQL/MariaDB (another
 * process's `locked` on the same row waits until the refresh is committed, then reads the new
 * token); SQLite runs one write transaction at a time, and the transaction starts with a write so
 * it holds that lock from the start. The key itself is never stored, only its SHA-256 (it holds no
 * secret, but names the CRM user).
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { DurableTokenStore } from '../crm/shared/token-cache';
import type { HostLogger } from '../host';
import type { Sealer } from './sealing';
import type { PluginTables } from './tables';

/** Rows not refreshed for this long belong to credentials no longer in use (a new Connect, a changed password). */
const STALE_AFTER_MS = 180 * 24 * 3600_000;

interface TokenStateColumns {
  token: string | null;
}

export class TokenStateStore implements DurableTokenStore {
  constructor(
    private readonly db: Knex,
    private readonly tables: PluginTables,
    private readonly sealer: Sealer,
    private readonly logger?: HostLogger,
  ) {}

  async read(tenantId: string, key: string): Promise<string | undefined> {
    const keyHash = digest(key);
    const row = (await this.db(this.tables.tokenStates).select('token').where({ tenant_id: tenantId, key_hash: keyHash }).first()) as TokenStateColumns | undefined;
    return this.open(tenantId, keyHash, row);
  }

  async locked<R>(tenantId: string, key: string, update: (stored: string | undefined) => Promise<{ store?: string; result: R }>): Promise<R> {
    const keyHash = digest(key);
    const where = { tenant_id: tenantId, key_hash: keyHash };
    const mysql = this.db.client.dialect === 'mysql';
    // The row must exist to be locked. On MySQL it is created in a statement of its own: inside the
    // transaction, INSERT IGNORE of an existing row takes a shared lock, and two of those then
    // deadlock on FOR UPDATE.
    if (mysql) await this.insertIfMissing(this.db, where);
    return this.db.transaction(async (trx) => {
      // SQLite: this first write takes the database's write lock for the whole refresh.
      if (!mysql) await this.insertIfMissing(trx, where);
      const query = trx(this.tables.tokenStates).select('token').where(where);
      const row = (await (mysql ? query.forUpdate() : query).first()) as TokenStateColumns | undefined;
      const outcome = await update(this.open(tenantId, keyHash, row));
      if (outcome.store !== undefined) {
        const sealed = this.sealer.seal(outcome.store, context(tenantId, keyHash));
        await trx(this.tables.tokenStates).where(where).update({ token: sealed, updated_at: new Date() });
        await trx(this.tables.tokenStates).where({ tenant_id: tenantId }).andWhere('updated_at', '<', new Date(Date.now() - STALE_AFTER_MS)).delete();
      }
      return outcome.result;
    });
  }

  private async insertIfMissing(db: Knex | Knex.Transaction, where: { tenant_id: string; key_hash: string }): Promise<void> {
    await db(this.tables.tokenStates).insert({ ...where, token: null, updated_at: new Date() }).onConflict(['tenant_id', 'key_hash']).ignore();
  }

  /** A token sealed under another key (the host's secretKey changed) is as good as none: sign in again. */
  private open(tenantId: string, keyHash: string, row: TokenStateColumns | undefined): string | undefined {
    if (!row?.token) return undefined;
    try {
      return this.sealer.open(row.token, context(tenantId, keyHash));
    } catch (error) {
      this.logger?.warn('A stored CRM sign-in could not be opened (secret key changed?); signing in again', { tenantId, error: (error as Error).message });
      return undefined;
    }
  }
}

function digest(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function context(tenantId: string, keyHash: string) {
  return { tenantId, purpose: `token_states.token:${keyHash}` };
}
