import assert from 'node:assert/strict';
import type { CallLogResult } from '../../../src/crm/call-log-writer';
import { dynamicsDefinition } from '../../../src/crm/dynamics';
import type { IntegrationConnector } from '../../../src/crm/integration';
import { callUuid } from '../../../src/crm/shared/call-log-support';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { TokenCache } from '../../../src/crm/shared/token-cache';
import { callActivity, DISPOSITIONS, noAbort } from '../../support/call-activities';
import { closeFake, connectorServices, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';
import { Dynamics2015Fake, Dynamics365Fake } from '../../support/fakes/dynamics-fake';

const CONTACT = 'a0000000-0000-0000-0000-000000000001';
const OWNER = 'c0000000-0000-0000-0000-000000000007';
const kindOf = (r: CallLogResult | undefined) => (r?.kind === 'error' ? `${r.code}` : r?.kind);

describe('Dynamics 365 call log (phonecall, create-only PATCH)', () => {
  let fake: Dynamics365Fake;
  let http: HttpClient;
  let c: IntegrationConnector;

  beforeEach(async () => {
    fake = await Dynamics365Fake.start();
    fake.records.contacts = [{ contactid: CONTACT, fullname: 'Ann Smith', telephone1: '(555) 123-4567', modifiedon: '2024-05-01T10:00:00Z' }];
    fake.records.leads = [];
    fake.records.accounts = [];
    fake.users.set(OWNER, 'agent101@example.com');
    http = testHttpClient();
    c = dynamicsDefinition.create(dynamicsDefinition.schema.parse({
      deployment: 'online365', orgUrl: fake.url, tenantId: 'contoso.onmicrosoft.com', clientId: '11111111-2222-3333-4444-555555555555', clientSecret: 'app~secret', loginHost: fake.url, region: 'US',
    }), connectorServices(http, new TokenCache()));
  });
  afterEach(async () => {
    await http.close();
    await closeFake(fake, 'Dynamics 365');
  });

  const writes = () => fake.dataRequests.filter((r) => r.method === 'PATCH');

  it('writes one completed phonecall linked to the caller, with the owner, minutes and parties', async () => {
    const activity = callActivity({ ownerEmail: 'Agent101@example.com', durationSeconds: 95 });
    const result = await c.logCall!(activity, NO_CREDENTIALS, noAbort());
    const id = callUuid(activity.externalId);
    assert.deepEqual(result, { kind: 'written', activityId: id, recordUrl: `${fake.url}/main.aspx?pagetype=entityrecord&etn=phonecall&id=${id}` });
    assert.deepEqual(fake.dataRequests.map((r) => `${r.method} ${r.path}`), [
      'GET /api/data/v9.2/contacts', 'GET /api/data/v9.2/systemusers', `PATCH /api/data/v9.2/phonecalls(${id})`, `PATCH /api/data/v9.2/phonecalls(${id})`,
    ]);
    const [create, state] = writes();
    assert.equal(create?.headers['if-none-match'], '*');
    assert.match(String(create?.headers.authorization), /^Bearer /);
    assert.equal(create?.headers['odata-version'], '4.0');
    const body = JSON.parse(create!.body) as Record<string, unknown>;
    assert.equal(body.directioncode, false, 'inbound is directioncode false');
    assert.equal(body.actualdurationminutes, 2, '95 s is 2 whole minutes');
    assert.equal(body.actualstart, '2026-05-01T08:00:00.000Z');
    assert.equal(body.actualend, '2026-05-01T08:01:35.000Z');
    assert.equal(body['regardingobjectid_contact_phonecall@odata.bind'], `/contacts(${CONTACT})`);
    assert.equal(body['ownerid@odata.bind'], `/systemusers(${OWNER})`);
    assert.deepEqual(body.phonecall_activity_parties, [
      { participationtypemask: 1, 'partyid_contact@odata.bind': `/contacts(${CONTACT})` },
      { participationtypemask: 2, 'partyid_systemuser@odata.bind': `/systemusers(${OWNER})` },
    ]);
    assert.equal(body.subject, activity.subject);
    assert.equal(body.description, activity.notes);
    assert.deepEqual(JSON.parse(state!.body), { statecode: 1, statuscode: 4 });
    assert.equal(fake.phonecalls.size, 1);
  });

  it('maps each disposition to direction, status and category; sub-minute answered calls are 1 minute', async () => {
    for (const { disposition, direction } of DISPOSITIONS) {
      const durationSeconds = disposition === 'answered' ? 40 : 0;
      const result = await c.logCall!(callActivity({ disposition, direction, durationSeconds }), NO_CREDENTIALS, noAbort());
      assert.equal(result.kind, 'written', disposition);
      const stored = fake.phonecalls.get((result as { activityId: string }).activityId)!;
      assert.equal(stored.directioncode, direction === 'outbound');
      assert.equal(stored.category, disposition);
      assert.equal(stored.actualdurationminutes, disposition === 'answered' ? 1 : 0);
      assert.equal(stored.statecode, 1);
      assert.equal(stored.statuscode, direction === 'outbound' ? 2 : 4, `${direction} ${disposition}`);
      if (direction === 'outbound') {
        // Outbound without a known owner: the caller is the recipient (2), no sender.
        assert.deepEqual(stored.phonecall_activity_parties, [{ participationtypemask: 2, 'partyid_contact@odata.bind': `/contacts(${CONTACT})` }]);
      }
    }
    assert.equal(fake.phonecalls.size, DISPOSITIONS.length);
  });

  it('finds the owner once per e-mail and leaves the owner out when no user has it', async () => {
    await c.logCall!(callActivity({ ownerEmail: 'agent101@example.com' }), NO_CREDENTIALS, noAbort());
    await c.logCall!(callActivity({ ownerEmail: 'agent101@example.com' }), NO_CREDENTIALS, noAbort());
    const result = await c.logCall!(callActivity({ ownerEmail: 'nobody@example.com' }), NO_CREDENTIALS, noAbort());
    assert.equal(fake.dataRequests.filter((r) => r.path.endsWith('/systemusers')).length, 2);
    const stored = fake.phonecalls.get((result as { activityId: string }).activityId)!;
    assert.equal(stored['ownerid@odata.bind'], undefined);
  });

  it('skips an unknown caller without writing, or creates a contact or a lead first', async () => {
    const unknown = { externalNumber: '+15550001111' };
    assert.equal(kindOf(await c.logCall!(callActivity({ ...unknown, unknownCaller: 'skip' }), NO_CREDENTIALS, noAbort())), 'skipped');
    assert.deepEqual(writes(), [], 'nothing written for a skipped caller');
    assert.deepEqual(fake.dataRequests.map((r) => r.path), ['/api/data/v9.2/contacts', '/api/data/v9.2/leads', '/api/data/v9.2/accounts']);

    const asContact = callActivity({ ...unknown, unknownCaller: 'contact' });
    const written = await c.logCall!(asContact, NO_CREDENTIALS, noAbort());
    assert.equal(written.kind, 'written');
    const contactId = callUuid(asContact.externalId, 'contact');
    const created = fake.records.contacts!.find((r) => r.contactid === contactId);
    assert.equal(created?.lastname, 'Caller +15550001111');
    assert.equal(created?.telephone1, '+15550001111');
    assert.equal(fake.phonecalls.get(callUuid(asContact.externalId))!['regardingobjectid_contact_phonecall@odata.bind'], `/contacts(${contactId})`);

    const asLead = callActivity({ externalNumber: '+15550002222', unknownCaller: 'lead' });
    await c.logCall!(asLead, NO_CREDENTIALS, noAbort());
    const leadId = callUuid(asLead.externalId, 'lead');
    assert.equal(fake.records.leads!.find((r) => r.leadid === leadId)?.subject, asLead.subject);
    assert.equal(fake.phonecalls.get(callUuid(asLead.externalId))!['regardingobjectid_lead_phonecall@odata.bind'], `/leads(${leadId})`);
  });

  it('finds an account caller on an environment without leads (no Sales app)', async () => {
    delete fake.records.leads;
    const ACCOUNT = 'b0000000-0000-0000-0000-000000000009';
    fake.records.accounts = [{ accountid: ACCOUNT, name: 'Acme', telephone1: '+1 555 765 4321', modifiedon: '2024-01-01T00:00:00Z' }];
    const result = await c.logCall!(callActivity({ externalNumber: '+15557654321' }), NO_CREDENTIALS, noAbort());
    assert.equal(result.kind, 'written');
    assert.equal(fake.phonecalls.get((result as { activityId: string }).activityId)!['regardingobjectid_account_phonecall@odata.bind'], `/accounts(${ACCOUNT})`);
  });

  it('a write that timed out before its state is not done for findLoggedCall; the retry completes it without a second phonecall', async () => {
    // Signed in first, so the timed-out attempt surely reaches the create; the CRM stores it, then answers late.
    await c.findLoggedCall!('warm-up', NO_CREDENTIALS, noAbort());
    fake.slowCreates.push(5000);
    const activity = callActivity();
    const timedOut = await c.logCall!(activity, NO_CREDENTIALS, AbortSignal.timeout(2000));
    assert.deepEqual([timedOut.kind, (timedOut as { code?: string }).code, (timedOut as { retryable?: boolean }).retryable], ['error', 'TIMEOUT', true]);
    assert.equal(fake.phonecalls.size, 1, 'the create reached Dataverse');
    assert.equal(await c.findLoggedCall!(activity.externalId, NO_CREDENTIALS, noAbort()), undefined, 'still open: not done, so the worker writes again');
    const retried = await c.logCall!(activity, NO_CREDENTIALS, noAbort());
    assert.equal(retried.kind, 'written');
    assert.equal(fake.phonecalls.size, 1, 'exactly one phonecall');
    assert.equal(fake.phonecalls.get(callUuid(activity.externalId))!.statecode, 1, 'the retry completed the call the first attempt left open');
    assert.equal(kindOf(await c.findLoggedCall!(activity.externalId, NO_CREDENTIALS, noAbort())), 'written');
    assert.equal(await c.findLoggedCall!('never-written', NO_CREDENTIALS, noAbort()), undefined);
  });

  it('reports 429 with its Retry-After as retryable, 403 and 400 as not', async () => {
    fake.dataOverrides.push({ status: 429, headers: { 'retry-after': '120' }, body: { error: { code: '0x80072322', message: 'Number of requests exceeded the limit of 6000 over time window of 300 seconds.' } } });
    const limited = await c.logCall!(callActivity(), NO_CREDENTIALS, noAbort());
    assert.deepEqual(limited, { kind: 'error', code: 'RATE_LIMITED', message: limited.kind === 'error' ? limited.message : '', retryable: true, retryAfterMs: 120_000 });
    fake.dataOverrides.push({ status: 403, body: { error: { code: '0x80040220', message: 'Principal user is missing prvCreateActivity privilege' } } });
    const refused = await c.logCall!(callActivity(), NO_CREDENTIALS, noAbort());
    assert.deepEqual([kindOf(refused), (refused as { retryable?: boolean }).retryable], ['FORBIDDEN', false]);
    fake.dataOverrides.push({ status: 400, body: { error: { code: '0x80048d19', message: 'Error identified in Payload provided by the user' } } });
    const invalid = await c.logCall!(callActivity(), NO_CREDENTIALS, noAbort());
    assert.deepEqual([kindOf(invalid), (invalid as { retryable?: boolean }).retryable], ['HTTP_ERROR', false]);
  });
});

describe('Dynamics CRM 2015 call log (PhoneCallSet over NTLM)', () => {
  let fake: Dynamics2015Fake;
  let http: HttpClient;
  let c: IntegrationConnector;
  const date = (iso: string) => `/Date(${Date.parse(iso)})/`;

  beforeEach(async () => {
    fake = await Dynamics2015Fake.start();
    fake.records.Contact = [{ ContactId: CONTACT, FullName: 'Ann Smith', Telephone1: '(555) 123-4567', Telephone2: null, Telephone3: null, MobilePhone: null, ModifiedOn: date('2024-05-01T10:00:00Z') }];
    fake.records.Lead = [];
    fake.records.Account = [];
    fake.users.set(OWNER, 'agent101@example.com');
    http = testHttpClient();
    c = dynamicsDefinition.create(dynamicsDefinition.schema.parse({ deployment: 'onprem2015', orgUrl: fake.orgUrl, username: 'CONTOSO\\crm-routing', password: 'Pa55word!', region: 'US' }), connectorServices(http, new TokenCache()));
  });
  afterEach(async () => {
    await http.close();
    await closeFake(fake, 'Dynamics CRM');
  });


  it('posts one PhoneCall with its own ActivityId, RegardingObjectId, owner and whole minutes', async () => {
    const activity = callActivity({ ownerEmail: 'agent101@example.com', durationSeconds: 61, direction: 'outbound' });
    const result = await c.logCall!(activity, NO_CREDENTIALS, noAbort());
    const id = callUuid(activity.externalId);
    assert.deepEqual(result, { kind: 'written', activityId: id, recordUrl: `${fake.orgUrl}/main.aspx?etn=phonecall&pagetype=entityrecord&id=%7B${id}%7D` });
    const posts = fake.requests.filter((r) => r.method === 'POST');
    assert.equal(new Set(posts.map((r) => r.path)).size, 1);
    assert.equal(posts[0]?.path, '/Contoso/XRMServices/2011/OrganizationData.svc/PhoneCallSet');
    const body = JSON.parse(posts.at(-1)!.body) as Record<string, unknown>;
    assert.equal(body.ActivityId, id);
    assert.equal(body.DirectionCode, true);
    assert.equal(body.ActualDurationMinutes, 2, '61 s is 2 whole minutes');
    assert.equal(body.ActualStart, `/Date(${Date.parse('2026-05-01T08:00:00Z')})/`);
    assert.deepEqual(body.RegardingObjectId, { Id: CONTACT, LogicalName: 'contact' });
    assert.deepEqual(body.OwnerId, { Id: OWNER, LogicalName: 'systemuser' });
    assert.equal(body.Category, 'answered');
    assert.equal(fake.phoneCalls.size, 1);
  });

  it('skips an unknown caller, or creates a Contact or a Lead with an id of its own first', async () => {
    assert.equal(kindOf(await c.logCall!(callActivity({ externalNumber: '+15550001111' }), NO_CREDENTIALS, noAbort())), 'skipped');
    assert.equal(fake.requests.filter((r) => r.method === 'POST').length, 0);
    const asLead = callActivity({ externalNumber: '+15550002222', unknownCaller: 'lead' });
    assert.equal(kindOf(await c.logCall!(asLead, NO_CREDENTIALS, noAbort())), 'written');
    const leadId = callUuid(asLead.externalId, 'lead');
    assert.equal(fake.records.Lead![0]?.LeadId, leadId);
    assert.deepEqual(fake.phoneCalls.get(callUuid(asLead.externalId))!.RegardingObjectId, { Id: leadId, LogicalName: 'lead' });
    const asContact = callActivity({ externalNumber: '+15550003333', unknownCaller: 'contact' });
    await c.logCall!(asContact, NO_CREDENTIALS, noAbort());
    assert.deepEqual(fake.phoneCalls.get(callUuid(asContact.externalId))!.RegardingObjectId, { Id: callUuid(asContact.externalId, 'contact'), LogicalName: 'contact' });
  });

  it('a timed-out create is found by findLoggedCall; a repeated create is recognised, not duplicated', async () => {
    // Signed in first, so the timed-out attempt surely reaches the create; the CRM stores it, then answers late.
    await c.findLoggedCall!('warm-up', NO_CREDENTIALS, noAbort());
    fake.slowCreates.push(5000);
    const activity = callActivity();
    const timedOut = await c.logCall!(activity, NO_CREDENTIALS, AbortSignal.timeout(2000));
    assert.equal(kindOf(timedOut), 'TIMEOUT');
    assert.equal(kindOf(await c.findLoggedCall!(activity.externalId, NO_CREDENTIALS, noAbort())), 'written');
    assert.equal(kindOf(await c.logCall!(activity, NO_CREDENTIALS, noAbort())), 'written', 'the duplicate-key answer is checked by key');
    assert.equal(fake.phoneCalls.size, 1);
    assert.equal(await c.findLoggedCall!('never-written', NO_CREDENTIALS, noAbort()), undefined);
  });
});
