/**
 * The decision log: one row per routed call, written in batches off the caller's path, read by
 * the rule page's "recent calls", and pruned so it stays bounded.
 */
import type { Knex } from 'knex';
import type { DestinationRef, DestinationType } from '../domain/destination';
import { affectedRows, capLength, toDate, toNullableNumber, toNumber } from './db-values';
import type { PluginTables } from './tables';

/** How the call was moved: AMI Redirect, AGI SET CONTEXT/EXTENSION/PRIORITY, or not at all (caller gone). */
export type MoveMethod = 'ami' | 'agi' | 'none';

export interface Decision {
  tenantId: string;
  ruleId: number;
  /** Asterisk's agi_uniqueid. */
  callId: string;
  caller: string | null;
  did: string | null;
  dtmf: string | null;
  /** The CRM value as fetched; cut to VALUE_MAX_LENGTH characters. */
  value: string | null;
  errorCode: string | null;
  /** Cut to ERROR_MESSAGE_MAX_LENGTH characters. */
  errorMessage: string | null;
  /** The call flow's outcome code (matched, no match, CRM error, timeout...); at most 32 characters. */
  outcome: string;
  /** Index of the matching row; null when the default destination was used. */
  rowIndex: number | null;
  destination: DestinationRef | null;
  method: MoveMethod;
  lookupMs: number | null;
  totalMs: number;
  createdAt: Date;
}

export interface StoredDecision extends Decision {
  id: number;
}

export interface PruneOptions {
  /** Decisions older than this many days are deleted. */
  olderThanDays: number;
  /** Besides age: keep at most this many of the newest decisions per rule. */
  maxRowsPerRule?: number;
  /** "Now" for the age cut-off (tests). */
  now?: Date;
}

export interface PruneReport {
  deletedByAge: number;
  deletedByCount: number;
}

export const VALUE_MAX_LENGTH = 255;
export const ERROR_MESSAGE_MAX_LENGTH = 500;
/** Keeps one statement under SQLite's bound-parameter limit and MySQL's packet size. */
const INSERT_CHUNK_ROWS = 500;
/** Deleting by age in slices keeps each statement's locks short on a busy MySQL. */
const PRUNE_CHUNK_ROWS = 5000;
const DAY_MS = 86_400_000;

interface DecisionColumns {
  id: unknown;
  tenant_id: string;
  rule_id: unknown;
  call_id: string;
  caller: string | null;
  did: string | null;
  dtmf: string | null;
  value: string | null;
  error_code: string | null;
  error_message: string | null;
  outcome: string;
  row_index: unknown;
  dest_type: string | null;
  dest_target: string | null;
  method: string;
  lookup_ms: unknown;
  total_ms: unknown;
  created_at: unknown;
}

export class DecisionStore {
  constructor(
    private readonly db: Knex,
    private readonly tables: PluginTables,
  ) {}

  /** One INSERT for a usual batch (up to 500 decisions). */
  async insertMany(decisions: readonly Decision[]): Promise<void> {
    for (let start = 0; start < decisions.length; start += INSERT_CHUNK_ROWS) {
      await this.db(this.tables.decisions).insert(decisions.slice(start, start + INSERT_CHUNK_ROWS).map(toColumns));
    }
  }

  /** The rule's newest decisions first. */
  async recent(tenantId: string, ruleId: number, limit: number): Promise<StoredDecision[]> {
    const rows = (await this.db(this.tables.decisions)
      .where({ tenant_id: tenantId, rule_id: ruleId })
      .orderBy('id', 'desc')
      .limit(Math.max(1, Math.floor(limit)))) as DecisionColumns[];
    return rows.map(fromColumns);
  }

  async prune(options: PruneOptions): Promise<PruneReport> {
    const cutoff = new Date((options.now ?? new Date()).getTime() - options.olderThanDays * DAY_MS);
    const deletedByAge = await this.deleteOlderThan(cutoff);
    const deletedByCount = options.maxRowsPerRule === undefined ? 0 : await this.keepNewestPerRule(options.maxRowsPerRule);
    return { deletedByAge, deletedByCount };
  }

  private async deleteOlderThan(cutoff: Date): Promise<number> {
    let deleted = 0;
    for (;;) {
      // MySQL allows no LIMIT inside an IN subquery: select the slice's ids, then delete them.
      const ids = (await this.db(this.tables.decisions)
        .where('created_at', '<', cutoff)
        .orderBy('created_at')
        .limit(PRUNE_CHUNK_ROWS)
        .pluck('id')) as unknown[];
      if (ids.length === 0) return deleted;
      deleted += affectedRows(await this.db(this.tables.decisions).whereIn('id', ids.map(toNumber)).delete());
      if (ids.length < PRUNE_CHUNK_ROWS) return deleted;
    }
  }

  private async keepNewestPerRule(maxRows: number): Promise<number> {
    const keep = Math.max(0, Math.floor(maxRows));
    const crowded = (await this.db(this.tables.decisions)
      .select('tenant_id', 'rule_id')
      .groupBy('tenant_id', 'rule_id')
      .havingRaw('count(*) > ?', [keep])) as Array<{ tenant_id: string; rule_id: unknown }>;
    let deleted = 0;
    for (const group of crowded) {
      const scope = { tenant_id: group.tenant_id, rule_id: toNumber(group.rule_id) };
      // The newest id that falls outside the kept window; it and everything older go.
      const oldestDropped = (await this.db(this.tables.decisions)
        .select('id')
        .where(scope)
        .orderBy('id', 'desc')
        .offset(keep)
        .first()) as { id: unknown } | undefined;
      if (oldestDropped === undefined) continue;
      deleted += affectedRows(await this.db(this.tables.decisions).where(scope).andWhere('id', '<=', toNumber(oldestDropped.id)).delete());
    }
    return deleted;
  }
}

function toColumns(d: Decision): Record<string, unknown> {
  return {
    tenant_id: d.tenantId,
    rule_id: d.ruleId,
    call_id: capLength(d.callId, 64) ?? '',
    caller: capLength(d.caller, 64),
    did: capLength(d.did, 64),
    dtmf: capLength(d.dtmf, 32),
    value: capLength(d.value, VALUE_MAX_LENGTH),
    error_code: capLength(d.errorCode, 32),
    error_message: capLength(d.errorMessage, ERROR_MESSAGE_MAX_LENGTH),
    outcome: capLength(d.outcome, 32) ?? '',
    row_index: d.rowIndex,
    dest_type: d.destination?.type ?? null,
    dest_target: capLength(d.destination?.target, 191),
    method: d.method,
    lookup_ms: d.lookupMs === null ? null : Math.round(d.lookupMs),
    total_ms: Math.round(d.totalMs),
    created_at: d.createdAt,
  };
}

function fromColumns(row: DecisionColumns): StoredDecision {
  return {
    id: toNumber(row.id),
    tenantId: row.tenant_id,
    ruleId: toNumber(row.rule_id),
    callId: row.call_id,
    caller: row.caller,
    did: row.did,
    dtmf: row.dtmf,
    value: row.value,
    errorCode: row.error_code,
    errorMessage: row.error_message,
    outcome: row.outcome,
    rowIndex: toNullableNumber(row.row_index),
    destination: row.dest_type === null ? null : { type: row.dest_type as DestinationType, target: row.dest_target ?? '' },
    method: row.method as MoveMethod,
    lookupMs: toNullableNumber(row.lookup_ms),
    totalMs: toNumber(row.total_ms),
    createdAt: toDate(row.created_at),
  };
}
