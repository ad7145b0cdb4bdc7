/**
 * Counts over the decision log for the Routing pages: per rule over the last 24 hours (the
 * list), and per hour and outcome over the last 7 days (a rule's Outcomes page). Both read the
 * `decisions_rule_time` index (tenant, rule, time, outcome, branch) alone: a page of 50 rules or
 * one rule's week is a range scan of that index, whatever the size of the log.
 */
import type { Knex } from 'knex';
import type { Branch } from '../domain/decide';
import { toNumber } from './db-values';
import type { PluginTables } from './tables';

/** A rule's calls over a window. */
export interface RuleCallCounts {
  calls: number;
  /** A row matched. */
  matched: number;
  /** The CRM failed or the deadline passed, and the call took the default destination (no "CRM error" branch). */
  defaultOnError: number;
}

/** One hour of a rule's decisions. */
export interface HourOfOutcomes {
  /** The hour's start. */
  start: Date;
  total: number;
  /** Outcome code -> calls. */
  outcomes: Record<string, number>;
  /** Branch -> calls ("none" for calls not moved, or recorded before branches existed). */
  branches: Record<string, number>;
}

export interface HourlyOutcomes {
  /** Every hour of the window, oldest first, those without calls included. */
  hours: HourOfOutcomes[];
  /** The window's totals. */
  total: number;
  outcomes: Record<string, number>;
  branches: Record<string, number>;
}

const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** The Outcomes page's window: 7 days of hours. */
export const HOURLY_WINDOW_HOURS = 7 * 24;
const ERROR_OUTCOMES = ['CRM_ERROR', 'CRM_TIMEOUT'] as const;

export class DecisionCounts {
  constructor(
    private readonly db: Knex,
    private readonly tables: PluginTables,
  ) {}

  /** Calls, matches and errors sent to the default, per rule of `ruleIds`, since `now` - 24 h; rules without calls are absent. */
  async last24Hours(tenantId: string, ruleIds: readonly number[], now: Date = new Date()): Promise<Map<number, RuleCallCounts>> {
    if (ruleIds.length === 0) return new Map();
    const since = new Date(now.getTime() - DAY_MS);
    const rows = (await this.db(this.tables.decisions)
      .select('rule_id')
      .count({ calls: '*' })
      .select(this.db.raw(`sum(case when outcome = 'MATCH' then 1 else 0 end) as matched`))
      .select(this.db.raw(
        `sum(case when outcome in (${ERROR_OUTCOMES.map(() => '?').join(', ')}) and (branch is null or branch = 'default') then 1 else 0 end) as default_on_error`,
        [...ERROR_OUTCOMES],
      ))
      .where('tenant_id', tenantId)
      .whereIn('rule_id', [...ruleIds])
      .andWhere('created_at', '>=', since)
      .groupBy('rule_id')) as Array<{ rule_id: unknown; calls: unknown; matched: unknown; default_on_error: unknown }>;
    return new Map(rows.map((r) => [toNumber(r.rule_id), { calls: toNumber(r.calls), matched: toNumber(r.matched ?? 0), defaultOnError: toNumber(r.default_on_error ?? 0) }]));
  }

  /**
   * The rule's decisions per hour and outcome over the 7 days up to `now`: 168 hours, the last
   * one being the hour `now` falls in. Hours are counted in the database the way each dialect
   * stores times, so no time zone is involved: MySQL counts whole hours from the window's start
   * (TIMESTAMPDIFF, in the session's own time zone, the one it stored them in); SQLite holds epoch
   * milliseconds, whose whole hours are UTC hours (grouping by an expression without a bound value
   * measured 2-3 times cheaper there than with the window's start bound into it).
   */
  async hourly(tenantId: string, ruleId: number, now: Date = new Date()): Promise<HourlyOutcomes> {
    const lastHour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
    const since = new Date(lastHour - (HOURLY_WINDOW_HOURS - 1) * HOUR_MS);
    const mysql = this.db.client.dialect === 'mysql';
    const hourColumn = mysql ? this.db.raw('timestampdiff(hour, ?, created_at) as hour', [since]) : this.db.raw('created_at / 3600000 as hour');
    const firstHour = mysql ? 0 : since.getTime() / HOUR_MS;
    const rows = (await this.db(this.tables.decisions)
      .select(hourColumn, 'outcome', 'branch')
      .count({ n: '*' })
      .where({ tenant_id: tenantId, rule_id: ruleId })
      .andWhere('created_at', '>=', since)
      .groupBy('hour', 'outcome', 'branch')) as Array<{ hour: unknown; outcome: string; branch: string | null; n: unknown }>;

    const hours: HourOfOutcomes[] = Array.from({ length: HOURLY_WINDOW_HOURS }, (_, i) => ({
      start: new Date(since.getTime() + i * HOUR_MS), total: 0, outcomes: {}, branches: {},
    }));
    const totals: HourlyOutcomes = { hours, total: 0, outcomes: {}, branches: {} };
    for (const row of rows) {
      const index = Math.floor(toNumber(row.hour)) - firstHour;
      const hour = hours[index];
      // A decision stamped later than `now` (another node's clock) is left out rather than misplaced.
      if (hour === undefined) continue;
      const n = toNumber(row.n);
      const branch: Branch | 'none' = (row.branch as Branch | null) ?? 'none';
      for (const bucket of [hour, totals]) {
        bucket.total += n;
        bucket.outcomes[row.outcome] = (bucket.outcomes[row.outcome] ?? 0) + n;
        bucket.branches[branch] = (bucket.branches[branch] ?? 0) + n;
      }
    }
    return totals;
  }
}
