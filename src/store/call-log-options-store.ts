/**
 * Log options per tenant and integration ("custom" for the Custom CRM call log, else the CRM
 * kind). Settings are JSON; the Custom CRM call log's headers (they may carry a token) are one
 * sealed secret, never handed to a page.
 */
import type { Knex } from 'knex';
import { storedLogOptions, type CallLogOptions } from '../calllog/log-options';
import { isUniqueViolation } from './db-values';
import type { Sealer } from './sealing';
import type { PluginTables } from './tables';

/** The Custom CRM call log's own settings, besides the common options. */
export interface CustomCallLogSettings {
  /** https URL receiving one JSON POST per call; '' = off. */
  url: string;
}

export interface StoredLogOptions {
  integration: string;
  options: CallLogOptions;
  /** Custom CRM only. */
  url: string;
  /** Whether headers are stored (their values never leave the store for a page). */
  hasHeaders: boolean;
}

export interface LogOptionsChanges {
  options: CallLogOptions;
  url?: string;
  /** `Name: value` lines; undefined keeps what is stored, '' removes them. */
  headers?: string;
}

interface OptionColumns {
  tenant_id: string;
  integration: string;
  options: string;
  secrets: string | null;
}

export class CallLogOptionsStore {
  constructor(
    private readonly db: Knex,
    private readonly tables: PluginTables,
    private readonly sealer: Sealer,
  ) {}

  async list(tenantId: string): Promise<StoredLogOptions[]> {
    const rows = (await this.db(this.tables.callLogOptions).where({ tenant_id: tenantId })) as OptionColumns[];
    return rows.map(toStored);
  }

  async get(tenantId: string, integration: string): Promise<StoredLogOptions | undefined> {
    const row = (await this.db(this.tables.callLogOptions).where({ tenant_id: tenantId, integration }).first()) as OptionColumns | undefined;
    return row ? toStored(row) : undefined;
  }

  /** The Custom CRM call log's headers, opened (for the writer only). */
  async headers(tenantId: string, integration: string): Promise<string> {
    const row = (await this.db(this.tables.callLogOptions).where({ tenant_id: tenantId, integration }).first()) as OptionColumns | undefined;
    return row?.secrets ? this.sealer.open(row.secrets, context(tenantId, integration)) : '';
  }

  async save(tenantId: string, integration: string, changes: LogOptionsChanges): Promise<void> {
    const columns: Record<string, unknown> = {
      options: JSON.stringify({ ...changes.options, ...(changes.url !== undefined ? { url: changes.url } : {}) }),
      updated_at: new Date(),
    };
    if (changes.headers !== undefined) columns.secrets = changes.headers === '' ? null : this.sealer.seal(changes.headers, context(tenantId, integration));
    const table = this.tables.callLogOptions;
    const updated = await this.db(table).where({ tenant_id: tenantId, integration }).update(columns);
    if (Number(updated) > 0) return;
    try {
      await this.db(table).insert({ tenant_id: tenantId, integration, secrets: null, ...columns });
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      await this.db(table).where({ tenant_id: tenantId, integration }).update(columns);
    }
  }
}

function context(tenantId: string, integration: string) {
  return { tenantId, purpose: `call_log_options.secrets:${integration}` };
}

function toStored(row: OptionColumns): StoredLogOptions {
  const json = JSON.parse(row.options) as Record<string, unknown>;
  return { integration: row.integration, options: storedLogOptions(json), url: typeof json.url === 'string' ? json.url : '', hasHeaders: row.secrets !== null && row.secrets !== '' };
}
