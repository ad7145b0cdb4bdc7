import assert from 'node:assert/strict';
import type { LookupRequest } from '../../../src/crm/connector';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import type { IntegrationConnector } from '../../../src/crm/integration';
import { PipedriveConnector, pipedriveDefinition } from '../../../src/crm/pipedrive';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { assertNoRequestForUnknownCallers, connectorServices, lookupByDeadline, lookupRequest, NO_CREDENTIALS, testHttpClient, withUntrustedServer } from '../../support/connector-harness';
import { FakeHttpsServer } from '../../support/fake-https';
import { HOTLINE_KEY, NOTE_KEY, PipedriveFake, TIER_KEY } from '../../support/fakes/pipedrive-fake';


describe('Pipedrive connector', () => {
  let fake: PipedriveFake;
  let http: HttpClient;
  let tokens: TokenCache;

  before(async () => {
    fake = await PipedriveFake.start();
    http = testHttpClient();
    fake.persons.push(
      { id: 11, name: 'Ada', org_id: 7, update_time: '2024-05-01T10:00:00Z', phones: [{ value: '+1 (202) 555-0101', primary: true, label: 'work' }], label_ids: [5, 6], custom_fields: { [TIER_KEY]: 31, [NOTE_KEY]: 'vip line' } },
      { id: 12, name: 'Older', org_id: null, update_time: '2024-01-01T00:00:00Z', phones: [{ value: '202-555-0199', primary: true, label: 'work' }], custom_fields: { [TIER_KEY]: 32 } },
      { id: 14, name: 'Newer, higher id', org_id: null, update_time: '2024-06-01T00:00:00Z', phones: [{ value: '+12025550199', primary: true, label: 'mobile' }], custom_fields: {} },
      { id: 13, name: 'Newer, lower id', org_id: null, update_time: '2024-06-01T00:00:00Z', phones: [{ value: 'x', primary: false, label: 'other' }, { value: '(202) 555 0199', primary: true, label: 'home' }], custom_fields: {} },
      // Contains the caller's digits inside a longer number: Pipedrive finds it, the re-check drops it.
      { id: 15, name: 'Impostor', org_id: null, update_time: '2025-01-01T00:00:00Z', phones: [{ value: '+91 2025550177 42', primary: true, label: 'work' }], custom_fields: {} },
    );
    fake.organizations.push({ id: 7, name: 'Acme Ltd', update_time: '2024-01-01T00:00:00Z', custom_fields: { [HOTLINE_KEY]: '+1 202 555 0123' } });
  });
  beforeEach(() => { tokens = new TokenCache(); });
  afterEach(() => assert.deepEqual(fake.violations.splice(0), []));
  after(async () => { await http.close(); await fake.close(); });

  function connector(overrides: Record<string, unknown> = {}): IntegrationConnector {
    const settings = pipedriveDefinition.schema.parse({ region: 'US', companyDomain: fake.url, apiToken: 'pd-token-good', ...overrides });
    return pipedriveDefinition.create(settings, connectorServices(http, tokens));
  }
  const request = (callerId: string, over: Partial<LookupRequest> = {}) => lookupRequest({ callerId, fieldName: TIER_KEY, module: 'Persons' }, over);
  const lookup = lookupByDeadline;

  it('searches persons by phone digits, re-reads them, and gives a custom option field its label', async () => {
    assert.deepEqual(await lookup(connector(), request('+1 202 555 0101')), { kind: 'value', value: 'Gold', matches: 1 });
    const search = fake.requests.find((r) => r.path === '/api/v2/persons/search')!;
    assert.equal(search.query.get('term'), '2025550101');
    assert.equal(search.headers['x-api-token'], 'pd-token-good');
    const list = fake.requests.filter((r) => r.path === '/api/v2/persons').at(-1)!;
    assert.equal(list.query.get('ids'), '11');
    assert.equal(list.query.get('custom_fields'), TIER_KEY);
  });

  it("resolves a field by its name as shown in Pipedrive, any case", async () => {
    assert.deepEqual(await lookup(connector(), request('2025550101', { fieldName: 'customer TIER' })), { kind: 'value', value: 'Gold', matches: 1 });
  });

  it('reads standard fields at the root: name, labels (v1 key label), organisation name for org_id', async () => {
    assert.deepEqual(await lookup(connector(), request('2025550101', { fieldName: 'name' })), { kind: 'value', value: 'Ada', matches: 1 });
    assert.deepEqual(await lookup(connector(), request('2025550101', { fieldName: 'label' })), { kind: 'value', value: 'Customer; Hot lead', matches: 1 });
    assert.deepEqual(await lookup(connector(), request('2025550101', { fieldName: 'Organization' })), { kind: 'value', value: 'Org 7', matches: 1 });
  });

  it('refuses a name shared by two fields, and a field that does not exist, as CONFIG', async () => {
    const shared = await lookup(connector(), request('2025550101', { fieldName: 'Note' }));
    assert.equal(shared.kind === 'error' && shared.code, 'CONFIG');
    assert.match(shared.kind === 'error' ? shared.message : '', new RegExp(NOTE_KEY));
    const missing = await lookup(connector(), request('2025550101', { fieldName: 'Shoe size' }));
    assert.equal(missing.kind === 'error' && missing.code, 'CONFIG');
  });

  it('searches organisations on custom fields and re-checks their phone-type custom field', async () => {
    assert.deepEqual(await lookup(connector(), request('2025550123', { module: 'Organizations', fieldName: 'name' })), { kind: 'value', value: 'Acme Ltd', matches: 1 });
    const search = fake.requests.filter((r) => r.path === '/api/v2/organizations/search').at(-1)!;
    assert.equal(search.query.get('fields'), 'custom_fields');
    assert.equal(fake.requests.filter((r) => r.path === '/api/v2/organizations').at(-1)!.query.get('custom_fields'), HOTLINE_KEY);
  });

  it('answers not_found for no item, and for an empty caller ID without a request', async () => {
    assert.deepEqual(await lookup(connector(), request('+12025550000')), { kind: 'not_found' });
    await assertNoRequestForUnknownCallers((over) => lookup(connector(), request('', over)), () => fake.requests.length, ['']);
  });

  it('picks the most recently updated of several matches, then the lowest id', async () => {
    assert.deepEqual(await lookup(connector(), request('2025550199', { fieldName: 'name' })), { kind: 'value', value: 'Newer, lower id', matches: 3 });
  });

  it('lists fields from the v2 field endpoints, every page', async () => {
    const before = fake.requests.length;
    const fields = await connector().listFields('Persons', { username: '', password: '' }, AbortSignal.timeout(5000));
    assert.deepEqual(fields.map((f) => f.name), fake.personFields.map((f) => f.key));
    assert.deepEqual(fields.find((f) => f.name === TIER_KEY), { name: TIER_KEY, label: 'Customer tier', type: 'enum' });
    const pages = fake.requests.slice(before).filter((r) => r.path === '/api/v2/personFields');
    assert.deepEqual(pages.map((r) => r.query.get('cursor')), [null, '2', '4', '6']);
    assert.ok(pages.every((r) => r.query.get('limit') === '500'));
  });

  it('reads the newest of the hits first (sort_by=update_time desc) and asks the search for up to 100', async () => {
    const before = fake.requests.length;
    await lookup(connector(), request('2025550101'));
    assert.equal(fake.requests.slice(before).find((r) => r.path === '/api/v2/persons/search')!.query.get('limit'), '100');
    const list = fake.requests.slice(before).find((r) => r.path === '/api/v2/persons')!;
    assert.deepEqual([list.query.get('sort_by'), list.query.get('sort_direction')], ['update_time', 'desc']);
  });

  it('drops a longer number that merely contains the caller digits (re-check)', async () => {
    assert.deepEqual(await lookup(connector(), request('2025550177', { fieldName: 'name' })), { kind: 'not_found' });
    assert.equal(fake.requests.filter((r) => r.path === '/api/v2/persons').at(-1)!.query.get('ids'), '15');
  });

  it('reads person fields once for 20 lookups (no token request: the API token is used as is)', async () => {
    const pd = connector();
    const before = fake.count('/api/v2/personFields');
    const results = await Promise.all(Array.from({ length: 20 }, () => lookup(pd, request('2025550101'))));
    assert.ok(results.every((r) => r.kind === 'value'));
    // One read of every page (the fake serves two fields a page, following next_cursor).
    assert.equal(fake.count('/api/v2/personFields'), before + Math.ceil(fake.personFields.length / 2));
    assert.equal(fake.requests.filter((r) => r.path.startsWith('/v1/')).length, 0, 'no v1 request');
  });

  it("uses the rule's CRM Password as the API token", async () => {
    fake.tokens.add('pd-rule-token');
    assert.equal((await lookup(connector({ apiToken: '' }), request('2025550101', { credentials: { username: '', password: 'pd-rule-token' } }))).kind, 'value');
    assert.equal(fake.requests.at(-1)!.headers['x-api-token'], 'pd-rule-token');
    const missing = await lookup(connector({ apiToken: '' }), request('2025550101'));
    assert.equal(missing.kind === 'error' && missing.code, 'CONFIG');
  });

  it('sends a rejected token once more, then reports AUTH; a passing 401 heals with that one retry', async () => {
    const before = fake.requests.length;
    const rejected = await lookup(connector({ apiToken: 'pd-revoked' }), request('2025550101'));
    assert.equal(rejected.kind === 'error' && rejected.code, 'AUTH');
    assert.equal(fake.requests.length, before + 2);
    const pd = connector();
    await lookup(pd, request('2025550101'));
    fake.script((r) => r.path.endsWith('/search'), { status: 401, body: { success: false, error: 'unauthorized access', errorCode: 401 } });
    assert.equal((await lookup(pd, request('2025550101'))).kind, 'value');
  });

  it('waits out a 429 that fits, reads x-ratelimit-reset when Retry-After is absent, and reports one that does not fit', async () => {
    fake.script((r) => r.path.endsWith('/search'), { status: 429, headers: { 'retry-after': '1' }, body: { success: false, error: 'Rate limit exceeded' } });
    assert.equal((await lookup(connector(), request('2025550101'))).kind, 'value');
    fake.script((r) => r.path.endsWith('/search'), { status: 429, headers: { 'x-ratelimit-reset': '45' }, body: { success: false, error: 'Rate limit exceeded' } });
    const result = await lookup(connector(), request('2025550101'));
    assert.equal(result.kind === 'error' && result.code, 'RATE_LIMITED');
    assert.equal(result.kind === 'error' && result.retryAfterMs, 45_000);
  });

  it('maps a 500 to HTTP_ERROR and a slow answer to TIMEOUT within the deadline', async () => {
    fake.script((r) => r.path.endsWith('/search'), { status: 500, body: { success: false, error: 'Internal error' } });
    const down = await lookup(connector(), request('2025550101'));
    assert.equal(down.kind === 'error' && down.code, 'HTTP_ERROR');
    const pd = connector();
    await lookup(pd, request('2025550101'));
    fake.script((r) => r.path.endsWith('/search'), { delayMs: 2000, body: { success: true, data: { items: [] } } });
    const started = Date.now();
    const slow = await lookup(pd, request('2025550101', { deadlineAt: Date.now() + 300 }));
    assert.equal(slow.kind === 'error' && slow.code, 'TIMEOUT');
    assert.ok(Date.now() - started < 600);
  });

  it('sends only digits as the search term, whatever the caller ID holds', async () => {
    await lookup(connector(), request('202&fields=name&term=555-0101'));
    const term = fake.requests.filter((r) => r.path === '/api/v2/persons/search').at(-1)!.query.get('term');
    assert.match(term ?? '', /^\d+$/);
  });

  describe('testConnection', () => {
    it('reports ok with a good token', async () => {
      const report = await connector().testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
      assert.equal(report.ok, true, JSON.stringify(report));
    });

    it('reports AUTH for a wrong token (not echoed), NOT_FOUND_URL for a wrong company domain, TLS for an untrusted certificate', async () => {
      const wrong = await connector({ apiToken: 'pd-wrong-token' }).testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
      assert.equal(!wrong.ok && wrong.code, 'AUTH');
      assert.doesNotMatch(!wrong.ok ? wrong.message : '', /pd-wrong-token/);
      const other = await FakeHttpsServer.start(() => ({ status: 404, body: { success: false, error: 'Company not found' } }));
      try {
        const notFound = await connector({ companyDomain: other.url }).testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000));
        assert.equal(!notFound.ok && notFound.code, 'NOT_FOUND_URL');
      } finally { await other.close(); }
      const tls = await withUntrustedServer((url) => connector({ companyDomain: url }).testConnection(NO_CREDENTIALS, AbortSignal.timeout(5000)));
      assert.equal(!tls.ok && tls.code, 'TLS');
    });
  });

  it('lists modules and fields (key, name, type) from the field metadata', async () => {
    assert.deepEqual(await connector().listModules(NO_CREDENTIALS, AbortSignal.timeout(5000)), ['Persons', 'Organizations']);
    const fields = await connector().listFields('Organizations', NO_CREDENTIALS, AbortSignal.timeout(5000));
    assert.deepEqual(fields, [{ name: 'name', label: 'Name', type: 'varchar' }, { name: HOTLINE_KEY, label: 'Hotline', type: 'phone' }]);
  });

  it('builds the base URL from the company domain and validates it', () => {
    const base = (companyDomain: string) => new PipedriveConnector(pipedriveDefinition.schema.parse({ region: 'US', companyDomain }), connectorServices(http, tokens)).baseUrl;
    assert.equal(base('acme'), 'https://acme.pipedrive.com');
    assert.equal(base('Acme.pipedrive.com'), 'https://acme.pipedrive.com');
    assert.equal(base('https://proxy.example.com/'), 'https://proxy.example.com');
    const bad = pipedriveDefinition.schema.safeParse({ region: 'US', companyDomain: 'http://acme.pipedrive.com' });
    assert.match(bad.error!.issues[0]!.message, /company domain/);
  });
});
