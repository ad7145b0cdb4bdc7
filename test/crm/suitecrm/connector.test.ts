import assert from 'node:assert/strict';
import type { LookupRequest } from '../../../src/crm/connector';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import type { IntegrationConnector } from '../../../src/crm/integration';
import { suitecrmDefinition } from '../../../src/crm/suitecrm';
import { suitecrmSchema } from '../../../src/crm/suitecrm/settings';
import { phoneWhere } from '../../../src/crm/suitecrm/v4';
import { assertNoRequestForUnknownCallers, closeFake, connectorServices, lookupByDeadline, lookupRequest, testHttpClient, withUntrustedServer } from '../../support/connector-harness';
import { SuiteCrmFake, type SuiteVersion } from '../../support/fakes/suitecrm-fake';

for (const apiVersion of ['v8', 'v4_1'] as const) {
  describe(`SuiteCRM connector (${apiVersion})`, () => {
    let fake: SuiteCrmFake;
    let http: HttpClient;
    let connector: IntegrationConnector;

    const credentials = () => ({ username: fake.username, password: fake.password });
    const logins = () => (apiVersion === 'v8' ? fake.counts.tokenGrants : fake.counts.v4Logins);
    const isSearch = (path: string, body: string) => (apiVersion === 'v8' ? path.includes('/V8/module/') : new URLSearchParams(body).get('method') === 'get_entry_list');
    const request = (over: Partial<LookupRequest> = {}) => lookupRequest({ callerId: '+1 202 555 0143', fieldName: 'tier_c', module: 'Contacts', credentials: credentials() }, over);
    const make = (over: Record<string, unknown> = {}) =>
      suitecrmDefinition.create(suitecrmSchema.parse({ site: fake.url, apiVersion, clientId: fake.clientId, clientSecret: fake.clientSecret, region: 'US', ...over }), connectorServices(http));
    const lookup = (over: Partial<LookupRequest> = {}, ms = 3000) => lookupByDeadline(connector, request({ deadlineAt: Date.now() + ms, ...over }));

    before(() => { http = testHttpClient(); });
    after(() => http.close());
    beforeEach(async () => {
      fake = await SuiteCrmFake.start();
      fake.records.Contacts = [
        { id: 'c-1', first_name: 'Ann', tier_c: 'gold', phone_work: '(202) 555-0143', date_modified: '2024-03-01 10:00:00' },
        { id: 'c-2', first_name: 'Bob', tier_c: 'silver', phone_mobile: '+44 20 7946 0958', date_modified: '2024-03-01 10:00:00' },
      ];
      fake.records.Accounts = [{ id: 'a-1', name: 'Acme Ltd', phone_office: '202-555-0143', date_modified: '2023-01-01 00:00:00' }];
      connector = make();
    });
    afterEach(() => closeFake(fake, 'SuiteCRM'));

    it('signs in, searches the module\'s phone fields and reads the field', async () => {
      assert.deepEqual(await lookup(), { kind: 'value', value: 'gold', matches: 1 });
      assert.deepEqual(await lookup({ callerId: '011 44 20 7946 0958', fieldName: 'first_name' }), { kind: 'value', value: 'Bob', matches: 1 });
      assert.deepEqual(await lookup({ module: 'Accounts', fieldName: 'name' }), { kind: 'value', value: 'Acme Ltd', matches: 1 });
      assert.equal(logins(), 1);
    });

    it('answers not_found for no match and for an unknown caller without a request', async () => {
      assert.deepEqual(await lookup({ callerId: '+1 303 555 0100' }), { kind: 'not_found' });
      await assertNoRequestForUnknownCallers(lookup, () => fake.requests.length);
    });

    it('picks the most recently modified of several matches, then the lowest id', async () => {
      fake.records.Contacts.push(
        { id: 'c-9', tier_c: 'newest', phone_home: '2025550143', date_modified: '2025-01-01 00:00:00' },
        { id: 'c-0', tier_c: 'oldest', phone_other: '+12025550143', date_modified: '2020-01-01 00:00:00' },
      );
      assert.deepEqual(await lookup(), { kind: 'value', value: 'newest', matches: 3 });
      fake.records.Contacts[2]!.date_modified = '2024-03-01 10:00:00'; // tie with c-1
      assert.deepEqual(await lookup(), { kind: 'value', value: 'gold', matches: 3 });
    });

    it('re-logs in once when the token or session has expired, then reports AUTH on a second refusal', async () => {
      await lookup();
      fake.expireSessions();
      assert.deepEqual(await lookup(), { kind: 'value', value: 'gold', matches: 1 });
      assert.equal(logins(), 2);
      fake.intercept = (req) => {
        if (!isSearch(req.path, req.body)) return undefined;
        return apiVersion === 'v8' ? { status: 401, body: { error: 'access_denied' } } : { body: { name: 'Invalid Session ID', number: 11, description: 'The session ID is invalid' } };
      };
      const result = await lookup();
      assert.equal(result.kind === 'error' && result.code, 'AUTH');
      assert.equal(logins(), 3);
    });

    it('waits out a 429 whose Retry-After fits the deadline, and reports one that does not', async () => {
      let limited = 1;
      fake.intercept = (req) => (isSearch(req.path, req.body) && limited-- > 0 ? { status: 429, headers: { 'retry-after': '1' }, body: {} } : undefined);
      const started = Date.now();
      assert.deepEqual(await lookup(), { kind: 'value', value: 'gold', matches: 1 });
      assert.ok(Date.now() - started >= 1000);
      fake.intercept = (req) => (isSearch(req.path, req.body) ? { status: 429, headers: { 'retry-after': '20' }, body: {} } : undefined);
      const result = await lookup();
      assert.deepEqual(result.kind === 'error' && [result.code, result.retryAfterMs], ['RATE_LIMITED', 20_000]);
    });

    it('reports a 5xx as HTTP_ERROR and a slow answer as TIMEOUT within the deadline', async () => {
      fake.intercept = (req) => (isSearch(req.path, req.body) ? { status: 500, body: 'Internal Server Error' } : undefined);
      const failed = await lookup();
      assert.equal(failed.kind === 'error' && failed.code, 'HTTP_ERROR');
      fake.intercept = (req) => (isSearch(req.path, req.body) ? { delayMs: 2000, body: {} } : undefined);
      const started = Date.now();
      const slow = await lookup({}, 300);
      assert.equal(slow.kind === 'error' && slow.code, 'TIMEOUT');
      assert.ok(Date.now() - started < 700, `took ${Date.now() - started} ms`);
    });

    it('refuses crafted module and field names before any request', async () => {
      const before = fake.requests.length;
      for (const fieldName of ["tier_c'", 'tier_c FROM users', 'a,b']) assert.equal(((r) => r.kind === 'error' && r.code)(await lookup({ fieldName })), 'CONFIG');
      assert.equal(((r) => r.kind === 'error' && r.code)(await lookup({ module: 'Users' })), 'CONFIG');
      assert.equal(fake.requests.length, before);
    });

    it('reuses one session: 20 lookups, exactly 1 login', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, () => lookup({}, 10_000)));
      assert.ok(results.every((r) => r.kind === 'value'), JSON.stringify(results[0]));
      assert.equal(logins(), 1);
    });

    describe('testConnection', () => {
      it('signs in and runs a sample search', async () => {
        const report = await connector.testConnection(credentials(), AbortSignal.timeout(5000));
        assert.equal(report.ok, true);
      });

      it('reports wrong credentials, a wrong address, 429, DNS, TLS and timeout precisely', async () => {
        const wrong = await connector.testConnection({ username: fake.username, password: 'nope' }, AbortSignal.timeout(5000));
        assert.deepEqual(!wrong.ok && [wrong.code, /user name and password/.test(wrong.message)], ['AUTH', true]);
        assert.ok(!JSON.stringify(wrong).includes('nope'));
        const wrongUrl = await make({ site: `${fake.url}/elsewhere` }).testConnection(credentials(), AbortSignal.timeout(5000));
        assert.equal(!wrongUrl.ok && wrongUrl.code, 'NOT_FOUND_URL');
        fake.intercept = () => ({ status: 429, headers: { 'retry-after': '90' }, body: {} });
        const limited = await make().testConnection(credentials(), AbortSignal.timeout(5000));
        assert.deepEqual(!limited.ok && [limited.code, limited.retryAfterMs], ['RATE_LIMITED', 90_000]);
        fake.intercept = undefined;
        const dns = await make({ site: 'https://suitecrm.invalid' }).testConnection(credentials(), AbortSignal.timeout(5000));
        assert.equal(!dns.ok && dns.code, 'DNS');
        const tls = await withUntrustedServer((url) => make({ site: url }).testConnection(credentials(), AbortSignal.timeout(5000)));
        assert.equal(!tls.ok && tls.code, 'TLS');
        fake.intercept = () => ({ delayMs: 1500, body: {} });
        const slow = await make().testConnection(credentials(), AbortSignal.timeout(300));
        assert.equal(!slow.ok && slow.code, 'TIMEOUT');
      });
    });

    it('lists phone-searchable modules and the fields of one from the metadata', async () => {
      assert.deepEqual(await connector.listModules(credentials(), AbortSignal.timeout(5000)), ['Contacts', 'Leads', 'Accounts', 'Prospects']);
      const fields = await connector.listFields('Contacts', credentials(), AbortSignal.timeout(5000));
      assert.deepEqual(fields.find((f) => f.name === 'tier_c'), apiVersion === 'v8' ? { name: 'tier_c', label: 'tier_c', type: 'enum' } : { name: 'tier_c', label: 'Tier', type: 'enum' });
    });
  });
}

describe('SuiteCRM V8 specifics', () => {
  let fake: SuiteCrmFake;
  let http: HttpClient;
  const make = (over: Record<string, unknown> = {}) =>
    suitecrmDefinition.create(suitecrmSchema.parse({ site: fake.url, clientId: fake.clientId, clientSecret: fake.clientSecret, username: fake.username, password: fake.password, region: 'US', ...over }), connectorServices(http));
  const lookup = (connector: IntegrationConnector, callerId = '+1 202 555 0143') => lookupByDeadline(connector, lookupRequest({ tenantId: 't', callerId, fieldName: 'tier_c', module: 'Contacts' }));
  const records = () => fake.requests.filter((r) => r.path === '/Api/V8/module/Contacts');
  const phoneSearches = () => records().filter((r) => [...r.query.keys()].some((k) => k.startsWith('filter[phone_')));
  const start = async (version: SuiteVersion) => {
    await fake?.close();
    fake = await SuiteCrmFake.start(version);
    fake.records.Contacts = [
      { id: 'c-1', tier_c: 'gold', phone_work: '(202) 555-0143', date_modified: '2024-03-01 10:00:00' },
      { id: 'c-5', tier_c: 'spaces', phone_mobile: '555 000 5555', date_modified: '2024-03-01 10:00:00' },
      { id: 'c-6', tier_c: 'dashes', phone_home: '+1-555-000-6666', date_modified: '2024-03-01 10:00:00' },
      { id: 'c-7', tier_c: 'brackets', phone_other: '(555)000-7777', date_modified: '2024-03-01 10:00:00' },
      { id: 'c-8', tier_c: 'extension', phone_work: '555-000-8888 x123', date_modified: '2024-03-01 10:00:00' },
      { id: 'c-x', tier_c: 'deleted', phone_work: '(202) 555-0143', date_modified: '2025-01-01 00:00:00', deleted: '1' },
    ];
  };

  before(() => { http = testHttpClient(); });
  after(() => http.close());
  beforeEach(() => start('7.14.6'));
  afterEach(() => closeFake(fake, 'SuiteCRM'));

  it('7.12.5 and later: ONE or + like request per lookup over every phone field, after one probe per integration', async () => {
    const connector = make();
    assert.deepEqual(await lookup(connector), { kind: 'value', value: 'gold', matches: 1 });
    const [probe, anyRecord, search] = records();
    assert.deepEqual([probe!.query.get('filter[operator]'), probe!.query.get('filter[id][like]')], ['or', 'pbx-crm-routing-probe']);
    assert.equal(anyRecord!.query.has('filter[operator]'), false, 'the module holds records, so an empty probe proves the or fix');
    assert.equal(search!.query.get('filter[operator]'), 'or');
    assert.deepEqual(['phone_work', 'phone_mobile', 'phone_home', 'phone_other'].map((f) => search!.query.get(`filter[${f}][like]`)), Array(4).fill('%2%0%2%5%5%5%0%1%4%3%'));
    assert.equal(search!.query.get('sort'), '-date_modified');
    for (let i = 0; i < 4; i += 1) assert.equal((await lookup(connector)).kind, 'value');
    assert.equal(phoneSearches().length, 5, 'one request per lookup');
    assert.equal(records().length, 7, 'the probe ran once');
  });

  for (const version of ['7.14.6', '7.11.20'] as const) {
    it(`${version}: finds numbers stored with spaces, dashes, brackets or an extension`, async () => {
      await start(version);
      const connector = make();
      assert.deepEqual(await lookup(connector, '+15550005555'), { kind: 'value', value: 'spaces', matches: 1 });
      assert.deepEqual(await lookup(connector, '+15550006666'), { kind: 'value', value: 'dashes', matches: 1 });
      assert.deepEqual(await lookup(connector, '+15550007777'), { kind: 'value', value: 'brackets', matches: 1 });
      assert.deepEqual(await lookup(connector, '+15550008888'), { kind: 'value', value: 'extension', matches: 1 });
      assert.deepEqual(await lookup(connector, '+12025550143'), { kind: 'value', value: 'gold', matches: 1 }, 'a deleted record never wins');
    });
  }

  it('7.11.19 to 7.12.4: never searches with or (it returns every record), one like request per phone field', async () => {
    await start('7.11.20');
    const connector = make();
    assert.deepEqual(await lookup(connector), { kind: 'value', value: 'gold', matches: 1 });
    assert.equal(fake.orSearches, 0);
    assert.equal(phoneSearches().length, 4);
    assert.ok(phoneSearches().every((r) => [...r.query.keys()].filter((k) => k.startsWith('filter[')).length === 1 && r.query.get('sort') === '-date_modified'));
    await lookup(connector);
    assert.equal(records().filter((r) => r.query.has('filter[id][like]')).length, 1, 'probed once');
  });

  it('before 7.11.19: exact requests per phone field and written form, never like or or', async () => {
    await start('7.11.10');
    assert.deepEqual(await lookup(make()), { kind: 'value', value: 'gold', matches: 1 });
    assert.equal(phoneSearches().length, 4 * 9);
    assert.ok(phoneSearches().every((r) => [...r.query.keys()].every((k) => !k.endsWith('[like]') && k !== 'filter[operator]')));
    // Exact matching only finds the written forms it tries: "555 000 5555" is not one of them.
    assert.deepEqual(await lookup(make(), '+15550005555'), { kind: 'not_found' });
  });

  it('an empty module proves nothing: like requests now, and the probe runs again next time', async () => {
    fake.records.Contacts = [];
    const connector = make();
    assert.deepEqual(await lookup(connector), { kind: 'not_found' });
    assert.equal(phoneSearches().length, 4);
    fake.records.Contacts = [{ id: 'c-1', tier_c: 'gold', phone_work: '(202) 555-0143', date_modified: '2024-03-01 10:00:00' }];
    assert.deepEqual(await lookup(connector), { kind: 'value', value: 'gold', matches: 1 });
    assert.equal(phoneSearches().length, 5, 'the second probe proved the or fix: one request');
  });

  it('breaks a tie within the minute V8 shows by the server\'s full-precision order: the newer record wins', async () => {
    fake.records.Contacts = [
      { id: 'c-1', tier_c: 'older', phone_work: '(202) 555-0143', date_modified: '2024-03-01 10:00:05' },
      { id: 'c-2', tier_c: 'newer', phone_mobile: '202-555-0143', date_modified: '2024-03-01 10:00:48' },
    ];
    assert.deepEqual(await lookup(make()), { kind: 'value', value: 'newer', matches: 2 });
    const answer = await http.request({ method: 'GET', url: `${fake.url}/Api/V8/module/Contacts?fields[Contacts]=date_modified&page[size]=5&page[number]=1`, signal: AbortSignal.timeout(5000), headers: { authorization: `Bearer ${[...fake.requests].reverse().find((r) => r.headers.authorization)!.headers.authorization!.toString().slice(7)}`, accept: 'application/vnd.api+json', 'content-type': 'application/vnd.api+json' } });
    assert.deepEqual((JSON.parse(answer.body) as { data: Array<{ attributes: { date_modified: string } }> }).data.map((d) => d.attributes.date_modified), ['2024-03-01 10:00', '2024-03-01 10:00'], 'V8 shows both in the same minute');
  });

  it('says in Test connection how lookups run', async () => {
    const report = await make().testConnection({ username: fake.username, password: fake.password }, AbortSignal.timeout(5000));
    assert.equal(report.ok, true, JSON.stringify(report));
    assert.match(report.message, /one request per lookup \(filter\[operator\]=or with like: SuiteCRM 7\.12\.5 or later\)/);
  });

  for (const [what, over, typed] of [
    ['a wrong password', {}, { username: 'jim', password: 'Secr3t-Pa55' }],
    ['an unknown user', {}, { username: 'nobody', password: 'Secr3t-Pa55' }],
    ['an unknown client id', { clientId: '00000000-dead-beef-0000-000000000000' }, { username: 'jim', password: 'Secr3t-Pa55' }],
  ] as const) {
    it(`recognises SuiteCRM 7's HTTP 500 for ${what} as a sign-in error, never showing its text`, async () => {
      const logged: string[] = [];
      const services = { ...connectorServices(http), logger: { debug: (m: string) => logged.push(m), info: (m: string) => logged.push(m), warn: (m: string) => logged.push(m), error: (m: string) => logged.push(m) } };
      const connector = suitecrmDefinition.create(suitecrmSchema.parse({ site: fake.url, clientId: fake.clientId, clientSecret: fake.clientSecret, region: 'US', ...over }), services);
      const report = await connector.testConnection(typed, AbortSignal.timeout(5000));
      assert.equal(!report.ok && report.code, 'AUTH');
      assert.match(report.message, /sign-in with HTTP 500/);
      const result = await lookupByDeadline(connector, lookupRequest({ callerId: '+12025550143', fieldName: 'tier_c', module: 'Contacts', credentials: typed }));
      assert.equal(result.kind === 'error' && result.code, 'AUTH');
      const said = JSON.stringify([report, result, logged]);
      for (const secret of ['Secr3t-Pa55', 'Slim Application Error', 'password is invalid', 'No user found']) assert.ok(!said.includes(secret), `${secret} must not be shown`);
      const answered = fake.requests.filter((r) => r.path === '/Api/access_token');
      assert.ok(answered.length >= 1);
    });
  }

  it('the fake answers those sign-ins as SuiteCRM 7 does: HTTP 500 with the password in Slim\'s JSON', async () => {
    const res = await http.request({
      method: 'POST', url: `${fake.url}/Api/access_token`, signal: AbortSignal.timeout(5000), headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'password', client_id: fake.clientId, client_secret: fake.clientSecret, username: 'jim', password: 'hunter2' }).toString(),
    });
    assert.equal(res.status, 500);
    assert.match(res.body, /"message": "Slim Application Error"/);
    assert.match(res.body, /The password is invalid: hunter2/);
  });

  it('offers only modules the lookup accepts, and refuses the fields of another (Opportunities)', async () => {
    const connector = make();
    fake.intercept = (req) => (req.path.endsWith('/V8/meta/modules') ? { body: { data: { type: 'modules', id: '', attributes: { Contacts: {}, Opportunities: {}, Leads: {} } } } } : undefined);
    assert.deepEqual(await connector.listModules({ username: fake.username, password: fake.password }, AbortSignal.timeout(5000)), ['Contacts', 'Leads']);
    await assert.rejects(connector.listFields('Opportunities', { username: fake.username, password: fake.password }, AbortSignal.timeout(5000)), /cannot be searched by phone/);
  });

  it('finds the 8.x API under legacy/Api when set to auto, and only there when told so', async () => {
    fake.layout = '8';
    assert.deepEqual(await lookup(make()), { kind: 'value', value: 'gold', matches: 1 });
    assert.deepEqual(fake.requests.slice(0, 2).map((r) => `${r.method} ${r.path}`), ['POST /Api/access_token', 'POST /legacy/Api/access_token']);
    const before = fake.requests.length;
    assert.deepEqual(await lookup(make({ apiPath: 'legacy/Api' })), { kind: 'value', value: 'gold', matches: 1 });
    assert.equal(fake.requests[before]!.path, '/legacy/Api/access_token');
  });

  it('names a wrong OAuth2 client secret as such', async () => {
    const result = await lookup(make({ clientSecret: 'wrong' }));
    assert.deepEqual(result.kind === 'error' && [result.code, /client id and secret/.test(result.message)], ['AUTH', true]);
  });

  it('requires the OAuth2 client for V8 only', () => {
    const missing = suitecrmSchema.safeParse({ site: 'https://crm.example.com', region: 'US' });
    assert.deepEqual(missing.error!.issues.map((i) => i.path.join('.')), ['clientId', 'clientSecret']);
    assert.equal(suitecrmSchema.safeParse({ site: 'https://crm.example.com', apiVersion: 'v4_1', region: 'US' }).success, true);
    assert.match(suitecrmSchema.safeParse({ site: 'crm.example.com', apiVersion: 'v4_1', region: 'US' }).error!.issues[0]!.message, /https:\/\//);
  });
});

describe('SuiteCRM v4_1 specifics', () => {
  let fake: SuiteCrmFake;
  let http: HttpClient;
  const make = (region = 'US') =>
    suitecrmDefinition.create(suitecrmSchema.parse({ site: fake.url, apiVersion: 'v4_1', username: fake.username, password: fake.password, region }), connectorServices(http));
  const lookup = (connector: IntegrationConnector, callerId: string) => lookupByDeadline(connector, lookupRequest({ tenantId: 't', callerId, fieldName: 'tier_c', module: 'Contacts' }));

  before(() => { http = testHttpClient(); });
  after(() => http.close());
  beforeEach(async () => { fake = await SuiteCrmFake.start(); });
  afterEach(() => closeFake(fake, 'SuiteCRM'));

  it('normalises stored numbers in SQL and sends only digits, whatever the caller ID holds', async () => {
    fake.records.Contacts = [{ id: 'c-1', tier_c: 'gold', phone_mobile: '+1 (202) 555-0143', date_modified: '2024-03-01 10:00:00' }];
    assert.deepEqual(await lookup(make(), `(202) 555-0143' OR 'x'='x`), { kind: 'value', value: 'gold', matches: 1 });
    const where = fake.wheres[0]!;
    assert.ok(where.includes("contacts.phone_mobile,' ',''),'-','')") && where.includes("LIKE '%2025550143%'"), where);
    assert.ok(!where.includes("'x'"), where);
    assert.match(phoneWhere('contacts', ['phone_work'], "55'5"), /LIKE '%555%'\)$/);
  });

  it('orders by the bare date_modified SuiteCRM keeps (a table-prefixed name is dropped), and the newer second wins', async () => {
    fake.records.Contacts = [
      { id: 'c-1', tier_c: 'older', phone_work: '2025550143', date_modified: '2024-03-01 10:00:05' },
      { id: 'c-2', tier_c: 'newer', phone_mobile: '202-555-0143 ext. 7', date_modified: '2024-03-01 10:00:48' },
    ];
    assert.deepEqual(await lookup(make(), '+12025550143'), { kind: 'value', value: 'newer', matches: 2 });
    const sent = fake.requests.map((r) => JSON.parse(new URLSearchParams(r.body).get('rest_data') ?? '{}') as { order_by?: string }).find((d) => d.order_by !== undefined);
    assert.equal(sent?.order_by, 'date_modified DESC');
  });

  it('drops a LIKE hit that only ends with the caller\'s digits', async () => {
    fake.records.Contacts = [{ id: 'c-7', tier_c: 'other', phone_work: '+49 7 89123456', date_modified: '2024-01-01 00:00:00' }];
    assert.deepEqual(await lookup(make('DE'), '+49 89 123456'), { kind: 'not_found' });
    assert.equal(fake.counts.searches, 1);
  });
});
