import assert from 'node:assert/strict';
import type { CallResult } from '../../scripts/lib/asterisk-simulator';
import { ADMIN } from '../support/test-host';
import { CallRig, commandsOf, NEXT_PRIORITY, signedScript } from './support/call-rig';
import { within } from './support/within';

describe('Live call routing: calls the plugin cannot route end at once, and the dialplan falls back', function () {
  let rig: CallRig;
  let rule: number;

  before(async function () {
    this.timeout(30_000);
    rig = await CallRig.start();
    rule = await rig.createRule({ url: rig.route('/gold', () => ({ body: { value: 'gold' } })), rows: [{ operator: 'eq', value: 'gold', destination: 'queue:103' }] });
  });
  after(async () => rig?.close());

  /** CRM_ROUTING_STATUS set to `status`, nothing else sent, no CRM request, the next priority at once. */
  async function assertEndedEarly(status: string, place: () => Promise<CallResult>): Promise<void> {
    const requests = rig.crm.requests.length;
    const redirects = rig.ami!.actionsNamed('Redirect').length;
    const call = await place();
    assert.equal(commandsOf(call).length, 1, `one command, then the session ends: ${call.dialogue}`);
    assert.deepEqual(call.variables, { CRM_ROUTING_STATUS: status });
    assert.equal(call.agiStatus, 'SUCCESS');
    assert.deepEqual(call.ended, NEXT_PRIORITY);
    assert.ok(call.timings.finalMoveAtMs < 100, `ended ${call.timings.finalMoveAtMs} ms after connecting`);
    assert.equal(rig.crm.requests.length, requests, 'no CRM request');
    assert.equal(rig.ami!.actionsNamed('Redirect').length, redirects, 'no Redirect');
  }

  it('an unknown rule id: UNKNOWN_RULE', async () => {
    await assertEndedEarly('UNKNOWN_RULE', () => rig.call(987_654));
  });

  it("a line signed for the rule under another tenant is answered like an unknown rule: UNKNOWN_RULE", async () => {
    await assertEndedEarly('UNKNOWN_RULE', () => rig.call(undefined, { script: signedScript(rule, 'other') }));
  });

  it('another AGI script: BAD_REQUEST', async () => {
    await assertEndedEarly('BAD_REQUEST', () => rig.call(undefined, { script: 'other-script?rule=1' }));
  });

  for (const script of ['crm-routing?rule=abc', 'crm-routing?rule=0', 'crm-routing?rule=1e3', 'crm-routing', 'crm-routing?rule=1&tenant=default']) {
    it(`a line the plugin did not sign (${script}): FORBIDDEN`, async () => {
      await assertEndedEarly('FORBIDDEN', () => rig.call(undefined, { script }));
    });
  }

  it('no longer takes the rule id from agi_arg_1: the line carries no signature, FORBIDDEN', async () => {
    await assertEndedEarly('FORBIDDEN', () => rig.call(undefined, { script: 'crm-routing', args: [String(rule)] }));
  });

  it('license off (switched on the License page): UNLICENSED at once; on again: routed', async () => {
    await rig.setLicensed(false);
    try {
      await assertEndedEarly('UNLICENSED', () => rig.call(rule));
    } finally {
      await rig.setLicensed(true);
    }
    const call = await rig.call(rule);
    assert.equal(call.variables.CRM_ROUTING_OUTCOME, 'MATCH', call.dialogue);
  });

  describe('destinations deleted on the PBX', () => {
    let missingRow: number;
    let missingDefault: number;

    before(async function () {
      this.timeout(10_000);
      // The form only offers what exists: these rules are written as if the PBX lost a queue since.
      const url = rig.route('/gold-again', () => ({ body: { value: 'gold' } }));
      const draft = (name: string, rowQueue: string, defaultQueue: string) => ({
        name, fieldName: 'Account_Tier', location: 'did' as const, greeting: null,
        source: { kind: 'custom' as const, url, post: false, headers: [] }, deadlineSeconds: 1,
        defaultDestination: { type: 'queue' as const, target: defaultQueue }, defaultVoicemail: 'unset' as const, branches: { notFound: null, crmError: null, invalidDigits: null },
        rows: [{ operator: 'eq' as const, value: 'gold', destination: { type: 'queue' as const, target: rowQueue } }],
      });
      missingRow = (await rig.store.rules.create(ADMIN.tenantId, draft('Row queue gone', '999', '104'))).id;
      missingDefault = (await rig.store.rules.create(ADMIN.tenantId, draft('Default queue gone', '998', '997'))).id;
    });

    it("a matched row's destination gone: the default destination, DESTINATION_MISSING", async () => {
      const call = await within(rig.firstCallOnceLoaded(missingRow), 4000, 'the host loads the rule');
      assert.deepEqual(call.ended, { kind: 'dialplan', context: 'ext-queues', exten: '104', priority: 1, via: 'redirect' }, call.dialogue);
      assert.equal(call.variables.CRM_ROUTING_OUTCOME, 'DESTINATION_MISSING');
      const decision = await rig.decision(missingRow, call.uniqueid);
      assert.deepEqual({ outcome: decision.outcome, destination: decision.destination }, { outcome: 'DESTINATION_MISSING', destination: { type: 'queue', target: '104' } });
    });

    it('the default destination gone too: NO_DESTINATION, the dialplan fallback takes the call', async () => {
      const call = await within(rig.firstCallOnceLoaded(missingDefault), 4000, 'the host loads the rule');
      assert.deepEqual(call.variables, { CRM_ROUTING_STATUS: 'NO_DESTINATION' }, call.dialogue);
      assert.equal(commandsOf(call).length, 1);
      assert.deepEqual(call.ended, NEXT_PRIORITY);
    });
  });
});
