/**
 * Fills a tenant's decision log with realistic calls for its rules, for the Routing list's
 * per-rule counts and a rule's Outcomes page (npm run seed -- --decisions N, npm run bench:list).
 * Calls are spread over the last `days` days; 1 rule in 100 is "hot" and takes a fifth of them,
 * the rest share the others evenly; outcomes follow a plausible mix (most calls match a row, a
 * few fail). Repeatable: the same seed gives the same log. Written through DecisionStore, as the
 * call path writes it.
 */
import type { Knex } from 'knex';
import type { Branch } from '../../src/domain/decide';
import { toNumber } from '../../src/store/db-values';
import type { Decision } from '../../src/store/decision-store';
import { PluginStore } from '../../src/store/plugin-store';
import { seededRandom } from './seeded-random';

export interface DecisionSeedOptions {
  tenantId: string;
  /** Decisions to write. */
  count: number;
  /** Over how many days before `now` (default 7). */
  days?: number;
  /** Remove the tenant's decisions first. */
  reset?: boolean;
  secretKey: string;
  tablePrefix?: string;
  now?: Date;
  seed?: number;
  onBatch?: (done: number, total: number) => void;
}

export interface DecisionSeedReport {
  removed: number;
  created: number;
  rules: number;
  /** The rule with the most decisions (the worst case of the Outcomes page), or undefined without rules. */
  hottestRuleId: number | undefined;
  hottestRuleDecisions: number;
  ms: number;
}

/** Decisions per DecisionStore.insertMany (one transaction). */
const BATCH = 5000;
const HOT_RULE_EVERY = 100;
const HOT_SHARE = 0.2;
const DELETE_CHUNK = 50_000;

/** Outcome mix of a DID rule (weights); IVR rules add INVALID_DTMF. */
const OUTCOME_MIX: Array<[string, number]> = [
  ['MATCH', 60], ['NO_MATCH', 12], ['NOT_FOUND', 10], ['EMPTY_VALUE', 3], ['NO_CALLER_ID', 2],
  ['CRM_ERROR', 5], ['CRM_TIMEOUT', 3], ['HANGUP', 2], ['OVERLOADED', 0.5],
];
const IVR_MIX: Array<[string, number]> = [...OUTCOME_MIX, ['INVALID_DTMF', 4]];

export async function seedDecisions(db: Knex, options: DecisionSeedOptions): Promise<DecisionSeedReport> {
  const started = performance.now();
  const store = await PluginStore.create(db, { secretKey: options.secretKey, ...(options.tablePrefix ? { tablePrefix: options.tablePrefix } : {}) });
  const removed = options.reset ? await removeTenantDecisions(db, store.tables.decisions, options.tenantId) : 0;
  const rules = ((await db(store.tables.rules).select('id', 'location').where('tenant_id', options.tenantId).orderBy('id')) as Array<{ id: unknown; location: string }>)
    .map((r) => ({ id: toNumber(r.id), ivr: r.location === 'ivr' }));
  if (rules.length === 0 || options.count <= 0) return { removed, created: 0, rules: rules.length, hottestRuleId: undefined, hottestRuleDecisions: 0, ms: performance.now() - started };

  const random = seededRandom(options.seed ?? 12);
  const hot = rules.filter((_, i) => i % HOT_RULE_EVERY === 0);
  const now = (options.now ?? new Date()).getTime();
  const spanMs = (options.days ?? 7) * 86_400_000;
  const perRule = new Map<number, number>();
  let created = 0;
  while (created < options.count) {
    const batch: Decision[] = [];
    for (let i = 0; i < BATCH && created + batch.length < options.count; i += 1) {
      const rule = random() < HOT_SHARE ? hot[Math.floor(random() * hot.length)]! : rules[Math.floor(random() * rules.length)]!;
      perRule.set(rule.id, (perRule.get(rule.id) ?? 0) + 1);
      batch.push(seededDecision(options.tenantId, rule, created + batch.length, new Date(now - Math.floor(random() * spanMs)), random));
    }
    await store.decisions.insertMany(batch);
    created += batch.length;
    options.onBatch?.(created, options.count);
  }
  let hottestRuleId: number | undefined;
  let hottestRuleDecisions = 0;
  for (const [id, n] of perRule) if (n > hottestRuleDecisions) [hottestRuleId, hottestRuleDecisions] = [id, n];
  return { removed, created, rules: rules.length, hottestRuleId, hottestRuleDecisions, ms: performance.now() - started };
}

function seededDecision(tenantId: string, rule: { id: number; ivr: boolean }, n: number, createdAt: Date, random: () => number): Decision {
  const outcome = pick(rule.ivr ? IVR_MIX : OUTCOME_MIX, random());
  const branch: Branch | null = outcome === 'MATCH' ? 'row' : outcome === 'HANGUP' ? null : 'default';
  const error = outcome === 'CRM_ERROR' ? { code: 'HTTP_ERROR', message: 'The CRM answered HTTP 503.' } : outcome === 'CRM_TIMEOUT' ? { code: 'TIMEOUT', message: 'No answer within 3 s.' } : null;
  const lookupMs = outcome === 'INVALID_DTMF' || outcome === 'OVERLOADED' ? null : 40 + Math.floor(random() * 400);
  return {
    tenantId, ruleId: rule.id, callId: `${Math.floor(createdAt.getTime() / 1000)}.${n}`, caller: `+1555${String(Math.floor(random() * 1e7)).padStart(7, '0')}`,
    did: '5551234', dtmf: rule.ivr ? String(100000 + Math.floor(random() * 900000)) : null, value: outcome === 'MATCH' || outcome === 'NO_MATCH' ? (random() < 0.5 ? 'Gold' : 'Silver') : null,
    errorCode: error?.code ?? null, errorMessage: error?.message ?? null, outcome, branch, rowIndex: outcome === 'MATCH' ? Math.floor(random() * 3) : null,
    destination: outcome === 'HANGUP' ? null : { type: 'queue', target: '103' }, method: outcome === 'HANGUP' ? 'none' : outcome === 'OVERLOADED' ? 'agi' : 'ami',
    lookupMs, totalMs: (lookupMs ?? 0) + 5, createdAt,
  };
}

function pick(mix: Array<[string, number]>, r: number): string {
  const total = mix.reduce((sum, [, w]) => sum + w, 0);
  let at = r * total;
  for (const [outcome, weight] of mix) {
    if (at < weight) return outcome;
    at -= weight;
  }
  return mix[0]![0];
}

/** In slices, so no one statement holds MySQL's locks for long. */
async function removeTenantDecisions(db: Knex, table: string, tenantId: string): Promise<number> {
  let removed = 0;
  for (;;) {
    const ids = (await db(table).where('tenant_id', tenantId).limit(DELETE_CHUNK).pluck('id')) as unknown[];
    if (ids.length === 0) return removed;
    for (let from = 0; from < ids.length; from += 1000) {
      removed += Number(await db(table).whereIn('id', ids.slice(from, from + 1000).map(toNumber)).delete());
    }
  }
}
