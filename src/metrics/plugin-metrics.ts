/**
 * The plugin's metrics, in a prom-client Registry of its own (never the global default one, so two
 * plugin instances in one process, or a host with metrics of its own, never collide). Labels are
 * bounded: rule id, CRM kind, outcome, method, result and reason codes; never a caller number or
 * free text.
 *
 * What a call bumps is a Tally (a plain number, see tally.ts); what a CRM request bumps goes to
 * prom-client directly (it costs a network round trip anyway); what is a state (AMI connected,
 * active calls, the decision log's buffer) is read only when scraped.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Outcome } from '../domain/decide';
import type { CrmKind } from '../domain/crm-kinds';
import type { LookupResult } from '../crm/connector';
import type { MoveMethod } from '../store/decision-store';
import { TalliedCounter, type Tally } from './tally';

/** The CRM of a lookup: an integration's kind, or "custom" for a rule's Custom CRM URL. */
export type CrmLabel = CrmKind | 'custom';

/** Why an AGI session ended without being routed (CRM_ROUTING_STATUS), or a connection was refused before its header. */
export type RefusalReason =
  | 'BAD_REQUEST' | 'FORBIDDEN' | 'UNKNOWN_RULE' | 'UNLICENSED' | 'NO_DESTINATION'
  | 'ADDRESS_NOT_ALLOWED' | 'CONNECTION_LIMIT' | 'NO_HEADER';

/** Seconds: the rule deadline runs from 1 to 30 s; most lookups answer in well under one. */
const LOOKUP_BUCKETS = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30];

/** What a CRM's lookups and sign-ins count, bound to that CRM's label once. */
export interface CrmMeters {
  /** One request to the CRM (not a cache hit), with how long it took. */
  lookup(result: LookupResult, seconds: number): void;
  /** The lookup cache's tallies of this CRM (made on first use: a Custom CRM has no cache). */
  cache(): { hit: Tally; miss: Tally };
  /** A token fetch: the first sign-in or a refresh, and whether it worked. */
  signIn(kind: 'sign_in' | 'refresh', ok: boolean): void;
}

/** The states read at scrape time; each part of the call path fills in its own. */
export interface MetricSources {
  activeCalls?: () => number;
  agiConnections?: () => number;
  amiConnected?: () => boolean;
  decisionLogBuffered?: () => number;
  decisionLogDropped?: () => number;
  decisionLogWriteErrors?: () => number;
}

export class PluginMetrics {
  readonly registry = new Registry();
  private readonly calls: TalliedCounter<'rule' | 'outcome' | 'method'>;
  private readonly callTallies = new Map<number, Map<Outcome, Map<MoveMethod, Tally>>>();
  private readonly refusals: TalliedCounter<'reason'>;
  private readonly refusalTallies = new Map<RefusalReason, Tally>();
  private readonly crmMeters = new Map<CrmLabel, CrmMeters>();
  private readonly lookups: Counter<'crm' | 'result'>;
  private readonly lookupSeconds: Histogram<'crm'>;
  private readonly cacheHits: TalliedCounter<'crm'>;
  private readonly cacheMisses: TalliedCounter<'crm'>;
  private readonly signIns: Counter<'crm' | 'kind' | 'result'>;
  private readonly sources: MetricSources = {};

  constructor() {
    const registers = [this.registry];
    this.calls = new TalliedCounter(this.registry, 'crm_routing_calls_total', 'Calls routed (or ended by a hang-up), by rule id, outcome and how the call was moved (ami, agi, none).', ['rule', 'outcome', 'method']);
    this.refusals = new TalliedCounter(this.registry, 'crm_routing_agi_refused_total', 'AGI sessions ended without routing (CRM_ROUTING_STATUS) or connections refused before their header, by reason.', ['reason']);
    this.lookups = new Counter({ name: 'crm_routing_crm_lookups_total', help: 'Lookups sent to a CRM (cache hits excluded), by CRM and result: found, not_found or the error code.', labelNames: ['crm', 'result'], registers });
    this.lookupSeconds = new Histogram({ name: 'crm_routing_crm_lookup_duration_seconds', help: 'Time of the lookups sent to a CRM, sign-in included, by CRM.', labelNames: ['crm'], buckets: LOOKUP_BUCKETS, registers });
    this.cacheHits = new TalliedCounter(this.registry, 'crm_routing_lookup_cache_hits_total', 'Lookups answered by the lookup cache (or by an identical lookup already in flight), by CRM.', ['crm']);
    this.cacheMisses = new TalliedCounter(this.registry, 'crm_routing_lookup_cache_misses_total', 'Lookups the lookup cache sent to the CRM, by CRM.', ['crm']);
    this.signIns = new Counter({ name: 'crm_routing_crm_sign_ins_total', help: 'Token fetches: first sign-ins and refreshes, by CRM, kind and result (ok, error).', labelNames: ['crm', 'kind', 'result'], registers });
    const sources = this.sources;
    const gauge = (name: string, help: string, read: () => number | undefined) =>
      new Gauge({ name, help, registers, collect() { const value = read(); if (value !== undefined) this.set(value); } });
    const counted = (name: string, help: string, read: () => number | undefined) =>
      new Counter({ name, help, registers, collect() { const value = read(); if (value !== undefined) { this.reset(); this.inc(value); } } });
    gauge('crm_routing_active_calls', 'Calls being routed right now.', () => sources.activeCalls?.());
    gauge('crm_routing_agi_connections', 'Open FastAGI connections of any kind.', () => sources.agiConnections?.());
    gauge('crm_routing_ami_connected', 'Whether the AMI connection is up (1) or not (0, also without AMI settings: /healthz tells which).', () => Number(sources.amiConnected?.() ?? false));
    gauge('crm_routing_decision_log_buffered', 'Call decisions waiting to be written to the database.', () => sources.decisionLogBuffered?.());
    counted('crm_routing_decision_log_dropped_total', 'Call decisions dropped because the buffer was full (the database unreachable too long).', () => sources.decisionLogDropped?.());
    counted('crm_routing_decision_log_write_errors_total', 'Failed writes of the decision log (each retried).', () => sources.decisionLogWriteErrors?.());
  }

  /** Tells the metrics where to read the states from. */
  observe(sources: MetricSources): void {
    Object.assign(this.sources, sources);
  }

  /** The call flow's: one call that left a decision record. */
  called(ruleId: number, outcome: Outcome, method: MoveMethod): void {
    let byOutcome = this.callTallies.get(ruleId);
    if (!byOutcome) this.callTallies.set(ruleId, (byOutcome = new Map()));
    let byMethod = byOutcome.get(outcome);
    if (!byMethod) byOutcome.set(outcome, (byMethod = new Map()));
    let tally = byMethod.get(method);
    if (!tally) byMethod.set(method, (tally = this.calls.add({ rule: String(ruleId), outcome, method })));
    tally.value += 1;
  }

  refused(reason: RefusalReason): void {
    let tally = this.refusalTallies.get(reason);
    if (!tally) this.refusalTallies.set(reason, (tally = this.refusals.add({ reason })));
    tally.value += 1;
  }

  /** The meters of one CRM, made once per CRM and shared by its connectors. */
  crm(crm: CrmLabel): CrmMeters {
    let meters = this.crmMeters.get(crm);
    if (meters) return meters;
    const { lookups, lookupSeconds, signIns } = this;
    const duration = lookupSeconds.labels(crm);
    let cache: { hit: Tally; miss: Tally } | undefined;
    meters = {
      lookup(result, seconds) {
        const label = result.kind === 'value' ? 'found' : result.kind === 'not_found' ? 'not_found' : result.code.toLowerCase();
        lookups.inc({ crm, result: label });
        duration.observe(seconds);
      },
      cache: () => (cache ??= { hit: this.cacheHits.add({ crm }), miss: this.cacheMisses.add({ crm }) }),
      signIn(kind, ok) {
        signIns.inc({ crm, kind, result: ok ? 'ok' : 'error' });
      },
    };
    this.crmMeters.set(crm, meters);
    return meters;
  }

  /** The Prometheus text exposition of every metric above. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
