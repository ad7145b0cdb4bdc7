/**
 * The reference host's IVR menus: each IVR of the catalog (200 - Main menu, 201 - After hours)
 * is a menu whose keys 0-9 each send the caller to a destination: a catalog entry, or a CRM
 * Routing rule whose Location is IVR. Options are kept per tenant; the menus themselves are the
 * catalog's IVR entries, as a real PBX's IVR list would be.
 */
import type { Knex } from 'knex';

export const IVR_DIGITS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '0'] as const;
export type IvrDigit = (typeof IVR_DIGITS)[number];

export interface IvrOption {
  ivr: string;
  digit: IvrDigit;
  /** "crm-routing:<ruleId>" or a catalog choice such as "queue:103". */
  destination: string;
}

export class IvrMenus {
  constructor(private readonly db: Knex) {}

  async init(): Promise<void> {
    if (await this.db.schema.hasTable('host_ivr_options')) return;
    await this.db.schema.createTable('host_ivr_options', (t) => {
      t.string('tenant_id', 191).notNullable();
      t.string('ivr', 32).notNullable();
      t.string('digit', 1).notNullable();
      t.string('destination', 191).notNullable();
      t.primary(['tenant_id', 'ivr', 'digit']);
      t.index(['destination'], 'host_ivr_options_destination');
    });
  }

  /** The tenant's options of every menu. */
  async options(tenantId: string): Promise<IvrOption[]> {
    return (await this.db('host_ivr_options').select('ivr', 'digit', 'destination').where({ tenant_id: tenantId }).orderBy(['ivr', 'digit'])) as IvrOption[];
  }

  /** Replaces one menu's options; a digit without a destination has no option. */
  async saveMenu(tenantId: string, ivr: string, options: Partial<Record<IvrDigit, string>>): Promise<void> {
    await this.db.transaction(async (trx) => {
      await trx('host_ivr_options').where({ tenant_id: tenantId, ivr }).delete();
      const rows = IVR_DIGITS.filter((d) => (options[d] ?? '') !== '').map((digit) => ({ tenant_id: tenantId, ivr, digit, destination: options[digit]! }));
      if (rows.length > 0) await trx('host_ivr_options').insert(rows);
    });
  }

  /** The tenant's options that send callers to one of `destinations`. */
  async optionsTo(tenantId: string, destinations: string[]): Promise<IvrOption[]> {
    if (destinations.length === 0) return [];
    return (await this.db('host_ivr_options').select('ivr', 'digit', 'destination').where({ tenant_id: tenantId }).whereIn('destination', destinations).orderBy(['ivr', 'digit'])) as IvrOption[];
  }
}
