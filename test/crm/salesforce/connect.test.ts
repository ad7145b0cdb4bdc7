import assert from 'node:assert/strict';
import type { LookupRequest } from '../../../src/crm/connector';
import type { ConnectorServices } from '../../../src/crm/integration';
import { salesforceDefinition, type SalesforceSettings } from '../../../src/crm/salesforce';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { connectorServices, lookupByDeadline, lookupRequest, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';
import { pkcePair } from '../../support/fakes/authorization-codes';
import { SalesforceFake } from '../../support/fakes/salesforce-fake';

const REDIRECT = 'https://pbx.example.com/admin/crm/integration/salesforce/connect/callback';
const connect = salesforceDefinition.connect!;

describe('Salesforce sign-in: client credentials, Connect (web server flow with PKCE), legacy password', () => {
  let fake: SalesforceFake;
  let http: HttpClient;
  let services: ConnectorServices;

  before(async () => {
    fake = await SalesforceFake.start();
    http = testHttpClient();
    fake.records.Contact!.push({ Id: '003000000000001AAA', LastModifiedDate: '2024-05-01T10:00:00.000+0000', Name: 'Ada Lovelace', Phone: '(202) 555-0101' });
  });
  beforeEach(() => {
    services = connectorServices(http, new TokenCache());
    fake.clientCredentialsEnabled = true;
    fake.passwordFlowBlocked = false;
    fake.rotateRefreshTokens = false;
  });
  afterEach(() => assert.deepEqual(fake.violations.splice(0), []));
  after(async () => { await http.close(); await fake.close(); });

  const settings = (over: Record<string, unknown> = {}): SalesforceSettings =>
    salesforceDefinition.schema.parse({ region: 'US', loginUrl: fake.login.url, authFlow: 'client_credentials', clientId: fake.clientId, clientSecret: fake.clientSecret, ...over });
  const request = (over: Partial<LookupRequest> = {}) => lookupRequest({ callerId: '+12025550101', fieldName: 'Name', module: 'Contact' }, over);

  /** Connect as the browser does it: consent (approved at once), then the code exchanged with the verifier. */
  async function connectOnce(verifierFor = (v: string) => v): Promise<{ refreshToken: string; settings: Record<string, string> | undefined; account: string | undefined }> {
    const { verifier, challenge } = pkcePair();
    const url = connect.authorizeUrl(settings(), { redirectUri: REDIRECT, state: 'st', codeChallenge: challenge }, services);
    const res = await http.request({ method: 'GET', url, signal: AbortSignal.timeout(5000), returnRedirects: true });
    const back = new URL(res.headers.location!);
    assert.equal(back.searchParams.get('state'), 'st');
    const result = await connect.exchangeCode(settings(), { code: back.searchParams.get('code')!, redirectUri: REDIRECT, codeVerifier: verifierFor(verifier), callback: Object.fromEntries(back.searchParams) }, services, AbortSignal.timeout(5000));
    return { refreshToken: result.secrets.refreshToken!, settings: result.settings, account: result.account };
  }

  it('signs in with client credentials: client id and secret only, at the My Domain URL', async () => {
    assert.deepEqual(await lookupByDeadline(salesforceDefinition.create(settings(), services), request()), { kind: 'value', value: 'Ada Lovelace', matches: 1 });
    const login = fake.login.requests.at(-1)!;
    assert.equal(login.path, '/services/oauth2/token');
    assert.deepEqual(Object.fromEntries(new URLSearchParams(login.body)), { grant_type: 'client_credentials', client_id: fake.clientId, client_secret: fake.clientSecret });
  });

  it('names a disabled flow as a sign-in error with what to fix, for each flow', async () => {
    fake.clientCredentialsEnabled = false;
    const cc = await salesforceDefinition.create(settings(), services).testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
    assert.equal(!cc.ok && cc.code, 'AUTH');
    assert.match(!cc.ok ? cc.message : '', /^Salesforce sign-in failed \(invalid_grant: no client credentials user enabled\): enable the client credentials flow on the External Client App, choose its Run As user/);
    fake.passwordFlowBlocked = true;
    const legacy = salesforceDefinition.create(settings({ authFlow: 'password', username: 'router@acme.example', password: 'Passw0rd!', securityToken: 'TOKEN123' }), services);
    const pw = await legacy.testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
    assert.equal(!pw.ok && pw.code, 'AUTH');
    assert.match(!pw.ok ? pw.message : '', /Summer '23 block the username-password flow by default .*switch to client credentials/);
  });

  it('warns on a working legacy username-password sign-in', async () => {
    const legacy = salesforceDefinition.create(settings({ authFlow: 'password', username: 'router@acme.example', password: 'Passw0rd!', securityToken: 'TOKEN123' }), services);
    const report = await legacy.testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.match(report.message, /with the legacy username and password .* Warning: Salesforce is retiring the username-password flow \(help article 000886201\)/);
  });

  it('sends the administrator to the My Domain consent page with PKCE and the api and refresh_token scopes', () => {
    const url = new URL(connect.authorizeUrl(settings({ loginUrl: 'https://acme.my.salesforce.com' }), { redirectUri: REDIRECT, state: 'st-9', codeChallenge: 'ch4llenge' }, services));
    assert.equal(`${url.origin}${url.pathname}`, 'https://acme.my.salesforce.com/services/oauth2/authorize');
    assert.deepEqual(Object.fromEntries(url.searchParams), { response_type: 'code', client_id: fake.clientId, redirect_uri: REDIRECT, scope: 'api refresh_token', state: 'st-9', code_challenge: 'ch4llenge', code_challenge_method: 'S256' });
    assert.match(url.search, /scope=api%20refresh_token/, 'a space as %20');
    assert.equal(connect.pkce, true);
    assert.match(connect.requires({ clientId: 'a', clientSecret: 'b', loginUrl: 'https://login.salesforce.com' }) ?? '', /My Domain URL/);
    assert.match(connect.requires({ loginUrl: 'https://acme.my.salesforce.com' }) ?? '', /Consumer Key and Consumer Secret/);
    assert.equal(connect.requires({ clientId: 'a', clientSecret: 'b', loginUrl: 'https://acme.my.salesforce.com' }), undefined);
  });

  it('exchanges the code with its PKCE verifier, then lookups sign in with the refresh token', async () => {
    const connected = await connectOnce();
    assert.deepEqual(connected.settings, { authFlow: 'refresh_token' });
    assert.equal(connected.account, new URL(fake.instance.url).host);
    const exchange = new URLSearchParams(fake.login.requests.at(-1)!.body);
    assert.deepEqual([...exchange.keys()].sort(), ['client_id', 'client_secret', 'code', 'code_verifier', 'grant_type', 'redirect_uri']);
    const sf = salesforceDefinition.create(settings({ ...connected.settings, refreshToken: connected.refreshToken }), services);
    assert.deepEqual(await lookupByDeadline(sf, request()), { kind: 'value', value: 'Ada Lovelace', matches: 1 });
    assert.deepEqual(Object.fromEntries(new URLSearchParams(fake.login.requests.at(-1)!.body)), { grant_type: 'refresh_token', client_id: fake.clientId, client_secret: fake.clientSecret, refresh_token: connected.refreshToken });
  });

  it('refuses a code exchanged with the wrong verifier, and says to Connect again', async () => {
    await assert.rejects(connectOnce((v) => `${v}x`), (err: { code?: string; message?: string }) => {
      assert.equal(err.code, 'AUTH');
      assert.match(String(err.message), /^Salesforce sign-in failed \(invalid_grant: code_verifier does not match the code_challenge\): the authorization code was refused .*press Connect again/);
      return true;
    });
  });

  it('keeps using the newest refresh token when the app rotates them, and asks to Connect when none works', async () => {
    fake.rotateRefreshTokens = true;
    const { refreshToken } = await connectOnce();
    const sf = salesforceDefinition.create(settings({ authFlow: 'refresh_token', refreshToken }), services);
    const before = fake.login.requests.length;
    assert.equal((await lookupByDeadline(sf, request())).kind, 'value');
    fake.expireSessions();
    assert.equal((await lookupByDeadline(sf, request())).kind, 'value', 'signed in again with the rotated refresh token');
    const used = fake.login.requests.slice(before).filter((r) => new URLSearchParams(r.body).get('grant_type') === 'refresh_token').map((r) => new URLSearchParams(r.body).get('refresh_token'));
    assert.equal(used.length, 2);
    assert.notEqual(used[1], used[0]);
    const stale = await salesforceDefinition.create(settings({ authFlow: 'refresh_token', refreshToken }), connectorServices(http, new TokenCache())).testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
    assert.equal(!stale.ok && stale.code, 'AUTH');
    assert.match(!stale.ok ? stale.message : '', /refresh token was revoked, expired or rotated .*press Connect again/);
    const none = await salesforceDefinition.create(settings({ authFlow: 'refresh_token' }), services).testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
    assert.equal(!none.ok && none.code, 'CONFIG');
    assert.match(!none.ok ? none.message : '', /not connected yet: press Connect/);
  });
});
