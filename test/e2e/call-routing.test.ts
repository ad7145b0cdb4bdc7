import assert from 'node:assert/strict';
import type { CallResult } from '../../scripts/lib/asterisk-simulator';
import { CallRig, commandsOf } from './support/call-rig';

/** Where the caller ended up, as the simulated Asterisk saw it. */
function landed(call: CallResult): string {
  return call.ended.kind === 'dialplan' ? `${call.ended.context},${call.ended.exten},${call.ended.priority} (${call.ended.via})` : call.ended.kind;
}

const TIERS: Record<string, unknown> = {
  '+15550000001': { value: 'gold' },
  '+15550000002': { Account_Tier: 'Silver' },
  '+15550000003': 'bronze',
  '+15550000004': { value: 'platinum' },
  '+15550000005': { value: '' },
  '+15550000006': { found: false },
};

describe('Live call routing: where a call goes', function () {
  let rig: CallRig;
  let tiered: number;
  let withEmptyRow: number;

  before(async function () {
    this.timeout(30_000);
    rig = await CallRig.start();
    const url = rig.route('/tier', (req) => {
      const answer = TIERS[req.query.get('caller_id') ?? ''];
      return typeof answer === 'string' ? { headers: { 'content-type': 'text/plain' }, body: answer } : { body: answer ?? { found: false } };
    });
    tiered = await rig.createRule({
      url, fieldName: 'Account_Tier',
      rows: [
        { operator: 'eq', value: 'gold', destination: 'queue:103' },
        { operator: 'eq', value: 'silver', destination: 'ivr:200' },
        { operator: 'eq', value: 'bronze', destination: 'recording:welcome-en' },
      ],
    });
    withEmptyRow = await rig.createRule({
      url, rows: [{ operator: 'eq', value: 'gold', destination: 'queue:103' }, { operator: 'empty', destination: 'queue:104' }],
    });
  });
  after(async () => rig?.close());

  it('sends a caller whose value matches row 1 to its queue with AMI Redirect, then closes at once', async () => {
    const call = await rig.call(tiered, { callerId: '+15550000001', did: '5551234' });
    assert.equal(landed(call), 'ext-queues,103,1 (redirect)', call.dialogue);
    assert.equal(call.agiStatus, 'HANGUP');
    assert.deepEqual(call.variables, {
      CRM_ROUTING_STATUS: 'OK', CRM_ROUTING_OUTCOME: 'MATCH', CRM_ROUTING_VALUE: 'gold', CRM_ROUTING_ROW: '1', CRM_ROUTING_METHOD: 'AMI',
    });
    const redirect = rig.ami!.actionsNamed('Redirect').at(-1);
    assert.deepEqual(
      { channel: redirect?.headers.channel, context: redirect?.headers.context, exten: redirect?.headers.exten, priority: redirect?.headers.priority },
      { channel: call.channel, context: 'ext-queues', exten: '103', priority: '1' },
    );
    // Asterisk holds the caller until the server closes: the close follows the Redirect at once.
    const { redirectAtMs = Infinity, serverClosedAtMs = Infinity, finalMoveAtMs } = call.timings;
    assert.ok(serverClosedAtMs - redirectAtMs < 25, `closed ${serverClosedAtMs - redirectAtMs} ms after the Redirect`);
    assert.ok(finalMoveAtMs < 500, `moved after ${finalMoveAtMs} ms`);

    const request = rig.requestsTo('/tier').at(-1)!;
    assert.equal(request.method, 'GET');
    assert.deepEqual(Object.fromEntries(request.query), { field_name: 'Account_Tier', dtmf: '', caller_id: '+15550000001', did: '5551234' });

    const decision = await rig.decision(tiered, call.uniqueid);
    assert.deepEqual(
      { outcome: decision.outcome, rowIndex: decision.rowIndex, destination: decision.destination, method: decision.method, value: decision.value, caller: decision.caller, errorCode: decision.errorCode },
      { outcome: 'MATCH', rowIndex: 0, destination: { type: 'queue', target: '103' }, method: 'ami', value: 'gold', caller: '+15550000001', errorCode: null },
    );
    assert.ok(decision.lookupMs !== null && decision.lookupMs <= decision.totalMs);
  });

  it('sends row 2 (a field named like the rule\'s, compared ignoring case) to its IVR', async () => {
    const call = await rig.call(tiered, { callerId: '+15550000002' });
    assert.equal(landed(call), 'ivr-200,s,1 (redirect)', call.dialogue);
    assert.equal(call.variables.CRM_ROUTING_ROW, '2');
    assert.equal(call.variables.CRM_ROUTING_VALUE, 'Silver');
  });

  it('sends row 3 (a text/plain answer) to the recording, with the recording\'s variables', async () => {
    const call = await rig.call(tiered, { callerId: '+15550000003' });
    assert.equal(landed(call), 'crm-play-recording,s,1 (redirect)', call.dialogue);
    assert.equal(call.variables.CRM_ROUTING_RECORDING, 'welcome-en');
    assert.equal(call.variables.CRM_ROUTING_ROW, '3');
    const decision = await rig.decision(tiered, call.uniqueid);
    assert.deepEqual(decision.destination, { type: 'recording', target: 'welcome-en' });
  });

  it('sends a value no row matches to the default destination (NO_MATCH)', async () => {
    const call = await rig.call(tiered, { callerId: '+15550000004' });
    assert.equal(landed(call), 'ext-local,100,1 (redirect)', call.dialogue);
    assert.equal(call.variables.CRM_ROUTING_OUTCOME, 'NO_MATCH');
    assert.equal(call.variables.CRM_ROUTING_ROW, '');
    assert.equal(call.variables.CRM_ROUTING_VALUE, 'platinum');
    const decision = await rig.decision(tiered, call.uniqueid);
    assert.deepEqual({ outcome: decision.outcome, rowIndex: decision.rowIndex, destination: decision.destination }, { outcome: 'NO_MATCH', rowIndex: null, destination: { type: 'extension', target: '100' } });
  });

  it('tells an empty value (EMPTY_VALUE) from a caller the CRM does not know (NOT_FOUND)', async () => {
    const empty = await rig.call(tiered, { callerId: '+15550000005' });
    const unknown = await rig.call(tiered, { callerId: '+15550000006' });
    for (const call of [empty, unknown]) assert.equal(landed(call), 'ext-local,100,1 (redirect)', call.dialogue);
    assert.equal(empty.variables.CRM_ROUTING_OUTCOME, 'EMPTY_VALUE');
    assert.equal(unknown.variables.CRM_ROUTING_OUTCOME, 'NOT_FOUND');
    assert.equal((await rig.decision(tiered, empty.uniqueid)).value, '');
    assert.equal((await rig.decision(tiered, unknown.uniqueid)).value, null);
  });

  it('lets an "is empty" row catch a caller the CRM does not know', async () => {
    const call = await rig.call(withEmptyRow, { callerId: '+15550000006' });
    assert.equal(landed(call), 'ext-queues,104,1 (redirect)', call.dialogue);
    assert.equal(call.variables.CRM_ROUTING_OUTCOME, 'MATCH');
    assert.equal(call.variables.CRM_ROUTING_ROW, '2');
  });

  it('honours Default Destination Voicemail Yes, No and Not Set', async () => {
    const url = rig.route('/unknown-caller', () => ({ body: { found: false } }));
    const rows = [{ operator: 'eq' as const, value: 'gold', destination: 'queue:103' }];
    const yes = await rig.createRule({ url, rows, defaultDestination: 'extension:100', defaultVoicemail: 'yes' });
    const no = await rig.createRule({ url, rows, defaultDestination: 'extension:100', defaultVoicemail: 'no' });
    const unset = await rig.createRule({ url, rows, defaultDestination: 'extension:100', defaultVoicemail: 'unset' });

    const toVoicemail = await rig.call(yes);
    assert.equal(landed(toVoicemail), 'ext-voicemail,100,1 (redirect)', toVoicemail.dialogue);
    const notToVoicemail = await rig.call(no);
    assert.equal(landed(notToVoicemail), 'ext-local,100,1 (redirect)', notToVoicemail.dialogue);
    assert.equal(notToVoicemail.variables.NO_VOICEMAIL, '1');
    const hostDefault = await rig.call(unset);
    assert.equal(landed(hostDefault), 'ext-local,100,1 (redirect)', hostDefault.dialogue);
    assert.equal(hostDefault.variables.NO_VOICEMAIL, undefined);
  });

  it('posts JSON to a POST Custom CRM with the configured headers', async () => {
    const url = rig.route('/post-tier', () => ({ body: { value: 'gold' } }));
    const rule = await rig.createRule({ url, post: true, headers: [{ name: 'Authorization', value: 'Bearer s3cret', secret: true }], rows: [{ operator: 'eq', value: 'gold', destination: 'queue:105' }] });
    const call = await rig.call(rule, { callerId: '+15550000001', did: '5559876' });
    assert.equal(landed(call), 'ext-queues,105,1 (redirect)', call.dialogue);
    const request = rig.requestsTo('/post-tier').at(-1)!;
    assert.equal(request.method, 'POST');
    assert.equal(request.headers.authorization, 'Bearer s3cret');
    assert.deepEqual(JSON.parse(request.body), { field_name: 'Account_Tier', dtmf: '', caller_id: '+15550000001', did: '5559876' });
  });

  it('shows each call under the rule\'s Recent calls', async () => {
    const call = await rig.call(tiered, { callerId: '+15550000001' });
    await rig.decision(tiered, call.uniqueid);
    const page = await rig.admin.get(`/crm/routing/${tiered}/calls`);
    assert.equal(page.status, 200);
    const cell = (label: string, text: string) => `<td data-label="${label}">${text}</td>`;
    const row = page.text.split('<tr>').find((r) => r.includes(cell('Caller', '+15550000001')) && r.includes(cell('Outcome', 'MATCH')));
    assert.ok(row, 'the call is listed');
    assert.ok(row.includes(cell('Value or error', 'gold')), row);
    assert.ok(row.includes(cell('Destination', '103 - Sales queue')), row);
    assert.ok(row.includes(cell('Moved by', 'AMI')), row);
    assert.match(row, /<td data-label="Time \(UTC\)"><time datetime="[^"]+Z">\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC<\/time><\/td>/);
    assert.equal(commandsOf(call).filter((c) => c.startsWith('SET CONTEXT')).length, 0, 'moved by AMI, not AGI');
  });
});
