/**
 * The decision log: one row per routed call, written in batches off the caller's path, read by
 * the rule page's "recent calls", and pruned so it stays bounded.
 */
import type { Knex } from 'knex';
import type { Branch } from '../domain/decide';
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
  /** Which way the call went (a row, the default, a failure branch); null when nothing was moved. */
  branch: Branch | null;
  /** Index of the matching row; null when the default destination was used. */
  rowIndex: number | null;
  destination: DestinationRef | null;
  method: MoveMethod;
  lookupMs: number | null;
  totalMs: number;
  createdAt: Date;
  /** "Owner's extension" rows: who the CRM value named (e-mail or extension); cut to OWNER_MAX_LENGTH. */
  owner?: string | null;
  /** Why that owner got no extension (OWNER_UNKNOWN); cut to ERROR_MESSAGE_MAX_LENGTH. */
  ownerNote?: string | null;
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
export const OWNER_MAX_LENGTH = 255;
/**
 * Rows per INSERT. Small, because a host on SQLite runs every statement synchronously on the
 * event loop (better-sqlite3): 25 rows keep one under a millisecond, so a flush never holds up
 * a call for long; a batch of several chunks is one transaction (one commit, one fsync).
 */
export const INSERT_CHUNK_ROWS = 25;
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
  branch: string | null;
  row_index: unknown;
  dest_type: string | null;
  dest_target: string | null;
  method: string;
  lookup_ms: unknown;
  total_ms: unknown;
  created_at: unknown;
  owner: string | null;
  owner_note: string | null;
}

/** The table's columns as toColumnValues gives them. */
const COLUMNS = [
  'tenant_id', 'rule_id', 'call_id', 'caller', 'did', 'dtmf', 'value', 'error_code', 'error_message', 'outcome', 'branch', 'row_index',
  'dest_type', 'dest_target', 'method', 'lookup_ms', 'total_ms', 'created_at', 'owner', 'owner_note',
] as const;

/** An INSERT of a given number of rows, compiled once by knex for the host's dialect: its SQL, and which row and column each `?` takes. */
interface InsertStatement {
  sql: string;
  slots: Int32Array;
}

export class DecisionStore {
  /** Compiled INSERTs by row count; at most INSERT_CHUNK_ROWS of them. */
  private readonly inserts = new Map<number, InsertStatement>();

  constructor(
    private readonly db: Knex,
    private readonly tables: PluginTables,
  ) {}

  /**
   * Writes the decisions, INSERT_CHUNK_ROWS a statement, in one transaction when there are
   * more. Each statement's SQL is compiled by knex once per row count and reused (knex
   * compiled every batch anew: 20 columns quoted and bound per row, most of a flush's time).
   * `pause` runs between statements (the decision log yields the event loop there).
   */
  async insertMany(decisions: readonly Decision[], pause?: () => Promise<void>): Promise<void> {
    if (decisions.length === 0) return;
    if (decisions.length <= INSERT_CHUNK_ROWS) {
      await this.insertChunk(this.db, decisions);
      return;
    }
    await this.db.transaction(async (trx) => {
      for (let start = 0; start < decisions.length; start += INSERT_CHUNK_ROWS) {
        if (start > 0) await pause?.();
        await this.insertChunk(trx, decisions.slice(start, start + INSERT_CHUNK_ROWS));
      }
    });
  }

  private async insertChunk(db: Knex | Knex.Transaction, decisions: readonly Decision[]): Promise<void> {
    const { sql, slots } = this.insertFor(decisions.length);
    const rows = decisions.map(toColumnValues);
    const bindings = new Array<unknown>(slots.length / 2);
    for (let i = 0; i < bindings.length; i += 1) bindings[i] = rows[slots[2 * i]!]![slots[2 * i + 1]!];
    await db.raw(sql, bindings as Knex.RawBinding[]);
  }

  /**
   * The INSERT for `count` rows: knex compiles one row for the host's dialect (identifier
   * quoting, placeholders), with a marker in every cell so each `?` is traced to its column;
   * its VALUES tuple is then repeated (`insert ... values (...), (...)`, which MySQL and SQLite
   * both take; knex's own multi-row form for SQLite, `select ... union all select ...`, is
   * slower for SQLite to prepare).
   */
  private insertFor(count: number): InsertStatement {
    let statement = this.inserts.get(count);
    if (!statement) {
      const compiled = this.db(this.tables.decisions).insert(Object.fromEntries(COLUMNS.map((column, index) => [column, `\u0000${index}`]))).toSQL();
      const columnOf = compiled.bindings.map((binding) => COLUMNS.findIndex((_, index) => binding === `\u0000${index}`));
      const values = compiled.sql.lastIndexOf(' values ');
      const tuple = compiled.sql.slice(values + ' values '.length);
      if (columnOf.some((index) => index === -1) || values === -1 || !/^\([?, ]+\)$/.test(tuple) || (tuple.match(/\?/g) ?? []).length !== COLUMNS.length) {
        throw new Error(`Unexpected INSERT from knex for the decision log: ${compiled.sql}`);
      }
      const slots = new Int32Array(count * COLUMNS.length * 2);
      for (let row = 0; row < count; row += 1) {
        columnOf.forEach((column, i) => {
          const at = 2 * (row * COLUMNS.length + i);
          slots[at] = row;
          slots[at + 1] = column;
        });
      }
      statement = { sql: `${compiled.sql.slice(0, values)} values ${Array(count).fill(tuple).join(', ')}`, slots };
      this.inserts.set(count, statement);
    }
    return statement;
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

/** A decision's cells in COLUMNS order. */
function toColumnValues(d: Decision): unknown[] {
  return [
    d.tenantId,
    d.ruleId,
    capLength(d.callId, 64) ?? '',
    capLength(d.caller, 64),
    capLength(d.did, 64),
    capLength(d.dtmf, 32),
    capLength(d.value, VALUE_MAX_LENGTH),
    capLength(d.errorCode, 32),
    capLength(d.errorMessage, ERROR_MESSAGE_MAX_LENGTH),
    capLength(d.outcome, 32) ?? '',
    d.branch,
    d.rowIndex,
    d.destination?.type ?? null,
    capLength(d.destination?.target, 191),
    d.method,
    d.lookupMs === null ? null : Math.round(d.lookupMs),
    Math.round(d.totalMs),
    d.createdAt,
    capLength(d.owner, OWNER_MAX_LENGTH),
    capLength(d.ownerNote, ERROR_MESSAGE_MAX_LENGTH),
  ];
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
    branch: (row.branch ?? null) as Branch | null,
    rowIndex: toNullableNumber(row.row_index),
    destination: row.dest_type === null ? null : { type: row.dest_type as DestinationType, target: row.dest_target ?? '' },
    method: row.method as MoveMethod,
    lookupMs: toNullableNumber(row.lookup_ms),
    totalMs: toNumber(row.total_ms),
    createdAt: toDate(row.created_at),
    owner: row.owner ?? null,
    ownerNote: row.owner_note ?? null,
  };
}
