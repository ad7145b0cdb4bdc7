import assert from 'node:assert/strict';
import type { CallResult } from '../../scripts/lib/asterisk-simulator';
import { ADMIN } from '../support/test-host';
import { CallRig, commandsOf } from './support/call-rig';

/** Where each "When the lookup fails" branch sends the call, as the simulated Asterisk runs it. */
const BRANCHES = { notFound: 'queue:103', crmError: 'ivr:201', invalidDigits: 'extension:102' };
const LANDS = {
  notFound: { context: 'ext-queues', exten: '103', priority: 1 },
  crmError: { context: 'ivr-201', exten: 's', priority: 1 },
  invalidDigits: { context: 'ext-local', exten: '102', priority: 1 },
  default: { context: 'ext-voicemail', exten: '100', priority: 1 },
};
const GREETING = { recording: 'enter-account', maxDigits: 4, timeoutSeconds: 1, retries: 0, pattern: '5\\d{3}' };

describe('Live call routing: each failure lands on its "When the lookup fails" branch', function () {
  let rig: CallRig;
  let didRule: number;
  let ivrRule: number;
  let plainRule: number;

  before(async function () {
    this.timeout(30_000);
    rig = await CallRig.start();
    const url = rig.route('/branches', (req) => {
      const caller = req.query.get('caller_id');
      if (caller === '+15550000006' || !caller) return { body: { found: false } };
      if (caller === '+15550000007') return { delayMs: 2000, body: { value: 'gold' } };
      if (caller === '+15550000008') return { status: 500, body: 'Internal Server Error' };
      return { body: { value: 'gold' } };
    });
    const rows = [{ operator: 'eq' as const, value: 'gold', destination: 'queue:105' }];
    // Default destination extension 100 with its voicemail: a branch never carries that choice.
    const common = { url, rows, deadlineSeconds: 1, defaultDestination: 'extension:100', defaultVoicemail: 'yes' as const };
    didRule = await rig.createRule({ ...common, branches: BRANCHES });
    ivrRule = await rig.createRule({ ...common, greeting: GREETING, branches: BRANCHES });
    plainRule = await rig.createRule(common);
  });
  after(async () => rig?.close());

  async function expectBranch(call: CallResult, ruleId: number, expected: { outcome: string; branch: string; lands: (typeof LANDS)[keyof typeof LANDS]; destination: { type: string; target: string } | null; via?: 'redirect' | 'agi' }): Promise<void> {
    assert.deepEqual(call.ended, { kind: 'dialplan', ...expected.lands, via: expected.via ?? 'redirect' }, call.dialogue);
    assert.equal(call.variables.CRM_ROUTING_OUTCOME, expected.outcome);
    const decision = await rig.decision(ruleId, call.uniqueid);
    assert.deepEqual(
      { outcome: decision.outcome, branch: decision.branch, rowIndex: decision.rowIndex, method: decision.method, ...(expected.destination ? { destination: decision.destination } : {}) },
      { outcome: expected.outcome, branch: expected.branch, rowIndex: null, method: expected.via === 'agi' ? 'agi' : 'ami', ...(expected.destination ? { destination: expected.destination } : {}) },
    );
  }

  it('a caller the CRM does not know: NOT_FOUND, the not-found branch, recorded as such', async () => {
    const call = await rig.call(didRule, { callerId: '+15550000006' });
    await expectBranch(call, didRule, { outcome: 'NOT_FOUND', branch: 'not_found', lands: LANDS.notFound, destination: { type: 'queue', target: '103' } });
  });

  it('a call without caller ID takes the not-found branch too (NO_CALLER_ID)', async () => {
    const call = await rig.call(didRule, { callerId: '' });
    await expectBranch(call, didRule, { outcome: 'NO_CALLER_ID', branch: 'not_found', lands: LANDS.notFound, destination: { type: 'queue', target: '103' } });
  });

  it('a CRM error: CRM_ERROR, the CRM-error branch', async () => {
    const call = await rig.call(didRule, { callerId: '+15550000008' });
    await expectBranch(call, didRule, { outcome: 'CRM_ERROR', branch: 'crm_error', lands: LANDS.crmError, destination: { type: 'ivr', target: '201' } });
    assert.equal((await rig.decision(didRule, call.uniqueid)).errorCode, 'HTTP_ERROR');
  });

  it('the deadline passing: CRM_TIMEOUT, the CRM-error branch, still within the deadline', async () => {
    const call = await rig.call(didRule, { callerId: '+15550000007' });
    await expectBranch(call, didRule, { outcome: 'CRM_TIMEOUT', branch: 'crm_error', lands: LANDS.crmError, destination: { type: 'ivr', target: '201' } });
    assert.ok(call.timings.finalMoveAtMs < 1000 + 50, `moved ${call.timings.finalMoveAtMs} ms after connecting`);
  });

  it('digits the pattern refuses: INVALID_DTMF, the digits branch, the CRM never asked', async () => {
    const before = rig.requestsTo('/branches').length;
    const call = await rig.call(ivrRule, { dtmf: { digits: '1234' } });
    await expectBranch(call, ivrRule, { outcome: 'INVALID_DTMF', branch: 'invalid_digits', lands: LANDS.invalidDigits, destination: { type: 'extension', target: '102' } });
    assert.equal(rig.requestsTo('/branches').length, before);
  });

  it('no digits at all: INVALID_DTMF, the digits branch', async function () {
    this.timeout(10_000);
    const call = await rig.call(ivrRule, {});
    await expectBranch(call, ivrRule, { outcome: 'INVALID_DTMF', branch: 'invalid_digits', lands: LANDS.invalidDigits, destination: { type: 'extension', target: '102' } });
  });

  it('moves the call with AGI to the branch when the AMI Redirect fails', async () => {
    const channel = 'Local/5551234@from-did-0000b4a7;2';
    rig.unknownToAmi(channel);
    const call = await rig.call(didRule, { callerId: '+15550000008', channel });
    await expectBranch(call, didRule, { outcome: 'CRM_ERROR', branch: 'crm_error', lands: LANDS.crmError, destination: { type: 'ivr', target: '201' }, via: 'agi' });
    assert.deepEqual(commandsOf(call).filter((c) => /^SET (CONTEXT|EXTENSION|PRIORITY) /.test(c)), ['SET CONTEXT "ivr-201"', 'SET EXTENSION "s"', 'SET PRIORITY 1']);
  });

  it('a rule without branches keeps sending every failure to the default destination (its voicemail)', async () => {
    for (const callerId of ['+15550000006', '+15550000008']) {
      const call = await rig.call(plainRule, { callerId });
      await expectBranch(call, plainRule, { outcome: callerId.endsWith('6') ? 'NOT_FOUND' : 'CRM_ERROR', branch: 'default', lands: LANDS.default, destination: { type: 'extension', target: '100' } });
    }
  });

  it('a matching row still wins, and is recorded as the row branch', async () => {
    const call = await rig.call(didRule, { callerId: '+15550000001' });
    assert.deepEqual(call.ended, { kind: 'dialplan', context: 'ext-queues', exten: '105', priority: 1, via: 'redirect' });
    assert.equal((await rig.decision(didRule, call.uniqueid)).branch, 'row');
  });

  it('a branch destination the PBX no longer has: the default destination takes the call, the outcome stands', async function () {
    this.timeout(10_000);
    // The form only offers what exists: this rule is written as if the PBX lost the queue since.
    const url = rig.route('/branches-gone', () => ({ body: { found: false } }));
    const stored = await rig.store.rules.create(ADMIN.tenantId, {
      name: 'Branch queue gone', fieldName: 'Account_Tier', location: 'did', greeting: null,
      source: { kind: 'custom', url, post: false, headers: [] }, deadlineSeconds: 1,
      defaultDestination: { type: 'extension', target: '100' }, defaultVoicemail: 'yes',
      branches: { notFound: { type: 'queue', target: '999' }, crmError: null, invalidDigits: null },
      rows: [{ operator: 'eq', value: 'gold', destination: { type: 'queue', target: '105' } }],
    });
    const call = await rig.firstCallOnceLoaded(stored.id);
    await expectBranch(call, stored.id, { outcome: 'NOT_FOUND', branch: 'default', lands: LANDS.default, destination: { type: 'extension', target: '100' } });
  });

  it('Recent calls says which branch each call took', async () => {
    const page = await rig.admin.get(`/crm/routing/${didRule}/calls`);
    assert.equal(page.status, 200);
    for (const label of ['Caller not found in the CRM', 'CRM error or deadline passed', 'Matching row']) {
      assert.match(page.text, new RegExp(`<td data-label="Branch">${label}</td>`));
    }
  });
});
