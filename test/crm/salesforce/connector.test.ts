import assert from 'node:assert/strict';
import type { LookupRequest } from '../../../src/crm/connector';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import type { IntegrationConnector } from '../../../src/crm/integration';
import { escapeSosl, salesforceDefinition, soslQuery } from '../../../src/crm/salesforce';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { phoneVariants } from '../../../src/domain/phone';
import { assertNoRequestForUnknownCallers, connectorServices, lookupByDeadline, lookupRequest, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';
import { FakeHttpsServer } from '../../support/fake-https';
import { SalesforceFake } from '../../support/fakes/salesforce-fake';


describe('Salesforce connector', () => {
  let fake: SalesforceFake;
  let http: HttpClient;
  let tokens: TokenCache;

  before(async () => {
    fake = await SalesforceFake.start();
    http = testHttpClient();
    fake.records.Contact!.push(
      { Id: '003000000000001AAA', LastModifiedDate: '2024-05-01T10:00:00.000+0000', Name: 'Ada Lovelace', Phone: '(202) 555-0101', Level__c: 'Gold', Account: { Name: 'Analytical Engines' } },
      { Id: '003000000000002AAA', LastModifiedDate: '2024-01-01T00:00:00.000+0000', Name: 'Older', MobilePhone: '+1 202 555 0199', Account: null },
      { Id: '003000000000004AAA', LastModifiedDate: '2024-06-01T00:00:00.000+0000', Name: 'Newer, higher Id', HomePhone: '202.555.0199', Account: null },
      { Id: '003000000000003AAA', LastModifiedDate: '2024-06-01T00:00:00.000+0000', Name: 'Newer, lower Id', AssistantPhone: '2025550199', Account: null },
      // Holds the caller's digits inside a longer number: SOSL finds it, the re-check drops it.
      { Id: '003000000000005AAA', LastModifiedDate: '2025-01-01T00:00:00.000+0000', Name: 'Impostor', OtherPhone: '+91 2025550177 42', Account: null },
    );
    fake.records.Invoice__c!.push({ Id: 'a01000000000001AAA', LastModifiedDate: '2024-01-01T00:00:00.000+0000', Name: 'INV-7', Billing_Phone__c: '+1 202 555 0123' });
  });
  beforeEach(() => { tokens = new TokenCache(); });
  afterEach(() => assert.deepEqual(fake.violations.splice(0), []));
  after(async () => { await http.close(); await fake.close(); });

  function connector(overrides: Record<string, unknown> = {}): IntegrationConnector {
    const settings = salesforceDefinition.schema.parse({
      region: 'US', loginUrl: fake.login.url, clientId: fake.clientId, clientSecret: fake.clientSecret,
      username: 'router@acme.example', password: 'Passw0rd!', securityToken: 'TOKEN123', ...overrides,
    });
    return salesforceDefinition.create(settings, connectorServices(http, tokens));
  }
  const request = (callerId: string, over: Partial<LookupRequest> = {}) => lookupRequest({ callerId, fieldName: 'Account.Name', module: 'Contact' }, over);
  const lookup = lookupByDeadline;

  it('logs in with password + security token and reads a related field (Account.Name) from the SOSL answer', async () => {
    assert.deepEqual(await lookup(connector(), request('+1 202 555 0101')), { kind: 'value', value: 'Analytical Engines', matches: 1 });
    const login = new URLSearchParams(fake.login.requests.at(-1)!.body);
    assert.equal(login.get('grant_type'), 'password');
    assert.equal(login.get('password'), 'Passw0rd!TOKEN123');
    assert.equal(fake.lastSosl(), 'FIND {2025550101 OR 12025550101} IN PHONE FIELDS RETURNING Contact(Id, Account.Name, Phone, MobilePhone, HomePhone, OtherPhone, AssistantPhone, LastModifiedDate ORDER BY LastModifiedDate DESC LIMIT 10)');
    assert.match(String(fake.searches().at(-1)!.headers.authorization), /^Bearer 00Dfake!session\d+$/);
  });

  it('reads a custom field and a plain field', async () => {
    assert.deepEqual(await lookup(connector(), request('2025550101', { fieldName: 'Level__c' })), { kind: 'value', value: 'Gold', matches: 1 });
    assert.deepEqual(await lookup(connector(), request('2025550101', { fieldName: 'name' })), { kind: 'value', value: 'Ada Lovelace', matches: 1 });
  });

  it('signs in with client credentials at the My Domain URL', async () => {
    const sf = connector({ authFlow: 'client_credentials', username: '', password: '' });
    assert.equal((await lookup(sf, request('2025550101'))).kind, 'value');
    assert.deepEqual([...new URLSearchParams(fake.login.requests.at(-1)!.body).keys()].sort(), ['client_id', 'client_secret', 'grant_type']);
    const wrongUrl = salesforceDefinition.schema.safeParse({ region: 'US', loginUrl: 'https://login.salesforce.com', authFlow: 'client_credentials', clientId: 'a', clientSecret: 'b' });
    assert.match(wrongUrl.error!.issues[0]!.message, /My Domain/);
  });

  it('finds the phone fields of a custom object from describe, once', async () => {
    const sf = connector();
    for (let i = 0; i < 3; i += 1) assert.deepEqual(await lookup(sf, request('2025550123', { module: 'Invoice__c', fieldName: 'Name' })), { kind: 'value', value: 'INV-7', matches: 1 });
    assert.equal(fake.instance.requests.filter((r) => r.path.endsWith('/sobjects/Invoice__c/describe')).length, 1);
    assert.match(fake.lastSosl(), /RETURNING Invoice__c\(Id, Name, Billing_Phone__c, LastModifiedDate ORDER BY LastModifiedDate DESC LIMIT 10\)/);
  });

  it('answers not_found for no record, and for an empty caller ID without a request', async () => {
    assert.deepEqual(await lookup(connector(), request('+12025550000')), { kind: 'not_found' });
    await assertNoRequestForUnknownCallers((over) => lookup(connector(), request('', over)), () => fake.instance.requests.length + fake.loginRequests, ['']);
  });

  it('asks Salesforce for the newest records first, so the newest of more than 10 sharing a number wins', async () => {
    for (let i = 0; i < 12; i += 1) {
      fake.records.Lead!.push({ Id: `00Q0000000000${String(i).padStart(2, '0')}AAA`, LastModifiedDate: `2024-03-${String(i + 1).padStart(2, '0')}T08:00:00.000+0000`, Phone: '(202) 555-0166' });
    }
    assert.deepEqual(await lookup(connector(), request('2025550166', { module: 'Lead', fieldName: 'Id' })), { kind: 'value', value: '00Q000000000011AAA', matches: 10 });
  });

  it('picks the most recently modified of several matches, then the lowest Id', async () => {
    assert.deepEqual(await lookup(connector(), request('2025550199', { fieldName: 'Name' })), { kind: 'value', value: 'Newer, lower Id', matches: 3 });
  });

  it('drops a longer number that merely contains the caller digits (re-check)', async () => {
    assert.deepEqual(await lookup(connector(), request('2025550177', { fieldName: 'Name' })), { kind: 'not_found' });
  });

  it('logs in once for 20 lookups', async () => {
    const sf = connector();
    const before = fake.loginRequests;
    const results = await Promise.all(Array.from({ length: 20 }, () => lookup(sf, request('2025550101'))));
    assert.ok(results.every((r) => r.kind === 'value'));
    assert.equal(fake.loginRequests, before + 1);
  });

  it('logs in again exactly once after 401 INVALID_SESSION_ID, then succeeds; a second 401 is AUTH', async () => {
    const sf = connector();
    await lookup(sf, request('2025550101'));
    fake.expireSessions();
    let before = fake.loginRequests;
    assert.equal((await lookup(sf, request('2025550101'))).kind, 'value');
    assert.equal(fake.loginRequests, before + 1);
    const invalid = { status: 401, body: [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }] };
    fake.script((r) => r.path.endsWith('/search/'), invalid);
    fake.script((r) => r.path.endsWith('/search/'), invalid);
    before = fake.loginRequests;
    const result = await lookup(sf, request('2025550101'));
    assert.equal(result.kind === 'error' && result.code, 'AUTH');
    assert.equal(fake.loginRequests, before + 1);
  });

  it('reports REQUEST_LIMIT_EXCEEDED as RATE_LIMITED, clearly, without retrying', async () => {
    fake.script((r) => r.path.endsWith('/search/'), { status: 403, body: [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }] });
    const searches = fake.searches().length;
    const result = await lookup(connector(), request('2025550101'));
    assert.equal(result.kind === 'error' && result.code, 'RATE_LIMITED');
    assert.match(result.kind === 'error' ? result.message : '', /24-hour API request allowance/);
    assert.equal(fake.searches().length, searches + 1);
  });

  it('waits out a 429 that fits before the deadline, and reports one that does not', async () => {
    fake.script((r) => r.path.endsWith('/search/'), { status: 429, headers: { 'retry-after': '1' }, body: [] });
    assert.equal((await lookup(connector(), request('2025550101'))).kind, 'value');
    fake.script((r) => r.path.endsWith('/search/'), { status: 429, headers: { 'retry-after': '60' }, body: [] });
    const result = await lookup(connector(), request('2025550101'));
    assert.equal(result.kind === 'error' && result.code, 'RATE_LIMITED');
    assert.equal(result.kind === 'error' && result.retryAfterMs, 60_000);
  });

  it('maps 503 to HTTP_ERROR, a bad field to NOT_FOUND_URL, and a slow answer to TIMEOUT within the deadline', async () => {
    fake.script((r) => r.path.endsWith('/search/'), { status: 503, body: [{ message: 'Server unavailable', errorCode: 'SERVER_UNAVAILABLE' }] });
    const down = await lookup(connector(), request('2025550101'));
    assert.equal(down.kind === 'error' && down.code, 'HTTP_ERROR');
    const field = await lookup(connector(), request('2025550101', { fieldName: 'Nope__c' }));
    assert.equal(field.kind === 'error' && field.code, 'NOT_FOUND_URL');
    assert.match(field.kind === 'error' ? field.message : '', /No such column 'Nope__c'/);
    fake.script((r) => r.path.endsWith('/search/'), { delayMs: 2000, body: { searchRecords: [] } });
    const started = Date.now();
    const slow = await lookup(connector(), request('2025550101', { deadlineAt: Date.now() + 300 }));
    assert.equal(slow.kind === 'error' && slow.code, 'TIMEOUT');
    assert.ok(Date.now() - started < 600);
  });

  it('escapes every SOSL reserved character and sends only digits from the caller ID', async () => {
    assert.equal(escapeSosl('a?b&c|d!e{f}g[h]i(j)k^l~m*n:o\\p"q\'r+s-t'), 'a\\?b\\&c\\|d\\!e\\{f\\}g\\[h\\]i\\(j\\)k\\^l\\~m\\*n\\:o\\\\p\\"q\\\'r\\+s\\-t');
    await lookup(connector(), request('202) 555-0101} RETURNING User(Password'));
    assert.match(fake.lastSosl(), /^FIND \{2025550101 OR 12025550101\} IN PHONE FIELDS RETURNING Contact\(/);
    const before = fake.searches().length;
    const badField = await lookup(connector(), request('2025550101', { fieldName: 'Name) , User(Password' }));
    assert.equal(badField.kind === 'error' && badField.code, 'CONFIG');
    const badObject = await lookup(connector(), request('2025550101', { module: 'Contact(Id) RETURNING User' }));
    assert.equal(badObject.kind === 'error' && badObject.code, 'CONFIG');
    assert.equal(fake.searches().length, before);
    assert.doesNotMatch(soslQuery(phoneVariants('+44 20 7123 4567', 'US'), 'Lead', 'Name', ['Phone', 'phone']), /Phone, phone/);
  });

  describe('testConnection', () => {
    it('reports ok after a fresh login and a sample search', async () => {
      const sf = connector();
      await lookup(sf, request('2025550101'));
      const before = fake.loginRequests;
      const report = await sf.testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
      assert.equal(report.ok, true, JSON.stringify(report));
      assert.equal(fake.loginRequests, before + 1);
    });

    it('reports AUTH for a wrong password or consumer secret, without echoing them', async () => {
      const wrong = await connector().testConnection({ username: 'router@acme.example', password: 'WrongPass' }, AbortSignal.timeout(5000));
      assert.equal(!wrong.ok && wrong.code, 'AUTH');
      assert.match(!wrong.ok ? wrong.message : '', /invalid_grant/);
      assert.doesNotMatch(!wrong.ok ? wrong.message : '', /WrongPass/);
      const client = await connector({ clientSecret: 'leaked?' }).testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
      assert.equal(!client.ok && client.code, 'AUTH');
      assert.match(!client.ok ? client.message : '', /^Salesforce sign-in failed \(invalid_client_id: client identifier invalid\): check the Consumer Key and Consumer Secret\.$/);
    });

    it('reports CONFIG without credentials, NOT_FOUND_URL for a login URL that is not Salesforce, TIMEOUT when silent', async () => {
      const empty = await connector({ username: '', password: '' }).testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
      assert.equal(!empty.ok && empty.code, 'CONFIG');
      const other = await FakeHttpsServer.start(() => ({ status: 404, body: 'Not Found' }));
      try {
        const notFound = await connector({ loginUrl: other.url }).testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
        assert.equal(!notFound.ok && notFound.code, 'NOT_FOUND_URL');
      } finally { await other.close(); }
      fake.script((r) => r.path === '/services/oauth2/token', { delayMs: 1000, body: {} });
      const silent = await connector().testConnection(NO_CREDENTIALS, AbortSignal.timeout(300));
      assert.equal(!silent.ok && silent.code, 'TIMEOUT');
    });
  });

  it('lists searchable objects and the fields of one, with relationship names', async () => {
    const modules = await connector().listModules(NO_CREDENTIALS, AbortSignal.timeout(5000));
    assert.deepEqual(modules, ['Contact', 'Lead', 'Account', 'Invoice__c'], 'not Opportunity nor Project__c: no phone field to search');
    const fields = await connector().listFields('Contact', NO_CREDENTIALS, AbortSignal.timeout(5000));
    assert.deepEqual(fields.find((f) => f.name === 'Account.Name'), { name: 'Account.Name', label: 'Account ID (name)', type: 'reference' });
    assert.deepEqual(fields.find((f) => f.name === 'Phone'), { name: 'Phone', label: 'Business Phone', type: 'phone' });
    await assert.rejects(connector().listFields('Opportunity', NO_CREDENTIALS, AbortSignal.timeout(5000)), /Salesforce object Opportunity has no phone field: a rule cannot find callers in it/);
  });
});
