/**
 * CRM > Integration in real Chromium ("CRM > Integration"), with Pipedrive played by its fake
 * over HTTPS (test/support/fakes/pipedrive-fake.ts; the host trusts the test CA): Test connection
 * fails precisely with a wrong API token and with an untrusted certificate, passes with the right
 * settings, and is saved enabled; a new rule then uses Pipedrive, its CRM Field Name picked with
 * Fetch fields, and the saved rule routes a known caller.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { RuleFormPage } from '../../scripts/lib/rule-form-page';
import { signInThroughLoginPage, submit, useBrowser } from '../support/browser';
import { FakeHttpsServer } from '../support/fake-https';
import { PipedriveFake, TIER_KEY } from '../support/fakes/pipedrive-fake';
import { testCa } from '../support/test-ca';
import { startTestHost, type TestHost } from '../support/test-host';

describe('CRM > Integration in Chromium (Pipedrive)', function () {
  this.timeout(60_000);
  const browser = useBrowser();
  let t: TestHost;
  let pipedrive: PipedriveFake;
  let untrusted: FakeHttpsServer;
  let page: Page;

  before(async function () {
    pipedrive = await PipedriveFake.start();
    pipedrive.persons.push({ id: 11, name: 'Ada', update_time: '2024-05-01T10:00:00Z', phones: [{ value: '+1 (202) 555-0101', primary: true, label: 'work' }], custom_fields: { [TIER_KEY]: 31 } });
    untrusted = await FakeHttpsServer.start(() => ({ status: 500 }), testCa().selfSigned(['localhost', '127.0.0.1']));
    t = await startTestHost({ crmCa: testCa().caPem });
    page = await browser.newPage();
    await signInThroughLoginPage(page, t.host.url, '/crm/integration');
  });
  after(async () => {
    await t?.close();
    await pipedrive?.close();
    await untrusted?.close();
  });
  afterEach(() => browser.assertNoPageErrors());

  const section = () => page.locator('#crm-pipedrive');
  const field = (label: string) => section().getByLabel(label, { exact: true });

  async function testConnection(settings: { companyDomain: string; apiToken: string }): Promise<string> {
    if (!(await field('Company domain').isVisible())) await section().locator('summary').click();
    await field('Enabled').selectOption({ label: 'Yes: rules can use Pipedrive' });
    await field('Default phone region').selectOption('US');
    await field('Company domain').fill(settings.companyDomain);
    await field('API token (optional)').fill(settings.apiToken);
    await submit(page, section().getByRole('button', { name: 'Test connection' }));
    return (await page.locator('#pipedrive-test-result').textContent()) ?? '';
  }

  it('reports a wrong API token precisely (AUTH, 401)', async () => {
    const result = await testConnection({ companyDomain: pipedrive.url, apiToken: 'pd-token-wrong' });
    assert.equal(result, 'Test failed (AUTH). Pipedrive rejected the API token (401): copy it again from Personal preferences > API. Pipedrive said: unauthorized access');
    assert.equal(await field('Company domain').inputValue(), pipedrive.url, 'what was typed is kept');
    assert.equal(await field('API token (optional)').inputValue(), '', 'a secret is never rendered back');
  });

  it('reports a certificate the host does not trust precisely (TLS)', async () => {
    const result = await testConnection({ companyDomain: untrusted.url, apiToken: 'pd-token-good' });
    assert.equal(result, "Test failed (TLS). Pipedrive's certificate was not accepted (DEPTH_ZERO_SELF_SIGNED_CERT): it must be valid for the host name and signed by a trusted CA.");
    assert.equal(untrusted.requests.length, 0, 'nothing was sent over the untrusted connection');
  });

  it('passes with the right settings, then saves the integration enabled without typing the token again', async () => {
    const result = await testConnection({ companyDomain: pipedrive.url, apiToken: 'pd-token-good' });
    assert.equal(result, `Connection works. Read the person fields of ${pipedrive.url} and searched persons: no record has the sample number, as expected.`);
    assert.equal(await page.locator('#pipedrive-apiToken-kept').textContent(), 'The value you typed is kept for Save (encrypted, not shown). Type another to replace it.');
    assert.equal(await field('API token (optional)').inputValue(), '', 'the token is not written into the page');
    assert.ok(!(await page.content()).includes('pd-token-good'), 'nowhere in the page, not even hidden');
    await submit(page, section().getByRole('button', { name: 'Save', exact: true }));
    assert.equal(await page.locator('#pipedrive-apiToken-kept').count(), 0, 'nothing kept after Save');
    assert.equal(await section().getByRole('status').first().textContent(), 'Pipedrive was saved and is enabled.');

    await page.reload();
    assert.equal(await section().locator('.crm-badge').textContent(), 'Enabled');
    assert.equal(await field('Company domain').inputValue(), pipedrive.url);
    assert.equal(await field('API token (optional)').getAttribute('placeholder'), 'stored; leave empty to keep it');
    assert.deepEqual(pipedrive.violations, []);
  });

  it('picks the CRM Field Name of a new rule with Fetch fields, and saves the rule', async () => {
    await page.goto(`${t.host.url}/crm/routing/new`);
    const form = new RuleFormPage(page);
    const fetchFields = page.getByRole('button', { name: 'Fetch fields' });
    await form.field('Rule Name').fill('Pipedrive tiers');
    assert.equal(await fetchFields.isVisible(), false, 'nothing to fetch before a CRM is chosen');
    await form.field('CRM').selectOption({ label: 'Pipedrive' });
    assert.equal(await fetchFields.isVisible(), true);
    const credentialsHelp = "CRM specific, in the same way as for gloCOM: Username: not used. Password: a Pipedrive API token (Personal preferences > API), used instead of the integration's.";
    assert.equal(await page.locator('#credentials-help').textContent(), credentialsHelp);

    await fetchFields.click();
    assert.equal(await page.locator('#fetch-fields-status').textContent(), 'Enter the CRM Module first: its fields are what is listed.');
    await form.field('CRM Module').fill('Persons');
    await fetchFields.click();
    const picker = page.getByLabel('Fields fetched from the CRM', { exact: true });
    await picker.waitFor({ state: 'visible' });
    assert.equal(await page.locator('#fetch-fields-status').textContent(), '7 fields of Persons: pick one in the list next to Fetch fields, or type its API name.');
    await picker.selectOption({ label: `Customer tier (enum, ${TIER_KEY})` });
    assert.equal(await form.field('CRM Field Name').inputValue(), TIER_KEY);

    await form.field('CRM To Use').selectOption({ label: 'Custom CRM' });
    assert.equal(await fetchFields.isVisible(), false, 'no field picker for Custom CRM');
    assert.equal(await picker.isVisible(), false);
    await form.field('CRM To Use').selectOption({ label: 'CRM from CRM > Integration' });
    assert.equal(await fetchFields.isVisible(), true);

    await form.field('Default Destination').selectOption({ label: '101 - Reception' });
    await form.fillRow(1, { operator: '=', value: 'Gold', type: 'Queue', target: '105 - VIP queue' });
    await form.addRow();
    assert.equal(await page.locator('#credentials-help').textContent(), credentialsHelp, 'the server renders the same help');
    assert.equal(await form.field('CRM Field Name').inputValue(), TIER_KEY);
    await form.removeRow(2);
    await form.save();
    assert.equal(await page.getByRole('status').textContent(), "Rule 'Pipedrive tiers' was created.");
    assert.equal(await page.getByRole('row', { name: /Pipedrive tiers/ }).locator('code').textContent(), TIER_KEY);
  });

  it('routes a caller with the saved rule (Test rule asks the fake Pipedrive)', async () => {
    await page.getByRole('link', { name: 'Pipedrive tiers' }).click();
    await page.waitForURL(/\/edit$/);
    await page.getByLabel('Caller number').fill('+12025550101');
    await submit(page, page.getByRole('button', { name: 'Test rule' }));
    assert.equal(await page.locator('#test-answer').textContent(), 'Value: Gold');
    assert.equal(await page.locator('#test-what').textContent(), 'Tested the saved rule.');
    assert.equal(await page.locator('#test-row').textContent(), 'Row 1: = Gold');
    assert.equal(await page.locator('#test-destination').textContent(), '105 - VIP queue - dialplan ext-queues,105,1');
    assert.deepEqual(pipedrive.violations, []);
  });
});
