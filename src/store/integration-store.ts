/**
 * CRM > Integration: one record per tenant and CRM with its non-secret settings (JSON) and its
 * secrets (a JSON object whose values are sealed one by one, each bound to tenant, CRM and
 * secret name). Sealing per value lets a page list which secrets are stored without opening any,
 * and lets an administrator replace one secret that no longer opens without losing the others.
 */
import type { Knex } from 'knex';
import type { CrmKind } from '../domain/crm-kinds';
import { bumpCacheVersion, lockCacheScope, readCacheVersion } from './cache-versions';
import { affectedRows, insertedId, isUniqueViolation, toBoolean, toDate, toNumber } from './db-values';
import type { SealContext, Sealer } from './sealing';
import type { PluginTables } from './tables';

/** An integration with its secrets opened: for the connector, never for a page. */
export interface IntegrationRecord {
  id: number;
  tenantId: string;
  crm: CrmKind;
  enabled: boolean;
  settings: Record<string, unknown>;
  secrets: Record<string, string>;
  createdAt: Date;
  updatedAt: Date;
}

/** What a page may see: settings, and which secrets are stored, never their values. */
export interface IntegrationView {
  id: number;
  tenantId: string;
  crm: CrmKind;
  enabled: boolean;
  settings: Record<string, unknown>;
  secrets: Record<string, { stored: boolean }>;
  updatedAt: Date;
}

export interface IntegrationChanges {
  enabled: boolean;
  /** Non-secret settings; replace the stored ones as a whole. */
  settings: Record<string, unknown>;
  /** A value of null, undefined or '' keeps the stored secret; secrets not named here are kept too. */
  secrets: Record<string, string | null | undefined>;
  /** Secrets to forget (e.g. a token that no longer applies). */
  removeSecrets?: string[];
}

/** An integration that loadAll skipped because a secret could not be opened. */
export interface UnreadableIntegration {
  tenantId: string;
  crm: CrmKind;
  error: unknown;
}

interface IntegrationColumns {
  id: unknown;
  tenant_id: string;
  crm: string;
  enabled: unknown;
  settings: string;
  secrets: string | null;
  created_at: unknown;
  updated_at: unknown;
}

/** Secret name -> sealed value, as stored in the secrets column. */
type SealedSecrets = Record<string, string>;

export class IntegrationStore {
  constructor(
    private readonly db: Knex,
    private readonly tables: PluginTables,
    private readonly sealer: Sealer,
  ) {}

  /** The tenant's integrations as pages may see them, in CRM order. */
  async list(tenantId: string): Promise<IntegrationView[]> {
    const rows = (await this.db(this.tables.integrations).where({ tenant_id: tenantId }).orderBy('crm')) as IntegrationColumns[];
    return rows.map((row) => toView(row));
  }

  async view(tenantId: string, crm: CrmKind): Promise<IntegrationView | undefined> {
    const row = await this.select(this.db, tenantId, crm);
    return row === undefined ? undefined : toView(row);
  }

  /** The integration with secrets opened, for the connector; throws SealedValueError if one does not open. */
  async get(tenantId: string, crm: CrmKind): Promise<IntegrationRecord | undefined> {
    const row = await this.select(this.db, tenantId, crm);
    return row === undefined ? undefined : this.toRecord(row);
  }

  /** Creates or updates the tenant's integration for `crm`; returns it with secrets opened. */
  async save(tenantId: string, crm: CrmKind, changes: IntegrationChanges): Promise<IntegrationRecord> {
    try {
      return await this.saveOnce(tenantId, crm, changes);
    } catch (error) {
      // Two first saves raced and the other inserted the row: this one becomes an update.
      if (isUniqueViolation(error)) return this.saveOnce(tenantId, crm, changes);
      throw error;
    }
  }

  async delete(tenantId: string, crm: CrmKind): Promise<boolean> {
    return this.db.transaction(async (trx) => {
      await lockCacheScope(trx, this.tables.cacheVersions, 'integrations');
      const deleted = affectedRows(await trx(this.tables.integrations).where({ tenant_id: tenantId, crm }).delete());
      if (deleted > 0) await bumpCacheVersion(trx, this.tables.cacheVersions, 'integrations');
      return deleted > 0;
    });
  }

  /** Every tenant's integrations, for a cache on the call path; unreadable ones as in RuleStore.loadAll. */
  async loadAll(onUnreadable?: (failure: UnreadableIntegration) => void): Promise<IntegrationRecord[]> {
    const rows = (await this.db(this.tables.integrations).select('*').orderBy('id')) as IntegrationColumns[];
    const loaded: IntegrationRecord[] = [];
    for (const row of rows) {
      try {
        loaded.push(this.toRecord(row));
      } catch (error) {
        if (onUnreadable === undefined) throw error;
        onUnreadable({ tenantId: row.tenant_id, crm: row.crm as CrmKind, error });
      }
    }
    return loaded;
  }

  async cacheVersion(): Promise<number> {
    return readCacheVersion(this.db, this.tables.cacheVersions, 'integrations');
  }

  private async saveOnce(tenantId: string, crm: CrmKind, changes: IntegrationChanges): Promise<IntegrationRecord> {
    return this.db.transaction(async (trx) => {
      await lockCacheScope(trx, this.tables.cacheVersions, 'integrations');
      const stored = await this.select(trx, tenantId, crm);
      const sealed: SealedSecrets = { ...parseSealed(stored?.secrets ?? null) };
      for (const name of changes.removeSecrets ?? []) delete sealed[name];
      for (const [name, value] of Object.entries(changes.secrets)) {
        if (value !== null && value !== undefined && value !== '') sealed[name] = this.sealer.seal(value, secretContext(tenantId, crm, name));
      }
      const now = new Date();
      const columns = {
        enabled: changes.enabled,
        settings: JSON.stringify(changes.settings),
        secrets: Object.keys(sealed).length === 0 ? null : JSON.stringify(sealed),
        updated_at: now,
      };
      let id: number;
      let createdAt = now;
      if (stored === undefined) {
        id = insertedId(await trx(this.tables.integrations).insert({ tenant_id: tenantId, crm, ...columns, created_at: now }));
      } else {
        id = toNumber(stored.id);
        createdAt = toDate(stored.created_at);
        await trx(this.tables.integrations).where({ tenant_id: tenantId, id }).update(columns);
      }
      await bumpCacheVersion(trx, this.tables.cacheVersions, 'integrations');
      return {
        id,
        tenantId,
        crm,
        enabled: changes.enabled,
        settings: JSON.parse(columns.settings) as Record<string, unknown>,
        secrets: this.openAll(tenantId, crm, sealed),
        createdAt,
        updatedAt: now,
      };
    });
  }

  private async select(db: Knex | Knex.Transaction, tenantId: string, crm: CrmKind): Promise<IntegrationColumns | undefined> {
    return (await db(this.tables.integrations).where({ tenant_id: tenantId, crm }).first()) as IntegrationColumns | undefined;
  }

  private toRecord(row: IntegrationColumns): IntegrationRecord {
    const crm = row.crm as CrmKind;
    return {
      id: toNumber(row.id),
      tenantId: row.tenant_id,
      crm,
      enabled: toBoolean(row.enabled),
      settings: JSON.parse(row.settings) as Record<string, unknown>,
      secrets: this.openAll(row.tenant_id, crm, parseSealed(row.secrets)),
      createdAt: toDate(row.created_at),
      updatedAt: toDate(row.updated_at),
    };
  }

  private openAll(tenantId: string, crm: CrmKind, sealed: SealedSecrets): Record<string, string> {
    return Object.fromEntries(Object.entries(sealed).map(([name, value]) => [name, this.sealer.open(value, secretContext(tenantId, crm, name))]));
  }
}

function secretContext(tenantId: string, crm: CrmKind, name: string): SealContext {
  return { tenantId, purpose: `integrations.secrets:${crm}:${name}` };
}

function parseSealed(json: string | null): SealedSecrets {
  return json === null || json === '' ? {} : (JSON.parse(json) as SealedSecrets);
}

function toView(row: IntegrationColumns): IntegrationView {
  return {
    id: toNumber(row.id),
    tenantId: row.tenant_id,
    crm: row.crm as CrmKind,
    enabled: toBoolean(row.enabled),
    settings: JSON.parse(row.settings) as Record<string, unknown>,
    secrets: Object.fromEntries(Object.keys(parseSealed(row.secrets)).map((name) => [name, { stored: true }])),
    updatedAt: toDate(row.updated_at),
  };
}
