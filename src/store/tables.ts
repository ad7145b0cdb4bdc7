/**
 * Table names of the plugin, derived from the host's table prefix in this one place. The
 * migrations (plain JS) derive the same names from the same prefix; a test checks they agree.
 */
import { StoreError } from './store-errors';

export const DEFAULT_TABLE_PREFIX = 'crm_routing_';

/**
 * Lowercase letters, digits and underscores, starting with a letter. At most 32 characters so
 * that every table, index and constraint name (prefix + the longest suffix, 26 characters) stays
 * within MySQL's 64-character identifier limit.
 */
const PREFIX_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;

export interface PluginTables {
  prefix: string;
  integrations: string;
  rules: string;
  ruleRows: string;
  decisions: string;
  cacheVersions: string;
  /** "Connect" flows started and not yet finished (state, PKCE verifier sealed). */
  connectStates: string;
  /** Sign-in state of CRMs whose refresh tokens work once or rotate, shared by every process. */
  tokenStates: string;
  /** Log options per tenant and integration (the Custom CRM call log's headers sealed). */
  callLogOptions: string;
  /** One row per finished call and integration: the CRM writes still to do and done. */
  callOutbox: string;
  /** knex's own bookkeeping; its lock table is this name + "_lock". */
  migrations: string;
}

export function pluginTables(prefix: string = DEFAULT_TABLE_PREFIX): PluginTables {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new StoreError(
      'TABLE_PREFIX_INVALID',
      `Table prefix "${prefix}" is not usable: use 1-32 lowercase letters, digits or underscores, starting with a letter (e.g. "crm_routing_").`,
    );
  }
  return {
    prefix,
    integrations: `${prefix}integrations`,
    rules: `${prefix}rules`,
    ruleRows: `${prefix}rule_rows`,
    decisions: `${prefix}decisions`,
    cacheVersions: `${prefix}cache_versions`,
    connectStates: `${prefix}connect_states`,
    tokenStates: `${prefix}token_states`,
    callLogOptions: `${prefix}call_log_options`,
    callOutbox: `${prefix}call_outbox`,
    migrations: `${prefix}migrations`,
  };
}
