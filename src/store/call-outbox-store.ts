/**
 * The call log's outbox: one row per finished call and integration, keyed by (tenant, Linkedid,
 * integration) so a call enqueued twice is stored once. Rows are claimed through the database:
 * a claim is one UPDATE that succeeds only while no live lease holds the row, so with several
 * plugin processes on one database each row is worked on by one at a time, and a row whose
 * process died is taken over once its lease expires.
 */
import type { Knex } from 'knex';
import type { CallActivity } from '../crm/call-log-writer';
import type { CallDirection, CallDisposition } from '../calllog/completed-call';
import { affectedRows, capLength, toBoolean, toDate, toNumber } from './db-values';
import type { PluginTables } from './tables';

export const OUTBOX_STATUSES = ['pending', 'sent', 'skipped', 'failed'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/** The call as the Call log page shows it. */
export interface CallSummary {
  direction: CallDirection;
  disposition: CallDisposition;
  externalNumber: string;
  did?: string;
  agentExtension?: string;
  agentName?: string;
  queue?: string;
  startedAt: string;
  talkSeconds: number;
  ruleName?: string;
}

export interface NewOutboxRow {
  tenantId: string;
  linkedId: string;
  integration: string;
  call: CallSummary;
  /** The activity to write; undefined when an option skips the call (`skipReason`). */
  activity?: CallActivity;
  skipReason?: string;
  endedAt: Date;
  queuedAt: Date;
  giveUpAt: Date;
}

export interface OutboxRow {
  id: number;
  tenantId: string;
  linkedId: string;
  integration: string;
  status: OutboxStatus;
  call: CallSummary;
  activity: CallActivity | null;
  skipReason: string | null;
  attempts: number;
  nextAttemptAt: Date;
  giveUpAt: Date;
  /** A write may have reached the CRM without our hearing back (timeout, process killed). */
  uncertain: boolean;
  errorCode: string | null;
  errorMessage: string | null;
  activityId: string | null;
  recordUrl: string | null;
  endedAt: Date;
  queuedAt: Date;
  doneAt: Date | null;
  /** The claim's lease token (rows from claimDue only): finish() needs it. */
  lease?: string;
}

/** What a worker learned from one attempt. */
export type AttemptOutcome =
  | { status: 'sent'; activityId: string; recordUrl?: string }
  | { status: 'skipped'; reason: string }
  | { status: 'failed'; code: string; message: string }
  | { status: 'pending'; code: string; message: string; nextAttemptAt: Date; uncertain: boolean };

interface OutboxColumns {
  id: unknown;
  tenant_id: string;
  linkedid: string;
  integration: string;
  status: string;
  call: string;
  activity: string | null;
  skip_reason: string | null;
  attempts: unknown;
  next_attempt_at: unknown;
  give_up_at: unknown;
  uncertain: unknown;
  error_code: string | null;
  error_message: string | null;
  activity_id: string | null;
  record_url: string | null;
  ended_at: unknown;
  queued_at: unknown;
  done_at: unknown;
}

const PRUNE_CHUNK_ROWS = 1000;

export class CallOutboxStore {
  /** Claims made by this store: each gets its own lease token. */
  private claims = 0;

  constructor(
    private readonly db: Knex,
    private readonly tables: PluginTables,
  ) {}

  /** Inserts the rows; a row whose (tenant, Linkedid, integration) is already there is left as it is. */
  async insertMany(rows: readonly NewOutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.db(this.tables.callOutbox)
      .insert(rows.map((row) => ({
        tenant_id: row.tenantId,
        linkedid: row.linkedId.slice(0, 64),
        integration: row.integration,
        status: row.activity ? 'pending' : 'skipped',
        call: JSON.stringify(row.call),
        activity: row.activity ? JSON.stringify(row.activity) : null,
        skip_reason: capLength(row.skipReason, 255),
        attempts: 0,
        next_attempt_at: row.queuedAt,
        give_up_at: row.giveUpAt,
        uncertain: false,
        ended_at: row.endedAt,
        queued_at: row.queuedAt,
        done_at: row.activity ? null : row.queuedAt,
      })))
      .onConflict(['tenant_id', 'linkedid', 'integration'])
      .ignore();
  }

  /**
   * Claims up to `limit` due rows for `owner` until now + leaseMs: each candidate is taken by an
   * UPDATE that only succeeds while no live lease holds it, so of two processes reading the same
   * candidates, each row goes to the one whose UPDATE runs first. Each claim has its own lease token (`owner.n`), so an outcome is
   * recorded only by the claim that holds the row. A row claimed while an expired lease was still
   * on it comes back `uncertain`: its previous process died mid-attempt and may have written.
   */
  async claimDue(owner: string, leaseMs: number, limit: number, now = new Date()): Promise<OutboxRow[]> {
    const candidates = (await this.db(this.tables.callOutbox)
      .select('id', 'lease_owner')
      .where({ status: 'pending' })
      .andWhere('next_attempt_at', '<=', now)
      .andWhere((q) => q.whereNull('lease_until').orWhere('lease_until', '<', now))
      .orderBy('next_attempt_at')
      .limit(limit)) as Array<{ id: unknown; lease_owner: string | null }>;
    if (candidates.length === 0) return [];
    const abandoned = new Set(candidates.filter((c) => c.lease_owner !== null).map((c) => toNumber(c.id)));
    this.claims += 1;
    const lease = `${owner}.${this.claims}`.slice(0, 64);
    const ids = candidates.map((c) => toNumber(c.id)).sort((a, b) => a - b);
    // One UPDATE per row by primary key, in id order, in one transaction: each locks only its row
    // (a range UPDATE over the status index locked every pending row on MariaDB and deadlocked
    // with another process recording its outcomes), and the batch costs one commit.
    const changed = await retryOnDeadlock(() => this.db.transaction(async (trx) => {
      let n = 0;
      for (const id of ids) {
        n += affectedRows(await trx(this.tables.callOutbox)
          .where({ id, status: 'pending' })
          .andWhere((q) => q.whereNull('lease_until').orWhere('lease_until', '<', now))
          .update({ lease_owner: lease, lease_until: new Date(now.getTime() + leaseMs), attempts: trx.raw('attempts + 1') }));
      }
      return n;
    }));
    if (changed === 0) return [];
    const rows = (await this.db(this.tables.callOutbox).where({ lease_owner: lease })) as OutboxColumns[];
    return rows.map((row) => {
      const claimed = fromColumns(row);
      return { ...claimed, lease, uncertain: claimed.uncertain || abandoned.has(claimed.id) };
    });
  }

  /** Before a write is sent: from now on a retry must ask the CRM first. False when the lease is no longer held. */
  async markUncertain(id: number, lease: string): Promise<boolean> {
    return affectedRows(await this.db(this.tables.callOutbox).where({ id, lease_owner: lease, status: 'pending' }).update({ uncertain: true })) === 1;
  }

  /**
   * Records the outcomes of a claimed batch in one transaction (one commit, one fsync, rather than
   * one per row); answers, per outcome, whether its claim still held the row.
   */
  async finishMany(outcomes: ReadonlyArray<{ id: number; lease: string; outcome: AttemptOutcome }>, now = new Date()): Promise<boolean[]> {
    if (outcomes.length === 0) return [];
    const order = outcomes.map((_, i) => i).sort((a, b) => outcomes[a]!.id - outcomes[b]!.id);
    return retryOnDeadlock(() => this.db.transaction(async (trx) => {
      const held = new Array<boolean>(outcomes.length).fill(false);
      for (const i of order) held[i] = await this.finish(outcomes[i]!.id, outcomes[i]!.lease, outcomes[i]!.outcome, now, trx);
      return held;
    }));
  }

  /** Records an attempt's outcome and releases the lease; false when the claim `lease` no longer holds the row. */
  async finish(id: number, lease: string, outcome: AttemptOutcome, now = new Date(), db: Knex | Knex.Transaction = this.db): Promise<boolean> {
    const common = { lease_owner: null, lease_until: null };
    const columns: Record<string, unknown> =
      outcome.status === 'sent' ? { ...common, status: 'sent', uncertain: false, activity_id: capLength(outcome.activityId, 191), record_url: capLength(outcome.recordUrl, 2000), error_code: null, error_message: null, done_at: now }
      : outcome.status === 'skipped' ? { ...common, status: 'skipped', uncertain: false, skip_reason: capLength(outcome.reason, 255), done_at: now }
      : outcome.status === 'failed' ? { ...common, status: 'failed', error_code: capLength(outcome.code, 32), error_message: capLength(outcome.message, 500), done_at: now }
      : { ...common, status: 'pending', uncertain: outcome.uncertain, error_code: capLength(outcome.code, 32), error_message: capLength(outcome.message, 500), next_attempt_at: outcome.nextAttemptAt };
    return affectedRows(await db(this.tables.callOutbox).where({ id, lease_owner: lease }).update(columns)) === 1;
  }

  /** The tenant's newest rows first, optionally of one status. */
  async recent(tenantId: string, options: { status?: OutboxStatus; limit: number; beforeId?: number }): Promise<OutboxRow[]> {
    const query = this.db(this.tables.callOutbox).where({ tenant_id: tenantId });
    if (options.status) query.andWhere({ status: options.status });
    if (options.beforeId !== undefined) query.andWhere('id', '<', options.beforeId);
    const rows = (await query.orderBy('id', 'desc').limit(Math.max(1, Math.min(500, Math.floor(options.limit))))) as OutboxColumns[];
    return rows.map(fromColumns);
  }

  async get(tenantId: string, id: number): Promise<OutboxRow | undefined> {
    const row = (await this.db(this.tables.callOutbox).where({ tenant_id: tenantId, id }).first()) as OutboxColumns | undefined;
    return row ? fromColumns(row) : undefined;
  }

  /** A failed row of the tenant back to pending, due now, with another 24 hours (`retryMs`). */
  async retry(tenantId: string, id: number, retryMs: number, now = new Date()): Promise<boolean> {
    return affectedRows(await this.db(this.tables.callOutbox)
      .where({ tenant_id: tenantId, id, status: 'failed' })
      .update({ status: 'pending', next_attempt_at: now, give_up_at: new Date(now.getTime() + retryMs), done_at: null, lease_owner: null, lease_until: null })) === 1;
  }

  /** Rows per status across tenants (health, benchmarks). */
  async countByStatus(tenantId?: string): Promise<Record<OutboxStatus, number>> {
    const query = this.db(this.tables.callOutbox).select('status').count({ n: '*' }).groupBy('status');
    if (tenantId !== undefined) query.where({ tenant_id: tenantId });
    const rows = (await query) as Array<{ status: string; n: unknown }>;
    const counts = { pending: 0, sent: 0, skipped: 0, failed: 0 };
    for (const r of rows) if (r.status in counts) counts[r.status as OutboxStatus] = toNumber(r.n);
    return counts;
  }

  /** Deletes finished rows done before `cutoff`, in slices. */
  async prune(cutoff: Date): Promise<number> {
    let deleted = 0;
    for (;;) {
      const ids = (await this.db(this.tables.callOutbox).whereIn('status', ['sent', 'skipped', 'failed']).andWhere('done_at', '<', cutoff).limit(PRUNE_CHUNK_ROWS).pluck('id')) as unknown[];
      if (ids.length === 0) return deleted;
      deleted += affectedRows(await this.db(this.tables.callOutbox).whereIn('id', ids.map(toNumber)).delete());
      if (ids.length < PRUNE_CHUNK_ROWS) return deleted;
    }
  }
}

/** MySQL/MariaDB chose this transaction as a deadlock victim, or a lock wait timed out: run it again (a few times). */
async function retryOnDeadlock<T>(run: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await run();
    } catch (error) {
      const e = error as { errno?: number; code?: string };
      const retry = e.errno === 1213 || e.errno === 1205 || e.code === 'ER_LOCK_DEADLOCK' || e.code === 'ER_LOCK_WAIT_TIMEOUT' || e.code === 'SQLITE_BUSY';
      if (!retry || attempt >= 4) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 * attempt + Math.random() * 20));
    }
  }
}

function reviveActivity(json: string | null): CallActivity | null {
  if (json === null) return null;
  const parsed = JSON.parse(json) as CallActivity & { startedAt: string };
  return { ...parsed, startedAt: new Date(parsed.startedAt) };
}

function fromColumns(row: OutboxColumns): OutboxRow {
  return {
    id: toNumber(row.id),
    tenantId: row.tenant_id,
    linkedId: row.linkedid,
    integration: row.integration,
    status: row.status as OutboxStatus,
    call: JSON.parse(row.call) as CallSummary,
    activity: reviveActivity(row.activity),
    skipReason: row.skip_reason,
    attempts: toNumber(row.attempts),
    nextAttemptAt: toDate(row.next_attempt_at),
    giveUpAt: toDate(row.give_up_at),
    uncertain: toBoolean(row.uncertain),
    errorCode: row.error_code,
    errorMessage: row.error_message,
    activityId: row.activity_id,
    recordUrl: row.record_url,
    endedAt: toDate(row.ended_at),
    queuedAt: toDate(row.queued_at),
    doneAt: row.done_at === null || row.done_at === undefined ? null : toDate(row.done_at),
  };
}
