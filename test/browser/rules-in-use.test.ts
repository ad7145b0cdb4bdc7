/**
 * Rules where calls use them, in real Chromium: the reference host's IVR menus and DIDs offer
 * only rules of their Location (with the dialplan to copy), the Routing list says what uses each
 * rule, removing a rule in use says so before and after (the question itself unchanged), disabling
 * an integration names the rules that use it first, and while the license is off the pages say
 * why and link to the License page, and the pickers offer no rules.
 */
import assert from 'node:assert/strict';
import type { Locator, Page } from 'playwright-core';
import { nextDialog, signInThroughLoginPage, submit, useBrowser } from '../support/browser';
import { DialplanSigner } from '../../src/call/dialplan-signature';
import { startTestHost, TEST_SECRET_KEY, type SignedInAgent, type TestHost } from '../support/test-host';

describe('Rules in use: IVRs, DIDs, delete, disable, license (Chromium)', function () {
  this.timeout(90_000);
  const browser = useBrowser();
  let t: TestHost;
  let admin: SignedInAgent;
  let page: Page;
  const ids: Record<string, number> = {};

  before(async function () {
    t = await startTestHost();
    admin = await t.signIn();
    await admin.get('/crm/integration');
    await admin.post('/crm/integration/pipedrive', { enabled: 'yes', region: 'US', companyDomain: 'acme', apiToken: 'pd-token', action: 'save' });
    for (const [name, location, source] of [['DID tiers', 'did', 'custom'], ['IVR account check', 'ivr', 'custom'], ['Pipedrive owners', 'did', 'integration']] as const) {
      await admin.get('/crm/routing/new');
      const saved = await admin.post('/crm/routing/new', {
        name, fieldName: 'Account_Tier', location, source, customUrl: 'https://crm.example.com/lookup', customPost: 'no', crm: 'pipedrive', crmModule: 'Persons',
        deadlineSeconds: '3', defaultDestination: 'extension:100', defaultVoicemail: 'unset',
        row_operator: 'eq', row_value: 'gold', row_dest_type: 'queue', row_dest_target: '105', action: 'save',
      });
      assert.equal(saved.status, 303, saved.text);
      ids[name] = (await t.host.plugin.routingDestinations('default')).find((r) => r.name === name)!.ruleId;
    }
    page = await browser.newPage();
    await signInThroughLoginPage(page, t.host.url, '/ivrs');
  });
  after(async () => t?.close());
  afterEach(() => browser.assertNoPageErrors());

  it('lets an IVR key use a rule whose Location is IVR, and only those, with the menu dialplan', async () => {
    const key2 = page.getByLabel('Key 2', { exact: true }).first();
    assert.deepEqual(await groupChoices(key2, 'CRM Routing'), ['IVR account check'], 'DID rules are not offered on IVR keys');
    await key2.selectOption({ label: 'IVR account check' });
    await page.getByLabel('Key 1', { exact: true }).first().selectOption({ label: '103 - Sales queue' });
    await submit(page, page.getByRole('button', { name: 'Save 200 - Main menu' }));
    assert.equal(await page.getByRole('status').textContent(), 'IVR 200 - Main menu was saved: 2 keys have a destination. Copy its dialplan below into Asterisk.');
    const dialplan = (await page.locator('#ivr-200-dialplan').textContent()) ?? '';
    const rule = ids['IVR account check'];
    assert.equal(dialplan, [
      '[ivr-200]', 'exten => s,1,Answer()', ' same => n,WaitExten(10)',
      'exten => 1,1,Goto(ext-queues,103,1)',
      `exten => 2,1,NoOp(CRM Routing rule ${rule})`,
      ` same => n,AGI(agi://127.0.0.1:${t.agiPort}/crm-routing?rule=${rule}&tenant=default&sig=${new DialplanSigner(TEST_SECRET_KEY).sign(rule!, 'default')})`,
      ' same => n,Goto(ext-local,100,1)',
    ].join('\n'));
    assert.equal(await page.getByLabel('Key 2', { exact: true }).first().inputValue(), `crm-routing:${rule}`);
  });

  it('refuses a DID rule on an IVR key and an IVR rule on a DID, saying why', async () => {
    await admin.get('/ivrs');
    const onIvr = await admin.post('/ivrs/200', { option_3: `crm-routing:${ids['DID tiers']}` });
    assert.equal(onIvr.status, 422);
    assert.match(onIvr.text, /Key 3: Rule &#39;DID tiers&#39; has Location DID: an IVR option can use only rules whose Location is IVR\./);
    await admin.get('/dids');
    const onDid = await admin.post('/dids', { number: '5550000', destination: `crm-routing:${ids['IVR account check']}` });
    assert.equal(onDid.status, 422);
    assert.match(onDid.text, /Rule &#39;IVR account check&#39; has Location IVR: it is meant for an IVR option\./);
  });

  it('offers a DID only DID rules, starting at "Choose a destination", and says what a saved DID does', async () => {
    await page.getByRole('navigation', { name: 'Main menu' }).getByRole('link', { name: 'DIDs' }).click();
    await page.waitForURL(/\/dids$/);
    const destination = page.getByLabel('Destination', { exact: true });
    assert.equal(await selectedText(destination), 'Choose a destination');
    assert.deepEqual(await groupChoices(destination, 'CRM Routing'), ['DID tiers', 'Pipedrive owners']);
    await page.getByLabel('Number', { exact: true }).fill('5551234');
    await destination.selectOption({ label: 'DID tiers' });
    await submit(page, page.getByRole('button', { name: 'Save DID' }));
    assert.equal(await page.getByRole('status').textContent(), 'DID 5551234 now goes to CRM Routing: DID tiers (DID). Copy its dialplan below into Asterisk.');
    assert.match((await page.locator('.host-dialplan').first().textContent()) ?? '', new RegExp(`AGI\\(agi://127\\.0\\.0\\.1:${t.agiPort}/crm-routing\\?rule=${ids['DID tiers']}&tenant=default&sig=${new DialplanSigner(TEST_SECRET_KEY).sign(ids['DID tiers']!, 'default')}\\)`));
  });

  it('lists what uses each rule, and asks before removing one in use with the exact question and what uses it', async () => {
    await page.goto(`${t.host.url}/crm/routing`);
    const usedBy = (name: string) => page.getByRole('row', { name: new RegExp(name) }).locator('td[data-label="Used by"]');
    assert.equal(await usedBy('DID tiers').textContent(), 'DID 5551234');
    assert.equal(await usedBy('IVR account check').textContent(), 'IVR 200 - Main menu, key 2');
    assert.equal(await usedBy('Pipedrive owners').textContent(), 'not used');
    assert.equal(await page.getByRole('row', { name: /DID tiers/ }).locator('td[data-label="ID"]').textContent(), String(ids['DID tiers']));

    const remove = page.getByRole('row', { name: /IVR account check/ }).getByRole('button', { name: 'Delete' });
    const asked = nextDialog(page, 'dismiss');
    await remove.click();
    const question = (await asked).message;
    assert.ok(question.startsWith("Are you sure you want to remove 'IVR account check'?\n\n"), question);
    assert.match(question, /It is still used by: IVR 200 - Main menu, key 2\. Calls there will go to the fallback line of their dialplan until you choose another destination\.$/);

    const accepted = nextDialog(page, 'accept');
    const loaded = page.waitForEvent('load');
    await remove.click();
    await accepted;
    await loaded;
    assert.equal(await page.getByRole('status').textContent(), "Rule 'IVR account check' was removed. Still pointing at it: IVR 200 - Main menu, key 2. Their calls now take the fallback line of their dialplan; choose another destination there.");
    await page.goto(`${t.host.url}/ivrs`);
    assert.equal(await selectedText(page.getByLabel('Key 2', { exact: true }).first()), `CRM Routing: rule ${ids['IVR account check']} was removed (calls take the dialplan's fallback line): choose another destination`);
  });

  it('asks before disabling an integration that rules use, naming them, and names them again once disabled', async () => {
    await page.goto(`${t.host.url}/crm/integration`);
    const section = page.locator('#crm-pipedrive');
    await section.getByLabel('Enabled', { exact: true }).selectOption({ label: 'No' });
    await submit(page, section.getByRole('button', { name: 'Save', exact: true }));
    const ask = section.locator('#pipedrive-disable-ask');
    assert.match((await ask.textContent()) ?? '', /Not disabled yet\. This rule looks callers up in Pipedrive; while it is disabled their calls go to their default destination/);
    assert.deepEqual(await ask.getByRole('link').allTextContents(), ['Pipedrive owners']);
    assert.equal(await section.locator('.crm-badge').textContent(), 'Enabled', 'still enabled');
    await submit(page, ask.getByRole('button', { name: 'Disable anyway' }));
    assert.equal(await section.getByRole('status').first().textContent(), "Pipedrive was saved (disabled). Rule 'Pipedrive owners' uses it: their calls go to their default destination until it is enabled again.");
    assert.equal(await section.locator('.crm-badge').textContent(), 'Disabled');
  });

  it('explains "not licensed" and links to the License page; DIDs and IVRs then offer no rules', async () => {
    await page.goto(`${t.host.url}/license`);
    await submit(page, page.getByRole('button', { name: 'Disable CRM Routing' }));
    await page.goto(`${t.host.url}/crm/routing`);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Not licensed');
    assert.match((await page.locator('.crm-page').textContent()) ?? '', /need the CRM Routing feature \(crm_routing\) of your PBX license/);
    assert.equal(await page.getByRole('link', { name: 'Back to CRM Routing' }).count(), 0, 'no link back to itself');
    await page.getByRole('link', { name: 'Open the License page' }).click();
    await page.waitForURL(/\/license$/);

    await page.goto(`${t.host.url}/dids`);
    assert.deepEqual(await groupChoices(page.getByLabel('Destination', { exact: true }), 'CRM Routing'), []);
    assert.match((await page.locator('#did-unlicensed').textContent()) ?? '', /CRM Routing is not enabled in the license, so its rules are not offered/);
    assert.match((await page.locator('td[data-label="Destination"]').first().textContent()) ?? '', /DID tiers \(DID\) - not licensed: calls take the fallback line/);
    await page.goto(`${t.host.url}/ivrs`);
    assert.deepEqual(await groupChoices(page.getByLabel('Key 5', { exact: true }).first(), 'CRM Routing'), []);

    await page.goto(`${t.host.url}/license`);
    await submit(page, page.getByRole('button', { name: 'Enable CRM Routing' }));
  });
});

/** The labels a select offers under one optgroup. */
function groupChoices(select: Locator, group: string): Promise<string[]> {
  return select.evaluate((el, label) => {
    const groups = Array.from((el as unknown as { querySelectorAll(s: string): ArrayLike<{ label: string; querySelectorAll(s: string): ArrayLike<{ textContent: string | null }> }> }).querySelectorAll('optgroup'));
    const found = groups.find((g) => g.label === label);
    return found ? Array.from(found.querySelectorAll('option')).map((o) => (o.textContent ?? '').trim()) : [];
  }, group);
}

function selectedText(select: Locator): Promise<string> {
  return select.evaluate((el) => {
    const s = el as unknown as { selectedIndex: number; options: ArrayLike<{ textContent: string | null }> };
    return (s.options[s.selectedIndex]?.textContent ?? '').trim();
  });
}
