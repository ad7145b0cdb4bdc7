import assert from 'node:assert/strict';
import type { CallLogResult } from '../../../src/crm/call-log-writer';
import type { IntegrationConnector } from '../../../src/crm/integration';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { vtigerDefinition, vtigerSchema } from '../../../src/crm/vtiger';
import { callActivity, DISPOSITIONS, noAbort } from '../../support/call-activities';
import { closeFake, connectorServices, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';
import { VtigerFake } from '../../support/fakes/vtiger-fake';

const kindOf = (r: CallLogResult | undefined) => (r?.kind === 'error' ? r.code : r?.kind);
const idOf = (r: CallLogResult) => (r as { activityId: string }).activityId;

describe('Vtiger call log (Calendar event, activitytype Call)', () => {
  let fake: VtigerFake;
  let http: HttpClient;
  let c: IntegrationConnector;

  beforeEach(async () => {
    fake = await VtigerFake.start();
    fake.rows.Contacts = [{ id: '12x7', modifiedtime: '2024-05-01 10:00:00', lastname: 'Smith', phone: '(555) 123-4567', mobile: '', homephone: '', otherphone: '' }];
    fake.rows.Accounts = [{ id: '11x3', modifiedtime: '2024-05-01 10:00:00', accountname: 'Acme', phone: '+1 555 765 4321', otherphone: '' }];
    fake.users.set('19x5', 'agent101@example.com');
    http = testHttpClient();
    c = vtigerDefinition.create(vtigerSchema.parse({ url: `${fake.url}/crm`, username: fake.username, accessKey: fake.accessKey, region: 'US' }), connectorServices(http));
  });
  afterEach(async () => {
    await http.close();
    await closeFake(fake, 'Vtiger');
  });

  const operations = () => fake.requests.map((r) => r.query.get('operation') ?? new URLSearchParams(r.body).get('operation')).filter((op) => op !== 'getchallenge' && op !== 'login');

  it('creates one Held Call event linked to the contact, owned by the agent, with hours and minutes and the call id', async () => {
    const activity = callActivity({ ownerEmail: 'agent101@example.com', durationSeconds: 95 });
    const result = await c.logCall!(activity, NO_CREDENTIALS, noAbort());
    assert.equal(result.kind, 'written');
    assert.equal((result as { recordUrl?: string }).recordUrl, `${fake.url}/crm/index.php?module=Calendar&view=Detail&record=${idOf(result).slice(3)}`);
    assert.deepEqual(operations(), ['query', 'query', 'create'], 'contact search, owner, create');
    const event = fake.events.get(idOf(result))!;
    assert.deepEqual(
      [event.activitytype, event.eventstatus, event.contact_id, event.assigned_user_id, event.date_start, event.time_start, event.due_date, event.time_end, event.duration_hours, event.duration_minutes],
      ['Call', 'Held', '12x7', '19x5', '2026-05-01', '08:00:00', '2026-05-01', '08:01:35', 0, 2],
    );
    assert.equal(event.description, `${activity.notes}\nPBX call id: ${activity.externalId}`);
    assert.equal(fake.events.size, 1);
  });

  it('answered is Held, the rest Not Held; an Account caller goes in parent_id; no agent user: the integration user', async () => {
    for (const { disposition, direction } of DISPOSITIONS) {
      const result = await c.logCall!(callActivity({ disposition, direction, durationSeconds: disposition === 'answered' ? 10 : 0 }), NO_CREDENTIALS, noAbort());
      const event = fake.events.get(idOf(result))!;
      assert.equal(event.eventstatus, disposition === 'answered' ? 'Held' : 'Not Held', disposition);
      assert.equal(event.duration_minutes, disposition === 'answered' ? 1 : 0);
      assert.equal(event.assigned_user_id, '19x1');
    }
    const account = await c.logCall!(callActivity({ externalNumber: '+15557654321' }), NO_CREDENTIALS, noAbort());
    assert.deepEqual([fake.events.get(idOf(account))!.parent_id, fake.events.get(idOf(account))!.contact_id], ['11x3', undefined]);
    assert.equal(fake.events.size, DISPOSITIONS.length + 1);
  });

  it('skips an unknown caller without writing, or creates a Contact or a Lead first', async () => {
    assert.equal(kindOf(await c.logCall!(callActivity({ externalNumber: '+15550001111' }), NO_CREDENTIALS, noAbort())), 'skipped');
    assert.deepEqual(operations(), ['query', 'query', 'query']);
    const asLead = await c.logCall!(callActivity({ externalNumber: '+15550002222', unknownCaller: 'lead' }), NO_CREDENTIALS, noAbort());
    const lead = fake.rows.Leads!.at(-1)!;
    assert.deepEqual([lead.lastname, lead.phone, lead.company], ['Caller +15550002222', '+15550002222', 'Caller +15550002222']);
    assert.equal(fake.events.get(idOf(asLead))!.parent_id, lead.id);
    const asContact = await c.logCall!(callActivity({ externalNumber: '+15550003333', unknownCaller: 'contact' }), NO_CREDENTIALS, noAbort());
    assert.equal(fake.events.get(idOf(asContact))!.contact_id, fake.rows.Contacts!.at(-1)!.id);
  });

  it('after a timeout the worker asks findLoggedCall, which finds the event by its call id: no second event', async () => {
    // Signed in first, so the timed-out attempt surely reaches the create; the CRM stores it, then answers late.
    await c.findLoggedCall!('warm-up', NO_CREDENTIALS, noAbort());
    fake.slowCreates.push(5000);
    const activity = callActivity();
    const timedOut = await c.logCall!(activity, NO_CREDENTIALS, AbortSignal.timeout(2000));
    assert.deepEqual([kindOf(timedOut), (timedOut as { retryable?: boolean }).retryable], ['TIMEOUT', true]);
    const found = await c.findLoggedCall!(activity.externalId, NO_CREDENTIALS, noAbort());
    assert.equal(kindOf(found), 'written');
    assert.equal(idOf(found!), [...fake.events.keys()][0]);
    assert.equal(fake.events.size, 1);
    // A call whose write never reached Vtiger is not found, so the worker writes it once.
    const lost = callActivity();
    assert.equal(await c.findLoggedCall!(lost.externalId, NO_CREDENTIALS, noAbort()), undefined);
    assert.equal(kindOf(await c.logCall!(lost, NO_CREDENTIALS, noAbort())), 'written');
    assert.equal(fake.events.size, 2);
  });

  it('reports a refused create (ACCESS_DENIED) as not retryable and 429 with its Retry-After', async () => {
    fake.intercept = (req) => (new URLSearchParams(req.body).get('operation') === 'create' ? { body: { success: false, error: { code: 'ACCESS_DENIED', message: 'Permission to perform the operation is denied' } } } : undefined);
    const refused = await c.logCall!(callActivity(), NO_CREDENTIALS, noAbort());
    assert.deepEqual([kindOf(refused), (refused as { retryable?: boolean }).retryable], ['FORBIDDEN', false]);
    fake.intercept = (req) => (req.query.get('operation') === 'query' ? { status: 429, headers: { 'retry-after': '60' }, body: '' } : undefined);
    const limited = await c.logCall!(callActivity(), NO_CREDENTIALS, noAbort());
    assert.deepEqual([kindOf(limited), (limited as { retryAfterMs?: number }).retryAfterMs, (limited as { retryable?: boolean }).retryable], ['RATE_LIMITED', 60_000, true]);
    assert.equal(fake.events.size, 0);
  });
});
