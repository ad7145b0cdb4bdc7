/**
 * The plugin's storage on the host's database: runs the migrations once, then hands out the
 * three repositories over the same knex instance, table names and sealer.
 */
import type { Knex } from 'knex';
import { DecisionStore } from './decision-store';
import { IntegrationStore } from './integration-store';
import { migrateToLatest } from './migrations';
import { RuleStore } from './rule-store';
import { Sealer } from './sealing';
import { pluginTables, type PluginTables } from './tables';

export interface PluginStoreOptions {
  /** Prefix of every table, the migrations table included. Default "crm_routing_". */
  tablePrefix?: string;
  /** The host's key material for sealing CRM secrets; at least 32 bytes. */
  secretKey: string | Buffer;
}

export class PluginStore {
  readonly rules: RuleStore;
  readonly integrations: IntegrationStore;
  readonly decisions: DecisionStore;

  constructor(
    readonly db: Knex,
    readonly tables: PluginTables,
    sealer: Sealer,
  ) {
    this.rules = new RuleStore(db, tables, sealer);
    this.integrations = new IntegrationStore(db, tables, sealer);
    this.decisions = new DecisionStore(db, tables);
  }

  /** Checks the prefix and key before touching the database, then migrates to the latest version. */
  static async create(db: Knex, options: PluginStoreOptions): Promise<PluginStore> {
    const tables = pluginTables(options.tablePrefix);
    const sealer = new Sealer(options.secretKey);
    await migrateToLatest(db, tables);
    return new PluginStore(db, tables, sealer);
  }
}
