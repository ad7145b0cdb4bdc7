import assert from 'node:assert/strict';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { hubspotDefinition, type HubSpotSettings } from '../../../src/crm/hubspot';
import type { IntegrationConnector } from '../../../src/crm/integration';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { connectorServices, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';
import { HubSpotFake } from '../../support/fakes/hubspot-fake';

describe('HubSpot owners (hubspot_owner_id -> e-mail)', () => {
  let fake: HubSpotFake;
  let http: HttpClient;

  before(async () => {
    fake = await HubSpotFake.start();
    http = testHttpClient();
    fake.owners.push({ id: '41629779', email: 'ana@example.com', userId: 9586504, firstName: 'Ana', lastName: 'Reception' });
    fake.owners.push({ id: '41629780', email: null, userId: 9586505, firstName: 'No', lastName: 'Mail' });
  });
  afterEach(() => assert.deepEqual(fake.violations.splice(0), []));
  after(async () => { await http.close(); await fake.close(); });

  function connector(overrides: Record<string, unknown> = {}): IntegrationConnector {
    const settings: HubSpotSettings = hubspotDefinition.schema.parse({ region: 'US', baseUrl: fake.url, accessToken: 'pat-na1-good', ...overrides });
    return hubspotDefinition.create(settings, connectorServices(http, new TokenCache()));
  }
  const signal = () => AbortSignal.timeout(5000);

  it('reads the owner with GET /crm/v3/owners/{id} and the Bearer token, once per owner (cached)', async () => {
    const c = connector();
    const before = fake.requests.length;
    assert.deepEqual(await c.ownerEmail!('41629779', NO_CREDENTIALS, signal()), { kind: 'email', email: 'ana@example.com' });
    assert.deepEqual(await c.ownerEmail!('41629779', NO_CREDENTIALS, signal()), { kind: 'email', email: 'ana@example.com' });
    const reads = fake.requests.slice(before);
    assert.equal(reads.length, 1);
    assert.equal(reads[0]!.method, 'GET');
    assert.equal(reads[0]!.path, '/crm/v3/owners/41629779');
    assert.equal(reads[0]!.headers.authorization, 'Bearer pat-na1-good');
  });

  it('answers not found for an owner HubSpot does not know or one without an e-mail', async () => {
    assert.deepEqual(await connector().ownerEmail!('99', NO_CREDENTIALS, signal()), { kind: 'not_found' });
    assert.deepEqual(await connector().ownerEmail!('41629780', NO_CREDENTIALS, signal()), { kind: 'not_found' });
  });

  it('refuses an id that is not one, without a request', async () => {
    const before = fake.requests.length;
    const answer = await connector().ownerEmail!('../contacts', NO_CREDENTIALS, signal());
    assert.equal(answer.kind === 'error' && answer.code, 'CONFIG');
    assert.equal(fake.requests.length, before);
  });

  it('reports a token HubSpot refuses as AUTH, and does not cache the failure', async () => {
    const bad = connector({ accessToken: 'pat-na1-wrong' });
    const first = await bad.ownerEmail!('41629779', NO_CREDENTIALS, signal());
    assert.equal(first.kind === 'error' && first.code, 'AUTH');
    fake.privateAppTokens.add('pat-na1-wrong');
    try {
      assert.deepEqual(await bad.ownerEmail!('41629779', NO_CREDENTIALS, signal()), { kind: 'email', email: 'ana@example.com' });
    } finally {
      fake.privateAppTokens.delete('pat-na1-wrong');
    }
  });

  it('asks for the owners scope with the others', () => {
    assert.match(hubspotDefinition.fields.find((f) => f.name === 'accessToken')!.help, /crm\.objects\.owners\.read/);
  });
});
