import assert from 'node:assert/strict';
import { vtigerDefinition } from '../../../src/crm/vtiger';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { closeFake, connectorServices, lookupByDeadline, lookupRequest, testHttpClient } from '../../support/connector-harness';
import { VtigerFake } from '../../support/fakes/vtiger-fake';

const signal = () => AbortSignal.timeout(5000);

describe('Vtiger owners (assigned_user_id -> Users email1)', () => {
  let fake: VtigerFake;
  let http: HttpClient;
  const credentials = () => ({ username: fake.username, password: fake.accessKey });
  const connector = () => vtigerDefinition.create(vtigerDefinition.schema.parse({ url: `${fake.url}/crm`, region: 'US' }), connectorServices(http));

  before(() => { http = testHttpClient(); });
  after(() => http.close());
  beforeEach(async () => {
    fake = await VtigerFake.start();
    fake.rows.Contacts = [{ id: '12x1', firstname: 'Ann', assigned_user_id: '19x5', phone: '(202) 555-0143', mobile: '', modifiedtime: '2024-03-01 10:00:00' }];
    fake.users.set('19x5', 'ana@example.com');
  });
  afterEach(() => closeFake(fake, 'Vtiger'));

  it("reads a contact's assigned_user_id, then retrieves that user for email1 with the session, once", async () => {
    const c = connector();
    assert.deepEqual(await lookupByDeadline(c, lookupRequest({ callerId: '+1 202 555 0143', fieldName: 'assigned_user_id', module: 'Contacts', credentials: credentials() })), { kind: 'value', value: '19x5', matches: 1 });
    assert.deepEqual(await c.ownerEmail!('19x5', credentials(), signal()), { kind: 'email', email: 'ana@example.com' });
    assert.deepEqual(await c.ownerEmail!('19x5', credentials(), signal()), { kind: 'email', email: 'ana@example.com' });
    const reads = fake.requests.filter((r) => r.query.get('operation') === 'retrieve');
    assert.equal(reads.length, 1);
    assert.equal(reads[0]!.method, 'GET');
    assert.equal(reads[0]!.query.get('id'), '19x5');
  });

  it('answers not found for a group (20x...) or an unknown user', async () => {
    assert.deepEqual(await connector().ownerEmail!('20x2', credentials(), signal()), { kind: 'not_found' });
    assert.deepEqual(await connector().ownerEmail!('19x99', credentials(), signal()), { kind: 'not_found' });
  });

  it('refuses a value that is not a webservice id, without a request', async () => {
    const before = fake.requests.length;
    const answer = await connector().ownerEmail!("1' OR '1'='1", credentials(), signal());
    assert.equal(answer.kind === 'error' && answer.code, 'CONFIG');
    assert.equal(fake.requests.length, before);
  });

  it('reports a wrong access key as AUTH', async () => {
    const answer = await connector().ownerEmail!('19x5', { username: fake.username, password: 'wrong' }, signal());
    assert.equal(answer.kind === 'error' && answer.code, 'AUTH');
  });
});
