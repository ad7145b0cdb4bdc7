/**
 * The rule form's script in real Chromium (views/assets/crm-routing.js): sections that apply to
 * one choice only (Greeting Instructions for IVR, the Custom CRM fields for Custom CRM), and each
 * row's destination list narrowed to the chosen type's entries.
 */
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { RuleFormPage } from '../../scripts/lib/rule-form-page';
import { signInThroughLoginPage, useBrowser } from '../support/browser';
import { startTestHost, type TestHost } from '../support/test-host';

describe('Rule form behaviour in Chromium', function () {
  this.timeout(60_000);
  const browser = useBrowser();
  let t: TestHost;
  let page: Page;
  let form: RuleFormPage;

  before(async function () {
    t = await startTestHost();
    page = await browser.newPage();
    await signInThroughLoginPage(page, t.host.url, '/crm/routing/new');
    form = new RuleFormPage(page);
  });
  after(async () => t?.close());
  afterEach(() => browser.assertNoPageErrors());

  it('shows Greeting Instructions only while Location is IVR', async () => {
    const greeting = page.getByRole('group', { name: /Greeting Instructions/ });
    assert.equal(await form.field('Location').inputValue(), 'did');
    assert.equal(await greeting.isVisible(), false, 'hidden for DID');
    await form.field('Location').selectOption({ label: 'IVR' });
    assert.equal(await greeting.isVisible(), true, 'shown for IVR');
    assert.equal(await form.field('Greeting recording').isVisible(), true);
    await form.field('Location').selectOption({ label: 'DID' });
    assert.equal(await greeting.isVisible(), false, 'hidden again for DID');
  });

  it('shows the Custom CRM fields only for Custom CRM, and the integration fields otherwise', async () => {
    const custom = ['CRM URL', 'HTTP Method POST'];
    const integration = ['CRM', 'CRM Module', 'CRM Username', 'CRM Password'];
    assert.equal(await form.field('CRM To Use').inputValue(), 'integration');
    for (const label of custom) assert.equal(await form.field(label).isVisible(), false, `${label} hidden for an integration`);
    for (const label of integration) assert.equal(await form.field(label).isVisible(), true, `${label} shown for an integration`);
    assert.equal(await page.getByRole('button', { name: 'Add header' }).isVisible(), false);

    await form.field('CRM To Use').selectOption({ label: 'Custom CRM' });
    for (const label of custom) assert.equal(await form.field(label).isVisible(), true, `${label} shown for Custom CRM`);
    for (const label of integration) assert.equal(await form.field(label).isVisible(), false, `${label} hidden for Custom CRM`);
    assert.equal(await page.getByRole('button', { name: 'Add header' }).isVisible(), true);
    assert.equal(await page.getByRole('button', { name: 'Fetch fields' }).isVisible(), false, 'no field picker for Custom CRM');

    await form.field('CRM To Use').selectOption({ label: 'CRM from CRM > Integration' });
    assert.equal(await form.field('CRM URL').isVisible(), false);
    assert.equal(await form.field('CRM Module').isVisible(), true);
  });

  it("lists in a row's destination only the entries of the row's destination type", async () => {
    const type = page.getByLabel('Destination type of row 1', { exact: true });
    const target = page.getByLabel('Destination of row 1', { exact: true });
    assert.equal(await type.inputValue(), 'queue');
    assert.deepEqual(await choicesOffered(target), ['103 - Sales queue', '104 - Support queue', '105 - VIP queue']);
    await target.selectOption({ label: '104 - Support queue' });

    await type.selectOption({ label: 'IVR' });
    assert.deepEqual(await choicesOffered(target), ['200 - Main menu', '201 - After hours']);
    assert.equal(await target.inputValue(), '', 'a queue chosen before is cleared when the type changes');

    await type.selectOption({ label: 'Play recording' });
    assert.deepEqual(await choicesOffered(target), ['welcome-en - Welcome (English)', 'enter-account - Enter your account number', 'closed - We are closed']);
    await type.selectOption({ label: 'Voicemail' });
    assert.deepEqual(await choicesOffered(target), ['100 - Test voicemail', '101 - Reception voicemail']);
    await type.selectOption({ label: 'Hang up' });
    assert.equal(await target.isVisible(), false, 'Hang up needs no destination');
    await type.selectOption({ label: 'Extension' });
    assert.equal(await target.isVisible(), true);
    assert.deepEqual(await choicesOffered(target), ['100 - Test', '101 - Reception', '102 - Support desk']);
  });

  it('narrows the destination list of a row added with Add row, and of rows rendered back by the server', async () => {
    await page.getByLabel('Destination type of row 1', { exact: true }).selectOption({ label: 'IVR' });
    await form.addRow();
    assert.deepEqual(await choicesOffered(page.getByLabel('Destination of row 1', { exact: true })), ['200 - Main menu', '201 - After hours']);
    assert.deepEqual(await choicesOffered(page.getByLabel('Destination of row 2', { exact: true })), ['103 - Sales queue', '104 - Support queue', '105 - VIP queue']);
  });
});

/** The options a person can pick in a destination select: enabled, in a group that is shown. */
function choicesOffered(select: Locator): Promise<string[]> {
  return select.evaluate((el) => {
    type Option = { value: string; disabled: boolean; textContent: string | null; parentElement: { tagName: string; hidden: boolean; disabled: boolean } | null };
    const options = Array.from((el as unknown as { options: ArrayLike<Option> }).options);
    return options
      .filter((o) => o.value !== '' && !o.disabled && !(o.parentElement?.tagName === 'OPTGROUP' && (o.parentElement.hidden || o.parentElement.disabled)))
      .map((o) => (o.textContent ?? '').trim());
  });
}
