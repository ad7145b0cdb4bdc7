import assert from 'node:assert/strict';
import type { LookupRequest } from '../../../src/crm/connector';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { sugarcrmDefinition, type SugarSettings } from '../../../src/crm/sugarcrm';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { assertNoRequestForUnknownCallers, closeFake, connectorServices, lookupByDeadline, lookupRequest, NO_CREDENTIALS, testHttpClient, withUntrustedServer } from '../../support/connector-harness';
import { SugarFake, type SugarRecord } from '../../support/fakes/sugarcrm-fake';

function record(id: string, modified: string, extra: Record<string, unknown>): SugarRecord {
  return { id, date_modified: modified, ...extra };
}

describe('SugarCRM connector', () => {
  let fake: SugarFake;
  let http: HttpClient;
  let tokens: TokenCache;

  const settings = (over: Record<string, unknown> = {}): SugarSettings =>
    sugarcrmDefinition.schema.parse({ siteUrl: fake.url, username: 'api', password: 'secret', region: 'US', ...over });
  const connector = (over: Record<string, unknown> = {}) => sugarcrmDefinition.create(settings(over), connectorServices(http, tokens));
  const request = (over: Partial<LookupRequest> = {}) => lookupRequest({ callerId: '+15551234567', fieldName: 'account_name', module: 'Contacts' }, over);
  const lookup = (over: Partial<LookupRequest> = {}, c = connector()) => lookupByDeadline(c, request(over));

  beforeEach(async () => {
    fake = await SugarFake.start({
      records: {
        Contacts: [
          record('c-1', '2024-03-01T10:00:00+00:00', { account_name: 'Acme Ltd', phone_work: '(555) 123-4567', phone_mobile: '', tier_c: ['Gold', 'VIP'] }),
          record('c-2', '2024-01-01T10:00:00+00:00', { account_name: 'Decoy Inc', phone_work: '+1 (999) 123-4567' }),
        ],
      },
    });
    http = testHttpClient();
    tokens = new TokenCache();
  });
  afterEach(async () => {
    await http.close();
    await closeFake(fake, 'SugarCRM');
  });

  it('finds the caller by a phone substring as typed and reads the field', async () => {
    assert.deepEqual(await lookup(), { kind: 'value', value: 'Acme Ltd', matches: 1 });
    const [probe, login, search] = fake.server.requests;
    assert.deepEqual([probe?.method, probe?.path, probe?.headers['oauth-token']], ['GET', '/rest/v11_27/ping', undefined], 'the version is asked first, without a token');
    assert.equal(login?.path, '/rest/v11_27/oauth2/token');
    assert.deepEqual(JSON.parse(login?.body ?? ''), { grant_type: 'password', username: 'api', password: 'secret', client_id: 'sugar', client_secret: '', platform: 'pbx_crm_routing' });
    assert.equal(search?.path, '/rest/v11_27/Contacts/filter');
    const body = JSON.parse(search?.body ?? '') as { filter: Array<{ $or: Array<Record<string, { $contains: string }>> }>; fields: string };
    assert.ok(body.filter[0]?.$or.some((c) => c.phone_work?.$contains === '123-4567'), 'the formatted tail is searched');
    assert.equal(body.fields, 'id,date_modified,account_name,phone_work,phone_mobile,phone_home,phone_other');
  });

  it('turns a multi-select into text', async () => {
    assert.deepEqual(await lookup({ fieldName: 'tier_c' }), { kind: 'value', value: 'Gold; VIP', matches: 1 });
  });

  it('drops a substring hit whose full number is another one (the re-check)', async () => {
    const result = await lookup({ callerId: '+19991234567' });
    assert.deepEqual(result, { kind: 'value', value: 'Decoy Inc', matches: 1 });
    fake.records.Contacts = [record('c-2', '2024-01-01T10:00:00+00:00', { account_name: 'Decoy Inc', phone_work: '+1 (999) 123-4567' })];
    assert.deepEqual(await lookup(), { kind: 'not_found' }, '555-123-4567 is not 999-123-4567 even though the search matched');
  });

  it('answers not_found for no match, and for an empty caller ID without any request', async () => {
    assert.deepEqual(await lookup({ callerId: '+15550000000' }), { kind: 'not_found' });
    await assertNoRequestForUnknownCallers(lookup, () => fake.requests.length, ['', 'anonymous']);
  });

  it('picks the most recently modified of several matches, then the lowest id', async () => {
    fake.records.Contacts = [
      record('c-9', '2024-01-01T00:00:00+00:00', { account_name: 'Old', phone_mobile: '555.123.4567' }),
      record('c-5', '2024-06-01T00:00:00+00:00', { account_name: 'Newest B', phone_home: '5551234567' }),
      record('c-3', '2024-06-01T00:00:00+00:00', { account_name: 'Newest A', phone_work: '+1 555 123 4567' }),
    ];
    assert.deepEqual(await lookup(), { kind: 'value', value: 'Newest A', matches: 3 });
  });

  it('searches the Accounts phone fields', async () => {
    fake.records.Accounts = [record('a-1', '2024-01-01T00:00:00+00:00', { name: 'Globex', phone_office: '555-123-4567' })];
    assert.deepEqual(await lookup({ module: 'Accounts', fieldName: 'name' }), { kind: 'value', value: 'Globex', matches: 1 });
    const body = JSON.parse(fake.filterRequests.at(-1)?.body ?? '') as { filter: Array<{ $or: Array<Record<string, unknown>> }> };
    assert.deepEqual([...new Set(body.filter[0]?.$or.map((c) => Object.keys(c)[0]))], ['phone_office', 'phone_alternate']);
  });

  it('logs in once for 20 lookups', async () => {
    const c = connector();
    for (let i = 0; i < 20; i += 1) assert.equal((await lookup({}, c)).kind, 'value');
    assert.equal(fake.logins.length, 1);
    assert.equal(fake.refreshes.length, 0);
    assert.equal(fake.filterRequests.length, 20);
  });

  it('refreshes near expiry with the single-use refresh token, once for concurrent calls', async () => {
    await fake.close();
    fake = await SugarFake.start({ expiresIn: 30, records: { Contacts: [record('c-1', '2024-01-01T00:00:00+00:00', { account_name: 'Acme Ltd', phone_work: '5551234567' })] } });
    const c = connector(); // token cache skew (60 s) > expires_in: every token is due for refresh
    assert.equal((await lookup({}, c)).kind, 'value');
    const results = await Promise.all(Array.from({ length: 10 }, () => lookup({}, c)));
    assert.ok(results.every((r) => r.kind === 'value'));
    assert.equal(fake.logins.length, 1);
    assert.equal(fake.refreshes.length, 1, 'concurrent callers share one refresh');
  });

  it('falls back to a password login when the refresh token is refused', async () => {
    await fake.close();
    fake = await SugarFake.start({ expiresIn: 30, records: { Contacts: [record('c-1', '2024-01-01T00:00:00+00:00', { account_name: 'Acme Ltd', phone_work: '5551234567' })] } });
    const c = connector();
    await lookup({}, c);
    fake.revokeRefreshTokens();
    assert.equal((await lookup({}, c)).kind, 'value');
    assert.equal(fake.logins.length, 2);
    const grants = fake.server.requests.filter((r) => r.path.endsWith('oauth2/token')).map((r) => (JSON.parse(r.body) as { grant_type: string }).grant_type);
    assert.deepEqual(grants, ['password', 'refresh_token', 'password']);
  });

  it('after a 401 invalid_grant logs in again exactly once and succeeds', async () => {
    const c = connector();
    await lookup({}, c);
    fake.revokeAccessTokens();
    assert.deepEqual(await lookup({}, c), { kind: 'value', value: 'Acme Ltd', matches: 1 });
    assert.equal(fake.logins.length + fake.refreshes.length, 2, 'one re-login (a refresh here)');
  });

  it('answers AUTH when the token is refused again after the re-login', async () => {
    const c = connector();
    await lookup({}, c);
    fake.filterOverrides.push(
      { status: 401, body: { error: 'invalid_grant', error_message: 'The access token provided is invalid.' } },
      { status: 401, body: { error: 'invalid_grant', error_message: 'The access token provided is invalid.' } },
    );
    const result = await lookup({}, c);
    assert.equal(result.kind === 'error' && result.code, 'AUTH');
    assert.equal(fake.logins.length + fake.refreshes.length, 2);
  });

  it('waits out a 429 whose Retry-After fits the deadline', async () => {
    fake.filterOverrides.push({ status: 429, headers: { 'retry-after': '1' }, body: { error: 'too_many_requests' } });
    const started = Date.now();
    assert.equal((await lookup({ deadlineAt: Date.now() + 3000 })).kind, 'value');
    assert.ok(Date.now() - started >= 1000);
  });

  it('answers RATE_LIMITED at once when Retry-After passes the deadline', async () => {
    fake.filterOverrides.push({ status: 429, headers: { 'retry-after': '30' }, body: { error: 'too_many_requests' } });
    const started = Date.now();
    const result = await lookup();
    assert.equal(result.kind === 'error' && result.code, 'RATE_LIMITED');
    assert.equal(result.kind === 'error' && result.retryAfterMs, 30_000);
    assert.ok(Date.now() - started < 1000);
  });

  it('answers HTTP_ERROR for a 5xx', async () => {
    fake.filterOverrides.push({ status: 500, body: { error: 'fatal_error', error_message: 'boom' } });
    const result = await lookup();
    assert.equal(result.kind === 'error' && result.code, 'HTTP_ERROR');
  });

  it('answers TIMEOUT within the deadline when Sugar is slow', async () => {
    await lookup(); // log in first: the slow part is the search
    fake.filterOverrides.push({ delayMs: 2000, body: { records: [] } });
    const started = Date.now();
    const result = await lookup({ deadlineAt: Date.now() + 300 });
    assert.equal(result.kind === 'error' && result.code, 'TIMEOUT');
    assert.ok(Date.now() - started < 600, `took ${Date.now() - started} ms`);
  });

  it('never lets caller ID punctuation or odd names reach the query', async () => {
    assert.equal((await lookup({ callerId: '555"}]},{"$or":[{"id":{"$not_null":1}}]}1234567' })).kind, 'not_found');
    const body = JSON.parse(fake.filterRequests.at(-1)?.body ?? '') as { filter: Array<{ $or: Array<Record<string, { $contains: string }>> }> };
    for (const clause of body.filter[0]?.$or ?? []) assert.match(Object.values(clause)[0]?.$contains ?? '', /^[0-9 .()-]+$/);
    const before = fake.server.requests.length;
    const bad = await lookup({ fieldName: 'name"},"x":{"' });
    assert.equal(bad.kind === 'error' && bad.code, 'CONFIG');
    const badModule = await lookup({ module: '../Users' });
    assert.equal(badModule.kind === 'error' && badModule.code, 'CONFIG');
    assert.equal(fake.server.requests.length, before);
  });

  it("uses a rule's own credentials over the integration's", async () => {
    await fake.close();
    fake = await SugarFake.start({ users: { api: 'secret', agent7: 'pw7' }, records: { Contacts: [] } });
    await lookup({ credentials: { username: 'agent7', password: 'pw7' } });
    await lookup();
    assert.deepEqual(fake.logins, ['agent7', 'api'], 'separate sessions per credentials');
  });

  describe('testConnection', () => {
    const never = () => new AbortController().signal;

    it('reports ok after a real login and a sample search', async () => {
      const report = await connector().testConnection(NO_CREDENTIALS, never());
      assert.equal(report.ok, true, JSON.stringify(report));
      assert.equal(fake.logins.length, 1);
      assert.equal(fake.filterRequests.length, 1);
    });

    it('reports AUTH for a wrong password', async () => {
      const report = await connector({ password: 'wrong' }).testConnection(NO_CREDENTIALS, never());
      assert.equal(!report.ok && report.code, 'AUTH');
      assert.doesNotMatch(report.message, /wrong/);
    });

    it('reports CONFIG with the way out for an unregistered platform', async () => {
      const report = await connector({ platform: 'pbx_other' }).testConnection(NO_CREDENTIALS, never());
      assert.equal(!report.ok && report.code, 'CONFIG');
      assert.match(report.message, /Configure API Platforms/);
    });

    it('names the REST version the server accepts', async () => {
      const report = await connector().testConnection(NO_CREDENTIALS, never());
      assert.match(report.message, /REST v11_27;/);
    });

    it('reports NOT_FOUND_URL for a Sugar URL that serves no REST API', async () => {
      const report = await connector({ siteUrl: `${fake.url}/elsewhere` }).testConnection(NO_CREDENTIALS, never());
      assert.equal(!report.ok && report.code, 'NOT_FOUND_URL');
      assert.match(report.message, /check the Sugar URL/);
    });

    it('reports CONFIG without credentials, DNS for an unknown host, TLS for an untrusted certificate', async () => {
      const none = await connector({ username: '', password: '' }).testConnection(NO_CREDENTIALS, never());
      assert.equal(!none.ok && none.code, 'CONFIG');
      const dns = await connector({ siteUrl: 'https://sugar.invalid' }).testConnection(NO_CREDENTIALS, never());
      assert.equal(!dns.ok && dns.code, 'DNS');
      const tls = await withUntrustedServer((url) => connector({ siteUrl: url }).testConnection(NO_CREDENTIALS, never()));
      assert.equal(!tls.ok && tls.code, 'TLS');
    });
  });

  it('lists modules and fields from the metadata endpoint', async () => {
    const c = connector();
    assert.deepEqual(await c.listModules(NO_CREDENTIALS, AbortSignal.timeout(5000)), ['Accounts', 'Contacts', 'Leads']);
    const list = await c.listFields('Contacts', NO_CREDENTIALS, AbortSignal.timeout(5000));
    assert.ok(list.some((f) => f.name === 'account_name' && f.type === 'relate'));
    assert.ok(list.some((f) => f.name === 'phone_work' && f.type === 'phone'));
    assert.ok(!list.some((f) => f.name === '_hash' || f.type === 'link'));
    const meta = fake.server.requests.filter((r) => r.path.endsWith('/metadata'));
    assert.equal(meta.at(-1)?.query.get('module_filter'), 'Contacts');
    assert.equal(meta.at(-1)?.query.get('type_filter'), 'modules');
    assert.equal(fake.logins.length, 1);
  });

  describe('REST API version', () => {
    const sugar12 = async (over: Record<string, unknown> = {}) => {
      await fake.close();
      fake = await SugarFake.start({ maxVersion: '11.16', ...over, records: { Contacts: [record('c-1', '2024-01-01T00:00:00+00:00', { account_name: 'Acme Ltd', phone_work: '5551234567' })] } });
    };

    it('steps down to the maximum Sugar names in incorrect_version, once per integration', async () => {
      await sugar12();
      const c = connector();
      for (let i = 0; i < 5; i += 1) assert.deepEqual(await lookup({}, c), { kind: 'value', value: 'Acme Ltd', matches: 1 });
      const probes = fake.requests.filter((r) => r.path.endsWith('/ping')).map((r) => r.path);
      assert.deepEqual(probes, ['/rest/v11_27/ping', '/rest/v11_16/ping'], 'negotiated once, not per call');
      assert.ok(fake.servedRequests.every((r) => r.path.startsWith('/rest/v11_16/')));
      assert.equal(fake.filterRequests.length, 5);
      assert.equal(fake.logins.length, 1);
    });

    it('says in Test connection which version the server accepts, never "redirect"', async () => {
      await sugar12();
      const report = await connector().testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
      assert.equal(report.ok, true, JSON.stringify(report));
      assert.match(report.message, /REST v11_16, the newest this server accepts \(v11_27 refused as incorrect_version\)/);
      assert.doesNotMatch(report.message, /redirect/i);
    });

    it('starts from a version the settings name, and steps down from it too', async () => {
      await sugar12();
      assert.equal((await lookup({}, connector({ apiVersion: 'v11_20' }))).kind, 'value');
      assert.deepEqual(fake.requests.filter((r) => r.path.endsWith('/ping')).map((r) => r.path), ['/rest/v11_20/ping', '/rest/v11_16/ping']);
      assert.equal((await lookup({}, connector({ apiVersion: 'v10' }))).kind, 'value');
      assert.ok(fake.requests.some((r) => r.path === '/rest/v10/Contacts/filter'));
    });

    it('answers the fake\'s incorrect_version as Sugar does, byte for byte', async () => {
      await sugar12();
      const res = await http.request({ method: 'GET', url: `${fake.url}/rest/v11_20/ping`, signal: AbortSignal.timeout(5000), returnRedirects: true });
      assert.equal(res.status, 301);
      assert.equal(res.headers.location, undefined);
      assert.equal(res.body, '{"error":"incorrect_version","error_message":"Please change your requested API version to value between 10 and 11.16."}');
    });

    it('falls back to v10 when the message names no maximum, and reports CONFIG when even v10 is refused', async () => {
      fake.intercept = (req) => (req.path.startsWith('/rest/v11_27/') ? { status: 301, body: { error: 'incorrect_version', error_message: 'Please change your url' } } : undefined);
      assert.equal((await lookup()).kind, 'value');
      assert.ok(fake.requests.some((r) => r.path === '/rest/v10/ping'));
      fake.intercept = (req) => (req.path.endsWith('/ping') ? { status: 301, body: { error: 'incorrect_version', error_message: 'Please change your requested API version to value between 10 and 11.16.' } } : undefined);
      const report = await connector().testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
      assert.equal(!report.ok && report.code, 'CONFIG');
      assert.match(report.message, /v11_27, v11_16, v10/);
    });

    it('only lists modules the lookup can search, and refuses the fields of another', async () => {
      const c = connector();
      fake.intercept = (req) => (req.query.get('type_filter') === 'module_list' ? { body: { module_list: { Accounts: 'Accounts', Contacts: 'Contacts', Opportunities: 'Opportunities', _hash: 'a' } } } : undefined);
      assert.deepEqual(await c.listModules(NO_CREDENTIALS, AbortSignal.timeout(5000)), ['Accounts', 'Contacts']);
      await assert.rejects(c.listFields('Opportunities', NO_CREDENTIALS, AbortSignal.timeout(5000)), /no known phone fields/);
      const withSetting = connector({ phoneFields: 'phone_office' });
      assert.deepEqual(await withSetting.listModules(NO_CREDENTIALS, AbortSignal.timeout(5000)), ['Accounts', 'Contacts', 'Opportunities']);
    });
  });

  it('validates settings with messages a person can act on', () => {
    const bad = sugarcrmDefinition.schema.safeParse({ siteUrl: 'http://sugar.example.com', region: 'US' });
    assert.equal(bad.success, false);
    assert.match(bad.error?.issues[0]?.message ?? '', /https:\/\//);
    const ok = sugarcrmDefinition.schema.parse({ siteUrl: 'https://sugar.example.com/rest/v10/', region: 'gb', phoneFields: 'phone_work, cell_c' });
    assert.equal(ok.siteUrl, 'https://sugar.example.com');
    assert.equal(ok.apiVersion, 'auto');
    assert.equal(sugarcrmDefinition.schema.parse({ siteUrl: 'https://x.example.com', region: 'US', apiVersion: '' }).apiVersion, 'auto');
    assert.equal(sugarcrmDefinition.schema.safeParse({ siteUrl: 'https://x.example.com', region: 'US', apiVersion: '11.16' }).success, false);
    assert.equal(ok.platform, 'pbx_crm_routing');
    assert.deepEqual(ok.phoneFields, ['phone_work', 'cell_c']);
    assert.equal(sugarcrmDefinition.schema.safeParse({ siteUrl: 'https://x.example.com', region: 'US', platform: 'bad platform!' }).success, false);
  });
});
