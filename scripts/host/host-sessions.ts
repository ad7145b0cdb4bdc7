/**
 * The reference host's login sessions, kept on the server: the browser holds only a random id
 * (cookie `pbx_sid`), the database only its SHA-256, so logging out ends the session for every
 * copy of the cookie, and a copied database row does not sign anyone in. A new id at every
 * sign-in (no fixation). The lookup that every signed-in page starts with has a deadline of its
 * own: with the database accepting connections but never answering, pages still answer in time.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';

export interface HostSession {
  /** SHA-256 of the cookie's id: what the plugin binds its CSRF tokens to (HostAuth.sessionId). */
  key: string;
  user: string;
  tenantId: string;
}

export interface HostSessionsOptions {
  /** How long a session lasts from sign-in. Default 8 h. */
  lifetimeMs?: number;
  /** Deadline of the lookup on every page. Default 1,000 ms. */
  lookupTimeoutMs?: number;
}

const TABLE = 'host_sessions';

export class HostSessions {
  private readonly lifetimeMs: number;
  private readonly lookupTimeoutMs: number;

  constructor(private readonly db: Knex, options: HostSessionsOptions = {}) {
    this.lifetimeMs = options.lifetimeMs ?? 8 * 3600_000;
    this.lookupTimeoutMs = options.lookupTimeoutMs ?? 1_000;
  }

  get maxAgeMs(): number {
    return this.lifetimeMs;
  }

  async init(): Promise<void> {
    if (await this.db.schema.hasTable(TABLE)) return;
    await this.db.schema.createTable(TABLE, (t) => {
      t.string('key', 64).primary();
      t.string('user_name', 200).notNullable();
      t.string('tenant_id', 191).notNullable();
      t.bigInteger('expires_at').notNullable().index();
    });
  }

  /** Starts a session; returns the id for the cookie (never stored). */
  async create(user: string, tenantId: string): Promise<string> {
    const id = randomBytes(32).toString('base64url');
    await this.db(TABLE).where('expires_at', '<', Date.now()).delete();
    await this.db(TABLE).insert({ key: keyOf(id), user_name: user, tenant_id: tenantId, expires_at: Date.now() + this.lifetimeMs });
    return id;
  }

  /** The live session of a cookie's id, or undefined; rejects (KnexTimeoutError) when the database does not answer in time. */
  async find(id: string): Promise<HostSession | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const key = keyOf(id);
    const row = await this.db(TABLE).where({ key }).first('user_name', 'tenant_id', 'expires_at').timeout(this.lookupTimeoutMs);
    if (!row || Number(row.expires_at) < Date.now()) return undefined;
    return { key, user: String(row.user_name), tenantId: String(row.tenant_id) };
  }

  async end(id: string): Promise<void> {
    if (/^[A-Za-z0-9_-]{43}$/.test(id)) await this.db(TABLE).where({ key: keyOf(id) }).delete();
  }
}

function keyOf(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}
