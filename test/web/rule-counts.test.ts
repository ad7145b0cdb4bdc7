import assert from 'node:assert/strict';
import type { Branch } from '../../src/domain/decide';
import type { Decision } from '../../src/store/decision-store';
import { PluginStore } from '../../src/store/plugin-store';
import { OTHER_TENANT_USER, startTestHost, TEST_SECRET_KEY, type SignedInAgent, type TestHost } from '../support/test-host';

const HOUR = 3_600_000;

function ruleForm(name: string): Record<string, string | string[]> {
  return {
    name, fieldName: 'Account_Tier', location: 'did', source: 'custom', customUrl: 'https://crm.example.com/lookup', customPost: 'no',
    deadlineSeconds: '3', defaultDestination: 'extension:100', defaultVoicemail: 'unset',
    row_operator: ['eq'], row_value: ['gold'], row_dest_type: ['queue'], row_dest_target: ['103'], action: 'save',
  };
}

let serial = 0;
function decision(tenantId: string, ruleId: number, outcome: string, branch: Branch | null, agoMs: number): Decision {
  serial += 1;
  return {
    tenantId, ruleId, callId: `1765100000.${serial}`, caller: '+15550000001', did: '5551234', dtmf: null, value: null, errorCode: null, errorMessage: null,
    outcome, branch, rowIndex: null, destination: { type: 'extension', target: '100' }, method: 'ami', lookupMs: 5, totalMs: 6, createdAt: new Date(Date.now() - agoMs),
  };
}

/** The list row of a rule: its three count cells as shown. */
function countsOf(html: string, ruleId: number): { calls: string; matched: string; errors: string } {
  const row = new RegExp(`<td class="crm-rule-id" data-label="ID">${ruleId}</td>[\\s\\S]*?</tr>`).exec(html)?.[0];
  assert.ok(row, `rule ${ruleId} is listed`);
  const cell = (cls: string) => new RegExp(`class="crm-num ${cls}"[^>]*>([\\s\\S]*?)</td>`).exec(row)?.[1]?.replace(/<[^>]+>/g, '').trim() ?? '';
  return { calls: cell('crm-calls'), matched: cell('crm-matched'), errors: cell('crm-errors') };
}

describe('CRM > Routing: per-rule counts from the decision log', function () {
  let t: TestHost;
  let admin: SignedInAgent;
  let bob: SignedInAgent;
  let store: PluginStore;
  let busy: number;
  let quiet: number;

  before(async function () {
    this.timeout(30_000);
    t = await startTestHost();
    admin = await t.signIn();
    bob = await t.signIn(OTHER_TENANT_USER);
    store = await PluginStore.create(t.database.db, { secretKey: TEST_SECRET_KEY });
    for (const name of ['Counted busy', 'Counted quiet']) {
      await admin.get('/crm/routing/new');
      assert.equal((await admin.post('/crm/routing/new', ruleForm(name))).status, 303);
    }
    const listed = (await store.rules.list('default', { search: 'Counted', offset: 0, limit: 10 })).rules;
    busy = listed.find((r) => r.name === 'Counted busy')!.id;
    quiet = listed.find((r) => r.name === 'Counted quiet')!.id;
    await store.decisions.insertMany([
      // Last 24 hours: 8 calls, 3 matched by a row, 2 errors to the default (1 more error took its own branch).
      ...Array.from({ length: 3 }, (_, i) => decision('default', busy, 'MATCH', 'row', (i + 1) * HOUR)),
      decision('default', busy, 'CRM_ERROR', 'default', 2 * HOUR),
      decision('default', busy, 'CRM_TIMEOUT', 'default', 3 * HOUR),
      decision('default', busy, 'CRM_ERROR', 'crm_error', 4 * HOUR),
      decision('default', busy, 'NOT_FOUND', 'not_found', 5 * HOUR),
      decision('default', busy, 'NO_MATCH', 'default', 6 * HOUR),
      // Older than a day, within the week: on the Outcomes page only.
      decision('default', busy, 'MATCH', 'row', 3 * 24 * HOUR),
      decision('default', busy, 'INVALID_DTMF', 'invalid_digits', 3 * 24 * HOUR),
      // Older than the week: nowhere.
      decision('default', busy, 'MATCH', 'row', 8 * 24 * HOUR),
      // Another tenant's decisions under this tenant's rule id: never counted here.
      ...Array.from({ length: 10 }, () => decision(OTHER_TENANT_USER.tenantId, busy, 'CRM_ERROR', 'default', HOUR)),
      ...Array.from({ length: 4 }, () => decision(OTHER_TENANT_USER.tenantId, quiet, 'MATCH', 'row', HOUR)),
    ]);
  });
  after(async () => t?.close());

  it('shows calls in the last 24 hours, the share a row matched and the share of errors sent to the default', async () => {
    const list = await admin.get('/crm/routing?q=Counted');
    assert.match(list.text, /<abbr title="Calls routed by the rule in the last 24 hours">Calls 24 h<\/abbr>/);
    assert.deepEqual(countsOf(list.text, busy), { calls: '8', matched: '38%', errors: '25%' });
    assert.deepEqual(countsOf(list.text, quiet), { calls: '0', matched: '\u2013', errors: '\u2013' }, "another tenant's calls do not count");
    assert.match(list.text, new RegExp(`href="/crm/routing/${busy}/outcomes"`));
  });

  it("shows a rule's outcomes by hour over the last 7 days", async () => {
    const page = await admin.get(`/crm/routing/${busy}/outcomes`);
    assert.equal(page.status, 200);
    assert.match(page.text, /10 calls in the last 7 days, by hour \(UTC\)/);
    const total = (outcome: string) => new RegExp(`<tr data-outcome="${outcome}"><td data-label="Outcome">${outcome}</td><td class="crm-num" data-label="Calls">(\\d+)</td>`).exec(page.text)?.[1];
    assert.deepEqual(
      ['MATCH', 'NO_MATCH', 'NOT_FOUND', 'CRM_ERROR', 'CRM_TIMEOUT', 'INVALID_DTMF'].map(total),
      ['4', '1', '1', '2', '1', '1'],
    );
    assert.match(page.text, /<tr data-branch="crm_error"><td data-label="Branch">CRM error or deadline passed<\/td><td class="crm-num" data-label="Calls">1<\/td>/);
    const hours = [...page.text.matchAll(/<tr data-hour="([^"]+)">/g)].map((m) => m[1]!);
    assert.equal(hours.length, 7, 'one line per hour with calls (the 8 calls of the last day fall in 6 hours, the older 2 in 1)');
    assert.deepEqual([...hours].sort().reverse(), hours, 'newest first');
    assert.ok(hours.every((h) => /^\d{4}-\d\d-\d\dT\d\d:00:00\.000Z$/.test(h)), 'whole hours');
  });

  it("keeps tenants apart: another tenant's Outcomes page of this rule is not found, and their list counts only theirs", async () => {
    assert.equal((await bob.get(`/crm/routing/${busy}/outcomes`)).status, 404);
    await bob.get('/crm/routing/new');
    assert.equal((await bob.post('/crm/routing/new', ruleForm('Bob rule'))).status, 303);
    const bobList = await bob.get('/crm/routing');
    const bobRule = (await store.rules.list(OTHER_TENANT_USER.tenantId, { search: 'Bob rule', offset: 0, limit: 5 })).rules[0]!.id;
    assert.deepEqual(countsOf(bobList.text, bobRule), { calls: '0', matched: '\u2013', errors: '\u2013' });
  });

  it('says so when a rule has no calls in the week', async () => {
    const page = await admin.get(`/crm/routing/${quiet}/outcomes`);
    assert.match(page.text, /No call used this rule in the last 7 days/);
    assert.doesNotMatch(page.text, /data-hour=/);
  });
});
