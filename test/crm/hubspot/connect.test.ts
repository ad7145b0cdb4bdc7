import assert from 'node:assert/strict';
import { HUBSPOT_API_VERSION, hubspotDefinition, type HubSpotSettings } from '../../../src/crm/hubspot';
import type { ConnectorServices } from '../../../src/crm/integration';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { connectorServices, lookupByDeadline, lookupRequest, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';
import { HubSpotFake } from '../../support/fakes/hubspot-fake';

const REDIRECT = 'https://pbx.example.com/admin/crm/integration/hubspot/connect/callback';
const connect = hubspotDefinition.connect!;

describe('HubSpot Connect (OAuth app) and sign-in help', () => {
  let fake: HubSpotFake;
  let http: HttpClient;
  let services: ConnectorServices;

  before(async () => {
    fake = await HubSpotFake.start();
    http = testHttpClient();
    fake.records.contacts!.push({ id: '101', updatedAt: '2024-05-01T10:00:00.000Z', properties: { firstname: 'Ada', phone: '(202) 555-0101', hs_searchable_calculated_phone_number: '2025550101' } });
  });
  beforeEach(() => { services = { ...connectorServices(http, new TokenCache()), resolveOrigin: fake.resolveOrigin }; });
  afterEach(() => assert.deepEqual(fake.violations.splice(0), []));
  after(async () => { await http.close(); await fake.close(); });

  const settings = (over: Record<string, unknown> = {}): HubSpotSettings =>
    hubspotDefinition.schema.parse({ region: 'US', baseUrl: fake.url, authMode: 'oauth', clientId: fake.clientId, clientSecret: fake.clientSecret, ...over });

  async function consent(): Promise<URL> {
    const res = await http.request({ method: 'GET', url: connect.authorizeUrl(settings(), { redirectUri: REDIRECT, state: 'st' }, services), signal: AbortSignal.timeout(5000), returnRedirects: true });
    assert.equal(res.status, 302);
    return new URL(res.headers.location!);
  }

  it('sends the administrator to HubSpot\'s consent page with the app\'s read scopes, without PKCE', () => {
    const url = new URL(connect.authorizeUrl(settings(), { redirectUri: REDIRECT, state: 'st-1' }, connectorServices(http)));
    assert.equal(`${url.origin}${url.pathname}`, 'https://app.hubspot.com/oauth/authorize');
    assert.deepEqual(Object.fromEntries(url.searchParams), { client_id: fake.clientId, redirect_uri: REDIRECT, scope: 'crm.objects.contacts.read crm.objects.companies.read crm.objects.owners.read crm.objects.contacts.write', state: 'st-1' });
    assert.match(url.search, /scope=crm\.objects\.contacts\.read%20crm\.objects\.companies\.read/, 'a space as %20, as HubSpot\'s SDK writes it');
    assert.equal(connect.pkce, false);
    assert.match(connect.requires({ clientId: 'a' }) ?? '', /Client ID and Client secret/);
    assert.equal(connect.requires({ clientId: 'a', clientSecret: 'b' }), undefined);
  });

  it('exchanges the code at the dated token endpoint, then lookups refresh with the stored refresh token', async () => {
    const back = await consent();
    assert.equal(back.searchParams.get('state'), 'st');
    const result = await connect.exchangeCode(settings(), { code: back.searchParams.get('code')!, redirectUri: REDIRECT, callback: Object.fromEntries(back.searchParams) }, services, AbortSignal.timeout(5000));
    assert.deepEqual(result.settings, { authMode: 'oauth' });
    assert.match(result.account ?? '', /^HubSpot account \d+$/);
    const exchange = fake.requests.at(-1)!;
    assert.equal(exchange.path, `/oauth/${HUBSPOT_API_VERSION}/token`);
    assert.deepEqual([...new URLSearchParams(exchange.body).keys()].sort(), ['client_id', 'client_secret', 'code', 'grant_type', 'redirect_uri']);
    const hs = hubspotDefinition.create(settings({ refreshToken: result.secrets.refreshToken }), services);
    assert.deepEqual(await lookupByDeadline(hs, lookupRequest({ callerId: '+12025550101', fieldName: 'firstname', module: 'contacts' })), { kind: 'value', value: 'Ada', matches: 1 });
    await assert.rejects(
      connect.exchangeCode(settings(), { code: back.searchParams.get('code')!, redirectUri: REDIRECT, callback: {} }, services, AbortSignal.timeout(5000)),
      /^CrmError: Sign-in to HubSpot failed \(invalid_grant: unknown or already used code\): the authorization code was refused .*press Connect again\.$/,
    );
  });

  it('asks to press Connect when an OAuth app has no refresh token yet', async () => {
    const report = await hubspotDefinition.create(settings(), services).testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
    assert.equal(!report.ok && report.code, 'CONFIG');
    assert.match(!report.ok ? report.message : '', /not connected yet: press Connect/);
  });

  it('speaks of service keys and OAuth apps, not of creating private apps', () => {
    const texts = [hubspotDefinition.credentialsHelp, ...hubspotDefinition.fields.flatMap((f) => [f.label, f.help, ...(f.options ?? []).map((o) => o.label)])].join('\n');
    assert.match(texts, /service key/i);
    assert.match(texts, /Development > Keys > Service keys/);
    assert.doesNotMatch(texts, /Settings > Integrations > Private apps|Private app access token/i);
    assert.match(hubspotDefinition.fields.find((f) => f.name === 'accessToken')!.help, /crm\.objects\.contacts\.read, crm\.objects\.companies\.read, crm\.objects\.owners\.read and crm\.objects\.contacts\.write/);
  });
});
