import assert from 'node:assert/strict';
import { ruleFormFields } from '../e2e/support/rule-spec';
import { FakeHttpsServer } from '../support/fake-https';
import { testCa } from '../support/test-ca';
import { ADMIN, startTestHost, type SignedInAgent, type TestHost } from '../support/test-host';

/** The text of an element by id, tags stripped and entities of the escaped output decoded. */
function textOf(html: string, id: string): string {
  const match = new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</(?:p|dd)>`).exec(html);
  return (match?.[1] ?? '').replace(/<[^>]+>/g, '').replace(/&#39;/g, "'").replace(/&amp;/g, '&').replace(/\s+/g, ' ').trim();
}

describe('CRM egress policy on the pages: a host that leaves it at its default (loopback refused)', function () {
  this.timeout(20_000);
  let t: TestHost;
  let admin: SignedInAgent;
  let crm: FakeHttpsServer;

  before(async () => {
    crm = await FakeHttpsServer.start(() => ({ body: { value: 'gold' } }));
    t = await startTestHost({ crmCa: testCa().caPem, crmEgress: {} });
    admin = await t.signIn();
  });
  after(async () => {
    await t?.close();
    await crm?.close();
  });

  it('shows the policy on CRM > Integration', async () => {
    const page = await admin.get('/crm/integration');
    assert.equal(page.status, 200);
    assert.match(page.text, /Where CRM connections may go/);
    assert.match(page.text, /Private networks \(10\/8[^<]*: refused\. Loopback \(127\.0\.0\.0\/8, ::1\): refused\./);
    assert.match(page.text, /169\.254\.169\.254, metadata\.google\.internal\) are always refused/);
  });

  it('Test connection says the CRM is on a loopback address and why that is refused; the fake sees nothing', async () => {
    await admin.get('/crm/integration');
    const res = await admin.post('/crm/integration/vtiger', { enabled: 'yes', url: crm.url, username: 'admin', accessKey: 'k', region: 'US', action: 'test' });
    assert.equal(res.status, 200);
    assert.equal(textOf(res.text, 'vtiger-test-result'),
      `Test failed (EGRESS). Vtiger CRM sign-in is at 127.0.0.1 (localhost resolves there), a loopback address of the PBX itself: CRM traffic may go there only when the PBX administrator allows loopback addresses.`);
    assert.equal(crm.requests.length, 0);
  });

  it('Test rule shows the refusal for a Custom CRM URL at 169.254.169.254 and sends the call to the default destination', async () => {
    await admin.get('/crm/routing/new');
    const saved = await admin.post('/crm/routing/new', ruleFormFields({ name: 'Metadata probe', url: 'https://169.254.169.254/latest/meta-data/iam', rows: [{ operator: 'eq', value: 'gold', destination: 'queue:103' }] }));
    assert.equal(saved.status, 303, saved.text.slice(0, 500));
    const rule = (await t.host.plugin.routingDestinations(ADMIN.tenantId)).find((r) => r.name === 'Metadata probe')!;
    const form = await admin.get(`/crm/routing/${rule.ruleId}/edit`);
    const version = /name="version" value="(\d+)"/.exec(form.text)?.[1] ?? '';
    const fields = ruleFormFields({ name: 'Metadata probe', url: 'https://169.254.169.254/latest/meta-data/iam', rows: [{ operator: 'eq', value: 'gold', destination: 'queue:103' }] }, Number(version));
    const tested = await admin.post(`/crm/routing/${rule.ruleId}/edit`, { ...fields, action: 'test', testCallerId: '+15550001111', testDtmf: '', testDid: '' });
    assert.equal(tested.status, 200);
    assert.match(textOf(tested.text, 'test-answer'), /^EGRESS: The Custom CRM is at 169\.254\.169\.254, a cloud metadata endpoint: CRM traffic never goes there\.$/);
    assert.equal(textOf(tested.text, 'test-outcome'), 'CRM_ERROR');
  });
});
