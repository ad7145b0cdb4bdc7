import assert from 'node:assert/strict';
import type { IntegrationConnector } from '../../../src/crm/integration';
import { pipedriveDefinition } from '../../../src/crm/pipedrive';
import { PIPEDRIVE_OUTCOMES, pipedriveTime } from '../../../src/crm/pipedrive/call-log';
import type { HttpClient } from '../../../src/crm/shared/http-client';
import { callActivity, DISPOSITIONS, recordWrite, writeSignal } from '../../support/call-activity';
import { connectorServices, NO_CREDENTIALS, testHttpClient } from '../../support/connector-harness';
import type { RecordedRequest } from '../../support/fake-https';
import { PipedriveFake } from '../../support/fakes/pipedrive-fake';

describe('Pipedrive call log', () => {
  let fake: PipedriveFake;
  let http: HttpClient;

  before(async () => {
    fake = await PipedriveFake.start();
    http = testHttpClient();
    fake.persons.push({ id: 11, name: 'Ada', org_id: 7, update_time: '2024-05-01T10:00:00Z', phones: [{ value: '+1 (202) 555-0101', primary: true, label: 'work' }], custom_fields: {} });
    fake.users.push({ id: 88, email: 'agent@example.com', active_flag: true }, { id: 89, email: 'gone@example.com', active_flag: false });
  });
  beforeEach(() => { fake.createDelayMs = 0; });
  afterEach(() => assert.deepEqual(fake.violations.splice(0), []));
  after(async () => { await http.close(); await fake.close(); });

  function connector(): IntegrationConnector {
    const settings = pipedriveDefinition.schema.parse({ region: 'US', companyDomain: fake.url, apiToken: 'pd-token-good' });
    return pipedriveDefinition.create(settings, connectorServices(http));
  }
  const sentTo = (sent: RecordedRequest[]) => sent.map((r) => `${r.method} ${r.path}`);
  const logs = (sent: RecordedRequest[]) => sent.filter((r) => r.method === 'POST' && r.path === '/api/v1/callLogs');
  const body = (r: RecordedRequest) => JSON.parse(r.body) as Record<string, unknown>;

  it('writes one call log on the caller\'s person and organisation: seconds, UTC times, owner by e-mail', async () => {
    const c = connector();
    const { result, sent } = await recordWrite(fake.requests, () => c.logCall!(callActivity(), NO_CREDENTIALS, writeSignal()));
    assert.deepEqual(sentTo(sent).filter((p) => !p.endsWith('personFields')), ['GET /api/v2/persons/search', 'GET /api/v2/persons', 'GET /api/v1/users/find', 'POST /api/v1/callLogs']);
    assert.deepEqual([sent.find((r) => r.path === '/api/v1/users/find')!.query.get('term'), sent.find((r) => r.path === '/api/v1/users/find')!.query.get('search_by_email')], ['agent@example.com', '1']);
    const write = logs(sent)[0]!;
    assert.equal(write.headers['x-api-token'], 'pd-token-good');
    assert.deepEqual(body(write), {
      subject: 'Inbound call from +12025550101',
      outcome: 'connected',
      start_time: '2026-12-07 10:15:30',
      end_time: '2026-12-07 10:17:05',
      duration: '95',
      to_phone_number: '5551234',
      from_phone_number: '+12025550101',
      note: 'Answered by 101 after 12 s.<br>Inbound call, answered.<br>Recording: https://pbx.example.com/recordings/1733600000.0001.wav<br>PBX call id: pbx-1733600000-0001',
      person_id: 11,
      org_id: 7,
      user_id: 88,
    });
    assert.deepEqual(result, { kind: 'written', activityId: fake.callLogs.at(-1)!.id, recordUrl: `${fake.url}/person/11` });

    const again = await recordWrite(fake.requests, () => c.logCall!(callActivity({ externalId: 'pbx-2' }), NO_CREDENTIALS, writeSignal()));
    assert.deepEqual(sentTo(again.sent), ['GET /api/v2/persons/search', 'GET /api/v2/persons', 'POST /api/v1/callLogs'], 'fields and owner cached');
  });

  it('maps every disposition to an outcome; the numbers give the direction', async () => {
    const c = connector();
    for (const disposition of DISPOSITIONS) {
      for (const direction of ['inbound', 'outbound'] as const) {
        const { result, sent } = await recordWrite(fake.requests, () => c.logCall!(callActivity({ externalId: `d-${disposition}-${direction}`, disposition, direction, durationSeconds: disposition === 'answered' ? 61.4 : 0, pbxNumber: '101' }), NO_CREDENTIALS, writeSignal()));
        assert.equal(result.kind, 'written');
        assert.equal(logs(sent).length, 1, 'exactly one call log per logCall');
        const b = body(logs(sent)[0]!);
        assert.equal(b.outcome, PIPEDRIVE_OUTCOMES[disposition]);
        assert.equal(b.duration, disposition === 'answered' ? '61' : '0');
        assert.deepEqual([b.from_phone_number, b.to_phone_number], direction === 'inbound' ? ['+12025550101', '101'] : ['101', '+12025550101']);
        assert.match(String(b.note), new RegExp(`${direction === 'inbound' ? 'Inbound' : 'Outbound'} call, ${disposition}\\.`));
      }
    }
    assert.deepEqual(PIPEDRIVE_OUTCOMES, { answered: 'connected', missed: 'no_answer', abandoned: 'no_answer', busy: 'busy', failed: 'no_answer' });
  });

  it('one user serves both reads: the owner routing reads its e-mail by id, the call log its id by e-mail', async () => {
    const c = connector();
    assert.deepEqual(await c.ownerEmail!('88', NO_CREDENTIALS, writeSignal()), { kind: 'email', email: 'agent@example.com' });
    const { sent } = await recordWrite(fake.requests, () => c.logCall!(callActivity({ externalId: 'both-1' }), NO_CREDENTIALS, writeSignal()));
    assert.equal(body(logs(sent)[0]!).user_id, 88);
  });

  it('an inactive agent leaves the call log to the API user', async () => {
    const { sent } = await recordWrite(fake.requests, () => connector().logCall!(callActivity({ externalId: 'inactive', ownerEmail: 'gone@example.com' }), NO_CREDENTIALS, writeSignal()));
    assert.equal(body(logs(sent)[0]!).user_id, undefined);
  });

  it('skips an unknown caller, or creates a person (and for a lead, a lead) first', async () => {
    const c = connector();
    const skipped = await recordWrite(fake.requests, () => c.logCall!(callActivity({ externalId: 'u-skip', externalNumber: '+13035550123' }), NO_CREDENTIALS, writeSignal()));
    assert.equal(skipped.result.kind, 'skipped');
    assert.deepEqual(sentTo(skipped.sent), ['GET /api/v2/personFields', 'GET /api/v2/personFields', 'GET /api/v2/personFields', 'GET /api/v2/personFields', 'GET /api/v2/persons/search'], 'field pages and a search: no owner look-up, no write');

    const contact = await recordWrite(fake.requests, () => c.logCall!(callActivity({ externalId: 'u-contact', externalNumber: '+13035550124', unknownCaller: 'contact' }), NO_CREDENTIALS, writeSignal()));
    assert.deepEqual(sentTo(contact.sent.filter((r) => r.method === 'POST')), ['POST /api/v2/persons', 'POST /api/v1/callLogs']);
    assert.deepEqual(body(contact.sent.find((r) => r.path === '/api/v2/persons' && r.method === 'POST')!), { name: 'Caller +13035550124', phones: [{ value: '+13035550124', primary: true, label: 'work' }], owner_id: 88 });
    assert.equal(body(logs(contact.sent)[0]!).person_id, fake.persons.at(-1)!.id);

    const lead = await recordWrite(fake.requests, () => c.logCall!(callActivity({ externalId: 'u-lead', externalNumber: '+13035550125', unknownCaller: 'lead' }), NO_CREDENTIALS, writeSignal()));
    assert.deepEqual(sentTo(lead.sent.filter((r) => r.method === 'POST')), ['POST /api/v2/persons', 'POST /api/v1/leads', 'POST /api/v1/callLogs']);
    assert.deepEqual(body(lead.sent.find((r) => r.path === '/api/v1/leads')!), { title: 'Inbound call from +12025550101', person_id: fake.persons.at(-1)!.id, owner_id: 88 });
    assert.deepEqual([body(logs(lead.sent)[0]!).person_id, body(logs(lead.sent)[0]!).lead_id], [fake.persons.at(-1)!.id, fake.leads.at(-1)!.id]);
  });

  it('after a write that timed out, findLoggedCall finds the API user\'s call log by its id: no second one', async () => {
    const c = connector();
    fake.createDelayMs = 1500;
    const count = fake.callLogs.length;
    // No owner: the call log is the API user's, found in its own list.
    const timedOut = await c.logCall!(callActivity({ externalId: 'timeout-1', ownerEmail: undefined }), NO_CREDENTIALS, writeSignal(700));
    assert.deepEqual(timedOut.kind === 'error' && [timedOut.code, timedOut.retryable], ['TIMEOUT', true]);
    fake.createDelayMs = 0;
    const { result, sent } = await recordWrite(fake.requests, () => c.findLoggedCall!('timeout-1', NO_CREDENTIALS, writeSignal()));
    assert.deepEqual(result, { kind: 'written', activityId: fake.callLogs.at(-1)!.id });
    assert.deepEqual([sent[0]!.query.get('start'), sent[0]!.query.get('limit')], ['0', '50']);
    assert.equal(fake.callLogs.length, count + 1, 'one call log, not two');
    assert.equal(await c.findLoggedCall!('timeout', NO_CREDENTIALS, writeSignal()), undefined, 'an id that only starts the same is another call');
  });

  it('finds a call logged for another owner among the activities, which the API user\'s call log list does not hold', async () => {
    const c = connector();
    fake.createDelayMs = 1500;
    const timedOut = await c.logCall!(callActivity({ externalId: 'timeout-agent' }), NO_CREDENTIALS, writeSignal(700));
    assert.equal(timedOut.kind, 'error');
    fake.createDelayMs = 0;
    await c.logCall!(callActivity({ externalId: 'later-1' }), NO_CREDENTIALS, writeSignal());
    await c.logCall!(callActivity({ externalId: 'later-2' }), NO_CREDENTIALS, writeSignal());
    const written = fake.callLogs.find((l) => String(l.note).includes('timeout-agent'))!;
    assert.equal(written.user_id, 88, 'owned by the agent, not the API user');
    const { result, sent } = await recordWrite(fake.requests, () => c.findLoggedCall!('timeout-agent', NO_CREDENTIALS, writeSignal()));
    assert.deepEqual(result, { kind: 'written', activityId: String(written.activity_id) });
    assert.deepEqual(sentTo(sent), ['GET /api/v1/callLogs', 'GET /api/v2/activities', 'GET /api/v2/activities'], 'its own list, then activities newest first until found');
    assert.equal(fake.callLogs.filter((l) => String(l.note).includes('timeout-agent')).length, 1);
    assert.equal(await c.findLoggedCall!('nowhere', NO_CREDENTIALS, writeSignal()), undefined);
  });

  it('hands a 429 Retry-After on; refusals are not retryable', async () => {
    const c = connector();
    fake.script((r) => r.method === 'POST' && r.path === '/api/v1/callLogs', { status: 429, headers: { 'retry-after': '2', 'x-ratelimit-reset': '2' }, body: { success: false, error: 'Rate limit exceeded', errorCode: 429 } });
    const limited = await c.logCall!(callActivity({ externalId: 'rl-1' }), NO_CREDENTIALS, writeSignal());
    assert.deepEqual(limited.kind === 'error' && [limited.code, limited.retryable, limited.retryAfterMs], ['RATE_LIMITED', true, 2000]);
    fake.script((r) => r.method === 'POST' && r.path === '/api/v1/callLogs', { status: 403, body: { success: false, error: 'Scope and URL mismatch', errorCode: 403 } });
    const refused = await c.logCall!(callActivity({ externalId: 'forbidden-1' }), NO_CREDENTIALS, writeSignal());
    assert.deepEqual(refused.kind === 'error' && [refused.code, refused.retryable], ['FORBIDDEN', false]);
    fake.script((r) => r.method === 'POST' && r.path === '/api/v1/callLogs', { status: 400, body: { success: false, error: 'Validation failed: outcome', errorCode: 400 } });
    const invalid = await c.logCall!(callActivity({ externalId: 'invalid-1' }), NO_CREDENTIALS, writeSignal());
    assert.deepEqual(invalid.kind === 'error' && [invalid.code, invalid.retryable], ['HTTP_ERROR', false]);
    assert.equal(pipedriveTime(new Date('2026-01-02T03:04:05.678Z')), '2026-01-02 03:04:05');
  });
});
