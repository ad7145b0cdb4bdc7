import assert from 'node:assert/strict';
import { bullhornDefinition, bullhornSchema } from '../../../src/crm/bullhorn';
import type { LookupRequest } from '../../../src/crm/connector';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import type { IntegrationConnector } from '../../../src/crm/integration';
import { assertNoRequestForUnknownCallers, closeFake, connectorServices, lookupByDeadline, lookupRequest, testHttpClient, withUntrustedServer } from '../../support/connector-harness';
import { BullhornFake } from '../../support/fakes/bullhorn-fake';

describe('Bullhorn connector', () => {
  let fake: BullhornFake;
  let http: HttpClient;
  let connector: IntegrationConnector;

  const credentials = () => ({ username: fake.username, password: fake.password });
  const request = (over: Partial<LookupRequest> = {}) => lookupRequest({ callerId: '+1 202 555 0143', fieldName: 'status', module: 'Candidate', credentials: credentials() }, over);
  const make = (over: Record<string, unknown> = {}) =>
    bullhornDefinition.create(bullhornSchema.parse({ clientId: fake.clientId, clientSecret: fake.clientSecret, loginInfoUrl: fake.url, region: 'US', ...over }), connectorServices(http));
  const lookup = (over: Partial<LookupRequest> = {}, ms = 3000) => lookupByDeadline(connector, request({ deadlineAt: Date.now() + ms, ...over }));

  before(() => { http = testHttpClient(); });
  after(() => http.close());
  beforeEach(async () => {
    fake = await BullhornFake.start();
    fake.records.Candidate = [
      { id: 11, firstName: 'Ann', status: 'Active', phone: '(202) 555-0143', dateLastModified: 1_700_000_000_000 },
      { id: 12, firstName: 'Bob', status: 'Placed', mobile: '+44 20 7946 0958', dateLastModified: 1_700_000_000_000 },
    ];
    fake.records.ClientContact = [
      { id: 21, firstName: 'Cy', phone2: '202.555.0199', clientCorporation: { id: 5, name: 'Acme Staffing' }, dateLastModified: 1 },
    ];
    connector = make();
  });
  afterEach(() => closeFake(fake, 'Bullhorn'));

  it('signs in headlessly, finds the caller with FastFind and reads the field', async () => {
    assert.deepEqual(await lookup(), { kind: 'value', value: 'Active', matches: 1 });
    assert.deepEqual(fake.requests.map((r) => `${r.method} ${r.path}`), [
      'GET /rest-services/loginInfo', 'GET /oauth/authorize', 'POST /oauth/token', 'GET /rest-services/login',
      'GET /rest-services/e999/find', 'GET /rest-services/e999/entity/Candidate/11',
    ]);
    const find = fake.requests[4]!;
    assert.equal(find.query.get('query'), '202-555-0143');
    assert.equal(find.query.get('countPerEntity'), '5');
    assert.match(String(find.headers.bhresttoken), /^bh-/);
    // The code in the 302's Location was URL-decoded before it reached the token endpoint.
    assert.match(fake.requests[2]!.query.get('code')!, /:/);
  });

  it('sends international callers as +E.164 and reads a related field as its nested value', async () => {
    assert.deepEqual(await lookup({ callerId: '011 44 20 7946 0958', fieldName: 'firstName' }), { kind: 'value', value: 'Bob', matches: 1 });
    assert.equal(fake.requests.find((r) => r.path.endsWith('/find'))!.query.get('query'), '+442079460958');
    const contact = await lookup({ callerId: '2025550199', module: 'ClientContact', fieldName: 'clientCorporation(name)' });
    assert.deepEqual(contact, { kind: 'value', value: 'Acme Staffing', matches: 1 });
    assert.equal(fake.requests.at(-1)!.query.get('fields'), 'id,clientCorporation(name),phone,phone2,phone3,mobile,dateLastModified');
  });

  it('answers not_found for no match, for another entity only, and for an unknown caller without a request', async () => {
    assert.deepEqual(await lookup({ callerId: '+1 303 555 0100' }), { kind: 'not_found' });
    assert.deepEqual(await lookup({ module: 'Lead' }), { kind: 'not_found' });
    await assertNoRequestForUnknownCallers(lookup, () => fake.requests.length);
  });

  it('picks the most recently modified of several matches, then the lowest id', async () => {
    fake.records.Candidate.push(
      { id: 14, status: 'Newest', phone3: '1-202-555-0143', dateLastModified: 1_800_000_000_000 },
      { id: 13, status: 'Older', mobile: '2025550143', dateLastModified: 1_600_000_000_000 },
    );
    assert.deepEqual(await lookup(), { kind: 'value', value: 'Newest', matches: 3 });
    assert.equal(fake.requests.at(-1)!.path, '/rest-services/e999/entity/Candidate/11,14,13');
    fake.records.Candidate[2]!.dateLastModified = 1_700_000_000_000; // tie with id 11
    assert.deepEqual(await lookup(), { kind: 'value', value: 'Active', matches: 3 });
  });

  it('drops a FastFind hit whose number only shares the last digits', async () => {
    fake.records.Candidate = [{ id: 31, status: 'Wrong area', phone: '(303) 555-0143', dateLastModified: 1 }];
    assert.deepEqual(await lookup(), { kind: 'not_found' });
    assert.equal(fake.counts.entityReads, 1);
  });

  it('re-logs in once with the refresh token when the session has expired', async () => {
    await lookup();
    fake.expireSessions();
    assert.deepEqual(await lookup(), { kind: 'value', value: 'Active', matches: 1 });
    assert.deepEqual([fake.counts.authorize, fake.counts.refreshGrants, fake.counts.restLogins], [1, 1, 2]);
  });

  it('signs in again from scratch when the refresh token is refused', async () => {
    await lookup();
    fake.expireSessions();
    fake.revokeRefreshTokens();
    assert.deepEqual(await lookup(), { kind: 'value', value: 'Active', matches: 1 });
    assert.deepEqual([fake.counts.authorize, fake.counts.refreshGrants, fake.counts.restLogins], [2, 1, 2]);
  });

  it('reports AUTH when the fresh session is refused too', async () => {
    fake.intercept = (req) => (req.path.endsWith('/find') ? { status: 401, body: { errorMessage: 'Bad BhRestToken' } } : undefined);
    const result = await lookup();
    assert.equal(result.kind === 'error' && result.code, 'AUTH');
    assert.equal(fake.counts.finds, 0); // intercepted before counting
    assert.equal(fake.counts.restLogins, 2);
  });

  it('waits out a 429 whose Retry-After fits the deadline, and reports one that does not', async () => {
    let limited = 1;
    fake.intercept = (req) => (req.path.endsWith('/find') && limited-- > 0 ? { status: 429, headers: { 'retry-after': '1' }, body: { errorMessage: 'Too Many Requests' } } : undefined);
    const started = Date.now();
    assert.deepEqual(await lookup({}, 3000), { kind: 'value', value: 'Active', matches: 1 });
    assert.ok(Date.now() - started >= 1000);

    fake.intercept = (req) => (req.path.endsWith('/find') ? { status: 429, headers: { 'retry-after': '30' }, body: {} } : undefined);
    const quick = Date.now();
    const result = await lookup({}, 3000);
    assert.deepEqual(result.kind === 'error' && [result.code, result.retryAfterMs], ['RATE_LIMITED', 30_000]);
    assert.ok(Date.now() - quick < 1000);
  });

  it('reports a 5xx as HTTP_ERROR', async () => {
    fake.intercept = (req) => (req.path.includes('/entity/') ? { status: 503, body: 'Service Unavailable' } : undefined);
    const result = await lookup();
    assert.equal(result.kind === 'error' && result.code, 'HTTP_ERROR');
  });

  it('gives up with TIMEOUT at the deadline when Bullhorn is slow', async () => {
    await lookup(); // signed in
    fake.intercept = (req) => (req.path.endsWith('/find') ? { delayMs: 2000, body: { data: [] } } : undefined);
    const started = Date.now();
    const result = await lookup({}, 300);
    assert.equal(result.kind === 'error' && result.code, 'TIMEOUT');
    assert.ok(Date.now() - started < 700, `took ${Date.now() - started} ms`);
  });

  it('never lets caller-ID punctuation or a crafted field name reach a URL', async () => {
    const result = await lookup({ callerId: `+1 (202) 555-0143"');` });
    assert.deepEqual(result, { kind: 'value', value: 'Active', matches: 1 });
    assert.equal(fake.requests.find((r) => r.path.endsWith('/find'))!.query.get('query'), '202-555-0143');
    const before = fake.requests.length;
    const bad = await lookup({ fieldName: 'status,password' });
    assert.equal(bad.kind === 'error' && bad.code, 'CONFIG');
    assert.equal((await lookup({ module: 'Candidate/../meta' })).kind, 'error');
    assert.equal(fake.requests.length, before);
  });

  it('reuses one session: 20 lookups, exactly 1 login', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => lookup()));
    assert.ok(results.every((r) => r.kind === 'value'));
    assert.deepEqual([fake.counts.loginInfo, fake.counts.authorize, fake.counts.codeGrants, fake.counts.restLogins, fake.counts.finds], [1, 1, 1, 1, 20]);
  });

  it('follows the wrong-data-centre 307 of loginInfo once, to the host it names', async () => {
    fake.wrongDataCentre = true;
    assert.deepEqual(await lookup(), { kind: 'value', value: 'Active', matches: 1 });
    const infos = fake.requests.filter((r) => r.path === '/rest-services/loginInfo');
    assert.deepEqual(infos.map((r) => String(r.headers.host).split(':')[0]), ['localhost', '127.0.0.1']);
  });

  describe('testConnection', () => {
    it('signs in and runs a sample lookup', async () => {
      const report = await connector.testConnection(credentials(), AbortSignal.timeout(5000));
      assert.equal(report.ok, true);
      assert.equal(fake.counts.finds, 1);
    });

    it('names a wrong password, a wrong client id and a wrong client secret', async () => {
      const wrongPassword = await connector.testConnection({ username: fake.username, password: 'nope' }, AbortSignal.timeout(5000));
      assert.deepEqual(!wrongPassword.ok && [wrongPassword.code, /username or password/.test(wrongPassword.message)], ['AUTH', true]);
      const wrongClient = await make({ clientId: 'other' }).testConnection(credentials(), AbortSignal.timeout(5000));
      assert.deepEqual(!wrongClient.ok && [wrongClient.code, /client id/.test(wrongClient.message)], ['AUTH', true]);
      const wrongSecret = await make({ clientSecret: 'other' }).testConnection(credentials(), AbortSignal.timeout(5000));
      assert.deepEqual(!wrongSecret.ok && wrongSecret.code, 'AUTH');
      assert.ok(!JSON.stringify([wrongPassword, wrongClient, wrongSecret]).includes('nope'), 'no secret in messages');
    });

    it('reports 403, 404 (wrong login URL) and 429 with when to retry', async () => {
      fake.intercept = (req) => (req.path.endsWith('/find') ? { status: 403, body: { errorMessage: 'no access' } } : undefined);
      const forbidden = await connector.testConnection(credentials(), AbortSignal.timeout(5000));
      assert.equal(!forbidden.ok && forbidden.code, 'FORBIDDEN');
      fake.intercept = undefined;
      const wrongUrl = await make({ loginInfoUrl: `${fake.url}/nothing-here` }).testConnection(credentials(), AbortSignal.timeout(5000));
      assert.equal(!wrongUrl.ok && wrongUrl.code, 'NOT_FOUND_URL');
      fake.violations.length = 0; // the wrong URL was the point
      fake.intercept = (req) => (req.path.endsWith('/loginInfo') ? { status: 429, headers: { 'retry-after': '120' }, body: {} } : undefined);
      const limited = await make().testConnection(credentials(), AbortSignal.timeout(5000));
      assert.deepEqual(!limited.ok && [limited.code, limited.retryAfterMs, /120 s/.test(limited.message)], ['RATE_LIMITED', 120_000, true]);
    });

    it('reports DNS, TLS and timeout failures', async () => {
      const dns = await make({ loginInfoUrl: 'https://bullhorn.invalid' }).testConnection(credentials(), AbortSignal.timeout(5000));
      assert.equal(!dns.ok && dns.code, 'DNS');
      const tls = await withUntrustedServer((url) => make({ loginInfoUrl: url }).testConnection(credentials(), AbortSignal.timeout(5000)));
      assert.equal(!tls.ok && tls.code, 'TLS');
      fake.intercept = (req) => (req.path.endsWith('/loginInfo') ? { delayMs: 1500, body: {} } : undefined);
      const slow = await make().testConnection(credentials(), AbortSignal.timeout(300));
      assert.equal(!slow.ok && slow.code, 'TIMEOUT');
    });
  });

  it('lists the phone-searchable entities from meta and the fields of one', async () => {
    assert.deepEqual(await connector.listModules(credentials(), AbortSignal.timeout(5000)), ['Candidate', 'ClientContact', 'ClientCorporation', 'Lead']);
    // JobOrder is not searched by phone: the lookup and the picker both refuse it, before any request.
    const before = fake.server.requests.length;
    await assert.rejects(connector.listFields('JobOrder', credentials(), AbortSignal.timeout(5000)), /does not search JobOrder/);
    const refused = await connector.lookup({ tenantId: 't', ruleId: 1, callerId: '+12025550143', did: '', dtmf: '', fieldName: 'title', module: 'JobOrder', credentials: credentials(), deadlineAt: Date.now() + 3000 }, AbortSignal.timeout(3000));
    assert.equal(refused.kind === 'error' && refused.code, 'CONFIG');
    assert.equal(fake.server.requests.length, before);
    const fields = await connector.listFields('Candidate', credentials(), AbortSignal.timeout(5000));
    assert.deepEqual(fields.find((f) => f.name === 'phone'), { name: 'phone', label: 'Phone', type: 'PHONE' });
    assert.equal(fake.requests.at(-1)!.query.get('fields'), '*');
    assert.equal(fake.counts.authorize, 1);
  });

  it('validates its settings with messages a person can act on', () => {
    const missing = bullhornSchema.safeParse({ clientSecret: 's', region: 'US' });
    assert.match(missing.error!.issues[0]!.message, /client id/);
    const plain = bullhornSchema.safeParse({ clientId: 'c', clientSecret: 's', region: 'US', loginInfoUrl: 'http://rest.bullhornstaffing.com' });
    assert.match(plain.error!.issues[0]!.message, /https:\/\//);
    assert.equal(bullhornSchema.parse({ clientId: 'c', clientSecret: 's', region: 'us' }).loginInfoUrl, 'https://rest.bullhornstaffing.com');
  });
});
