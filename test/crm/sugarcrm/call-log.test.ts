import assert from 'node:assert/strict';
import type { CallLogResult } from '../../../src/crm/call-log-writer';
import type { IntegrationConnector } from '../../../src/crm/integration';
import { callUuid } from '../../../src/crm/shared/call-log-support';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { sugarcrmDefinition } from '../../../src/crm/sugarcrm';
import { callActivity, DISPOSITIONS, noAbort } from '../../support/call-activities';
import { closeFake, connectorServices, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';
import { SugarFake } from '../../support/fakes/sugarcrm-fake';

const CONTACT = 'c0ffee00-0000-4000-8000-000000000001';
const OWNER = 'u0000000-0000-4000-8000-000000000007';
const kindOf = (r: CallLogResult | undefined) => (r?.kind === 'error' ? r.code : r?.kind);

describe('SugarCRM call log (Calls with our own id, linked to the caller)', () => {
  let fake: SugarFake;
  let http: HttpClient;
  let c: IntegrationConnector;

  beforeEach(async () => {
    fake = await SugarFake.start({ records: { Contacts: [{ id: CONTACT, date_modified: '2024-05-01T10:00:00+00:00', phone_work: '(555) 123-4567' }] } });
    fake.crmUsers.set(OWNER, 'agent101@example.com');
    http = testHttpClient();
    c = sugarcrmDefinition.create(sugarcrmDefinition.schema.parse({ siteUrl: fake.url, username: 'api', password: 'secret', region: 'US' }), connectorServices(http, new TokenCache()));
  });
  afterEach(async () => {
    await http.close();
    await closeFake(fake, 'SugarCRM');
  });

  // The version probe (GET ping) and the sign-in happen once per integration, not per call.
  const routes = () => fake.servedRequests.filter((r) => !r.path.endsWith('/oauth2/token') && !r.path.endsWith('/ping')).map((r) => `${r.method} ${r.path.replace(/^\/rest\/v[\d_]+\//, '')}`);

  it('creates one Held call with hours and minutes, parent, owner and the contacts link', async () => {
    const activity = callActivity({ ownerEmail: 'agent101@example.com', durationSeconds: 3725 });
    const id = callUuid(activity.externalId);
    assert.deepEqual(await c.logCall!(activity, NO_CREDENTIALS, noAbort()), { kind: 'written', activityId: id, recordUrl: `${fake.url}/#Calls/${id}` });
    assert.deepEqual(routes(), ['POST Contacts/filter', 'POST Users/filter', 'POST Calls', `POST Calls/${id}/link/contacts/${CONTACT}`]);
    const create = fake.servedRequests.find((r) => r.path.endsWith('/Calls'))!;
    assert.equal(typeof create.headers['oauth-token'], 'string');
    const call = fake.calls.get(id)!;
    assert.equal(call.duration_hours, 1, '3725 s is 62 minutes: 1 h');
    assert.equal(call.duration_minutes, 3, '... and 2 min 5 s, rounded up to 3');
    assert.equal(call.status, 'Held');
    assert.equal(call.direction, 'Inbound');
    assert.equal(call.date_start, '2026-05-01T08:00:00+00:00');
    assert.equal(call.date_end, '2026-05-01T09:02:05+00:00');
    assert.deepEqual([call.parent_type, call.parent_id, call.assigned_user_id], ['Contacts', CONTACT, OWNER]);
    assert.equal(call.description, activity.notes);
    assert.deepEqual(call.links, [`contacts/${CONTACT}`]);
    assert.equal(fake.calls.size, 1);
  });

  it('answered is Held, every other disposition Not Held; the owner is looked up once per e-mail', async () => {
    for (const { disposition, direction } of DISPOSITIONS) {
      const result = await c.logCall!(callActivity({ disposition, direction, durationSeconds: disposition === 'answered' ? 30 : 0, ownerEmail: 'agent101@example.com' }), NO_CREDENTIALS, noAbort());
      const call = fake.calls.get((result as { activityId: string }).activityId)!;
      assert.equal(call.status, disposition === 'answered' ? 'Held' : 'Not Held', disposition);
      assert.equal(call.direction, direction === 'inbound' ? 'Inbound' : 'Outbound');
      assert.equal(call.duration_minutes, disposition === 'answered' ? 1 : 0);
    }
    assert.equal(fake.calls.size, DISPOSITIONS.length);
    assert.equal(routes().filter((r) => r === 'POST Users/filter').length, 1);
  });

  it('skips an unknown caller without writing, or creates a Contact or a Lead first and links it', async () => {
    assert.equal(kindOf(await c.logCall!(callActivity({ externalNumber: '+15550001111' }), NO_CREDENTIALS, noAbort())), 'skipped');
    assert.deepEqual(routes(), ['POST Contacts/filter', 'POST Leads/filter', 'POST Accounts/filter']);
    const asLead = callActivity({ externalNumber: '+15550002222', unknownCaller: 'lead' });
    assert.equal(kindOf(await c.logCall!(asLead, NO_CREDENTIALS, noAbort())), 'written');
    const leadId = callUuid(asLead.externalId, 'lead');
    assert.equal(fake.records.Leads?.[0]?.last_name, 'Caller +15550002222');
    const call = fake.calls.get(callUuid(asLead.externalId))!;
    assert.deepEqual([call.parent_type, call.parent_id, call.links], ['Leads', leadId, [`leads/${leadId}`]]);
    const asContact = callActivity({ externalNumber: '+15550003333', unknownCaller: 'contact' });
    await c.logCall!(asContact, NO_CREDENTIALS, noAbort());
    assert.equal(fake.calls.get(callUuid(asContact.externalId))!.parent_type, 'Contacts');
  });

  it('a timed-out create is found by findLoggedCall; a retry writes no second call', async () => {
    // Signed in first, so the timed-out attempt surely reaches the create; the CRM stores it, then answers late.
    await c.findLoggedCall!('warm-up', NO_CREDENTIALS, noAbort());
    fake.slowCreates.push(5000);
    const activity = callActivity();
    const timedOut = await c.logCall!(activity, NO_CREDENTIALS, AbortSignal.timeout(2000));
    assert.deepEqual([kindOf(timedOut), (timedOut as { retryable?: boolean }).retryable], ['TIMEOUT', true]);
    assert.equal(kindOf(await c.findLoggedCall!(activity.externalId, NO_CREDENTIALS, noAbort())), 'written');
    assert.equal(kindOf(await c.logCall!(activity, NO_CREDENTIALS, noAbort())), 'written');
    assert.equal(fake.calls.size, 1, 'exactly one call');
    assert.deepEqual(fake.calls.get(callUuid(activity.externalId))!.links, [`contacts/${CONTACT}`], 'the retry made the link the first attempt never got to');
    assert.equal(await c.findLoggedCall!('never-written', NO_CREDENTIALS, noAbort()), undefined);
  });

  it('reports 429 with Retry-After as retryable and 403 as not', async () => {
    fake.filterOverrides.push({ status: 429, headers: { 'retry-after': '90' }, body: { error: 'too_many_requests', error_message: 'Too many requests' } });
    const limited = await c.logCall!(callActivity(), NO_CREDENTIALS, noAbort());
    assert.deepEqual([kindOf(limited), (limited as { retryAfterMs?: number }).retryAfterMs, (limited as { retryable?: boolean }).retryable], ['RATE_LIMITED', 90_000, true]);
    fake.filterOverrides.push({ status: 403, body: { error: 'not_authorized', error_message: 'No access to Contacts' } });
    const refused = await c.logCall!(callActivity(), NO_CREDENTIALS, noAbort());
    assert.deepEqual([kindOf(refused), (refused as { retryable?: boolean }).retryable], ['FORBIDDEN', false]);
  });
});
