/**
 * CRM > Routing in real Chromium with JavaScript switched off: the form is whole (every section
 * shown, each saying which choice it is for), rows are added, moved and removed by the server's
 * buttons with a typed secret kept, Test rule works on the form, and Delete asks on a page of its
 * own (naming what uses the rule), where Cancel keeps the rule and OK removes it.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { RuleFormPage } from '../../scripts/lib/rule-form-page';
import { signInThroughLoginPage, submit, useBrowser } from '../support/browser';
import { FakeHttpsServer } from '../support/fake-https';
import { testCa } from '../support/test-ca';
import { startTestHost, type TestHost } from '../support/test-host';

describe('CRM > Routing in Chromium without JavaScript', function () {
  this.timeout(60_000);
  const browser = useBrowser({ javaScriptEnabled: false });
  let t: TestHost;
  let crm: FakeHttpsServer;
  let page: Page;

  before(async function () {
    crm = await FakeHttpsServer.start(() => ({ body: { value: 'gold' } }));
    t = await startTestHost({ crmCa: testCa().caPem });
    page = await browser.newPage();
    await signInThroughLoginPage(page, t.host.url, '/crm/routing/new');
  });
  after(async () => {
    await t?.close();
    await crm?.close();
  });
  afterEach(() => browser.assertNoPageErrors());

  it('shows every section, and builds the rows with Add row, up, down and Remove', async () => {
    const form = new RuleFormPage(page);
    for (const label of ['Greeting recording', 'CRM Module', 'CRM URL']) assert.equal(await form.field(label).isVisible(), true, label);
    // Every section is shown at once, so each says which choice it belongs to.
    assert.equal(await page.locator('#greeting legend').textContent(), 'Greeting Instructions (IVR only, optional)');
    assert.equal(await page.locator('#integration-fields .crm-section-hint').textContent(), '(CRM from CRM > Integration only)');
    assert.equal(await page.locator('#custom-fields .crm-section-hint').textContent(), '(Custom CRM only)');
    for (const hint of ['#greeting legend', '#integration-fields .crm-section-hint', '#custom-fields .crm-section-hint']) assert.equal(await page.locator(hint).isVisible(), true, hint);
    await form.field('Rule Name').fill('No script');
    await form.field('CRM Field Name').fill('Account_Tier');
    await form.field('CRM To Use').selectOption({ label: 'Custom CRM' });
    await form.field('CRM URL').fill(crm.url);
    await form.field('Default Destination').selectOption({ label: 'Hang up' });
    await form.fillRow(1, { operator: 'contains', value: 'gold', type: 'Queue', target: '105 - VIP queue' });
    await form.addRow();
    await form.fillRow(2, { operator: 'is empty', value: '', type: 'Hang up', target: '' });
    await form.addRow();
    await form.fillRow(3, { operator: '<', value: '10', type: 'Extension', target: '102 - Support desk' });
    await form.submitWith(page.getByRole('button', { name: 'Add header' }));
    await page.locator('input[name="header_name"]').fill('X-Api-Key');
    await page.locator('input[name="header_value"]').fill('no-script-secret');
    await page.locator('select[name="header_secret"]').selectOption({ label: 'Yes' });
    await form.removeRow(2);
    assert.ok(!(await page.content()).includes('no-script-secret'), 'the secret header value is kept sealed, not in the page');
    await form.moveRowDown(1);
    assert.deepEqual(await form.rowsShown(), [
      { operator: '<', value: '10', type: 'Extension', target: '102 - Support desk' },
      { operator: 'contains', value: 'gold', type: 'Queue', target: '105 - VIP queue' },
    ]);
    await form.save();
    assert.equal(await page.getByRole('status').textContent(), "Rule 'No script' was created.");
  });

  it('tests the form as it stands without a script', async () => {
    await page.getByRole('link', { name: 'No script' }).click();
    await page.waitForURL(/\/edit$/);
    const form = new RuleFormPage(page);
    await page.getByLabel('Value of row 1', { exact: true }).fill('abc');
    await form.field('Caller number').fill('not a number');
    await form.submitWith(page.getByRole('button', { name: 'Test rule' }));
    assert.match((await page.locator('.crm-error-summary').textContent()) ?? '', /The rule was not tested\./);
    assert.equal(await page.locator('#testCallerId-error').textContent(), 'Enter the caller number as digits, e.g. +15551234567.');
    assert.equal(await page.getByLabel('Value of row 1', { exact: true }).inputValue(), 'abc', 'the unsaved edit is kept');
    await form.field('Caller number').fill('+15550000001');
    await form.submitWith(page.getByRole('button', { name: 'Test rule' }));
    // Row 1 is now "< abc", which never matches: row 2 ("contains gold") decides.
    assert.equal(await page.locator('#test-what').textContent(), 'Tested the form as it stands: these changes are not saved yet.');
    assert.equal(await page.locator('#test-row').textContent(), 'Row 2: contains gold');
    assert.equal(await page.locator('#test-destination').textContent(), '105 - VIP queue - dialplan ext-queues,105,1');
    assert.equal(crm.requests.at(-1)?.headers['x-api-key'], 'no-script-secret', 'the secret typed before the round trips was saved');
    await page.goto(`${t.host.url}/crm/routing`);
  });

  it('opens "When the lookup fails" without a script, and keeps a branch through Add row and Save', async () => {
    await page.getByRole('link', { name: 'No script' }).click();
    await page.waitForURL(/\/edit$/);
    const form = new RuleFormPage(page);
    const notFound = form.field('Caller not found in the CRM');
    assert.equal(await notFound.isVisible(), false, 'collapsed at first');
    await page.locator('#lookup-fails summary').click();
    assert.equal(await notFound.isVisible(), true);
    await notFound.selectOption({ label: '103 - Sales queue' });
    assert.equal(await form.field('CRM error or deadline passed (IVR only)').count(), 0, 'only the digits branch is labelled IVR only');
    await form.addRow();
    assert.equal(await form.field('Caller not found in the CRM').inputValue(), 'queue:103', 'kept through Add row, the section open');
    await form.removeRow(3);
    await form.save();
    await page.getByRole('link', { name: 'No script' }).click();
    await page.waitForURL(/\/edit$/);
    assert.equal(await page.locator('#lookup-fails').getAttribute('open'), '', 'a rule with a branch shows the section open');
    assert.equal(await form.field('Caller not found in the CRM').inputValue(), 'queue:103');
    assert.equal(await form.field('No or invalid digits (IVR only)').inputValue(), '');
    await page.goto(`${t.host.url}/crm/routing`);
  });

  it("asks on a page of its own: Cancel keeps the rule, OK removes it", async () => {
    const deleteButton = () => page.getByRole('row', { name: /No script/ }).getByRole('button', { name: 'Delete' });
    await submit(page, deleteButton());
    assert.equal(await page.locator('.crm-page p').first().textContent(), "Are you sure you want to remove 'No script'?");
    await page.getByRole('link', { name: 'Cancel' }).click();
    await page.waitForURL(/\/crm\/routing$/);
    assert.equal(await page.getByRole('row', { name: /No script/ }).count(), 1, 'Cancel keeps the rule');

    await submit(page, deleteButton());
    await submit(page, page.getByRole('button', { name: 'OK' }));
    assert.equal(await page.getByRole('status').textContent(), "Rule 'No script' was removed.");
    assert.equal(await page.getByRole('row', { name: /No script/ }).count(), 0);
  });
});
