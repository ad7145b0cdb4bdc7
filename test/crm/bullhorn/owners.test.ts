import assert from 'node:assert/strict';
import { bullhornDefinition, bullhornSchema } from '../../../src/crm/bullhorn';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { closeFake, connectorServices, lookupByDeadline, lookupRequest, testHttpClient } from '../../support/connector-harness';
import { BullhornFake } from '../../support/fakes/bullhorn-fake';

const signal = () => AbortSignal.timeout(5000);

describe('Bullhorn owners (owner(id) -> CorporateUser email)', () => {
  let fake: BullhornFake;
  let http: HttpClient;
  const credentials = () => ({ username: fake.username, password: fake.password });
  const connector = () => bullhornDefinition.create(bullhornSchema.parse({ clientId: fake.clientId, clientSecret: fake.clientSecret, loginInfoUrl: fake.url, region: 'US' }), connectorServices(http));

  before(() => { http = testHttpClient(); });
  after(() => http.close());
  beforeEach(async () => {
    fake = await BullhornFake.start();
    fake.records.Candidate = [{ id: 11, firstName: 'Ann', owner: { id: 7001, firstName: 'Ana', lastName: 'Reception' }, phone: '(202) 555-0143', dateLastModified: 1_700_000_000_000 }];
    fake.corporateUsers.set(7001, 'ana@example.com');
  });
  afterEach(() => closeFake(fake, 'Bullhorn'));

  it("reads a candidate's owner(id), then the CorporateUser's email with the BhRestToken, once", async () => {
    const c = connector();
    assert.deepEqual(await lookupByDeadline(c, lookupRequest({ callerId: '+1 202 555 0143', fieldName: 'owner(id)', module: 'Candidate', credentials: credentials() })), { kind: 'value', value: '7001', matches: 1 });
    assert.deepEqual(await c.ownerEmail!('7001', credentials(), signal()), { kind: 'email', email: 'ana@example.com' });
    assert.deepEqual(await c.ownerEmail!('7001', credentials(), signal()), { kind: 'email', email: 'ana@example.com' });
    const reads = fake.requests.filter((r) => r.path.includes('/entity/CorporateUser/'));
    assert.equal(reads.length, 1);
    assert.equal(reads[0]!.method, 'GET');
    assert.match(reads[0]!.path, /\/rest-services\/[^/]+\/entity\/CorporateUser\/7001$/);
    assert.equal(typeof reads[0]!.headers.bhresttoken, 'string');
  });

  it('answers not found for an id no user has', async () => {
    assert.deepEqual(await connector().ownerEmail!('7999', credentials(), signal()), { kind: 'not_found' });
  });

  it('reports a refused sign-in as AUTH', async () => {
    const answer = await connector().ownerEmail!('7001', { username: fake.username, password: 'wrong' }, signal());
    assert.equal(answer.kind === 'error' && answer.code, 'AUTH');
  });
});
