/**
 * CRM > Routing in real Chromium, with JavaScript on ("Plugin foundation"): sign in through the
 * host's login page, create a rule with two rows, find it with the search box, edit a row's value
 * and the row order, and delete it through the confirm dialog (Cancel keeps it, OK removes it).
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { RuleFormPage, type RowShown } from '../../scripts/lib/rule-form-page';
import { nextDialog, signInThroughLoginPage, useBrowser } from '../support/browser';
import { startTestHost, type TestHost } from '../support/test-host';

const GOLD_ROW: RowShown = { operator: '=', value: 'gold', type: 'Queue', target: '103 - Sales queue' };
const BIG_SPENDER_ROW: RowShown = { operator: '>=', value: '1000', type: 'IVR', target: '200 - Main menu' };

describe('CRM > Routing in Chromium', function () {
  this.timeout(60_000);
  const browser = useBrowser();
  let t: TestHost;
  let page: Page;

  before(async function () {
    t = await startTestHost();
    // Another tenant-wide rule, so the search has something to leave out.
    const admin = await t.signIn();
    await admin.get('/crm/routing/new');
    const seeded = await admin.post('/crm/routing/new', {
      name: 'Silver callers', fieldName: 'Account_Level', location: 'did', source: 'custom', customUrl: 'https://crm.example.com/lookup',
      customPost: 'no', deadlineSeconds: '3', defaultDestination: 'extension:101', defaultVoicemail: 'unset',
      row_operator: 'eq', row_value: 'silver', row_dest_type: 'queue', row_dest_target: '104', action: 'save',
    });
    assert.equal(seeded.status, 303, seeded.text);
    page = await browser.newPage();
  });
  after(async () => t?.close());
  afterEach(() => browser.assertNoPageErrors());

  it('signs in through the host login page and opens CRM > Routing from the menu', async () => {
    await signInThroughLoginPage(page, t.host.url, '/');
    await page.getByRole('navigation', { name: 'Main menu' }).getByRole('link', { name: 'Routing' }).click();
    await page.waitForURL(/\/crm\/routing$/);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'CRM Routing');
  });

  it('creates a rule with two rows, the second added with Add row', async () => {
    await page.getByRole('link', { name: 'Add rule' }).click();
    await page.waitForURL(/\/crm\/routing\/new$/);
    const form = new RuleFormPage(page);
    await form.field('Rule Name').fill('Gold customers');
    await form.field('CRM Field Name').fill('Account_Tier');
    await form.field('Location').selectOption({ label: 'DID' });
    await form.field('CRM To Use').selectOption({ label: 'Custom CRM' });
    await form.field('CRM URL').fill('https://crm.example.com/lookup');
    await form.field('Default Destination').selectOption({ label: '100 - Test' });
    await form.fillRow(1, GOLD_ROW);

    await form.addRow();
    assert.deepEqual(await form.rowsShown(), [GOLD_ROW, { operator: '=', value: '', type: 'Queue', target: 'Choose' }], 'row 1 kept, an empty row 2 added');
    assert.equal(await form.field('Rule Name').inputValue(), 'Gold customers', 'the form survives the round trip');
    await form.fillRow(2, BIG_SPENDER_ROW);
    await form.save();

    await page.waitForURL(/\/crm\/routing$/);
    assert.equal(await page.getByRole('status').textContent(), "Rule 'Gold customers' was created.");
  });

  it('finds the rule with the search box, by name and by field name', async () => {
    for (const query of ['gold', 'account_tier']) {
      await page.getByLabel('Search', { exact: true }).fill(query);
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      await page.waitForURL((url) => url.searchParams.get('q') === query);
      assert.deepEqual(await ruleNamesListed(page), ['Gold customers'], `search "${query}"`);
    }
    await page.getByLabel('Search', { exact: true }).fill('no such rule');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.waitForURL((url) => url.searchParams.get('q') === 'no such rule');
    assert.equal(await page.locator('.crm-empty').textContent(), 'No rule matches "no such rule".');
    await page.getByRole('link', { name: 'Clear' }).click();
    await page.waitForURL(/\/crm\/routing$/);
    assert.deepEqual(await ruleNamesListed(page), ['Gold customers', 'Silver callers']);
  });

  it("edits a row's value and moves the second row up", async () => {
    await page.getByRole('row', { name: /Gold customers/ }).getByRole('link', { name: 'Edit' }).click();
    await page.waitForURL(/\/crm\/routing\/\d+\/edit$/);
    const form = new RuleFormPage(page);
    assert.deepEqual(await form.rowsShown(), [GOLD_ROW, BIG_SPENDER_ROW], 'the saved rows, in order');
    await page.getByLabel('Value of row 1', { exact: true }).fill('platinum');
    await form.moveRowUp(2);
    const platinumRow = { ...GOLD_ROW, value: 'platinum' };
    assert.deepEqual(await form.rowsShown(), [BIG_SPENDER_ROW, platinumRow], 'moved, with the edit kept');
    assert.equal(await page.getByRole('button', { name: 'Move row 1 up' }).isDisabled(), true);
    assert.equal(await page.getByRole('button', { name: 'Move row 2 down' }).isDisabled(), true);
    await form.save();
    assert.equal(await page.getByRole('status').textContent(), "Rule 'Gold customers' was saved.");

    await page.getByRole('link', { name: 'Gold customers' }).click();
    await page.waitForURL(/\/edit$/);
    assert.deepEqual(await form.rowsShown(), [BIG_SPENDER_ROW, platinumRow], 'stored in the new order');
    await page.getByRole('link', { name: 'Cancel' }).click();
    await page.waitForURL(/\/crm\/routing$/);
  });

  it("asks \"Are you sure you want to remove 'Gold customers'?\": Cancel keeps the rule, OK removes it", async () => {
    const deleteButton = page.getByRole('row', { name: /Gold customers/ }).getByRole('button', { name: 'Delete' });
    const dismissed = nextDialog(page, 'dismiss');
    await deleteButton.click();
    assert.deepEqual(await dismissed, { type: 'confirm', message: "Are you sure you want to remove 'Gold customers'?" });
    assert.match(page.url(), /\/crm\/routing$/, 'Cancel stays on the list');
    assert.deepEqual(await ruleNamesListed(page), ['Gold customers', 'Silver callers']);

    const accepted = nextDialog(page, 'accept');
    const loaded = page.waitForEvent('load');
    await deleteButton.click();
    assert.deepEqual(await accepted, { type: 'confirm', message: "Are you sure you want to remove 'Gold customers'?" });
    await loaded;
    assert.equal(await page.getByRole('status').textContent(), "Rule 'Gold customers' was removed.");
    assert.deepEqual(await ruleNamesListed(page), ['Silver callers']);
  });
});

async function ruleNamesListed(page: Page): Promise<string[]> {
  return page.locator('.crm-rule-list tbody tr td[data-label="Name"] > a:first-child').allTextContents();
}
