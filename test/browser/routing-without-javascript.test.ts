/**
 * CRM > Routing in real Chromium with JavaScript switched off: the form is whole (every section
 * shown), rows are added, moved and removed by the server's buttons, and Delete asks on a page of
 * its own, where Cancel keeps the rule and OK removes it.
 */
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { RuleFormPage } from '../../scripts/lib/rule-form-page';
import { signInThroughLoginPage, useBrowser } from '../support/browser';
import { startTestHost, type TestHost } from '../support/test-host';

describe('CRM > Routing in Chromium without JavaScript', function () {
  this.timeout(60_000);
  const browser = useBrowser({ javaScriptEnabled: false });
  let t: TestHost;
  let page: Page;

  before(async function () {
    t = await startTestHost();
    page = await browser.newPage();
    await signInThroughLoginPage(page, t.host.url, '/crm/routing/new');
  });
  after(async () => t?.close());
  afterEach(() => browser.assertNoPageErrors());

  it('shows every section, and builds the rows with Add row, up, down and Remove', async () => {
    const form = new RuleFormPage(page);
    for (const label of ['Greeting recording', 'CRM Module', 'CRM URL']) assert.equal(await form.field(label).isVisible(), true, label);
    await form.field('Rule Name').fill('No script');
    await form.field('CRM Field Name').fill('Account_Tier');
    await form.field('CRM To Use').selectOption({ label: 'Custom CRM' });
    await form.field('CRM URL').fill('https://crm.example.com/lookup');
    await form.field('Default Destination').selectOption({ label: 'Hang up' });
    await form.fillRow(1, { operator: 'contains', value: 'gold', type: 'Queue', target: '105 - VIP queue' });
    await form.addRow();
    await form.fillRow(2, { operator: 'is empty', value: '', type: 'Hang up', target: '' });
    await form.addRow();
    await form.fillRow(3, { operator: '<', value: '10', type: 'Extension', target: '102 - Support desk' });
    await form.removeRow(2);
    await form.moveRowDown(1);
    assert.deepEqual(await form.rowsShown(), [
      { operator: '<', value: '10', type: 'Extension', target: '102 - Support desk' },
      { operator: 'contains', value: 'gold', type: 'Queue', target: '105 - VIP queue' },
    ]);
    await form.save();
    assert.equal(await page.getByRole('status').textContent(), "Rule 'No script' was created.");
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

async function submit(page: Page, button: Locator): Promise<void> {
  const loaded = page.waitForEvent('load');
  await button.click();
  await loaded;
}
