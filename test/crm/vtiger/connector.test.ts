import assert from 'node:assert/strict';
import type { LookupRequest } from '../../../src/crm/connector';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import type { IntegrationConnector } from '../../../src/crm/integration';
import { phoneQuery, vtigerDefinition, vtigerSchema, webserviceUrl } from '../../../src/crm/vtiger';
import { assertNoRequestForUnknownCallers, closeFake, connectorServices, lookupByDeadline, lookupRequest, testHttpClient, withUntrustedServer } from '../../support/connector-harness';
import { VtigerFake } from '../../support/fakes/vtiger-fake';

describe('Vtiger connector', () => {
  let fake: VtigerFake;
  let http: HttpClient;
  let connector: IntegrationConnector;

  const credentials = () => ({ username: fake.username, password: fake.accessKey });
  const request = (over: Partial<LookupRequest> = {}) => lookupRequest({ callerId: '+1 202 555 0143', fieldName: 'cf_853', module: 'Contacts', credentials: credentials() }, over);
  const make = (over: Record<string, unknown> = {}) =>
    vtigerDefinition.create(vtigerSchema.parse({ url: `${fake.url}/crm`, region: 'US', ...over }), connectorServices(http));
  const lookup = (over: Partial<LookupRequest> = {}, ms = 3000) => lookupByDeadline(connector, request({ deadlineAt: Date.now() + ms, ...over }));

  before(() => { http = testHttpClient(); });
  after(() => http.close());
  beforeEach(async () => {
    fake = await VtigerFake.start();
    fake.rows.Contacts = [
      { id: '12x40', firstname: 'Ann', cf_853: 'Gold', phone: '(202) 555-0143', mobile: '', modifiedtime: '2024-03-01 10:00:00' },
      { id: '12x41', firstname: 'Bob', cf_853: 'Silver', phone: '', mobile: '+44 20 7946 0958', modifiedtime: '2024-03-01 10:00:00' },
    ];
    fake.rows.Leads = [{ id: '10x7', company: 'Lead Co', phone: '202.555.0143', mobile: '', modifiedtime: '2023-01-01 00:00:00' }];
    connector = make();
  });
  afterEach(() => closeFake(fake, 'Vtiger'));

  it('signs in with the challenge and md5(token + access key), then queries the phone columns', async () => {
    assert.deepEqual(await lookup(), { kind: 'value', value: 'Gold', matches: 1 });
    assert.deepEqual(fake.requests.map((r) => `${r.method} ${r.query.get('operation') ?? new URLSearchParams(r.body).get('operation')}`), ['GET getchallenge', 'POST login', 'GET query']);
    assert.equal(fake.statements[0], "SELECT id,cf_853,modifiedtime,phone,mobile,homephone,otherphone FROM Contacts WHERE phone LIKE '%2%0%2%5%5%5%0%1%4%3%' OR mobile LIKE '%2%0%2%5%5%5%0%1%4%3%' OR homephone LIKE '%2%0%2%5%5%5%0%1%4%3%' OR otherphone LIKE '%2%0%2%5%5%5%0%1%4%3%' ORDER BY modifiedtime DESC LIMIT 0,10;");
  });

  it('finds numbers stored in any format, in the module the rule names', async () => {
    assert.deepEqual(await lookup({ callerId: '011 44 20 7946 0958', fieldName: 'firstname' }), { kind: 'value', value: 'Bob', matches: 1 });
    assert.deepEqual(await lookup({ module: 'Leads', fieldName: 'company' }), { kind: 'value', value: 'Lead Co', matches: 1 });
    assert.match(fake.statements.at(-1)!, /FROM Leads WHERE phone LIKE '[%0-9]+' OR mobile LIKE '[%0-9]+' ORDER BY modifiedtime DESC LIMIT/);
  });

  it('answers not_found for no match and for an unknown caller without a request', async () => {
    assert.deepEqual(await lookup({ callerId: '+1 303 555 0100' }), { kind: 'not_found' });
    await assertNoRequestForUnknownCallers(lookup, () => fake.requests.length);
  });

  it('picks the most recently modified of several matches, then the lowest record id', async () => {
    fake.rows.Contacts.push(
      { id: '12x90', cf_853: 'Newest', homephone: '202-555-0143', modifiedtime: '2025-01-01 00:00:00' },
      { id: '12x5', cf_853: 'Oldest', otherphone: '+1 202 555 0143', modifiedtime: '2020-01-01 00:00:00' },
    );
    assert.deepEqual(await lookup(), { kind: 'value', value: 'Newest', matches: 3 });
    fake.rows.Contacts[2]!.modifiedtime = '2024-03-01 10:00:00'; // tie with 12x40
    assert.deepEqual(await lookup(), { kind: 'value', value: 'Gold', matches: 3 });
  });

  it('drops a LIKE hit whose digits only interleave with the caller\'s', async () => {
    fake.rows.Contacts = [{ id: '12x50', cf_853: 'False', phone: '+1 (202) 555-90143', modifiedtime: '2024-01-01 00:00:00' }];
    assert.deepEqual(await lookup(), { kind: 'not_found' });
    assert.equal(fake.counts.queries, 1);
  });

  it('signs in once more on INVALID_SESSIONID, then reports AUTH if the new session fails too', async () => {
    await lookup();
    fake.expireSessions();
    assert.deepEqual(await lookup(), { kind: 'value', value: 'Gold', matches: 1 });
    assert.equal(fake.counts.logins, 2);
    fake.intercept = (req) => (req.query.get('operation') === 'query' ? { body: { success: false, error: { code: 'INVALID_SESSIONID', message: 'Session Identifier provided is Invalid' } } } : undefined);
    const result = await lookup();
    assert.equal(result.kind === 'error' && result.code, 'AUTH');
    assert.equal(fake.counts.logins, 3);
  });

  it('maps Vtiger error codes: wrong access key, access denied, query syntax', async () => {
    const wrong = await lookup({ credentials: { username: fake.username, password: 'login-password' } });
    assert.deepEqual(wrong.kind === 'error' && [wrong.code, /Access Key/.test(wrong.message)], ['AUTH', true]);
    assert.ok(!JSON.stringify(wrong).includes('login-password'));
    fake.intercept = (req) => (req.query.get('operation') === 'query' ? { body: { success: false, error: { code: 'ACCESS_DENIED', message: 'Permission to read is denied' } } } : undefined);
    const denied = await lookup();
    assert.equal(denied.kind === 'error' && denied.code, 'FORBIDDEN');
    fake.intercept = undefined;
    const badField = await lookup({ fieldName: 'no_such_column' });
    assert.equal(badField.kind === 'error' && badField.code, 'CONFIG');
  });

  it('waits out a 429 whose Retry-After fits the deadline, and reports one that does not', async () => {
    let limited = 1;
    fake.intercept = (req) => (req.query.get('operation') === 'query' && limited-- > 0 ? { status: 429, headers: { 'retry-after': '1' }, body: 'Too Many Requests' } : undefined);
    const started = Date.now();
    assert.deepEqual(await lookup(), { kind: 'value', value: 'Gold', matches: 1 });
    assert.ok(Date.now() - started >= 1000);
    fake.intercept = (req) => (req.query.get('operation') === 'query' ? { status: 429, headers: { 'retry-after': '10' }, body: '' } : undefined);
    const result = await lookup();
    assert.deepEqual(result.kind === 'error' && [result.code, result.retryAfterMs], ['RATE_LIMITED', 10_000]);
  });

  it('reports a 5xx as HTTP_ERROR and a slow answer as TIMEOUT within the deadline', async () => {
    fake.intercept = (req) => (req.query.get('operation') === 'query' ? { status: 502, body: 'Bad Gateway' } : undefined);
    assert.equal(((r) => r.kind === 'error' && r.code)(await lookup()), 'HTTP_ERROR');
    fake.intercept = (req) => (req.query.get('operation') === 'query' ? { delayMs: 2000, body: { success: true, result: [] } } : undefined);
    const started = Date.now();
    const slow = await lookup({}, 300);
    assert.equal(slow.kind === 'error' && slow.code, 'TIMEOUT');
    assert.ok(Date.now() - started < 700, `took ${Date.now() - started} ms`);
  });

  it('keeps quotes and SQL out of the statement and refuses crafted module and field names', async () => {
    assert.deepEqual(await lookup({ callerId: `(202) 555-0143' OR 'x'='x` }), { kind: 'value', value: 'Gold', matches: 1 });
    assert.ok(fake.statements.every((s) => !/'x'|OR '/.test(s)), fake.statements.join('\n'));
    const before = fake.requests.length;
    for (const fieldName of ['cf_853 FROM Users;--', "x'", 'a,b']) {
      const result = await lookup({ fieldName });
      assert.equal(result.kind === 'error' && result.code, 'CONFIG', fieldName);
    }
    assert.equal((await lookup({ module: 'Contacts WHERE 1' })).kind, 'error');
    assert.equal((await lookup({ module: 'Users' })).kind, 'error');
    assert.equal(fake.requests.length, before);
    // The literal is quoted even though only digits and % reach it.
    assert.match(phoneQuery('Contacts', 'id', ['phone'], "12'34"), /LIKE '%1%2%3%4%'/);
  });

  it('reuses one session: 20 lookups, exactly 1 login', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => lookup()));
    assert.ok(results.every((r) => r.kind === 'value'));
    assert.deepEqual([fake.counts.challenges, fake.counts.logins, fake.counts.queries], [1, 1, 20]);
  });

  describe('testConnection', () => {
    it('signs in and runs a sample query', async () => {
      const report = await connector.testConnection(credentials(), AbortSignal.timeout(5000));
      assert.equal(report.ok, true);
      assert.equal(fake.counts.queries, 1);
    });

    it('reports wrong credentials, 404 (wrong address), 429, DNS, TLS and timeout precisely', async () => {
      const wrong = await connector.testConnection({ username: 'nobody', password: 'x' }, AbortSignal.timeout(5000));
      assert.equal(!wrong.ok && wrong.code, 'AUTH');
      const wrongUrl = await make({ url: `${fake.url}/elsewhere` }).testConnection(credentials(), AbortSignal.timeout(5000));
      assert.equal(!wrongUrl.ok && wrongUrl.code, 'NOT_FOUND_URL');
      fake.intercept = () => ({ status: 429, headers: { 'retry-after': '30' }, body: '' });
      const limited = await connector.testConnection(credentials(), AbortSignal.timeout(5000));
      assert.deepEqual(!limited.ok && [limited.code, limited.retryAfterMs], ['RATE_LIMITED', 30_000]);
      fake.intercept = undefined;
      const dns = await make({ url: 'https://vtiger.invalid' }).testConnection(credentials(), AbortSignal.timeout(5000));
      assert.equal(!dns.ok && dns.code, 'DNS');
      const tls = await withUntrustedServer((url) => make({ url: url }).testConnection(credentials(), AbortSignal.timeout(5000)));
      assert.equal(!tls.ok && tls.code, 'TLS');
      fake.intercept = () => ({ delayMs: 1500, body: {} });
      const slow = await make().testConnection(credentials(), AbortSignal.timeout(300));
      assert.equal(!slow.ok && slow.code, 'TIMEOUT');
    });
  });

  it('with more than 10 records sharing a number, the newest one routes the call', async () => {
    fake.rows.Contacts = Array.from({ length: 11 }, (_, i) => ({ id: `12x${200 + i}`, cf_853: i === 10 ? 'Newest' : `Old ${i}`, phone: '+1 (202) 555-0143', mobile: '', modifiedtime: `2024-01-${String(i + 1).padStart(2, '0')} 09:00:00` }));
    assert.deepEqual(await lookup(), { kind: 'value', value: 'Newest', matches: 10 });
  });

  it('finds a number stored with an extension', async () => {
    fake.rows.Contacts = [{ id: '12x300', cf_853: 'Ext', phone: '202-555-0143 x123', mobile: '', modifiedtime: '2024-01-01 09:00:00' }];
    assert.deepEqual(await lookup(), { kind: 'value', value: 'Ext', matches: 1 });
  });

  it('reports an unknown user name (ACCESS_DENIED "username does not exists") as a sign-in error', async () => {
    const result = await lookup({ credentials: { username: 'nobody', password: fake.accessKey } });
    assert.equal(result.kind === 'error' && result.code, 'AUTH');
    assert.match(result.kind === 'error' ? result.message : '', /refused the sign-in \(ACCESS_DENIED: username does not exists\): check the user name/);
    const report = await connector.testConnection({ username: 'nobody', password: fake.accessKey }, AbortSignal.timeout(5000));
    assert.equal(!report.ok && report.code, 'AUTH');
    assert.doesNotMatch(report.message, /permission/);
  });

  it('offers only searchable modules, and refuses the fields of another (Potentials)', async () => {
    fake.intercept = (req) => (req.query.get('operation') === 'listtypes' ? { body: { success: true, result: { types: ['Contacts', 'Potentials', 'Leads'], information: {} } } } : undefined);
    assert.deepEqual(await connector.listModules(credentials(), AbortSignal.timeout(5000)), ['Contacts', 'Leads']);
    await assert.rejects(connector.listFields('Potentials', credentials(), AbortSignal.timeout(5000)), /cannot be searched by phone/);
  });

  it('lists searchable modules from listtypes and fields from describe', async () => {
    assert.deepEqual(await connector.listModules(credentials(), AbortSignal.timeout(5000)), ['Accounts', 'Contacts', 'Leads']);
    const fields = await connector.listFields('Contacts', credentials(), AbortSignal.timeout(5000));
    assert.deepEqual(fields.find((f) => f.name === 'cf_853'), { name: 'cf_853', label: 'Customer tier', type: 'picklist' });
    assert.equal(fake.counts.logins, 1);
  });

  it('accepts the Vtiger address with or without webservice.php, https only', () => {
    assert.equal(webserviceUrl('https://crm.example.com'), 'https://crm.example.com/webservice.php');
    assert.equal(webserviceUrl('https://crm.example.com/vtiger/webservice.php'), 'https://crm.example.com/vtiger/webservice.php');
    assert.equal(webserviceUrl('http://crm.example.com'), undefined);
    assert.match(vtigerSchema.safeParse({ url: 'crm.example.com', region: 'US' }).error!.issues[0]!.message, /https:\/\//);
  });
});
