import assert from 'node:assert/strict';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { ZOHO_DATA_CENTRES, zohoDefinition, type ZohoServices, type ZohoSettings } from '../../../src/crm/zoho';
import { connectorServices, lookupByDeadline, lookupRequest, testHttpClient } from '../../support/connector-harness';
import { ZohoFake } from '../../support/fakes/zoho-fake';

const DCS = ['com', 'eu'] as const;
const REDIRECT = 'https://pbx.example.com/admin/crm/integration/zoho/connect/callback';
const connect = zohoDefinition.connect!;

describe('Zoho CRM Connect (authorization code flow)', () => {
  let fake: ZohoFake;
  let http: HttpClient;
  let services: ZohoServices;

  before(async () => {
    fake = await ZohoFake.start(Object.fromEntries(DCS.map((dc) => [dc, { accounts: ZOHO_DATA_CENTRES[dc].accounts, api: `https://www.zohoapis.${dc}` }])));
    http = testHttpClient();
    fake.add('eu', 'Contacts', { id: '4150868000000224005', Modified_Time: '2024-03-01T10:00:00+01:00', Last_Name: 'Lovelace', Phone: '+1 (202) 555-0101' });
  });
  beforeEach(() => {
    services = { ...connectorServices(http, new TokenCache()), resolveOrigin: fake.resolveOrigin };
    fake.consentDc = undefined;
  });
  afterEach(() => assert.deepEqual(fake.violations.splice(0), []));
  after(async () => { await http.close(); await fake.close(); });

  const settings = (over: Partial<ZohoSettings> = {}): ZohoSettings =>
    zohoDefinition.schema.parse({ region: 'US', dataCentre: 'com', clientId: fake.clientId, clientSecret: fake.clientSecret, ...over });

  /** The browser's trip: the consent page (approved at once) sends it back with these parameters. */
  async function consent(url: string): Promise<Record<string, string>> {
    const res = await http.request({ method: 'GET', url, signal: AbortSignal.timeout(5000), returnRedirects: true, what: 'consent page' });
    assert.equal(res.status, 302);
    const back = new URL(res.headers.location!);
    assert.equal(`${back.origin}${back.pathname}`, REDIRECT);
    return Object.fromEntries(back.searchParams);
  }

  it('sends the administrator to the consent page of the chosen data centre with every scope, offline, with consent', () => {
    const url = new URL(connect.authorizeUrl(settings({ dataCentre: 'eu' }), { redirectUri: REDIRECT, state: 'st-1' }, connectorServices(http)));
    assert.equal(`${url.origin}${url.pathname}`, 'https://accounts.zoho.eu/oauth/v2/auth');
    assert.deepEqual(Object.fromEntries(url.searchParams), {
      scope: 'ZohoCRM.modules.READ,ZohoSearch.securesearch.READ,ZohoCRM.settings.fields.READ,ZohoCRM.settings.modules.READ,ZohoCRM.modules.calls.CREATE,ZohoCRM.modules.contacts.CREATE,ZohoCRM.modules.leads.CREATE,ZohoCRM.users.READ',
      client_id: fake.clientId, response_type: 'code', access_type: 'offline', prompt: 'consent', redirect_uri: REDIRECT, state: 'st-1',
    });
    assert.equal(connect.pkce, false, 'Zoho documents no PKCE for server-based clients');
  });

  it('exchanges the code where accounts-server says, stores the refresh token, and lookups then work', async () => {
    fake.consentDc = 'eu';
    const callback = await consent(connect.authorizeUrl(settings(), { redirectUri: REDIRECT, state: 'st-2' }, services));
    assert.equal(callback.state, 'st-2');
    assert.equal(callback['accounts-server'], 'https://accounts.zoho.eu');
    assert.equal(callback.location, 'eu');
    const before = { com: fake.tokenRequests('com'), eu: fake.tokenRequests('eu') };
    const result = await connect.exchangeCode(settings(), { code: callback.code!, redirectUri: REDIRECT, callback }, services, AbortSignal.timeout(5000));
    assert.deepEqual(result.settings, { dataCentre: 'eu' }, 'the account lives in eu, whatever was chosen');
    assert.match(result.secrets.refreshToken!, /^1000\.refresh-connected-/);
    assert.equal(fake.tokenRequests('com'), before.com, 'nothing sent to the data centre chosen before');
    assert.equal(fake.tokenRequests('eu'), before.eu + 1);
    const exchange = new URLSearchParams(fake.requests.filter((r) => r.role === 'accounts' && r.method === 'POST').at(-1)!.body);
    assert.deepEqual([...exchange.keys()].sort(), ['client_id', 'client_secret', 'code', 'grant_type', 'redirect_uri']);
    assert.equal(exchange.get('grant_type'), 'authorization_code');

    const connected = zohoDefinition.create(settings({ ...result.settings as Partial<ZohoSettings>, refreshToken: result.secrets.refreshToken! }), services);
    assert.deepEqual(await lookupByDeadline(connected, lookupRequest({ callerId: '+12025550101', fieldName: 'Last_Name', module: 'Contacts' })), { kind: 'value', value: 'Lovelace', matches: 1 });
    const report = await connected.testConnection({ username: '', password: '' }, AbortSignal.timeout(5000));
    assert.equal(report.ok, true, 'Connect asked for every scope the connector needs');
  });

  it('never sends the code or secret to a host that is not a Zoho Accounts server, or when Zoho names two data centres', async () => {
    const before = fake.requests.length;
    const callbacks: Array<Record<string, string>> = [
      { code: 'c', location: 'eu', 'accounts-server': 'https://accounts.zoho.eu.evil.example' },
      { code: 'c', location: 'us', 'accounts-server': 'https://accounts.zoho.eu' },
      { code: 'c', location: 'mars' },
    ];
    for (const callback of callbacks) {
      await assert.rejects(connect.exchangeCode(settings(), { code: 'c', redirectUri: REDIRECT, callback }, services, AbortSignal.timeout(5000)), (err: { code?: string; message?: string }) => {
        assert.equal(err.code, 'CONFIG');
        assert.match(String(err.message), /the code was not exchanged/);
        return true;
      });
    }
    assert.equal(fake.requests.length, before);
  });

  it('reports a used code and a redirect URL the client does not have as sign-in errors an administrator can act on', async () => {
    const callback = await consent(connect.authorizeUrl(settings(), { redirectUri: REDIRECT, state: 's' }, services));
    await connect.exchangeCode(settings(), { code: callback.code!, redirectUri: REDIRECT, callback }, services, AbortSignal.timeout(5000));
    await assert.rejects(connect.exchangeCode(settings(), { code: callback.code!, redirectUri: REDIRECT, callback }, services, AbortSignal.timeout(5000)), /Sign-in to Zoho Accounts \(com\) failed: the authorization code was refused .* Press Connect again/);
    const second = await consent(connect.authorizeUrl(settings(), { redirectUri: REDIRECT, state: 's' }, services));
    await assert.rejects(connect.exchangeCode(settings(), { code: second.code!, redirectUri: `${REDIRECT}x`, callback: second }, services, AbortSignal.timeout(5000)), /invalid_redirect_uri/);
    const wrongSecret = await consent(connect.authorizeUrl(settings(), { redirectUri: REDIRECT, state: 's' }, services));
    await assert.rejects(connect.exchangeCode(settings({ clientSecret: 'nope' }), { code: wrongSecret.code!, redirectUri: REDIRECT, callback: wrongSecret }, services, AbortSignal.timeout(5000)), /Client ID or Client Secret/);
  });

  it('says what must be filled before Connect can start', () => {
    assert.match(connect.requires({ dataCentre: 'eu', clientId: '', clientSecret: 'x' }) ?? '', /Client ID and Client Secret/);
    assert.match(connect.requires({ clientId: 'a', clientSecret: 'b' }) ?? '', /data centre/);
    assert.equal(connect.requires({ dataCentre: 'eu', clientId: 'a', clientSecret: 'b' }), undefined);
  });
});
