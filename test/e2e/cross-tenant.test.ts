import assert from 'node:assert/strict';
import { crossTenantCases, REFUSED_STATUSES } from '../../scripts/lib/cross-tenant-cases';
import { ADMIN, OTHER_TENANT_USER } from '../support/test-host';
import { CallRig, NEXT_PRIORITY, signedScript, TEST_SECRET_KEY } from './support/call-rig';
import { ruleFormFields } from './support/rule-spec';

describe("Cross-tenant AGI matrix: no unsigned or altered line runs another tenant's rule", function () {
  this.timeout(60_000);
  let rig: CallRig;
  let attackerRule: number;
  let victimRule: number;

  before(async () => {
    rig = await CallRig.start();
    attackerRule = await rig.createRule({ url: rig.route('/attacker', () => ({ body: { value: 'gold' } })), rows: [{ operator: 'eq', value: 'gold', destination: 'queue:103' }] });
    const bob = await rig.host.signIn(OTHER_TENANT_USER);
    await bob.get('/crm/routing/new');
    const saved = await bob.post('/crm/routing/new', ruleFormFields({ name: 'Victim rule', url: rig.route('/victim', () => ({ body: { value: 'vip' } })), rows: [{ operator: 'eq', value: 'vip', destination: 'queue:105' }] }));
    assert.equal(saved.status, 303);
    victimRule = (await rig.host.host.plugin.routingDestinations(OTHER_TENANT_USER.tenantId)).find((r) => r.name === 'Victim rule')!.ruleId;
  });
  after(async () => rig?.close());

  it("routes each tenant's own signed line (the matrix is not refusing everything)", async () => {
    const own = await rig.call(attackerRule);
    assert.equal(own.variables.CRM_ROUTING_OUTCOME, 'MATCH', own.dialogue);
    const victimsOwn = await rig.call(undefined, { script: signedScript(victimRule, OTHER_TENANT_USER.tenantId) });
    assert.equal(victimsOwn.variables.CRM_ROUTING_OUTCOME, 'MATCH', victimsOwn.dialogue);
    assert.equal(rig.requestsTo('/victim').length, 1);
  });

  it('refuses every case before any lookup: FORBIDDEN (or UNKNOWN_RULE), the fallback line runs, the CRM is never asked', async () => {
    const line = signedScript(attackerRule, ADMIN.tenantId);
    const signedQuery = line.slice(line.indexOf('?') + 1);
    const cases = crossTenantCases({
      attacker: { ruleId: attackerRule, tenantId: ADMIN.tenantId, signedQuery, sig: new URLSearchParams(signedQuery).get('sig')! },
      victim: { ruleId: victimRule, tenantId: OTHER_TENANT_USER.tenantId },
    });
    const before = { attacker: rig.requestsTo('/attacker').length, victim: rig.requestsTo('/victim').length, redirects: rig.ami!.actionsNamed('Redirect').length };
    const outcomes: string[] = [];
    for (const c of cases) {
      const call = await rig.call(undefined, { script: c.script, ...(c.args ? { args: c.args } : {}) });
      const status = call.variables.CRM_ROUTING_STATUS ?? '(none)';
      outcomes.push(`${c.group} / ${c.label}: ${status}`);
      assert.ok(REFUSED_STATUSES.has(status), `${c.group} / ${c.label} was not refused: ${call.dialogue}`);
      assert.deepEqual(call.ended, NEXT_PRIORITY, `${c.label}: the dialplan's fallback line runs`);
    }
    assert.equal(rig.requestsTo('/victim').length, before.victim, `no request to the victim's CRM:\n${outcomes.join('\n')}`);
    assert.equal(rig.requestsTo('/attacker').length, before.attacker, 'no request to any CRM');
    assert.equal(rig.ami!.actionsNamed('Redirect').length, before.redirects, 'no call moved');
    assert.ok(outcomes.filter((o) => o.endsWith('FORBIDDEN')).length >= cases.length - 1, outcomes.join('\n'));
  });
});

describe('After a dialplan key change: old lines route until the grace period ends', function () {
  this.timeout(30_000);
  const NEW_KEY = 'a-new-dialplan-key-0123456789abcdef-012345';
  let rig: CallRig;

  after(async () => rig?.close());

  it('accepts a line signed with the previous key while it is accepted, and shows the new line on the DIDs page', async () => {
    rig = await CallRig.start({ dialplanSigning: { key: NEW_KEY, previousKey: TEST_SECRET_KEY, acceptPreviousUntil: new Date(Date.now() + 3_600_000) } });
    const rule = await rig.createRule({ url: rig.route('/gold', () => ({ body: { value: 'gold' } })), rows: [{ operator: 'eq', value: 'gold', destination: 'queue:103' }] });
    const oldLine = signedScript(rule, ADMIN.tenantId);
    const newLine = (await rig.host.host.plugin.routingDestinations(ADMIN.tenantId)).find((r) => r.ruleId === rule)!.agiUrl!.replace(/^agi:\/\/[^/]+\//, '');
    assert.notEqual(newLine, oldLine, 'the DIDs page shows the line signed with the new key');
    assert.equal((await rig.call(undefined, { script: oldLine })).variables.CRM_ROUTING_OUTCOME, 'MATCH');
    assert.equal((await rig.call(undefined, { script: newLine })).variables.CRM_ROUTING_OUTCOME, 'MATCH');
  });

  it('refuses the old lines once the grace period is over (FORBIDDEN), and keeps routing the new ones', async () => {
    await rig.close();
    rig = await CallRig.start({ dialplanSigning: { key: NEW_KEY, previousKey: TEST_SECRET_KEY, acceptPreviousUntil: new Date(Date.now() - 1_000) } });
    const rule = await rig.createRule({ url: rig.route('/gold', () => ({ body: { value: 'gold' } })), rows: [{ operator: 'eq', value: 'gold', destination: 'queue:103' }] });
    assert.equal((await rig.call(undefined, { script: signedScript(rule, ADMIN.tenantId) })).variables.CRM_ROUTING_STATUS, 'FORBIDDEN');
    const newLine = (await rig.host.host.plugin.routingDestinations(ADMIN.tenantId)).find((r) => r.ruleId === rule)!.agiUrl!.replace(/^agi:\/\/[^/]+\//, '');
    assert.equal((await rig.call(undefined, { script: newLine })).variables.CRM_ROUTING_OUTCOME, 'MATCH');
  });
});
