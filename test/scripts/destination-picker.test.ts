import assert from 'node:assert/strict';
import { ReferenceCatalog, SEEDED_CATALOG } from '../../scripts/host/catalog';
import { destinationProblem, dialplanLines, pickerGroups, type PickerContext } from '../../scripts/host/destination-picker';

const rules = [
  { ruleId: 1, name: 'DID rule', location: 'did' as const, dialplan: ['AGI(agi://127.0.0.1:4573/crm-routing?rule=1&tenant=t)', 'Goto(ext-local,100,1)'] },
  { ruleId: 2, name: 'IVR rule', location: 'ivr' as const, dialplan: ['AGI(agi://127.0.0.1:4573/crm-routing?rule=2&tenant=t)', 'Hangup()'] },
];
const ctx = (over: Partial<PickerContext> = {}): PickerContext => ({ rules, catalog: SEEDED_CATALOG, location: 'did', licensed: true, ...over });

describe('The reference host destination pickers', () => {
  it('offer the rules of their own Location only, and none while unlicensed', () => {
    assert.deepEqual(pickerGroups(ctx())[0], { label: 'CRM Routing', choices: [{ value: 'crm-routing:1', label: 'DID rule' }] });
    assert.deepEqual(pickerGroups(ctx({ location: 'ivr' }))[0]?.choices.map((c) => c.label), ['IVR rule']);
    assert.deepEqual(pickerGroups(ctx({ licensed: false })).map((g) => g.label), ['Catalog']);
  });

  it('refuse a rule of the other Location, a removed rule, an unknown destination and none at all', () => {
    assert.equal(destinationProblem('crm-routing:1', ctx()), undefined);
    assert.match(destinationProblem('crm-routing:2', ctx()) ?? '', /has Location IVR/);
    assert.match(destinationProblem('crm-routing:1', ctx({ location: 'ivr' })) ?? '', /has Location DID: an IVR option can use only rules whose Location is IVR/);
    assert.match(destinationProblem('crm-routing:9', ctx()) ?? '', /no longer exists/);
    assert.match(destinationProblem('crm-routing:1', ctx({ licensed: false })) ?? '', /not enabled in the license/);
    assert.match(destinationProblem('queue:999', ctx()) ?? '', /not on this PBX/);
    assert.equal(destinationProblem('', ctx()), 'Choose a destination.');
  });

  it('write a key or DID as dialplan lines: the rule\'s AGI lines, or a Goto (with its variables) for the catalog', () => {
    const catalog = new ReferenceCatalog();
    assert.deepEqual(dialplanLines('2', 'crm-routing:2', rules, 't', catalog), ['exten => 2,1,NoOp(CRM Routing rule 2)', ' same => n,AGI(agi://127.0.0.1:4573/crm-routing?rule=2&tenant=t)', ' same => n,Hangup()']);
    assert.deepEqual(dialplanLines('1', 'queue:103', rules, 't', catalog), ['exten => 1,1,Goto(ext-queues,103,1)']);
    assert.deepEqual(dialplanLines('3', 'recording:closed', rules, 't', catalog), ['exten => 3,1,NoOp(recording:closed)', ' same => n,Set(CRM_ROUTING_RECORDING=closed)', ' same => n,Goto(crm-play-recording,s,1)']);
  });
});
