import assert from 'node:assert/strict';
import type { LookupRequest } from '../../../src/crm/connector';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import type { IntegrationConnector } from '../../../src/crm/integration';
import { zendeskBaseUrl, zendeskDefinition, zendeskSchema } from '../../../src/crm/zendesk';
import { assertNoRequestForUnknownCallers, closeFake, connectorServices, lookupByDeadline, lookupRequest, NO_CREDENTIALS, testHttpClient, withUntrustedServer } from '../../support/connector-harness';
import { ZendeskFake } from '../../support/fakes/zendesk-fake';

describe('Zendesk connector', () => {
  let fake: ZendeskFake;
  let http: HttpClient;
  let connector: IntegrationConnector;

  const credentials = () => ({ username: fake.email, password: fake.apiToken });
  const request = (over: Partial<LookupRequest> = {}) => lookupRequest({ callerId: '+1 513 555 7611', fieldName: 'name', module: 'users', credentials: credentials() }, over);
  const make = (over: Record<string, unknown> = {}) =>
    zendeskDefinition.create(zendeskSchema.parse({ subdomain: fake.url, region: 'US', authMode: 'api_token', ...over }), connectorServices(http));
  const lookup = (over: Partial<LookupRequest> = {}, ms = 3000) => lookupByDeadline(connector, request({ deadlineAt: Date.now() + ms, ...over }));

  before(() => { http = testHttpClient(); });
  after(() => http.close());
  beforeEach(async () => {
    fake = await ZendeskFake.start();
    fake.users = [
      { id: 101, name: 'Ann Caller', phone: '+1 513.555.7611', role: 'end-user', updated_at: '2024-03-01T10:00:00Z', organization_id: 7, user_fields: { tier: 'gold', account_no: 42 } },
      { id: 102, name: 'No Org', phone: '+44 20 7946 0958', role: 'end-user', updated_at: '2024-03-01T10:00:00Z', organization_id: null, user_fields: {} },
    ];
    fake.organizations = [{ id: 7, name: 'Acme Ltd', organization_fields: { region_code: 'EMEA' } }];
    connector = make();
  });
  afterEach(() => closeFake(fake, 'Zendesk'));

  it('searches users with the documented leading-* digits form and reads a root attribute', async () => {
    assert.deepEqual(await lookup(), { kind: 'value', value: 'Ann Caller', matches: 1 });
    const search = fake.requests[0]!;
    assert.equal(search.path, '/api/v2/search.json');
    assert.equal(search.query.get('query'), 'type:user phone:*5135557611');
    assert.equal(Buffer.from(String(search.headers.authorization).slice(6), 'base64').toString(), `${fake.email}/token:${fake.apiToken}`);
  });

  it('reads custom user fields by key or user_fields.key, and organization fields for the organizations module', async () => {
    assert.deepEqual(await lookup({ fieldName: 'user_fields.tier' }), { kind: 'value', value: 'gold', matches: 1 });
    assert.deepEqual(await lookup({ fieldName: 'account_no' }), { kind: 'value', value: '42', matches: 1 });
    assert.deepEqual(await lookup({ module: 'organizations', fieldName: 'region_code' }), { kind: 'value', value: 'EMEA', matches: 1 });
    assert.deepEqual(await lookup({ module: 'organizations', fieldName: 'name' }), { kind: 'value', value: 'Acme Ltd', matches: 1 });
    assert.equal(fake.requests.at(-1)!.path, '/api/v2/organizations/7');
    assert.deepEqual(await lookup({ callerId: '011 44 20 7946 0958', module: 'organizations', fieldName: 'name' }), { kind: 'value', value: '', matches: 1 });
    const unknown = await lookup({ fieldName: 'no_such_field' });
    assert.equal(unknown.kind === 'error' && unknown.code, 'CONFIG');
  });

  it('authenticates with a fixed OAuth token (legacy) when no email/API token is given', async () => {
    const oauth = make({ oauthToken: fake.oauthToken });
    const result = await lookupByDeadline(oauth, request({ credentials: NO_CREDENTIALS }));
    assert.deepEqual(result, { kind: 'value', value: 'Ann Caller', matches: 1 });
    assert.equal(fake.requests.at(-1)!.headers.authorization, `Bearer ${fake.oauthToken}`);
    const none = await lookupByDeadline(make(), request({ credentials: NO_CREDENTIALS }));
    assert.equal(none.kind === 'error' && none.code, 'CONFIG');
  });

  it('answers not_found for no match and for an unknown caller without a request', async () => {
    assert.deepEqual(await lookup({ callerId: '+1 303 555 0100' }), { kind: 'not_found' });
    await assertNoRequestForUnknownCallers(lookup, () => fake.requests.length);
  });

  it('picks the most recently updated of several users, then the lowest id', async () => {
    fake.users.push(
      { id: 99, name: 'Newest', phone: '(513) 555-7611', updated_at: '2025-01-01T00:00:00Z' },
      { id: 98, name: 'Oldest', phone: '513-555-7611', updated_at: '2020-01-01T00:00:00Z' },
    );
    assert.deepEqual(await lookup(), { kind: 'value', value: 'Newest', matches: 3 });
    fake.users[2]!.updated_at = '2024-03-01T10:00:00Z'; // tie with 101
    assert.deepEqual(await lookup(), { kind: 'value', value: 'Newest', matches: 3 });
    fake.users[2]!.id = 150;
    assert.deepEqual(await lookup(), { kind: 'value', value: 'Ann Caller', matches: 3 });
  });

  it('drops a user whose number only contains the digits', async () => {
    fake.users = [{ id: 5, name: 'Longer number', phone: '+1 513 555 76119', updated_at: '2024-01-01T00:00:00Z' }];
    assert.deepEqual(await lookup(), { kind: 'not_found' });
    assert.equal(fake.counts.searches, 1);
  });

  it('tries a 401 once more, then reports AUTH', async () => {
    const result = await lookup({ credentials: { username: fake.email, password: 'wrong' } });
    assert.equal(result.kind === 'error' && result.code, 'AUTH');
    assert.equal(fake.counts.unauthenticated, 2);
    let rejected = 1;
    fake.intercept = () => (rejected-- > 0 ? { status: 401, body: { error: "Couldn't authenticate you" } } : undefined);
    assert.deepEqual(await lookup(), { kind: 'value', value: 'Ann Caller', matches: 1 });
  });

  it('waits out a 429 whose Retry-After fits the deadline, and reports one that does not', async () => {
    let limited = 1;
    fake.intercept = () => (limited-- > 0 ? { status: 429, headers: { 'retry-after': '1' }, body: { error: 'TooManyRequests' } } : undefined);
    const started = Date.now();
    assert.deepEqual(await lookup(), { kind: 'value', value: 'Ann Caller', matches: 1 });
    assert.ok(Date.now() - started >= 1000);
    fake.intercept = () => ({ status: 429, headers: { 'retry-after': '60' }, body: {} });
    const result = await lookup();
    assert.deepEqual(result.kind === 'error' && [result.code, result.retryAfterMs], ['RATE_LIMITED', 60_000]);
  });

  it('reports a 5xx as HTTP_ERROR and a slow answer as TIMEOUT within the deadline', async () => {
    fake.intercept = () => ({ status: 500, body: { error: 'InternalError' } });
    const failed = await lookup();
    assert.equal(failed.kind === 'error' && failed.code, 'HTTP_ERROR');
    fake.intercept = () => ({ delayMs: 2000, body: { results: [] } });
    const started = Date.now();
    const slow = await lookup({}, 300);
    assert.equal(slow.kind === 'error' && slow.code, 'TIMEOUT');
    assert.ok(Date.now() - started < 700, `took ${Date.now() - started} ms`);
  });

  it('sends only digits to the search, whatever the caller ID holds', async () => {
    assert.deepEqual(await lookup({ callerId: `513) 555-7611 OR role:admin"` }), { kind: 'value', value: 'Ann Caller', matches: 1 });
    assert.equal(fake.requests[0]!.query.get('query'), 'type:user phone:*5135557611');
    assert.equal((await lookup({ fieldName: 'name&x=1' })).kind, 'error');
  });

  it('makes no sign-in request: 20 lookups are 20 searches and nothing else', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => lookup()));
    assert.ok(results.every((r) => r.kind === 'value'));
    assert.equal(fake.requests.length, 20);
    assert.ok(fake.requests.every((r) => r.path === '/api/v2/search.json'));
  });

  describe('testConnection', () => {
    it('authenticates and runs a sample search', async () => {
      const report = await connector.testConnection(credentials(), AbortSignal.timeout(5000));
      assert.equal(report.ok, true);
    });

    it('reports wrong credentials, 403, 404, 429, DNS, TLS and timeout precisely', async () => {
      const wrong = await connector.testConnection({ username: fake.email, password: 'nope' }, AbortSignal.timeout(5000));
      assert.equal(!wrong.ok && wrong.code, 'AUTH');
      assert.ok(!JSON.stringify(wrong).includes('nope'));
      fake.intercept = () => ({ status: 403, body: { error: 'Forbidden', description: 'You do not have access to this page.' } });
      const forbidden = await connector.testConnection(credentials(), AbortSignal.timeout(5000));
      assert.equal(!forbidden.ok && forbidden.code, 'FORBIDDEN');
      fake.intercept = () => ({ status: 404, body: { error: 'InvalidEndpoint' } });
      const missing = await connector.testConnection(credentials(), AbortSignal.timeout(5000));
      assert.equal(!missing.ok && missing.code, 'NOT_FOUND_URL');
      fake.intercept = () => ({ status: 429, headers: { 'retry-after': '45' }, body: {} });
      const limited = await connector.testConnection(credentials(), AbortSignal.timeout(5000));
      assert.deepEqual(!limited.ok && [limited.code, limited.retryAfterMs], ['RATE_LIMITED', 45_000]);
      const dns = await make({ subdomain: 'https://zendesk.invalid' }).testConnection(credentials(), AbortSignal.timeout(5000));
      assert.equal(!dns.ok && dns.code, 'DNS');
      const tls = await withUntrustedServer((url) => make({ subdomain: url }).testConnection(credentials(), AbortSignal.timeout(5000)));
      assert.equal(!tls.ok && tls.code, 'TLS');
      fake.intercept = () => ({ delayMs: 1500, body: {} });
      const slow = await connector.testConnection(credentials(), AbortSignal.timeout(300));
      assert.equal(!slow.ok && slow.code, 'TIMEOUT');
    });
  });

  it('lists users and organizations, and their standard plus custom fields across pages', async () => {
    assert.deepEqual(await connector.listModules(credentials(), AbortSignal.timeout(5000)), ['users', 'organizations']);
    const userFields = await connector.listFields('users', credentials(), AbortSignal.timeout(5000));
    assert.ok(userFields.some((f) => f.name === 'name'));
    assert.deepEqual(userFields.filter((f) => f.name.startsWith('user_fields.')), [
      { name: 'user_fields.tier', label: 'Support tier', type: 'dropdown' },
      { name: 'user_fields.account_no', label: 'Account number', type: 'text' },
    ]);
    assert.deepEqual(fake.requests.map((r) => r.query.get('page')), [null, '2']);
    const orgFields = await connector.listFields('organizations', credentials(), AbortSignal.timeout(5000));
    assert.ok(orgFields.some((f) => f.name === 'organization_fields.region_code'));
  });

  it('accepts a subdomain, its zendesk.com host or an https address, and nothing else', () => {
    assert.equal(zendeskBaseUrl('acme'), 'https://acme.zendesk.com');
    assert.equal(zendeskBaseUrl('Acme.zendesk.com'), 'https://acme.zendesk.com');
    assert.equal(zendeskBaseUrl('https://support.acme.com/'), 'https://support.acme.com');
    for (const bad of ['http://acme.zendesk.com', 'acme.evil.com/x', 'https://acme.zendesk.com/api?x=1', 'ac me']) assert.equal(zendeskBaseUrl(bad), undefined, bad);
    assert.match(zendeskSchema.safeParse({ subdomain: 'ac me', region: 'US' }).error!.issues[0]!.message, /subdomain/);
    assert.match(zendeskSchema.safeParse({ region: 'US' }).error!.issues[0]!.message, /subdomain/);
  });
});
