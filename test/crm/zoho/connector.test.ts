import assert from 'node:assert/strict';
import type { LookupRequest, LookupResult } from '../../../src/crm/connector';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import type { IntegrationConnector } from '../../../src/crm/integration';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { ZOHO_DATA_CENTRES, zohoDefinition, type ZohoServices, type ZohoSettings } from '../../../src/crm/zoho';
import { assertNoRequestForUnknownCallers, connectorServices, lookupRequest, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';
import { ZohoFake } from '../../support/fakes/zoho-fake';

const DCS = ['com', 'eu', 'in'] as const;

describe('Zoho CRM connector', () => {
  let fake: ZohoFake;
  let http: HttpClient;
  let tokens: TokenCache;

  before(async () => {
    fake = await ZohoFake.start(Object.fromEntries(DCS.map((dc) => [dc, { accounts: ZOHO_DATA_CENTRES[dc].accounts, api: `https://www.zohoapis.${dc}` }])));
    http = testHttpClient();
    for (const dc of DCS) {
      fake.add(dc, 'Contacts', { id: '4150868000000224005', Modified_Time: '2024-03-01T10:00:00+01:00', Last_Name: `Smith-${dc}`, Phone: '+1 (202) 555-0101', Account_Name: { name: `Acme ${dc}`, id: '4150868000000224001' } });
    }
    fake.add('eu', 'Contacts', { id: '4150868000000300001', Modified_Time: '2024-01-01T00:00:00Z', Last_Name: 'Older', Mobile: '202-555-0199', Account_Name: { name: 'Older Ltd', id: '1' } });
    fake.add('eu', 'Contacts', { id: '4150868000000300002', Modified_Time: '2024-06-01T00:00:00Z', Last_Name: 'Newer', Home_Phone: '+12025550199', Account_Name: { name: 'Newer Ltd', id: '2' } });
    fake.add('eu', 'Contacts', { id: '4150868000000300003', Modified_Time: '2024-06-01T00:00:00Z', Last_Name: 'Same time, higher id', Other_Phone: '2025550199', Account_Name: null });
    // A longer number that merely contains the caller's digits: Zoho returns it, the re-check drops it.
    fake.add('eu', 'Contacts', { id: '4150868000000400001', Modified_Time: '2025-01-01T00:00:00Z', Last_Name: 'Impostor', Phone: '+91 2025550177 42', Account_Name: { name: 'Wrong', id: '9' } });
    fake.add('eu', 'Vendors_X', { id: '4150868000000500001', Modified_Time: '2024-01-01T00:00:00Z', Name: 'Parts Inc', Hotline: '+1 202 555 0123' });
  });
  beforeEach(() => { tokens = new TokenCache(); });
  afterEach(() => assert.deepEqual(fake.violations.splice(0), []));
  after(async () => { await http.close(); await fake.close(); });

  function connector(dc: (typeof DCS)[number], overrides: Partial<ZohoSettings> = {}): IntegrationConnector {
    const settings = zohoDefinition.schema.parse({ region: 'US', dataCentre: dc, clientId: fake.clientId, clientSecret: fake.clientSecret, refreshToken: `1000.refresh-${dc}`, ...overrides });
    const services: ZohoServices = { ...connectorServices(http, tokens), resolveOrigin: fake.resolveOrigin };
    return zohoDefinition.create(settings, services);
  }

  const request = (callerId: string, over: Partial<LookupRequest> = {}) => lookupRequest({ callerId, fieldName: 'Account_Name', module: 'Contacts' }, over);

  const lookup = (c: IntegrationConnector, req: LookupRequest, signal = AbortSignal.timeout(Math.max(1, req.deadlineAt - Date.now()))): Promise<LookupResult> => c.lookup(req, signal);

  it('reads a lookup field by name, from the data centre the integration is in (com, eu, in)', async () => {
    for (const dc of DCS) {
      const before = fake.apiRequests(dc).length;
      assert.deepEqual(await lookup(connector(dc), request('+12025550101')), { kind: 'value', value: `Acme ${dc}`, matches: 1 });
      assert.equal(fake.tokenRequests(dc), 1, `one refresh at accounts.zoho.${dc}`);
      assert.equal(fake.apiRequests(dc).length, before + 1, `the search went to www.zohoapis.${dc}`);
    }
    const search = fake.apiRequests('in').at(-1)!;
    assert.equal(search.path, '/crm/v8/Contacts/search');
    assert.equal(search.query.get('phone'), '2025550101');
    assert.equal(search.query.get('fields'), 'Account_Name,Phone,Mobile,Home_Phone,Other_Phone,Asst_Phone,Modified_Time,id');
    assert.equal(search.query.get('per_page'), '200', 'a full page: the newest record is picked among every match');
    assert.match(String(search.headers.authorization), /^Zoho-oauthtoken 1000\.access-in-\d+$/);
  });

  it('sends the refresh as a form body and never the secret in a URL', async () => {
    await lookup(connector('eu'), request('+12025550101'));
    const refresh = fake.requests.filter((r) => r.role === 'accounts').at(-1)!;
    const form = new URLSearchParams(refresh.body);
    assert.equal(form.get('client_secret'), fake.clientSecret);
    assert.equal(form.get('refresh_token'), '1000.refresh-eu');
    assert.ok(fake.requests.every((r) => ![...r.query.values()].some((v) => v.includes(fake.clientSecret))));
  });

  it('reads a plain text field', async () => {
    assert.deepEqual(await lookup(connector('com'), request('(202) 555-0101', { fieldName: 'Last_Name' })), { kind: 'value', value: 'Smith-com', matches: 1 });
  });

  it('answers not_found on 204 No Content', async () => {
    assert.deepEqual(await lookup(connector('eu'), request('+12025550000')), { kind: 'not_found' });
  });

  it('answers not_found for an empty or unknown caller ID without any request', async () => {
    await assertNoRequestForUnknownCallers((over) => lookup(connector('eu'), request('', over)), () => fake.requests.length, ['', 'anonymous', 'unknown']);
  });

  it('picks the most recently modified of several matches, then the lowest id', async () => {
    assert.deepEqual(await lookup(connector('eu'), request('+12025550199', { fieldName: 'Last_Name' })), { kind: 'value', value: 'Newer', matches: 3 });
  });

  it('drops a number that only contains the caller digits (re-check)', async () => {
    const result = await lookup(connector('eu'), request('2025550177', { fieldName: 'Last_Name' }));
    assert.deepEqual(result, { kind: 'not_found' });
    assert.equal(fake.apiRequests('eu').at(-1)!.query.get('phone'), '2025550177');
  });

  it('finds the phone fields of a custom module from field metadata, once', async () => {
    const zoho = connector('eu');
    for (let i = 0; i < 3; i += 1) assert.deepEqual(await lookup(zoho, request('+12025550123', { module: 'Vendors_X', fieldName: 'Name' })), { kind: 'value', value: 'Parts Inc', matches: 1 });
    assert.equal(fake.apiRequests('eu').filter((r) => r.path === '/crm/v8/settings/fields').length, 1);
  });

  it('refreshes once when the token expired (401 INVALID_TOKEN), then succeeds', async () => {
    const zoho = connector('eu');
    await lookup(zoho, request('+12025550101'));
    fake.expireAccessTokens();
    const refreshes = fake.tokenRequests('eu');
    assert.deepEqual(await lookup(zoho, request('+12025550101')), { kind: 'value', value: 'Acme eu', matches: 1 });
    assert.equal(fake.tokenRequests('eu'), refreshes + 1);
  });

  it('gives AUTH after a second 401, with exactly one refresh in between', async () => {
    const zoho = connector('eu');
    await lookup(zoho, request('+12025550101'));
    const invalid = { status: 401, body: { code: 'INVALID_TOKEN', details: {}, message: 'invalid oauth token', status: 'error' } };
    fake.script((r) => r.role === 'api', invalid);
    fake.script((r) => r.role === 'api', invalid);
    const refreshes = fake.tokenRequests('eu');
    const result = await lookup(zoho, request('+12025550101'));
    assert.equal(result.kind === 'error' && result.code, 'AUTH');
    assert.equal(fake.tokenRequests('eu'), refreshes + 1);
  });

  it('reuses one token: 20 lookups -> 1 token request', async () => {
    const zoho = connector('eu');
    const before = fake.tokenRequests('eu');
    const results = await Promise.all(Array.from({ length: 20 }, () => lookup(zoho, request('+12025550101'))));
    assert.ok(results.every((r) => r.kind === 'value'));
    for (let i = 0; i < 20; i += 1) await lookup(zoho, request('+12025550101'));
    assert.equal(fake.tokenRequests('eu'), before + 1);
  });

  it('uses the rule\'s CRM Password as the refresh token, under its own cache key', async () => {
    const zoho = connector('eu', { refreshToken: '' });
    fake.grantRefreshToken('1000.rule-token', 'eu');
    assert.deepEqual(await lookup(zoho, request('+12025550101', { credentials: { username: '', password: '1000.rule-token' } })), { kind: 'value', value: 'Acme eu', matches: 1 });
    const refresh = fake.requests.filter((r) => r.role === 'accounts').at(-1)!;
    assert.equal(new URLSearchParams(refresh.body).get('refresh_token'), '1000.rule-token');
    const missing = await lookup(zoho, request('+12025550101'));
    assert.equal(missing.kind === 'error' && missing.code, 'CONFIG');
  });

  it('waits out a 429 whose Retry-After fits before the deadline', async () => {
    const zoho = connector('eu');
    fake.script((r) => r.role === 'api', { status: 429, headers: { 'retry-after': '1' }, body: { code: 'TOO_MANY_REQUESTS', status: 'error', message: 'too many requests' } });
    const started = Date.now();
    assert.deepEqual(await lookup(zoho, request('+12025550101')), { kind: 'value', value: 'Acme eu', matches: 1 });
    assert.ok(Date.now() - started >= 1000);
  });

  it('gives RATE_LIMITED at once when Retry-After does not fit before the deadline', async () => {
    const zoho = connector('eu');
    fake.script((r) => r.role === 'api', { status: 429, headers: { 'retry-after': '30' }, body: { code: 'TOO_MANY_REQUESTS', status: 'error', message: 'too many requests' } });
    const started = Date.now();
    const result = await lookup(zoho, request('+12025550101'));
    assert.equal(result.kind === 'error' && result.code, 'RATE_LIMITED');
    assert.equal(result.kind === 'error' && result.retryAfterMs, 30_000);
    assert.ok(Date.now() - started < 1000);
  });

  it('maps a 5xx to HTTP_ERROR', async () => {
    fake.script((r) => r.role === 'api', { status: 503, body: 'Service Unavailable' });
    const result = await lookup(connector('eu'), request('+12025550101'));
    assert.equal(result.kind === 'error' && result.code, 'HTTP_ERROR');
  });

  it('gives TIMEOUT within the deadline when Zoho is slow', async () => {
    const zoho = connector('eu');
    await lookup(zoho, request('+12025550101'));
    fake.script((r) => r.role === 'api', { delayMs: 2000, status: 204 });
    const started = Date.now();
    const result = await lookup(zoho, request('+12025550101', { deadlineAt: Date.now() + 300 }));
    assert.equal(result.kind === 'error' && result.code, 'TIMEOUT');
    assert.ok(Date.now() - started < 600, `ended after ${Date.now() - started} ms`);
  });

  it('sends only digits when the caller ID carries criteria syntax, and refuses odd field names', async () => {
    await lookup(connector('eu'), request('+1 202 555 0101),(Last_Name:equals:x'));
    assert.equal(fake.apiRequests('eu').at(-1)!.query.get('phone'), '2025550101');
    const before = fake.requests.length;
    const bad = await lookup(connector('eu'), request('+12025550101', { fieldName: 'Last_Name),(Email' }));
    assert.equal(bad.kind === 'error' && bad.code, 'CONFIG');
    assert.equal(fake.requests.length, before);
  });

  it('reports a token without the search scope as FORBIDDEN naming ZohoSearch.securesearch.READ, as Zoho answers it', async () => {
    fake.grantRefreshToken('1000.no-search', 'eu', ['ZohoCRM.modules.READ', 'ZohoCRM.settings.fields.READ', 'ZohoCRM.settings.modules.READ']);
    const result = await lookup(connector('eu', { refreshToken: '1000.no-search' }), request('+12025550101'));
    assert.equal(result.kind === 'error' && result.code, 'FORBIDDEN');
    const message = result.kind === 'error' ? result.message : '';
    assert.match(message, /OAUTH_SCOPE_MISMATCH/);
    assert.match(message, /ZohoSearch\.securesearch\.READ/);
    assert.match(message, /ZohoCRM\.modules\.READ \(or ZohoCRM\.modules\.contacts\.READ\)/);
    assert.match(message, /ZohoCRM\.modules\.READ,ZohoSearch\.securesearch\.READ,ZohoCRM\.settings\.fields\.READ,ZohoCRM\.settings\.modules\.READ/, 'the whole set to generate');
  });

  it('names the scope when Zoho\'s answer names it, and maps an unknown module to NOT_FOUND_URL', async () => {
    const zoho = connector('eu');
    fake.script((r) => r.role === 'api', { status: 401, body: { code: 'OAUTH_SCOPE_MISMATCH', details: { scope: 'ZohoSearch.securesearch.READ' }, message: 'invalid oauth scope to access this URL', status: 'error' } });
    const scope = await lookup(zoho, request('+12025550101'));
    assert.equal(scope.kind === 'error' && scope.code, 'FORBIDDEN');
    assert.match(scope.kind === 'error' ? scope.message : '', /the refresh token lacks ZohoSearch\.securesearch\.READ\./);
    const module = await lookup(zoho, request('+12025550101', { module: 'Nope' }));
    assert.equal(module.kind === 'error' && module.code, 'NOT_FOUND_URL');
  });

  it('tells a profile without permission (NO_PERMISSION) from a token without scope', async () => {
    fake.script((r) => r.role === 'api', { status: 403, body: { code: 'NO_PERMISSION', details: { permissions: ['Crm_Implied_View_Contacts'] }, message: 'permission denied', status: 'error' } });
    const result = await lookup(connector('eu'), request('+12025550101'));
    assert.equal(result.kind === 'error' && result.code, 'FORBIDDEN');
    assert.match(result.kind === 'error' ? result.message : '', /Zoho user who granted the token may not read/);
    assert.doesNotMatch(result.kind === 'error' ? result.message : '', /scope/);
  });

  it('picks the newest of more than 10 records sharing a number, whatever order Zoho returns them in', async () => {
    for (let i = 0; i < 12; i += 1) {
      fake.add('in', 'Contacts', { id: `41508680000007${String(i).padStart(5, '0')}`, Modified_Time: `2024-02-${String(i + 1).padStart(2, '0')}T09:00:00+05:30`, Last_Name: `Shared ${i}`, Phone: '+1 202 555 0188' });
    }
    assert.deepEqual(await lookup(connector('in'), request('+12025550188', { fieldName: 'Last_Name' })), { kind: 'value', value: 'Shared 11', matches: 12 });
  });

  describe('testConnection', () => {
    it('reports ok after a real refresh and a sample search', async () => {
      const zoho = connector('in');
      await lookup(zoho, request('+12025550101'));
      const before = fake.tokenRequests('in');
      const report = await zoho.testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
      assert.equal(report.ok, true, JSON.stringify(report));
      assert.match(report.message, /ZohoCRM\.modules\.READ, ZohoSearch\.securesearch\.READ, ZohoCRM\.settings\.fields\.READ, ZohoCRM\.settings\.modules\.READ/);
      assert.equal(fake.tokenRequests('in'), before + 1, 'the cached token was not trusted');
    });

    it('reports AUTH for a wrong client secret or a refresh token of another data centre', async () => {
      const wrongSecret = await connector('eu', { clientSecret: 'nope' }).testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
      assert.equal(!wrongSecret.ok && wrongSecret.code, 'AUTH');
      assert.match(!wrongSecret.ok ? wrongSecret.message : '', /^Sign-in to Zoho Accounts \(eu\) failed: .*Client ID or Client Secret/);
      assert.doesNotMatch(!wrongSecret.ok ? wrongSecret.message : '', /nope/);
      const otherDc = await connector('eu', { refreshToken: '1000.refresh-com' }).testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
      assert.equal(!otherDc.ok && otherDc.code, 'AUTH');
      assert.match(!otherDc.ok ? otherDc.message : '', /invalid_code/);
    });

    it('reports each missing scope by name: the search scope, then field and module metadata', async () => {
      const cases: Array<[string[], RegExp]> = [
        [['ZohoCRM.modules.READ', 'ZohoCRM.settings.fields.READ', 'ZohoCRM.settings.modules.READ'], /ZohoSearch\.securesearch\.READ/],
        [['ZohoCRM.modules.READ', 'ZohoSearch.securesearch.READ', 'ZohoCRM.settings.modules.READ'], /lacks a scope this request needs: ZohoCRM\.settings\.fields\.READ\./],
        [['ZohoCRM.modules.READ', 'ZohoSearch.securesearch.READ', 'ZohoCRM.settings.fields.READ'], /lacks a scope this request needs: ZohoCRM\.settings\.modules\.READ\./],
      ];
      for (const [scopes, names] of cases) {
        fake.grantRefreshToken('1000.partial', 'eu', scopes);
        const report = await connector('eu', { refreshToken: '1000.partial' }).testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
        assert.equal(!report.ok && report.code, 'FORBIDDEN', JSON.stringify(report));
        assert.match(!report.ok ? report.message : '', names);
      }
    });

    it('reports RATE_LIMITED with when, TIMEOUT when Zoho is silent', async () => {
      const zoho = connector('eu');
      fake.script((r) => r.role === 'api', { status: 429, headers: { 'retry-after': '120' }, body: { code: 'TOO_MANY_REQUESTS', status: 'error', message: 'x' } });
      const limited = await zoho.testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
      assert.equal(!limited.ok && limited.code, 'RATE_LIMITED');
      assert.equal(!limited.ok && limited.retryAfterMs, 120_000);
      assert.match(!limited.ok ? limited.message : '', /120 s/);
      fake.script((r) => r.role === 'accounts', { delayMs: 1000, body: {} });
      const silent = await zoho.testConnection(NO_CREDENTIALS, AbortSignal.timeout(300));
      assert.equal(!silent.ok && silent.code, 'TIMEOUT');
    });

    it('reports DNS when the data centre host does not resolve', async () => {
      const services: ZohoServices = { ...connectorServices(http, tokens), resolveOrigin: () => 'https://accounts.zoho.invalid' };
      const settings = zohoDefinition.schema.parse({ region: 'US', dataCentre: 'eu', clientId: 'x', clientSecret: 'y', refreshToken: 'z' });
      const report = await zohoDefinition.create(settings, services).testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
      assert.equal(!report.ok && report.code, 'DNS');
    });
  });

  it('offers only modules the lookup accepts: searchable, with a phone field', async () => {
    const zoho = connector('com');
    const before = fake.apiRequests('com').length;
    assert.deepEqual(await zoho.listModules(NO_CREDENTIALS, AbortSignal.timeout(5000)), ['Contacts', 'Leads', 'Accounts', 'Vendors_X'], 'not Deals (no phone), Home (no API), a linking module');
    const probed = fake.apiRequests('com').slice(before).filter((r) => r.path === '/crm/v8/settings/fields').map((r) => r.query.get('module'));
    assert.deepEqual(probed.sort(), ['Deals', 'Vendors_X'], 'field metadata read only for modules without a built-in phone list');
    const fields = await zoho.listFields('Contacts', NO_CREDENTIALS, AbortSignal.timeout(5000));
    assert.deepEqual(fields.find((f) => f.name === 'Account_Name'), { name: 'Account_Name', label: 'Account Name', type: 'lookup' });
    assert.equal(fake.apiRequests('com').at(-1)!.query.get('module'), 'Contacts');
    await assert.rejects(zoho.listFields('Deals', NO_CREDENTIALS, AbortSignal.timeout(5000)), /Zoho CRM module Deals has no phone field: a rule cannot find callers in it/);
  });

  it('names the exact scopes in the help of the refresh token, the client, the rule password', () => {
    const help = zohoDefinition.fields.find((f) => f.name === 'refreshToken')!.help;
    for (const scope of ['ZohoCRM.modules.READ', 'ZohoSearch.securesearch.READ', 'ZohoCRM.settings.fields.READ', 'ZohoCRM.settings.modules.READ']) {
      assert.ok(help.includes(scope), scope);
      assert.ok(zohoDefinition.credentialsHelp.includes(scope), scope);
    }
  });

  it('validates settings with messages a person can act on', () => {
    const bad = zohoDefinition.schema.safeParse({ region: 'US', dataCentre: 'mars', clientId: '', clientSecret: '' });
    assert.equal(bad.success, false);
    const messages = bad.error!.issues.map((i) => i.message).join(' | ');
    assert.match(messages, /data centre/);
    assert.match(messages, /Client ID/);
    for (const field of zohoDefinition.fields) assert.ok(field.help.length > 10, field.name);
  });
});
