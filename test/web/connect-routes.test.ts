/**
 * CRM > Integration, "Connect", over HTTP against the Zendesk fake (a PKCE vendor): the panel
 * with the exact redirect URL, the CSRF-checked start (303 to the consent page), the callback
 * storing the refresh token sealed, Disconnect; and every refusal, each with its own message and
 * nothing saved changed: a vendor error, a made-up, reused, expired, other user's or other
 * browser's state, a refused code exchange, and a host whose public address is unknown.
 */
import assert from 'node:assert/strict';
import type { Knex } from 'knex';
import { answerConsent } from '../support/consent-client';
import { ZendeskFake } from '../support/fakes/zendesk-fake';
import { testCa } from '../support/test-ca';
import { ADMIN, OTHER_TENANT_USER, startTestHost, type SignedInAgent, type TestHost } from '../support/test-host';

const PAGE = '/crm/integration';

/** The text of an element by id, HTML entities of the escaped page decoded. */
function textOf(html: string, id: string): string | undefined {
  const match = new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</(?:p|code|span)>`).exec(html);
  return match?.[1]!.replace(/<[^>]+>/g, '').replace(/&#39;/g, "'").replace(/&#34;|&quot;/g, '"').replace(/&amp;/g, '&').replace(/\s+/g, ' ').trim();
}

describe('CRM > Integration: Connect (HTTP)', function () {
  this.timeout(30_000);
  let t: TestHost;
  let fake: ZendeskFake;
  let admin: SignedInAgent;
  let db: Knex;

  before(async () => {
    fake = await ZendeskFake.start();
    t = await startTestHost({ crmCa: testCa().caPem });
    db = t.database.db;
    fake.registerRedirectUri(`${t.host.url}/crm/integration/zendesk/connect/callback`);
    admin = await t.signIn();
  });
  after(async () => {
    await t?.close();
    await fake?.close();
  });
  afterEach(() => assert.deepEqual(fake.violations.splice(0), [], 'the Zendesk fake saw requests Zendesk would refuse'));

  async function saveZendesk(agent: SignedInAgent, over: Record<string, string> = {}): Promise<void> {
    await agent.get(PAGE);
    const res = await agent.post(`${PAGE}/zendesk`, {
      enabled: 'yes', subdomain: fake.url, authMode: 'client_credentials', clientId: fake.clientId, clientSecret: fake.clientSecret,
      refreshToken: '', email: '', apiToken: '', region: 'US', action: 'save', ...over,
    });
    assert.equal(res.status, 200, res.text.slice(0, 400));
  }

  /** Presses Connect: the 303 to Zendesk's consent page. */
  async function start(agent: SignedInAgent): Promise<string> {
    await agent.get(PAGE);
    const res = await agent.post(`${PAGE}/zendesk/connect`, {});
    assert.equal(res.status, 303, res.text.slice(0, 300));
    return String(res.headers.location);
  }

  /** Follows the vendor's redirect back into the plugin, then the 303 to the page; returns the page. */
  async function callback(agent: SignedInAgent, url: URL): Promise<{ notice: string | undefined; page: string }> {
    const res = await agent.agent.get(`${url.pathname}${url.search}`);
    assert.equal(res.status, 303, res.text.slice(0, 300));
    assert.equal(res.headers.location, `${PAGE}#crm-zendesk`);
    const page = await agent.get(PAGE);
    return { notice: textOf(page.text, 'zendesk-connect-notice'), page: page.text };
  }

  const row = async (tenantId = ADMIN.tenantId) => (await db('crm_routing_integrations').where({ tenant_id: tenantId, crm: 'zendesk' }).first()) as { settings: string; secrets: string | null; updated_at: unknown } | undefined;

  it('shows the Connect panel only for CRMs that declare it, with the exact redirect URL', async () => {
    const page = await admin.get(PAGE);
    assert.equal(textOf(page.text, 'zendesk-connect-redirect-uri'), `${t.host.url}/crm/integration/zendesk/connect/callback`);
    assert.equal(textOf(page.text, 'zendesk-connect-status'), 'Not connected.');
    assert.equal(textOf(page.text, 'zendesk-connect-blocked'), 'Save the Zendesk settings first.');
    assert.ok(!page.text.includes('id="vtiger-connect"'), 'Vtiger has no OAuth authorization code flow');
  });

  it('refuses to start without the CSRF token, and says what to save first', async () => {
    await admin.get(PAGE);
    const forged = await admin.post(`${PAGE}/zendesk/connect`, {}, null);
    assert.equal(forged.status, 403);
    const early = await admin.post(`${PAGE}/zendesk/connect`, {});
    assert.equal(early.status, 303);
    const page = await admin.get(PAGE);
    assert.equal(textOf(page.text, 'zendesk-connect-notice'), 'Save the Zendesk settings first, then press Connect.');
    assert.equal(fake.consent.requests.length, 0, 'no one was sent to Zendesk');
  });

  it('connects: consent page with PKCE, code exchanged, refresh token stored sealed, account shown', async () => {
    await saveZendesk(admin);
    const consent = new URL(await start(admin));
    assert.equal(consent.origin + consent.pathname, `${fake.url}/oauth/authorizations/new`);
    assert.equal(consent.searchParams.get('redirect_uri'), `${t.host.url}/crm/integration/zendesk/connect/callback`);
    assert.equal(consent.searchParams.get('code_challenge_method'), 'S256');
    assert.match(consent.searchParams.get('state')!, /^[A-Za-z0-9_-]{43}$/);
    const states = (await db('crm_routing_connect_states')) as Array<Record<string, unknown>>;
    assert.ok(!JSON.stringify(states).includes(consent.searchParams.get('state')!), 'the state is stored hashed');
    const { notice, page } = await callback(admin, await answerConsent(consent.toString()));
    assert.equal(notice, `Connected to Zendesk as ${fake.email}. The refresh token is stored encrypted and used from now on.`);
    assert.match(textOf(page, 'zendesk-connect-status') ?? '', new RegExp(`^Connected as ${fake.email} since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC\\.$`));
    const stored = await row();
    assert.equal(JSON.parse(stored!.settings).authMode, 'authorization_code', 'lookups now use the agent\'s token');
    const secrets = JSON.parse(stored!.secrets!) as Record<string, string>;
    assert.ok(secrets.refreshToken!.startsWith('v1.'), 'the refresh token is sealed');
    assert.ok(!page.includes(secrets.refreshToken!), 'and never rendered');
  });

  it('a Save of the section keeps the connection; Disconnect removes the refresh token', async () => {
    await saveZendesk(admin, { authMode: 'authorization_code' });
    assert.match(textOf((await admin.get(PAGE)).text, 'zendesk-connect-status') ?? '', /^Connected as/);
    await admin.post(`${PAGE}/zendesk/connect/disconnect`, {});
    const page = await admin.get(PAGE);
    assert.equal(textOf(page.text, 'zendesk-connect-notice'), 'Disconnected from Zendesk: the stored refresh token was removed.');
    assert.equal(textOf(page.text, 'zendesk-connect-status'), 'Not connected.');
    assert.ok(!('refreshToken' in JSON.parse((await row())!.secrets ?? '{}')));
  });

  describe('refusals change nothing saved', () => {
    let before: Awaited<ReturnType<typeof row>>;
    beforeEach(async () => {
      await saveZendesk(admin);
      before = await row();
    });
    afterEach(async () => assert.deepEqual(await row(), before, 'the integration is as it was'));

    it('the vendor denied access (error=access_denied)', async () => {
      const { notice } = await callback(admin, await answerConsent(await start(admin), 'deny'));
      assert.equal(notice, 'Zendesk did not grant access: access was denied or the sign-in cancelled at the consent page (access_denied: The end-user or authorization server denied the request.). Nothing was changed.');
    });

    it('a made-up state, and a callback without one', async () => {
      const made = new URL(`${t.host.url}/crm/integration/zendesk/connect/callback?code=abc&state=${'x'.repeat(43)}`);
      assert.equal((await callback(admin, made)).notice, 'This answer from Zendesk does not belong to a Connect started here (unknown state): press Connect again. Nothing was changed.');
      const none = new URL(`${t.host.url}/crm/integration/zendesk/connect/callback?code=abc`);
      assert.equal((await callback(admin, none)).notice, 'The answer from Zendesk has no usable state, so it cannot be matched to a Connect started here: press Connect again. Nothing was changed.');
    });

    it('a state used twice (the second answer is refused)', async () => {
      const back = await answerConsent(await start(admin));
      await callback(admin, back);
      before = await row(); // the first use connected; the replay must change nothing
      assert.equal((await callback(admin, back)).notice, 'This answer from Zendesk was already used: press Connect to sign in again. Nothing was changed.');
      await admin.post(`${PAGE}/zendesk/connect/disconnect`, {});
      before = await row();
    });

    it('a state older than 10 minutes', async () => {
      const back = await answerConsent(await start(admin));
      await db('crm_routing_connect_states').update({ expires_at: new Date(Date.now() - 1000) });
      assert.equal((await callback(admin, back)).notice, 'The Zendesk sign-in took longer than 10 minutes and expired: press Connect again. Nothing was changed.');
    });

    it("another user's state, and the same user's state in another browser session; the owner can still finish", async () => {
      const back = await answerConsent(await start(admin));
      const bob = await t.signIn(OTHER_TENANT_USER);
      assert.equal((await callback(bob, back)).notice, 'This Zendesk sign-in was started by another user or in another browser or login session: press Connect yourself. Nothing was changed.');
      const adminElsewhere = await t.signIn(ADMIN);
      assert.equal((await callback(adminElsewhere, back)).notice, 'This Zendesk sign-in was started by another user or in another browser or login session: press Connect yourself. Nothing was changed.');
      assert.equal(await row(OTHER_TENANT_USER.tenantId), undefined, "nothing was saved in bob's tenant");
      const finished = await callback(admin, back);
      assert.match(finished.notice ?? '', /^Connected to Zendesk/);
      await admin.post(`${PAGE}/zendesk/connect/disconnect`, {});
      before = await row();
    });

    it('Zendesk refused the code exchange (a wrong client secret saved)', async () => {
      await saveZendesk(admin, { clientSecret: 'not-the-secret' });
      before = await row();
      const { notice } = await callback(admin, await answerConsent(await start(admin)));
      assert.equal(notice, "Zendesk did not accept the sign-in: Zendesk's token endpoint refused the client ID or client secret (invalid_client: Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.). Nothing was changed.");
      assert.ok(!notice?.includes('not-the-secret'));
    });
  });

  describe('the public address', () => {
    it('never takes a redirect URL from a Host header that is not localhost', async () => {
      const page = await admin.agent.get(PAGE).set('Host', 'pbx.evil.example');
      assert.match(textOf(page.text, 'zendesk-connect-redirect-error') ?? '', /^The host does not say its public address/);
      assert.ok(!page.text.includes('pbx.evil.example/crm'), 'no redirect URL built from the Host header');
    });

    it("uses the host's publicUrl when set, and refuses a plain-http one that is not localhost", async () => {
      const other = await startTestHost({ publicUrl: 'https://pbx.example.com/admin/' });
      try {
        const agent = await other.signIn();
        assert.equal(textOf((await agent.get(PAGE)).text, 'zendesk-connect-redirect-uri'), 'https://pbx.example.com/admin/crm/integration/zendesk/connect/callback');
      } finally {
        await other.close();
      }
      await assert.rejects(startTestHost({ publicUrl: 'http://pbx.example.com' }), /must use https/);
    });
  });
});
