/**
 * Delivers the outbox: claims due rows through the database (a lease with an expiry, so each row
 * is worked on by one process and a dead process's rows are taken over), writes each call with
 * its integration's writer, and records the outcome. Retries with exponential backoff (at least
 * a 429's Retry-After) until the row's give-up time, 24 hours after the call by default. A write
 * whose answer never came (timeout, lost connection, a process killed mid-write) is "uncertain":
 * before writing again the worker asks the CRM whether it exists (`findLoggedCall`); CRMs with
 * their own idempotency take the same external id again.
 */
import { randomBytes } from 'node:crypto';
import type { HostLogger } from '../host';
import type { CallLogResult, CallLogWriter } from '../crm/call-log-writer';
import type { Credentials } from '../crm/integration';
import type { AttemptOutcome, CallOutboxStore, OutboxRow } from '../store/call-outbox-store';

/** The integration's own sign-in: a logged call uses no rule's credentials. */
const OWN_CREDENTIALS: Credentials = { username: '', password: '' };

/** Errors after which a write may still have happened. */
const UNCERTAIN_CODES = new Set(['TIMEOUT', 'ABORTED', 'CONNECTION', 'BAD_RESPONSE', 'HTTP_ERROR', 'TOO_LARGE']);

export type WriterLookup = (row: OutboxRow) => Promise<CallLogWriter | { code: string; message: string; retryable: boolean }>;

export interface OutboxWorkerOptions {
  outbox: CallOutboxStore;
  writerFor: WriterLookup;
  logger: HostLogger;
  /** Names this process in leases. Default: random. */
  owner?: string;
  /** How long a claim holds a row. Default 60 s; a write is aborted well before it ends. */
  leaseMs?: number;
  /** One attempt's limit (finding the earlier write included). Default 20 s; at most leaseMs / 2. */
  attemptTimeoutMs?: number;
  /** How often the outbox is asked for due rows while idle. Default 1 s. */
  pollMs?: number;
  /** Rows claimed at once, and written in parallel. Default 16. */
  batchSize?: number;
  /** Batches in flight at once while the outbox has a backlog (the next claim does not wait for the last batch's CRM answers). Default 4. */
  maxBatches?: number;
  /** First retry delay (doubled per attempt, ±20 %) and the longest. Default 5 s and 15 min. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** The clock (tests move it). */
  now?: () => Date;
}

export interface OutboxWorkerStats {
  attempts: number;
  sent: number;
  skipped: number;
  failed: number;
  retried: number;
  /** Claims or outcomes the database did not take (it was unreachable). */
  databaseErrors: number;
}

export class OutboxWorker {
  readonly owner: string;
  readonly stats: OutboxWorkerStats = { attempts: 0, sent: 0, skipped: 0, failed: 0, retried: 0, databaseErrors: 0 };
  private readonly leaseMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly pollMs: number;
  private readonly batchSize: number;
  private readonly maxBatches: number;
  private readonly batches = new Set<Promise<void>>();
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private readonly inFlight = new Set<AbortController>();
  private databaseDown = false;
  private idleDelayMs: number;

  constructor(private readonly options: OutboxWorkerOptions) {
    this.owner = options.owner ?? `w-${randomBytes(9).toString('base64url')}`;
    this.leaseMs = options.leaseMs ?? 60_000;
    this.attemptTimeoutMs = Math.min(options.attemptTimeoutMs ?? 20_000, Math.floor(this.leaseMs / 2));
    this.pollMs = options.pollMs ?? 1000;
    this.batchSize = options.batchSize ?? 16;
    this.maxBatches = Math.max(1, options.maxBatches ?? 4);
    this.backoffBaseMs = options.backoffBaseMs ?? 5000;
    this.backoffMaxMs = options.backoffMaxMs ?? 15 * 60_000;
    this.now = options.now ?? (() => new Date());
    this.idleDelayMs = this.pollMs;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** New rows are due: look now rather than at the next poll. */
  kick(): void {
    if (this.stopped || this.running) return;
    this.schedule(0);
  }

  /** Stops claiming; writes in flight get `graceMs` to finish, then are aborted (their rows stay uncertain and are taken over). */
  async stop(graceMs = 5000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const abort = setTimeout(() => { for (const c of this.inFlight) c.abort(new Error('The plugin is stopping.')); }, graceMs);
    await this.running?.catch(() => {});
    await Promise.all([...this.batches]);
    clearTimeout(abort);
  }

  /** One round: claims a batch and delivers it. Resolves with how many rows it claimed (tests drive it). */
  async runOnce(): Promise<number> {
    const rows = await this.claim();
    await this.deliverBatch(rows);
    return rows.length;
  }

  private async claim(): Promise<OutboxRow[]> {
    let rows: OutboxRow[];
    try {
      rows = await this.options.outbox.claimDue(this.owner, this.leaseMs, this.batchSize, this.now());
      if (this.databaseDown) this.options.logger.info('Call log: the database is reachable again; delivering the outbox');
      this.databaseDown = false;
    } catch (error) {
      this.stats.databaseErrors += 1;
      if (!this.databaseDown) this.options.logger.warn('Call log: the outbox could not be read (database unreachable?); retrying', { error: (error as Error).message });
      this.databaseDown = true;
      throw error;
    }
    return rows;
  }

  private async deliverBatch(rows: OutboxRow[]): Promise<void> {
    if (rows.length === 0) return;
    const outcomes = await Promise.all(rows.map((row) => this.deliver(row)));
    await this.record(rows, outcomes);
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.loop().finally(() => { this.running = undefined; });
    }, delayMs);
    this.timer.unref?.();
  }

  private async loop(): Promise<void> {
    let delay = this.pollMs;
    try {
      const rows = await this.claim();
      this.idleDelayMs = this.pollMs;
      if (rows.length > 0) {
        const batch: Promise<void> = this.deliverBatch(rows).finally(() => this.batches.delete(batch));
        this.batches.add(batch);
      }
      if (rows.length >= this.batchSize) {
        // A backlog: claim the next batch now, unless enough are in flight (then when one is done).
        if (this.batches.size >= this.maxBatches) await Promise.race(this.batches);
        delay = 0;
      } else if (this.batches.size > 0) {
        await Promise.all([...this.batches]);
      }
    } catch {
      // The database is away: ask again later, less often the longer it stays away (at most 30 s).
      this.idleDelayMs = Math.min(30_000, this.idleDelayMs * 2);
      delay = this.idleDelayMs;
    }
    if (!this.stopped) this.schedule(delay);
  }

  /** One attempt at a row; never throws. */
  private async deliver(row: OutboxRow): Promise<AttemptOutcome> {
    const control = new AbortController();
    this.inFlight.add(control);
    const signal = AbortSignal.any([control.signal, AbortSignal.timeout(this.attemptTimeoutMs)]);
    try {
      return await this.attempt(row, signal);
    } catch (error) {
      // writerFor failed (the database, reading a Custom CRM URL): try again soon, the write never started.
      return this.afterError(row, 'CONFIG', `The call log could not prepare the write: ${(error as Error).message}`, true, undefined, row.uncertain);
    } finally {
      this.inFlight.delete(control);
    }
  }

  /** Stores a batch's outcomes together; if that fails, the leases expire and the rows are retried (asking the CRM first). */
  private async record(rows: OutboxRow[], outcomes: AttemptOutcome[]): Promise<void> {
    try {
      const held = await this.options.outbox.finishMany(rows.map((row, i) => ({ id: row.id, lease: row.lease!, outcome: outcomes[i]! })), this.now());
      held.forEach((ok, i) => {
        if (ok) this.count(outcomes[i]!);
        else this.options.logger.warn('Call log: another process took over a row before its outcome was recorded', { id: rows[i]!.id, linkedId: rows[i]!.linkedId });
      });
    } catch (error) {
      this.stats.databaseErrors += 1;
      this.options.logger.warn('Call log: outcomes could not be stored; the rows are retried after their lease', { rows: rows.length, error: (error as Error).message });
    }
  }

  /** One attempt at a claimed row. */
  private async attempt(row: OutboxRow, signal: AbortSignal): Promise<AttemptOutcome> {
    this.stats.attempts += 1;
    if (!row.activity) return { status: 'skipped', reason: row.skipReason ?? 'Nothing to write.' };
    const writer = await this.options.writerFor(row);
    if (!('logCall' in writer)) return this.afterError(row, writer.code, writer.message, writer.retryable, undefined, row.uncertain);
    if (row.uncertain && writer.findLoggedCall) {
      const found = await writer.findLoggedCall(row.activity.externalId, OWN_CREDENTIALS, signal).catch((error: unknown): CallLogResult => ({ kind: 'error', code: 'BAD_RESPONSE', message: String((error as Error)?.message ?? error), retryable: true }));
      if (found?.kind === 'written') return { status: 'sent', activityId: found.activityId, ...(found.recordUrl ? { recordUrl: found.recordUrl } : {}) };
      if (found?.kind === 'error') return this.afterError(row, found.code, `Could not check whether an earlier attempt was written: ${found.message}`, found.retryable, found.retryAfterMs, true);
    }
    // A process killed from here on leaves its lease on the row: the next claim sees it and asks the CRM first.
    const result = await writer.logCall(row.activity, OWN_CREDENTIALS, signal).catch((error: unknown): CallLogResult => ({ kind: 'error', code: 'BAD_RESPONSE', message: String((error as Error)?.message ?? error), retryable: true }));
    if (result.kind === 'written') return { status: 'sent', activityId: result.activityId, ...(result.recordUrl ? { recordUrl: result.recordUrl } : {}) };
    if (result.kind === 'skipped') return { status: 'skipped', reason: result.reason };
    return this.afterError(row, result.code, result.message, result.retryable, result.retryAfterMs, UNCERTAIN_CODES.has(result.code));
  }

  private afterError(row: OutboxRow, code: string, message: string, retryable: boolean, retryAfterMs: number | undefined, uncertain: boolean): AttemptOutcome {
    const now = this.now().getTime();
    if (!retryable) return { status: 'failed', code, message };
    if (now >= row.giveUpAt.getTime()) {
      return { status: 'failed', code, message: `Gave up after ${row.attempts} attempts over ${Math.round((now - row.endedAt.getTime()) / 3_600_000)} hours: ${message}` };
    }
    const exponential = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** Math.min(20, Math.max(0, row.attempts - 1)));
    const jittered = exponential * (0.8 + Math.random() * 0.4);
    const wait = Math.max(jittered, retryAfterMs ?? 0);
    // The last attempt is at the give-up time, not after it.
    const next = Math.min(now + wait, row.giveUpAt.getTime());
    return { status: 'pending', code, message, nextAttemptAt: new Date(next), uncertain };
  }

  private count(outcome: AttemptOutcome): void {
    if (outcome.status === 'pending') this.stats.retried += 1;
    else this.stats[outcome.status] += 1;
  }
}
