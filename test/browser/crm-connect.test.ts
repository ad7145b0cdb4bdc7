/**
 * "Connect" in real Chromium, against fake vendor consent pages over HTTPS: Zendesk (PKCE) and
 * Pipedrive (no PKCE). The administrator saves the OAuth client, registers the redirect URL the
 * page shows at the vendor, presses Connect, presses Allow on the vendor's page, and lands back on
 * CRM > Integration connected, as the vendor's account; Test connection then signs in with the
 * stored refresh token. Pressing Deny comes back with a clear message and nothing connected.
 */
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { signInThroughLoginPage, useBrowser } from '../support/browser';
import { PipedriveFake } from '../support/fakes/pipedrive-fake';
import { ZendeskFake } from '../support/fakes/zendesk-fake';
import { testCa } from '../support/test-ca';
import { startTestHost, type TestHost } from '../support/test-host';

describe('CRM > Integration: Connect in Chromium', function () {
  this.timeout(90_000);
  // The fake vendors' certificates come from the test CA, which this browser profile does not know.
  const browser = useBrowser({ ignoreHTTPSErrors: true });
  let t: TestHost;
  let zendesk: ZendeskFake;
  let pipedrive: PipedriveFake;
  let page: Page;

  before(async function () {
    this.timeout(60_000);
    zendesk = await ZendeskFake.start();
    pipedrive = await PipedriveFake.start();
    t = await startTestHost({ crmCa: testCa().caPem, resolveCrmOrigin: pipedrive.resolveOrigin });
    page = await browser.newPage();
    await signInThroughLoginPage(page, t.host.url, '/crm/integration');
  });
  after(async () => {
    await t?.close();
    await zendesk?.close();
    await pipedrive?.close();
  });
  afterEach(() => {
    browser.assertNoPageErrors();
    assert.deepEqual([...zendesk.violations, ...pipedrive.violations], [], 'the fakes saw requests the vendors would refuse');
  });

  const section = (crm: string) => page.locator(`#crm-${crm}`);
  const field = (crm: string, label: string) => section(crm).getByLabel(label, { exact: true });
  const text = async (selector: string) => ((await page.locator(selector).textContent()) ?? '').replace(/\s+/g, ' ').trim();

  async function open(crm: string): Promise<void> {
    if (!(await section(crm).locator('form.crm-form').isVisible())) await section(crm).locator('summary').click();
  }

  /** Connect, then the vendor's consent page: Allow or Deny; back on CRM > Integration. */
  async function connectThroughVendor(crm: string, label: string, decision: 'Allow' | 'Deny'): Promise<void> {
    await Promise.all([page.waitForURL((url) => url.pathname.includes('/oauth/')), section(crm).getByRole('button', { name: `Connect ${label}` }).click()]);
    assert.match(await page.title(), new RegExp(`${label}: allow access\\?`), 'the vendor\'s consent page');
    await Promise.all([page.waitForURL((url) => url.pathname === '/crm/integration'), page.getByRole('button', { name: decision }).click()]);
  }

  it('Zendesk (PKCE): saved client, redirect URL registered, Allow: connected as the agent', async () => {
    await open('zendesk');
    await field('zendesk', 'Enabled').selectOption({ label: 'Yes: rules can use Zendesk' });
    await field('zendesk', 'Zendesk subdomain').fill(zendesk.url);
    await field('zendesk', 'OAuth client ID (optional)').fill(zendesk.clientId);
    await field('zendesk', 'OAuth client secret (optional)').fill(zendesk.clientSecret);
    await Promise.all([page.waitForEvent('load'), section('zendesk').getByRole('button', { name: 'Save', exact: true }).click()]);
    assert.equal(await text('#zendesk-connect-status'), 'Not connected.');
    const redirectUri = await text('#zendesk-connect-redirect-uri');
    assert.equal(redirectUri, `${t.host.url}/crm/integration/zendesk/connect/callback`);
    zendesk.registerRedirectUri(redirectUri); // as the administrator does in Admin Center

    await connectThroughVendor('zendesk', 'Zendesk', 'Allow');
    assert.equal(page.url(), `${t.host.url}/crm/integration#crm-zendesk`);
    assert.equal(await text('#zendesk-connect-notice'), `Connected to Zendesk as ${zendesk.email}. The refresh token is stored encrypted and used from now on.`);
    assert.match(await text('#zendesk-connect-status'), new RegExp(`^Connected as ${zendesk.email} since`));
    assert.equal(await field('zendesk', 'Sign-in').inputValue(), 'authorization_code');
    const consent = zendesk.consent.requests.at(-1)!;
    assert.equal(consent.query.code_challenge_method, 'S256');

    await Promise.all([page.waitForEvent('load'), section('zendesk').getByRole('button', { name: 'Test connection' }).click()]);
    assert.match(await text('#zendesk-test-result'), /^Connection works\. Authenticated with Zendesk/);
    assert.equal(zendesk.counts.refreshGrants, 1, 'the test signed in with the stored refresh token');

    await page.reload();
    assert.equal(await page.locator('#zendesk-connect-notice').count(), 0, 'the notice is shown once');
  });

  it('Pipedrive (no PKCE): Deny comes back with a clear message; Allow connects and fills the company domain', async () => {
    await open('pipedrive');
    await field('pipedrive', 'Enabled').selectOption({ label: 'Yes: rules can use Pipedrive' });
    await field('pipedrive', 'Sign-in').selectOption({ label: 'OAuth app (Connect)' });
    await field('pipedrive', 'OAuth client ID (optional)').fill(pipedrive.clientId);
    await field('pipedrive', 'OAuth client secret (optional)').fill(pipedrive.clientSecret);
    await Promise.all([page.waitForEvent('load'), section('pipedrive').getByRole('button', { name: 'Save', exact: true }).click()]);
    pipedrive.registerRedirectUri(await text('#pipedrive-connect-redirect-uri'));

    await connectThroughVendor('pipedrive', 'Pipedrive', 'Deny');
    assert.equal(await text('#pipedrive-connect-notice'), 'Pipedrive did not grant access: access was denied or the sign-in cancelled at the consent page (access_denied: The end-user or authorization server denied the request.). Nothing was changed.');
    assert.equal(await page.locator('#pipedrive-connect-notice').getAttribute('role'), 'alert');
    assert.equal(await text('#pipedrive-connect-status'), 'Not connected.');
    assert.equal(pipedrive.consent.requests.at(-1)!.query.code_challenge, undefined, 'no PKCE for Pipedrive');

    await connectThroughVendor('pipedrive', 'Pipedrive', 'Allow');
    assert.equal(await text('#pipedrive-connect-notice'), 'Connected to Pipedrive as pat@acme.test. The refresh token is stored encrypted and used from now on.');
    assert.equal(await field('pipedrive', 'Company domain').inputValue(), pipedrive.url, 'learned from Pipedrive\'s api_domain');
    assert.equal(await section('pipedrive').locator('.crm-badge').textContent(), 'Enabled');
  });
});
