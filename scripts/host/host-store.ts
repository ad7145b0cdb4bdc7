/**
 * The reference host's own little tables: its settings (the license switch) and its DIDs, each
 * DID owned by one tenant (a number rings in one place, so another tenant cannot take it). A
 * real PBX admin has its own; this one exists so the demo and the browser tests are real.
 */
import type { Knex } from 'knex';

export interface Did {
  id: number;
  tenantId: string;
  number: string;
  /** "crm-routing:<ruleId>" or a catalog choice such as "extension:100". */
  destination: string;
}

export class HostStore {
  /** DID number -> owning tenant, kept in memory for HostContext.callTenant (asked synchronously at every call's end). */
  private readonly didOwners = new Map<string, string>();

  constructor(private readonly db: Knex) {}

  /** The tenant that owns the DID, from memory (this process's saves; loaded at init). */
  didTenant(number: string): string | undefined {
    return this.didOwners.get(number);
  }

  async init(): Promise<void> {
    if (!(await this.db.schema.hasTable('host_settings'))) {
      await this.db.schema.createTable('host_settings', (t) => {
        t.string('name', 64).primary();
        t.string('value', 255).notNullable();
      });
    }
    if (!(await this.db.schema.hasTable('host_dids'))) {
      await this.db.schema.createTable('host_dids', (t) => {
        t.increments('id');
        t.string('tenant_id', 191).notNullable().defaultTo('default').index();
        t.string('number', 32).notNullable().unique();
        t.string('destination', 191).notNullable();
      });
    } else if (!(await this.db.schema.hasColumn('host_dids', 'tenant_id'))) {
      // Demo databases from before DIDs had owners: every DID was the admin's.
      await this.db.schema.alterTable('host_dids', (t) => {
        t.string('tenant_id', 191).notNullable().defaultTo('default').index();
      });
    }
    for (const row of await this.db('host_dids').select('number', 'tenant_id')) this.didOwners.set(String(row.number), String(row.tenant_id));
  }

  async setting(name: string): Promise<string | undefined> {
    const row = await this.db('host_settings').where({ name }).first();
    return row?.value;
  }

  async setSetting(name: string, value: string): Promise<void> {
    await this.db('host_settings').insert({ name, value }).onConflict('name').merge();
  }

  async dids(tenantId: string): Promise<Did[]> {
    return this.db('host_dids').where({ tenant_id: tenantId }).select('id', 'tenant_id as tenantId', 'number', 'destination').orderBy('number');
  }

  /** Adds the tenant's DID or changes its destination; 'taken' when another tenant has the number. */
  async saveDid(tenantId: string, number: string, destination: string): Promise<'saved' | 'taken'> {
    const existing = await this.db('host_dids').where({ number }).first('tenant_id');
    if (existing && existing.tenant_id !== tenantId) return 'taken';
    if (existing) {
      await this.db('host_dids').where({ number, tenant_id: tenantId }).update({ destination });
      return 'saved';
    }
    try {
      await this.db('host_dids').insert({ tenant_id: tenantId, number, destination });
      this.didOwners.set(number, tenantId);
      return 'saved';
    } catch (err) {
      // Another tenant saved the number in between (the unique index); any other failure is real.
      if ((await this.db('host_dids').where({ number }).first('tenant_id'))?.tenant_id !== tenantId) return 'taken';
      throw err;
    }
  }

  async deleteDid(tenantId: string, id: number): Promise<void> {
    const row = await this.db('host_dids').where({ id, tenant_id: tenantId }).first('number');
    await this.db('host_dids').where({ id, tenant_id: tenantId }).delete();
    if (row) this.didOwners.delete(String(row.number));
  }
}
