/**
 * Writes call decisions off the caller's path: records wait in a bounded buffer and go to the
 * database in one batched write every flush interval (or sooner when the batch fills), as
 * small INSERTs in one transaction with the event loop yielded between them, so a host on
 * SQLite (whose driver runs each statement on the event loop) never stalls calls for the
 * whole batch. When the
 * database is down, the oldest records are dropped past the bound (counted and logged), never
 * the call. Old records are pruned once a day for bounded retention.
 */
import type { DecisionLogHealth, HostLogger } from '../host';
import { databaseErrorCode } from '../store/database-ping';
import type { Decision, DecisionStore } from '../store/decision-store';

export interface DecisionLogOptions {
  logger: HostLogger;
  /** Default 500 ms. */
  flushMs?: number;
  /**
   * Records that start a write before the flush interval is up. Default 1000. Every write is
   * one transaction, and on SQLite its commit (an fsync) holds the event loop: fewer, larger
   * writes hold it less.
   */
  batchSize?: number;
  /** Records kept while the database is unreachable. Default 10 000. */
  maxBuffered?: number;
  retentionDays: number;
  /** Default 24 h; 0 never. */
  pruneEveryMs?: number;
}

export class DecisionLog {
  private buffer: Decision[] = [];
  private flushing: Promise<void> | undefined;
  private dropped = 0;
  /** Since the plugin started, for /metrics and health. */
  private droppedTotal = 0;
  private writeErrors = 0;
  private lastWriteAt: number | undefined;
  private lastWriteError: { at: number; code: string } | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly batchSize: number;
  private readonly maxBuffered: number;

  constructor(private readonly store: DecisionStore, private readonly options: DecisionLogOptions) {
    this.batchSize = options.batchSize ?? 1000;
    this.maxBuffered = options.maxBuffered ?? 10_000;
    this.timers.push(setInterval(() => void this.flush(), options.flushMs ?? 500));
    const pruneEveryMs = options.pruneEveryMs ?? 24 * 3600_000;
    if (pruneEveryMs > 0) this.timers.push(setInterval(() => void this.prune(), pruneEveryMs));
    for (const timer of this.timers) timer.unref();
  }

  /** Never waits and never throws: the caller has already been moved. */
  record(decision: Decision): void {
    this.buffer.push(decision);
    if (this.buffer.length > this.maxBuffered) {
      const excess = this.buffer.length - this.maxBuffered;
      this.buffer.splice(0, excess);
      this.dropped += excess;
      this.droppedTotal += excess;
    }
    if (this.buffer.length >= this.batchSize) void this.flush();
  }

  get pending(): number {
    return this.buffer.length;
  }

  /** Dropped records and failed writes since the plugin started. */
  get totals(): { dropped: number; writeErrors: number } {
    return { dropped: this.droppedTotal, writeErrors: this.writeErrors };
  }

  health(): DecisionLogHealth {
    const health: DecisionLogHealth = {
      buffered: this.buffer.length, maxBuffered: this.maxBuffered, dropped: this.droppedTotal,
      failing: this.lastWriteError !== undefined && (this.lastWriteAt === undefined || this.lastWriteError.at > this.lastWriteAt),
    };
    if (this.lastWriteAt !== undefined) health.lastWriteAt = new Date(this.lastWriteAt).toISOString();
    if (this.lastWriteError) health.lastWriteError = { at: new Date(this.lastWriteError.at).toISOString(), code: this.lastWriteError.code };
    return health;
  }

  /** Writes everything buffered; one flush at a time. */
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.drain().finally(() => { this.flushing = undefined; });
    return this.flushing;
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    await this.flush();
  }

  private async drain(): Promise<void> {
    if (this.dropped > 0) {
      this.options.logger.warn('Decision log: records dropped while the database was unreachable', { dropped: this.dropped });
      this.dropped = 0;
    }
    while (this.buffer.length > 0) {
      const batch = this.buffer.slice(0, this.batchSize);
      try {
        await this.store.insertMany(batch, yieldToCalls);
        this.buffer.splice(0, batch.length);
        this.lastWriteAt = Date.now();
      } catch (err) {
        this.writeErrors += 1;
        this.lastWriteError = { at: Date.now(), code: databaseErrorCode(err) };
        this.options.logger.warn('Decision log: write failed; will retry', { error: (err as Error).message, pending: this.buffer.length });
        return;
      }
    }
  }

  private async prune(): Promise<void> {
    try {
      const report = await this.store.prune({ olderThanDays: this.options.retentionDays });
      this.options.logger.info('Decision log: pruned old records', { ...report });
    } catch (err) {
      this.options.logger.warn('Decision log: prune failed', { error: (err as Error).message });
    }
  }
}

/** Lets calls' I/O and timers run before the next statement. */
function yieldToCalls(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
