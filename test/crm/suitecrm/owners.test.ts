import assert from 'node:assert/strict';
import { suitecrmDefinition } from '../../../src/crm/suitecrm';
import { suitecrmSchema } from '../../../src/crm/suitecrm/settings';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { closeFake, connectorServices, lookupByDeadline, lookupRequest, testHttpClient } from '../../support/connector-harness';
import { SuiteCrmFake } from '../../support/fakes/suitecrm-fake';

const ANA = '1b2c3d4e-0000-4000-8000-000000000101';
const signal = () => AbortSignal.timeout(5000);

for (const apiVersion of ['v8', 'v4_1'] as const) {
  describe(`SuiteCRM owners over ${apiVersion} (assigned_user_id -> Users email1)`, () => {
    let fake: SuiteCrmFake;
    let http: HttpClient;
    const credentials = () => ({ username: fake.username, password: fake.password });
    const connector = () => suitecrmDefinition.create(suitecrmSchema.parse({ site: fake.url, apiVersion, clientId: fake.clientId, clientSecret: fake.clientSecret, region: 'US' }), connectorServices(http));
    const userReads = () => fake.server.requests.filter((r) => (apiVersion === 'v8' ? r.path.includes('/V8/module/Users/') : new URLSearchParams(r.body).get('method') === 'get_entry'));

    before(() => { http = testHttpClient(); });
    after(() => http.close());
    beforeEach(async () => {
      fake = await SuiteCrmFake.start();
      fake.records.Contacts = [{ id: 'c-1', first_name: 'Ann', assigned_user_id: ANA, phone_work: '(202) 555-0143', date_modified: '2024-03-01 10:00:00' }];
      fake.users.set(ANA, 'ana@example.com');
    });
    afterEach(() => closeFake(fake, 'SuiteCRM'));

    it("reads a contact's assigned_user_id, then that user's email1, once", async () => {
      const c = connector();
      assert.deepEqual(await lookupByDeadline(c, lookupRequest({ callerId: '+1 202 555 0143', fieldName: 'assigned_user_id', module: 'Contacts', credentials: credentials() })), { kind: 'value', value: ANA, matches: 1 });
      assert.deepEqual(await c.ownerEmail!(ANA, credentials(), signal()), { kind: 'email', email: 'ana@example.com' });
      assert.deepEqual(await c.ownerEmail!(ANA, credentials(), signal()), { kind: 'email', email: 'ana@example.com' });
      assert.equal(userReads().length, 1);
      if (apiVersion === 'v8') assert.match(String(userReads()[0]!.headers.authorization), /^Bearer /);
    });

    it('answers not found for an id no user has', async () => {
      assert.deepEqual(await connector().ownerEmail!('00000000-0000-4000-8000-000000000000', credentials(), signal()), { kind: 'not_found' });
    });

    it('reports a refused sign-in as AUTH', async () => {
      const answer = await connector().ownerEmail!(ANA, { username: fake.username, password: 'wrong' }, signal());
      assert.equal(answer.kind === 'error' && answer.code, 'AUTH');
    });
  });
}
