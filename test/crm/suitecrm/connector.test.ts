import assert from 'node:assert/strict';
import type { LookupRequest } from '../../../src/crm/connector';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import type { IntegrationConnector } from '../../../src/crm/integration';
import { suitecrmDefinition } from '../../../src/crm/suitecrm';
import { suitecrmSchema } from '../../../src/crm/suitecrm/settings';
import { phoneWhere } from '../../../src/crm/suitecrm/v4';
import { assertNoRequestForUnknownCallers, closeFake, connectorServices, lookupByDeadline, lookupRequest, testHttpClient, withUntrustedServer } from '../../support/connector-harness';
import { SuiteCrmFake } from '../../support/fakes/suitecrm-fake';

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

  before(() => { http = testHttpClient(); });
  after(() => http.close());
  beforeEach(async () => {
    fake = await SuiteCrmFake.start();
    fake.records.Contacts = [{ id: 'c-1', tier_c: 'gold', phone_work: '(202) 555-0143', date_modified: '2024-03-01 10:00:00' }];
  });
  afterEach(() => closeFake(fake, 'SuiteCRM'));

  it('sends one AND request per phone field and stored format, never filter[operator]', async () => {
    assert.deepEqual(await lookup(make()), { kind: 'value', value: 'gold', matches: 1 });
    const searches = fake.requests.filter((r) => r.path === '/Api/V8/module/Contacts');
    assert.equal(searches.length, 4 * 9); // 4 phone fields x 9 NANP formats
    const sent = new Set(searches.map((r) => [...r.query.keys()].find((k) => k.startsWith('filter['))! + '=' + [...r.query.entries()].find(([k]) => k.startsWith('filter['))![1]));
    assert.ok(sent.has('filter[phone_work][eq]=(202) 555-0143'));
    assert.ok(sent.has('filter[phone_mobile][eq]=+12025550143'));
    assert.equal(searches[0]!.query.get('fields[Contacts]'), 'tier_c,date_modified,phone_work,phone_mobile,phone_home,phone_other');
  });

  it('drops records a filter did not really match (the OR trap, or a server ignoring the filter)', async () => {
    fake.records.Contacts.push({ id: 'c-2', tier_c: 'someone else', phone_work: '+1 303 555 0100', date_modified: '2025-01-01 00:00:00' });
    fake.intercept = (req) => (req.path.endsWith('/V8/module/Contacts') ? { body: { data: fake.records.Contacts.map((r) => ({ type: 'Contacts', id: r.id, attributes: r })) } } : undefined);
    assert.deepEqual(await lookup(make()), { kind: 'value', value: 'gold', matches: 1 });
  });

  it('finds the 8.x API under legacy/Api when set to auto, and only there when told so', async () => {
    fake.layout = '8';
    assert.deepEqual(await lookup(make()), { kind: 'value', value: 'gold', matches: 1 });
    assert.deepEqual(fake.requests.slice(0, 2).map((r) => `${r.method} ${r.path}`), ['POST /Api/access_token', 'POST /legacy/Api/access_token']);
    const before = fake.requests.length;
    assert.deepEqual(await lookup(make({ apiPath: 'legacy/Api' })), { kind: 'value', value: 'gold', matches: 1 });
    assert.equal(fake.requests[before]!.path, '/legacy/Api/access_token');
  });

  it('names a wrong OAuth2 client as such', async () => {
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
    assert.ok(where.includes("contacts.phone_mobile,' ',''),'-','')") && where.includes("LIKE '%2025550143'"), where);
    assert.ok(!where.includes("'x'"), where);
    assert.match(phoneWhere('contacts', ['phone_work'], "55'5"), /LIKE '%555'\)$/);
  });

  it('drops a LIKE hit that only ends with the caller\'s digits', async () => {
    fake.records.Contacts = [{ id: 'c-7', tier_c: 'other', phone_work: '+49 7 89123456', date_modified: '2024-01-01 00:00:00' }];
    assert.deepEqual(await lookup(make('DE'), '+49 89 123456'), { kind: 'not_found' });
    assert.equal(fake.counts.searches, 1);
  });
});
