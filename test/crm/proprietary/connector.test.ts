import assert from 'node:assert/strict';
import type { LookupRequest, LookupResult } from '../../../src/crm/connector';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import type { IntegrationConnector } from '../../../src/crm/integration';
import { proprietary1Definition, proprietaryDefinition } from '../../../src/crm/proprietary';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { ProprietaryFake, type FakeAuth } from '../../support/fakes/proprietary-fake';
import { closeFake, connectorServices, lookupByDeadline, lookupRequest, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';

const never = () => new AbortController().signal;
const codeOf = (r: LookupResult) => (r.kind === 'error' ? r.code : r.kind);

describe('Proprietary CRM connectors', () => {
  let fake: ProprietaryFake;
  let http: HttpClient;
  let tokens: TokenCache;

  const contactsGet = () => ({ method: 'GET', url: `${fake.url}/api/v1/contacts?phone={e164}`, queryParams: 'fields={field}', valuePath: 'data[*].{field}', phonePath: 'phones[*]' });
  const connector = (over: Record<string, unknown> = {}, definition = proprietaryDefinition) =>
    definition.create(definition.schema.parse({ ...contactsGet(), region: 'US', ...over }), connectorServices(http, tokens));
  const lookup = (c: IntegrationConnector, over: Partial<LookupRequest> = {}) =>
    lookupByDeadline(c, lookupRequest({ tenantId: 't', callerId: '+15551234567', did: '8005550100', fieldName: 'Account_Name', module: '' }, over));
  const restart = async (auth: FakeAuth) => {
    const records = fake.records;
    await fake.close();
    fake = await ProprietaryFake.start(auth);
    fake.records = records;
  };

  beforeEach(async () => {
    fake = await ProprietaryFake.start();
    fake.records = [
      { id: 'r1', phones: ['+1 (555) 123-4567', '+1 555 000 1111'], fields: { Account_Name: 'Acme Ltd', Tier: { name: 'Gold', id: 3 }, Score: 42 } },
      { id: 'r2', phones: ['+1 (999) 123-4567'], fields: { Account_Name: 'Decoy Inc', Tier: { name: 'Bronze', id: 1 }, Score: 1 } },
    ];
    http = testHttpClient();
    tokens = new TokenCache();
  });
  afterEach(async () => {
    await http.close();
    await closeFake(fake, 'the configured CRM');
  });

  it('GETs with placeholders encoded, re-checks the phone path and reads the value path', async () => {
    assert.deepEqual(await lookup(connector()), { kind: 'value', value: 'Acme Ltd', matches: 1 });
    const sent = fake.dataRequests[0];
    assert.equal(sent?.query.get('phone'), '+15551234567');
    assert.equal(sent?.query.get('fields'), 'Account_Name');
    assert.equal(sent?.headers.accept, 'application/json');
    assert.equal(fake.dataRequests.length, 1);
  });

  it('reads nested values and objects with a name', async () => {
    assert.deepEqual(await lookup(connector(), { fieldName: 'Tier' }), { kind: 'value', value: 'Gold', matches: 1 });
    assert.deepEqual(await lookup(connector({ valuePath: 'data.0.Score', phonePath: '', queryParams: '' })), { kind: 'value', value: '42', matches: 1 });
  });

  it('POSTs a JSON body template and reads records[*].fields.{field}', async () => {
    const c = connector({ method: 'POST', url: `${fake.url}/api/v1/search`, queryParams: '', body: '{"query": {"phone": "{e164}"}, "fields": ["{field}"]}', valuePath: 'records[*].fields.{field}', phonePath: 'fields.phone' });
    assert.deepEqual(await lookup(c, { fieldName: 'Tier' }), { kind: 'value', value: 'Gold', matches: 1 });
    assert.deepEqual(JSON.parse(fake.dataRequests[0]?.body ?? ''), { query: { phone: '+15551234567' }, fields: ['Tier'] });
  });

  it('drops records whose number is not the caller\'s, and takes the first of several in the CRM\'s order', async () => {
    assert.deepEqual(await lookup(connector(), { callerId: '+19991234567' }), { kind: 'value', value: 'Decoy Inc', matches: 1 });
    fake.records.push({ id: 'r3', phones: ['555-123-4567'], fields: { Account_Name: 'Second' } });
    assert.deepEqual(await lookup(connector()), { kind: 'value', value: 'Acme Ltd', matches: 2 });
    assert.deepEqual(await lookup(connector({ phonePath: '' }), { callerId: '+19991234567' }), { kind: 'value', value: 'Acme Ltd', matches: 3 }, 'without a phone path every record counts');
  });

  it('answers not_found for an empty list, a not-found status, an empty not-found path, and an unknown caller (no request)', async () => {
    assert.deepEqual(await lookup(connector(), { callerId: '+15550000000' }), { kind: 'not_found' });
    const account = connector({ url: `${fake.url}/api/v1/accounts/{e164}`, queryParams: '', valuePath: '{field}', phonePath: '', notFoundStatuses: '404' });
    assert.deepEqual(await lookup(account), { kind: 'value', value: 'Acme Ltd', matches: 1 });
    assert.deepEqual(await lookup(account, { callerId: '+15550000000' }), { kind: 'not_found' });
    assert.equal(codeOf(await lookup(connector({ url: `${fake.url}/api/v1/accounts/{e164}`, queryParams: '', valuePath: '{field}', phonePath: '' }), { callerId: '+15550000000' })), 'NOT_FOUND_URL', 'a 404 not declared as not-found is an error');
    fake.dataOverrides.push({ body: { data: [{ Account_Name: 'stale cache row' }], meta: { total: 0 } } });
    assert.deepEqual(await lookup(connector({ phonePath: '', notFoundPath: 'meta.total' })), { kind: 'not_found' });
    const before = fake.server.requests.length;
    assert.deepEqual(await lookup(connector(), { callerId: '' }), { kind: 'not_found' });
    assert.deepEqual(await lookup(connector({ url: `${fake.url}/api/v1/accounts/{dtmf}`, queryParams: '', phonePath: '' }), { dtmf: '' }), { kind: 'not_found' });
    assert.equal(fake.server.requests.length, before);
  });

  it('gives the empty value for a record without the field', async () => {
    assert.deepEqual(await lookup(connector(), { fieldName: 'Missing_Field' }), { kind: 'value', value: '', matches: 1 });
  });

  it('escapes every placeholder where it lands: URL, query, header and JSON body', async () => {
    const dtmf = `1"}, "admin": true, "x": "&phone=+1&\r\nX-Evil: 1`;
    const c = connector({
      method: 'POST', url: `${fake.url}/api/v1/search?ref={dtmf}`, queryParams: 'typed={dtmf}', headers: 'X-Typed: {dtmf}',
      body: '{"query": {"phone": "{e164}", "typed": "{dtmf}"}, "fields": ["{field}"]}', valuePath: 'records[*].fields.{field}', phonePath: 'fields.phone',
    });
    assert.equal(codeOf(await lookup(c, { dtmf })), 'value');
    const sent = fake.dataRequests[0];
    assert.deepEqual(sent?.query.getAll('ref'), [dtmf]);
    assert.deepEqual(sent?.query.getAll('typed'), [dtmf]);
    assert.equal(sent?.query.has('phone'), false);
    assert.equal(sent?.headers['x-typed'], `1"}, "admin": true, "x": "&phone=+1&X-Evil: 1`);
    assert.equal(sent?.headers['x-evil'], undefined);
    const body = JSON.parse(sent?.body ?? '') as { query: { typed: string }; admin?: unknown };
    assert.equal(body.query.typed, dtmf);
    assert.equal(body.admin, undefined);
  });

  describe('authentication', () => {
    it('sends HTTP Basic, a rule\'s credentials over the integration\'s', async () => {
      await restart({ type: 'basic', username: 'agent', password: 'p@ss:word' });
      assert.equal(codeOf(await lookup(connector({ authType: 'basic', username: 'agent', password: 'p@ss:word' }))), 'value');
      assert.equal(codeOf(await lookup(connector({ authType: 'basic', username: 'x', password: 'y' }), { credentials: { username: 'agent', password: 'p@ss:word' } })), 'value');
    });

    it('sends a bearer token; a 401 is AUTH at once, without a pointless retry', async () => {
      await restart({ type: 'bearer', token: 'tok-1' });
      assert.equal(codeOf(await lookup(connector({ authType: 'bearer', password: 'tok-1' }))), 'value');
      const before = fake.dataRequests.length;
      const denied = await lookup(connector({ authType: 'bearer', password: 'tok-2' }));
      assert.equal(codeOf(denied), 'AUTH');
      assert.equal(fake.dataRequests.length - before, 1);
      assert.doesNotMatch(denied.kind === 'error' ? denied.message : '', /tok-2/);
    });

    it('sends an API key in the named header', async () => {
      await restart({ type: 'api_key', header: 'X-Crm-Key', key: 'k-123' });
      assert.equal(codeOf(await lookup(connector({ authType: 'api_key', apiKeyHeader: 'X-Crm-Key', password: 'k-123' }))), 'value');
    });

    it('OAuth2 client credentials: one token for 20 lookups, one new token after a 401, AUTH after a second', async () => {
      await restart({ type: 'oauth2', clientId: 'cid', clientSecret: 'csecret', scope: 'crm.read', clientAuth: 'body', expiresIn: 3600 });
      const c = connector({ authType: 'oauth2_client_credentials', tokenUrl: `${fake.url}/oauth/token`, clientId: 'cid', clientSecret: 'csecret', scope: 'crm.read' });
      for (let i = 0; i < 20; i += 1) assert.equal(codeOf(await lookup(c)), 'value');
      assert.equal(fake.tokenRequests.length, 1);
      assert.deepEqual(Object.fromEntries(new URLSearchParams(fake.tokenRequests[0]?.body)), { grant_type: 'client_credentials', scope: 'crm.read', client_id: 'cid', client_secret: 'csecret' });
      fake.revokeTokens();
      assert.equal(codeOf(await lookup(c)), 'value');
      assert.equal(fake.tokenRequests.length, 2);
      fake.dataOverrides.push({ status: 401, body: {} }, { status: 401, body: {} });
      assert.equal(codeOf(await lookup(c)), 'AUTH');
      assert.equal(fake.tokenRequests.length, 3);
    });

    it('OAuth2 password grant with the client in a Basic header', async () => {
      await restart({ type: 'oauth2', clientId: 'app', clientSecret: 's3', clientAuth: 'basic', users: { agent: 'pw' } });
      const c = connector({ authType: 'oauth2_password', tokenUrl: `${fake.url}/oauth/token`, clientId: 'app', clientSecret: 's3', clientAuth: 'basic', username: 'agent', password: 'pw' });
      assert.equal(codeOf(await lookup(c)), 'value');
      const wrong = await c.testConnection({ username: 'agent', password: 'nope' }, never());
      assert.equal(!wrong.ok && wrong.code, 'AUTH');
    });

    it('keeps the two definitions apart: each its own settings and token', async () => {
      await restart({ type: 'oauth2', clientId: 'cid', clientSecret: 'csecret', clientAuth: 'body' });
      const oauth = { authType: 'oauth2_client_credentials', tokenUrl: `${fake.url}/oauth/token`, clientId: 'cid', clientSecret: 'csecret' };
      assert.equal(codeOf(await lookup(connector(oauth, proprietaryDefinition))), 'value');
      assert.equal(codeOf(await lookup(connector(oauth, proprietary1Definition))), 'value');
      assert.equal(fake.tokenRequests.length, 2, 'Proprietary CRM I does not borrow Proprietary CRM\'s token');
      assert.equal(proprietary1Definition.kind, 'proprietary_1');
      assert.equal(proprietary1Definition.label, 'Proprietary CRM I');
    });
  });

  it('waits out a 429 that fits, reports one that does not, a 5xx and a timeout', async () => {
    const c = connector();
    fake.dataOverrides.push({ status: 429, headers: { 'retry-after': '1' }, body: {} });
    assert.equal(codeOf(await lookup(c)), 'value');
    fake.dataOverrides.push({ status: 429, headers: { 'retry-after': '120' }, body: {} });
    const limited = await lookup(c);
    assert.equal(codeOf(limited), 'RATE_LIMITED');
    assert.equal(limited.kind === 'error' && limited.retryAfterMs, 120_000);
    fake.dataOverrides.push({ status: 502, body: 'bad gateway' });
    assert.equal(codeOf(await lookup(c)), 'HTTP_ERROR');
    fake.dataOverrides.push({ delayMs: 2000, body: { data: [] } });
    const started = Date.now();
    assert.equal(codeOf(await lookup(c, { deadlineAt: Date.now() + 300 })), 'TIMEOUT');
    assert.ok(Date.now() - started < 600);
    fake.dataOverrides.push({ body: '<html>maintenance</html>', headers: { 'content-type': 'text/html' } });
    assert.equal(codeOf(await lookup(c)), 'BAD_RESPONSE');
  });

  describe('testConnection', () => {
    it('reports ok after a sample lookup, or the precise code', async () => {
      assert.equal((await connector().testConnection(NO_CREDENTIALS, never())).ok, true);
      const wrongUrl = await connector({ url: `${fake.url}/api/v2/contacts?phone={e164}` }).testConnection(NO_CREDENTIALS, never());
      assert.equal(!wrongUrl.ok && wrongUrl.code, 'NOT_FOUND_URL');
      await restart({ type: 'oauth2', clientId: 'cid', clientSecret: 'csecret', clientAuth: 'body' });
      const badSecret = await connector({ authType: 'oauth2_client_credentials', tokenUrl: `${fake.url}/oauth/token`, clientId: 'cid', clientSecret: 'nope' }).testConnection(NO_CREDENTIALS, never());
      assert.equal(!badSecret.ok && badSecret.code, 'AUTH');
      const noSecret = await connector({ authType: 'bearer' }).testConnection(NO_CREDENTIALS, never());
      assert.equal(!noSecret.ok && noSecret.code, 'CONFIG');
    });
  });

  it('lists the keys of a sample record as fields, and the configured modules', async () => {
    const c = connector({ sampleCallerId: '(555) 123-4567', modules: 'Contacts, Accounts', queryParams: '' });
    assert.deepEqual(await c.listModules(NO_CREDENTIALS, never()), ['Contacts', 'Accounts']);
    assert.deepEqual(await c.listFields('Contacts', NO_CREDENTIALS, never()), [
      { name: 'Account_Name', label: 'Account_Name', type: 'string' }, { name: 'id', label: 'id', type: 'string' },
      { name: 'phones', label: 'phones', type: 'array' }, { name: 'Score', label: 'Score', type: 'number' }, { name: 'Tier', label: 'Tier', type: 'object' },
    ]);
    await assert.rejects(connector().listFields('', NO_CREDENTIALS, never()), (err: { code?: string }) => err.code === 'CONFIG');
  });

  it('refuses settings that could not work, with the way to fix them', () => {
    const problems = (over: Record<string, unknown>) => {
      const parsed = proprietaryDefinition.schema.safeParse({ ...contactsGet(), url: 'https://crm.example.com/api?phone={e164}', region: 'US', ...over });
      return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    assert.deepEqual(problems({}), []);
    assert.match(problems({ url: 'https://{did}.example.com/x' }).join(), /url: Placeholders may appear in the path/);
    assert.match(problems({ url: 'http://crm.example.com/x' }).join(), /url: Enter the lookup URL, starting with https/);
    assert.match(problems({ queryParams: 'phone={E164}' }).join(), /queryParams: Unknown placeholder \{E164\}/);
    assert.match(problems({ method: 'POST', body: '{"phone": {e164}}' }).join(), /body: The body template is not valid JSON/);
    assert.match(problems({ headers: 'Host: evil.example.com' }).join(), /headers: The Host header is set by the request/);
    assert.match(problems({ valuePath: 'data[*].x[*].{field}' }).join(), /valuePath: Use \* at most once/);
    assert.match(problems({ valuePath: 'data[0' }).join(), /valuePath: unclosed "\["/);
    assert.match(problems({ notFoundStatuses: '401' }).join(), /notFoundStatuses/);
    assert.match(problems({ authType: 'oauth2_client_credentials' }).join(), /tokenUrl: Enter the OAuth2 token URL/);
  });
});
