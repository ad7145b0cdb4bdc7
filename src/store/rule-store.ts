/**
 * Routing rules, per tenant. Every query filters by tenant id, so an id from another tenant
 * reads as "not found". Writes run in one transaction: the rule, its rows (replaced as a whole)
 * and the `rules` cache version, so a cache in another process never sees half a save. Rule
 * writes take the `rules` cache-version row lock first, so they never deadlock each other.
 */
import type { Knex } from 'knex';
import type { Location, Rule, RuleDraft } from '../domain/rule';
import { bumpCacheVersion, lockCacheScope, readCacheVersion, type CacheScope } from './cache-versions';
import { affectedRows, insertedId, isUniqueViolation, orWhereContains, toNumber, whereContains } from './db-values';
import { RuleColumnMapper, type RuleColumns, type RuleRowColumns } from './rule-columns';
import type { Sealer } from './sealing';
import { DuplicateRuleNameError, StaleRuleError } from './store-errors';
import type { PluginTables } from './tables';

export type { RuleDraft } from '../domain/rule';
export { DuplicateRuleNameError, MissingSecretError, StaleRuleError } from './store-errors';

/** A line of the Routing list page. */
export interface RuleSummary {
  id: number;
  name: string;
  fieldName: string;
  location: Location;
  rowCount: number;
  /** How many warnings the rule was last saved with. */
  warningCount: number;
}

/**
 * What the form warned about when the rule was last saved (field key -> message, e.g.
 * "rows.0.value" -> '"<" compares numbers...'): kept with the rule so its edit page and the list
 * show them after the save. Warnings never stopped the save.
 */
export type RuleWarnings = Record<string, string>;

export interface RuleListQuery {
  /** Case-insensitive substring of the name or the field name; `%` and `_` match literally. */
  search?: string;
  offset: number;
  limit: number;
}

export interface RuleListPage {
  rules: RuleSummary[];
  /** Matching rules over all pages. */
  total: number;
}

/** A rule that loadAll skipped because a secret could not be opened (secretKey changed, tampering). */
export interface UnreadableRule {
  ruleId: number;
  tenantId: string;
  error: unknown;
}

/** Every rule of every tenant as of one `rules` cache version. */
export interface RuleSnapshot {
  version: number;
  rules: Rule[];
}

export const MAX_LIST_LIMIT = 500;

export class RuleStore {
  private readonly mapper: RuleColumnMapper;

  constructor(
    private readonly db: Knex,
    private readonly tables: PluginTables,
    sealer: Sealer,
  ) {
    this.mapper = new RuleColumnMapper(sealer);
  }

  /** One page in name order plus the total, both read from the covering `rules_list` index; then the page's row counts. */
  async list(tenantId: string, query: RuleListQuery): Promise<RuleListPage> {
    const search = query.search?.trim() ?? '';
    const matching = () => {
      const q = this.db(this.tables.rules).where('tenant_id', tenantId);
      if (search !== '') q.where((b) => orWhereContains(whereContains(b, 'name', search), 'field_name', search));
      return q;
    };
    const offset = Math.max(0, Math.floor(query.offset));
    const limit = Math.min(MAX_LIST_LIMIT, Math.max(1, Math.floor(query.limit)));
    const [page, counted] = await Promise.all([
      matching().select('id', 'name', 'field_name', 'location').orderBy('name').offset(offset).limit(limit),
      matching().count({ n: '*' }).first(),
    ]);
    const rows = page as Array<{ id: unknown; name: string; field_name: string; location: string }>;
    const ids = rows.map((r) => toNumber(r.id));
    const [rowCounts, warnings] = await Promise.all([this.rowCounts(tenantId, ids), this.warningsOf(tenantId, ids)]);
    return {
      rules: rows.map((r) => {
        const id = toNumber(r.id);
        const warningCount = Object.keys(warnings.get(id) ?? {}).length;
        return { id, name: r.name, fieldName: r.field_name, location: r.location as Location, rowCount: rowCounts.get(id) ?? 0, warningCount };
      }),
      total: toNumber((counted as { n: unknown } | undefined)?.n ?? 0),
    };
  }

  /** The rule and its rows from one transaction, so a concurrent save is seen whole or not at all. */
  async get(tenantId: string, id: number): Promise<Rule | undefined> {
    const found = await this.db.transaction(async (trx) => {
      const columns = await this.selectRule(trx, tenantId, id);
      if (columns === undefined) return undefined;
      const rows = (await trx(this.tables.ruleRows).where({ tenant_id: tenantId, rule_id: id }).orderBy('position')) as RuleRowColumns[];
      return { columns, rows };
    });
    return found === undefined ? undefined : this.mapper.fromColumns(found.columns, found.rows);
  }

  /** The warnings the rule was last saved with ({} when none, or when the rule is not the tenant's). */
  async warnings(tenantId: string, id: number): Promise<RuleWarnings> {
    return (await this.warningsOf(tenantId, [id])).get(id) ?? {};
  }

  /** The tenant's rules that look callers up in `crm` of CRM > Integration, in name order. */
  async usingIntegration(tenantId: string, crm: string): Promise<Array<{ id: number; name: string }>> {
    const rows = (await this.db(this.tables.rules).select('id', 'name').where({ tenant_id: tenantId, source: 'integration', crm }).orderBy('name')) as Array<{ id: unknown; name: string }>;
    return rows.map((r) => ({ id: toNumber(r.id), name: r.name }));
  }

  /**
   * Throws DuplicateRuleNameError, or MissingSecretError for a secret header left null.
   * `warnings` are what the form said about the draft, stored with the rule.
   */
  async create(tenantId: string, draft: RuleDraft, warnings: RuleWarnings = {}): Promise<Rule> {
    return this.mapDuplicate(draft.name, () =>
      this.db.transaction(async (trx) => {
        await lockCacheScope(trx, this.tables.cacheVersions, 'rules');
        if (await this.nameTakenIn(trx, tenantId, draft.name)) throw new DuplicateRuleNameError(draft.name);
        const rule = { ...draft, source: this.mapper.resolveSource(tenantId, draft.source, undefined) };
        const now = new Date();
        const id = insertedId(
          await trx(this.tables.rules).insert({ ...this.mapper.toColumns(tenantId, rule), warnings: warningsColumn(warnings), version: 1, created_at: now, updated_at: now }),
        );
        await this.replaceRows(trx, tenantId, id, draft);
        await bumpCacheVersion(trx, this.tables.cacheVersions, 'rules');
        return { ...copyRule(rule), id, tenantId, version: 1 };
      }),
    );
  }

  /**
   * Replaces the tenant's rule `id`; undefined when it is not the tenant's. With
   * `expectedVersion` (the version the form was opened with), a rule saved meanwhile by someone
   * else throws StaleRuleError instead of being overwritten. `warnings` replace the stored ones.
   */
  async update(tenantId: string, id: number, draft: RuleDraft, expectedVersion?: number, warnings: RuleWarnings = {}): Promise<Rule | undefined> {
    return this.mapDuplicate(draft.name, () =>
      this.db.transaction(async (trx) => {
        await lockCacheScope(trx, this.tables.cacheVersions, 'rules');
        const stored = await this.selectRule(trx, tenantId, id);
        if (stored === undefined) return undefined;
        const storedVersion = toNumber(stored.version);
        if (expectedVersion !== undefined && expectedVersion !== storedVersion) {
          throw new StaleRuleError(id, expectedVersion, storedVersion);
        }
        if (await this.nameTakenIn(trx, tenantId, draft.name, id)) throw new DuplicateRuleNameError(draft.name);
        const rule = { ...draft, source: this.mapper.resolveSource(tenantId, draft.source, stored) };
        const version = storedVersion + 1;
        // Writes are serialized by the scope lock; the version condition is a second guard should
        // a writer ever skip it (e.g. an SQLite host with several connections).
        const changed = await trx(this.tables.rules)
          .where({ tenant_id: tenantId, id, version: storedVersion })
          .update({ ...this.mapper.toColumns(tenantId, rule), warnings: warningsColumn(warnings), version, updated_at: new Date() });
        if (affectedRows(changed) !== 1) {
          const current = await this.selectRule(trx, tenantId, id);
          throw new StaleRuleError(id, expectedVersion ?? storedVersion, current === undefined ? storedVersion : toNumber(current.version));
        }
        await this.replaceRows(trx, tenantId, id, draft);
        await bumpCacheVersion(trx, this.tables.cacheVersions, 'rules');
        return { ...copyRule(rule), id, tenantId, version };
      }),
    );
  }

  /** False when the id is not the tenant's. Rows are deleted here, not left to a cascade SQLite may not enforce. */
  async delete(tenantId: string, id: number): Promise<boolean> {
    return this.db.transaction(async (trx) => {
      await lockCacheScope(trx, this.tables.cacheVersions, 'rules');
      await trx(this.tables.ruleRows).where({ tenant_id: tenantId, rule_id: id }).delete();
      const deleted = affectedRows(await trx(this.tables.rules).where({ tenant_id: tenantId, id }).delete());
      if (deleted > 0) await bumpCacheVersion(trx, this.tables.cacheVersions, 'rules');
      return deleted > 0;
    });
  }

  /** Names compare ignoring case, like the unique index. */
  async nameTaken(tenantId: string, name: string, exceptId?: number): Promise<boolean> {
    return this.nameTakenIn(this.db, tenantId, name, exceptId);
  }

  /**
   * Every tenant's rules, for the call path's in-memory cache. A rule whose secrets cannot be
   * opened is skipped and reported to `onUnreadable`, so one bad rule does not stop every call;
   * without `onUnreadable` the error is thrown.
   */
  async loadAll(onUnreadable?: (failure: UnreadableRule) => void): Promise<Rule[]> {
    return (await this.loadSnapshot(onUnreadable)).rules;
  }

  /**
   * loadAll plus the `rules` cache version, read in one transaction: the rules are exactly those
   * of that version, so a cache that polls for a newer version never keeps a half-applied save.
   */
  async loadSnapshot(onUnreadable?: (failure: UnreadableRule) => void): Promise<RuleSnapshot> {
    const { version, rules, rows } = await this.db.transaction(async (trx) => ({
      version: await readCacheVersion(trx, this.tables.cacheVersions, 'rules'),
      rules: (await trx(this.tables.rules).select('*').orderBy('id')) as RuleColumns[],
      rows: (await trx(this.tables.ruleRows).select('*').orderBy(['rule_id', 'position'])) as RuleRowColumns[],
    }));
    const rowsByRule = new Map<number, RuleRowColumns[]>();
    for (const row of rows) {
      const ruleId = toNumber(row.rule_id);
      const list = rowsByRule.get(ruleId) ?? [];
      list.push(row);
      rowsByRule.set(ruleId, list);
    }
    const loaded: Rule[] = [];
    for (const columns of rules) {
      const ruleId = toNumber(columns.id);
      try {
        loaded.push(this.mapper.fromColumns(columns, rowsByRule.get(ruleId) ?? []));
      } catch (error) {
        if (onUnreadable === undefined) throw error;
        onUnreadable({ ruleId, tenantId: columns.tenant_id, error });
      }
    }
    return { version, rules: loaded };
  }

  async cacheVersion(scope: CacheScope = 'rules'): Promise<number> {
    return readCacheVersion(this.db, this.tables.cacheVersions, scope);
  }

  private async selectRule(db: Knex | Knex.Transaction, tenantId: string, id: number): Promise<RuleColumns | undefined> {
    return (await db(this.tables.rules).where({ tenant_id: tenantId, id }).first()) as RuleColumns | undefined;
  }

  private async nameTakenIn(db: Knex | Knex.Transaction, tenantId: string, name: string, exceptId?: number): Promise<boolean> {
    const query = db(this.tables.rules).select('id').where({ tenant_id: tenantId, name });
    if (exceptId !== undefined) query.whereNot('id', exceptId);
    return (await query.first()) !== undefined;
  }

  private async replaceRows(trx: Knex.Transaction, tenantId: string, ruleId: number, draft: RuleDraft): Promise<void> {
    await trx(this.tables.ruleRows).where({ tenant_id: tenantId, rule_id: ruleId }).delete();
    if (draft.rows.length > 0) await trx(this.tables.ruleRows).insert(this.mapper.rowsToColumns(tenantId, ruleId, draft.rows));
  }

  private async rowCounts(tenantId: string, ruleIds: number[]): Promise<Map<number, number>> {
    if (ruleIds.length === 0) return new Map();
    const counted = (await this.db(this.tables.ruleRows)
      .select('rule_id')
      .count({ n: '*' })
      .where('tenant_id', tenantId)
      .whereIn('rule_id', ruleIds)
      .groupBy('rule_id')) as Array<{ rule_id: unknown; n: unknown }>;
    return new Map(counted.map((c) => [toNumber(c.rule_id), toNumber(c.n)]));
  }

  private async warningsOf(tenantId: string, ruleIds: number[]): Promise<Map<number, RuleWarnings>> {
    if (ruleIds.length === 0) return new Map();
    const rows = (await this.db(this.tables.rules).select('id', 'warnings').where('tenant_id', tenantId).whereIn('id', ruleIds)) as Array<{ id: unknown; warnings: string | null }>;
    return new Map(rows.map((r) => [toNumber(r.id), parseWarnings(r.warnings)]));
  }

  /** The pre-check covers the usual case; the unique index catches two saves racing. */
  private async mapDuplicate<T>(name: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (isUniqueViolation(error)) throw new DuplicateRuleNameError(name, { cause: error });
      throw error;
    }
  }
}

function warningsColumn(warnings: RuleWarnings): string | null {
  return Object.keys(warnings).length === 0 ? null : JSON.stringify(warnings);
}

function parseWarnings(json: string | null): RuleWarnings {
  if (json === null || json === '') return {};
  const parsed = JSON.parse(json) as unknown;
  return parsed !== null && typeof parsed === 'object' ? Object.fromEntries(Object.entries(parsed).filter(([, v]) => typeof v === 'string')) as RuleWarnings : {};
}

/** The returned rule shares no arrays or objects with the caller's draft. */
function copyRule<T extends Omit<Rule, 'id' | 'tenantId' | 'version'>>(rule: T): Omit<Rule, 'id' | 'tenantId' | 'version'> {
  return {
    name: rule.name,
    fieldName: rule.fieldName,
    location: rule.location,
    greeting: rule.greeting === null ? null : { ...rule.greeting },
    source: rule.source.kind === 'custom' ? { ...rule.source, headers: rule.source.headers.map((h) => ({ ...h })) } : { ...rule.source },
    deadlineSeconds: rule.deadlineSeconds,
    defaultDestination: { ...rule.defaultDestination },
    defaultVoicemail: rule.defaultVoicemail,
    branches: { notFound: copyDestination(rule.branches.notFound), crmError: copyDestination(rule.branches.crmError), invalidDigits: copyDestination(rule.branches.invalidDigits) },
    rows: rule.rows.map((row) => ({ ...row, destination: { ...row.destination } })),
  };
}

function copyDestination<T extends object>(destination: T | null): T | null {
  return destination === null ? null : { ...destination };
}
