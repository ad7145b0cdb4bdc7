/**
 * /metrics as Prometheus reads it (an independent text-format parser), after a scripted run of
 * calls through the simulated Asterisk on signed dialplan lines: every count matches what the
 * calls did and what the CRM's own fake counted.
 */
import assert from 'node:assert/strict';
import request from 'supertest';
import { KNOWN_CALLERS, UNKNOWN_CALLER, zoho } from '../support/crm-cases';
import { CrmCallRig } from '../support/crm-call-rig';
import { Scrape } from '../support/prometheus';
import { ADMIN } from '../support/test-host';
import { CallRig, signedScript } from './support/call-rig';

async function scrape(url: string): Promise<Scrape> {
  const res = await request(url).get('/metrics');
  assert.equal(res.status, 200, res.text);
  assert.match(String(res.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return new Scrape(res.text);
}

describe('/metrics after a scripted run of calls (Zoho CRM, lookup cache on, AMI)', function () {
  this.timeout(60_000);
  let rig: CrmCallRig;
  let ruleId: number;
  const gold = KNOWN_CALLERS[0]!;
  const silver = KNOWN_CALLERS[1]!;
  // Caller, how often, in this order: 5 + 3 + 2 calls, 3 distinct callers.
  const SCRIPT = [[gold.phone, 5], [silver.phone, 3], [UNKNOWN_CALLER, 2]] as const;

  before(async function () {
    this.timeout(60_000);
    rig = await CrmCallRig.start([zoho], { callers: KNOWN_CALLERS.slice(0, 2) });
    ruleId = (await rig.host.host.plugin.routingDestinations(ADMIN.tenantId))[0]!.ruleId;
  });
  after(async () => rig?.close());

  it('counts calls by rule, outcome and method; lookups, cache, sign-ins and durations per CRM; refusals by reason', async () => {
    const fake = rig.fake(zoho);
    const before = fake.counts();
    const ends: Record<string, number> = {};
    for (const [caller, times] of SCRIPT) {
      for (let i = 0; i < times; i += 1) {
        const call = await rig.call(zoho, caller);
        const key = `${call.variables.CRM_ROUTING_OUTCOME} ${call.ended.kind === 'dialplan' ? call.ended.via : call.ended.kind}`;
        ends[key] = (ends[key] ?? 0) + 1;
      }
    }
    assert.deepEqual(ends, { 'MATCH redirect': 8, 'NOT_FOUND redirect': 2 }, 'the calls went where the rule says, moved by AMI');
    // Two lines the plugin refuses: a signature altered, and a rule that does not exist (signed for it, though).
    const asterisk = rig.asterisk;
    const forged = signedScript(ruleId, ADMIN.tenantId).replace(/sig=[^&]+/, 'sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    assert.equal((await asterisk.placeCall({ agiPort: rig.host.agiPort, script: forged, callerId: gold.phone })).variables.CRM_ROUTING_STATUS, 'FORBIDDEN');
    assert.equal((await asterisk.placeCall({ agiPort: rig.host.agiPort, script: signedScript(999_999, ADMIN.tenantId), callerId: gold.phone })).variables.CRM_ROUTING_STATUS, 'UNKNOWN_RULE');
    const counted = { lookups: fake.counts().lookups - before.lookups, logins: (fake.counts().logins ?? 0) - (before.logins ?? 0) };

    const m = await scrape(rig.host.host.url);
    const rule = String(ruleId);
    assert.deepEqual(m.series('crm_routing_calls_total'), { [`rule=${rule},outcome=MATCH,method=ami`]: 8, [`rule=${rule},outcome=NOT_FOUND,method=ami`]: 2 });
    assert.deepEqual(m.series('crm_routing_agi_refused_total'), { 'reason=FORBIDDEN': 1, 'reason=UNKNOWN_RULE': 1 });
    // The cache: one lookup per distinct caller reached Zoho (3, as Zoho's fake counted), the other 7 calls were hits.
    assert.equal(counted.lookups, 3);
    assert.deepEqual(m.series('crm_routing_crm_lookups_total'), { 'crm=zoho,result=found': 2, 'crm=zoho,result=not_found': 1 });
    assert.equal(m.value('crm_routing_lookup_cache_hits_total', { crm: 'zoho' }), 7);
    assert.equal(m.value('crm_routing_lookup_cache_misses_total', { crm: 'zoho' }), counted.lookups);
    assert.equal(m.histogramCount('crm_routing_crm_lookup_duration_seconds', { crm: 'zoho' }), counted.lookups, 'one duration per lookup that reached Zoho');
    const buckets = m.family('crm_routing_crm_lookup_duration_seconds').metrics[0]!.buckets!;
    assert.equal(Number(buckets['+Inf']), counted.lookups);
    assert.equal(m.value('crm_routing_crm_sign_ins_total', { crm: 'zoho', kind: 'sign_in', result: 'ok' }), counted.logins);
    assert.equal(counted.logins, 1, 'one sign-in for all the calls');
    assert.equal(m.value('crm_routing_ami_connected'), 1);
    assert.equal(m.value('crm_routing_active_calls'), 0);
    assert.equal(m.value('crm_routing_decision_log_dropped_total'), 0);
    assert.ok(m.value('crm_routing_decision_log_buffered') <= 12);
    for (const family of m.families) assert.ok(family.name.startsWith('crm_routing_'), `${family.name}: only the plugin's own registry (no global default metrics)`);
    for (const caller of [gold.phone, silver.phone, UNKNOWN_CALLER]) {
      assert.ok(!m.text.includes(caller.slice(2)), `no caller number in /metrics (${caller})`);
    }
  });
});

describe('/metrics without AMI, a Custom CRM that fails, and who may read it', function () {
  this.timeout(30_000);
  let rig: CallRig;

  before(async () => {
    rig = await CallRig.start({ ami: 'none' });
  });
  after(async () => rig?.close());

  it('counts calls moved with AGI, and the Custom CRM lookups by result (found, http_error)', async () => {
    const rule = await rig.createRule({ url: rig.route('/tier', () => ({ body: { value: 'gold' } })), rows: [{ operator: 'eq', value: 'gold', destination: 'queue:103' }] });
    const failing = await rig.createRule({ url: rig.route('/down', () => ({ status: 503, body: 'maintenance' })), rows: [{ operator: 'eq', value: 'gold', destination: 'queue:103' }] });
    for (let i = 0; i < 3; i += 1) assert.equal((await rig.call(rule)).variables.CRM_ROUTING_METHOD, 'AGI');
    assert.equal((await rig.call(failing)).variables.CRM_ROUTING_OUTCOME, 'CRM_ERROR');
    const m = await scrape(rig.host.host.url);
    assert.equal(m.value('crm_routing_calls_total', { rule: String(rule), outcome: 'MATCH', method: 'agi' }), 3);
    assert.equal(m.value('crm_routing_calls_total', { rule: String(failing), outcome: 'CRM_ERROR', method: 'agi' }), 1);
    assert.deepEqual(m.series('crm_routing_crm_lookups_total'), { 'crm=custom,result=found': 3, 'crm=custom,result=http_error': 1 });
    assert.equal(rig.requestsTo('/tier').length, 3, 'the Custom CRM has no lookup cache: each call asked it');
    assert.equal(m.value('crm_routing_ami_connected'), 0, 'no AMI settings: 0 (/healthz says "not configured")');
  });

  it('refuses a request that came through a proxy (X-Forwarded-For): not local, and no token is configured', async () => {
    for (const path of ['/metrics', '/healthz']) {
      const res = await request(rig.host.host.url).get(path).set('X-Forwarded-For', '203.0.113.7');
      assert.equal(res.status, 403, path);
      assert.doesNotMatch(res.text, /crm_routing|healthy/, `${path} tells nothing`);
    }
  });
});
