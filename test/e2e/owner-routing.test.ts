import assert from 'node:assert/strict';
import type { CallResult } from '../../scripts/lib/asterisk-simulator';
import { CallRig } from './support/call-rig';
import { ruleFormFields, type RuleSpec } from './support/rule-spec';

function landed(call: CallResult): string {
  return call.ended.kind === 'dialplan' ? `${call.ended.context},${call.ended.exten},${call.ended.priority} (${call.ended.via})` : call.ended.kind;
}

/** What the Custom CRM says each caller's record owner is. */
const OWNERS: Record<string, string> = {
  '+15550000001': 'ana@example.com', // extension 101 in the reference host's directory
  '+15550000002': 'zoe@example.com', // a CRM user with no extension on the PBX
  '+15550000003': '102', // an extension number
  '+15550000004': '999', // a number no extension has
};

function ownerRule(url: string, key: 'email' | 'extension', name: string): RuleSpec & { name: string } {
  return { name, url, fieldName: 'Owner', defaultDestination: 'queue:105', rows: [{ operator: 'regex', value: '.', destination: `owner:${key}` }] };
}

function textOf(html: string, id: string): string {
  const m = new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</dd>`).exec(html);
  return (m?.[1] ?? '').replace(/<[^>]+>/g, '').replace(/&#39;/g, "'").replace(/&#34;/g, '"').trim();
}

describe("Live call routing: the record owner's extension", function () {
  this.timeout(20_000);

  describe('on a host with a directory', () => {
    let rig: CallRig;
    let byEmail: number;
    let byExtension: number;
    let url: string;

    before(async function () {
      this.timeout(30_000);
      rig = await CallRig.start();
      url = rig.route('/owner', (req) => ({ body: { value: OWNERS[req.query.get('caller_id') ?? ''] ?? '' } }));
      byEmail = await rig.createRule(ownerRule(url, 'email', 'Owner by e-mail'));
      byExtension = await rig.createRule(ownerRule(url, 'extension', 'Owner by extension'));
    });
    after(async () => rig?.close());

    it("sends a caller to the extension of their record's owner (e-mail in the CRM)", async () => {
      const call = await rig.call(byEmail, { callerId: '+15550000001' });
      assert.equal(landed(call), 'ext-local,101,1 (redirect)', call.dialogue);
      assert.equal(call.variables.CRM_ROUTING_OUTCOME, 'MATCH');
      assert.equal(call.variables.CRM_ROUTING_ROW, '1');
      const decision = await rig.decision(byEmail, call.uniqueid);
      assert.deepEqual({ outcome: decision.outcome, destination: decision.destination, owner: decision.owner, note: decision.ownerNote },
        { outcome: 'MATCH', destination: { type: 'extension', target: '101' }, owner: 'ana@example.com', note: null });
    });

    it('sends a caller to the extension the CRM value names', async () => {
      const call = await rig.call(byExtension, { callerId: '+15550000003' });
      assert.equal(landed(call), 'ext-local,102,1 (redirect)', call.dialogue);
    });

    it('sends a caller whose owner has no extension to the default destination with OWNER_UNKNOWN, and says why on Recent calls', async () => {
      const call = await rig.call(byEmail, { callerId: '+15550000002' });
      assert.equal(landed(call), 'ext-queues,105,1 (redirect)', call.dialogue);
      assert.equal(call.variables.CRM_ROUTING_OUTCOME, 'OWNER_UNKNOWN');
      assert.equal(call.variables.CRM_ROUTING_ROW, '');
      const decision = await rig.decision(byEmail, call.uniqueid);
      assert.equal(decision.outcome, 'OWNER_UNKNOWN');
      assert.equal(decision.owner, 'zoe@example.com');
      assert.match(decision.ownerNote ?? '', /No extension belongs to this e-mail address/);
      const page = await rig.admin.get(`/crm/routing/${byEmail}/calls`);
      assert.match(page.text, /<td data-label="Outcome">OWNER_UNKNOWN<\/td>/);
      assert.match(page.text, /<td data-label="Owner">zoe@example.com \(no extension: No extension belongs to this e-mail address\.\)<\/td>/);
    });

    it('sends an extension number the PBX does not have to the default destination with OWNER_UNKNOWN', async () => {
      const call = await rig.call(byExtension, { callerId: '+15550000004' });
      assert.equal(landed(call), 'ext-queues,105,1 (redirect)', call.dialogue);
      assert.equal(call.variables.CRM_ROUTING_OUTCOME, 'OWNER_UNKNOWN');
    });

    it('Test rule shows the owner and where the call goes', async () => {
      const form = await rig.admin.get(`/crm/routing/${byEmail}/edit`);
      const version = Number(/name="version" value="(\d+)"/.exec(form.text)?.[1]);
      const fields = ruleFormFields(ownerRule(url, 'email', 'Owner by e-mail'), version);
      const known = await rig.admin.post(`/crm/routing/${byEmail}/edit`, { ...fields, action: 'test', testCallerId: '+15550000001', testDtmf: '', testDid: '' });
      assert.equal(known.status, 200, known.text.slice(0, 3000));
      assert.equal(textOf(known.text, 'test-outcome'), 'MATCH');
      assert.equal(textOf(known.text, 'test-owner'), 'ana@example.com - extension 101');
      assert.match(textOf(known.text, 'test-destination'), /^101 - Reception - dialplan ext-local,101,1$/);
      const unknown = await rig.admin.post(`/crm/routing/${byEmail}/edit`, { ...fields, action: 'test', testCallerId: '+15550000002', testDtmf: '', testDid: '' });
      assert.equal(textOf(unknown.text, 'test-outcome'), 'OWNER_UNKNOWN');
      assert.match(textOf(unknown.text, 'test-owner'), /^zoe@example.com - no extension: No extension belongs to this e-mail address\.$/);
      assert.match(textOf(unknown.text, 'test-destination'), /\(default destination\)/);
    });

    it("keeps the row's choice through the edit form", async () => {
      const form = await rig.admin.get(`/crm/routing/${byExtension}/edit`);
      assert.match(form.text, /<option value="owner" selected>Owner&#39;s extension<\/option>/);
      assert.match(form.text, /<option value="extension" data-type="owner" selected>the value is the owner&#39;s extension number<\/option>/);
      assert.match(form.text, /<dt>HubSpot: <code>hubspot_owner_id<\/code><\/dt><dd>Holds the owner&#39;s CRM user id\.<\/dd>/, 'the form says which field names the owner');
    });
  });

  describe('on a host without a directory', () => {
    let rig: CallRig;
    let byEmail: number;

    before(async function () {
      this.timeout(30_000);
      rig = await CallRig.start({ directory: false });
      const url = rig.route('/owner', (req) => ({ body: { value: OWNERS[req.query.get('caller_id') ?? ''] ?? '' } }));
      byEmail = await rig.createRule(ownerRule(url, 'email', 'Owner, no directory'));
    });
    after(async () => rig?.close());

    it('sends even a known owner\'s caller to the default destination with OWNER_UNKNOWN', async () => {
      const call = await rig.call(byEmail, { callerId: '+15550000001' });
      assert.equal(landed(call), 'ext-queues,105,1 (redirect)', call.dialogue);
      assert.equal(call.variables.CRM_ROUTING_OUTCOME, 'OWNER_UNKNOWN');
      const decision = await rig.decision(byEmail, call.uniqueid);
      assert.equal(decision.owner, 'ana@example.com');
      assert.match(decision.ownerNote ?? '', /no directory/);
    });
  });
});
