/**
 * Every CRM of CRM > Integration through the real call path: its integration saved and enabled
 * on the Integration page, a rule saved on the Routing page, then calls placed by the simulated
 * Asterisk over FastAGI and moved with AMI Redirect. The CRM is the connector's own fake vendor
 * server (test/support/crm-cases.ts says, per CRM, how it is started and pointed at).
 */
import assert from 'node:assert/strict';
import type { CallResult } from '../../scripts/lib/asterisk-simulator';
import { CRM_CASES, KNOWN_CALLERS, UNKNOWN_CALLER } from '../support/crm-cases';
import { CrmCallRig, DEFAULT_EXTENSION, ROWS } from '../support/crm-call-rig';

function landed(call: CallResult): string {
  return call.ended.kind === 'dialplan' ? `${call.ended.context},${call.ended.exten},${call.ended.priority} (${call.ended.via})` : call.ended.kind;
}

function routing(call: CallResult): Record<string, string | undefined> {
  const v = call.variables;
  return { outcome: v.CRM_ROUTING_OUTCOME, value: v.CRM_ROUTING_VALUE, row: v.CRM_ROUTING_ROW, method: v.CRM_ROUTING_METHOD };
}

describe('CRM > Integration: a call routed by each CRM', function () {
  this.timeout(20_000);
  let rig: CrmCallRig;
  // The second row, so the first was walked and passed over.
  const known = KNOWN_CALLERS.find((c) => c.value === ROWS[1].value)!;

  before(async function () {
    this.timeout(60_000);
    rig = await CrmCallRig.start(CRM_CASES, { callers: KNOWN_CALLERS });
  });
  after(async () => rig?.close());

  for (const crm of CRM_CASES) {
    describe(crm.name, () => {
      afterEach(() => assert.deepEqual(rig.fake(crm).violations(), [], `${crm.name}'s fake saw requests the vendor would refuse`));

      it(`a known caller (${ROWS[1].value}) reaches row 2: queue ${ROWS[1].queue}`, async () => {
        const call = await rig.call(crm, known.phone);
        assert.equal(landed(call), `ext-queues,${ROWS[1].queue},1 (redirect)`, call.dialogue);
        assert.deepEqual(routing(call), { outcome: 'MATCH', value: known.value, row: '2', method: 'AMI' }, call.dialogue);
      });

      it(`an unknown caller is NOT_FOUND and goes to the default destination, extension ${DEFAULT_EXTENSION}`, async () => {
        const call = await rig.call(crm, UNKNOWN_CALLER);
        assert.equal(landed(call), `ext-local,${DEFAULT_EXTENSION},1 (redirect)`, call.dialogue);
        assert.deepEqual(routing(call), { outcome: 'NOT_FOUND', value: '', row: '', method: 'AMI' }, call.dialogue);
      });
    });
  }
});
