import assert from 'node:assert/strict';
import type { CallLogResult } from '../../../src/crm/call-log-writer';
import { bullhornDefinition, bullhornSchema } from '../../../src/crm/bullhorn';
import type { IntegrationConnector } from '../../../src/crm/integration';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { callActivity, DISPOSITIONS, noAbort } from '../../support/call-activities';
import { closeFake, connectorServices, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';
import { BullhornFake } from '../../support/fakes/bullhorn-fake';

const kindOf = (r: CallLogResult | undefined) => (r?.kind === 'error' ? r.code : r?.kind);
const idOf = (r: CallLogResult | undefined) => Number((r as { activityId: string }).activityId);

describe('Bullhorn call log (Note with personReference, externalID looked up first)', () => {
  let fake: BullhornFake;
  let http: HttpClient;
  let c: IntegrationConnector;

  beforeEach(async () => {
    fake = await BullhornFake.start();
    fake.records.Candidate = [{ id: 11, firstName: 'Ann', phone: '(202) 555-0143', dateLastModified: 1_700_000_000_000 }];
    fake.records.ClientContact = [{ id: 21, firstName: 'Cy', phone2: '202.555.0199', dateLastModified: 1 }];
    fake.corporateUsers.set(7, 'agent101@example.com');
    http = testHttpClient();
    c = bullhornDefinition.create(bullhornSchema.parse({ clientId: fake.clientId, clientSecret: fake.clientSecret, username: fake.username, password: fake.password, loginInfoUrl: fake.url, region: 'US' }), connectorServices(http));
  });
  afterEach(async () => {
    await http.close();
    await closeFake(fake, 'Bullhorn');
  });

  const restCalls = () => fake.requests.filter((r) => r.path.startsWith('/rest-services/e999/')).map((r) => `${r.method} ${r.path.slice('/rest-services/e999/'.length)}`);

  it('writes one Note on the ClientContact, by the agent, in whole minutes, with the call id', async () => {
    const activity = callActivity({ externalNumber: '+12025550199', ownerEmail: 'Agent101@example.com', durationSeconds: 95 });
    const result = await c.logCall!(activity, NO_CREDENTIALS, noAbort());
    assert.equal(result.kind, 'written');
    assert.deepEqual(restCalls(), ['GET query/Note', 'GET find', 'GET entity/ClientContact/21', 'GET query/CorporateUser', 'PUT entity/Note']);
    const put = fake.requests.find((r) => r.method === 'PUT')!;
    assert.equal(typeof put.headers.bhresttoken, 'string');
    assert.equal(fake.requests.find((r) => r.path.endsWith('query/Note'))!.query.get('where'), `externalID='${activity.externalId}'`);
    const note = fake.notes.get(idOf(result))!;
    assert.deepEqual(note.personReference, { id: 21 });
    assert.deepEqual(note.commentingPerson, { id: 7 });
    assert.equal(note.minutesSpent, 2);
    assert.equal(note.dateAdded, Date.parse('2026-05-01T08:00:00Z'));
    assert.equal(note.action, 'Inbound Call');
    assert.equal(note.externalID, activity.externalId);
    assert.equal(note.comments, `${activity.subject}\nInbound call, answered, 95 s.\n${activity.notes}`);
    assert.equal(fake.notes.size, 1);
  });

  it('says each disposition and direction in action and comments; a Candidate caller is referenced too', async () => {
    for (const { disposition, direction } of DISPOSITIONS) {
      const result = await c.logCall!(callActivity({ externalNumber: '+12025550143', disposition, direction, durationSeconds: disposition === 'answered' ? 30 : 0 }), NO_CREDENTIALS, noAbort());
      const note = fake.notes.get(idOf(result))!;
      assert.equal(note.action, direction === 'inbound' ? 'Inbound Call' : 'Outbound Call');
      assert.match(String(note.comments), new RegExp(`^.*\\n${direction === 'inbound' ? 'Inbound' : 'Outbound'} call, ${disposition}, `));
      assert.equal(note.minutesSpent, disposition === 'answered' ? 1 : 0);
      assert.deepEqual(note.personReference, { id: 11 });
      assert.equal(note.commentingPerson, undefined, 'no agent e-mail: the API user');
    }
    assert.equal(fake.notes.size, DISPOSITIONS.length);
  });

  it('skips an unknown caller, creates a Candidate for "contact", and explains why a Lead is not created', async () => {
    assert.equal(kindOf(await c.logCall!(callActivity({ externalNumber: '+12025550100' }), NO_CREDENTIALS, noAbort())), 'skipped');
    const lead = await c.logCall!(callActivity({ externalNumber: '+12025550100', unknownCaller: 'lead' }), NO_CREDENTIALS, noAbort());
    assert.equal(lead.kind, 'skipped');
    assert.match((lead as { reason: string }).reason, /e-mail/);
    assert.ok(!fake.requests.some((r) => r.method === 'PUT'), 'nothing written');
    const created = await c.logCall!(callActivity({ externalNumber: '+12025550100', unknownCaller: 'contact' }), NO_CREDENTIALS, noAbort());
    const candidate = fake.records.Candidate!.at(-1)!;
    assert.deepEqual([candidate.name, candidate.phone], ['Caller +12025550100', '+12025550100']);
    assert.deepEqual(fake.notes.get(idOf(created))!.personReference, { id: candidate.id });
  });

  it('a timed-out insert is found by externalID: findLoggedCall and a retried logCall write no second Note', async () => {
    // Signed in first, so the timed-out attempt surely reaches the create; the CRM stores it, then answers late.
    await c.findLoggedCall!('warm-up', NO_CREDENTIALS, noAbort());
    fake.slowCreates.push(5000);
    const activity = callActivity({ externalNumber: '+12025550143' });
    const timedOut = await c.logCall!(activity, NO_CREDENTIALS, AbortSignal.timeout(2000));
    assert.deepEqual([kindOf(timedOut), (timedOut as { retryable?: boolean }).retryable], ['TIMEOUT', true]);
    const found = await c.findLoggedCall!(activity.externalId, NO_CREDENTIALS, noAbort());
    assert.equal(kindOf(found), 'written');
    const retried = await c.logCall!(activity, NO_CREDENTIALS, noAbort());
    assert.equal(idOf(retried), idOf(found));
    assert.equal(fake.notes.size, 1);
    assert.equal(await c.findLoggedCall!('never-written', NO_CREDENTIALS, noAbort()), undefined);
  });

  it('reports 429 with its Retry-After as retryable, 403 as not', async () => {
    fake.intercept = (req) => (req.method === 'PUT' ? { status: 429, headers: { 'retry-after': '45' }, body: { errorMessage: 'Too many requests', errorCode: 429 } } : undefined);
    const limited = await c.logCall!(callActivity({ externalNumber: '+12025550143' }), NO_CREDENTIALS, noAbort());
    assert.deepEqual([kindOf(limited), (limited as { retryAfterMs?: number }).retryAfterMs, (limited as { retryable?: boolean }).retryable], ['RATE_LIMITED', 45_000, true]);
    fake.intercept = (req) => (req.method === 'PUT' ? { status: 403, body: { errorMessage: 'Insufficient privileges to add Note', errorCode: 403 } } : undefined);
    const refused = await c.logCall!(callActivity({ externalNumber: '+12025550143' }), NO_CREDENTIALS, noAbort());
    assert.deepEqual([kindOf(refused), (refused as { retryable?: boolean }).retryable], ['FORBIDDEN', false]);
    assert.equal(fake.notes.size, 0);
  });
});
