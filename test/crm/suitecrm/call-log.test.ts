import assert from 'node:assert/strict';
import type { CallLogResult } from '../../../src/crm/call-log-writer';
import type { IntegrationConnector } from '../../../src/crm/integration';
import { callUuid } from '../../../src/crm/shared/call-log-support';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { suitecrmDefinition } from '../../../src/crm/suitecrm';
import { suitecrmSchema } from '../../../src/crm/suitecrm/settings';
import { callActivity, DISPOSITIONS, noAbort } from '../../support/call-activities';
import { closeFake, connectorServices, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';
import { SuiteCrmFake } from '../../support/fakes/suitecrm-fake';

const CONTACT = 'c0ffee00-0000-4000-8000-000000000001';
const OWNER = 'u0000000-0000-4000-8000-000000000007';
const kindOf = (r: CallLogResult | undefined) => (r?.kind === 'error' ? r.code : r?.kind);

for (const apiVersion of ['v8', 'v4_1'] as const) {
  describe(`SuiteCRM call log (${apiVersion})`, () => {
    let fake: SuiteCrmFake;
    let http: HttpClient;
    let c: IntegrationConnector;

    beforeEach(async () => {
      fake = await SuiteCrmFake.start();
      fake.records.Contacts = [{ id: CONTACT, date_modified: '2024-05-01 10:00:00', phone_work: '(555) 123-4567', phone_mobile: '', phone_home: '', phone_other: '' }];
      // V8 can only match owners whose user name is their e-mail; v4_1 searches the e-mail addresses.
      fake.records.Users = [{ id: OWNER, date_modified: '2024-01-01 00:00:00', user_name: 'agent101@example.com' }];
      fake.users.set(OWNER, 'Agent101@Example.com');
      http = testHttpClient();
      c = suitecrmDefinition.create(suitecrmSchema.parse({ site: fake.url, apiVersion, clientId: fake.clientId, clientSecret: fake.clientSecret, username: fake.username, password: fake.password, region: 'US' }), connectorServices(http));
    });
    afterEach(async () => {
      await http.close();
      await closeFake(fake, 'SuiteCRM');
    });

    /** What each call-log request was: the V8 route or the v4_1 method. */
    const calls = () => fake.requests.filter((r) => !r.path.endsWith('access_token')).map((r) => {
      if (r.path.endsWith('rest.php')) return new URLSearchParams(r.body).get('method');
      return `${r.method} ${r.path.replace(/^\/Api\/V8\//, '')}`;
    }).filter((m) => m !== 'login');

    it('writes one Held Calls record with naive UTC dates, hours and minutes, parent, owner and the contacts link', async () => {
      const activity = callActivity({ ownerEmail: 'agent101@example.com', durationSeconds: 125 });
      const id = callUuid(activity.externalId);
      assert.deepEqual(await c.logCall!(activity, NO_CREDENTIALS, noAbort()), { kind: 'written', activityId: id, recordUrl: `${fake.url}/index.php?module=Calls&action=DetailView&record=${id}` });
      const call = fake.calls.get(id)!;
      assert.deepEqual([call.date_start, call.date_end], ['2026-05-01 08:00:00', '2026-05-01 08:02:05']);
      assert.deepEqual([call.duration_hours, call.duration_minutes], [0, 3], '125 s rounds up to 3 minutes');
      assert.deepEqual([call.status, call.direction, call.parent_type, call.parent_id, call.assigned_user_id], ['Held', 'Inbound', 'Contacts', CONTACT, OWNER]);
      assert.equal(call.description, activity.notes);
      assert.deepEqual(call.links, [`contacts/${CONTACT}`]);
      assert.equal(fake.calls.size, 1);
      if (apiVersion === 'v8') assert.deepEqual(calls().slice(-2), ['POST module', `POST module/Calls/${id}/relationships/contacts`]);
      else assert.deepEqual(calls().slice(-3), ['get_entry', 'set_entry', 'set_relationship'], 'check, then create, then link');
    });

    it('answered is Held, the rest Not Held; the owner is looked up once', async () => {
      for (const { disposition, direction } of DISPOSITIONS) {
        const result = await c.logCall!(callActivity({ disposition, direction, durationSeconds: disposition === 'answered' ? 20 : 0, ownerEmail: 'agent101@example.com' }), NO_CREDENTIALS, noAbort());
        const call = fake.calls.get((result as { activityId: string }).activityId)!;
        assert.equal(call.status, disposition === 'answered' ? 'Held' : 'Not Held', disposition);
        assert.equal(call.direction, direction === 'inbound' ? 'Inbound' : 'Outbound');
        assert.equal(call.duration_minutes, disposition === 'answered' ? 1 : 0);
        assert.equal(call.assigned_user_id, OWNER);
      }
      assert.equal(fake.calls.size, DISPOSITIONS.length);
      const userSearches = fake.requests.filter((r) => r.path.endsWith('/Users') || (r.path.endsWith('rest.php') && /Users/.test(new URLSearchParams(r.body).get('rest_data') ?? '') && new URLSearchParams(r.body).get('method') === 'get_entry_list'));
      assert.equal(userSearches.length, 1);
    });

    it('skips an unknown caller without writing, or creates a Lead or a Contact first', async () => {
      assert.equal(kindOf(await c.logCall!(callActivity({ externalNumber: '+15550001111' }), NO_CREDENTIALS, noAbort())), 'skipped');
      assert.equal(fake.calls.size, 0);
      assert.ok(!calls().some((m) => m === 'set_entry' || m === 'POST module'), 'nothing written');
      const asLead = callActivity({ externalNumber: '+15550002222', unknownCaller: 'lead' });
      assert.equal(kindOf(await c.logCall!(asLead, NO_CREDENTIALS, noAbort())), 'written');
      const leadId = callUuid(asLead.externalId, 'lead');
      assert.equal(fake.records.Leads?.find((r) => r.id === leadId)?.last_name, 'Caller +15550002222');
      const call = fake.calls.get(callUuid(asLead.externalId))!;
      assert.deepEqual([call.parent_type, call.parent_id, call.links], ['Leads', leadId, [`leads/${leadId}`]]);
      const asContact = callActivity({ externalNumber: '+15550003333', unknownCaller: 'contact' });
      await c.logCall!(asContact, NO_CREDENTIALS, noAbort());
      assert.equal(fake.calls.get(callUuid(asContact.externalId))!.parent_type, 'Contacts');
    });

    it('a timed-out create is found by findLoggedCall; a retry writes no second call and makes the link', async () => {
      // Signed in first, so the timed-out attempt surely reaches the create; the CRM stores it, then answers late.
      await c.findLoggedCall!('warm-up', NO_CREDENTIALS, noAbort());
      fake.slowCreates.push(5000);
      const activity = callActivity();
      const timedOut = await c.logCall!(activity, NO_CREDENTIALS, AbortSignal.timeout(2000));
      assert.deepEqual([kindOf(timedOut), (timedOut as { retryable?: boolean }).retryable], ['TIMEOUT', true]);
      assert.equal(kindOf(await c.findLoggedCall!(activity.externalId, NO_CREDENTIALS, noAbort())), 'written');
      assert.equal(kindOf(await c.logCall!(activity, NO_CREDENTIALS, noAbort())), 'written');
      assert.equal(fake.calls.size, 1);
      assert.deepEqual(fake.calls.get(callUuid(activity.externalId))!.links, [`contacts/${CONTACT}`]);
      assert.equal(await c.findLoggedCall!('never-written', NO_CREDENTIALS, noAbort()), undefined);
    });

    it('reports a refused create as not retryable, 429 with its Retry-After as retryable', async () => {
      const create = (body: string) => (apiVersion === 'v8' ? /"type":"Calls"/.test(body) : new URLSearchParams(body).get('method') === 'set_entry');
      fake.intercept = (req) => (create(req.body) ? { status: apiVersion === 'v8' ? 400 : 422, body: { errors: { status: 400, title: null, detail: 'Field date_start is invalid' } } } : undefined);
      const refused = await c.logCall!(callActivity(), NO_CREDENTIALS, noAbort());
      assert.deepEqual([kindOf(refused), (refused as { retryable?: boolean }).retryable], ['HTTP_ERROR', false]);
      fake.intercept = (req) => (create(req.body) ? { status: 429, headers: { 'retry-after': '30' }, body: '' } : undefined);
      const limited = await c.logCall!(callActivity(), NO_CREDENTIALS, noAbort());
      assert.deepEqual([kindOf(limited), (limited as { retryAfterMs?: number }).retryAfterMs, (limited as { retryable?: boolean }).retryable], ['RATE_LIMITED', 30_000, true]);
      assert.equal(fake.calls.size, 0);
    });
  });
}
