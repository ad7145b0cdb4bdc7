/**
 * The rule form as an administrator works in it, in real Chromium: nothing typed is lost on the
 * server's round trips (the CRM Password and secret header values included, kept sealed and never
 * written into the page), the warnings a rule was saved with are shown again when it is opened,
 * Test rule runs on the form as it stands and says whether that is the saved rule, leaving a
 * changed form asks first, and required fields are marked with the notes the product describes.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { RuleFormPage } from '../../scripts/lib/rule-form-page';
import { PluginStore } from '../../src/store/plugin-store';
import { nextDialog, signInThroughLoginPage, useBrowser } from '../support/browser';
import { FakeHttpsServer, type RecordedRequest } from '../support/fake-https';
import { testCa } from '../support/test-ca';
import { startTestHost, TEST_SECRET_KEY, type TestHost } from '../support/test-host';

const PASSWORD = 'zoho-refresh-Tok3n!';
const HEADER_SECRET = 'api-key-5ecret';

describe('The rule form keeps what is typed (Chromium)', function () {
  this.timeout(90_000);
  const browser = useBrowser();
  let t: TestHost;
  let crm: FakeHttpsServer;
  let page: Page;
  let form: RuleFormPage;

  before(async function () {
    // A Custom CRM that answers the value of the caller's tier; it records the secret header it got.
    crm = await FakeHttpsServer.start((req: RecordedRequest) => ({ body: { value: req.query.get('caller_id') === '+15550000001' ? 'GOLD' : 'silver' } }));
    t = await startTestHost({ crmCa: testCa().caPem });
    // Zoho enabled without a refresh token: a rule using it must bring its own CRM Password.
    const admin = await t.signIn();
    await admin.get('/crm/integration');
    const zoho = await admin.post('/crm/integration/zoho', { enabled: 'yes', region: 'US', dataCentre: 'com', clientId: '1000.CLIENT', clientSecret: 'zoho-client-secret', action: 'save' });
    assert.equal(zoho.status, 200);
    assert.match(zoho.text, /Zoho CRM was saved and is enabled/);
    page = await browser.newPage();
    form = new RuleFormPage(page);
    await signInThroughLoginPage(page, t.host.url, '/crm/routing/new');
  });
  after(async () => {
    await t?.close();
    await crm?.close();
  });
  afterEach(() => browser.assertNoPageErrors());

  it('keeps the typed CRM Password through Add row, Remove row, up/down and a failed Save, never writing it into the page', async () => {
    await form.field('Rule Name').fill('Zoho tiers');
    await form.field('CRM Field Name').fill('Account_Tier');
    await form.field('CRM').selectOption({ label: 'Zoho CRM' });
    await form.field('CRM Module').fill('Accounts');
    await form.field('CRM Password').fill(PASSWORD);
    await form.fillRow(1, { operator: '=', value: 'gold', type: 'Queue', target: '105 - VIP queue' });

    await form.addRow();
    await form.fillRow(2, { operator: '=', value: 'silver', type: 'Queue', target: '103 - Sales queue' });
    await form.moveRowDown(1);
    await form.moveRowUp(2);
    await form.addRow();
    await form.removeRow(3);
    // No default destination yet: Save fails, and says what is kept.
    await form.save();
    assert.match((await page.locator('.crm-error-summary').textContent()) ?? '', /The rule was not saved\. Correct the field marked below; everything you typed is kept\./);
    assert.equal(await page.locator('#defaultDestination-error').textContent(), 'Choose where calls go when no row matches or the CRM fails.');
    assert.equal(await page.locator('#crmPassword-error').count(), 0, 'the password is not asked for again');
    assert.equal(await form.field('CRM Password').inputValue(), '', 'the password box is empty: the page holds no password');
    assert.equal(await form.field('CRM Password').getAttribute('placeholder'), 'typed earlier: kept for Save');
    assert.match((await page.locator('#crmPassword-help').textContent()) ?? '', /^The password you typed is kept for this form/);
    assert.ok(!(await page.content()).includes(PASSWORD), 'the password is nowhere in the page, hidden fields included');

    await form.field('Default Destination').selectOption({ label: '101 - Reception' });
    await form.save();
    assert.equal(await page.getByRole('status').textContent(), "Rule 'Zoho tiers' was created.");
    const stored = await storedRule(t, 'Zoho tiers');
    assert.deepEqual(stored.source, { kind: 'integration', crm: 'zoho', module: 'Accounts', username: '', password: PASSWORD });
    assert.deepEqual(stored.rows.map((r) => r.value), ['gold', 'silver'], 'the rows as arranged');
  });

  it('keeps a secret header value through Add header and Remove header', async () => {
    await page.goto(`${t.host.url}/crm/routing/new`);
    await fillCustomRule(form, 'Custom with key', crm.url);
    await form.submitWith(page.getByRole('button', { name: 'Add header' }));
    await page.locator('input[name="header_name"]').first().fill('X-Api-Key');
    await page.locator('input[name="header_value"]').first().fill(HEADER_SECRET);
    await page.locator('select[name="header_secret"]').first().selectOption({ label: 'Yes' });
    await form.submitWith(page.getByRole('button', { name: 'Add header' }));
    await page.locator('input[name="header_name"]').nth(1).fill('X-Trace');
    await page.locator('input[name="header_value"]').nth(1).fill('visible-value');
    await form.submitWith(page.locator('button[value="remove_header:1"]'));
    assert.equal(await page.locator('input[name="header_value"]').first().inputValue(), '');
    assert.equal(await page.locator('input[name="header_value"]').first().getAttribute('placeholder'), 'typed earlier: kept for Save');
    assert.ok(!(await page.content()).includes(HEADER_SECRET), 'the secret header value is not in the page');
    await form.save();
    assert.equal(await page.getByRole('status').textContent(), "Rule 'Custom with key' was created.");
    const stored = await storedRule(t, 'Custom with key');
    assert.deepEqual(stored.source.kind === 'custom' && stored.source.headers, [{ name: 'X-Api-Key', value: HEADER_SECRET, secret: true }]);
  });

  it('shows the warnings a rule was saved with, in the list and on its edit page', async () => {
    await page.goto(`${t.host.url}/crm/routing/new`);
    await fillCustomRule(form, 'Never matches', crm.url);
    await form.fillRow(1, { operator: '<', value: 'GOLD', type: 'Queue', target: '105 - VIP queue' });
    await form.save();
    assert.equal(await page.getByRole('status').textContent(), "Rule 'Never matches' was created with 1 warning: open it to review.");
    const badge = page.getByRole('row', { name: /Never matches/ }).locator('.crm-badge-warn');
    assert.equal(await badge.textContent(), '1 warning');
    await badge.click();
    await page.waitForURL(/\/edit#saved-warnings$/);
    assert.equal(await page.locator('#saved-warnings li').textContent(), 'Row 1: "<" compares numbers; with "GOLD" this row never matches. Use "=" or "contains" for text.');
    assert.equal(await page.locator('[id="rows.0.value-warning"]').textContent(), '"<" compares numbers; with "GOLD" this row never matches. Use "=" or "contains" for text.');
  });

  it('tests the form as it stands: the saved rule, then an unsaved change, then a new rule, all with catalog labels', async () => {
    await page.goto(`${t.host.url}/crm/routing`);
    await page.getByRole('link', { name: 'Custom with key' }).click();
    await page.waitForURL(/\/edit$/);
    await form.field('Caller number').fill('+15550000001');
    await form.submitWith(page.getByRole('button', { name: 'Test rule' }));
    assert.equal(await page.locator('#test-what').textContent(), 'Tested the saved rule.');
    assert.equal(await page.locator('#test-answer').textContent(), 'Value: GOLD');
    assert.equal(await page.locator('#test-row').textContent(), 'Row 1: = gold');
    assert.equal(await page.locator('#test-destination').textContent(), '105 - VIP queue - dialplan ext-queues,105,1');
    assert.equal(crm.requests.at(-1)?.headers['x-api-key'], HEADER_SECRET, 'the stored secret header was sent');

    // An unsaved change is what is tested, and it stays in the form.
    await page.getByLabel('Value of row 1', { exact: true }).fill('platinum');
    await form.submitWith(page.getByRole('button', { name: 'Test rule' }));
    assert.equal(await page.locator('#test-what').textContent(), 'Tested the form as it stands: these changes are not saved yet.');
    assert.equal(await page.locator('#test-outcome').textContent(), 'NO_MATCH');
    assert.equal(await page.locator('#test-destination').textContent(), '100 - Test (default destination) - dialplan ext-local,100,1');
    assert.equal(await page.getByLabel('Value of row 1', { exact: true }).inputValue(), 'platinum');
    assert.equal(await form.field('Caller number').inputValue(), '+15550000001', 'the test input is kept too');
    assert.equal((await storedRule(t, 'Custom with key')).rows[0]?.value, 'gold', 'testing saved nothing');

    // A rule not saved yet can be tested too.
    await page.goto(`${t.host.url}/crm/routing/new`);
    await fillCustomRule(form, 'Not saved yet', crm.url);
    await form.field('Caller number').fill('+15550000002');
    await form.submitWith(page.getByRole('button', { name: 'Test rule' }));
    assert.equal(await page.locator('#test-what').textContent(), 'Tested this form: the rule is not saved yet.');
    assert.equal(await page.locator('#test-answer').textContent(), 'Value: silver');
  });

  it('asks before a changed form is left (Recent calls, the menu), and not when nothing changed', async () => {
    await page.goto(`${t.host.url}/crm/routing`);
    await page.getByRole('link', { name: 'Custom with key' }).click();
    await page.waitForURL(/\/edit$/);
    // Unchanged: Recent calls opens at once.
    await page.getByRole('link', { name: 'Recent calls' }).click();
    await page.waitForURL(/\/calls$/);
    assert.equal(await page.locator('#calls-summary').textContent(), 'No call has used this rule yet. Calls are kept for a limited time; times are in UTC.');
    await page.goBack();
    await page.waitForURL(/\/edit$/);

    await form.field('CRM Field Name').fill('Changed_Field');
    const asked = nextDialog(page, 'dismiss');
    await page.getByRole('link', { name: 'Recent calls' }).click();
    assert.equal((await asked).type, 'beforeunload');
    assert.match(page.url(), /\/edit$/, 'staying keeps the changes');
    assert.equal(await form.field('CRM Field Name').inputValue(), 'Changed_Field');

    const left = nextDialog(page, 'accept');
    await page.getByRole('navigation', { name: 'Main menu' }).getByRole('link', { name: 'DIDs' }).click();
    assert.equal((await left).type, 'beforeunload');
    await page.waitForURL(/\/dids$/);
  });

  it('marks the required fields and says which are optional, with the API name note', async () => {
    await page.goto(`${t.host.url}/crm/routing/new`);
    const marked = await page.locator('label.crm-req, legend.crm-req').allTextContents();
    assert.deepEqual(marked, [
      'Rule Name', 'CRM Field Name', 'Location', 'CRM To Use', 'CRM', 'CRM Module', 'CRM Username', 'CRM Password', 'CRM URL',
      'HTTP Method POST', 'Deadline (seconds)', 'Default Destination', 'Default Destination Voicemail', 'Rows',
    ]);
    const star = await page.locator('label[for="name"]').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown, pseudo: string): { content: string } }).getComputedStyle(el, '::after').content);
    assert.match(star, /"\s?\*"/, 'a visible * after the label');
    assert.match((await page.locator('#required-note').textContent()) ?? '', /^All fields except Greeting Instructions are required \(marked \*\)\./);
    assert.equal(await page.locator('#greeting legend').textContent(), 'Greeting Instructions (IVR only, optional)');
    await page.getByText("Where to find a field's API name").click();
    const note = (await page.locator('#api-name-help').textContent()) ?? '';
    for (const part of ['Settings > API', 'https://crm.zoho.com/crm/orgXXXXXXXX/settings/api/modules', 'crm.zoho.eu', 'crm.zoho.in', 'Account_Name']) assert.ok(note.includes(part), part);
  });
});

async function fillCustomRule(form: RuleFormPage, name: string, url: string): Promise<void> {
  await form.field('Rule Name').fill(name);
  await form.field('CRM Field Name').fill('Account_Tier');
  await form.field('CRM To Use').selectOption({ label: 'Custom CRM' });
  await form.field('CRM URL').fill(url);
  await form.field('Default Destination').selectOption({ label: '100 - Test' });
  await form.fillRow(1, { operator: '=', value: 'gold', type: 'Queue', target: '105 - VIP queue' });
}

/** The rule as stored, secrets opened (the test host's key). */
async function storedRule(t: TestHost, name: string) {
  const store = await PluginStore.create(t.database.db, { secretKey: TEST_SECRET_KEY });
  const listed = (await store.rules.list('default', { search: name, offset: 0, limit: 5 })).rules.find((r) => r.name === name);
  assert.ok(listed, `rule ${name} is stored`);
  const rule = await store.rules.get('default', listed.id);
  assert.ok(rule);
  return rule;
}
