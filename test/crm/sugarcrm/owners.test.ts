import assert from 'node:assert/strict';
import { sugarcrmDefinition } from '../../../src/crm/sugarcrm';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { closeFake, connectorServices, lookupByDeadline, lookupRequest, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';
import { SugarFake } from '../../support/fakes/sugarcrm-fake';

const ANA = '5f0c2c6a-1111-4222-8333-000000000101';
const signal = () => AbortSignal.timeout(5000);

describe('SugarCRM owners (assigned_user_id -> Users email1)', () => {
  let fake: SugarFake;
  let http: HttpClient;
  const connector = () => sugarcrmDefinition.create(
    sugarcrmDefinition.schema.parse({ siteUrl: fake.url, username: 'api', password: 'secret', region: 'US' }),
    connectorServices(http, new TokenCache()),
  );

  beforeEach(async () => {
    fake = await SugarFake.start({
      records: { Contacts: [{ id: 'c-1', date_modified: '2024-03-01T10:00:00+00:00', phone_work: '(555) 123-4567', assigned_user_id: ANA }] },
    });
    fake.crmUsers.set(ANA, 'ana@example.com');
    fake.crmUsers.set('no-mail', null);
    http = testHttpClient();
  });
  afterEach(async () => { await http.close(); await closeFake(fake, 'SugarCRM'); });

  it("reads a contact's assigned_user_id, then that user's email1 with the OAuth-Token header, once", async () => {
    const c = connector();
    assert.deepEqual(await lookupByDeadline(c, lookupRequest({ callerId: '+15551234567', fieldName: 'assigned_user_id', module: 'Contacts' })), { kind: 'value', value: ANA, matches: 1 });
    assert.deepEqual(await c.ownerEmail!(ANA, NO_CREDENTIALS, signal()), { kind: 'email', email: 'ana@example.com' });
    assert.deepEqual(await c.ownerEmail!(ANA, NO_CREDENTIALS, signal()), { kind: 'email', email: 'ana@example.com' });
    const reads = fake.server.requests.filter((r) => r.path.includes('/Users/'));
    assert.equal(reads.length, 1);
    assert.equal(reads[0]!.method, 'GET');
    assert.equal(reads[0]!.path, `/rest/v11_27/Users/${ANA}`);
    assert.equal(typeof reads[0]!.headers['oauth-token'], 'string');
  });

  it('answers not found for an unknown user or one without an e-mail', async () => {
    assert.deepEqual(await connector().ownerEmail!('00000000-0000-0000-0000-000000000000', NO_CREDENTIALS, signal()), { kind: 'not_found' });
    assert.deepEqual(await connector().ownerEmail!('no-mail', NO_CREDENTIALS, signal()), { kind: 'not_found' });
  });

  it('reports a refused login as AUTH', async () => {
    const answer = await connector().ownerEmail!(ANA, { username: 'api', password: 'wrong' }, signal());
    assert.equal(answer.kind === 'error' && answer.code, 'AUTH');
  });
});
