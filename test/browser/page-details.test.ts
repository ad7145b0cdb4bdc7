/**
 * The smaller things an administrator runs into, in real Chromium: paging past the end, notices
 * that cannot be put in a link, messages in plain words ("Zoho Accounts'", "Enter the Client
 * Secret."), module suggestions of the chosen CRM only, countries by name, the Proprietary CRM's
 * help naming a button that exists, Delete on the edit page, a delete that keeps the search, and
 * a favicon on every page.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { RuleFormPage } from '../../scripts/lib/rule-form-page';
import { nextDialog, signInThroughLoginPage, submit, useBrowser } from '../support/browser';
import { FakeHttpsServer } from '../support/fake-https';
import { testCa } from '../support/test-ca';
import { startTestHost, type SignedInAgent, type TestHost } from '../support/test-host';

describe('Page details (Chromium)', function () {
  this.timeout(90_000);
  const browser = useBrowser();
  let t: TestHost;
  let admin: SignedInAgent;
  let untrusted: FakeHttpsServer;
  let page: Page;

  before(async function () {
    untrusted = await FakeHttpsServer.start(() => ({ status: 500 }), testCa().selfSigned(['localhost', '127.0.0.1']));
    // Zoho's accounts server for the .com data centre is played by a server nobody trusts.
    t = await startTestHost({ resolveCrmOrigin: (origin) => (origin === 'https://accounts.zoho.com' ? untrusted.url : origin) });
    admin = await t.signIn();
    await admin.get('/crm/integration');
    await admin.post('/crm/integration/hubspot', { enabled: 'yes', region: 'US', authMode: 'token', accessToken: 'pat-na1-token', baseUrl: 'https://api.hubapi.com', action: 'save' });
    await admin.post('/crm/integration/pipedrive', { enabled: 'yes', region: 'US', companyDomain: 'acme', apiToken: 'pd-token', action: 'save' });
    for (let i = 1; i <= 53; i += 1) {
      await admin.get('/crm/routing/new');
      const saved = await admin.post('/crm/routing/new', {
        name: `Rule ${String(i).padStart(2, '0')}`, fieldName: 'Account_Tier', location: 'did', source: 'custom', customUrl: 'https://crm.example.com/lookup',
        customPost: 'no', deadlineSeconds: '3', defaultDestination: 'extension:100', defaultVoicemail: 'unset',
        row_operator: 'eq', row_value: 'gold', row_dest_type: 'queue', row_dest_target: '105', action: 'save',
      });
      assert.equal(saved.status, 303);
    }
    page = await browser.newPage();
    await signInThroughLoginPage(page, t.host.url, '/crm/routing');
  });
  after(async () => {
    await t?.close();
    await untrusted?.close();
  });
  afterEach(() => browser.assertNoPageErrors());

  it('says a page past the end is past the end, and links to the last page', async () => {
    await page.goto(`${t.host.url}/crm/routing?page=99`);
    assert.equal(await page.locator('#past-the-end').textContent(), 'There is no page 99: there are 53 rules on 2 pages. Go to the last page.');
    await page.getByRole('link', { name: 'Go to the last page' }).click();
    await page.waitForURL(/page=2$/);
    assert.equal(await page.locator('.crm-rule-list tbody tr').count(), 3);
  });

  it('says what the search takes', async () => {
    await page.goto(`${t.host.url}/crm/routing`);
    assert.equal(await page.locator('#q-help').textContent(), 'Letters and digits [(a-z)(0-9)]: part of a rule name or of a CRM field name, in any case.');
    assert.equal(await page.getByLabel('Search', { exact: true }).getAttribute('aria-describedby'), 'q-help');
  });

  it('shows no notice a link carries', async () => {
    await page.goto(`${t.host.url}/crm/routing?notice=${encodeURIComponent('Call +1 900 555 0100 to renew your license')}`);
    assert.equal(await page.getByRole('status').count(), 0);
    assert.ok(!(await page.content()).includes('900 555'));
  });

  it('deletes from a search result and comes back to the same search', async () => {
    await page.goto(`${t.host.url}/crm/routing?q=Rule%205`);
    assert.deepEqual(await page.locator('td[data-label="Name"] > a:first-child').allTextContents(), ['Rule 50', 'Rule 51', 'Rule 52', 'Rule 53']);
    const asked = nextDialog(page, 'accept');
    await submit(page, page.getByRole('row', { name: /Rule 52/ }).getByRole('button', { name: 'Delete' }));
    assert.equal((await asked).message, "Are you sure you want to remove 'Rule 52'?");
    assert.equal(new URL(page.url()).search, '?q=Rule+5');
    assert.equal(await page.getByRole('status').textContent(), "Rule 'Rule 52' was removed.");
    assert.deepEqual(await page.locator('td[data-label="Name"] > a:first-child').allTextContents(), ['Rule 50', 'Rule 51', 'Rule 53']);
  });

  it('deletes from the edit page, with the same question', async () => {
    await page.goto(`${t.host.url}/crm/routing?q=Rule%2053`);
    await page.getByRole('link', { name: 'Rule 53', exact: true }).click();
    await page.waitForURL(/\/edit$/);
    assert.match((await page.locator('#rule-id').textContent()) ?? '', /^Rule ID \d+ \(the rule= of its dialplan line/);
    const asked = nextDialog(page, 'accept');
    await submit(page, page.getByRole('button', { name: 'Delete rule' }));
    assert.equal((await asked).message, "Are you sure you want to remove 'Rule 53'?");
    assert.equal(await page.getByRole('status').textContent(), "Rule 'Rule 53' was removed.");
  });

  it("suggests only the chosen CRM's modules", async () => {
    await page.goto(`${t.host.url}/crm/routing/new`);
    const form = new RuleFormPage(page);
    const suggested = async () => {
      const list = await form.field('CRM Module').getAttribute('list');
      return page.locator(`datalist[id="${list}"] option`).evaluateAll((options) => options.map((o) => (o as unknown as { value: string }).value));
    };
    assert.deepEqual(await suggested(), ['Contacts', 'Accounts', 'Leads'], 'no CRM chosen yet');
    await form.field('CRM').selectOption({ label: 'HubSpot' });
    assert.deepEqual(await suggested(), ['contacts', 'companies']);
    await form.field('CRM').selectOption({ label: 'Pipedrive' });
    assert.deepEqual(await suggested(), ['Persons', 'Organizations']);
    // The server renders the chosen CRM's list too (Add row round trip).
    await form.addRow();
    assert.deepEqual(await suggested(), ['Persons', 'Organizations']);
  });

  it("says \"Zoho Accounts'\", and asks for a missing Client Secret in plain words", async () => {
    await page.goto(`${t.host.url}/crm/integration`);
    const zoho = page.locator('#crm-zoho');
    await zoho.locator('summary').click();
    const field = (label: string) => zoho.getByLabel(label, { exact: true });
    await field('Enabled').selectOption({ label: 'Yes: rules can use Zoho CRM' });
    await field('Client ID').fill('1000.CLIENTID');
    await submit(page, zoho.getByRole('button', { name: 'Save', exact: true }));
    assert.equal(await page.locator('#zoho-clientSecret-error').textContent(), 'Enter the Client Secret.');

    await field('Client Secret').fill('zoho-secret');
    await field('Refresh token (optional)').fill('1000.refresh');
    await submit(page, zoho.getByRole('button', { name: 'Test connection' }));
    assert.equal(await page.locator('#zoho-test-result').textContent(), "Test failed (TLS). Zoho Accounts' certificate was not accepted (DEPTH_ZERO_SELF_SIGNED_CERT): it must be valid for the host name and signed by a trusted CA.");
    assert.equal(untrusted.requests.length, 0);
  });

  it('lists countries by name, and names the rule form\'s Fetch fields in the Proprietary CRM help', async () => {
    await page.goto(`${t.host.url}/crm/integration`);
    const region = page.locator('#zoho-region');
    assert.equal(await region.locator('option[value="US"]').textContent(), 'United States (US)');
    assert.equal(await region.locator('option[value="DE"]').textContent(), 'Germany (DE)');
    const labels = await region.locator('option').allTextContents();
    assert.deepEqual(labels, [...labels].sort((a, b) => a.localeCompare(b, 'en')), 'in name order');
    const help = (await page.locator('#crm-proprietary').textContent()) ?? '';
    assert.match(help, /a rule's "Fetch fields" button \(CRM > Routing\) looks it up/);
    assert.doesNotMatch(help, /"List fields"/);
  });

  it('serves a favicon, so no page asks for a missing one', async () => {
    const icon = await page.request.get(`${t.host.url}/favicon.ico`);
    assert.equal(icon.status(), 200);
    assert.equal(icon.headers()['content-type'], 'image/svg+xml');
    assert.equal(await page.locator('link[rel="icon"]').getAttribute('href'), '/favicon.svg');
  });
});
