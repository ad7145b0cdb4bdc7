/**
 * The plugin's storage on the host's database: runs the migrations once, then hands out the
 * repositories over the same knex instance, table names and sealer.
 */
import type { Knex } from 'knex';
import type { HostLogger } from '../host';
import { ConnectStateStore } from './connect-state-store';
import { DecisionCounts } from './decision-counts';
import { DecisionStore } from './decision-store';
import { IntegrationStore } from './integration-store';
import { migrateToLatest } from './migrations';
import { RuleStore } from './rule-store';
import { Sealer } from './sealing';
import { pluginTables, type PluginTables } from './tables';
import { TokenStateStore } from './token-state-store';

export interface PluginStoreOptions {
  /** Prefix of every table, the migrations table included. Default "crm_routing_". */
  tablePrefix?: string;
  /** The host's key material for sealing CRM secrets; at least 32 bytes. */
  secretKey: string | Buffer;
  /** Where a stored sign-in that no longer opens is reported. */
  logger?: HostLogger;
}

export class PluginStore {
  readonly rules: RuleStore;
  readonly integrations: IntegrationStore;
  readonly decisions: DecisionStore;
  /** Counts over the decision log for the Routing list and a rule's Outcomes page. */
  readonly decisionCounts: DecisionCounts;
  readonly connectStates: ConnectStateStore;
  readonly tokenStates: TokenStateStore;

  constructor(
    readonly db: Knex,
    readonly tables: PluginTables,
    sealer: Sealer,
    logger?: HostLogger,
  ) {
    this.rules = new RuleStore(db, tables, sealer);
    this.integrations = new IntegrationStore(db, tables, sealer);
    this.decisions = new DecisionStore(db, tables);
    this.decisionCounts = new DecisionCounts(db, tables);
    this.connectStates = new ConnectStateStore(db, tables, sealer);
    this.tokenStates = new TokenStateStore(db, tables, sealer, logger);
  }

  /** Checks the prefix and key before touching the database, then migrates to the latest version. */
  static async create(db: Knex, options: PluginStoreOptions): Promise<PluginStore> {
    const tables = pluginTables(options.tablePrefix);
    const sealer = new Sealer(options.secretKey);
    await migrateToLatest(db, tables);
    return new PluginStore(db, tables, sealer, options.logger);
  }
}
