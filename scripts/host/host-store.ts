/**
 * The reference host's own little tables: its settings (the license switch) and its DIDs.
 * A real PBX admin has its own; this one exists so the demo and the browser tests are real.
 */
import type { Knex } from 'knex';

export interface Did {
  id: number;
  number: string;
  /** "crm-routing:<ruleId>" or a catalog choice such as "extension:100". */
  destination: string;
}

export class HostStore {
  constructor(private readonly db: Knex) {}

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
        t.string('number', 32).notNullable().unique();
        t.string('destination', 191).notNullable();
      });
    }
  }

  async setting(name: string): Promise<string | undefined> {
    const row = await this.db('host_settings').where({ name }).first();
    return row?.value;
  }

  async setSetting(name: string, value: string): Promise<void> {
    await this.db('host_settings').insert({ name, value }).onConflict('name').merge();
  }

  async dids(): Promise<Did[]> {
    return this.db('host_dids').select('id', 'number', 'destination').orderBy('number');
  }

  async saveDid(number: string, destination: string): Promise<void> {
    await this.db('host_dids').insert({ number, destination }).onConflict('number').merge();
  }

  async deleteDid(id: number): Promise<void> {
    await this.db('host_dids').where({ id }).delete();
  }
}
