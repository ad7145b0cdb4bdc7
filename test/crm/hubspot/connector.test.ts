import assert from 'node:assert/strict';
import type { LookupRequest } from '../../../src/crm/connector';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { HUBSPOT_API_VERSION, hubspotDefinition, hubspotPaths, phoneFilterGroups, type HubSpotSettings } from '../../../src/crm/hubspot';
import type { IntegrationConnector } from '../../../src/crm/integration';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { phoneVariants } from '../../../src/domain/phone';
import { assertNoRequestForUnknownCallers, connectorServices, lookupByDeadline, lookupRequest, NO_CREDENTIALS, testHttpClient, withUntrustedServer } from '../../support/connector-harness';
import { FakeHttpsServer } from '../../support/fake-https';
import { HubSpotFake } from '../../support/fakes/hubspot-fake';


describe('HubSpot connector', () => {
  let fake: HubSpotFake;
  let http: HttpClient;
  let tokens: TokenCache;
  let clock: number | undefined;

  before(async () => {
    fake = await HubSpotFake.start();
    http = testHttpClient();
    fake.records.contacts!.push(
      { id: '101', updatedAt: '2024-05-01T10:00:00.000Z', properties: { firstname: 'Ada', lifecyclestage: 'customer', phone: '(202) 555-0101', mobilephone: null, hs_searchable_calculated_phone_number: '2025550101' } },
      { id: '102', updatedAt: '2024-01-01T00:00:00.000Z', properties: { firstname: 'Old', phone: '+12025550199', hs_searchable_calculated_phone_number: '2025550199' } },
      { id: '104', updatedAt: '2024-06-01T00:00:00.000Z', properties: { firstname: 'Newer', mobilephone: '202.555.0199', hs_searchable_calculated_mobile_number: '2025550199' } },
      { id: '103', updatedAt: '2024-06-01T00:00:00.000Z', properties: { firstname: 'Newer, lower id', mobilephone: '+1 202 555 0199', hs_searchable_calculated_mobile_number: '2025550199' } },
      // The search index lags writes: the number changed, the computed copy has not caught up yet.
      { id: '105', updatedAt: '2024-07-01T00:00:00.000Z', properties: { firstname: 'Moved', phone: '+1 303 555 0100', hs_searchable_calculated_phone_number: '2025550177' } },
      { id: '106', updatedAt: '2024-02-01T00:00:00.000Z', properties: { firstname: 'E164 only', phone: '+12025550155' } },
    );
    fake.records.companies!.push({ id: '900', updatedAt: '2024-01-01T00:00:00.000Z', properties: { name: 'Acme', phone: '(202) 555-0101', hs_lastmodifieddate: '2024-01-01T00:00:00.000Z' } });
  });
  beforeEach(() => {
    clock = undefined;
    tokens = new TokenCache({ now: () => clock ?? Date.now() });
    fake.expiresIn = 1800;
  });
  afterEach(() => assert.deepEqual(fake.violations.splice(0), []));
  after(async () => { await http.close(); await fake.close(); });

  function connector(overrides: Record<string, unknown> = {}): IntegrationConnector {
    const settings: HubSpotSettings = hubspotDefinition.schema.parse({ region: 'US', baseUrl: fake.url, accessToken: 'pat-na1-good', ...overrides });
    return hubspotDefinition.create(settings, connectorServices(http, tokens));
  }
  const oauth = () => connector({ authMode: 'oauth', accessToken: '', clientId: fake.clientId, clientSecret: fake.clientSecret, refreshToken: fake.refreshToken });

  const request = (callerId: string, over: Partial<LookupRequest> = {}) => lookupRequest({ callerId, fieldName: 'lifecyclestage', module: 'contacts' }, over);
  const lookup = lookupByDeadline;

  it('finds a contact by its computed national digits and reads the property', async () => {
    assert.deepEqual(await lookup(connector(), request('+1 202-555-0101')), { kind: 'value', value: 'customer', matches: 1 });
    const search = fake.searches().at(-1)!;
    assert.equal(search.path, `/crm/objects/${HUBSPOT_API_VERSION}/contacts/search`);
    assert.equal(search.headers.authorization, 'Bearer pat-na1-good');
    assert.deepEqual(JSON.parse(search.body), {
      filterGroups: [
        { filters: [{ propertyName: 'hs_searchable_calculated_phone_number', operator: 'EQ', value: '2025550101' }] },
        { filters: [{ propertyName: 'hs_searchable_calculated_mobile_number', operator: 'EQ', value: '2025550101' }] },
        { filters: [{ propertyName: 'phone', operator: 'EQ', value: '+12025550101' }] },
        { filters: [{ propertyName: 'mobilephone', operator: 'EQ', value: '+12025550101' }] },
      ],
      sorts: [{ propertyName: 'lastmodifieddate', direction: 'DESCENDING' }],
      properties: ['lifecyclestage', 'phone', 'mobilephone', 'lastmodifieddate'],
      limit: 10,
    });
  });

  it('finds a contact stored only as E.164 through the phone EQ group', async () => {
    assert.deepEqual(await lookup(connector(), request('2025550155', { fieldName: 'firstname' })), { kind: 'value', value: 'E164 only', matches: 1 });
  });

  it('answers an empty property as the empty value', async () => {
    assert.deepEqual(await lookup(connector(), request('2025550101', { fieldName: 'mobilephone' })), { kind: 'value', value: '', matches: 1 });
  });

  it('searches companies on phone IN the written forms of the number', async () => {
    assert.deepEqual(await lookup(connector(), request('2025550101', { module: 'Companies', fieldName: 'name' })), { kind: 'value', value: 'Acme', matches: 1 });
    const body = JSON.parse(fake.searches().at(-1)!.body) as { filterGroups: Array<{ filters: Array<{ values: string[] }> }>; properties: string[]; sorts: unknown };
    assert.equal(fake.searches().at(-1)!.path, hubspotPaths.search('companies'));
    assert.deepEqual(body.sorts, [{ propertyName: 'hs_lastmodifieddate', direction: 'DESCENDING' }]);
    assert.ok(body.filterGroups[0]!.filters[0]!.values.includes('(202) 555-0101'));
    assert.deepEqual(body.properties, ['name', 'phone', 'hs_lastmodifieddate']);
  });

  it('stays inside the 5 groups / 25 filters limits and sends only phone characters', () => {
    for (const id of ['+12025550101', '+442071234567', '0049301234567', '12345']) {
      for (const type of ['contacts', 'companies', 'p_custom']) {
        const groups = phoneFilterGroups(type, phoneVariants(id, 'US'));
        assert.ok(groups.length <= 5);
        assert.ok(groups.flatMap((g) => g.filters).length <= 25);
      }
    }
  });

  it('answers not_found for no result, and for an empty caller ID without a request', async () => {
    assert.deepEqual(await lookup(connector(), request('+12025550000')), { kind: 'not_found' });
    await assertNoRequestForUnknownCallers((over) => lookup(connector(), request('', over)), () => fake.requests.length, ['']);
  });

  it('picks the most recently updated of several matches, then the lowest id', async () => {
    assert.deepEqual(await lookup(connector(), request('2025550199', { fieldName: 'firstname' })), { kind: 'value', value: 'Newer, lower id', matches: 3 });
  });

  it('drops a record whose computed number matched but whose phone is another (re-check)', async () => {
    assert.deepEqual(await lookup(connector(), request('2025550177', { fieldName: 'firstname' })), { kind: 'not_found' });
    assert.deepEqual(fake.lastSearchIds, ['105'], 'HubSpot did return the record');
  });

  it("uses the rule's CRM Password as the access token", async () => {
    fake.privateAppTokens.add('pat-rule');
    assert.equal((await lookup(connector({ accessToken: '' }), request('2025550101', { credentials: { username: '', password: 'pat-rule' } }))).kind, 'value');
    assert.equal(fake.searches().at(-1)!.headers.authorization, 'Bearer pat-rule');
    const missing = await lookup(connector({ accessToken: '' }), request('2025550101'));
    assert.equal(missing.kind === 'error' && missing.code, 'CONFIG');
  });

  describe('OAuth', () => {
    it('refreshes once for 20 lookups', async () => {
      const hs = oauth();
      const before = fake.tokenRequests();
      const results = await Promise.all(Array.from({ length: 20 }, () => lookup(hs, request('2025550101'))));
      assert.ok(results.every((r) => r.kind === 'value'));
      assert.equal(fake.tokenRequests(), before + 1);
      const refresh = fake.requests.filter((r) => r.path === hubspotPaths.token).at(-1)!;
      assert.equal(hubspotPaths.token, `/oauth/${HUBSPOT_API_VERSION}/token`);
      assert.equal(new URLSearchParams(refresh.body).get('client_secret'), fake.clientSecret);
    });

    it('renews from expires_in, before HubSpot ever answers 401', async () => {
      const hs = oauth();
      await lookup(hs, request('2025550101'));
      const before = fake.tokenRequests();
      const searches = fake.searches().length;
      clock = Date.now() + 1800 * 1000;
      assert.equal((await lookup(hs, request('2025550101'))).kind, 'value');
      assert.equal(fake.tokenRequests(), before + 1);
      assert.equal(fake.searches().length, searches + 1, 'no 401 round trip');
    });

    it('refreshes exactly once on a 401, then succeeds; a second 401 is AUTH', async () => {
      const hs = oauth();
      await lookup(hs, request('2025550101'));
      fake.expireOAuthTokens();
      let before = fake.tokenRequests();
      assert.equal((await lookup(hs, request('2025550101'))).kind, 'value');
      assert.equal(fake.tokenRequests(), before + 1);
      const expired = { status: 401, body: { status: 'error', message: 'expired', category: 'EXPIRED_AUTHENTICATION' } };
      fake.script((r) => r.path.endsWith('/search'), expired);
      fake.script((r) => r.path.endsWith('/search'), expired);
      before = fake.tokenRequests();
      const result = await lookup(hs, request('2025550101'));
      assert.equal(result.kind === 'error' && result.code, 'AUTH');
      assert.equal(fake.tokenRequests(), before + 1);
    });
  });

  it('sends a static token once more on 401, then reports AUTH (a sign-in error) without any token request', async () => {
    const searches = fake.searches().length;
    const refreshes = fake.tokenRequests();
    const result = await lookup(connector({ accessToken: 'pat-revoked' }), request('2025550101'));
    assert.equal(result.kind === 'error' && result.code, 'AUTH');
    assert.match(result.kind === 'error' ? result.message : '', /^Sign-in to HubSpot failed: it refused the access token \(401 INVALID_AUTHENTICATION\): check the service key/);
    assert.equal(fake.searches().length, searches + 2);
    assert.equal(fake.tokenRequests(), refreshes);
  });

  it('maps 403 MISSING_SCOPES to FORBIDDEN, naming the scope HubSpot lists, else the scopes needed', async () => {
    fake.script((r) => r.path.endsWith('/search'), { status: 403, body: { status: 'error', message: 'This app hasn\'t been granted all required scopes to make this call.', correlationId: 'c', errors: [{ message: 'One or more of the following scopes are required.', context: { requiredGranularScopes: ['crm.objects.companies.read'] } }], category: 'MISSING_SCOPES' } });
    const named = await lookup(connector(), request('2025550101', { module: 'companies', fieldName: 'name' }));
    assert.equal(named.kind === 'error' && named.code, 'FORBIDDEN');
    assert.match(named.kind === 'error' ? named.message : '', /the token lacks one of crm\.objects\.companies\.read\. Give the service key or app the scopes crm\.objects\.contacts\.read, crm\.objects\.companies\.read, crm\.objects\.owners\.read and crm\.objects\.contacts\.write\./);
    fake.script((r) => r.path.endsWith('/search'), { status: 403, body: { status: 'error', message: 'This app hasn\'t been granted all required scopes', category: 'MISSING_SCOPES' } });
    const result = await lookup(connector(), request('2025550101'));
    assert.equal(result.kind === 'error' && result.code, 'FORBIDDEN');
    assert.match(result.kind === 'error' ? result.message : '', /the token lacks crm\.objects\.contacts\.read, crm\.objects\.companies\.read, crm\.objects\.owners\.read and crm\.objects\.contacts\.write/);
  });

  it('asks HubSpot for the newest records first, so the newest of more than 10 sharing a number wins', async () => {
    for (let i = 0; i < 12; i += 1) {
      fake.records.contacts!.push({ id: String(700 + i), updatedAt: `2024-08-${String(i + 1).padStart(2, '0')}T00:00:00.000Z`, properties: { firstname: `Shared ${i}`, phone: '+12025550144', lastmodifieddate: `2024-08-${String(i + 1).padStart(2, '0')}T00:00:00.000Z`, hs_searchable_calculated_phone_number: '2025550144' } });
    }
    assert.deepEqual(await lookup(connector(), request('2025550144', { fieldName: 'firstname' })), { kind: 'value', value: 'Shared 11', matches: 10 });
  });

  it('has a fake that refuses the retired numeric paths, as HubSpot will', async () => {
    const res = await http.request({ method: 'POST', url: `${fake.url}/crm/v3/objects/contacts/search`, headers: { authorization: 'Bearer pat-na1-good', 'content-type': 'application/json' }, body: '{}', signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 404);
    assert.match(fake.violations.splice(0).join(), /numeric API version, retired/);
  });

  it('waits out a 429 that fits before the deadline; reports RATE_LIMITED when it does not', async () => {
    const limited = (seconds: string): { status: number; headers: Record<string, string>; body: unknown } => ({ status: 429, headers: { 'retry-after': seconds }, body: { status: 'error', message: 'You have reached your secondly limit.', category: 'RATE_LIMITS' } });
    fake.script((r) => r.path.endsWith('/search'), limited('1'));
    const started = Date.now();
    assert.equal((await lookup(connector(), request('2025550101'))).kind, 'value');
    assert.ok(Date.now() - started >= 1000);
    fake.script((r) => r.path.endsWith('/search'), limited('10'));
    const result = await lookup(connector(), request('2025550101'));
    assert.equal(result.kind === 'error' && result.code, 'RATE_LIMITED');
    assert.equal(result.kind === 'error' && result.retryAfterMs, 10_000);
  });

  it('maps a 502 to HTTP_ERROR and a slow answer to TIMEOUT within the deadline', async () => {
    fake.script((r) => r.path.endsWith('/search'), { status: 502, body: '<html>Bad gateway</html>', headers: { 'content-type': 'text/html' } });
    const bad = await lookup(connector(), request('2025550101'));
    assert.equal(bad.kind === 'error' && bad.code, 'HTTP_ERROR');
    fake.script((r) => r.path.endsWith('/search'), { delayMs: 2000, body: { results: [] } });
    const started = Date.now();
    const slow = await lookup(connector(), request('2025550101', { deadlineAt: Date.now() + 300 }));
    assert.equal(slow.kind === 'error' && slow.code, 'TIMEOUT');
    assert.ok(Date.now() - started < 600);
  });

  it('never lets caller-ID syntax or an odd property name into the search', async () => {
    await lookup(connector(), request('+1 (202) 555-0101"}],"x":[{"'));
    const body = JSON.parse(fake.searches().at(-1)!.body) as { filterGroups: Array<{ filters: Array<{ value: string }> }> };
    assert.ok(body.filterGroups.every((g) => g.filters.every((f) => /^\+?\d+$/.test(f.value))));
    const before = fake.requests.length;
    const bad = await lookup(connector(), request('2025550101', { fieldName: 'firstname","x' }));
    assert.equal(bad.kind === 'error' && bad.code, 'CONFIG');
    assert.equal(fake.requests.length, before);
  });

  describe('testConnection', () => {
    it('reports ok with a valid token, and after a real refresh with OAuth', async () => {
      const report = await connector().testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
      assert.equal(report.ok, true, JSON.stringify(report));
      const hs = oauth();
      await lookup(hs, request('2025550101'));
      const before = fake.tokenRequests();
      assert.equal((await hs.testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000))).ok, true);
      assert.equal(fake.tokenRequests(), before + 1);
    });

    it('reports AUTH for a wrong token or refresh token, without echoing secrets', async () => {
      const wrong = await connector({ accessToken: 'pat-wrong-secret' }).testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
      assert.equal(!wrong.ok && wrong.code, 'AUTH');
      assert.doesNotMatch(!wrong.ok ? wrong.message : '', /pat-wrong-secret/);
      const badRefresh = await connector({ authMode: 'oauth', clientId: fake.clientId, clientSecret: fake.clientSecret, refreshToken: 'stale' }).testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
      assert.equal(!badRefresh.ok && badRefresh.code, 'AUTH');
      assert.match(!badRefresh.ok ? badRefresh.message : '', /^Sign-in to HubSpot failed \(invalid_grant: missing or invalid refresh token\): /);
    });

    it('reports NOT_FOUND_URL for a base URL that is not HubSpot, TLS for an untrusted certificate', async () => {
      const other = await FakeHttpsServer.start(() => ({ status: 404, body: '<html>Not found</html>', headers: { 'content-type': 'text/html' } }));
      try {
        const notFound = await connector({ baseUrl: other.url }).testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
        assert.equal(!notFound.ok && notFound.code, 'NOT_FOUND_URL');
      } finally { await other.close(); }
      const tls = await withUntrustedServer((url) => connector({ baseUrl: url }).testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000)));
      assert.equal(!tls.ok && tls.code, 'TLS');
    });
  });

  it('lists properties of an object type and the searchable modules', async () => {
    const fields = await connector().listFields('contacts', NO_CREDENTIALS, AbortSignal.timeout(5000));
    assert.deepEqual(fields[0], { name: 'firstname', label: 'First Name', type: 'string' });
    assert.equal(fake.requests.at(-1)!.path, `/crm/properties/${HUBSPOT_API_VERSION}/contacts`);
    assert.deepEqual(await connector().listModules(NO_CREDENTIALS, AbortSignal.timeout(5000)), ['contacts', 'companies']);
    await assert.rejects(connector().listFields('deals', NO_CREDENTIALS, AbortSignal.timeout(5000)), /HubSpot deals have no phone property: a rule cannot find callers in them/);
  });

  it('validates settings with messages a person can act on', () => {
    const url = hubspotDefinition.schema.safeParse({ region: 'US', baseUrl: 'http://api.hubapi.com' });
    assert.match(url.error!.issues[0]!.message, /https:\/\//);
    const oauthMissing = hubspotDefinition.schema.safeParse({ region: 'US', authMode: 'oauth' });
    assert.deepEqual(oauthMissing.error!.issues.map((i) => i.path.join('.')), ['clientId', 'clientSecret'], 'the refresh token comes from Connect');
    assert.equal(hubspotDefinition.schema.parse({ region: 'us' }).baseUrl, 'https://api.hubapi.com');
  });
});
