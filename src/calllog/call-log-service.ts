/**
 * The call log between the finished call and the CRMs: `enqueue(call)` returns at once (nothing
 * here is on the call path); a flusher turns each call into one outbox row per integration whose
 * log options are on (the activity to write, or the option that skips it), and the outbox worker
 * delivers the rows. Calls wait in a bounded memory queue while the database is unreachable;
 * beyond its bound the newest are dropped and counted.
 */
import type { CallLogHandle, HostContext, HostLogger } from '../host';
import { CRM_KINDS, isCrmKind } from '../domain/crm-kinds';
import type { CallLogWriter } from '../crm/call-log-writer';
import { CustomCrmCallLogWriter, parseCallLogHeaders } from '../crm/custom-crm/call-log';
import type { RuleConnectors } from '../crm/rule-connectors';
import type { HttpClient } from '../crm/shared/http-client';
import type { PluginStore } from '../store/plugin-store';
import type { StoredLogOptions } from '../store/call-log-options-store';
import type { CallSummary, NewOutboxRow } from '../store/call-outbox-store';
import { planDelivery, type RoutingNote } from './call-activity';
import type { CompletedCall } from './completed-call';
import { OutboxWorker, type OutboxWorkerOptions } from './outbox-worker';

export const CUSTOM_CALL_LOG = 'custom';
export const RETRY_WINDOW_MS = 24 * 3_600_000;
const RECORDING_TIMEOUT_MS = 2000;
const FLUSH_BATCH = 100;

export interface CallLogServiceOptions {
  host: Pick<HostContext, 'directory' | 'recordings'>;
  store: PluginStore;
  connectors: Pick<RuleConnectors, 'integration'>;
  http: HttpClient;
  logger: HostLogger;
  /** The name of a rule by id, for the notes (the rule cache). */
  ruleName?: (ruleId: number) => string | undefined;
  /** Calls kept in memory while the database is unreachable. Default 10,000. */
  maxQueued?: number;
  /** How long finished rows are kept. Default 30 days. */
  retentionDays?: number;
  /** The worker's timings (tests shorten them). */
  worker?: Partial<Omit<OutboxWorkerOptions, 'outbox' | 'writerFor' | 'logger'>>;
  /** How long after a failed flush the memory queue is tried again at first (doubles, at most 30 s). Default 500 ms. */
  flushRetryMs?: number;
}

export class CallLogService implements CallLogHandle {
  readonly worker: OutboxWorker;
  private readonly queue: CompletedCall[] = [];
  private dropped = 0;
  private flushing: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs: number;
  private pruneTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly maxQueued: number;

  constructor(private readonly options: CallLogServiceOptions) {
    this.maxQueued = options.maxQueued ?? 10_000;
    this.retryDelayMs = options.flushRetryMs ?? 500;
    this.worker = new OutboxWorker({ outbox: options.store.callOutbox, writerFor: (row) => this.writerFor(row.tenantId, row.integration), logger: options.logger, ...options.worker });
  }

  start(): void {
    this.worker.start();
    const retentionMs = (this.options.retentionDays ?? 30) * 86_400_000;
    this.pruneTimer = setInterval(() => {
      this.options.store.callOutbox.prune(new Date(Date.now() - retentionMs)).catch(() => {});
    }, 3_600_000);
    this.pruneTimer.unref?.();
  }

  enqueue(call: CompletedCall): void {
    if (this.stopped) return;
    if (this.queue.length >= this.maxQueued) {
      this.dropped += 1;
      if (this.dropped === 1 || this.dropped % 1000 === 0) this.options.logger.error('Call log: memory queue full (database unreachable for long?); calls are dropped', { dropped: this.dropped });
      return;
    }
    this.queue.push(call);
    if (!this.flushing && this.retryTimer === undefined) queueMicrotask(() => void this.flush());
  }

  stats(): { queued: number; dropped: number } {
    return { queued: this.queue.length, dropped: this.dropped };
  }

  /** Writes the memory queue to the outbox; on a database error the calls stay queued and a retry is scheduled. */
  flush(): Promise<void> {
    this.flushing ??= this.flushAll().finally(() => { this.flushing = undefined; });
    return this.flushing;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pruneTimer);
    // The calls handed over last (stop() of the call events emits those still in their grace
    // period) are written too, not only a flush already running: the outbox keeps them for the next start.
    await this.flush().catch(() => {});
    await this.worker.stop();
  }

  private async flushAll(): Promise<void> {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, FLUSH_BATCH);
      try {
        const optionsOf = new Map<string, Promise<StoredLogOptions[]>>();
        const tenantOptions = (tenantId: string) => {
          let loaded = optionsOf.get(tenantId);
          if (!loaded) optionsOf.set(tenantId, (loaded = this.options.store.callLogOptions.list(tenantId)));
          return loaded;
        };
        const rows = (await Promise.all(batch.map(async (call) => this.rowsOf(call, await tenantOptions(call.tenantId))))).flat();
        await this.options.store.callOutbox.insertMany(rows);
      } catch (error) {
        if (!this.stopped) {
          this.options.logger.warn('Call log: calls could not be written to the outbox (database unreachable?); kept in memory', { queued: this.queue.length, error: (error as Error).message });
          this.retryTimer = setTimeout(() => { this.retryTimer = undefined; void this.flush(); }, this.retryDelayMs);
          this.retryTimer.unref?.();
          this.retryDelayMs = Math.min(30_000, this.retryDelayMs * 2);
        }
        return;
      }
      this.queue.splice(0, batch.length);
      this.retryDelayMs = this.options.flushRetryMs ?? 500;
      this.worker.kick();
    }
  }

  /** One outbox row per integration whose log options are on. */
  private async rowsOf(call: CompletedCall, tenantOptions: StoredLogOptions[]): Promise<NewOutboxRow[]> {
    const stored = tenantOptions.filter((o) => o.options.enabled);
    if (stored.length === 0) return [];
    const active = stored.filter((o) => (o.integration === CUSTOM_CALL_LOG ? o.url !== '' : isCrmKind(o.integration) && 'connector' in this.options.connectors.integration(call.tenantId, o.integration)));
    if (active.length === 0) return [];
    const [routing, agent, recordingUrl] = await Promise.all([this.routingOf(call), this.agentOf(call), this.recordingOf(call)]);
    const now = new Date();
    const summary: CallSummary = {
      direction: call.direction, disposition: call.disposition, externalNumber: call.externalNumber,
      ...(call.did ? { did: call.did } : {}), ...(call.agentExtension ? { agentExtension: call.agentExtension } : {}),
      ...(agent?.name ? { agentName: agent.name } : {}), ...(call.queue ? { queue: call.queue } : {}),
      startedAt: call.startedAt.toISOString(), talkSeconds: call.talkSeconds,
      ...(routing[0]?.ruleName ? { ruleName: routing[0].ruleName } : {}),
    };
    return active.map((o) => {
      const plan = planDelivery(call, {
        integration: o.integration, options: o.options, routing,
        ...(agent?.name ? { agentName: agent.name } : {}), ...(agent?.email ? { ownerEmail: agent.email } : {}), ...(recordingUrl ? { recordingUrl } : {}),
      });
      return {
        tenantId: call.tenantId, linkedId: call.linkedId, integration: o.integration, call: summary,
        ...(plan.kind === 'write' ? { activity: plan.activity } : { skipReason: plan.reason }),
        endedAt: call.endedAt, queuedAt: now, giveUpAt: new Date(Math.max(now.getTime(), call.endedAt.getTime()) + RETRY_WINDOW_MS),
      };
    });
  }

  private async routingOf(call: CompletedCall): Promise<RoutingNote[]> {
    if (call.channelUniqueIds.length === 0) return [];
    const decisions = await this.options.store.decisions.byCallIds(call.tenantId, call.channelUniqueIds);
    return decisions.map((d) => {
      const ruleName = this.options.ruleName?.(d.ruleId);
      return {
        ruleId: d.ruleId, ...(ruleName ? { ruleName } : {}), value: d.value, errorCode: d.errorCode, outcome: d.outcome, rowIndex: d.rowIndex,
        destination: d.destination ? `${d.destination.type} ${d.destination.target}` : null,
      };
    });
  }

  private async agentOf(call: CompletedCall): Promise<{ name?: string; email?: string } | undefined> {
    if (!call.agentExtension || !this.options.host.directory) return undefined;
    try {
      const entry = await this.options.host.directory.find(call.tenantId, { extension: call.agentExtension });
      return entry ? { name: entry.name, ...(entry.email ? { email: entry.email } : {}) } : undefined;
    } catch (error) {
      this.options.logger.warn('Call log: the host directory failed; the call is logged without an owner', { error: (error as Error).message });
      return undefined;
    }
  }

  private async recordingOf(call: CompletedCall): Promise<string | undefined> {
    const hook = this.options.host.recordings;
    if (!hook) return undefined;
    try {
      const url = await Promise.race([
        Promise.resolve(hook.url(call.tenantId, { linkedId: call.linkedId, channelUniqueIds: call.channelUniqueIds, startedAt: call.startedAt, endedAt: call.endedAt, ...(call.agentExtension ? { agentExtension: call.agentExtension } : {}) })),
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), RECORDING_TIMEOUT_MS).unref?.()),
      ]);
      return typeof url === 'string' && /^https:\/\/[^\s]+$/i.test(url) && url.length <= 2000 ? url : undefined;
    } catch {
      return undefined;
    }
  }

  /** The writer of a tenant's integration, or why there is none. */
  async writerFor(tenantId: string, integration: string): Promise<CallLogWriter | { code: string; message: string; retryable: boolean }> {
    const row = { tenantId, integration };
    if (row.integration === CUSTOM_CALL_LOG) {
      const stored = await this.options.store.callLogOptions.get(row.tenantId, CUSTOM_CALL_LOG);
      if (!stored || stored.url === '') return { code: 'CONFIG', message: 'The Custom CRM call log URL was removed.', retryable: false };
      const headers = parseCallLogHeaders(await this.options.store.callLogOptions.headers(row.tenantId, CUSTOM_CALL_LOG));
      if ('error' in headers) return { code: 'CONFIG', message: headers.error, retryable: false };
      return new CustomCrmCallLogWriter(stored.url, headers, this.options.http);
    }
    if (!isCrmKind(row.integration)) return { code: 'CONFIG', message: `Unknown integration ${row.integration}.`, retryable: false };
    const built = this.options.connectors.integration(row.tenantId, row.integration);
    if (!('connector' in built)) {
      const result = await built.lookup();
      return { code: 'CONFIG', message: result.kind === 'error' ? result.message : 'The integration is not usable.', retryable: false };
    }
    const { connector } = built;
    if (typeof connector.logCall !== 'function') return { code: 'CONFIG', message: 'This CRM cannot log calls yet.', retryable: false };
    return {
      logCall: connector.logCall.bind(connector),
      ...(typeof connector.findLoggedCall === 'function' ? { findLoggedCall: connector.findLoggedCall.bind(connector) } : {}),
    };
  }
}

/** Integration keys of the call log, in page order: every CRM, then the Custom CRM. */
export const CALL_LOG_INTEGRATIONS: readonly string[] = [...CRM_KINDS, CUSTOM_CALL_LOG];
