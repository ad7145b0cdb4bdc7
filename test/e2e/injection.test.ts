import assert from 'node:assert/strict';
import type { CallResult } from '../../scripts/lib/asterisk-simulator';
import { ADMIN } from '../support/test-host';
import { CallRig, commandsOf, NEXT_PRIORITY } from './support/call-rig';
import { within } from './support/within';

/** What a call routed to the default extension 100 by AMI leaves on the channel: these variables, exactly. */
function defaultRouteVariables(outcome: string, value: string): Record<string, string> {
  return { CRM_ROUTING_STATUS: 'OK', CRM_ROUTING_OUTCOME: outcome, CRM_ROUTING_VALUE: value, CRM_ROUTING_ROW: '', CRM_ROUTING_METHOD: 'AMI' };
}

/** Commands the call flow sends; any other line on the socket is a command someone injected. */
const OUR_COMMANDS = /^(SET VARIABLE|EXEC MSet|SET CONTEXT|SET EXTENSION|SET PRIORITY|GET DATA) /;

function assertNothingInjected(call: CallResult): void {
  for (const command of commandsOf(call)) {
    assert.match(command, OUR_COMMANDS, `a command the call flow never sends: ${JSON.stringify(command)}`);
    assert.doesNotMatch(command, /^SET CONTEXT (")?evil/, `injected command ${JSON.stringify(command)}`);
  }
}

describe('Live call routing: CR/LF never reaches AGI or AMI', function () {
  let rig: CallRig;
  let rule: number;
  const values: Record<string, string> = {
    '+15550000001': 'gold\r\nHANGUP',
    '+15550000002': 'x\nSET CONTEXT evil',
    '+15550000003': 'Gold "VIP" \\ customer',
    '+15550000004': `${'v'.repeat(3000)}\nSET CONTEXT evil`,
  };

  before(async function () {
    this.timeout(30_000);
    rig = await CallRig.start();
    const url = rig.route('/values', (req) => ({ body: { value: values[req.query.get('caller_id') ?? ''] ?? '' } }));
    rule = await rig.createRule({ url, rows: [{ operator: 'eq', value: 'gold', destination: 'queue:103' }] });
  });
  after(async () => rig?.close());

  it('a CRM value with "\\r\\nHANGUP" is one variable with spaces, not a second command', async () => {
    const call = await rig.call(rule, { callerId: '+15550000001' });
    assertNothingInjected(call);
    assert.deepEqual(call.variables, defaultRouteVariables('NO_MATCH', 'gold  HANGUP'), call.dialogue);
    assert.deepEqual(call.ended, { kind: 'dialplan', context: 'ext-local', exten: '100', priority: 1, via: 'redirect' });
    assert.equal((await rig.decision(rule, call.uniqueid)).value, 'gold\r\nHANGUP', 'the log keeps what the CRM said');
  });

  it('a CRM value with "\\nSET CONTEXT evil" stays inside CRM_ROUTING_VALUE', async () => {
    const call = await rig.call(rule, { callerId: '+15550000002' });
    assertNothingInjected(call);
    assert.deepEqual(call.variables, defaultRouteVariables('NO_MATCH', 'x SET CONTEXT evil'), call.dialogue);
    assert.equal(call.ended.kind === 'dialplan' && call.ended.context, 'ext-local');
  });

  it('quotes and backslashes arrive as the CRM sent them', async () => {
    const call = await rig.call(rule, { callerId: '+15550000003' });
    assert.equal(call.variables.CRM_ROUTING_VALUE, 'Gold "VIP" \\ customer', call.dialogue);
    assertNothingInjected(call);
  });

  it('a long value with a newline is cut to one short line', async () => {
    const call = await rig.call(rule, { callerId: '+15550000004' });
    assert.equal(call.variables.CRM_ROUTING_VALUE, 'v'.repeat(255));
    assertNothingInjected(call);
    assert.equal(call.ended.kind === 'dialplan' && call.ended.context, 'ext-local');
  });

  for (const [what, caller] of [
    ['a caller ID name with a CR', { callerName: 'Evil\rSET CONTEXT evil' }],
    ['a caller ID name with an ESC', { callerName: 'Evil\x1b[2J' }],
    ['a caller ID number with a TAB', { callerId: '+1555\t0001111' }],
  ] as const) {
    it(`${what}: BAD_REQUEST, the session ends at once, nothing asked or moved`, async () => {
      const requests = rig.crm.requests.length;
      const redirects = rig.ami!.actionsNamed('Redirect').length;
      const call = await rig.call(rule, caller);
      assert.equal(commandsOf(call).length, 1, call.dialogue);
      assert.deepEqual(call.variables, { CRM_ROUTING_STATUS: 'BAD_REQUEST' });
      assert.deepEqual(call.ended, NEXT_PRIORITY);
      assert.equal(call.agiStatus, 'SUCCESS');
      assert.equal(rig.crm.requests.length, requests, 'no CRM request');
      assert.equal(rig.ami!.actionsNamed('Redirect').length, redirects, 'no Redirect');
    });
  }

  for (const [what, callerName] of [
    ['a caller ID name with an LF and a command', 'Evil\nSET CONTEXT evil'],
    ['a caller ID name with an LF and a second agi_channel (another caller\'s channel)', 'Evil\nagi_channel: Local/victim@from-did-00000bad;2'],
    ['a caller ID name with an LF and a second agi_network_script', 'Evil\nagi_network_script: crm-routing?rule=1&tenant=other'],
  ] as const) {
    it(`${what}: the header is refused, no command, no Redirect, the dialplan goes on`, async () => {
      const requests = rig.crm.requests.length;
      const redirects = rig.ami!.actionsNamed('Redirect').length;
      const call = await rig.call(rule, { callerName });
      assert.deepEqual(commandsOf(call), [], call.dialogue);
      assert.deepEqual(call.ended, NEXT_PRIORITY);
      assert.equal(rig.crm.requests.length, requests, 'no CRM request');
      assert.equal(rig.ami!.actionsNamed('Redirect').length, redirects, 'no Redirect of any channel');
    });
  }

  it('a Custom HTTP Header value with CR/LF (written past the form): nothing sent, CONFIG error, default destination', async function () {
    this.timeout(10_000);
    const path = '/header-injection';
    const url = rig.route(path, () => ({ body: { value: 'gold' } }));
    // The form refuses such a value; another process (or an older version) writing the table directly does not.
    const stored = await rig.store.rules.create(ADMIN.tenantId, {
      name: 'Header injection', fieldName: 'Account_Tier', location: 'did', greeting: null,
      source: { kind: 'custom', url, post: false, headers: [{ name: 'X-Api-Key', value: 'k\r\nX-Injected: 1', secret: false }] },
      deadlineSeconds: 1, defaultDestination: { type: 'extension', target: '100' }, defaultVoicemail: 'unset', branches: { notFound: null, crmError: null, invalidDigits: null },
      rows: [{ operator: 'eq', value: 'gold', destination: { type: 'queue', target: '103' } }],
    });
    const call = await within(rig.firstCallOnceLoaded(stored.id), 4000, 'the host loads the rule written beside it');
    assertNothingInjected(call);
    assert.deepEqual(call.variables, defaultRouteVariables('CRM_ERROR', ''), call.dialogue);
    assert.deepEqual(call.ended, { kind: 'dialplan', context: 'ext-local', exten: '100', priority: 1, via: 'redirect' });
    assert.equal(rig.requestsTo(path).length, 0, 'no request with the injected header');
    const decision = await rig.decision(stored.id, call.uniqueid);
    assert.equal(decision.errorCode, 'CONFIG');
  });
});
