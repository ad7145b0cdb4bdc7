import assert from 'node:assert/strict';
import type { LookupRequest, LookupResult } from '../../../src/crm/connector';
import { dynamicsDefinition, type DynamicsSettings } from '../../../src/crm/dynamics';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import type { IntegrationConnector } from '../../../src/crm/integration';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { assertNoRequestForUnknownCallers, closeFake, connectorServices, lookupByDeadline, lookupRequest, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';
import { Dynamics2015Fake, Dynamics365Fake } from '../../support/fakes/dynamics-fake';

const date = (iso: string) => `/Date(${Date.parse(iso)})/`;
const never = () => new AbortController().signal;

const lookupWith = (c: IntegrationConnector, over: Partial<LookupRequest> = {}) => lookupByDeadline(c, lookupRequest({ callerId: '+15551234567', fieldName: 'FullName', module: 'Contact' }, over));

const codeOf = (r: LookupResult) => (r.kind === 'error' ? r.code : r.kind);

describe('Dynamics CRM 2015 on-premises (OData v2 over NTLM)', () => {
  let fake: Dynamics2015Fake;
  let http: HttpClient;
  let tokens: TokenCache;

  const connector = (over: Record<string, unknown> = {}) => dynamicsDefinition.create(
    dynamicsDefinition.schema.parse({ deployment: 'onprem2015', orgUrl: fake.orgUrl, username: 'CONTOSO\\crm-routing', password: 'Pa55word!', region: 'US', ...over }),
    connectorServices(http, tokens),
  );

  beforeEach(async () => {
    fake = await Dynamics2015Fake.start();
    fake.records.Contact = [
      {
        ContactId: 'a0000000-0000-0000-0000-000000000001', FullName: 'Ann Smith', Telephone1: '(555) 123-4567', MobilePhone: null, Telephone2: null, Telephone3: null,
        ModifiedOn: date('2024-05-01T10:00:00Z'), ParentCustomerId: { Id: 'b0000000-0000-0000-0000-000000000009', LogicalName: 'account', Name: 'Acme Ltd' },
        PreferredContactMethodCode: { Value: 3 }, BirthDate: date('1980-02-03T00:00:00Z'),
      },
      { ContactId: 'a0000000-0000-0000-0000-000000000002', FullName: 'Decoy', Telephone1: '+1 999 123 4567', ModifiedOn: date('2024-01-01T00:00:00Z') },
    ];
    http = testHttpClient();
    tokens = new TokenCache();
  });
  afterEach(async () => {
    await http.close();
    await closeFake(fake, 'Dynamics CRM');
  });

  it('authenticates with a real NTLM handshake on one connection and reads the field', async () => {
    assert.deepEqual(await lookupWith(connector()), { kind: 'value', value: 'Ann Smith', matches: 1 });
    assert.equal(fake.handshakes, 1);
    const [negotiate, answer] = fake.server.requests;
    assert.match(String(negotiate?.headers.authorization), /^NTLM /);
    assert.equal(negotiate?.connectionId, answer?.connectionId, 'Type 1 and Type 3 on the same connection');
    assert.equal(answer?.path, '/Contoso/XRMServices/2011/OrganizationData.svc/ContactSet');
    assert.equal(answer?.query.get('$select'), 'ModifiedOn,FullName,Telephone1,Telephone2,Telephone3,MobilePhone');
    assert.match(answer?.query.get('$filter') ?? '', /^substringof\('1234567',Telephone1\) or substringof\('123 4567',Telephone1\) or /);
    assert.match(answer?.query.get('$filter') ?? '', /substringof\('123-4567',MobilePhone\)/);
  });

  it('reads lookups by Name, option sets by Value and dates as ISO 8601', async () => {
    const c = connector();
    assert.deepEqual(await lookupWith(c, { fieldName: 'ParentCustomerId' }), { kind: 'value', value: 'Acme Ltd', matches: 1 });
    assert.deepEqual(await lookupWith(c, { fieldName: 'PreferredContactMethodCode' }), { kind: 'value', value: '3', matches: 1 });
    assert.deepEqual(await lookupWith(c, { fieldName: 'BirthDate' }), { kind: 'value', value: '1980-02-03T00:00:00.000Z', matches: 1 });
  });

  it('answers not_found for no match and for an unknown caller without a request', async () => {
    assert.deepEqual(await lookupWith(connector(), { callerId: '+15550000000' }), { kind: 'not_found' });
    await assertNoRequestForUnknownCallers((over) => lookupWith(connector(), over), () => fake.requests.length, ['']);
  });

  it('drops substring hits that are another number, and picks the most recent of several, then the lowest id', async () => {
    assert.deepEqual(await lookupWith(connector(), { callerId: '+19991234567' }), { kind: 'value', value: 'Decoy', matches: 1 });
    fake.records.Contact = [
      { ContactId: 'c3', FullName: 'Older', Telephone2: '555.123.4567', ModifiedOn: date('2023-01-01T00:00:00Z') },
      { ContactId: 'c2', FullName: 'Newest B', MobilePhone: '5551234567', ModifiedOn: date('2024-06-01T00:00:00Z') },
      { ContactId: 'c1', FullName: 'Newest A', Telephone1: '+1 555 123 4567', ModifiedOn: date('2024-06-01T00:00:00Z') },
      { ContactId: 'c0', FullName: 'Decoy', Telephone1: '+1 999 123 4567', ModifiedOn: date('2025-01-01T00:00:00Z') },
    ];
    assert.deepEqual(await lookupWith(connector()), { kind: 'value', value: 'Newest A', matches: 3 });
  });

  it('handshakes once for 20 lookups: one keep-alive connection, reused', async () => {
    const c = connector();
    for (let i = 0; i < 20; i += 1) assert.equal(codeOf(await lookupWith(c)), 'value');
    assert.equal(fake.handshakes, 1);
    assert.equal(fake.connectionsUsed, 1);
    assert.equal(fake.served, 20);
  });

  it('handshakes once per connection when calls overlap', async () => {
    const c = connector();
    const results = await Promise.all(Array.from({ length: 5 }, () => lookupWith(c)));
    assert.ok(results.every((r) => r.kind === 'value'));
    assert.equal(fake.handshakes, fake.connectionsUsed);
    for (let i = 0; i < 10; i += 1) await lookupWith(c);
    assert.equal(fake.handshakes, fake.connectionsUsed, 'later calls reuse the authenticated connections');
  });

  it('handshakes again, once, when the server forgot the connection (401), then succeeds', async () => {
    const c = connector();
    await lookupWith(c);
    fake.forgetConnections();
    assert.deepEqual(await lookupWith(c), { kind: 'value', value: 'Ann Smith', matches: 1 });
    assert.equal(fake.handshakes, 2);
  });

  it('answers AUTH for a wrong password after exactly one retry with a fresh connection', async () => {
    const result = await lookupWith(connector({ password: 'wrong' }));
    assert.equal(codeOf(result), 'AUTH');
    assert.equal(fake.handshakes, 2);
    assert.doesNotMatch(result.kind === 'error' ? result.message : '', /wrong/);
  });

  it('uses the rule\'s Windows login over the integration\'s', async () => {
    await fake.close();
    fake = await Dynamics2015Fake.start({ 'CONTOSO\\crm-routing': 'Pa55word!', 'CONTOSO\\agent7': 'pw7' });
    fake.records.Contact = [{ ContactId: 'c1', FullName: 'Ann', Telephone1: '5551234567', ModifiedOn: date('2024-01-01T00:00:00Z') }];
    const c = connector({ password: 'wrong' });
    assert.equal(codeOf(await lookupWith(c, { credentials: { username: 'CONTOSO\\agent7', password: 'pw7' } })), 'value');
  });

  it('waits out a 429 that fits the deadline, and reports one that does not', async () => {
    const c = connector();
    await lookupWith(c);
    fake.recordOverrides.push({ status: 429, headers: { 'retry-after': '1' }, body: '' });
    assert.equal(codeOf(await lookupWith(c)), 'value');
    fake.recordOverrides.push({ status: 429, headers: { 'retry-after': '60' }, body: '' });
    const limited = await lookupWith(c);
    assert.equal(codeOf(limited), 'RATE_LIMITED');
    assert.equal(limited.kind === 'error' && limited.retryAfterMs, 60_000);
  });

  it('answers HTTP_ERROR for a 5xx and names the column the server refused', async () => {
    const c = connector();
    fake.recordOverrides.push({ status: 500, body: { error: { code: '', message: { lang: 'en-US', value: 'Generic SQL error.' } } } });
    assert.equal(codeOf(await lookupWith(c)), 'HTTP_ERROR');
    const refused = await lookupWith(c, { fieldName: 'new_Tier' });
    assert.equal(codeOf(refused), 'HTTP_ERROR');
    assert.match(refused.kind === 'error' ? refused.message : '', /No property 'new_Tier'/);
  });

  it('answers TIMEOUT within the deadline when the server is slow', async () => {
    const c = connector();
    await lookupWith(c);
    fake.recordOverrides.push({ delayMs: 2000, body: { d: { results: [] } } });
    const started = Date.now();
    assert.equal(codeOf(await lookupWith(c, { deadlineAt: Date.now() + 300 })), 'TIMEOUT');
    assert.ok(Date.now() - started < 600);
    assert.equal(codeOf(await lookupWith(c)), 'value', 'the connection cut by the timeout is replaced');
  });

  it('keeps quotes and parentheses of a caller ID out of the filter', async () => {
    const result = await lookupWith(connector(), { callerId: "555') or substringof('',FullName) or ('1234567" });
    assert.notEqual(codeOf(result), 'error');
    const filters = fake.server.requests.map((r) => r.query.get('$filter')).filter((f): f is string => f !== null);
    for (const f of filters) for (const term of f.matchAll(/substringof\('((?:[^']|'')*)'/g)) assert.match(term[1] as string, /^[0-9 .()-]+$/);
    const before = fake.server.requests.length;
    assert.equal(codeOf(await lookupWith(connector(), { fieldName: "FullName,Telephone1'" })), 'CONFIG');
    assert.equal(fake.server.requests.length, before);
  });

  describe('testConnection', () => {
    it('reports ok after a handshake and a sample search', async () => {
      const report = await connector().testConnection(NO_CREDENTIALS, never());
      assert.equal(report.ok, true, JSON.stringify(report));
      assert.equal(fake.handshakes, 1);
    });

    it('reports AUTH for a wrong password, NOT_FOUND_URL for a wrong organization, CONFIG for no user', async () => {
      const auth = await connector({ password: 'nope' }).testConnection(NO_CREDENTIALS, never());
      assert.equal(!auth.ok && auth.code, 'AUTH');
      const url = await connector({ orgUrl: `${fake.server.url}/Fabrikam` }).testConnection(NO_CREDENTIALS, never());
      assert.equal(!url.ok && url.code, 'NOT_FOUND_URL');
      const none = await connector({ username: '', password: '' }).testConnection(NO_CREDENTIALS, never());
      assert.equal(!none.ok && none.code, 'CONFIG');
    });
  });

  it('lists entities from the service document and fields from a sample record', async () => {
    const c = connector();
    // new_Customer has no known phone columns: the lookup refuses it, so the picker does not offer it.
    assert.deepEqual(await c.listModules(NO_CREDENTIALS, never()), ['Account', 'Contact', 'Lead']);
    await assert.rejects(c.listFields('new_Customer', NO_CREDENTIALS, never()), /no known phone columns/);
    assert.deepEqual(await connector({ phoneColumns: 'Telephone1, new_Phone' }).listModules(NO_CREDENTIALS, never()), ['Account', 'Contact', 'Lead', 'new_Customer']);
    const list = await c.listFields('Contacts', NO_CREDENTIALS, never());
    assert.deepEqual(list.find((f) => f.name === 'ParentCustomerId'), { name: 'ParentCustomerId', label: 'ParentCustomerId', type: 'Lookup' });
    assert.equal(list.find((f) => f.name === 'PreferredContactMethodCode')?.type, 'OptionSet');
    assert.equal(list.find((f) => f.name === 'ModifiedOn')?.type, 'DateTime');
    assert.ok(!list.some((f) => f.name === '__metadata'));
    assert.equal(fake.handshakes, 1);
  });

  it('validates the Windows user format', () => {
    const bad = dynamicsDefinition.schema.safeParse({ deployment: 'onprem2015', orgUrl: 'https://crm.contoso.local/Contoso', username: 'crm-routing', region: 'US' });
    assert.equal(bad.success, false);
    assert.match(bad.error?.issues[0]?.message ?? '', /DOMAIN\\user/);
    assert.equal(dynamicsDefinition.schema.safeParse({ orgUrl: 'https://crm.contoso.local/Contoso', username: 'crm@contoso.local', region: 'US' }).success, true);
    assert.match(dynamicsDefinition.schema.safeParse({ orgUrl: 'crm.contoso.local', region: 'US' }).error?.issues[0]?.message ?? '', /https:\/\//);
  });
});

describe('Dynamics 365 (Web API, client credentials)', () => {
  let fake: Dynamics365Fake;
  let http: HttpClient;
  let tokens: TokenCache;
  const CLIENT = '11111111-2222-3333-4444-555555555555';

  const settings = (over: Record<string, unknown> = {}): DynamicsSettings => dynamicsDefinition.schema.parse({
    deployment: 'online365', orgUrl: fake.url, tenantId: 'contoso.onmicrosoft.com', clientId: CLIENT, clientSecret: 'app~secret', loginHost: fake.url, region: 'US', ...over,
  });
  const connector = (over: Record<string, unknown> = {}) => dynamicsDefinition.create(settings(over), connectorServices(http, tokens));
  const lookup = (c: IntegrationConnector, over: Partial<LookupRequest> = {}) => lookupWith(c, { module: 'contact', fieldName: 'fullname', ...over });

  beforeEach(async () => {
    fake = await Dynamics365Fake.start();
    fake.records.contacts = [
      {
        contactid: 'a0000000-0000-0000-0000-000000000001', fullname: 'Ann Smith', telephone1: '(555) 123-4567', modifiedon: '2024-05-01T10:00:00Z',
        _parentcustomerid_value: 'b0000000-0000-0000-0000-000000000009', new_tier: 100000001, revenue: 1000, new_colors: '100000000,100000002',
        formatted: { _parentcustomerid_value: 'Acme Ltd', new_tier: 'Gold', revenue: '$1,000.00', new_colors: 'Red; Blue', modifiedon: '5/1/2024 10:00 AM' },
      },
      { contactid: 'a0000000-0000-0000-0000-000000000002', fullname: 'Decoy', telephone1: '+1 999 123 4567', modifiedon: '2024-01-01T00:00:00Z' },
    ];
    fake.records.new_customers = [{ new_customerid: 'n1', new_name: 'Custom One', telephone1: '555-123-4567', modifiedon: '2024-01-01T00:00:00Z' }];
    fake.attributes = [
      { LogicalName: 'fullname', AttributeType: 'String', AttributeOf: null },
      { LogicalName: 'parentcustomerid', AttributeType: 'Customer', AttributeOf: null },
      { LogicalName: 'parentcustomeridname', AttributeType: 'String', AttributeOf: 'parentcustomerid' },
      { LogicalName: 'new_tier', AttributeType: 'Picklist', AttributeOf: null },
    ];
    http = testHttpClient();
    tokens = new TokenCache();
  });
  afterEach(async () => {
    await http.close();
    await closeFake(fake, 'Dynamics 365');
  });

  it('gets an app token and searches with contains() and the documented headers', async () => {
    assert.deepEqual(await lookup(connector()), { kind: 'value', value: 'Ann Smith', matches: 1 });
    const token = fake.tokenRequests[0];
    assert.equal(token?.path, '/contoso.onmicrosoft.com/oauth2/v2.0/token');
    assert.deepEqual(Object.fromEntries(new URLSearchParams(token?.body)), { grant_type: 'client_credentials', client_id: CLIENT, client_secret: 'app~secret', scope: `${fake.url}/.default` });
    const data = fake.dataRequests[0];
    assert.equal(data?.path, '/api/data/v9.2/contacts');
    assert.equal(data?.query.get('$select'), 'contactid,modifiedon,fullname,telephone1,telephone2,telephone3,mobilephone');
    assert.match(data?.query.get('$filter') ?? '', /^contains\(telephone1,'1234567'\) or contains\(telephone1,'123 4567'\)/);
    assert.equal(data?.headers.prefer, 'odata.include-annotations="OData.Community.Display.V1.FormattedValue"');
  });

  it('uses formatted values for lookups and option sets, raw values for numbers', async () => {
    const c = connector();
    assert.equal((await lookup(c, { fieldName: '_parentcustomerid_value' }) as { value: string }).value, 'Acme Ltd');
    assert.equal((await lookup(c, { fieldName: 'new_tier' }) as { value: string }).value, 'Gold');
    assert.equal((await lookup(c, { fieldName: 'new_colors' }) as { value: string }).value, 'Red; Blue');
    assert.equal((await lookup(c, { fieldName: 'revenue' }) as { value: string }).value, '1000');
    assert.equal((await lookup(c, { fieldName: 'modifiedon' }) as { value: string }).value, '2024-05-01T10:00:00Z');
  });

  it('answers not_found, drops a false positive, and picks the most recent of several', async () => {
    const c = connector();
    assert.deepEqual(await lookup(c, { callerId: '+15550000000' }), { kind: 'not_found' });
    fake.records.contacts = [
      { contactid: 'c2', fullname: 'Newest B', mobilephone: '5551234567', modifiedon: '2024-06-01T00:00:00Z' },
      { contactid: 'c1', fullname: 'Newest A', telephone2: '555.123.4567', modifiedon: '2024-06-01T00:00:00Z' },
      { contactid: 'c0', fullname: 'Decoy', telephone1: '+1 999 123 4567', modifiedon: '2025-01-01T00:00:00Z' },
    ];
    assert.deepEqual(await lookup(c), { kind: 'value', value: 'Newest A', matches: 2 });
  });

  it('finds a custom entity after reading its set name once', async () => {
    const c = connector({ phoneColumns: 'telephone1' });
    assert.deepEqual(await lookup(c, { module: 'new_customer', fieldName: 'new_name' }), { kind: 'value', value: 'Custom One', matches: 1 });
    await lookup(c, { module: 'new_customer', fieldName: 'new_name' });
    assert.equal(fake.dataRequests.filter((r) => r.path.startsWith('/api/data/v9.2/EntityDefinitions')).length, 1);
  });

  it('takes one token for 20 lookups', async () => {
    const c = connector();
    for (let i = 0; i < 20; i += 1) assert.equal(codeOf(await lookup(c)), 'value');
    assert.equal(fake.tokenRequests.length, 1);
  });

  it('after a 401 takes exactly one new token; a second 401 is AUTH', async () => {
    const c = connector();
    await lookup(c);
    fake.revokeTokens();
    assert.equal(codeOf(await lookup(c)), 'value');
    assert.equal(fake.tokenRequests.length, 2);
    fake.dataOverrides.push({ status: 401, body: { error: { message: 'expired' } } }, { status: 401, body: { error: { message: 'expired' } } });
    assert.equal(codeOf(await lookup(c)), 'AUTH');
    assert.equal(fake.tokenRequests.length, 3);
  });

  it('honours Retry-After within the deadline, and reports 5xx and timeouts', async () => {
    const c = connector();
    await lookup(c);
    fake.dataOverrides.push({ status: 429, headers: { 'retry-after': '1' }, body: { error: { code: '0x80072322', message: 'Number of requests exceeded the limit' } } });
    assert.equal(codeOf(await lookup(c)), 'value');
    fake.dataOverrides.push({ status: 429, headers: { 'retry-after': '300' }, body: '' });
    assert.equal(codeOf(await lookup(c)), 'RATE_LIMITED');
    fake.dataOverrides.push({ status: 503, body: '' });
    assert.equal(codeOf(await lookup(c)), 'HTTP_ERROR');
    fake.dataOverrides.push({ delayMs: 2000, body: { value: [] } });
    const started = Date.now();
    assert.equal(codeOf(await lookup(c, { deadlineAt: Date.now() + 300 })), 'TIMEOUT');
    assert.ok(Date.now() - started < 600);
  });

  it('keeps quotes of a caller ID and odd names out of the query', async () => {
    const c = connector();
    await lookup(c, { callerId: "555') or contains(fullname,'a') or ('1234567" });
    for (const r of fake.dataRequests) for (const term of (r.query.get('$filter') ?? '').matchAll(/,'((?:[^']|'')*)'\)/g)) assert.match(term[1] as string, /^[0-9 .()-]+$/);
    const before = fake.server.requests.length;
    assert.equal(codeOf(await lookup(c, { module: "contact'/x" })), 'CONFIG');
    assert.equal(fake.server.requests.length, before);
  });

  describe('testConnection', () => {
    it('reports ok, then AUTH for a wrong secret, CONFIG for a wrong tenant or organization URL', async () => {
      assert.equal((await connector().testConnection(NO_CREDENTIALS, never())).ok, true);
      const secret = await connector({ clientSecret: 'nope' }).testConnection(NO_CREDENTIALS, never());
      assert.equal(!secret.ok && secret.code, 'AUTH');
      assert.match(secret.message, /AADSTS7000215/);
      assert.doesNotMatch(secret.message, /nope|Trace ID/);
      const tenant = await connector({ tenantId: 'fabrikam.onmicrosoft.com' }).testConnection(NO_CREDENTIALS, never());
      assert.equal(!tenant.ok && tenant.code, 'CONFIG');
      assert.match(tenant.message, /tenant/);
      const org = await connector({ orgUrl: 'https://127.0.0.1:1' }).testConnection(NO_CREDENTIALS, never());
      assert.equal(!org.ok && org.code, 'CONFIG');
    });

    it("uses a rule's client ID and secret over the integration's", async () => {
      const report = await connector({ clientSecret: 'nope' }).testConnection({ username: CLIENT, password: 'app~secret' }, never());
      assert.equal(report.ok, true);
    });
  });

  it('lists entities and attributes, lookups under the name the Web API reads', async () => {
    const c = connector();
    assert.deepEqual(await c.listModules(NO_CREDENTIALS, never()), ['account', 'contact']);
    const list = await c.listFields('Contact', NO_CREDENTIALS, never());
    assert.deepEqual(list.map((f) => f.name), ['_parentcustomerid_value', 'fullname', 'new_tier']);
    assert.equal(list[0]?.type, 'Customer');
  });
});
