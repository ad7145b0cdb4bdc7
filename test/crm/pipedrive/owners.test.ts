import assert from 'node:assert/strict';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import type { IntegrationConnector } from '../../../src/crm/integration';
import { pipedriveDefinition } from '../../../src/crm/pipedrive';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { connectorServices, lookupByDeadline, lookupRequest, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';
import { PipedriveFake } from '../../support/fakes/pipedrive-fake';

describe('Pipedrive owners (owner_id -> e-mail)', () => {
  let fake: PipedriveFake;
  let http: HttpClient;

  before(async () => {
    fake = await PipedriveFake.start();
    http = testHttpClient();
    fake.persons.push({ id: 21, name: 'Owned', owner_id: 8001, update_time: '2024-05-01T10:00:00Z', phones: [{ value: '+1 (202) 555-0101', primary: true, label: 'work' }], custom_fields: {} });
    fake.users.push({ id: 8001, name: 'Ana Reception', email: 'ana@example.com', active_flag: true });
    fake.personFields.push({ id: 10, key: 'owner_id', name: 'Owner', field_type: 'user' });
  });
  afterEach(() => assert.deepEqual(fake.violations.splice(0), []));
  after(async () => { await http.close(); await fake.close(); });

  function connector(): IntegrationConnector {
    const settings = pipedriveDefinition.schema.parse({ region: 'US', companyDomain: fake.url, apiToken: 'pd-token-good' });
    return pipedriveDefinition.create(settings, connectorServices(http, new TokenCache()));
  }
  const signal = () => AbortSignal.timeout(5000);

  it('reads a person\'s owner_id as the user id the rows see', async () => {
    assert.deepEqual(await lookupByDeadline(connector(), lookupRequest({ callerId: '+1 202 555 0101', fieldName: 'owner_id', module: 'Persons' })), { kind: 'value', value: '8001', matches: 1 });
  });

  it('turns the user id into an e-mail with GET /api/v1/users/{id} and the x-api-token header, cached', async () => {
    const c = connector();
    const before = fake.requests.length;
    assert.deepEqual(await c.ownerEmail!('8001', NO_CREDENTIALS, signal()), { kind: 'email', email: 'ana@example.com' });
    assert.deepEqual(await c.ownerEmail!('8001', NO_CREDENTIALS, signal()), { kind: 'email', email: 'ana@example.com' });
    const reads = fake.requests.slice(before);
    assert.deepEqual(reads.map((r) => `${r.method} ${r.path}`), ['GET /api/v1/users/8001']);
    assert.equal(reads[0]!.headers['x-api-token'], 'pd-token-good');
  });

  it('answers not found for a user Pipedrive does not know', async () => {
    assert.deepEqual(await connector().ownerEmail!('8999', NO_CREDENTIALS, signal()), { kind: 'not_found' });
  });

  it('reports a refused token as AUTH', async () => {
    const answer = await connector().ownerEmail!('8001', { username: '', password: 'pd-token-wrong' }, signal());
    assert.equal(answer.kind === 'error' && answer.code, 'AUTH');
  });
});
