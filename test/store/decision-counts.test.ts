import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Branch } from '../../src/domain/decide';
import type { Decision } from '../../src/store/decision-store';
import { HOURLY_WINDOW_HOURS } from '../../src/store/decision-counts';
import { PluginStore } from '../../src/store/plugin-store';
import { describeEachDatabase } from '../support/databases';

const SECRET_KEY = 'decision-counts-test-secret-key-0123456789';
const HOUR = 3_600_000;
/** "Now" for every count: 14:20:00.500 UTC, so hours are not aligned with it. */
const NOW = new Date('2026-12-07T14:20:00.500Z');

let serial = 0;
function decision(tenantId: string, ruleId: number, outcome: string, branch: Branch | null, agoMs: number): Decision {
  serial += 1;
  return {
    tenantId, ruleId, callId: `1765000000.${serial}`, caller: '+15550000001', did: '5551234', dtmf: null, value: null,
    errorCode: null, errorMessage: null, outcome, branch, rowIndex: outcome === 'MATCH' ? 0 : null,
    destination: { type: 'queue', target: '103' }, method: 'ami', lookupMs: 10, totalMs: 12, createdAt: new Date(NOW.getTime() - agoMs),
  };
}

describeEachDatabase('DecisionCounts', (database) => {
  let store: PluginStore;
  before(async () => {
    store = await PluginStore.create(database.db, { tablePrefix: 'dc_', secretKey: SECRET_KEY });
  });

  describe('last24Hours', () => {
    it('counts calls, row matches and errors sent to the default per rule, over the last 24 hours only', async () => {
      const tenant = `tenant-${randomUUID()}`;
      await store.decisions.insertMany([
        decision(tenant, 1, 'MATCH', 'row', 1000),
        decision(tenant, 1, 'MATCH', 'row', 23 * HOUR),
        decision(tenant, 1, 'NO_MATCH', 'default', 2 * HOUR),
        decision(tenant, 1, 'CRM_ERROR', 'default', 3 * HOUR),
        decision(tenant, 1, 'CRM_TIMEOUT', null, 4 * HOUR), // written before branches existed: it went to the default
        decision(tenant, 1, 'CRM_ERROR', 'crm_error', 5 * HOUR), // its own branch: not "sent to the default"
        decision(tenant, 1, 'NOT_FOUND', 'not_found', 6 * HOUR),
        decision(tenant, 1, 'MATCH', 'row', 24 * HOUR + 1000), // older than 24 hours
        decision(tenant, 2, 'CRM_TIMEOUT', 'default', HOUR),
        decision(tenant, 3, 'MATCH', 'row', HOUR), // not asked for
      ]);
      const counts = await store.decisionCounts.last24Hours(tenant, [1, 2, 4], NOW);
      assert.deepEqual([...counts.entries()].sort(([a], [b]) => a - b), [
        [1, { calls: 7, matched: 2, defaultOnError: 2 }],
        [2, { calls: 1, matched: 0, defaultOnError: 1 }],
      ]);
      assert.deepEqual(await store.decisionCounts.last24Hours(tenant, [], NOW), new Map());
    });

    it("never counts another tenant's decisions, even for the same rule id", async () => {
      const mine = `tenant-${randomUUID()}`;
      const theirs = `tenant-${randomUUID()}`;
      await store.decisions.insertMany([decision(mine, 7, 'MATCH', 'row', HOUR), ...Array.from({ length: 5 }, () => decision(theirs, 7, 'CRM_ERROR', 'default', HOUR))]);
      assert.deepEqual(await store.decisionCounts.last24Hours(mine, [7], NOW), new Map([[7, { calls: 1, matched: 1, defaultOnError: 0 }]]));
      assert.deepEqual(await store.decisionCounts.last24Hours(mine.toUpperCase(), [7], NOW), new Map(), 'tenant ids compare exactly');
    });
  });

  describe('hourly', () => {
    it('puts each decision in its hour of the last 7 days, by outcome and branch', async () => {
      const tenant = `tenant-${randomUUID()}`;
      const thisHour = new Date('2026-12-07T14:00:00.000Z').getTime();
      const firstHour = thisHour - (HOURLY_WINDOW_HOURS - 1) * HOUR;
      const ago = (at: number) => NOW.getTime() - at;
      await store.decisions.insertMany([
        decision(tenant, 1, 'MATCH', 'row', 0), // this hour
        decision(tenant, 1, 'NOT_FOUND', 'not_found', ago(thisHour)), // this hour's first millisecond
        decision(tenant, 1, 'CRM_TIMEOUT', 'crm_error', ago(thisHour - 1)), // the hour before's last millisecond
        decision(tenant, 1, 'CRM_TIMEOUT', 'crm_error', ago(thisHour - 2 * HOUR + 5 * 60_000)),
        decision(tenant, 1, 'INVALID_DTMF', 'invalid_digits', ago(firstHour)), // the window's first hour
        decision(tenant, 1, 'MATCH', 'row', ago(firstHour - 1)), // just before the window
        decision(tenant, 1, 'HANGUP', null, ago(thisHour + 10 * 60_000)),
        decision(tenant, 2, 'MATCH', 'row', 0), // another rule
        decision(`${tenant}-other`, 1, 'MATCH', 'row', 0), // another tenant
      ]);
      const counts = await store.decisionCounts.hourly(tenant, 1, NOW);
      assert.equal(counts.hours.length, HOURLY_WINDOW_HOURS);
      assert.equal(counts.hours[0]!.start.toISOString(), new Date(firstHour).toISOString());
      assert.equal(counts.hours.at(-1)!.start.toISOString(), '2026-12-07T14:00:00.000Z');
      const busy = counts.hours.filter((h) => h.total > 0).map((h) => [h.start.toISOString().slice(0, 13), h.outcomes, h.branches]);
      assert.deepEqual(busy, [
        [new Date(firstHour).toISOString().slice(0, 13), { INVALID_DTMF: 1 }, { invalid_digits: 1 }],
        ['2026-12-07T12', { CRM_TIMEOUT: 1 }, { crm_error: 1 }],
        ['2026-12-07T13', { CRM_TIMEOUT: 1 }, { crm_error: 1 }],
        ['2026-12-07T14', { MATCH: 1, NOT_FOUND: 1, HANGUP: 1 }, { row: 1, not_found: 1, none: 1 }],
      ]);
      assert.equal(counts.total, 6);
      assert.deepEqual(counts.outcomes, { INVALID_DTMF: 1, CRM_TIMEOUT: 2, MATCH: 1, NOT_FOUND: 1, HANGUP: 1 });
    });

    it('is empty, with every hour present, for a rule without calls', async () => {
      const counts = await store.decisionCounts.hourly(`tenant-${randomUUID()}`, 99, NOW);
      assert.equal(counts.total, 0);
      assert.equal(counts.hours.length, HOURLY_WINDOW_HOURS);
      assert.ok(counts.hours.every((h) => h.total === 0));
    });
  });

  it('reads the decisions_rule_time index for both counts', async function () {
    const sql = store.db(store.tables.decisions).where({ tenant_id: 't', rule_id: 1 }).andWhere('created_at', '>=', NOW).count({ n: '*' }).toSQL();
    if (database.dialect === 'mariadb') {
      const [rows] = (await store.db.raw(`explain ${sql.sql}`, sql.bindings as never)) as [Array<{ key: string | null }>];
      assert.equal(rows[0]?.key, 'dc_decisions_rule_time');
    } else {
      const rows = (await store.db.raw(`explain query plan ${sql.sql}`, sql.bindings as never)) as Array<{ detail: string }>;
      assert.match(rows.map((r) => r.detail).join('\n'), /USING COVERING INDEX dc_decisions_rule_time/);
    }
  });
});
