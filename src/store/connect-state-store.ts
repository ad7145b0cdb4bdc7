/**
 * The "Connect" flows of CRM > Integration between the consent page and the callback: each state
 * is random (256 bits), bound to the tenant, the user, the browser (a hash the web layer derives
 * from its cookie and the host's login session) and the CRM; it works once and for 10 minutes.
 * Only the state's SHA-256 is stored; the PKCE verifier is sealed, bound to tenant and state, so
 * it never leaves the server readable. In the database, not in memory: the vendor may send the
 * browser back to another node of the host.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { CrmKind } from '../domain/crm-kinds';
import { affectedRows, toDate } from './db-values';
import type { Sealer } from './sealing';
import type { PluginTables } from './tables';

export const CONNECT_STATE_TTL_MS = 10 * 60_000;

/** Who a Connect belongs to. */
export interface ConnectOwner {
  tenantId: string;
  userId: string;
  /** SHA-256 (hex) of what binds it to the browser and the login session. */
  bindingHash: string;
}

export interface NewConnect extends ConnectOwner {
  crm: CrmKind;
  redirectUri: string;
  /** PKCE code verifier, for vendors that take PKCE. */
  verifier?: string;
}

export interface ConnectRecord {
  crm: CrmKind;
  redirectUri: string;
  verifier?: string;
  createdAt: Date;
}

/** What a callback's state turned out to be; only `ok` may be acted on, and it is now spent. */
export type ConsumedConnect =
  | { kind: 'ok'; connect: ConnectRecord }
  | { kind: 'unknown' }
  | { kind: 'other_crm'; crm: CrmKind }
  | { kind: 'other_owner' }
  | { kind: 'used' }
  | { kind: 'expired' };

interface ConnectStateColumns {
  state_hash: string;
  tenant_id: string;
  user_id: string;
  crm: string;
  binding_hash: string;
  verifier: string | null;
  redirect_uri: string;
  created_at: unknown;
  expires_at: unknown;
  used_at: unknown;
}

export class ConnectStateStore {
  constructor(
    private readonly db: Knex,
    private readonly tables: PluginTables,
    private readonly sealer: Sealer,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records a new Connect; returns its state (URL-safe) for the vendor's consent page. */
  async create(connect: NewConnect, ttlMs = CONNECT_STATE_TTL_MS): Promise<string> {
    const state = randomBytes(32).toString('base64url');
    const stateHash = digest(state);
    const now = this.now();
    await this.db(this.tables.connectStates).where('expires_at', '<', new Date(now - 24 * 3600_000)).delete();
    await this.db(this.tables.connectStates).insert({
      state_hash: stateHash,
      tenant_id: connect.tenantId,
      user_id: connect.userId,
      crm: connect.crm,
      binding_hash: connect.bindingHash,
      verifier: connect.verifier === undefined ? null : this.sealer.seal(connect.verifier, verifierContext(connect.tenantId, stateHash)),
      redirect_uri: connect.redirectUri,
      created_at: new Date(now),
      expires_at: new Date(now + ttlMs),
      used_at: null,
    });
    return state;
  }

  /**
   * The Connect a callback's state names, spent if it belongs to `owner` and `crm`. A state of
   * another user or browser is left alone (its owner may still finish), and says so.
   */
  async consume(state: string, crm: CrmKind, owner: ConnectOwner): Promise<ConsumedConnect> {
    const stateHash = digest(state);
    const row = (await this.db(this.tables.connectStates).where({ state_hash: stateHash }).first()) as ConnectStateColumns | undefined;
    if (!row) return { kind: 'unknown' };
    if (row.tenant_id !== owner.tenantId || row.user_id !== owner.userId || row.binding_hash !== owner.bindingHash) return { kind: 'other_owner' };
    if (row.crm !== crm) return { kind: 'other_crm', crm: row.crm as CrmKind };
    if (row.used_at !== null && row.used_at !== undefined) return { kind: 'used' };
    const marked = await this.db(this.tables.connectStates).where({ state_hash: stateHash }).whereNull('used_at').update({ used_at: new Date(this.now()) });
    if (affectedRows(marked) !== 1) return { kind: 'used' };
    if (toDate(row.expires_at).getTime() <= this.now()) return { kind: 'expired' };
    return {
      kind: 'ok',
      connect: {
        crm,
        redirectUri: row.redirect_uri,
        ...(row.verifier ? { verifier: this.sealer.open(row.verifier, verifierContext(row.tenant_id, stateHash)) } : {}),
        createdAt: toDate(row.created_at),
      },
    };
  }
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function verifierContext(tenantId: string, stateHash: string) {
  return { tenantId, purpose: `connect_states.verifier:${stateHash}` };
}
